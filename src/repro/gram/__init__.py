"""Exact Gram matrices of per-example loss gradients, ``G[i, j] = gᵢ · gⱼ`` with ``gᵢ = ∇_W L(f_W(xᵢ), yᵢ)``.

The loss is each example's own cross-entropy (``reduction="sum"`` over a batch, never the batch mean), and ``W`` is
every parameter with ``requires_grad``. The public entry point is :func:`per_example_gram`; it is re-exported by
:mod:`repro.stiffness`.
"""

from __future__ import annotations

import torch
from torch import nn

from repro.gram.functorch_path import vmap_gram

__all__ = ["per_example_gram", "default_chunk_size"]

_GRADIENT_BYTES_PER_CHUNK = 256 * 2**20  # one chunk of materialised gradients stays under this


def _check_set(x: torch.Tensor, y: torch.Tensor, which: str) -> None:
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise ValueError(f"{which}: x and y must be torch tensors")
    if x.ndim < 1 or x.shape[0] == 0:
        raise ValueError(f"{which}: the set is empty (x has shape {tuple(x.shape)})")
    if y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise ValueError(f"{which}: y must have shape ({x.shape[0]},) to match x, got {tuple(y.shape)}")
    if y.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"{which}: y must hold integer class labels, got dtype {y.dtype}")


def default_chunk_size(model: nn.Module) -> int:
    """Examples per chunk such that one chunk of float32 per-example gradients fits in 256 MiB."""
    n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return max(1, min(1024, _GRADIENT_BYTES_PER_CHUNK // (4 * max(n_params, 1))))


def per_example_gram(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    x2: torch.Tensor | None = None,
    y2: torch.Tensor | None = None,
    *,
    chunk_size: int | None = None,
) -> torch.Tensor:
    """Exact Gram matrix of per-example cross-entropy gradients w.r.t. all trainable parameters.

    Args:
        model: any ``nn.Module`` mapping ``(N, *input_shape)`` to logits ``(N, classes)`` and treating examples
            independently (no batch norm in training mode). Its mode (train/eval) is left as it is.
        x: inputs ``(N, *input_shape)``; y: integer labels ``(N,)``.
        x2, y2: optional second set ``(M, *input_shape)``, ``(M,)``; then the result is the ``N×M`` cross Gram.
        chunk_size: examples per chunk (bounds memory); default from :func:`default_chunk_size`.

    Returns:
        float64 tensor ``(N, N)`` (symmetric) or ``(N, M)``, on ``x.device``.
    """
    _check_set(x, y, "x, y")
    if (x2 is None) != (y2 is None):
        raise ValueError("give both x2 and y2, or neither")
    if x2 is not None:
        _check_set(x2, y2, "x2, y2")
        if x2.shape[1:] != x.shape[1:]:
            raise ValueError(f"x2 examples have shape {tuple(x2.shape[1:])}, x examples {tuple(x.shape[1:])}")
    if chunk_size is None:
        chunk_size = default_chunk_size(model)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be ≥ 1, got {chunk_size}")
    return vmap_gram(model, x, y, x2, y2, chunk_size=chunk_size)
