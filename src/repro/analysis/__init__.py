"""Readings of stored measurements: statistics, tables and descriptions computed from what an experiment measured.

- :mod:`~repro.analysis.descriptions` — :func:`describe`: what a run used and how it went (Markdown), any kind;
- :mod:`~repro.analysis.class_stiffness` — a class-stiffness run's trajectory, headline, details, summary lines;
- :mod:`~repro.analysis.overfitting`, :mod:`~repro.analysis.hierarchy`, :mod:`~repro.analysis.setup`,
  :mod:`~repro.analysis.definition` — the readings of Figure 2, Figure 7, the set-up and the definition chapters;
- :mod:`~repro.analysis.lr_sweep`, :mod:`~repro.analysis.sweep_domains` — the learning-rate sweep's description and
  cost, and its stiff-domain sizes and crossing shares.

No module of :mod:`repro.experiments` imports this package (``tests/test_layout.py``), so editing a reading keeps
every stored measurement (:mod:`repro.measurements`).
"""
