"""Stiffness statistics (paper Section 2): sign and cosine stiffness, class stiffness matrices, distances.

Two examples are *stiff* when a small gradient step on one lowers the loss on the other: the change is
``ΔL₂ = −ε g₁·g₂`` (Eqs. 2–4), so stiffness is a statistic of the Gram matrix ``G[i, j] = gᵢ·gⱼ`` of per-example
gradients (:func:`per_example_gram`), or of its unit form (:func:`unit_gram`), which has the same signs and
cosines and keeps them where ``G`` underflows far into training. Sign stiffness (Eq. 5) is ``E[sign(g₁·g₂)]``;
cosine stiffness (paper v3) is ``E[cos(g₁, g₂)]``.

Index convention: ``i, j`` examples of the first / second set (``N``, ``M``), ``a, b`` classes (``K``), ``r``
bootstrap replicates.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from repro.gram import SignDisagreement, UnitGram, per_example_gram, sign_disagreement, textbook_gram, unit_gram

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

METRICS = ("sign", "cos")


def _as_float64(t: torch.Tensor | np.ndarray) -> torch.Tensor:
    return torch.as_tensor(t).detach().to(torch.float64)


def stiffness_from_gram(
    G: torch.Tensor,
    metric: str = "sign",
    *,
    sq_norms: torch.Tensor | None = None,
    sq_norms2: torch.Tensor | None = None,
) -> torch.Tensor:
    """Pairwise stiffness from a Gram matrix.

    Args:
        G: ``(N, N)`` or ``(N, M)`` Gram matrix of per-example gradients ``gᵢ·gⱼ``.
        metric: ``"sign"`` → ``sign(gᵢ·gⱼ)`` ∈ {−1, 0, 1} (Eq. 5); ``"cos"`` → ``gᵢ·gⱼ / (|gᵢ| |gⱼ|)``.
        sq_norms, sq_norms2: for ``"cos"`` on an ``(N, M)`` matrix, the squared gradient norms ``|gᵢ|²`` ``(N,)``
            and ``|gⱼ|²`` ``(M,)``. For a square matrix they default to its diagonal.

    Returns:
        float64 tensor of ``G``'s shape. A pair with a zero gradient has cosine NaN (undefined).
    """
    G = _as_float64(G)
    if G.ndim != 2:
        raise ValueError(f"G must be a 2-D matrix, got shape {tuple(G.shape)}")
    if metric == "sign":
        return torch.sign(G)
    if metric != "cos":
        raise ValueError(f"unknown stiffness metric {metric!r}; expected one of {METRICS}")
    if sq_norms is None and sq_norms2 is None:
        if G.shape[0] != G.shape[1]:
            raise ValueError("cosine stiffness of an N×M Gram needs sq_norms (N,) and sq_norms2 (M,)")
        sq_norms = sq_norms2 = torch.diagonal(G)
    if sq_norms is None or sq_norms2 is None:
        raise ValueError("give both sq_norms and sq_norms2")
    sq_norms, sq_norms2 = _as_float64(sq_norms), _as_float64(sq_norms2)
    if sq_norms.shape != (G.shape[0],) or sq_norms2.shape != (G.shape[1],):
        raise ValueError(
            f"sq_norms shapes {tuple(sq_norms.shape)}, {tuple(sq_norms2.shape)} do not match G {tuple(G.shape)}"
        )
    if (sq_norms < 0).any() or (sq_norms2 < 0).any():
        raise ValueError("squared norms must be non-negative")
    denom = torch.sqrt(sq_norms)[:, None] * torch.sqrt(sq_norms2)[None, :]
    cos = G / denom
    cos[denom == 0] = float("nan")
    return cos.clamp(-1.0, 1.0)


def _one_hot(labels: torch.Tensor | np.ndarray, num_classes: int, n: int, which: str) -> torch.Tensor:
    labels = torch.as_tensor(labels).detach().cpu()
    if labels.shape != (n,):
        raise ValueError(f"{which} must have shape ({n},) to match S, got {tuple(labels.shape)}")
    if labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise ValueError(f"{which} must hold integer class labels, got dtype {labels.dtype}")
    if n and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"{which} must lie in [0, {num_classes}), got range [{labels.min()}, {labels.max()}]")
    return torch.nn.functional.one_hot(labels.long(), num_classes).to(torch.float64)


def _class_sums(
    S: torch.Tensor,
    Ya: torch.Tensor,
    Yb: torch.Tensor,
    square: bool,
    weights_a: torch.Tensor | None = None,
    weights_b: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-class-pair sums of ``S`` and pair counts, self-pairs excluded when ``square``; optional weights.

    With weights ``w`` (``(R, N)``) the sums are ``Σ_{i≠j} wᵢ wⱼ S_ij`` per class pair, batched over ``r``.
    Pairs whose ``S`` is NaN are not counted.
    """
    defined = torch.isfinite(S)  # NaN pairs (cosine with a zero gradient) are left out of sums and counts
    S0 = torch.where(defined, S, torch.zeros_like(S))
    ones = defined.to(S.dtype)
    if square:
        S0.fill_diagonal_(0.0)
        ones.fill_diagonal_(0.0)
    if weights_a is None:
        return Ya.T @ S0 @ Yb, Ya.T @ ones @ Yb  # (K, K) each
    WYa = weights_a[:, :, None] * Ya[None]  # (r, i, a)
    WYb = weights_b[:, :, None] * Yb[None]  # (r, j, b)
    sums = torch.einsum("ria,ij,rjb->rab", WYa, S0, WYb)
    counts = torch.einsum("ria,ij,rjb->rab", WYa, ones, WYb)
    return sums, counts


