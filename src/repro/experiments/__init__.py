"""The experiments behind the chapters — the *measure* step: each loads data, builds and trains a model and measures
stiffness, and returns its measurements as plain data; a chapter calls one through
:meth:`repro.book.chapter.ChapterContext.run`, which stores the result (:mod:`repro.measurements`), and reads it with
:mod:`repro.analysis`, :mod:`repro.claims` and :mod:`repro.book`. These modules never import those, so editing a
reading keeps the stored measurements. One module per experiment:

- :mod:`~repro.experiments.configs` — the settings of each kind of experiment (frozen dataclasses);
- :mod:`~repro.experiments.setup` — the one load → subset → prepare → seed → build every experiment starts from;
- :mod:`~repro.experiments.history` — the names of a run's history columns;
- :mod:`~repro.experiments.numerics` — finite differences (Eqs. 2–4), the float64 precision check, textbook numerics;
- :mod:`~repro.experiments.class_stiffness` — class stiffness through training (Figures 2–6, the pairs chapter);
- :mod:`~repro.experiments.hierarchy` — the same read through a class hierarchy (Figure 7);
- :mod:`~repro.experiments.distance` — stiffness against distance and the stiff-domain size (Figure 9);
- :mod:`~repro.experiments.lr_sweep` — the learning-rate sweep (Figures 8 and 10, the critical length);
- :mod:`~repro.experiments.harmonics` — the spherical-harmonics task of increasing frequency;
- :mod:`~repro.experiments.init_study` — untrained networks under each initialisation (the set-up chapter);
- :mod:`~repro.experiments.matrices`, :mod:`~repro.experiments.reanalysis` — the sweep's stored matrices, and the
  sweep re-read from them without training.

This file imports nothing, so that a stored measurement's key (:mod:`repro.measurements.keys`) follows only the
modules it uses.
"""
