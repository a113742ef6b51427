"""One rule per layer type: a layer's per-example parameter gradients from its input and its output gradient.

Index convention (the same letters in the einsum strings): ``n`` examples, ``g`` groups, ``t`` positions (output
pixels of a convolution, tokens of a Linear on ``(n, t, d)``), ``d`` input features of one group at one position (a
patch), ``p`` output features of one group. ``P`` is the number of trainable numbers of the layer.

Inputs ``x`` are what the layer was called with and ``δ`` (``grad_out``) is the gradient of the *summed* per-example
losses with respect to the layer's output; for a model that treats examples independently row ``i`` of ``δ`` is the
gradient of example ``i``'s own loss, so every rule is exact.

- :class:`OuterProductRule` (Linear, Conv1d, Conv2d): per group the weight gradient is ``Σ_t δ_t u_tᵀ`` and the bias
  gradient ``Σ_t δ_t``. The rule exposes the patches ``u (n, g, t, d)`` and ``δ (n, g, t, p)``; the engine then picks
  the factorised Gram ``Σ_{g,t,s} (u_t·u_s + 1)(δ_t·δ_s)`` or the materialised gradients, whichever is cheaper.
- :class:`AffineNormRule` (LayerNorm, GroupNorm, BatchNorm in eval mode): ``∂/∂γ = Σ δ ⊙ x̂``, ``∂/∂β = Σ δ`` over the
  positions that share a parameter; these gradients are small and always materialised.

:data:`RULES` maps a module class (exactly, not its subclasses, whose ``forward`` may differ) to its rule; a module
with trainable parameters and no rule is handled by the exact ``torch.func`` fallback. :func:`register_rule` adds one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "Patches",
    "GramRule",
    "OuterProductRule",
    "outer_product_gradients",
    "LinearRule",
    "ConvRule",
    "AffineNormRule",
    "LayerNormRule",
    "ChannelNormRule",
    "RULES",
    "register_rule",
]


class Patches(NamedTuple):
    """Outer-product factors of a layer: inputs ``u (n, g, t, d)`` and output gradients ``delta (n, g, t, p)``."""

    u: torch.Tensor
    delta: torch.Tensor


class GramRule(ABC):
    """How one layer type's per-example gradients follow from ``(x, δ)``.

    ``params`` names the direct parameters the rule knows, in the order in which :meth:`gradients` lays them out.
    """

    params: tuple[str, ...] = ("weight", "bias")

    @abstractmethod
    def gradients(
        self,
        module: nn.Module,
        x: torch.Tensor,
        grad_out: torch.Tensor,
        wrt: tuple[str, ...],
        out: list[torch.Tensor] | None = None,
    ) -> list[torch.Tensor]:
        """Per-example gradients w.r.t. each parameter of ``wrt`` (a subsequence of ``params``): one ``(n, P_k)``
        tensor per parameter, its entries in the parameter's own layout; written into ``out`` (contiguous
        ``(n, P_k)`` tensors, one per parameter) if given, and returned."""


class OuterProductRule(GramRule):
    """A layer whose weight gradient is a sum of outer products ``δ_t u_tᵀ`` per group, plus a bias ``Σ_t δ_t``."""

    @abstractmethod
    def patches(self, module: nn.Module, x: torch.Tensor, grad_out: torch.Tensor) -> Patches:
        """The layer's patches ``u (n, g, t, d)`` and output gradients ``δ (n, g, t, p)``."""

    def gradients(
        self,
        module: nn.Module,
        x: torch.Tensor,
        grad_out: torch.Tensor,
        wrt: tuple[str, ...],
        out: list[torch.Tensor] | None = None,
    ) -> list[torch.Tensor]:
        return outer_product_gradients(self.patches(module, x, grad_out), wrt, out)


def outer_product_gradients(
    patches: Patches, wrt: tuple[str, ...], out: list[torch.Tensor] | None = None
) -> list[torch.Tensor]:
    """Per-example ``weight`` gradients ``Σ_t δ_t u_tᵀ`` ``(n, g·p·d)`` and ``bias`` gradients ``Σ_t δ_t``
    ``(n, g·p)``, for the parameters in ``wrt``; written into ``out`` if given."""
    u, delta = patches
    n, g, t, d = u.shape
    p = delta.shape[-1]
    out = out if out is not None else [u.new_empty((n, g * p * (d if k == "weight" else 1))) for k in wrt]
    for name, target in zip(wrt, out, strict=True):
        if name == "weight":  # "ngtp,ngtd->ngpd" as a batched GEMM on the strided views
            torch.matmul(delta.transpose(2, 3), u, out=target.view(n, g, p, d))
        else:
            torch.sum(delta, 2, out=target.view(n, g, p))
    return out


class LinearRule(OuterProductRule):
    """``nn.Linear`` on ``(n, d)`` (``t = 1``) or ``(n, …, d)`` (``t`` = the product of the middle dimensions)."""

    def patches(self, module: nn.Module, x: torch.Tensor, grad_out: torch.Tensor) -> Patches:
        n = x.shape[0]
        return Patches(x.reshape(n, 1, -1, x.shape[-1]), grad_out.reshape(n, 1, -1, grad_out.shape[-1]))