def _prepare(
    S: torch.Tensor, labels: torch.Tensor, labels2: torch.Tensor | None, num_classes: int | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, bool]:
    S = _as_float64(S).cpu()
    if S.ndim != 2:
        raise ValueError(f"S must be a 2-D matrix, got shape {tuple(S.shape)}")
    square = labels2 is None
    if square and S.shape[0] != S.shape[1]:
        raise ValueError(f"S is {tuple(S.shape)}: an N×M matrix needs labels2 for its columns")
    if square and S.shape[0] < 2:
        raise ValueError(f"stiffness needs pairs of distinct examples: S holds {S.shape[0]} example(s)")
    if S.numel() == 0:
        raise ValueError("S is empty")
    lab2 = labels if square else labels2
    if num_classes is None:
        num_classes = int(max(torch.as_tensor(labels).max(), torch.as_tensor(lab2).max())) + 1
    Ya = _one_hot(labels, num_classes, S.shape[0], "labels")
    Yb = _one_hot(lab2, num_classes, S.shape[1], "labels2" if not square else "labels")
    return S, Ya, Yb, square


def class_stiffness(
    S: torch.Tensor,
    labels: torch.Tensor,
    labels2: torch.Tensor | None = None,
    num_classes: int | None = None,
) -> torch.Tensor:
    """Class stiffness matrix ``C[a, b]`` (Eq. 6): mean of ``S[i, j]`` over pairs with ``yᵢ = a``, ``yⱼ = b``.

    Args:
        S: pairwise stiffness ``(N, N)`` of one set (then the diagonal — an example paired with itself — is never
            counted) or ``(N, M)`` between two sets (then ``labels2`` labels the columns).
        labels: ``(N,)`` integer classes of the rows; labels2: ``(M,)`` of the columns.
        num_classes: ``K``; default ``1 + max label``.

    Returns:
        float64 ``(K, K)``; NaN in a cell with no pairs. Pairs whose stiffness is NaN (a cosine involving a zero
        gradient) are left out; sign stiffness of a zero gradient is 0 and counts.
    """
    return _class_matrix(*_prepare(S, labels, labels2, num_classes))


def _class_matrix(S: torch.Tensor, Ya: torch.Tensor, Yb: torch.Tensor, square: bool) -> torch.Tensor:
    """``(K, K)`` class means of prepared ``S`` (see :func:`class_stiffness`); NaN where a cell has no pairs."""
    sums, counts = _class_sums(S, Ya, Yb, square)
    C = sums / counts
    C[counts == 0] = float("nan")
    return C


