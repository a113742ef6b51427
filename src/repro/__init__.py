"""repro: measure neural-network *stiffness* (Fort et al., arXiv 1901.09491) and reproduce the paper's figures.

One layer per line, read top to bottom; every import runs down this list, never up:

- :mod:`repro.data` — datasets (real, and the synthetic spherical harmonics), standardisation, seeded subsets;
- :mod:`repro.models` — the paper's fully-connected and convolutional networks, and the inputs each takes;
- :mod:`repro.losses` — a cross-entropy that keeps its precision far into training;
- :mod:`repro.training` — Adam training with evaluation schedules and target-loss stops; ``train_many`` trains
  several networks of one architecture as one stacked model (:mod:`repro.training.stacked`), each equal to ``train``;
- :mod:`repro.devices` — the ``device`` parameter (``auto``, ``cpu``, ``cuda``), validated and described;
- :mod:`repro.gram` — exact Gram matrices of per-example loss gradients (rules = the math, capture = hooks, engine =
  planning + accumulation);
- :mod:`repro.stiffness` — the statistics of the paper's Section 2 (sign/cosine stiffness, class matrices, bootstrap,
  hierarchy, distance), one module each;
- :mod:`repro.experiments` — the measure step: one module per experiment (the set-up, class stiffness, hierarchy,
  distance, the learning-rate sweep, harmonics, initialisation, numerics) and their configs;
- :mod:`repro.measurements` — what an experiment measured, stored once in checked files under keys that follow the
  code that measures;
- :mod:`repro.analysis` — readings of stored measurements (descriptions, headlines, stiff-domain sizes);
- :mod:`repro.claims` — the paper's claims as checks, and the verdict rule;
- :mod:`repro.book` — the chapters' kit: their contract, figures and tables, the profiles, the results files;
- :mod:`repro.runner` — executes the chapters and builds the site (``python -m repro.runner``), serially or on a
  Dask cluster.
"""

import os

# Before any module of the package can load SciPy: SciPy's OpenBLAS reads this only when it loads, and without it
# its worker threads spin for ~0.1 s after every ?syrk of the Gram engine (repro.gram.kernels), taking a core from
# the PyTorch work that follows (the CNN Gram at N = 1,000 ran ≈ 12 % slower once repro.models imported SciPy
# through repro.data before the engine set it). A value the user set wins.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

__version__ = "0.1.0"
