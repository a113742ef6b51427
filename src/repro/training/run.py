"""One network's side of a training run (:class:`RunState`), shared by :func:`repro.training.train` and
:func:`repro.training.train_many`, and the measurement it takes at an evaluation point (:func:`evaluate`).

A run evaluates the model at chosen points of the images-seen clock, records training and held-out loss and
accuracy, calls an optional callback there (for stiffness snapshots), can stop when the training loss first reaches
given targets (the learning-rate experiments) or once it can no longer be expected to reach the next one (the stall
rule, :func:`stalled`), and ends with a recorded status — ``"completed"``, ``"reached_targets"``, ``"stalled"`` or
``"diverged"`` — rather than a crash when the loss becomes NaN or infinite.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from repro.phases import count, phase
from repro.training.records import TrainConfig, TrainResult
from repro.training.schedule import CHECK_RESOLUTION

__all__ = ["evaluate", "RunState", "stalled"]


@phase("evaluation")
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


def _eval_subset(
    x_train: torch.Tensor, y_train: torch.Tensor, config: TrainConfig
) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed seeded training subset on which the training loss is measured (all of it when small enough)."""
    n = x_train.shape[0]
    if config.train_eval_size is None or config.train_eval_size >= n:
        return x_train, y_train
    gen = torch.Generator().manual_seed(config.seed + 1)
    idx = torch.randperm(n, generator=gen)[: config.train_eval_size].to(x_train.device)
    return x_train[idx], y_train[idx]


def stalled(checks: Sequence[tuple[int, float]], min_gain: float) -> bool:
    """The stall rule on a run's target checks ``[(images seen, training loss), ...]`` (in order; the last one just
    made): True when the best loss of the checks in the last half of the images seen (after ``seen / 2``) is not
    below ``(1 - min_gain)`` times the best loss before them — the run gained less than ``min_gain`` (a fraction) of
    its loss over as many images as it had seen until half-way. False while either half holds no check."""
    seen = checks[-1][0]
    before = [loss for at, loss in checks if at <= seen / 2]
    recent = [loss for at, loss in checks if at > seen / 2]
    if not before or not recent:
        return False
    return min(recent) > (1.0 - min_gain) * min(before)


