"""Training as in the paper's Section 3.1: Adam with a constant learning rate, batch size 32, evaluated on a schedule.

Time is counted in *images seen* (optimizer steps × batch size), the unit of the paper's training-dynamics plots. A
run evaluates the model at chosen points of that clock (log-spaced and regular, :func:`images_seen_schedule`),
records training and held-out loss and accuracy, calls an optional callback there (for stiffness snapshots), can stop
when the training loss first reaches given targets (the learning-rate experiments), and ends with a recorded status —
``"completed"``, ``"reached_targets"`` or ``"diverged"`` — rather than a crash when the loss becomes NaN or infinite.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

CHECK_RESOLUTION = 64  # target checks come at least every 1/64 of the images seen so far

__all__ = ["TrainConfig", "TrainResult", "images_seen_schedule", "stage_label", "evaluate", "train"]


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings; the defaults are the paper's."""

    lr: float = 1e-3  # Adam's constant learning rate
    batch_size: int = 32  # the paper's default batch size
    max_images: int = 60_000  # training budget in images seen
    seed: int = 0  # seeds the initialisation (when the caller builds the model under it) and the shuffling
    eval_batch_size: int = 1024  # for no-grad evaluation passes only
    train_eval_size: int | None = 10_000  # training loss measured on a fixed seeded subset of this size (None: all)


@dataclass
class TrainResult:
    """What a run recorded: one dict per evaluation point (``images_seen``, losses, accuracies, callback output)."""

    records: list[dict] = field(default_factory=list)
    status: str = "completed"  # "completed" | "reached_targets" | "diverged"
    images_seen: int = 0
    target_hits: dict[float, int] = field(default_factory=dict)  # target loss → images seen when first reached

    def column(self, key: str) -> np.ndarray:
        """One recorded quantity across the evaluation points (NaN where a record lacks it)."""
        return np.asarray([r.get(key, np.nan) for r in self.records], dtype=np.float64)


def images_seen_schedule(max_images: int, *, n_log: int = 12, n_regular: int = 8, first: int = 32) -> list[int]:
    """Evaluation points on the images-seen clock: 0, ``n_log`` log-spaced points from ``first`` to ``max_images``
    and ``n_regular`` evenly spaced ones, merged, sorted and rounded to whole batches of 32 where possible."""
    if max_images < 1:
        raise ValueError(f"max_images must be ≥ 1, got {max_images}")
    log_pts = np.geomspace(max(first, 1), max_images, n_log) if n_log > 0 else []
    reg_pts = np.linspace(0, max_images, n_regular + 1)[1:] if n_regular > 0 else []
    pts = {0, max_images}
    pts.update(int(round(p)) for p in (*log_pts, *reg_pts))
    return sorted(p for p in pts if 0 <= p <= max_images)


def stage_label(images_seen: int) -> str:
    """A human label for a point on the images-seen clock, e.g. ``"initialisation"`` or ``"60k images seen"``."""
    if images_seen == 0:
        return "initialisation"
    if images_seen >= 1_000_000:
        return f"{images_seen / 1e6:g}M images seen"
    if images_seen >= 1_000:
        return f"{images_seen / 1e3:g}k images seen"
    return f"{images_seen} images seen"


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1024) -> tuple[float, float]:
    """Mean cross-entropy (nats) and accuracy (fraction) of ``model`` on ``(x (N, ...), y (N,))``."""
    if x.shape[0] == 0:
        raise ValueError("cannot evaluate on an empty set")
    total_loss, correct = 0.0, 0
    for start in range(0, x.shape[0], batch_size):
        logits = model(x[start : start + batch_size])
        yb = y[start : start + batch_size]
        total_loss += float(F.cross_entropy(logits, yb, reduction="sum"))
        correct += int((logits.argmax(1) == yb).sum())
    return total_loss / x.shape[0], correct / x.shape[0]


