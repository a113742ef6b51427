"""Stiffness statistics (paper Section 2): sign and cosine stiffness, class stiffness matrices, distances.

Two examples are *stiff* when a small gradient step on one lowers the loss on the other: the change is
``ΔL₂ = −ε g₁·g₂`` (Eqs. 2–4), so stiffness is a statistic of the Gram matrix ``G[i, j] = gᵢ·gⱼ`` of per-example
gradients (:func:`per_example_gram`), or of its unit form (:func:`unit_gram`), which has the same signs and
cosines and keeps them where ``G`` underflows far into training. Sign stiffness (Eq. 5) is ``E[sign(g₁·g₂)]``;
cosine stiffness (paper v3) is ``E[cos(g₁, g₂)]``.

Index convention: ``i, j`` examples of the first / second set (``N``, ``M``), ``a, b`` classes (``K``), ``r``
bootstrap replicates.

One job per module, every public name re-exported here: :mod:`~repro.stiffness.pairs` (pairwise stiffness from a
Gram matrix), :mod:`~repro.stiffness.classes` (class stiffness matrices), :mod:`~repro.stiffness.bootstrap`
(their uncertainty), :mod:`~repro.stiffness.hierarchy` (coarse-class contrast), :mod:`~repro.stiffness.distance`
(stiffness against distance, critical length).
"""

from repro.gram import SignDisagreement, UnitGram, per_example_gram, sign_disagreement, textbook_gram, unit_gram
from repro.stiffness.bootstrap import ClassSummary, bootstrap_class_summary
from repro.stiffness.classes import class_stiffness, class_summary
from repro.stiffness.distance import (
    CriticalDistance,
    DistanceProfile,
    bootstrap_critical_distance,
    critical_distance,
    pairwise_cosine,
    stiffness_vs_distance,
)
from repro.stiffness.hierarchy import HierarchyContrast, hierarchy_contrast
from repro.stiffness.pairs import METRICS as METRICS  # the metric names, kept at the package level as before
from repro.stiffness.pairs import stiffness_from_gram

__all__ = [
    "per_example_gram",
    "unit_gram",
    "UnitGram",
    "textbook_gram",
    "sign_disagreement",
    "SignDisagreement",
    "stiffness_from_gram",
    "class_stiffness",
    "class_summary",
    "bootstrap_class_summary",
    "ClassSummary",
    "pairwise_cosine",
    "stiffness_vs_distance",
    "DistanceProfile",
    "critical_distance",
    "CriticalDistance",
    "bootstrap_critical_distance",
    "HierarchyContrast",
    "hierarchy_contrast",
]