def class_summary(C: torch.Tensor | np.ndarray) -> tuple[float, float]:
    """``(within, between)``: mean of the diagonal and mean of the off-diagonal cells of ``C`` (Eq. 7), NaN-aware."""
    C = _as_float64(C)
    if C.ndim != 2 or C.shape[0] != C.shape[1] or C.shape[0] < 2:
        raise ValueError(f"C must be a square K×K matrix with K ≥ 2, got shape {tuple(C.shape)}")
    off = ~torch.eye(C.shape[0], dtype=torch.bool)
    return float(torch.nanmean(torch.diagonal(C))), float(torch.nanmean(C[off]))


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


def _bootstrap_class_matrices(
    S: torch.Tensor, Ya: torch.Tensor, Yb: torch.Tensor, square: bool, n_boot: int, seed: int
) -> Iterator[torch.Tensor]:
    """Class stiffness matrices ``(K, K)`` of ``n_boot`` bootstrap replicates over examples (see
    :func:`bootstrap_class_summary`), generated in batches so the ``(r, N, K)`` tensors stay small."""
    rng = np.random.default_rng(seed)
    n, m = S.shape
    wa = torch.as_tensor(rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot), dtype=torch.float64)
    wb = wa if square else torch.as_tensor(rng.multinomial(m, np.full(m, 1.0 / m), size=n_boot), dtype=torch.float64)
    for start in range(0, n_boot, 50):
        sl = slice(start, start + 50)
        sums, counts = _class_sums(S, Ya, Yb, square, wa[sl], wb[sl])
        C = sums / counts
        C[counts == 0] = float("nan")
        yield from C