def train(
    model: nn.Module,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    *,
    config: TrainConfig,
    x_val: torch.Tensor | None = None,
    y_val: torch.Tensor | None = None,
    eval_at: Sequence[int] = (),
    on_eval: Callable[[int, nn.Module], dict | None] | None = None,
    target_losses: Sequence[float] = (),
    check_every: int = 1024,
    on_target: Callable[[float, int, nn.Module], None] | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train ``model`` in place with Adam on ``(x_train (N, ...), y_train (N,))``.

    Args:
        config: optimiser settings and the images-seen budget.
        x_val, y_val: held-out set for the validation loss/accuracy at each evaluation point.
        eval_at: images-seen points at which to evaluate (a point is taken at the first step reaching it, and
            several points passed by one step give one record; 0 is before any step). The training loss there is
            the mean over ``config.train_eval_size`` training examples (a fixed seeded subset; all of them when
            None or when the set is smaller).
        on_eval: ``f(images_seen, model) -> dict | None`` called at each evaluation point (model in eval mode,
            no gradients carried over); its dict is merged into that point's record.
        target_losses: training-loss values; the training loss (same subset) is checked every ``check_every``
            images, or every 1/64 of the images seen so far once that is more (so a point where the loss first
            falls to a target is located to within 1.6% of the images seen, at a cost that grows with the
            logarithm of the budget, not with the budget), and when it first falls to or below a target
            ``on_target(target, images_seen, model)`` is called. The run stops once every target is reached and no
            evaluation point is left (status ``"reached_targets"``).
        progress: show a tqdm bar.

    The data order is shuffled each epoch by a generator seeded with ``config.seed``; the initial weights are the
    caller's (build the model under ``torch.manual_seed``).
    """
    if x_train.shape[0] != y_train.shape[0] or x_train.shape[0] == 0:
        raise ValueError(
            f"x_train {tuple(x_train.shape)} and y_train {tuple(y_train.shape)} must be non-empty and match"
        )
    if (x_val is None) != (y_val is None):
        raise ValueError("give both x_val and y_val, or neither")
    device = next(model.parameters()).device
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, fused=device.type in ("cpu", "cuda"))
    gen = torch.Generator().manual_seed(config.seed)
    n = x_train.shape[0]
    if config.train_eval_size is not None and config.train_eval_size < n:
        eval_idx = torch.randperm(n, generator=torch.Generator().manual_seed(config.seed + 1))[: config.train_eval_size]
        x_eval, y_eval = x_train[eval_idx.to(device)], y_train[eval_idx.to(device)]
    else:
        x_eval, y_eval = x_train, y_train
    pending_evals = sorted(set(int(p) for p in eval_at if 0 <= p <= config.max_images))
    pending_targets = sorted({float(t) for t in target_losses}, reverse=True)
    result = TrainResult()
    order = torch.randperm(n, generator=gen)
    cursor, seen, next_check = 0, 0, check_every

    def record(seen_now: int) -> bool:
        was_training = model.training
        model.eval()
        rec: dict = {"images_seen": seen_now}
        rec["train_loss"], rec["train_acc"] = evaluate(model, x_eval, y_eval, config.eval_batch_size)
        if x_val is not None:
            rec["val_loss"], rec["val_acc"] = evaluate(model, x_val, y_val, config.eval_batch_size)
        if on_eval is not None and math.isfinite(rec["train_loss"]):
            rec.update(on_eval(seen_now, model) or {})
        model.train(was_training)
        result.records.append(rec)
        return math.isfinite(rec["train_loss"])

    def check_targets(seen_now: int) -> None:
        loss = None
        while pending_targets:
            if loss is None:
                was_training = model.training
                model.eval()
                loss, _ = evaluate(model, x_eval, y_eval, config.eval_batch_size)
                model.train(was_training)
            if loss > pending_targets[0]:
                return
            target = pending_targets.pop(0)
            result.target_hits[target] = seen_now
            if on_target is not None:
                on_target(target, seen_now, model)

    model.train()
    if pending_evals and pending_evals[0] == 0:
        pending_evals.pop(0)
        if not record(0):
            result.status = "diverged"
            return result
    bar = tqdm(total=config.max_images, unit="img", unit_scale=True, disable=not progress, desc="training")
    try:
        while seen < config.max_images:
            if cursor >= n:
                order, cursor = torch.randperm(n, generator=gen), 0
            take = min(config.batch_size, config.max_images - seen)  # the budget is never exceeded
            idx = order[cursor : cursor + take].to(device)
            cursor += idx.numel()
            loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
            if not torch.isfinite(loss):
                result.status = "diverged"
                break
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            seen += idx.numel()
            bar.update(idx.numel())
            if pending_evals and seen >= pending_evals[0]:
                while pending_evals and seen >= pending_evals[0]:  # points passed within one step: one record
                    pending_evals.pop(0)
                if not record(seen):
                    result.status = "diverged"
                    break
            if pending_targets and seen >= next_check:
                next_check = seen + max(check_every, seen // CHECK_RESOLUTION)
                check_targets(seen)
            if target_losses and not pending_targets and not pending_evals:
                result.status = "reached_targets"
                break
    finally:
        bar.close()
        model.eval()
    result.images_seen = seen
    return result
