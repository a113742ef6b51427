"""Bootstrap over examples for the class statistics: within/between stiffness with standard errors and intervals.

Index convention (as in :mod:`repro.stiffness`): ``i, j`` examples (``N``, ``M``), ``a, b`` classes (``K``), ``r``
bootstrap replicates.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from repro.phases import phase
from repro.stiffness.classes import class_means_from_one_hot, class_pair_sums, class_summary, prepare_class_inputs


@dataclass(frozen=True)
class ClassSummary:
    """Within- and between-class stiffness with bootstrap uncertainty (standard errors and percentile intervals)."""

    within: float
    between: float
    within_se: float
    between_se: float
    within_ci: tuple[float, float]
    between_ci: tuple[float, float]
    n_boot: int
    level: float


def bootstrap_class_matrices(
    S: torch.Tensor, Ya: torch.Tensor, Yb: torch.Tensor, square: bool, n_boot: int, seed: int
) -> Iterator[torch.Tensor]:
    """Class stiffness matrices ``(K, K)`` of ``n_boot`` bootstrap replicates over examples (see
    :func:`bootstrap_class_summary`), generated in batches so the ``(r, N, K)`` tensors stay small. The inputs are
    those :func:`~repro.stiffness.classes.prepare_class_inputs` returns; ``seed`` fixes the resampling."""
    rng = np.random.default_rng(seed)
    n, m = S.shape
    wa = torch.as_tensor(rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot), dtype=torch.float64)
    wb = wa if square else torch.as_tensor(rng.multinomial(m, np.full(m, 1.0 / m), size=n_boot), dtype=torch.float64)
    for start in range(0, n_boot, 50):
        sl = slice(start, start + 50)
        sums, counts = class_pair_sums(S, Ya, Yb, square, wa[sl], wb[sl])
        C = sums / counts
        C[counts == 0] = float("nan")
        yield from C


def _nan_std(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(np.std(finite, ddof=1)) if finite.size >= 2 else float("nan")


def finite_quantiles(values: np.ndarray, q: list[float]) -> tuple[float, float]:
    """The quantiles ``q`` (two levels in [0, 1]) of the finite entries of ``values``; NaNs if there are none."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return float("nan"), float("nan")
    lo, hi = np.quantile(finite, q)
    return float(lo), float(hi)


@phase("statistics")
def bootstrap_class_summary(
    S: torch.Tensor,
    labels: torch.Tensor,
    labels2: torch.Tensor | None = None,
    num_classes: int | None = None,
    *,
    n_boot: int = 200,
    level: float = 0.95,
    seed: int = 0,
) -> ClassSummary:
    """Within/between stiffness and their uncertainty from a bootstrap over *examples*.

    Pairs share examples, so they are not independent; resampling examples (with replacement) respects that. A
    replicate gives each example a multiplicity ``wᵢ`` and weighs the pair ``(i, j)`` by ``wᵢ wⱼ``; pairs of an
    example with itself (or its own copies) stay excluded. For an ``(N, M)`` matrix rows and columns are resampled
    independently. The point estimates are those of :func:`class_stiffness` / :func:`class_summary`.
    """
    if n_boot < 2:
        raise ValueError(f"n_boot must be ≥ 2, got {n_boot}")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    S, Ya, Yb, square = prepare_class_inputs(S, labels, labels2, num_classes)
    within, between = class_summary(class_means_from_one_hot(S, Ya, Yb, square))
    reps = np.asarray([class_summary(Cr) for Cr in bootstrap_class_matrices(S, Ya, Yb, square, n_boot, seed)])
    rw, rb = reps[:, 0], reps[:, 1]
    q = [(1 - level) / 2, (1 + level) / 2]
    return ClassSummary(
        within=within,
        between=between,
        within_se=_nan_std(rw),
        between_se=_nan_std(rb),
        within_ci=finite_quantiles(rw, q),
        between_ci=finite_quantiles(rb, q),
        n_boot=n_boot,
        level=level,
    )
