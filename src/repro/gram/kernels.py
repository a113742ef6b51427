"""The two products every Gram block reduces to, and the final mirror of a symmetric result.

Symmetric results are accumulated as *upper-triangular* matrices: diagonal blocks hold ``a aᵀ`` on and above the
diagonal and exact zeros below it, off-diagonal blocks are only computed above the diagonal. :func:`mirror_upper`
turns such a matrix into the full symmetric one. On the CPU the diagonal blocks go through the BLAS ``?syrk`` routine
of SciPy's OpenBLAS, which computes one triangle only and so does half the multiply-adds of ``a @ a.T`` (measured on a
2-core AMD EPYC: 0.44× the time of PyTorch's ``a @ a.T``, against 0.6× for the best blocking of ``torch.mm`` calls);
elsewhere they are a plain ``a @ a.T`` with the lower triangle zeroed.

:func:`empty_workspace` allocates the big buffer of materialised per-example gradients; on Linux it asks for
transparent huge pages (``madvise(MADV_HUGEPAGE)``, as PyTorch does under ``THP_MEM_ALLOC_ENABLE=1``), which makes the
first touch of fresh memory about five times cheaper.

Index convention: ``n``, ``m`` rows (examples), ``k`` the contracted dimension.
"""

from __future__ import annotations

import ctypes
import functools
import sys

import torch

__all__ = ["gram_upper", "gram_cross", "mirror_upper", "empty_workspace"]

_HUGE_PAGE = 2 * 2**20
_MADV_HUGEPAGE = 14
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


@functools.cache
def _syrk_routines() -> dict:
    """SciPy's BLAS ``?syrk`` by dtype, loaded at the first Gram rather than when the package is imported.

    OpenBLAS's worker threads spin for ~0.1 s after each call (2^28 cycles), taking the cores from the PyTorch work
    that follows (measured: element-wise ops and GEMMs 2-3× slower); ``repro/__init__.py`` sets
    ``OPENBLAS_THREAD_TIMEOUT=4`` (2^4 cycles: they sleep at once) before anything of the package can load SciPy,
    since OpenBLAS reads it only when it loads.
    """
    from scipy.linalg import blas

    return {torch.float32: blas.ssyrk, torch.float64: blas.dsyrk}


def gram_upper(a: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """``a aᵀ`` for ``a (n, k)``: an ``(n, n)`` tensor that equals ``a aᵀ`` on and above the diagonal and 0 below.

    ``out``: a C-contiguous ``(n, n)`` tensor, 0 below the diagonal, to write into (reusing memory is faster than
    touching fresh pages); its strictly lower triangle is left as it is.
    """
    syrk = _syrk_routines().get(a.dtype) if a.device.type == "cpu" else None
    if a.device.type != "cpu" or syrk is None:
        return torch.triu(a @ a.T) if out is None else torch.mm(a, a.T, out=out).triu_()
    # A C-contiguous (n, k) array is a Fortran-contiguous (k, n) one: no copy. trans=1 gives cᵀc = a aᵀ, and
    # lower=1 fills the lower triangle of a Fortran (n, n) result, whose transpose is C-contiguous.
    a_f = a.contiguous().numpy().T
    if out is None:
        return torch.from_numpy(syrk(1.0, a_f, trans=1, lower=1)).T
    syrk(1.0, a_f, trans=1, lower=1, beta=0.0, c=out.numpy().T, overwrite_c=1)
    return out


def gram_cross(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a bᵀ``: ``(n, k) × (m, k) → (n, m)``."""
    return a @ b.T


def mirror_upper(g: torch.Tensor) -> torch.Tensor:
    """The symmetric matrix whose upper triangle is that of ``g (n, n)``, given that ``g`` is 0 below the diagonal."""
    full = g + g.T
    full.diagonal().sub_(g.diagonal())
    return full


def empty_workspace(numel: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """An uninitialised 1-D tensor of ``numel`` elements; on the Linux CPU aligned to, and advised to use, huge
    pages."""
    if _LIBC is None or torch.device(device).type != "cpu" or numel * dtype.itemsize < 2 * _HUGE_PAGE:
        return torch.empty(numel, dtype=dtype, device=device)
    size = dtype.itemsize
    raw = torch.empty(numel + _HUGE_PAGE // size, dtype=dtype)
    start = -raw.data_ptr() % _HUGE_PAGE // size  # first element on a huge-page boundary
    buffer = raw[start : start + numel]
    _LIBC.madvise(
        ctypes.c_void_p(buffer.data_ptr()), ctypes.c_size_t(numel * size // _HUGE_PAGE * _HUGE_PAGE), _MADV_HUGEPAGE
    )
    return buffer
