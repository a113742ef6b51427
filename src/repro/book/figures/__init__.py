"""Seaborn figures laid out like the paper's, so a reader can compare them side by side.

Every function returns the ``matplotlib`` figure and draws nothing it was not given: the numbers come from
:mod:`repro.experiments`. :mod:`~repro.book.figures.classes` draws class stiffness matrices,
:mod:`~repro.book.figures.training` curves through training, :mod:`~repro.book.figures.distance` stiffness against
distance and the stiff-domain size; every function is also available here.
"""

from repro.book.figures.classes import (
    plot_class_stiffness_grid,
    plot_class_stiffness_stages,
    plot_hierarchy_matrix,
    plot_init_stiffness,
    plot_pair_kinds,
    plot_run_stages,
)
from repro.book.figures.distance import (
    plot_crossing_shares,
    plot_distance_profiles,
    plot_domain_vs_lr,
    plot_harmonics,
    plot_harmonics_resolution,
    plot_lr_effect,
)
from repro.book.figures.style import STIFFNESS_CMAP, set_style
from repro.book.figures.training import (
    plot_finite_difference,
    plot_numerics_comparison,
    plot_random_label_runs,
    plot_training_dynamics,
)
from repro.training import stage_label

__all__ = [
    "STIFFNESS_CMAP",
    "set_style",
    "stage_label",
    "plot_class_stiffness_grid",
    "plot_class_stiffness_stages",
    "plot_run_stages",
    "plot_pair_kinds",
    "plot_hierarchy_matrix",
    "plot_init_stiffness",
    "plot_finite_difference",
    "plot_training_dynamics",
    "plot_numerics_comparison",
    "plot_random_label_runs",
    "plot_lr_effect",
    "plot_distance_profiles",
    "plot_harmonics",
    "plot_harmonics_resolution",
    "plot_domain_vs_lr",
    "plot_crossing_shares",
]
