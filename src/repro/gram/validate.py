"""Checks of the arguments of the public Gram functions, each a clear ``ValueError`` before any Gram work is done.

:func:`repro.gram.per_example_gram`, :func:`repro.gram.unit_gram` and :func:`repro.gram.textbook_gram` run them
in this order: :func:`check_set` on each set of examples, :func:`check_model`, then :func:`check_labels` with the
number of logits read from :func:`count_classes`. Together they cost one reduction over each ``x`` and ``y`` and one
forward of a single example: about 0.5 ms for the README's FC network at N = 1000 on one CPU thread, under 1% of
the time of its Gram.

Non-finite inputs are always an error, with no option to let them through: an example with a NaN or infinite input
gets a NaN row and column, which the caller gets more safely by leaving the example out, and the engine's check of
its layer rules against autograd (on the first and the last example,
:func:`repro.gram.planning.layers_disagreeing_with_autograd`) would read a NaN difference as agreement.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["check_set", "check_independent", "check_model", "count_classes", "check_labels"]

_LABEL_DTYPES = (torch.int64, torch.int32)


def _all_finite(x: torch.Tensor) -> bool:
    """Whether every number of ``x`` is finite, from one reduction: its minimum and maximum are NaN if any number
    is NaN, and infinite if any is (on one CPU thread over ten times faster than ``torch.isfinite(x).all()``,
    which makes several passes and temporaries)."""
    if not x.is_floating_point() or x.numel() == 0:
        return True
    low, high = torch.aminmax(x)
    return bool(torch.isfinite(low) & torch.isfinite(high))


def check_set(x: torch.Tensor, y: torch.Tensor, x_name: str = "x", y_name: str = "y") -> None:
    """Raise ``ValueError`` unless ``x (N, …)`` is a non-empty tensor of finite numbers and ``y`` holds ``N``
    integer labels ``(N,)``; ``x_name``, ``y_name`` are the arguments' names for the message."""
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise ValueError(f"{x_name} and {y_name} must be torch tensors, got {type(x).__name__}, {type(y).__name__}")
    if x.ndim < 1 or x.shape[0] == 0:
        raise ValueError(f"{x_name} is empty (shape {tuple(x.shape)}): give at least one example")
    if y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise ValueError(
            f"{y_name} must have shape ({x.shape[0]},), one label per example of {x_name}, got {tuple(y.shape)}"
        )
    if y.dtype not in _LABEL_DTYPES:
        raise ValueError(
            f"{y_name} must hold integer class labels (torch.int64 or torch.int32), got dtype {y.dtype}; "
            f"convert it with {y_name}.long() if its values are class indices"
        )
    if not _all_finite(x):
        bad = (~torch.isfinite(x)).reshape(x.shape[0], -1).any(1).nonzero().flatten()
        raise ValueError(
            f"{x_name} holds NaN or infinite values in {bad.numel()} of its {x.shape[0]} examples (first: index "
            f"{int(bad[0])}), whose rows and columns of the Gram would be NaN. Leave them out first, e.g. "
            f"keep = torch.isfinite({x_name}).reshape(len({x_name}), -1).all(1); "
            f"{x_name}, {y_name} = {x_name}[keep], {y_name}[keep]"
        )


def check_independent(model: nn.Module) -> None:
    """Raise ``ValueError`` if a module couples the examples of a batch (batch norm using batch statistics)."""
    for name, module in model.named_modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and (module.training or module.running_mean is None):
            raise ValueError(
                f"module {name!r} ({type(module).__name__}) normalises with batch statistics, which couples the "
                "examples: per-example gradients are undefined. Call model.eval() (with running statistics) first."
            )


def _draws_at_random(module: nn.Module) -> bool:
    """Whether ``module`` draws random numbers in its forward: dropout with ``p > 0`` or ``RReLU``, in training
    mode."""
    if not module.training:
        return False
    if isinstance(module, nn.modules.dropout._DropoutNd):
        return module.p > 0
    return isinstance(module, nn.RReLU)


def check_model(model: nn.Module) -> None:
    """Raise ``ValueError`` if ``model`` has no parameter with ``requires_grad``, couples the examples of a batch
    (:func:`check_independent`), or has a module that draws random numbers in training mode (dropout with
    ``p > 0``, ``RReLU``)."""
    if not any(p.requires_grad for p in model.parameters()):
        raise ValueError(
            "model has no trainable parameters (none with requires_grad=True): the Gram is taken with respect to "
            "the trainable parameters, so it would be all zeros. Unfreeze the ones to measure, e.g. "
            "model.requires_grad_(True)."
        )
    check_independent(model)
    for name, module in model.named_modules():
        if _draws_at_random(module):
            raise ValueError(
                f"module {name!r} ({type(module).__name__}) is in training mode and draws random numbers: "
                "per-example gradients would depend on the draw. Call model.eval() first."
            )


def count_classes(model: nn.Module, x: torch.Tensor, x_name: str = "x") -> int:
    """The number of logits ``K`` that ``model`` gives for one example, from a forward of ``x[:1]`` without
    gradients; ``ValueError`` unless the output is a tensor ``(1, K)`` with ``K ≥ 2``."""
    with torch.no_grad():
        logits = model(x[:1].detach())
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2 or logits.shape[0] != 1 or logits.shape[1] < 2:
        got = f"shape {tuple(logits.shape)}" if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ValueError(
            f"model must map {x_name} (N, …) to logits (N, classes) with at least 2 classes; for one example of "
            f"{x_name} it returned {got}"
        )
    return logits.shape[1]


def check_labels(y: torch.Tensor, num_classes: int, y_name: str = "y") -> None:
    """Raise ``ValueError`` unless every label of ``y`` is a class index in ``[0, num_classes)``."""
    low, high = (int(v) for v in torch.aminmax(y))
    if low < 0 or high >= num_classes:
        raise ValueError(
            f"{y_name} holds labels from {low} to {high}, but the model gives {num_classes} logits: labels must be "
            f"class indices 0 … {num_classes - 1}, the model's output column of each class. Map them to that range, "
            "or give the model one logit per class."
        )
