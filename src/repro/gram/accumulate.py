"""Accumulating the Gram: panels of examples, the factorised and materialised block products, the float64
accumulator and the reusable workspace, driven per layer by :class:`GramComputation`.

Index convention (as in :mod:`repro.gram.engine`): ``n`` rows and ``m`` columns of the result, ``P`` numbers in one
layer, and the letters of :mod:`repro.gram.rules` (``g, t, d, p``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import torch
from torch import nn

from repro.gram.capture import Captured
from repro.gram.functorch_path import per_example_gradients
from repro.gram.kernels import empty_workspace, gram_cross, gram_upper, mirror_upper
from repro.gram.planning import Layer
from repro.gram.rules import OuterProductRule, Patches, outer_product_gradients

#: One set of examples, ``(x, y)``: inputs ``(n, *input_shape)`` and integer labels ``(n,)``.
ExampleSet = tuple[torch.Tensor, torch.Tensor]


def panel_slices(stop: int, size: int, start: int = 0) -> Iterator[slice]:
    """Consecutive slices of at most ``size`` indices (the last one shorter) covering ``start … stop - 1``: the
    panels of examples (rows or columns of the result, or output features) the engine works on, one at a time."""
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


class GramAccumulator:
    """Adds ``(rows, cols)`` blocks of per-layer Grams into float64 ``(n, m)`` targets: one per layer (``per_layer``),
    or one shared total."""

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


class GramComputation:
    """One Gram computation: the example sets, the unit logit directions, the budget (bytes), the workspace and the
    accumulator; :meth:`factorised`, :meth:`ruled` and :meth:`fallback` add one layer's (or group's) Gram to it."""

    def __init__(
        self,
        model: nn.Module,
        sets: list[ExampleSet],
        directions: list[torch.Tensor],
        chunk_size: int,
        memory_budget: int,
        acc: GramAccumulator,
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
        for rows in panel_slices(self.n, size):
            for cols in panel_slices(self.m, size):
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
            blocks = list(panel_slices(delta0.shape[-1], max(1, self.budget // feature_bytes)))
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
            for c in panel_slices(rows.stop, self.chunk_size, rows.start):
                grads = per_example_gradients(self.model, x[c], y[c], wrt, self.directions[which][c])
                at = slice(c.start - rows.start, c.stop - rows.start)
                for target, g in zip(out, grads.split([w[0] for w in widths], dim=1), strict=True):
                    target[0][at] = g

        self.materialised(names, widths, fill)