class RunState:
    """One network's side of a run: data order, images-seen clock, evaluation points, target checks and result.

    :func:`~repro.training.train` drives one ``RunState``; :func:`~repro.training.train_many` drives one per member
    in lockstep, so both walk the same clock, draw the same batches and record the same things. Steps are taken on
    the caller's side; the caller keeps, on the device, a flag that turns on at the first non-finite loss (from then
    on its Adam skips every update) and a count of the steps applied, and reads them only when :meth:`after_step`
    asks. The constructor's arguments mean what :func:`~repro.training.train`'s do (ValueError when ``x_train`` and
    ``y_train`` are empty or differ in length, or only one of ``x_val``, ``y_val`` is given).
    """

    def __init__(
        self,
        x_train: torch.Tensor,
        y_train: torch.Tensor,
        config: TrainConfig,
        x_val: torch.Tensor | None,
        y_val: torch.Tensor | None,
        eval_at: Sequence[int],
        on_eval: Callable[[int, nn.Module], dict | None] | None,
        target_losses: Sequence[float],
        check_every: int,
        on_target: Callable[[float, int, nn.Module], None] | None,
    ) -> None:
        if x_train.shape[0] != y_train.shape[0] or x_train.shape[0] == 0:
            raise ValueError(
                f"x_train {tuple(x_train.shape)} and y_train {tuple(y_train.shape)} must be non-empty and match"
            )
        if (x_val is None) != (y_val is None):
            raise ValueError("give both x_val and y_val, or neither")
        self.config, self.x_val, self.y_val, self.on_eval, self.on_target = config, x_val, y_val, on_eval, on_target
        self.n = x_train.shape[0]
        self.x_eval, self.y_eval = _eval_subset(x_train, y_train, config)
        self.pending_evals = sorted(set(int(p) for p in eval_at if 0 <= p <= config.max_images))
        self.has_targets = bool(target_losses)
        self.pending_targets = sorted({float(t) for t in target_losses}, reverse=True)
        self.check_every = check_every
        self.result = TrainResult()
        self.gen = torch.Generator().manual_seed(config.seed)
        self.order = torch.randperm(self.n, generator=self.gen).to(x_train.device)  # one transfer per epoch
        self.cursor, self.seen, self.next_check = 0, 0, check_every
        self.steps = 0  # steps taken (applied or skipped after a non-finite loss)
        self.steps_read = 0  # steps taken when the divergence flag was last read as clear
        self.seen_before: list[int] = []  # images seen before each step taken since then

    @property
    def stopped(self) -> bool:
        """Whether the run has ended (its budget spent, its targets reached, or diverged)."""
        return self.result.status != "completed" or self.seen >= self.config.max_images

    def start(self, model: nn.Module) -> bool:
        """Evaluate at 0 images seen if asked; False (status ``"diverged"``) if the loss there is not finite."""
        if self.pending_evals and self.pending_evals[0] == 0:
            self.pending_evals.pop(0)
            if not self._record(model):
                self.result.status = "diverged"
                return False
        return True

    def next_batch(self) -> torch.Tensor:
        """Indices ``(take,)`` (on the data's device) of the next batch, and the clock advanced past it.

        ``take`` is the batch size, less at the end of an epoch (the data order is reshuffled with this run's
        generator when an epoch is used up) and at the end of the budget, which is never exceeded.
        """
        if self.cursor >= self.n:
            self.order, self.cursor = torch.randperm(self.n, generator=self.gen).to(self.order.device), 0
        take = min(self.config.batch_size, self.config.max_images - self.seen, self.n - self.cursor)
        idx = self.order[self.cursor : self.cursor + take]
        self.cursor += take
        self.seen_before.append(self.seen)
        self.seen += take
        self.steps += 1
        return idx

    def after_step(self, model: Callable[[], nn.Module], read_divergence: Callable[[], int | None]) -> None:
        """Evaluate, check targets and decide whether to stop, where the clock says so; else do nothing.

        Args:
            model: gives a module holding the current weights (called only when one is needed).
            read_divergence: reads the device flag: None if every loss so far was finite, else the number of steps
                applied in all (the step after them had the first non-finite loss).
        """
        eval_due = bool(self.pending_evals) and self.seen >= self.pending_evals[0]
        check_due = self.seen >= self.next_check
        if check_due:
            self.next_check = self.seen + max(self.check_every, self.seen // CHECK_RESOLUTION)
        if not (eval_due or check_due or self.seen >= self.config.max_images):
            return
        applied = read_divergence()
        if applied is not None:
            self.diverged(applied)
            return
        self.steps_read, self.seen_before = self.steps, []
        if eval_due:
            while self.pending_evals and self.seen >= self.pending_evals[0]:  # points passed in one step: one record
                self.pending_evals.pop(0)
            if not self._record(model()):
                self.result.status = "diverged"
                return
        if check_due and self.pending_targets:
            self._check_targets(model())
            if self._stalls():
                self.result.status = "stalled"
                return
        if self.has_targets and not self.pending_targets and not self.pending_evals:
            self.result.status = "reached_targets"

    def _stalls(self) -> bool:
        """Whether the stall rule (:class:`~repro.training.TrainConfig`'s ``stall_min_images``, ``stall_min_gain``;
        :func:`stalled`) stops the run at this check: targets left, no evaluation point left, enough images seen."""
        cfg = self.config
        if cfg.stall_min_images is None or not self.pending_targets or self.pending_evals:
            return False
        return self.seen >= cfg.stall_min_images and stalled(self.result.checks, cfg.stall_min_gain)

    def diverged(self, applied: int) -> None:
        """Stop as diverged at the first step that was not applied (``applied`` steps were, in all)."""
        self.result.status = "diverged"
        self.seen = self.seen_before[applied - self.steps_read]

    _STATE = ("result", "pending_evals", "pending_targets", "order", "cursor", "seen", "next_check", "steps",
              "steps_read", "seen_before")  # fmt: skip

    def state(self) -> dict:
        """What changes as the run goes (clock, data order and its generator, pending points, result so far): with
        :meth:`load_state` on a ``RunState`` built from the same arguments, the run goes on as if never interrupted."""
        return {name: getattr(self, name) for name in self._STATE} | {"gen": self.gen.get_state()}

    def load_state(self, state: dict) -> None:
        """Take up the run where :meth:`state` left it."""
        for name in self._STATE:
            setattr(self, name, state[name])
        self.gen.set_state(state["gen"].cpu())

    def finish(self) -> TrainResult:
        """The result, with the images seen when the run stopped."""
        self.result.images_seen = self.seen
        return self.result

    def _record(self, model: nn.Module) -> bool:
        """Append this point's record (model in eval mode meanwhile); False if its training loss is not finite."""
        was_training = model.training
        model.eval()
        count("evaluations")
        try:
            rec: dict = {"images_seen": self.seen}
            rec["train_loss"], rec["train_acc"] = evaluate(model, self.x_eval, self.y_eval, self.config.eval_batch_size)
            if self.x_val is not None:
                rec["val_loss"], rec["val_acc"] = evaluate(model, self.x_val, self.y_val, self.config.eval_batch_size)
            if self.on_eval is not None and math.isfinite(rec["train_loss"]):
                with phase("stiffness"):
                    rec.update(self.on_eval(self.seen, model) or {})
        finally:
            model.train(was_training)
        self.result.records.append(rec)
        return math.isfinite(rec["train_loss"])

    def _check_targets(self, model: nn.Module) -> None:
        """Record every pending target the training loss has reached, calling ``on_target`` for each."""
        was_training = model.training
        model.eval()
        loss, _ = evaluate(model, self.x_eval, self.y_eval, self.config.eval_batch_size)
        model.train(was_training)
        count("target_checks")
        self.result.checks.append((self.seen, loss))
        while self.pending_targets and loss <= self.pending_targets[0]:
            target = self.pending_targets.pop(0)
            self.result.target_hits[target] = self.seen
            if self.on_target is not None:
                with phase("stiffness"):
                    self.on_target(target, self.seen, model)
