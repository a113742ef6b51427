"""Textbook numerics: per-example gradient Grams as a framework computes them naively, in a chosen dtype.

:func:`textbook_gram` differentiates PyTorch's own :func:`torch.nn.functional.cross_entropy` (whose backward is
``softmax(z) − e_y``) and takes gradients and dot products in ``dtype``. In float32 a confident example's
``p_y − 1`` rounds to 0 once its logit margin exceeds ≈ 17, so its gradient loses the true-class component, and
past a margin of ≈ 104 every ``p_k`` underflows and the gradient is exactly 0. Comparing the signs of this Gram
with those of the exact :func:`repro.gram.unit_gram` (:func:`sign_disagreement`) shows how much of a late-training
collapse of stiffness such numerics would fake. Nothing here is used by the exact path.

Index convention: ``n`` examples, ``p`` flattened trainable parameters.
"""

from __future__ import annotations

import copy
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

from repro.gram.validate import check_labels, check_model, check_set, count_classes

__all__ = ["textbook_gram", "sign_disagreement", "SignDisagreement"]


def _gradient_rows(model: nn.Module, x: torch.Tensor, y: torch.Tensor, chunk_size: int, out: torch.Tensor) -> None:
    """Write the flattened per-example gradients of ``F.cross_entropy`` into ``out`` ``(n, p)``, ``chunk_size``
    examples per ``vmap`` call; ``model``, ``x`` and ``out`` share one dtype."""
    params = dict(model.named_parameters())
    wrt = {name: p.detach() for name, p in params.items() if p.requires_grad}
    fixed = {name: p.detach() for name, p in params.items() if not p.requires_grad}
    buffers = dict(model.named_buffers())

    def example_loss(w: dict[str, torch.Tensor], xi: torch.Tensor, yi: torch.Tensor) -> torch.Tensor:
        logits = functional_call(model, ({**w, **fixed}, buffers), (xi.unsqueeze(0),))
        return F.cross_entropy(logits, yi.unsqueeze(0))  # a batch of one: the example's own loss

    per_example = vmap(grad(example_loss), in_dims=(None, 0, 0))
    for start in range(0, x.shape[0], chunk_size):
        grads = per_example(wrt, x[start : start + chunk_size], y[start : start + chunk_size])
        torch.cat([g.flatten(1) for g in grads.values()], dim=1, out=out[start : start + chunk_size])


