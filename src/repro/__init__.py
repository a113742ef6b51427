"""repro: measure neural-network *stiffness* (Fort et al., arXiv 1901.09491) and reproduce the paper's figures.

Modules, one job each:

- :mod:`repro.data` — datasets (real and synthetic), standardisation, seeded class-balanced subsets;
- :mod:`repro.models` — the paper's fully-connected and convolutional networks;
- :mod:`repro.training` — Adam training with evaluation schedules and stiffness snapshots;
- :mod:`repro.gram` — exact Gram matrices of per-example loss gradients;
- :mod:`repro.stiffness` — the public stiffness API (Gram, sign/cosine stiffness, class matrices, distances);
- :mod:`repro.profiles` — the quick and paper experiment sizes, in one place;
- :mod:`repro.plotting` — seaborn figures laid out like the paper's;
- :mod:`repro.book` — the chapter runner (Jupytext → papermill).
"""

__version__ = "0.1.0"
