"""Exact Gram matrices of per-example loss gradients, ``G[i, j] = gᵢ · gⱼ`` with ``gᵢ = ∇_W L(f_W(xᵢ), yᵢ)``.

The loss is each example's own cross-entropy (``reduction="sum"`` over a batch, never the batch mean), and ``W`` is
every parameter with ``requires_grad``. The public entry point is :func:`per_example_gram`; it is re-exported by
:mod:`repro.stiffness`. :func:`unit_gram` gives the same matrix as ``G[i, j] = sᵢ Ĝ[i, j] sⱼ`` with ``sᵢ`` the norm of
example ``i``'s logit gradient: far into training ``G`` underflows (losses of 1e-30 make gradient products of
1e-60, below float32's range, and losses below ≈ 1e-160 do so in float64) while ``Ĝ`` keeps every sign and cosine;
stiffness is computed from ``Ĝ``. The engine is in :mod:`repro.gram.engine`, the per-layer rules in
:mod:`repro.gram.rules` (:func:`register_rule` adds one), the general ``torch.func`` path in
:mod:`repro.gram.functorch_path`. :func:`textbook_gram` (:mod:`repro.gram.textbook`) is the naive counterpart, for
comparison only: PyTorch's own cross-entropy, gradients and GEMM in float32 (or another dtype).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, overload

import torch
from torch import nn

from repro.gram.engine import FACTORISED, MATERIALISED, GramResult, compute_gram
from repro.gram.rules import register_rule
from repro.gram.textbook import SignDisagreement, sign_disagreement, textbook_gram
from repro.gram.validate import check_independent, check_labels, check_model, check_set, count_classes
from repro.phases import count, phase

__all__ = [
    "per_example_gram",
    "unit_gram",
    "UnitGram",
    "default_chunk_size",
    "check_independent",
    "register_rule",
    "DEFAULT_MEMORY_BUDGET",
    "textbook_gram",
    "sign_disagreement",
    "SignDisagreement",
]

_GRADIENT_BYTES_PER_CHUNK = 256 * 2**20  # one chunk of materialised gradients stays under this
_CAPTURE_CHUNK = 1024  # examples per batched forward/backward of the fast path
DEFAULT_MEMORY_BUDGET = 2**30  # bytes of per-layer work buffers (gradient panels, factorised temporaries)


def default_chunk_size(model: nn.Module) -> int:
    """Examples per ``torch.func`` chunk such that one chunk of float32 per-example gradients fits in 256 MiB."""
    n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return max(1, min(1024, _GRADIENT_BYTES_PER_CHUNK // (4 * max(n_params, 1))))


@dataclass
class UnitGram:
    """The Gram of per-example gradients as ``G[i, j] = exp(log_norms[i]) · unit[i, j] · exp(log_norms2[j])``.

    ``unit`` ``(N, M)`` float64 is the Gram of ``gᵢ / sᵢ``, the per-example gradients per unit logit gradient
    (``sᵢ = |∇_z L(f(xᵢ), yᵢ)|``); its entries are O(1) at any confidence, and its signs and cosines are those of
    ``G``. ``log_norms`` ``(N,)``, ``log_norms2`` ``(M,)``: float64 natural logs of ``sᵢ`` (the same tensor for one
    set). ``layers``: ``{module name: unit_l}`` with ``Σ_l unit_l = unit`` when asked for per layer, else empty.
    """

    unit: torch.Tensor
    log_norms: torch.Tensor
    log_norms2: torch.Tensor
    layers: dict[str, torch.Tensor]

    def scaled(self, unit: torch.Tensor | None = None) -> torch.Tensor:
        """``G`` (or the layer Gram of a given ``unit_l``): the unit Gram with the norms multiplied back in, float64;
        entries below float64's range read 0."""
        unit = self.unit if unit is None else unit
        return unit * torch.exp(self.log_norms[:, None] + self.log_norms2[None, :])


