"""The two products every Gram block reduces to, and the final mirror of a symmetric result.

Symmetric results are accumulated as *upper-triangular* matrices: diagonal blocks hold ``a aᵀ`` on and above the
diagonal and exact zeros below it, off-diagonal blocks are only computed above the diagonal. :func:`mirror_upper`
turns such a matrix into the full symmetric one. On the CPU the diagonal blocks go through the BLAS ``?syrk`` routine
of SciPy's OpenBLAS, which computes one triangle only and so does half the multiply-adds of ``a @ a.T``; elsewhere
they are a plain ``a @ a.T`` with the lower triangle zeroed.

Index convention: ``n``, ``m`` rows (examples), ``k`` the contracted dimension.
"""

from __future__ import annotations

import torch
from scipy.linalg import blas

__all__ = ["gram_upper", "gram_cross", "mirror_upper"]

_SYRK = {torch.float32: blas.ssyrk, torch.float64: blas.dsyrk}


def gram_upper(a: torch.Tensor) -> torch.Tensor:
    """``a aᵀ`` for ``a (n, k)``: an ``(n, n)`` tensor that equals ``a aᵀ`` on and above the diagonal, 0 below it."""
    syrk = _SYRK.get(a.dtype)
    if a.device.type != "cpu" or syrk is None:
        return torch.triu(a @ a.T)
    # A C-contiguous (n, k) array is a Fortran-contiguous (k, n) one: no copy. trans=1 gives cᵀc = a aᵀ, and
    # lower=1 fills the lower triangle of a Fortran (n, n) result (zeros above), whose transpose is C-contiguous.
    c = syrk(1.0, a.contiguous().numpy().T, trans=1, lower=1)
    return torch.from_numpy(c).T


def gram_cross(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a bᵀ``: ``(n, k) × (m, k) → (n, m)``."""
    return a @ b.T


def mirror_upper(g: torch.Tensor) -> torch.Tensor:
    """The symmetric matrix whose upper triangle is that of ``g (n, n)``, given that ``g`` is 0 below the diagonal."""
    full = g + g.T
    full.diagonal().sub_(g.diagonal())
    return full
