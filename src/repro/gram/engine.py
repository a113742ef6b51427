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

Index convention: ``n`` rows and ``m`` columns of the result (``m = n`` for the symmetric Gram of one set), ``P``
numbers in one layer, and the letters of :mod:`repro.gram.rules` (``g, t, d, p``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import nn

from repro.gram.capture import Captured, capture
from repro.gram.functorch_path import per_example_gradients
from repro.gram.kernels import empty_workspace, gram_cross, gram_upper, mirror_upper
from repro.gram.rules import RULES, GramRule, OuterProductRule, Patches, outer_product_gradients
from repro.losses import output_gradient

__all__ = ["FACTORISED", "MATERIALISED", "FALLBACK", "Layer", "GramResult", "plan", "choose_form", "compute_gram"]

FACTORISED, MATERIALISED, FALLBACK = "factorised", "materialised", "fallback"

_Set = tuple[torch.Tensor, torch.Tensor]  # (x, y) of one example set


@dataclass(frozen=True)
class Layer:
    """A module with a rule: its name, the rule, and its trainable direct parameters in the rule's order."""

    name: str
    module: nn.Module
    rule: GramRule
    wrt: tuple[str, ...]


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


def _demote(layers: dict[str, Layer], fallback: dict[str, list[str]], names: set[str]) -> None:
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


def _panels(stop: int, size: int, start: int = 0) -> Iterator[slice]:
    """Consecutive slices of at most ``size`` covering ``start … stop - 1``."""
    for first in range(start, stop, size):
        yield slice(first, min(first + size, stop))


def _augmented(u: torch.Tensor, wrt: tuple[str, ...]) -> torch.Tensor:
    """Patches ``(n, g, t, d')`` whose dot products give the weight and bias parts at once: ``[u, 1]``, ``u`` or
    ``1``."""
    ones = u.new_ones((*u.shape[:3], 1))
    if wrt == ("bias",):
        return ones
    return torch.cat([u, ones], dim=3) if "bias" in wrt else u


def _factorised_block(
    ua: torch.Tensor, da: torch.Tensor, ub: torch.Tensor, db: torch.Tensor, squares: list[torch.Tensor] | None
) -> torch.Tensor:
    """``Σ_{g,t,s} (ua_{ngt}·ub_{mgs})(da_{ngt}·db_{mgs})`` as ``(n, m)``; for a diagonal block (``squares``: two
    reusable ``(n, n)`` buffers, 0 below the diagonal) the upper triangle only."""
    n, g, t, _ = ua.shape
    m = ub.shape[0]
    diagonal = squares is not None
    if g == 1 and t == 1:
        a, b, da2, db2 = ua.reshape(n, -1), ub.reshape(m, -1), da.reshape(n, -1), db.reshape(m, -1)
        if squares is not None:
            return gram_upper(a, squares[0]).mul_(gram_upper(da2, squares[1]))
        return gram_cross(a, b).mul_(gram_cross(da2, db2))
    ku = torch.matmul(ua.transpose(0, 1).reshape(g, n * t, -1), ub.transpose(0, 1).reshape(g, m * t, -1).mT)
    kd = torch.matmul(da.transpose(0, 1).reshape(g, n * t, -1), db.transpose(0, 1).reshape(g, m * t, -1).mT)
    block = ku.mul_(kd).view(g, n, t, m, t).sum((0, 2, 4))  # (g, n t, m t) → (n, m)
    return torch.triu(block) if diagonal else block


class _Accumulator:
    """Adds ``(rows, cols)`` blocks of per-layer Grams into float64 ``(n, m)`` targets: one per layer, or one shared
    total."""

    def __init__(self, names: list[str], n: int, m: int, device: torch.device, per_layer: bool) -> None:
        self.per_layer = per_layer
        self.total = torch.zeros(n, m, dtype=torch.float64, device=device)
        if per_layer:
            self.targets = {name: torch.zeros_like(self.total) for name in names}
        else:
            self.targets = dict.fromkeys(names, self.total)

    def add(self, name: str, rows: slice, cols: slice, block: torch.Tensor) -> None:
        self.targets[name][rows, cols] += block

    def result(self, symmetric: bool) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``(total, {name: G_l})`` (the dictionary empty unless per layer), mirrored if ``symmetric``."""
        finish = mirror_upper if symmetric else (lambda g: g)
        if not self.per_layer:
            return finish(self.total), {}
        layers = {name: finish(g) for name, g in self.targets.items()}
        for g in layers.values():
            self.total += g
        return self.total, layers


class _Workspace:
    """One flat buffer, grown on demand and reused by every materialised layer: touching fresh memory costs about as
    much as writing it, so the per-example gradients of all layers share the same pages."""

    def __init__(self, dtype: torch.dtype, device: torch.device) -> None:
        self.dtype, self.device = dtype, device
        self.buffer = torch.empty(0, dtype=dtype, device=device)

    def views(self, rows: int, widths: list[list[int]], offset: int = 0) -> tuple[list[list[torch.Tensor]], int]:
        """Contiguous ``(rows, P_k)`` views, one per layer and parameter, from ``offset`` on; and the next offset."""
        stop = offset + rows * sum(sum(w) for w in widths)
        if self.buffer.numel() < stop:
            self.buffer = empty_workspace(stop, self.dtype, self.device)
        out = []
        for layer_widths in widths:
            parts = []
            for width in layer_widths:
                parts.append(self.buffer[offset : offset + rows * width].view(rows, width))
                offset += rows * width
            out.append(parts)
        return out, offset


# (which set, rows, out) -> writes the per-example gradients of those rows into out: per layer, one (r, P_k)
# tensor per parameter (or parameter group)
_Fill = Callable[[int, slice, list[list[torch.Tensor]]], None]

_PIECE_BYTES = 16 * 2**20  # temporaries (unfolded patches) of one piece of a panel stay under this


class _Engine:
    """One Gram computation: the example sets, the budget, the workspace and the accumulator."""

    def __init__(
        self,
        model: nn.Module,
        sets: list[_Set],
        directions: list[torch.Tensor],
        chunk_size: int,
        memory_budget: int,
        acc: _Accumulator,
    ) -> None:
        self.model, self.sets, self.chunk_size, self.budget, self.acc = model, sets, chunk_size, memory_budget, acc
        self.directions = directions
        self.symmetric = len(sets) == 1
        self.n = sets[0][0].shape[0]
        self.m = sets[-1][0].shape[0]
        self.workspace = _Workspace(sets[0][0].dtype, sets[0][0].device)
        self._square_buffers: dict[tuple[int, torch.dtype], list[torch.Tensor]] = {}

    def _squares(self, r: int, dtype: torch.dtype) -> list[torch.Tensor]:
        """Two ``(r, r)`` buffers for diagonal blocks, zero below the diagonal, reused across layers."""
        key = (r, dtype)
        if key not in self._square_buffers:
            self._square_buffers[key] = [torch.zeros(r, r, dtype=dtype, device=self.workspace.device) for _ in range(2)]
        return self._square_buffers[key]

    def _pairs(self, size: int) -> Iterator[tuple[slice, slice]]:
        """Pairs of panels of ``size`` examples covering the result (the upper triangle when symmetric)."""
        for rows in _panels(self.n, size):
            for cols in _panels(self.m, size):
                if not self.symmetric or cols.start >= rows.start:
                    yield rows, cols

    def factorised(self, layer: Layer, captured: list[Captured]) -> None:
        """Factorised Gram of an outer-product layer, in square panels whose temporaries fit in the budget."""
        assert isinstance(layer.rule, OuterProductRule)
        rule, name = layer.rule, layer.name

        def patches(which: int, rows: slice) -> tuple[torch.Tensor, torch.Tensor]:
            u, delta = rule.patches(layer.module, *captured[which].rows(name, rows))
            return _augmented(u, layer.wrt), delta

        u0, _ = patches(0, slice(0, 1))
        _, g, t, _ = u0.shape
        per_pair = 3 * g * t * t * u0.element_size()  # K_u, K_δ and their product for one (i, j)
        for rows, cols in self._pairs(max(1, math.isqrt(self.budget // per_pair))):
            ua, da = patches(0, rows)
            diagonal = self.symmetric and rows == cols
            ub, db = (ua, da) if diagonal else patches(len(captured) - 1, cols)
            squares = self._squares(rows.stop - rows.start, ua.dtype) if diagonal else None
            self.acc.add(name, rows, cols, _factorised_block(ua, da, ub, db, squares))

    def materialised(self, names: list[str], widths: list[list[int]], fill: _Fill) -> None:
        """GEMMs of per-example gradients ``(r, P_k)`` (``widths[layer][k] = P_k``) in panels: the whole set at
        once if it fits in the budget, else panels of ``budget / (2 · row bytes)`` examples (the column panels
        recomputed)."""
        row_bytes = sum(sum(w) for w in widths) * self.workspace.buffer.element_size()
        fits = (self.n if self.symmetric else self.n + self.m) * row_bytes <= self.budget
        size = max(self.n, self.m) if fits else max(1, self.budget // (2 * row_bytes))
        slot_a, offset = self.workspace.views(min(size, self.n), widths)
        slot_b, _ = (
            self.workspace.views(min(size, self.m), widths, offset) if (len(self.sets) > 1 or not fits) else ([], 0)
        )
        filled: slice | None = None
        for rows, cols in self._pairs(size):
            ga = [[v[: rows.stop - rows.start] for v in parts] for parts in slot_a]
            if filled != rows:
                fill(0, rows, ga)
                filled = rows
            diagonal = self.symmetric and rows == cols
            gb = ga
            if not diagonal:
                gb = [[v[: cols.stop - cols.start] for v in parts] for parts in slot_b]
                fill(len(self.sets) - 1, cols, gb)
            squares = self._squares(rows.stop - rows.start, ga[0][0].dtype) if diagonal else []
            for name, parts_a, parts_b in zip(names, ga, gb, strict=True):
                block = None
                for k, (a, b) in enumerate(zip(parts_a, parts_b, strict=True)):
                    product = gram_upper(a, squares[min(k, 1)]) if diagonal else gram_cross(a, b)
                    block = product if block is None else block.add_(product)
                self.acc.add(name, rows, cols, block)

    def ruled(self, layer: Layer, captured: list[Captured]) -> None:
        """Materialised Gram of a ruled layer from its rule's per-example gradients, piece by piece. An outer-product
        layer too large for the budget is done in blocks of output features (``δ[..., block]`` gives the weight
        and bias gradients of those features), so that every block uses all examples at once."""
        name, module, wrt, rule = layer.name, layer.module, layer.wrt, layer.rule
        x0, d0 = captured[0].rows(name, slice(0, 1))
        temporaries = x0.nbytes + d0.nbytes
        blocks: list[slice | None] = [None]
        if isinstance(rule, OuterProductRule):
            u0, delta0 = rule.patches(module, x0, d0)
            temporaries += u0.nbytes + delta0.nbytes
            _, g, _, d = u0.shape
            rows = self.n if self.symmetric else self.n + self.m
            feature_bytes = rows * g * (d * ("weight" in wrt) + ("bias" in wrt)) * u0.element_size()
            blocks = list(_panels(delta0.shape[-1], max(1, self.budget // feature_bytes)))
        piece = max(1, _PIECE_BYTES // temporaries)

        def gradients(x: torch.Tensor, delta: torch.Tensor, features: slice | None, out=None) -> list[torch.Tensor]:
            if features is None:
                return rule.gradients(module, x, delta, wrt, out)
            assert isinstance(rule, OuterProductRule)
            u, delta = rule.patches(module, x, delta)
            return outer_product_gradients(Patches(u, delta[..., features]), wrt, out)

        for features in blocks:

            def fill(which: int, rows: slice, out: list[list[torch.Tensor]], features=features) -> None:
                c = captured[which]
                for part, k, local in c.pieces(rows, piece):
                    at = slice(part.start - rows.start, part.stop - rows.start)
                    gradients(
                        c.inputs[name][k][local], c.grad_outputs[name][k][local], features, [o[at] for o in out[0]]
                    )

            widths = [t.shape[1] for t in gradients(x0, d0, features)]
            self.materialised([name], [widths], fill)

    def fallback(self, groups: dict[str, list[str]]) -> None:
        """Materialised Gram of the fallback groups from ``torch.func`` per-example gradients, all in one pass."""
        names = list(groups)
        wrt = [p for params in groups.values() for p in params]
        shapes = dict(self.model.named_parameters())
        widths = [[sum(shapes[p].numel() for p in groups[name])] for name in names]

        def fill(which: int, rows: slice, out: list[list[torch.Tensor]]) -> None:
            x, y = self.sets[which]
            for c in _panels(rows.stop, self.chunk_size, rows.start):
                grads = per_example_gradients(self.model, x[c], y[c], wrt, self.directions[which][c])
                at = slice(c.start - rows.start, c.stop - rows.start)
                for target, g in zip(out, grads.split([w[0] for w in widths], dim=1), strict=True):
                    target[0][at] = g

        self.materialised(names, widths, fill)


def _gather(captured: Captured, name: str, rows: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x, δ)`` of layer ``name`` for a list of rows."""
    pairs = [captured.rows(name, slice(i, i + 1)) for i in rows]
    return torch.cat([p[0] for p in pairs]), torch.cat([p[1] for p in pairs])


def _probe(model: nn.Module, layers: dict[str, Layer], captured: Captured, x: torch.Tensor) -> set[str]:
    """Layers whose rule disagrees with plain autograd on the first and the last example of ``x``.

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


def _output_gradients(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, chunk: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Unit logit gradients ``(n, K)`` and their log-norms ``(n,)`` from forwards of ``chunk`` examples."""
    parts = []
    with torch.no_grad():
        for rows in _panels(x.shape[0], chunk):
            parts.append(output_gradient(model(x[rows]), y[rows]))
    return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])


def compute_gram(
    model: nn.Module,
    sets: list[_Set],
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
        _demote(layers, fallback, set(layers))
    n, m = sets[0][0].shape[0], sets[-1][0].shape[0]
    captured: list[Captured] = []
    if layers:
        modules = {name: layer.module for name, layer in layers.items()}
        captured = [capture(model, modules, x, y, capture_chunk) for x, y in sets]
        _demote(layers, fallback, set().union(*(c.unusable for c in captured)))
    if layers:
        mismatched = _probe(model, layers, captured[0], sets[0][0])
        if mismatched:
            warnings.warn(
                f"per_example_gram: the layer rules disagree with autograd for {sorted(mismatched)} (parameters used "
                "outside their layer, or examples not independent in a batch?); using the general torch.func path",
                stacklevel=3,
            )
            _demote(layers, fallback, set(layers))
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
    acc = _Accumulator(order, n, m, sets[0][0].device, per_layer)
    engine = _Engine(model, sets, [d for d, _ in outputs], vmap_chunk, memory_budget, acc)
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
