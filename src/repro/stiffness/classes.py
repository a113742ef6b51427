"""Class stiffness matrices (paper Eqs. 6–7): the mean stiffness of each pair of classes, within and between.

Index convention (as in :mod:`repro.stiffness`): ``i, j`` examples of the first / second set (``N``, ``M``), ``a, b``
classes (``K``), ``r`` bootstrap replicates (the weights of :mod:`repro.stiffness.bootstrap`).
"""

from __future__ import annotations

import numpy as np
import torch

from repro.phases import phase
from repro.stiffness.pairs import as_float64


def _one_hot(labels: torch.Tensor | np.ndarray, num_classes: int, n: int, which: str) -> torch.Tensor:
    labels = torch.as_tensor(labels).detach().cpu()
    if labels.shape != (n,):
        raise ValueError(f"{which} must have shape ({n},) to match S, got {tuple(labels.shape)}")
    if labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise ValueError(f"{which} must hold integer class labels, got dtype {labels.dtype}")
    if n and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"{which} must lie in [0, {num_classes}), got range [{labels.min()}, {labels.max()}]")
    return torch.nn.functional.one_hot(labels.long(), num_classes).to(torch.float64)


def class_pair_sums(
    S: torch.Tensor,
    Ya: torch.Tensor,
    Yb: torch.Tensor,
    square: bool,
    weights_a: torch.Tensor | None = None,
    weights_b: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-class-pair sums of ``S`` and pair counts, self-pairs excluded when ``square``; optional weights.

    ``S`` is float64 ``(N, M)``, ``Ya`` ``(N, K)`` and ``Yb`` ``(M, K)`` its one-hot row and column classes (as
    :func:`prepare_class_inputs` returns them). Without weights: ``(sums, counts)``, each ``(K, K)``. With weights
    ``weights_a`` ``(R, N)`` and ``weights_b`` ``(R, M)`` the sums are ``Σ_{i≠j} wᵢ wⱼ S_ij`` per class pair, batched
    over ``r``: ``(R, K, K)`` each. Pairs whose ``S`` is NaN are not counted.
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


def prepare_class_inputs(
    S: torch.Tensor, labels: torch.Tensor, labels2: torch.Tensor | None, num_classes: int | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, bool]:
    """Check the arguments of :func:`class_stiffness` and return ``(S, Ya, Yb, square)``: ``S`` as float64 ``(N, M)``
    on the CPU, the one-hot float64 classes of its rows ``(N, K)`` and columns ``(M, K)``, and whether ``S`` is the
    square matrix of one set (``labels2`` is ``None``, so the diagonal is left out). ``ValueError`` for bad input."""
    S = as_float64(S).cpu()
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


@phase("statistics")
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
    return class_means_from_one_hot(*prepare_class_inputs(S, labels, labels2, num_classes))


def class_means_from_one_hot(S: torch.Tensor, Ya: torch.Tensor, Yb: torch.Tensor, square: bool) -> torch.Tensor:
    """``(K, K)`` class means of ``S`` from the one-hot classes of :func:`prepare_class_inputs` (see
    :func:`class_stiffness`); NaN where a cell has no pairs."""
    sums, counts = class_pair_sums(S, Ya, Yb, square)
    C = sums / counts
    C[counts == 0] = float("nan")
    return C


def class_summary(C: torch.Tensor | np.ndarray) -> tuple[float, float]:
    """``(within, between)``: mean of the diagonal and mean of the off-diagonal cells of ``C`` (Eq. 7), NaN-aware."""
    C = as_float64(C)
    if C.ndim != 2 or C.shape[0] != C.shape[1] or C.shape[0] < 2:
        raise ValueError(f"C must be a square K×K matrix with K ≥ 2, got shape {tuple(C.shape)}")
    off = ~torch.eye(C.shape[0], dtype=torch.bool)
    return float(torch.nanmean(torch.diagonal(C))), float(torch.nanmean(C[off]))
