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


class _Run:
    """One network's side of a run: data order, images-seen clock, evaluation points, target checks and result.

    :func:`train` drives one ``_Run``; :func:`repro.training_many.train_many` drives one per member in lockstep, so
    both walk the same clock, draw the same batches and record the same things. Steps are taken on the caller's
    side; the caller keeps, on the device, a flag that turns on at the first non-finite loss (from then on its
    Adam skips every update) and a count of the steps applied, and reads them only when :meth:`after_step` asks.
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
        if self.has_targets and not self.pending_targets and not self.pending_evals:
            self.result.status = "reached_targets"

    def diverged(self, applied: int) -> None:
        """Stop as diverged at the first step that was not applied (``applied`` steps were, in all)."""
        self.result.status = "diverged"
        self.seen = self.seen_before[applied - self.steps_read]

    _STATE = ("result", "pending_evals", "pending_targets", "order", "cursor", "seen", "next_check", "steps",
              "steps_read", "seen_before")  # fmt: skip

    def state(self) -> dict:
        """What changes as the run goes (clock, data order and its generator, pending points, result so far): with
        :meth:`load_state` on a ``_Run`` built from the same arguments, the run goes on as if never interrupted."""
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
        try:
            rec: dict = {"images_seen": self.seen}
            rec["train_loss"], rec["train_acc"] = evaluate(model, self.x_eval, self.y_eval, self.config.eval_batch_size)
            if self.x_val is not None:
                rec["val_loss"], rec["val_acc"] = evaluate(model, self.x_val, self.y_val, self.config.eval_batch_size)
            if self.on_eval is not None and math.isfinite(rec["train_loss"]):
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
        while self.pending_targets and loss <= self.pending_targets[0]:
            target = self.pending_targets.pop(0)
            self.result.target_hits[target] = self.seen
            if self.on_target is not None:
                self.on_target(target, self.seen, model)


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
    run = _Run(x_train, y_train, config, x_val, y_val, eval_at, on_eval, target_losses, check_every, on_target)
    fused = device.type in ("cpu", "cuda")
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, fused=fused)
    bad = torch.zeros((), dtype=torch.float32, device=device)  # 1.0 from the first non-finite loss on
    applied = torch.zeros((), dtype=torch.long, device=device)  # steps whose update Adam applied
    if fused:
        opt.found_inf = bad  # fused Adam skips the update while it is 1, as under torch.amp.GradScaler

    def read_divergence() -> int | None:
        return int(applied) if bool(bad) else None

    model.train()
    bar = tqdm(total=config.max_images, unit="img", unit_scale=True, disable=not progress, desc="training")
    try:
        if run.start(model):
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
                run.after_step(lambda: model, read_divergence)
    finally:
        bar.close()
        model.eval()
    return run.finish()
