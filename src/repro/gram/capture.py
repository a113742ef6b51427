"""Record every ruled layer's input ``x`` and output gradient ``δ`` from batched forward and backward passes.

Per chunk of examples: one forward with forward hooks on the layers (they keep the input and the output tensor),
then one ``torch.autograd.grad`` w.r.t. those outputs of ``Σᵢ dᵢ · zᵢ``, the logits ``zᵢ`` weighted by the unit
directions ``dᵢ`` of each example's logit gradient (:func:`repro.losses.output_gradient`, held constant). Since
backpropagation is linear in the logit gradient, the recorded ``δᵢ`` are those of the cross-entropy divided by the
norm ``sᵢ`` of its logit gradient; the norms are kept (as ``log sᵢ``) for the engine to multiply back in. No
parameter gradient is computed and no ``.grad`` is touched. The hooks are removed in a ``finally``. The tensors are
kept as the chunks produced them (no copy into one big buffer: fresh memory is slow to touch), and
:meth:`Captured.rows` hands out rows of them.

A layer whose structure the hooks cannot capture is reported as *unusable* (the engine hands it to the exact
fallback): called other than once per forward, example dimension not first, output not differentiable, input
modified in place after the call, or shapes that change between chunks. An output later modified in place
(``ReLU(inplace=True)``) would make the gradient w.r.t. the stored tensor the one w.r.t. the modified value; such a
chunk is run again with the hook handing the rest of the model a copy of the layer's output.

Index convention: ``n`` examples.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from repro.losses import output_gradient

__all__ = ["Captured", "capture"]


@dataclass
class _Call:
    """One call of a hooked layer: its input, its output, and their versions right after the call."""

    inp: torch.Tensor | None
    out: torch.Tensor
    inp_version: int
    out_version: int


@dataclass
class Captured:
    """Inputs and output gradients of the usable layers, by layer name, as one tensor ``(rows, …)`` per chunk;
    ``chunks`` holds the rows of each chunk. The output gradients are per unit logit gradient: the cross-entropy's
    are ``exp(log_norms[i])`` times larger; ``directions (n, K)`` are the unit logit gradients back-propagated."""

    directions: torch.Tensor
    log_norms: torch.Tensor
    chunks: list[slice]
    inputs: dict[str, list[torch.Tensor]]
    grad_outputs: dict[str, list[torch.Tensor]]
    unusable: set[str]

    def pieces(self, rows: slice, size: int) -> Iterator[tuple[slice, int, slice]]:
        """Cover ``rows`` by pieces of at most ``size`` rows inside one chunk: ``(rows, chunk index, chunk rows)``."""
        for k, chunk in enumerate(self.chunks):
            start, stop = max(rows.start, chunk.start), min(rows.stop, chunk.stop)
            for first in range(start, stop, size):
                last = min(first + size, stop)
                yield slice(first, last), k, slice(first - chunk.start, last - chunk.start)

    def rows(self, name: str, rows: slice) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x, δ)`` of layer ``name`` for ``rows``: views if they lie in one chunk, else concatenated."""
        parts = [
            (self.inputs[name][k][local], self.grad_outputs[name][k][local])
            for _, k, local in self.pieces(rows, rows.stop)
        ]
        if len(parts) == 1:
            return parts[0]
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])


@contextmanager
def _recording(layers: dict[str, nn.Module], copy_output: set[str]) -> Iterator[dict[str, list[_Call]]]:
    calls: dict[str, list[_Call]] = {name: [] for name in layers}

    def hook_for(name: str):
        def hook(module: nn.Module, args: tuple, output: torch.Tensor) -> torch.Tensor | None:
            inp = args[0] if len(args) == 1 and isinstance(args[0], torch.Tensor) else None
            calls[name].append(_Call(inp, output, inp._version if inp is not None else 0, output._version))
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
    modified = {name for name, c in calls.items() if len(c) == 1 and c[0].out._version != c[0].out_version}
    if modified - copy_output:
        copy_output |= modified
        return _forward(model, layers, x, copy_output)
    return logits, calls


def _usable(calls: list[_Call], n: int) -> bool:
    """Whether a layer was called once, on ``n`` examples along dimension 0, with an input left as it was and an
    output that carries gradient."""
    if len(calls) != 1 or calls[0].inp is None:
        return False
    call = calls[0]
    return (
        call.inp.shape[:1] == (n,)
        and call.out.shape[:1] == (n,)
        and call.out.requires_grad
        and call.inp._version == call.inp_version
    )


def capture(
    model: nn.Module, layers: dict[str, nn.Module], x: torch.Tensor, y: torch.Tensor, chunk_size: int
) -> Captured:
    """Inputs and (per unit logit gradient) output gradients of ``layers`` for all examples of ``x (n, …)``,
    ``y (n,)``, in chunks."""
    directions, log_norms, chunks = [], [], []
    inputs: dict[str, list[torch.Tensor]] = {}
    grad_outputs: dict[str, list[torch.Tensor]] = {}
    unusable: set[str] = set()
    copy_output: set[str] = set()
    for start in range(0, x.shape[0], chunk_size):
        rows = slice(start, min(start + chunk_size, x.shape[0]))
        chunks.append(rows)
        usable = {name: module for name, module in layers.items() if name not in unusable}
        logits, calls = _forward(model, usable, x[rows], copy_output)
        direction, log_norm = output_gradient(logits, y[rows])
        directions.append(direction)
        log_norms.append(log_norm)
        good = {name: c[0] for name, c in calls.items() if _usable(c, rows.stop - rows.start)}
        unusable |= set(calls) - set(good)
        if not good:
            continue
        with torch.enable_grad():
            weighted = (logits * direction).sum()
        grads = torch.autograd.grad(weighted, [call.out for call in good.values()], allow_unused=True)
        for (name, call), grad in zip(good.items(), grads, strict=True):
            grad = torch.zeros_like(call.out) if grad is None else grad
            if start > 0 and (inputs[name][0].shape[1:], grad_outputs[name][0].shape[1:]) != (
                call.inp.shape[1:],
                grad.shape[1:],
            ):
                unusable.add(name)
                continue
            inputs.setdefault(name, []).append(call.inp.detach())
            grad_outputs.setdefault(name, []).append(grad)
    for name in unusable:
        inputs.pop(name, None)
        grad_outputs.pop(name, None)
    return Captured(torch.cat(directions), torch.cat(log_norms), chunks, inputs, grad_outputs, unusable)