def textbook_gram(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    dtype: torch.dtype = torch.float32,
    chunk_size: int | None = None,
    memory_budget: int | None = None,
) -> torch.Tensor:
    """Gram ``G[i, j] = gᵢ · gⱼ`` of ``gᵢ = ∇_W F.cross_entropy(f_W(xᵢ), yᵢ)``, computed entirely in ``dtype``.

    Args:
        model: as for :func:`repro.gram.per_example_gram` (examples independent). It is evaluated on a copy
            converted to ``dtype``; the caller's model is not touched.
        x: inputs ``(N, *input_shape)``, cast to ``dtype``; y: integer labels ``(N,)``.
        dtype: floating dtype of the forward pass, of the gradients and of the Gram GEMM.
        chunk_size: examples per ``vmap(grad)`` call; default as :func:`repro.gram.default_chunk_size`, scaled to
            ``dtype`` (one chunk of gradients ≤ 256 MiB).
        memory_budget: bytes for materialised gradient rows (default :data:`repro.gram.DEFAULT_MEMORY_BUDGET`,
            1 GiB). The examples are split into panels of ``R = budget / (2·p·s)`` rows (``s`` bytes per number);
            ``G[a, b] = A_a A_bᵀ`` is formed panel pair by panel pair, with panel ``a`` held and panels ``b > a``
            recomputed. When ``N ≤ R`` (FC net, p ≈ 560k, float32: N ≤ 239) every gradient is computed once.

    Peak memory above the model copy: ``≤ budget`` (two panels) ``+`` the ``vmap`` temporaries of one chunk
    ``+ N²·(s + 8)`` bytes (the Gram in ``dtype`` and in float64).

    Returns:
        float64 ``(N, N)`` on the model's device: the ``dtype`` Gram, converted exactly. Entries of saturated
        examples are exact zeros (sign 0; their cosine is NaN in :func:`repro.stiffness.stiffness_from_gram`).

    Raises:
        ValueError: for the models and sets :func:`repro.gram.per_example_gram` rejects (:mod:`repro.gram.validate`),
            before any gradient is taken, and for a non-floating ``dtype`` or ``chunk_size < 1``.
    """
    from repro.gram import DEFAULT_MEMORY_BUDGET, default_chunk_size

    check_set(x, y)
    if not dtype.is_floating_point:
        raise ValueError(f"dtype must be a floating dtype, got {dtype}")
    if chunk_size is not None and chunk_size < 1:
        raise ValueError(f"chunk_size must be ≥ 1, got {chunk_size}")
    check_model(model)
    work = copy.deepcopy(model).to(dtype)
    n_params = sum(p.numel() for p in work.parameters() if p.requires_grad)
    device = next(p for p in work.parameters() if p.requires_grad).device
    x, y = x.detach().to(device=device, dtype=dtype), y.detach().to(device=device, dtype=torch.long)
    check_labels(y, count_classes(work, x))
    size = torch.finfo(dtype).bits // 8
    chunk = chunk_size or max(1, default_chunk_size(work) * 4 // size)
    budget = DEFAULT_MEMORY_BUDGET if memory_budget is None else memory_budget
    panel = max(1, budget // (2 * n_params * size))

    n = x.shape[0]
    G = torch.empty(n, n, dtype=dtype, device=device)
    held = torch.empty(min(panel, n), n_params, dtype=dtype, device=device)
    other = torch.empty_like(held) if n > panel else held
    for a in range(0, n, panel):
        A = held[: min(panel, n - a)]
        _gradient_rows(work, x[a : a + panel], y[a : a + panel], chunk, A)
        G[a : a + panel, a : a + panel] = A @ A.T
        for b in range(a + panel, n, panel):
            B = other[: min(panel, n - b)]
            _gradient_rows(work, x[b : b + panel], y[b : b + panel], chunk, B)
            block = A @ B.T
            G[a : a + panel, b : b + panel] = block
            G[b : b + panel, a : a + panel] = block.T
    return G.to(torch.float64)


class SignDisagreement(NamedTuple):
    """Shares of the ``N(N−1)`` off-diagonal pairs, in [0, 1].

    ``zeros``: pairs with ``G_a[i, j] == 0`` exactly; ``differ``: pairs with ``sign(G_a) ≠ sign(G_b)``, a zero
    against a nonzero included; ``flipped``: pairs whose signs are both nonzero and opposite.
    """

    zeros: float
    differ: float
    flipped: float


def sign_disagreement(G_a: torch.Tensor, G_b: torch.Tensor) -> SignDisagreement:
    """How the signs of ``G_a`` (e.g. a float32 :func:`textbook_gram`) depart from those of ``G_b`` (e.g. the
    exact ``unit_gram(...).unit``); both ``(N, N)`` with ``N ≥ 2``, any real dtype. Diagonals are ignored."""
    if G_a.ndim != 2 or G_a.shape[0] != G_a.shape[1] or G_a.shape != G_b.shape or G_a.shape[0] < 2:
        raise ValueError(f"need two square Grams of one shape with N ≥ 2, got {tuple(G_a.shape)}, {tuple(G_b.shape)}")
    off = ~torch.eye(G_a.shape[0], dtype=torch.bool, device=G_a.device)
    s_a, s_b = torch.sign(G_a)[off], torch.sign(G_b.to(G_a.device))[off]
    return SignDisagreement(
        zeros=float((s_a == 0).double().mean()),
        differ=float((s_a != s_b).double().mean()),
        flipped=float((s_a * s_b < 0).double().mean()),
    )
