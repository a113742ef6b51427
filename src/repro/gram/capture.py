"""Record every ruled layer's input ``x`` and output gradient ``δ`` from batched forward and backward passes.

Per chunk of examples: one forward with forward hooks on the layers (they keep the input and the output tensor),
then one ``torch.autograd.grad`` of the summed cross-entropy w.r.t. those outputs. No parameter gradient is computed
and no ``.grad`` is touched. The hooks are removed in a ``finally``.

A layer whose structure the hooks cannot capture is reported as *unusable* (the engine hands it to the exact
fallback): called other than once per forward, example dimension not first, output not differentiable, or shapes
that change between chunks. An output later modified in place (``ReLU(inplace=True)``) would make the gradient w.r.t.
the stored tensor the one w.r.t. the modified value; such a chunk is run again with the hook handing the rest of the
model a copy of the layer's output.

Index convention: ``n`` examples.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["Captured", "capture"]

_Call = tuple[torch.Tensor | None, torch.Tensor, int]  # (layer input, layer output, its version after the call)


@dataclass
class Captured:
    """Inputs ``(n, …)`` and output gradients ``(n, …)`` of the usable layers, by layer name."""

    inputs: dict[str, torch.Tensor] = field(default_factory=dict)
    grad_outputs: dict[str, torch.Tensor] = field(default_factory=dict)
    unusable: set[str] = field(default_factory=set)


@contextmanager
def _recording(layers: dict[str, nn.Module], copy_output: set[str]) -> Iterator[dict[str, list[_Call]]]:
    calls: dict[str, list[_Call]] = {name: [] for name in layers}

    def hook_for(name: str):
        def hook(module: nn.Module, args: tuple, output: torch.Tensor) -> torch.Tensor | None:
            inp = args[0].detach() if len(args) == 1 and isinstance(args[0], torch.Tensor) else None
            calls[name].append((inp, output, output._version))
            return output.clone() if name in copy_output else None

        return hook

    handles = [module.register_forward_hook(hook_for(name)) for name, module in layers.items()]
    try:
        yield calls
    finally:
        for handle in handles:
            handle.remove()


def _forward(
    model: nn.Module, layers: dict[str, nn.Module], x: torch.Tensor, copy_output: set[str]
) -> tuple[torch.Tensor, dict[str, list[_Call]]]:
    """Logits and the hooks' record of one forward; repeated once with copies if a layer output was modified in
    place."""
    with _recording(layers, copy_output) as calls, torch.enable_grad():
        logits = model(x)
    modified = {name for name, c in calls.items() if len(c) == 1 and c[0][1]._version != c[0][2]}
    if modified - copy_output:
        copy_output |= modified
        return _forward(model, layers, x, copy_output)
    return logits, calls


def _batched(call: _Call, n: int) -> bool:
    """Whether a layer call saw ``n`` examples along dimension 0 and its output carries gradient."""
    inp, output, _ = call
    return inp is not None and inp.shape[:1] == (n,) and output.shape[:1] == (n,) and output.requires_grad


def capture(
    model: nn.Module, layers: dict[str, nn.Module], x: torch.Tensor, y: torch.Tensor, chunk_size: int
) -> Captured:
    """Inputs and output gradients of ``layers`` for all examples of ``x (n, …)``, ``y (n,)``, in chunks."""
    n = x.shape[0]
    out = Captured()
    copy_output: set[str] = set()
    for start in range(0, n, chunk_size):
        rows = slice(start, min(start + chunk_size, n))
        usable = {name: module for name, module in layers.items() if name not in out.unusable}
        logits, calls = _forward(model, usable, x[rows], copy_output)
        good = {}
        for name, c in calls.items():
            if len(c) == 1 and _batched(c[0], rows.stop - rows.start):
                good[name] = c[0]
            else:
                out.unusable.add(name)
        if not good:
            continue
        with torch.enable_grad():
            loss = F.cross_entropy(logits, y[rows], reduction="sum")
        grads = torch.autograd.grad(loss, [c[1] for c in good.values()], allow_unused=True)
        for (name, (inp, output, _)), grad in zip(good.items(), grads, strict=True):
            grad = torch.zeros_like(output) if grad is None else grad
            if start == 0:
                out.inputs[name] = inp.new_empty((n, *inp.shape[1:]))
                out.grad_outputs[name] = grad.new_empty((n, *grad.shape[1:]))
            if out.inputs[name].shape[1:] != inp.shape[1:] or out.grad_outputs[name].shape[1:] != grad.shape[1:]:
                out.unusable.add(name)
                continue
            out.inputs[name][rows] = inp
            out.grad_outputs[name][rows] = grad
    for name in out.unusable:
        out.inputs.pop(name, None)
        out.grad_outputs.pop(name, None)
    return out
