"""The general exact path: materialised per-example gradients from ``torch.func`` (``vmap`` of ``grad``).

Works for any ``nn.Module`` whose forward treats examples independently (Linear, Conv2d of any stride / padding /
dilation / groups, pooling, activations, LayerNorm, GroupNorm, …). The engine (:mod:`repro.gram.engine`) uses it for
``method="vmap"``, for the parameters of layers without a rule, and for a whole model whose structure its hooks
cannot capture.

Index convention: ``n`` examples, ``p`` flattened parameters.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from repro.losses import cross_entropy

__all__ = ["per_example_gradients"]


def per_example_gradients(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    param_names: list[str] | None = None,
    directions: torch.Tensor | None = None,
) -> torch.Tensor:
    """Flattened per-example cross-entropy gradients ``(n, p)`` w.r.t. the named trainable parameters.

    Each row is ``∇_W L(f_W(xᵢ), yᵢ)`` for that example's own loss (not a batch mean). ``param_names`` selects a
    subset of ``model.named_parameters()`` (default: every parameter with ``requires_grad``), concatenated in that
    order. With ``directions (n, K)`` (the unit logit gradients of :func:`repro.losses.output_gradient`) each row is
    instead ``∇_W (dᵢ · f_W(xᵢ))``, the gradient per unit logit gradient, which does not underflow.
    """
    all_params = dict(model.named_parameters())
    names = param_names if param_names is not None else [n for n, p in all_params.items() if p.requires_grad]
    wrt = {n: all_params[n].detach() for n in names}
    fixed = {n: p.detach() for n, p in all_params.items() if n not in wrt}
    buffers = dict(model.named_buffers())

    if directions is None:
        objective, targets = cross_entropy, y  # the example's own loss
    else:
        objective, targets = (lambda z, d: (z * d).sum()), directions  # its logits weighted by its direction

    def example_objective(params: dict[str, torch.Tensor], xi: torch.Tensor, ti: torch.Tensor) -> torch.Tensor:
        logits = functional_call(model, ({**params, **fixed}, buffers), (xi.unsqueeze(0),))
        return objective(logits, ti.unsqueeze(0))

    grads = vmap(grad(example_objective), in_dims=(None, 0, 0))(wrt, x, targets)
    return torch.cat([grads[n].reshape(x.shape[0], -1) for n in names], dim=1)
