"""Pairwise stiffness from a Gram matrix (paper Eq. 5 and its cosine form): ``S[i, j]`` from ``G[i, j] = gᵢ·gⱼ``.

Index convention (as in :mod:`repro.stiffness`): ``i, j`` examples of the first / second set (``N``, ``M``).
"""

from __future__ import annotations

import numpy as np
import torch

METRICS = ("sign", "cos")


def as_float64(t: torch.Tensor | np.ndarray) -> torch.Tensor:
    """``t`` as a float64 tensor of the same shape, detached from autograd, on ``t``'s device (CPU for an array)."""
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
    G = as_float64(G)
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
    sq_norms, sq_norms2 = as_float64(sq_norms), as_float64(sq_norms2)
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
