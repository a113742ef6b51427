"""Pooling over seeds, the unit of replication.

- :func:`pool_seeds` — one claim's checks pooled over seeds: each seed's network is judged by the same checks, and
  the claim is judged once, on parts decided from all seeds together (so that one seed's passing check does not
  carry the verdict);
- :func:`seed_interval` — an interval for the mean over seeds of each seed's estimate (a percentile bootstrap over
  seeds, exact for up to :data:`EXACT_SEEDS` seeds), and :func:`interval_over` — what such an interval is over.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from repro.claims.verdicts import CONTRADICTED, HOLDS, UNDECIDED, Check

__all__ = ["pool_seeds", "seed_interval", "interval_over", "EXACT_SEEDS", "SEED_BOOT"]

EXACT_SEEDS = 8  # up to this many seeds the bootstrap distribution is enumerated exactly (C(15, 8) = 6,435 multisets)
SEED_BOOT = 20_000  # bootstrap replicates over seeds beyond EXACT_SEEDS (fixed random seed 0)


def _exact_bootstrap_means(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every distinct resample of ``values`` (drawn with replacement, as many as there are values): its mean and its
    probability (the multinomial count of the resample over n^n)."""
    n = len(values)
    means, weights = [], []
    for combo in itertools.combinations_with_replacement(range(n), n):
        counts = np.bincount(combo, minlength=n)
        means.append(float(values[list(combo)].mean()))
        weights.append(math.factorial(n) / math.prod(math.factorial(int(c)) for c in counts))
    return np.asarray(means), np.asarray(weights) / n**n


def _inverted_cdf(means: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The smallest mean whose cumulative probability reaches ``q`` (the inverted-CDF quantile)."""
    order = np.argsort(means, kind="stable")
    cum = np.cumsum(weights[order])
    return float(means[order][np.searchsorted(cum, q - 1e-12)])


def seed_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float]:
    """A percentile-bootstrap interval for the mean over seeds, from one estimate per seed (``values``).

    Resamples the seeds with replacement (as many as there are) and takes the ``(1 − level)/2`` and
    ``(1 + level)/2`` quantiles of the resampled means, as the inverted CDF (the smallest mean whose cumulative
    probability reaches the quantile). Up to :data:`EXACT_SEEDS` seeds the bootstrap distribution is enumerated
    exactly (no random numbers); beyond, :data:`SEED_BOOT` replicates with random seed 0.

    With two or three seeds a 95% interval is the range of the seeds' estimates (the resample repeating the lowest
    seed n times has probability 1/n^n ≥ 1/27 > 2.5%): few seeds give a wide, not a narrow, interval, but also one
    that covers the mean less often than 95%. NaN values are dropped; no value gives ``(nan, nan)``, one value
    ``(v, v)`` (the
    caller falls back to that seed's own interval, :func:`interval_over`).
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    v = np.asarray([x for x in values if np.isfinite(x)], dtype=float)
    if not len(v):
        return (math.nan, math.nan)
    lo_q, hi_q = (1 - level) / 2, (1 + level) / 2
    if len(v) <= EXACT_SEEDS:
        means, weights = _exact_bootstrap_means(v)
        return (_inverted_cdf(means, weights, lo_q), _inverted_cdf(means, weights, hi_q))
    idx = np.random.default_rng(0).integers(0, len(v), size=(SEED_BOOT, len(v)))
    means = v[idx].mean(axis=1)
    lo, hi = np.quantile(means, [lo_q, hi_q], method="inverted_cdf")
    return (float(lo), float(hi))


def interval_over(n_seeds: int) -> str:
    """What the interval for ``n_seeds`` estimates is over: ``"seeds (3)"`` (:func:`seed_interval`) from two seeds
    on, ``"images (1 seed)"`` for one seed (its own bootstrap over images), ``"none (0 seeds)"`` without any."""
    if n_seeds >= 2:
        return f"seeds ({n_seeds})"
    return "images (1 seed)" if n_seeds == 1 else "none (0 seeds)"


def pool_seeds(checks_per_seed: Sequence[Sequence[Check]], seeds: Sequence[int]) -> list[Check]:
    """One list of checks for a claim judged on several seeds (``checks_per_seed[k]``: seed ``seeds[k]``'s checks).

    A seed whose preconditions all hold is *observable*. The pooled precondition holds when at least one seed is
    observable (its evidence names which). Each part (matched by its claim text, in first-seen order) is decided over
    the observable seeds that have it: it **holds** when it holds in every one of them, is **contradicted** when it
    is contradicted in every one, and is **undecided** otherwise (the seeds disagree, or a seed cannot tell). The
    evidence lists every observable seed's outcome and numbers. When no seed is observable only the pooled
    precondition is returned (the claim could not be observed).
    """
    if len(checks_per_seed) != len(seeds):
        raise ValueError(f"{len(checks_per_seed)} lists of checks for {len(seeds)} seeds")
    if not seeds:
        raise ValueError("pooling needs at least one seed")
    observable = [
        (seed, checks)
        for seed, checks in zip(seeds, checks_per_seed, strict=True)
        if all(c.passed for c in checks if c.precondition)
    ]
    preconditions = {c.claim: None for checks in checks_per_seed for c in checks if c.precondition}
    pooled = []
    if preconditions:
        shown = ", ".join(str(s) for s, _ in observable) or "none"
        pooled.append(
            Check(
                f"{'; '.join(preconditions)} — in at least one seed",
                bool(observable),
                f"observable in {len(observable)} of {len(seeds)} seeds (seeds: {shown})",
                precondition=True,
            )
        )
    if not observable:
        return pooled
    parts: dict[str, list[tuple[int, Check]]] = {}
    for seed, checks in observable:
        for c in checks:
            if not c.precondition:
                parts.setdefault(c.claim, []).append((seed, c))
    for claim, per_seed in parts.items():
        outcomes = {c.outcome for _, c in per_seed}
        outcome = outcomes.pop() if len(outcomes) == 1 and outcomes <= {HOLDS, CONTRADICTED} else UNDECIDED
        evidence = "; ".join(f"seed {s} {c.outcome}: {c.evidence}" for s, c in per_seed)
        pooled.append(Check.decided(claim, outcome, evidence))
    return pooled