@phase("stiffness")
def _compute(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    x2: torch.Tensor | None,
    y2: torch.Tensor | None,
    chunk_size: int | None,
    method: str,
    per_layer: bool,
    memory_budget: int,
    form: str | None = None,
) -> GramResult:
    """Check the arguments of :func:`per_example_gram` / :func:`unit_gram` (:mod:`repro.gram.validate`) and run the
    engine."""
    count("grams")
    check_set(x, y)
    if (x2 is None) != (y2 is None):
        raise ValueError("give both x2 and y2, or neither")
    if x2 is not None and y2 is not None:
        check_set(x2, y2, "x2", "y2")
        if x2.shape[1:] != x.shape[1:]:
            raise ValueError(f"x2 examples have shape {tuple(x2.shape[1:])}, x examples {tuple(x.shape[1:])}")
    if chunk_size is not None and chunk_size < 1:
        raise ValueError(f"chunk_size must be ≥ 1, got {chunk_size}")
    if method not in ("auto", "fast", "vmap"):
        raise ValueError(f"method must be 'auto', 'fast' or 'vmap', got {method!r}")
    if memory_budget < 1:
        raise ValueError(f"memory_budget must be a positive number of bytes, got {memory_budget}")
    if form not in (None, FACTORISED, MATERIALISED):
        raise ValueError(f"form must be None, {FACTORISED!r} or {MATERIALISED!r}, got {form!r}")
    check_model(model)
    num_classes = count_classes(model, x)
    check_labels(y, num_classes)
    sets = [(x.detach(), y.long())]
    if x2 is not None and y2 is not None:
        check_labels(y2, num_classes, "y2")
        sets.append((x2.detach(), y2.long()))
    return compute_gram(
        model,
        sets,
        capture_chunk=chunk_size or _CAPTURE_CHUNK,
        vmap_chunk=chunk_size or default_chunk_size(model),
        memory_budget=memory_budget,
        per_layer=per_layer,
        use_rules=method != "vmap",
        allow_fallback=method != "fast",
        form=form,
    )


def unit_gram(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    x2: torch.Tensor | None = None,
    y2: torch.Tensor | None = None,
    *,
    chunk_size: int | None = None,
    method: Literal["auto", "fast", "vmap"] = "auto",
    per_layer: bool = False,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    form: Literal["factorised", "materialised"] | None = None,
) -> UnitGram:
    """The Gram of :func:`per_example_gram` split into a unit Gram and per-example log-norms (:class:`UnitGram`).

    Same arguments, cost and memory as :func:`per_example_gram`. Use it for statistics that depend only on signs or
    cosines (stiffness), which it keeps exact where ``G`` itself would underflow.
    """
    result = _compute(model, x, y, x2, y2, chunk_size, method, per_layer, memory_budget, form)
    return UnitGram(
        unit=result.total, log_norms=result.log_norms[0], log_norms2=result.log_norms[1], layers=result.layers
    )


@overload
def per_example_gram(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    x2: torch.Tensor | None = ...,
    y2: torch.Tensor | None = ...,
    *,
    chunk_size: int | None = ...,
    method: Literal["auto", "fast", "vmap"] = ...,
    per_layer: Literal[False] = ...,
    memory_budget: int = ...,
    form: Literal["factorised", "materialised"] | None = ...,
) -> torch.Tensor: ...


@overload
def per_example_gram(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    x2: torch.Tensor | None = ...,
    y2: torch.Tensor | None = ...,
    *,
    chunk_size: int | None = ...,
    method: Literal["auto", "fast", "vmap"] = ...,
    per_layer: Literal[True],
    memory_budget: int = ...,
    form: Literal["factorised", "materialised"] | None = ...,
) -> dict[str, torch.Tensor]: ...


