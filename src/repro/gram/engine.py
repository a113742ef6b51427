"""The exact per-example-gradient Gram engine: hooks, one rule per layer, symmetric GEMMs, float64 accumulation.

The Gram of all parameters is the sum of per-layer Grams, ``G = Σ_l G_l`` with ``G_l[i, j] = g_{i,l} · g_{j,l}``, so
every layer is computed on its own, in whichever form is cheaper (:func:`choose_form`):

- **factorised** (outer-product layers): ``G_l = Σ_{g,t,s} (u_{it}·u_{js} + 1)(δ_{it}·δ_{js})`` from the patches of
  :mod:`repro.gram.rules`; for a Linear on ``(n, d)`` this is ``(A Aᵀ + 1) ⊙ (Δ Δᵀ)``, ``n m (d + p)`` multiply-adds
  instead of ``n m d p``;
- **materialised**: the rule's per-example gradients ``(n, P)`` of a panel of examples, then one GEMM per pair of
  panels and parameter (``?syrk`` on the diagonal, so each symmetric block is computed once);
- **fallback**: layers without a rule, layers the hooks cannot capture (called twice, sharing a parameter with another
  layer, …) get materialised per-example gradients of their own parameters from ``torch.func`` (the model's whole
  per-example loss, differentiated w.r.t. those parameters only), in the same panels.

Every per-example gradient is taken per unit logit gradient, ``gᵢ / sᵢ`` with ``sᵢ = |∇_z Lᵢ|`` (see
:func:`repro.losses.output_gradient`): the engine computes the *unit Gram* ``Ĝ[i, j] = gᵢ·gⱼ / (sᵢ sⱼ)``, whose
entries are O(1) at any confidence, and returns ``log sᵢ`` beside it; ``G = sᵢ Ĝ[i, j] sⱼ``.

The layer inputs and output gradients come from :func:`repro.gram.capture.capture` (one batched forward and one
backward per chunk). Before using them the engine checks every rule on the first and the last
example against plain autograd; if any disagrees (a parameter also used outside its layer, examples that are not
independent in the batch, …) the whole model goes to the general path, with a warning, rather than be wrong.

The pieces: :mod:`repro.gram.planning` decides which layers have a usable rule, checks the rules and picks each
layer's form; :mod:`repro.gram.accumulate` computes and adds up the blocks; :func:`compute_gram` here runs them in
order. The names tests and :mod:`repro.gram` use (``plan``, ``choose_form``, the form constants) are re-exported.

Index convention: ``n`` rows and ``m`` columns of the result (``m = n`` for the symmetric Gram of one set), ``P``
numbers in one layer, and the letters of :mod:`repro.gram.rules` (``g, t, d, p``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
from torch import nn

from repro.gram.accumulate import ExampleSet, GramAccumulator, GramComputation, panel_slices
from repro.gram.capture import Captured, capture
from repro.gram.planning import (
    FACTORISED,
    FALLBACK,
    MATERIALISED,
    Layer,
    choose_form,
    demote_to_fallback,
    layers_disagreeing_with_autograd,
    plan,
)
from repro.gram.rules import OuterProductRule
from repro.losses import output_gradient

__all__ = ["FACTORISED", "MATERIALISED", "FALLBACK", "Layer", "GramResult", "plan", "choose_form", "compute_gram"]


@dataclass
class GramResult:
    """The unit Gram ``total (n, m)`` float64 and, if asked for, ``layers`` ``{module name: Ĝ_l}`` with
    ``Σ_l Ĝ_l = total``; ``log_norms`` ``(n,)`` and ``(m,)`` float64, the logs of the logit-gradient norms that
    scale rows and columns back to the cross-entropy's Gram; ``forms`` says how each layer was computed
    (factorised, materialised, fallback)."""

    total: torch.Tensor
    layers: dict[str, torch.Tensor]
    log_norms: tuple[torch.Tensor, torch.Tensor]
    forms: dict[str, str]


def _output_gradients(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, chunk: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Unit logit gradients ``(n, K)`` and their log-norms ``(n,)`` from forwards of ``chunk`` examples."""
    parts = []
    with torch.no_grad():
        for rows in panel_slices(x.shape[0], chunk):
            parts.append(output_gradient(model(x[rows]), y[rows]))
    return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])


def compute_gram(
    model: nn.Module,
    sets: list[ExampleSet],
    *,
    capture_chunk: int,
    vmap_chunk: int,
    memory_budget: int,
    per_layer: bool,
    use_rules: bool = True,
    allow_fallback: bool = True,
    form: str | None = None,
) -> GramResult:
    """The unit Gram of ``sets[0]`` (or of ``sets[0]`` against ``sets[1]``) by the engine, capturing ``capture_chunk``
    and differentiating ``vmap_chunk`` examples at a time; ``use_rules=False`` sends every layer to the
    ``torch.func`` fallback (the general path), ``allow_fallback=False`` raises ``ValueError`` instead of using it;
    ``form`` (:data:`FACTORISED` or :data:`MATERIALISED`) puts every outer-product layer in that form instead of the
    cheaper one (for tests)."""
    layers, fallback = plan(model)
    if not use_rules:
        demote_to_fallback(layers, fallback, set(layers))
    n, m = sets[0][0].shape[0], sets[-1][0].shape[0]
    captured: list[Captured] = []
    if layers:
        modules = {name: layer.module for name, layer in layers.items()}
        captured = [capture(model, modules, x, y, capture_chunk) for x, y in sets]
        demote_to_fallback(layers, fallback, set().union(*(c.unusable for c in captured)))
    if layers:
        mismatched = layers_disagreeing_with_autograd(model, layers, captured[0], sets[0][0])
        if mismatched:
            warnings.warn(
                f"per_example_gram: the layer rules disagree with autograd for {sorted(mismatched)} (parameters used "
                "outside their layer, or examples not independent in a batch?); using the general torch.func path",
                stacklevel=3,
            )
            demote_to_fallback(layers, fallback, set(layers))
    if captured:
        outputs = [(c.directions, c.log_norms) for c in captured]
    else:
        outputs = [_output_gradients(model, x, y, capture_chunk) for x, y in sets]
    if fallback and not allow_fallback:
        raise ValueError(f"method='fast': no usable rule for {sorted(fallback)}; method='auto' uses the exact fallback")
    forms = {
        name: form if form and isinstance(layer.rule, OuterProductRule) else choose_form(layer, captured[0], n, m)
        for name, layer in layers.items()
    }
    forms.update(dict.fromkeys(fallback, FALLBACK))
    order = [name for name, _ in model.named_modules() if name in forms]
    acc = GramAccumulator(order, n, m, sets[0][0].device, per_layer)
    engine = GramComputation(model, sets, [d for d, _ in outputs], vmap_chunk, memory_budget, acc)
    with torch.no_grad():
        for name, layer in layers.items():
            if forms[name] == FACTORISED:
                engine.factorised(layer, captured)
            else:
                engine.ruled(layer, captured)
    if fallback:
        engine.fallback(fallback)
    total, layer_grams = acc.result(engine.symmetric)
    return GramResult(
        total=total,
        layers=layer_grams,
        log_norms=(outputs[0][1], outputs[-1][1]),
        forms={name: forms[name] for name in order},
    )
