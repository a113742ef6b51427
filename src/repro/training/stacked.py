"""E networks of one architecture as one: weights stacked on a leading member axis, one forward pass for all.

Used by :func:`repro.training.train_many` to train several networks in lockstep.

Index convention (here and in the shape comments): E members, B examples per member, C channels, H×W an image,
F features. Activations travel *member-first*, ``(E, B, ...)``, except around convolutions, where they are
*grouped*, ``(B, E·C, H, W)``: the layout of one convolution with E groups, the members' channels side by side.

Each supported layer type has one rule (:data:`RULES`, keyed by module class):

- ``nn.Linear``: member-first ``(E, B, F_in) → (E, B, F_out)``, one batched product ``b + h Wᵀ``, its weight
  stacked transposed, ``(E, F_in, F_out)``, so that its gradient comes out contiguous (no copy before Adam);
- ``nn.Conv2d``: grouped → grouped, one convolution with ``E × groups`` groups, the E weights concatenated;
- ``nn.MaxPool2d``: grouped → grouped (pooling acts per channel);
- ``nn.ReLU``: elementwise, either layout;
- ``nn.Flatten`` (``start_dim=1``, ``end_dim=-1``): → member-first ``(E, B, F)``, features in the order
  ``Flatten`` gives one example's ``(C, H, W)``.

A network can be stacked when its forward pass applies its leaf modules in the order they were registered, every
parameter belongs to a leaf module, and it has no buffers: true of ``nn.Sequential`` stacks of these layers and of
:class:`repro.models.FCNet` and :class:`repro.models.ConvNet`. :func:`check_stacked` compares the stacked pass
with each member's own on a probe batch, so that a network whose forward does something else is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["RULES", "StackedForward", "check_stacked"]

Activation = tuple[torch.Tensor, bool]  # (tensor, grouped?)
Rule = Callable[[nn.Module, list[torch.Tensor], torch.Tensor, bool, int], Activation]


def _member_first(h: torch.Tensor, grouped: bool, members: int) -> torch.Tensor:
    """``(B, E·C, H, W)`` → ``(E, B, C, H, W)`` (a view); member-first input unchanged."""
    if not grouped:
        return h
    return h.view(h.shape[0], members, -1, *h.shape[2:]).transpose(0, 1)


def _grouped(h: torch.Tensor, grouped: bool) -> torch.Tensor:
    """``(E, B, C, H, W)`` → ``(B, E·C, H, W)`` (a copy); grouped input unchanged."""
    if grouped:
        return h
    return h.transpose(0, 1).reshape(h.shape[1], -1, *h.shape[3:])


def _linear(module: nn.Module, params: list[torch.Tensor], h: torch.Tensor, grouped: bool, members: int) -> Activation:
    h = _member_first(h, grouped, members)  # (E, B, F_in)
    if h.dim() != 3:
        raise ValueError(f"a stacked nn.Linear takes (E, B, features), got {tuple(h.shape)}; flatten first")
    weight_t = params[0]  # (E, F_in, F_out)
    if module.bias is None:
        return torch.bmm(h, weight_t), False
    return torch.baddbmm(params[1].unsqueeze(1), h, weight_t), False  # (E, B, F_out)


def _conv2d(module: nn.Module, params: list[torch.Tensor], h: torch.Tensor, grouped: bool, members: int) -> Activation:
    assert isinstance(module, nn.Conv2d)
    if module.padding_mode != "zeros":
        raise ValueError(f"stacked nn.Conv2d supports padding_mode='zeros' only, got {module.padding_mode!r}")
    weight = params[0].flatten(0, 1)  # (E·C_out, C_in/groups, kh, kw)
    bias = params[1].flatten() if module.bias is not None else None  # (E·C_out,)
    out = F.conv2d(
        _grouped(h, grouped),  # (B, E·C_in, H, W)
        weight,
        bias,
        module.stride,
        module.padding,
        module.dilation,
        members * module.groups,
    )
    return out, True  # (B, E·C_out, H', W')


def _max_pool2d(
    module: nn.Module, params: list[torch.Tensor], h: torch.Tensor, grouped: bool, members: int
) -> Activation:
    assert isinstance(module, nn.MaxPool2d)
    if module.return_indices:
        raise ValueError("stacked nn.MaxPool2d does not return indices")
    out = F.max_pool2d(
        _grouped(h, grouped), module.kernel_size, module.stride, module.padding, module.dilation, module.ceil_mode
    )
    return out, True


def _relu(module: nn.Module, params: list[torch.Tensor], h: torch.Tensor, grouped: bool, members: int) -> Activation:
    return F.relu(h), grouped


def _flatten(module: nn.Module, params: list[torch.Tensor], h: torch.Tensor, grouped: bool, members: int) -> Activation:
    assert isinstance(module, nn.Flatten)
    if module.start_dim != 1 or module.end_dim != -1:
        raise ValueError(f"stacked nn.Flatten supports start_dim=1, end_dim=-1 only, got {module}")
    if grouped:
        return h.reshape(h.shape[0], members, -1).transpose(0, 1), False  # (E, B, C·H·W)
    return h.flatten(2), False


RULES: dict[type[nn.Module], Rule] = {
    nn.Linear: _linear,
    nn.Conv2d: _conv2d,
    nn.MaxPool2d: _max_pool2d,
    nn.ReLU: _relu,
    nn.Flatten: _flatten,
}


class StackedForward:
    """The forward pass of E networks shaped like ``template``, from their stacked parameters.

    ``forward(params, x)``: ``params`` as :meth:`stack` gives them (one ``(E, ...)`` tensor per parameter of
    ``template``, in its order), ``x`` of shape ``(E, B, ...)`` (member ``e`` sees ``x[e]``); returns ``(E, B, K)``,
    ``out[e]`` equal to member ``e``'s own forward pass of ``x[e]`` up to rounding.
    """

    def __init__(self, template: nn.Module) -> None:
        if any(True for _ in template.buffers()):
            raise ValueError("networks with buffers (e.g. batch normalisation) cannot be stacked")
        self.layers: list[tuple[nn.Module, Rule, int]] = []  # (module, rule, number of its parameters)
        self.transposed: list[bool] = []  # per parameter: stacked as (E, *reversed shape)? (nn.Linear weights)
        owned = 0
        for module in template.modules():
            if any(True for _ in module.children()):
                if any(True for _ in module.parameters(recurse=False)):
                    raise ValueError(f"{type(module).__name__} holds parameters outside its leaf modules")
                continue
            rule = RULES.get(type(module))
            if rule is None:
                raise ValueError(
                    f"no stacking rule for {type(module).__name__}; supported: {', '.join(t.__name__ for t in RULES)}"
                )
            names = [name for name, _ in module.named_parameters(recurse=False)]
            self.transposed += [isinstance(module, nn.Linear) and name == "weight" for name in names]
            count = len(names)
            self.layers.append((module, rule, count))
            owned += count
        assert owned == sum(1 for _ in template.parameters())

    def __call__(self, params: Sequence[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        members = x.shape[0]
        h, grouped, i = x, False, 0
        for module, rule, count in self.layers:
            h, grouped = rule(module, list(params[i : i + count]), h, grouped, members)
            i += count
        return _member_first(h, grouped, members)

    def stack(self, models: Sequence[nn.Module]) -> list[torch.Tensor]:
        """Each parameter of the members stacked, ``(E, *shape)`` (``(E, F_in, F_out)`` for a linear weight), in
        ``parameters()`` order (new tensors)."""
        shapes = [[tuple(p.shape) for p in m.parameters()] for m in models]
        if any(s != shapes[0] for s in shapes):
            raise ValueError("the networks must have the same parameter shapes (one architecture)")
        columns = zip(*(m.parameters() for m in models), strict=True)
        return [
            torch.stack([p.detach().t() if t else p.detach() for p in ps]).contiguous()
            for ps, t in zip(columns, self.transposed, strict=True)
        ]

    @torch.no_grad()
    def unstack(self, member_params: Sequence[torch.Tensor], model: nn.Module) -> nn.Module:
        """Copy one member's slice of the stacked parameters (``params[i][e]`` for each i) into ``model``."""
        for dst, src, t in zip(model.parameters(), member_params, self.transposed, strict=True):
            dst.copy_(src.t() if t else src)
        return model