def per_example_gram(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    x2: torch.Tensor | None = None,
    y2: torch.Tensor | None = None,
    *,
    chunk_size: int | None = None,
    method: Literal["auto", "fast", "vmap"] = "auto",
    per_layer: bool = False,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    form: Literal["factorised", "materialised"] | None = None,
) -> torch.Tensor | dict[str, torch.Tensor]:
    """Exact Gram matrix of per-example cross-entropy gradients w.r.t. all trainable parameters.

    Args:
        model: any ``nn.Module`` mapping ``(N, *input_shape)`` to logits ``(N, classes)`` and treating examples
            independently and deterministically (batch norm, dropout and ``RReLU`` only in eval mode), with at
            least one parameter with ``requires_grad``. Its mode (train/eval) and its parameters' ``.grad`` are
            left as they are.
        x: finite inputs ``(N, *input_shape)``; y: integer labels ``(N,)`` (int64 or int32), each in
            ``[0, classes)``.
        x2, y2: optional second set ``(M, *input_shape)``, ``(M,)``; then the result is the ``N×M`` cross Gram.
        chunk_size: examples per batched forward/backward (default 1024) and per ``torch.func`` call (default
            :func:`default_chunk_size`).
        method: ``"auto"``: the engine of :mod:`repro.gram.engine` (hooks, one rule per layer type, factorised or
            materialised per layer, the exact ``torch.func`` fallback for layers without a usable rule);
            ``"fast"``: the same, but a ``ValueError`` instead of any fallback; ``"vmap"``: the general path, every
            layer through ``torch.func``.
        per_layer: return ``{module name: G_l}`` (the name as in ``model.named_modules()``, ``""`` for the model's
            own parameters) with ``Σ_l G_l = G``, instead of ``G``.
        memory_budget: bytes that the work buffers of one layer may take (default 1 GiB). A materialised layer
            keeps the per-example gradients of all ``N [+ M]`` examples for a block of its parameters at once:
            ``(N [+ M]) · P_b · s ≤ memory_budget`` bytes, with ``P_b`` the parameters of a block of output features
            (the whole layer when it fits) and ``s`` the bytes per number; only if a single output feature does not
            fit are the examples split into panels of ``budget / (2 · P_b · s)``, recomputed for each pair. A
            factorised layer works in square panels of ``r`` examples with ``3 · r² · g · t² · s ≤ memory_budget``.
            The ``torch.func`` gradients of fallback layers share one budget, in panels of examples.
        form: ``None`` (default) computes each Linear/convolution in the form that needs fewer multiply-adds;
            ``"factorised"`` or ``"materialised"`` forces every such layer into that form (both are exact; for tests
            and benchmarks).

    Peak memory above the model and the inputs is about
    ``8·N·M·(1 + L·per_layer)`` (the float64 result and the ``L`` per-layer Grams) ``+ s·(N + M)·F`` (every ruled
    layer's input and output gradient, ``F`` numbers per example) ``+`` the activations of one forward/backward of
    ``chunk_size`` examples ``+ memory_budget`` ``+ 2·s·N²`` (two reused diagonal blocks) ``+ 16 MiB`` (the unfolded
    patches of one piece of examples) ``+`` (with fallback layers) the ``torch.func`` temporaries of ``chunk_size``
    examples. For the FC net at N = 2000: about 150 MB.

    Returns:
        float64 tensor ``(N, N)`` (symmetric) or ``(N, M)``, on ``x.device``; or a dict of them if ``per_layer``.

    Raises:
        ValueError: before any Gram work, for a model or set that breaks the above (:mod:`repro.gram.validate`):
            no trainable parameter, batch norm with batch statistics, dropout or ``RReLU`` in training mode, a
            NaN or infinite input, labels of the wrong shape or dtype or outside the model's logits, a model
            output that is not ``(N, classes)``; and for an invalid keyword argument.
    """
    gram = unit_gram(
        model,
        x,
        y,
        x2,
        y2,
        chunk_size=chunk_size,
        method=method,
        per_layer=per_layer,
        memory_budget=memory_budget,
        form=form,
    )
    if per_layer:
        return {name: gram.scaled(unit) for name, unit in gram.layers.items()}
    return gram.scaled()
