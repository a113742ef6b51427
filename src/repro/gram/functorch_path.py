"""The general exact Gram path: materialised per-example gradients from ``torch.func`` (vmap of grad), then GEMMs.

Works for any ``nn.Module`` whose forward treats examples independently (Linear, Conv2d of any stride / padding /
dilation / groups, pooling, activations, LayerNorm, GroupNorm, …). It is the reference that the fast engine in
:mod:`repro.gram.engine` is tested against, and the per-layer fallback for layers the engine has no rule for.

Index convention: ``n``, ``m`` examples of the two sets, ``p`` flattened parameters.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

__all__ = ["per_example_gradients", "gram_from_gradients", "vmap_gram"]


def per_example_gradients(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    param_names: list[str] | None = None,
) -> torch.Tensor:
    """Flattened per-example cross-entropy gradients ``(n, p)`` w.r.t. the named trainable parameters.

    Each row is ``∇_W L(f_W(xᵢ), yᵢ)`` for that example's own loss (not a batch mean). ``param_names`` selects a
    subset of ``model.named_parameters()`` (default: every parameter with ``requires_grad``), concatenated in that
    order.
    """
    all_params = dict(model.named_parameters())
    names = param_names if param_names is not None else [n for n, p in all_params.items() if p.requires_grad]
    wrt = {n: all_params[n].detach() for n in names}
    fixed = {n: p.detach() for n, p in all_params.items() if n not in wrt}
    buffers = dict(model.named_buffers())

    def example_loss(params: dict[str, torch.Tensor], xi: torch.Tensor, yi: torch.Tensor) -> torch.Tensor:
        logits = functional_call(model, ({**params, **fixed}, buffers), (xi.unsqueeze(0),))
        return F.cross_entropy(logits, yi.unsqueeze(0))

    grads = vmap(grad(example_loss), in_dims=(None, 0, 0))(wrt, x, y)
    return torch.cat([grads[n].reshape(x.shape[0], -1) for n in names], dim=1)


def gram_from_gradients(ga: torch.Tensor, gb: torch.Tensor) -> torch.Tensor:
    """``ga @ gbᵀ`` in float64: ``(n, p) × (m, p) → (n, m)``; the product runs in the gradients' dtype."""
    return (ga @ gb.T).to(torch.float64)


def _chunks(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def vmap_gram(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    x2: torch.Tensor | None = None,
    y2: torch.Tensor | None = None,
    *,
    chunk_size: int,
    param_names: list[str] | None = None,
) -> torch.Tensor:
    """Exact Gram ``(n, n)`` (or ``(n, m)`` against ``x2, y2``) from vmapped per-example gradients, in float64.

    Memory: at most two chunks of per-example gradients live at once, ``2 · chunk_size · p`` numbers, plus the
    float64 result. For the symmetric case each off-diagonal block is computed once and mirrored.
    """
    n = x.shape[0]
    symmetric = x2 is None
    m = n if symmetric else x2.shape[0]
    out = torch.empty(n, m, dtype=torch.float64, device=x.device)
    for rows in _chunks(n, chunk_size):
        g_rows = per_example_gradients(model, x[rows], y[rows], param_names)
        if symmetric:
            out[rows, rows] = gram_from_gradients(g_rows, g_rows)
            for cols in _chunks(n, chunk_size):
                if cols.start <= rows.start:
                    continue
                block = gram_from_gradients(g_rows, per_example_gradients(model, x[cols], y[cols], param_names))
                out[rows, cols] = block
                out[cols, rows] = block.T
        else:
            for cols in _chunks(m, chunk_size):
                g_cols = per_example_gradients(model, x2[cols], y2[cols], param_names)
                out[rows, cols] = gram_from_gradients(g_rows, g_cols)
    if symmetric:
        out = 0.5 * (out + out.T)
    return out
