"""Class stiffness under a class hierarchy: do fine classes of one coarse class stiffen each other more?

Index convention (as in :mod:`repro.stiffness`): ``i`` examples (``N``), ``a, b`` fine classes (``K``), ``r`` bootstrap
replicates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from repro.stiffness.bootstrap import bootstrap_class_matrices, finite_quantiles
from repro.stiffness.classes import class_means_from_one_hot, prepare_class_inputs


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
    S64, Ya, Yb, square = prepare_class_inputs(S, labels, None, K)
    C = class_means_from_one_hot(S64, Ya, Yb, square)
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
        for a, b in (_block_means(Cr, coarse) for Cr in bootstrap_class_matrices(S64, Ya, Yb, square, n_boot, seed))
    ]
    q = [(1 - level) / 2, (1 + level) / 2]
    ci = finite_quantiles(np.asarray(reps), q)
    return HierarchyContrast(same, diff, contrast, ci, float(p_value), n_boot, n_perm, level)
