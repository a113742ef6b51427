"""The named thresholds the verdicts depend on, in one registry (:data:`THRESHOLDS`), and the one hook that changes
them: the environment variable :data:`THRESHOLDS_ENV`.

Each claims module defines its constant from here (``NEAR_ZERO = threshold("NEAR_ZERO")`` in
:mod:`repro.claims.class_membership`), so the public names stay where they were and every default value is written
once, in this file. :func:`threshold` returns the default, or the value ``$REPRO_THRESHOLDS`` gives — a JSON mapping
``{"NEAR_ZERO": 0.05}``; an unknown name, a value that is not a finite number or text that is not such a mapping is
a :class:`ThresholdError` naming it. The variable is read when a claims module is imported (several constants are
default arguments, evaluated then), so it holds for a whole kernel.

The override is the sensitivity run's only hook (``python -m repro.runner sensitivity``,
:mod:`repro.runner.sensitivity`): it re-executes the chapters a threshold can move, each with the threshold halved
or doubled, from their stored measurements. The book's own ``run`` unsets the variable in its kernels, so a stray
value in the shell cannot change a published verdict; a chapter executed under an override records it in its results
file (``details.threshold_overrides``).

``chapters`` names the chapters whose verdicts (or findings: a headline entry in words, such as Figure 2's textbook
collapse or Figure 4's regimes) the threshold can move, read from which chapters call which claims functions; a
threshold shown only beside a verdict (``NEAR_ZERO`` in Figures 3, 5, 6) does not list those chapters.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "THRESHOLDS_ENV",
    "Threshold",
    "THRESHOLDS",
    "ThresholdError",
    "threshold",
    "overrides",
    "sensitive_chapters",
]

THRESHOLDS_ENV = "REPRO_THRESHOLDS"


class ThresholdError(ValueError):
    """``$REPRO_THRESHOLDS`` is not a JSON mapping of known threshold names to finite numbers."""


@dataclass(frozen=True)
class Threshold:
    """One named threshold: its default ``value``, what it ``decides`` (one line), the claims ``module`` that defines
    it, the ``chapters`` whose verdicts or findings it can move, and whether it must stay a power of ten
    (``decade``: its rule writes it as $10^k$, so the sensitivity run moves it a decade instead of halving or
    doubling it)."""

    name: str
    value: float
    decides: str
    module: str
    chapters: tuple[str, ...]
    decade: bool = False

    def changed(self, factor: float) -> float:
        """The value the sensitivity run tries for ``factor``: ``value × factor``, or for a :attr:`decade`
        threshold one decade down (factor < 1) or up (factor > 1)."""
        if not self.decade:
            return self.value * factor
        return self.value * (0.1 if factor < 1 else 10.0 if factor > 1 else 1.0)


_MEMBERSHIP = ("fig03", "fig05", "fig06")
THRESHOLDS: dict[str, Threshold] = {
    t.name: t
    for t in (
        Threshold("NEAR_ZERO", 0.1, "|stiffness| below this is \"close to 0\" (Figure 2's end values)",
                  "class_membership", ("fig02",)),
        Threshold("MAJORITY", 0.5, "share of positive class pairs above which \"the majority of classes\" holds",
                  "class_membership", (*_MEMBERSHIP, "setup")),
        Threshold("OVERFIT_RISE", 0.1, "rise of the validation loss above its minimum that counts as overfitting",
                  "overfitting", ("fig02",)),
        Threshold("COLLAPSE_DROP", 0.2, "fall of textbook within-class stiffness that counts as a collapse",
                  "overfitting", ("fig02",)),
        Threshold("CHANCE_TOLERANCE", 0.05, "distance of an accuracy from 1/K that counts as chance (regimes)",
                  "random_labels", ("fig04",)),
        Threshold("MAX_POSITIVE_SHARE", 0.1, "largest share of positive between-class cells for \"no structure\"",
                  "random_labels", ("fig04", "setup")),
        Threshold("UNIFORM_FRACTION", 0.9, "fraction of ln K above which loss and entropy count as uniform output",
                  "random_labels", ("fig04",)),
        Threshold("CROSSING_FOUND", 0.8, "share of bootstrap replicates with a crossing for \"found\"",
                  "distance", ("fig09",)),
        Threshold("MAX_RHO", -0.5, "Spearman's rho at or below which a shrinking trend holds (its opposite: "
                  "contradicted)", "distance", ("fig09", "spherical-harmonics")),
        Threshold("RESOLVED_FOUND", 0.5, "share of replicates the oracle's crossing needs for a resolved degree",
                  "distance", ("spherical-harmonics",)),
        Threshold("LEARNED_ACCURACY", 0.6, "held-out accuracy above which a harmonics network learned its task",
                  "distance", ("spherical-harmonics",)),
        Threshold("PERMUTATION_ALPHA", 0.05, "level of the permutation test for block structure",
                  "hierarchy", ("fig07",)),
        Threshold("TREND_ALPHA", 0.05, "level of the censored-trend permutation test over learning rates",
                  "censored_trend", ("fig08", "fig10", "critical-length")),
        Threshold("ROUNDING_MARGIN", 10.0, "factor above the rounding floor for a step to count as Taylor regime",
                  "convergence", ("definition",)),
        Threshold("MIN_ORDER", 0.9, "least convergence order that counts as first order",
                  "convergence", ("definition",)),
        Threshold("MAX_RELATIVE_ERROR", 1e-3, "largest relative error of the finite difference at the smallest step",
                  "convergence", ("definition",), decade=True),
        Threshold("MAX_GRAM_GAP", 1e-5, "largest relative gap between the Gram matrix and autograd dot products",
                  "convergence", ("definition",), decade=True),
    )
}  # fmt: skip


def overrides(environ: Mapping[str, str] | None = None) -> dict[str, float]:
    """The values ``$REPRO_THRESHOLDS`` sets (``{}`` when it is unset or empty), checked: :class:`ThresholdError`
    for text that is not a JSON object, an unknown name, or a value that is not a finite number."""
    text = (os.environ if environ is None else environ).get(THRESHOLDS_ENV, "").strip()
    if not text:
        return {}
    try:
        given = json.loads(text)
    except json.JSONDecodeError as err:
        raise ThresholdError(f"{THRESHOLDS_ENV} is not JSON ({err}): {text!r}") from None
    if not isinstance(given, dict):
        raise ThresholdError(f"{THRESHOLDS_ENV} must be a JSON object of name → number, got {text!r}")
    unknown = sorted(set(given) - set(THRESHOLDS))
    if unknown:
        raise ThresholdError(f"{THRESHOLDS_ENV} names unknown threshold(s) {unknown}; known: {sorted(THRESHOLDS)}")
    bad = {k: v for k, v in given.items() if not _finite_number(v)}
    if bad:
        raise ThresholdError(f"{THRESHOLDS_ENV} gives values that are not finite numbers: {bad}")
    return {k: float(v) for k, v in given.items()}


def _finite_number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def threshold(name: str) -> float:
    """The value of threshold ``name``: its default (:data:`THRESHOLDS`), or the override of
    ``$REPRO_THRESHOLDS``. KeyError for a name not in the registry."""
    if name not in THRESHOLDS:
        raise KeyError(f"no threshold named {name!r}; known: {sorted(THRESHOLDS)}")
    return overrides().get(name, THRESHOLDS[name].value)


def sensitive_chapters(names: list[str] | None = None) -> list[str]:
    """The chapters whose verdicts or findings the thresholds ``names`` (default: all) can move, each once."""
    chosen = list(THRESHOLDS) if names is None else names
    return list(dict.fromkeys(ch for name in chosen for ch in THRESHOLDS[name].chapters))