class ConvRule(OuterProductRule):
    """``nn.Conv1d`` and ``nn.Conv2d`` with any stride, padding (number, ``"same"``, ``"valid"``, any padding
    mode), dilation and groups; the patches come from ``F.unfold`` (a Conv1d is a Conv2d of height 1)."""

    def patches(self, module: nn.Module, x: torch.Tensor, grad_out: torch.Tensor) -> Patches:
        assert isinstance(module, (nn.Conv1d, nn.Conv2d))
        if isinstance(module, nn.Conv1d):
            x, grad_out = x.unsqueeze(2), grad_out.unsqueeze(2)
            kernel, stride, dilation = (1, *module.kernel_size), (1, *module.stride), (1, *module.dilation)
        else:
            kernel, stride, dilation = module.kernel_size, module.stride, module.dilation
        pads = _pads(module)  # (left, right) per spatial dimension, last dimension first as for F.pad
        if len(pads) == 2:
            pads = (*pads, 0, 0)
        if module.padding_mode == "zeros" and pads[0] == pads[1] and pads[2] == pads[3]:
            padding = (pads[2], pads[0])
        else:
            mode = "constant" if module.padding_mode == "zeros" else module.padding_mode
            x, padding = F.pad(x, pads, mode=mode), (0, 0)
        n, g = x.shape[0], module.groups
        cols = F.unfold(x, kernel, dilation=dilation, padding=padding, stride=stride)  # (n, g·d, t)
        u = cols.view(n, g, -1, cols.shape[-1]).transpose(2, 3)  # (n, g, t, d)
        delta = grad_out.reshape(n, g, -1, cols.shape[-1]).transpose(2, 3)  # (n, g, t, p)
        return Patches(u, delta)


def _pads(module: nn.Conv1d | nn.Conv2d) -> tuple[int, ...]:
    """Explicit ``(left, right)`` padding per spatial dimension, last dimension first (the order of ``F.pad``)."""
    pads: list[int] = []
    for i in reversed(range(len(module.kernel_size))):
        if module.padding == "valid":
            left = right = 0
        elif module.padding == "same":
            total = module.dilation[i] * (module.kernel_size[i] - 1)
            left, right = total // 2, total - total // 2
        else:
            left = right = module.padding[i]
        pads += [left, right]
    return tuple(pads)


class AffineNormRule(GramRule):
    """A normalisation layer ``y = x̂ ⊙ γ + β``: per-example ``∂/∂γ = Σ δ ⊙ x̂`` and ``∂/∂β = Σ δ`` over the
    dimensions in which the parameters are broadcast."""

    @abstractmethod
    def normalised(self, module: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """``x̂``, the layer's output before the affine map, shaped like ``x``."""

    @abstractmethod
    def shared_dims(self, module: nn.Module, x: torch.Tensor) -> tuple[int, ...]:
        """The dimensions of ``x`` (other than 0) along which one parameter entry is shared."""

    def gradients(
        self,
        module: nn.Module,
        x: torch.Tensor,
        grad_out: torch.Tensor,
        wrt: tuple[str, ...],
        out: list[torch.Tensor] | None = None,
    ) -> list[torch.Tensor]:
        dims = self.shared_dims(module, x)
        parts = []
        if "weight" in wrt:
            parts.append(_sum(grad_out * self.normalised(module, x), dims).flatten(1))
        if "bias" in wrt:
            parts.append(_sum(grad_out, dims).flatten(1))
        if out is None:
            return parts
        for part, target in zip(parts, out, strict=True):
            target.copy_(part)
        return out


def _sum(t: torch.Tensor, dims: tuple[int, ...]) -> torch.Tensor:
    """``t`` summed over ``dims``; no dimension means no sum (``Tensor.sum(())`` would sum them all)."""
    return t.sum(dims) if dims else t


class LayerNormRule(AffineNormRule):
    """``nn.LayerNorm``: parameters over the trailing ``normalized_shape``, shared across the other dimensions."""

    def normalised(self, module: nn.Module, x: torch.Tensor) -> torch.Tensor:
        assert isinstance(module, nn.LayerNorm)
        return F.layer_norm(x, module.normalized_shape, eps=module.eps)

    def shared_dims(self, module: nn.Module, x: torch.Tensor) -> tuple[int, ...]:
        assert isinstance(module, nn.LayerNorm)
        return tuple(range(1, x.ndim - len(module.normalized_shape)))


class ChannelNormRule(AffineNormRule):
    """``nn.GroupNorm`` and ``nn.BatchNorm1d/2d/3d`` in eval mode with running statistics: one parameter per
    channel (dimension 1), shared across positions."""

    def normalised(self, module: nn.Module, x: torch.Tensor) -> torch.Tensor:
        if isinstance(module, nn.GroupNorm):
            return F.group_norm(x, module.num_groups, eps=module.eps)
        assert isinstance(module, nn.modules.batchnorm._BatchNorm)
        return F.batch_norm(x, module.running_mean, module.running_var, training=False, eps=module.eps)

    def shared_dims(self, module: nn.Module, x: torch.Tensor) -> tuple[int, ...]:
        return tuple(range(2, x.ndim))


RULES: dict[type[nn.Module], GramRule] = {
    nn.Linear: LinearRule(),
    nn.Conv1d: ConvRule(),
    nn.Conv2d: ConvRule(),
    nn.LayerNorm: LayerNormRule(),
    nn.GroupNorm: ChannelNormRule(),
    nn.BatchNorm1d: ChannelNormRule(),
    nn.BatchNorm2d: ChannelNormRule(),
    nn.BatchNorm3d: ChannelNormRule(),
}


def register_rule(module_type: type[nn.Module], rule: GramRule) -> None:
    """Use ``rule`` for modules of exactly ``module_type`` (the engine checks every rule on two examples)."""
    RULES[module_type] = rule
