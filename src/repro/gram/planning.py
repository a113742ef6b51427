"""Planning the engine's work: which layers have a usable rule, which go to the fallback, and in which form
(factorised or materialised) each ruled layer is cheaper; the check of every rule against plain autograd.

Index convention (as in :mod:`repro.gram.engine`): ``n`` rows and ``m`` columns of the result, ``P`` numbers in one
layer, and the letters of :mod:`repro.gram.rules` (``g, t, d, p``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from repro.gram.capture import Captured
from repro.gram.rules import RULES, GramRule, OuterProductRule

FACTORISED, MATERIALISED, FALLBACK = "factorised", "materialised", "fallback"


@dataclass(frozen=True)
class Layer:
    """A module with a rule: its name, the rule, and its trainable direct parameters in the rule's order."""

    name: str
    module: nn.Module
    rule: GramRule
    wrt: tuple[str, ...]


def plan(model: nn.Module) -> tuple[dict[str, Layer], dict[str, list[str]]]:
    """Split the modules with trainable parameters into ruled layers and fallback groups.

    Returns ``(layers, fallback)``: ``layers`` by module name; ``fallback`` maps a module name to the names (as in
    ``model.named_parameters()``) of the parameters it owns. A parameter shared by several modules sends them all to
    the fallback and is counted once, under the module that ``named_parameters()`` names it after.
    """
    canonical = {id(p): name for name, p in model.named_parameters()}
    owners: dict[int, int] = {}
    for module in model.modules():
        for p in module.parameters(recurse=False):
            owners[id(p)] = owners.get(id(p), 0) + 1
    layers: dict[str, Layer] = {}
    fallback: dict[str, list[str]] = {}
    for name, module in model.named_modules():
        direct = [(pname, p) for pname, p in module.named_parameters(recurse=False) if p.requires_grad]
        if not direct:
            continue
        rule = RULES.get(type(module))
        trainable = {pname for pname, _ in direct}
        if rule is not None and trainable <= set(rule.params) and all(owners[id(p)] == 1 for _, p in direct):
            layers[name] = Layer(name, module, rule, tuple(p for p in rule.params if p in trainable))
            continue
        for _, p in direct:
            owner = canonical[id(p)].rpartition(".")[0]
            fallback.setdefault(owner, []).append(canonical[id(p)])
    return layers, fallback


def demote_to_fallback(layers: dict[str, Layer], fallback: dict[str, list[str]], names: set[str]) -> None:
    """Move the layers ``names`` from ``layers`` to ``fallback`` (in place), each with its trainable parameters' full
    names, so that the ``torch.func`` path computes their Grams."""
    for name in names:
        layer = layers.pop(name)
        fallback[name] = [f"{name}.{p}" if name else p for p in layer.wrt]


def choose_form(layer: Layer, captured: Captured, n: int, m: int) -> str:
    """:data:`FACTORISED` or :data:`MATERIALISED`, whichever needs fewer multiply-adds for an ``n × m`` Gram.

    For patches ``u (·, g, t, d)``, ``δ (·, g, t, p)`` and ``d' = d (+1 with a bias)``:
    factorised ``n·m·g·t²·(d' + p + 1)``; materialised ``(n + m)·g·t·d·p`` (the gradients) ``+ n·m·P`` (the GEMM).
    """
    if not isinstance(layer.rule, OuterProductRule):
        return MATERIALISED
    u, delta = layer.rule.patches(layer.module, *captured.rows(layer.name, slice(0, 1)))
    _, g, t, d = u.shape
    p = delta.shape[-1]
    weight, bias = "weight" in layer.wrt, "bias" in layer.wrt
    factorised = n * m * g * t * t * (d * weight + bias + p + 1)
    materialised = (n + m) * g * t * d * p * weight + n * m * g * p * (d * weight + bias)
    return FACTORISED if factorised < materialised else MATERIALISED


def _gather(captured: Captured, name: str, rows: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x, δ)`` of layer ``name`` for a list of rows."""
    pairs = [captured.rows(name, slice(i, i + 1)) for i in rows]
    return torch.cat([p[0] for p in pairs]), torch.cat([p[1] for p in pairs])


def layers_disagreeing_with_autograd(
    model: nn.Module, layers: dict[str, Layer], captured: Captured, x: torch.Tensor
) -> set[str]:
    """Names of the layers whose rule disagrees with plain autograd on the first and the last example of ``x``
    (``(n, *input_shape)``, the set that ``captured`` holds the layer inputs and output gradients of).

    One forward and backward of those two examples alone: the gradient of their logits weighted by the captured
    directions must equal the sum of the rule's gradients for rows 0 and n - 1 of the batched capture.
    """
    rows = sorted({0, x.shape[0] - 1})
    params = [getattr(layer.module, p) for layer in layers.values() for p in layer.wrt]
    with torch.enable_grad():
        weighted = (model(x[rows]) * captured.directions[rows]).sum()
        grads = torch.autograd.grad(weighted, params, allow_unused=True)
    refs = iter([torch.zeros_like(p) if g is None else g for p, g in zip(params, grads, strict=True)])
    pairs = {}
    for name, layer in layers.items():
        ref = torch.cat([next(refs).flatten() for _ in layer.wrt])
        parts = layer.rule.gradients(layer.module, *_gather(captured, name, rows), layer.wrt)
        pairs[name] = (torch.cat([part.sum(0) for part in parts]), ref)
    rtol = 1e-7 if x.dtype == torch.float64 else 1e-3
    scale = math.sqrt(sum(float(ref.square().sum()) for _, ref in pairs.values()))
    return {
        name
        for name, (ours, ref) in pairs.items()
        if float((ours - ref).norm()) > rtol * (float(ref.norm()) + 1e-2 * scale)
    }