@torch.no_grad()
def check_stacked(
    forward: StackedForward, params: Sequence[torch.Tensor], models: Sequence[nn.Module], probe: torch.Tensor
) -> None:
    """ValueError unless ``forward(params, probe)[e]`` equals ``models[e](probe[e])`` up to rounding.

    ``probe`` has shape ``(E, B, ...)``; an output that is not finite must be so in both. "Up to rounding" is
    relative to the size of the member's outputs (1% of its largest finite output, and 1% of each value): the check
    tells a network that is the chain of its leaf modules from one that is not (whose outputs differ at their own
    scale), also where the two passes round differently, as with TF32 convolutions on a GPU.
    """
    stacked = forward(params, probe)
    for e, model in enumerate(models):
        own = model(probe[e])
        finite = torch.isfinite(own)
        scale = float(own[finite].abs().max()) if finite.any() else 0.0
        if (
            own.shape != stacked[e].shape
            or not torch.equal(finite, torch.isfinite(stacked[e]))
            or not torch.allclose(stacked[e][finite], own[finite], rtol=1e-2, atol=1e-2 * scale + 1e-6)
        ):
            raise ValueError(
                f"member {e}: the stacked forward pass differs from the network's own; train_many needs a network "
                "that applies its leaf modules in registration order"
            )
