"""A trend over every learning rate, with right-censored values: a stratified censored Kendall τ and its permutation
test.

A stiff domain whose curve never crosses zero within the measurable range is *at least* that range (right-censored);
comparing it to another value follows Gehan's rule (Gehan 1965; the censored Kendall τ of Brown, Hollander & Korwar
1974 counts pairs with it):

- ``b`` is larger than ``a`` when ``a`` is observed and ``b``'s value (observed, or a bound) exceeds it;
- ``a`` is larger when ``b`` is observed and ``a``'s value exceeds it;
- otherwise the pair is tied (two bounds; a bound at or below an observed value; equal observed values).

The statistic is, within each seed (the unit of replication; seeds are strata), the sum over pairs of learning rates
``lr_a < lr_b`` of +1 when ``b`` is the larger, −1 when ``a`` is; τ is that sum over the number of such pairs. Its
two-sided p-value is a permutation test that shuffles the learning rates within each seed (exact up to
:data:`EXACT_PERMUTATIONS` arrangements, else :data:`MONTE_CARLO` random ones with seed 0); :func:`smallest_p` says
what the design can resolve at best. Without censoring the statistic is Kendall's S summed over seeds.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from repro.claims.thresholds import threshold

__all__ = [
    "TREND_ALPHA",
    "EXACT_PERMUTATIONS",
    "MONTE_CARLO",
    "gehan_matrix",
    "TrendTest",
    "censored_trend",
    "trend_method",
]

TREND_ALPHA = threshold("TREND_ALPHA")  # two-sided level of the permutation test
EXACT_PERMUTATIONS = 50_000  # up to this many within-seed arrangements the test enumerates them all
MONTE_CARLO = 20_000  # random arrangements beyond that (seed 0)


def gehan_matrix(values: np.ndarray, censored: np.ndarray) -> np.ndarray:
    """``G[a, b]`` = +1 when observation ``b`` is larger than ``a`` by Gehan's rule, −1 when smaller, 0 when the
    pair cannot be ordered. ``values``: ``(n,)`` observed values or, where ``censored``, lower bounds."""
    v, c = np.asarray(values, dtype=np.float64), np.asarray(censored, dtype=bool)
    b_larger = (~c)[:, None] & (v[None, :] > v[:, None])
    a_larger = (~c)[None, :] & (v[:, None] > v[None, :])
    return b_larger.astype(np.int64) - a_larger.astype(np.int64)


@dataclass(frozen=True)
class TrendTest:
    """The outcome of :func:`censored_trend`: ``tau`` (in [−1, 1]; > 0 when higher rates have larger values),
    ``p_value`` (two-sided), ``smallest_p`` (the least p the design can give: a trend it could find at all),
    ``resolvable_tau`` (the least |τ| this design calls a trend at the test's level, NaN when none: the smallest
    effect it can resolve, in τ's units, given its rates, seeds and ties),
    ``direction`` ("up", "down" or "unclear" at :data:`TREND_ALPHA`), ``n`` observations, ``censored`` of them
    bounds, ``seeds`` strata, and ``exact`` (the permutations were enumerated)."""

    tau: float
    p_value: float
    smallest_p: float
    resolvable_tau: float
    direction: str
    n: int
    censored: int
    seeds: int
    exact: bool


def censored_trend(
    lr: Sequence[float],
    value: Sequence[float],
    censored: Sequence[bool] | None = None,
    seed: Sequence[int] | None = None,
    alpha: float = TREND_ALPHA,
) -> TrendTest:
    """The trend of ``value`` over the learning rate ``lr`` (one entry per observation), ``censored`` marking values
    that are lower bounds, ``seed`` the stratum of each observation (one stratum when None). Observations with a
    NaN value are left out. Learning rates must differ within a seed (one observation per rate and seed)."""
    lr_a, v = np.asarray(lr, dtype=np.float64), np.asarray(value, dtype=np.float64)
    c = np.zeros(v.shape, bool) if censored is None else np.asarray(censored, dtype=bool)
    s = np.zeros(v.shape, np.int64) if seed is None else np.asarray(seed)
    keep = np.isfinite(v)
    lr_a, v, c, s = lr_a[keep], v[keep], c[keep], s[keep]
    scores, sizes = [], []
    for stratum in np.unique(s):
        mine = np.flatnonzero(s == stratum)
        mine = mine[np.argsort(lr_a[mine], kind="stable")]
        if np.unique(lr_a[mine]).size != mine.size:
            raise ValueError(f"seed {stratum} has two observations at one learning rate")
        if mine.size >= 2:
            scores.append(gehan_matrix(v[mine], c[mine]))
            sizes.append(mine.size)
    pairs = sum(k * (k - 1) // 2 for k in sizes)
    if not pairs:
        return TrendTest(np.nan, 1.0, 1.0, np.nan, "unclear", int(keep.sum()), int(c.sum()), len(sizes), True)
    observed = int(sum(np.triu(G, k=1).sum() for G in scores))  # Σ over seeds of Σ_{a<b in lr order} G[a, b]
    null, exact = _null(scores, sizes)
    p = float(np.mean(np.abs(null) >= abs(observed)))
    magnitudes = np.sort(np.abs(null))
    extreme = magnitudes[-1]
    smallest = float(np.mean(magnitudes >= extreme)) if extreme > 0 else 1.0
    tail = 1 - np.searchsorted(magnitudes, magnitudes, side="left") / magnitudes.size  # P(|S| ≥ each value)
    significant = magnitudes[(tail < alpha) & (magnitudes > 0)]
    resolvable = float(significant.min()) / pairs if significant.size else np.nan
    if not exact:  # a Monte Carlo p-value counts the observed arrangement among the draws
        p = (1 + p * null.size) / (1 + null.size)
    direction = "unclear" if p >= alpha or observed == 0 else "up" if observed > 0 else "down"
    return TrendTest(
        observed / pairs, p, smallest, resolvable, direction, int(keep.sum()), int(c.sum()), len(sizes), exact
    )


def _null(scores: list[np.ndarray], sizes: list[int]) -> tuple[np.ndarray, bool]:
    """The statistic under every arrangement of the learning rates within each seed (or :data:`MONTE_CARLO` random
    ones: one arrangement per seed drawn uniformly from that seed's enumerated ones), and whether they were all."""
    per_seed = [
        np.array([np.triu(G[np.ix_(o, o)], k=1).sum() for o in map(list, itertools.permutations(range(k)))])
        for G, k in zip(scores, sizes, strict=True)
    ]
    if math.prod(len(t) for t in per_seed) <= EXACT_PERMUTATIONS:
        total = per_seed[0]
        for more in per_seed[1:]:
            total = (total[:, None] + more[None, :]).ravel()
        return total, True
    rng = np.random.default_rng(0)
    return sum(t[rng.integers(len(t), size=MONTE_CARLO)] for t in per_seed), False


def trend_method(alpha: float = TREND_ALPHA) -> str:
    """The method in one sentence of Markdown, for a chapter's rule text."""
    return (
        "**The direction** of a trend over *every* learning rate is a stratified censored Kendall τ (Gehan's rule "
        "for bounds: a domain "
        "at least as large as the measurable range is larger than every smaller crossing found, two bounds tie; "
        "pairs compared within each seed) with a two-sided permutation test that shuffles the learning rates within "
        f"each seed: *up* or *down* when p < {alpha:g}, *unclear* otherwise."
    )
