"""Training as in the paper's Section 3.1: Adam with a constant learning rate, batch size 32, evaluated on a schedule.

:func:`train` trains one network: its loop takes the steps (Adam, a divergence flag kept on the device) and leaves
the clock, evaluation points, target checks and stop rule to a :class:`~repro.training.run.RunState`, the part
:func:`~repro.training.train_many` shares. Time is counted in images seen (:mod:`repro.training.schedule`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from repro.phases import count, phase
from repro.training.records import TrainConfig, TrainResult
from repro.training.run import RunState

__all__ = ["train"]


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

    Divergence: from the first batch whose loss is NaN or infinite on, Adam skips every update, and the run stops
    with status ``"diverged"``, ``images_seen`` the images seen before that batch and the weights from before it.
    On CPU and CUDA the loss is not read back to the host at each step: a flag kept on the device is read at the
    next evaluation point, target check (on the same clock, made whether or not targets were given) or the end of
    the budget, so the steps in between are taken (and skipped) before the run stops; records, status, images
    seen and weights are those of stopping at once. On other devices the flag is read at every step.
    """
    device = next(model.parameters()).device
    run = RunState(x_train, y_train, config, x_val, y_val, eval_at, on_eval, target_losses, check_every, on_target)
    fused = device.type in ("cpu", "cuda")
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, fused=fused)
    bad = torch.zeros((), dtype=torch.float32, device=device)  # 1.0 from the first non-finite loss on
    applied = torch.zeros((), dtype=torch.long, device=device)  # steps whose update Adam applied
    if fused:
        opt.found_inf = bad  # fused Adam skips the update while it is 1, as under torch.amp.GradScaler

    model.train()
    bar = tqdm(total=config.max_images, unit="img", unit_scale=True, disable=not progress, desc="training")
    try:
        if run.start(model):
            with phase("training"):
                _steps(model, x_train, y_train, run, opt, bad, applied, fused, bar)
    finally:
        bar.close()
        model.eval()
    return run.finish()


def _steps(model, x_train, y_train, run: RunState, opt, bad, applied, fused: bool, bar: tqdm) -> None:
    """:func:`train`'s steps until ``run`` stops (``bad``, ``applied``: the divergence flag and applied-step count on
    the device)."""

    def read_divergence() -> int | None:
        return int(applied) if bool(bad) else None

    while not run.stopped:
        idx = run.next_batch()
        loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
        bad.logical_or_(~torch.isfinite(loss))
        applied.add_(bad == 0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if fused or not bad:  # other devices' Adam has no found_inf: the flag is read here
            opt.step()
        bar.update(idx.numel())
        count("images_trained", idx.numel())
        run.after_step(lambda: model, read_divergence)
