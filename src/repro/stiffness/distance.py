"""Stiffness against distance (paper Section 2, Eq. 9): the dot-product distance, binned stiffness profiles, and
the critical distance where stiffness first reaches zero, with a bootstrap over examples.

Index convention (as in :mod:`repro.stiffness`): ``i, j`` examples of the first / second set (``N``, ``M``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from repro.phases import phase
from repro.stiffness.pairs import as_float64


def pairwise_cosine(R: torch.Tensor, R2: torch.Tensor | None = None) -> torch.Tensor:
    """Dot-product "distance" of Eq. 9: ``cos(Rᵢ, Rⱼ) = Rᵢ·Rⱼ / (|Rᵢ| |Rⱼ|)`` ∈ [−1, 1] (1 = same direction).

    Args:
        R: ``(N, *features)`` inputs or representations (flattened per example); R2: optional ``(M, *features)``.

    Returns:
        float64 ``(N, N)`` or ``(N, M)``; NaN where a vector is zero (e.g. a representation with every ReLU off).
    """
    A = as_float64(R).reshape(R.shape[0], -1)
    B = A if R2 is None else as_float64(R2).reshape(R2.shape[0], -1)
    if A.shape[0] == 0 or B.shape[0] == 0:
        raise ValueError("pairwise_cosine needs at least one example in each set")
    if A.shape[1] != B.shape[1]:
        raise ValueError(f"feature sizes differ: {A.shape[1]} vs {B.shape[1]}")
    na, nb = A.norm(dim=1), B.norm(dim=1)
    denom = na[:, None] * nb[None, :]
    cos = (A @ B.T) / denom
    cos[denom == 0] = float("nan")
    return cos.clamp(-1.0, 1.0)


@dataclass(frozen=True)
class DistanceProfile:
    """Mean stiffness per distance bin. Arrays of length ``n_bins``; empty bins have count 0 and NaN mean / sem.

    ``sem`` is the standard deviation over the bin's pairs divided by √count — a lower bound on the true
    uncertainty because pairs sharing an example are correlated; bootstrap over examples for intervals.
    """

    edges: np.ndarray  # (n_bins + 1,)
    centers: np.ndarray  # (n_bins,)
    mean: np.ndarray  # (n_bins,)
    count: np.ndarray  # (n_bins,) int
    sem: np.ndarray  # (n_bins,)


@phase("statistics")
def stiffness_vs_distance(
    S: torch.Tensor | np.ndarray,
    D: torch.Tensor | np.ndarray,
    bins: int | np.ndarray = 20,
) -> DistanceProfile:
    """Bin pairs by distance ``D`` and average their stiffness ``S``.

    Args:
        S, D: ``(N, N)`` (then only pairs ``i < j`` count: the matrices are symmetric and self-pairs are excluded)
            or ``(N, M)`` (every pair counts). Pairs whose ``S`` or ``D`` is NaN are dropped (with explicit edges
            every bin may end up empty: a representation whose vectors are all zero has no defined distance).
        bins: number of equal-width bins over the range of ``D``, or explicit increasing edges.
    """
    S, D = as_float64(S).cpu().numpy(), as_float64(D).cpu().numpy()
    if S.shape != D.shape or S.ndim != 2:
        raise ValueError(f"S {S.shape} and D {D.shape} must be 2-D matrices of the same shape")
    if S.shape[0] == S.shape[1]:
        iu = np.triu_indices(S.shape[0], k=1)
        s, d = S[iu], D[iu]
    else:
        s, d = S.ravel(), D.ravel()
    keep = np.isfinite(s) & np.isfinite(d)
    s, d = s[keep], d[keep]
    if np.isscalar(bins):
        if s.size == 0:
            raise ValueError("no pair with a finite stiffness and distance to set bins from; give explicit edges")
        if int(bins) < 1:
            raise ValueError(f"bins must be ≥ 1, got {bins}")
        lo, hi = float(d.min()), float(d.max())
        edges = np.linspace(lo, hi if hi > lo else lo + 1e-12, int(bins) + 1)
    else:
        edges = np.asarray(bins, dtype=np.float64)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError("bin edges must be a strictly increasing 1-D array of at least 2 values")
    idx = np.clip(np.searchsorted(edges, d, side="right") - 1, 0, edges.size - 2)
    inside = (d >= edges[0]) & (d <= edges[-1])
    idx, s = idx[inside], s[inside]
    n_bins = edges.size - 1
    count = np.bincount(idx, minlength=n_bins)
    total = np.bincount(idx, weights=s, minlength=n_bins)
    total_sq = np.bincount(idx, weights=s * s, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
        var = (total_sq - count * mean**2) / (count - 1)
        sem = np.sqrt(np.clip(var, 0, None) / count)
    mean[count == 0] = np.nan
    sem[count < 2] = np.nan
    return DistanceProfile(edges=edges, centers=(edges[:-1] + edges[1:]) / 2, mean=mean, count=count, sem=sem)


def critical_distance(
    centers: np.ndarray,
    mean: np.ndarray,
    *,
    same_point: str = "high",
) -> float | None:
    """First zero crossing of a stiffness-vs-distance curve, coming from the "same point" end, interpolated.

    Args:
        centers: bin centres ``(n_bins,)`` in increasing order; mean: mean stiffness per bin (NaN bins skipped).
        same_point: ``"high"`` when the largest distance value means identical inputs (the dot-product distance of
            Eq. 9, where 1 = same point), ``"low"`` for metric distances (0 = same point).

    Returns:
        The distance where the curve, starting positive at the same-point end, first reaches 0 (linear
        interpolation between the two bins around the crossing); ``None`` when it never does or does not start
        positive.
    """
    centers, mean = np.asarray(centers, dtype=np.float64), np.asarray(mean, dtype=np.float64)
    if centers.shape != mean.shape or centers.ndim != 1:
        raise ValueError("centers and mean must be 1-D arrays of the same length")
    if same_point not in ("high", "low"):
        raise ValueError(f"same_point must be 'high' or 'low', got {same_point!r}")
    keep = np.isfinite(mean) & np.isfinite(centers)
    c, m = centers[keep], mean[keep]
    if same_point == "high":
        c, m = c[::-1], m[::-1]
    if c.size == 0 or m[0] <= 0:
        return None
    for k in range(1, c.size):
        if m[k] <= 0:
            t = m[k - 1] / (m[k - 1] - m[k])
            return float(c[k - 1] + t * (c[k] - c[k - 1]))
    return None


@dataclass(frozen=True)
class CriticalDistance:
    """The first zero crossing ``xi`` of stiffness vs distance with a bootstrap interval over examples.

    ``xi`` is None when the measured curve never crosses; ``found_fraction`` is the share of bootstrap replicates
    that do cross (the interval is over those).
    """

    xi: float | None
    ci: tuple[float, float]
    found_fraction: float
    profile: DistanceProfile


def _replicate_binned_means(S, pair_bin: np.ndarray, weights: np.ndarray, n_bins: int) -> np.ndarray:
    """Each bootstrap replicate's mean stiffness per distance bin, ``(R, n_bins)`` (NaN where a bin has no weight).

    ``S``: ``(N, N)`` stiffness (tensor or array); ``pair_bin``: ``(N, N)`` the bin of pair ``(i, j)`` for the pairs
    that count (``i < j``, finite, in range), −1 elsewhere; ``weights``: ``(R, N)`` each replicate's example counts.
    A replicate weighs pair ``(i, j)`` by ``wᵢ wⱼ``, so its weighted sum over a bin's pairs is ``wᵀ (S ⊙ M_b) w`` with
    ``M_b`` the bin's mask: two matrix products per bin for all replicates at once, in float64 on ``S``'s device.
    Sign stiffness and counts are integers, so these sums are exact and equal a pair-by-pair sum.
    """
    S_t = torch.nan_to_num(as_float64(S))  # NaN pairs are out of every bin (−1); 0 keeps them out of the products
    device = S_t.device
    bins_t = torch.as_tensor(pair_bin, device=device)
    W = torch.as_tensor(weights, device=device)
    total = torch.zeros(W.shape[0], n_bins, dtype=torch.float64, device=device)
    weight = torch.zeros_like(total)
    for b in range(n_bins):
        mask = (bins_t == b).to(torch.float64)
        if not mask.any():
            continue
        both = W @ torch.cat([S_t * mask, mask], dim=1)  # (R, 2N): wᵀ(S ⊙ M_b) and wᵀ M_b
        total[:, b] = (both[:, : S_t.shape[0]] * W).sum(1)
        weight[:, b] = (both[:, S_t.shape[0] :] * W).sum(1)
    total_np, weight_np = total.cpu().numpy(), weight.cpu().numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total_np / weight_np
    mean[weight_np == 0] = np.nan
    return mean


def weighted_bin_means(
    s: np.ndarray, idx: np.ndarray, w: np.ndarray, n_bins: int, min_count: int, n_raw: np.ndarray
) -> np.ndarray:
    """Weighted mean stiffness per distance bin, ``(n_bins,)``: ``Σ w s / Σ w`` over the pairs of each bin.

    ``s``, ``idx``, ``w``: ``(P,)`` the stiffness, bin index (in ``range(n_bins)``) and weight of each pair; ``n_raw``:
    ``(n_bins,)`` the unweighted pair count of each bin. NaN in a bin with no weight or fewer than ``min_count`` pairs.
    """
    total = np.bincount(idx, weights=w * s, minlength=n_bins)
    weight = np.bincount(idx, weights=w, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / weight
    mean[(weight == 0) | (n_raw < min_count)] = np.nan
    return mean


@phase("statistics")
def bootstrap_critical_distance(
    S: torch.Tensor | np.ndarray,
    D: torch.Tensor | np.ndarray,
    bins: np.ndarray,
    *,
    same_point: str = "high",
    min_count: int = 10,
    n_boot: int = 200,
    level: float = 0.95,
    seed: int = 0,
) -> CriticalDistance:
    """:func:`critical_distance` of the binned curve of ``S`` against ``D``, with a bootstrap over examples.

    Args:
        S, D: ``(N, N)`` symmetric stiffness and distance matrices of one set (pairs ``i < j`` count).
        bins: increasing bin edges; bins with fewer than ``min_count`` pairs are treated as empty.
        same_point: which end of the distance axis means identical inputs (see :func:`critical_distance`).

    A replicate resamples examples with replacement and weighs pair ``(i, j)`` by ``wᵢ wⱼ``, so pairs of an
    example with its own copies never enter.
    """
    prof = stiffness_vs_distance(S, D, bins)
    S_np, D_np = as_float64(S).cpu().numpy(), as_float64(D).cpu().numpy()
    n = S_np.shape[0]
    if S_np.shape != (n, n):
        raise ValueError("bootstrap_critical_distance needs square (N, N) matrices of one set")
    iu = np.triu_indices(n, k=1)
    s, d = S_np[iu], D_np[iu]
    keep = np.isfinite(s) & np.isfinite(d) & (d >= prof.edges[0]) & (d <= prof.edges[-1])
    s, d, ii, jj = s[keep], d[keep], iu[0][keep], iu[1][keep]
    n_bins = prof.edges.size - 1
    idx = np.clip(np.searchsorted(prof.edges, d, side="right") - 1, 0, n_bins - 1)
    n_raw = np.bincount(idx, minlength=n_bins)
    point_mean = weighted_bin_means(s, idx, np.ones_like(s), n_bins, min_count, n_raw)
    xi = critical_distance(prof.centers, point_mean, same_point=same_point)
    rng = np.random.default_rng(seed)
    weights = np.stack([rng.multinomial(n, np.full(n, 1.0 / n)) for _ in range(n_boot)]).astype(np.float64)
    pair_bin = np.full((n, n), -1, dtype=np.int64)
    pair_bin[ii, jj] = idx
    means = _replicate_binned_means(S, pair_bin, weights, n_bins)  # (n_boot, n_bins)
    means[:, n_raw < min_count] = np.nan
    found = []
    for mean in means:
        rep = critical_distance(prof.centers, mean, same_point=same_point)
        if rep is not None:
            found.append(rep)
    ci = (
        tuple(float(v) for v in np.quantile(found, [(1 - level) / 2, (1 + level) / 2]))
        if found
        else (float("nan"), float("nan"))
    )
    return CriticalDistance(xi, ci, len(found) / n_boot, prof)