def _nan_std(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(np.std(finite, ddof=1)) if finite.size >= 2 else float("nan")


def _nan_quantiles(values: np.ndarray, q: list[float]) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return float("nan"), float("nan")
    lo, hi = np.quantile(finite, q)
    return float(lo), float(hi)


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
    S, Ya, Yb, square = _prepare(S, labels, labels2, num_classes)
    within, between = class_summary(_class_matrix(S, Ya, Yb, square))
    reps = np.asarray([class_summary(Cr) for Cr in _bootstrap_class_matrices(S, Ya, Yb, square, n_boot, seed)])
    rw, rb = reps[:, 0], reps[:, 1]
    q = [(1 - level) / 2, (1 + level) / 2]
    return ClassSummary(
        within=within,
        between=between,
        within_se=_nan_std(rw),
        between_se=_nan_std(rb),
        within_ci=_nan_quantiles(rw, q),
        between_ci=_nan_quantiles(rb, q),
        n_boot=n_boot,
        level=level,
    )


def pairwise_cosine(R: torch.Tensor, R2: torch.Tensor | None = None) -> torch.Tensor:
    """Dot-product "distance" of Eq. 9: ``cos(Rᵢ, Rⱼ) = Rᵢ·Rⱼ / (|Rᵢ| |Rⱼ|)`` ∈ [−1, 1] (1 = same direction).

    Args:
        R: ``(N, *features)`` inputs or representations (flattened per example); R2: optional ``(M, *features)``.

    Returns:
        float64 ``(N, N)`` or ``(N, M)``; NaN where a vector is zero (e.g. a representation with every ReLU off).
    """
    A = _as_float64(R).reshape(R.shape[0], -1)
    B = A if R2 is None else _as_float64(R2).reshape(R2.shape[0], -1)
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
    S, D = _as_float64(S).cpu().numpy(), _as_float64(D).cpu().numpy()
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


def _binned_means(s: np.ndarray, idx: np.ndarray, w: np.ndarray, n_bins: int, min_count: int, n_raw: np.ndarray):
    total = np.bincount(idx, weights=w * s, minlength=n_bins)
    weight = np.bincount(idx, weights=w, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / weight
    mean[(weight == 0) | (n_raw < min_count)] = np.nan
    return mean


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
    S_np, D_np = _as_float64(S).cpu().numpy(), _as_float64(D).cpu().numpy()
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
    point_mean = _binned_means(s, idx, np.ones_like(s), n_bins, min_count, n_raw)
    xi = critical_distance(prof.centers, point_mean, same_point=same_point)
    rng = np.random.default_rng(seed)
    found = []
    for _ in range(n_boot):
        w = rng.multinomial(n, np.full(n, 1.0 / n)).astype(np.float64)
        rep = critical_distance(
            prof.centers, _binned_means(s, idx, w[ii] * w[jj], n_bins, min_count, n_raw), same_point=same_point
        )
        if rep is not None:
            found.append(rep)
    ci = (
        tuple(float(v) for v in np.quantile(found, [(1 - level) / 2, (1 + level) / 2]))
        if found
        else (float("nan"), float("nan"))
    )
    return CriticalDistance(xi, ci, len(found) / n_boot, prof)


@dataclass(frozen=True)
class HierarchyContrast:
    """Block structure of a class stiffness matrix under a class hierarchy (fine classes grouped into coarse ones).

    ``same_coarse`` / ``diff_coarse``: mean of the off-diagonal cells ``C[a, b]`` (``a ≠ b``) whose fine classes
    share / do not share a coarse class; ``contrast`` = their difference with a bootstrap interval over examples;
    ``p_value``: one-sided permutation test of ``contrast`` against random coarse assignments of the same group
    sizes.
    """

    same_coarse: float
    diff_coarse: float
    contrast: float
    contrast_ci: tuple[float, float]
    p_value: float
    n_boot: int
    n_perm: int
    level: float


def _block_means(C: torch.Tensor, coarse: torch.Tensor) -> tuple[float, float]:
    same = coarse[:, None] == coarse[None, :]
    off = ~torch.eye(C.shape[0], dtype=torch.bool)
    return float(torch.nanmean(C[same & off])), float(torch.nanmean(C[~same & off]))


def hierarchy_contrast(
    S: torch.Tensor,
    labels: torch.Tensor,
    coarse_of_fine: Sequence[int],
    *,
    n_boot: int = 200,
    n_perm: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> HierarchyContrast:
    """Do fine classes of the same coarse class stiffen each other more than fine classes of different ones?

    Args:
        S: ``(N, N)`` pairwise stiffness of one set; labels: ``(N,)`` fine classes in ``[0, K)``.
        coarse_of_fine: length ``K``: the coarse class of each fine class (e.g. CIFAR-100's 20 super-classes).

    Every off-diagonal cell of the class stiffness matrix weighs the same, so a coarse class with many fine
    classes does not dominate. The permutation test shuffles ``coarse_of_fine`` (group sizes kept) ``n_perm``
    times; ``p = (1 + #{perm contrast ≥ observed}) / (1 + n_perm)``.
    """
    coarse = torch.as_tensor(list(coarse_of_fine), dtype=torch.long)
    K = coarse.numel()
    if K < 3 or coarse.unique().numel() < 2 or coarse.unique().numel() == K:
        raise ValueError("a hierarchy needs ≥ 3 fine classes in ≥ 2 coarse classes, one with ≥ 2 fine classes")
    if n_boot < 2 or n_perm < 1:
        raise ValueError(f"n_boot must be ≥ 2 and n_perm ≥ 1, got {n_boot}, {n_perm}")
    S64, Ya, Yb, square = _prepare(S, labels, None, K)
    C = _class_matrix(S64, Ya, Yb, square)
    same, diff = _block_means(C, coarse)
    contrast = same - diff
    rng = np.random.default_rng(seed)
    perm_contrasts = []
    for _ in range(n_perm):
        s_p, d_p = _block_means(C, coarse[torch.as_tensor(rng.permutation(K))])
        perm_contrasts.append(s_p - d_p)
    p_value = (1 + int(np.sum(np.asarray(perm_contrasts) >= contrast - 1e-12))) / (1 + n_perm)
    reps = [
        a - b
        for a, b in (_block_means(Cr, coarse) for Cr in _bootstrap_class_matrices(S64, Ya, Yb, square, n_boot, seed))
    ]
    q = [(1 - level) / 2, (1 + level) / 2]
    ci = _nan_quantiles(np.asarray(reps), q)
    return HierarchyContrast(same, diff, contrast, ci, float(p_value), n_boot, n_perm, level)
