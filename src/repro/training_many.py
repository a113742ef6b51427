"""Several networks trained at once, each exactly as :func:`repro.training.train` trains it alone.

The members (one architecture; their own weights, data, learning rate, seed, budget, evaluation points and
targets) advance in lockstep as one stacked network (:mod:`repro.stacked`): one forward and one backward pass for
all of them per step, then Adam on each member's slice of the stacked weights with the very kernel
``torch.optim.Adam(fused=True)`` runs in :func:`~repro.training.train`. Each member keeps its own data order,
clock, records and stop rule (:class:`repro.training._Run`, shared with ``train``); a member that stopped is taken
out of the stack and costs nothing more. With :class:`Checkpoints`, a long call saves its whole state now and then,
and a call killed part-way is taken up by the next one where its last save left it, with the same results.

Index convention: E members in all, A of them still training (the stack's leading axis, "slots"), B the batch
size, K classes.
"""

from __future__ import annotations

import hashlib
import numbers
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from repro.files import write_atomic
from repro.stacked import StackedForward, check_stacked
from repro.training import TrainConfig, TrainResult, _Run

__all__ = ["train_many", "Checkpoints"]

ADAM_BETAS, ADAM_EPS = (0.9, 0.999), 1e-8  # torch.optim.Adam's defaults, which train uses


def _nothing() -> None:
    return None


def _ignore(state: object) -> None:
    return None


@dataclass(frozen=True)
class Checkpoints:
    """Where and how often :func:`train_many` saves its state, so that a call killed part-way (a lost machine, the
    end of a session) is taken up where its last save left it by the next call with the same arguments.

    The file holds every member's run (clock, data order and its generator, records, targets hit), the stacked
    weights with Adam's state, every member's module (a stopped member's final weights) and ``caller_state()``:
    what the callbacks collected so far, handed back to ``restore_caller`` when a call resumes (the callbacks are
    not called again for the points before the save). It is written whole (:func:`repro.files.write_atomic`) after
    the first step that ends ``every_seconds`` or more after the last save, and once more when every member has
    stopped; a call that finds a finished file returns its results without training. The caller removes the file
    once it has stored what it needs. A file written by a call with other settings is refused (ValueError); the
    training data are not compared (their shapes are), so give each data set its own path. The initial weights are
    compared (a digest): take a call up with models holding the weights the killed call was *given* (fresh copies,
    as a new process makes them), not the modules that call left behind with its latest weights.
    """

    path: Path
    every_seconds: float = 600.0
    caller_state: Callable[[], object] = _nothing
    restore_caller: Callable[[object], None] = _ignore

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))  # a str is taken too


def _per_member(value: object, members: int, name: str, shared: Callable[[object], bool]) -> list:
    """``[value] * members`` if ``value`` is one shared value, else the sequence as a list of ``members`` values."""
    if shared(value):
        return [value] * members
    values = list(value)  # type: ignore[call-overload]
    if len(values) != members:
        raise ValueError(f"{name}: got {len(values)} values for {members} members (give one, or one per member)")
    return values


def _is_points(value: object) -> bool:
    """Whether ``value`` is one sequence of numbers (shared eval points or targets), not one per member."""
    return all(isinstance(v, numbers.Real) for v in value)  # type: ignore[attr-defined]


def _pool(tensors: list[torch.Tensor]) -> tuple[torch.Tensor, list[int]]:
    """The distinct tensors (by identity) concatenated along dim 0, and where each member's rows start in it."""
    starts: dict[int, int] = {}
    parts: list[torch.Tensor] = []
    total = 0
    for t in tensors:
        if id(t) not in starts:
            starts[id(t)] = total
            parts.append(t)
            total += t.shape[0]
    pooled = parts[0] if len(parts) == 1 else torch.cat(parts)
    return pooled, [starts[id(t)] for t in tensors]


class _Stack:
    """The weights and Adam state of the members still training, stacked on the slot axis A.

    ``params``, ``exp_avg``, ``exp_avg_sq``: one ``(A, *shape)`` tensor per parameter; ``bad``: ``(A,)`` float32,
    1.0 from a member's first non-finite loss on (its Adam updates are skipped from then on); ``applied``: ``(A,)``
    int64, the steps whose update each member applied.
    """

    def __init__(
        self,
        forward: StackedForward,
        params: list[torch.Tensor],
        members: list[int],
        lrs: list[float],
        x_starts: list[int],
        y_starts: list[int],
    ) -> None:
        """A fresh stack (Adam's state zero) of the stacked weights ``params`` (:meth:`StackedForward.stack`) of
        ``members``; ``lrs``, ``x_starts``, ``y_starts`` hold one value per member of the call (not per slot), from
        which each slot takes its member's."""
        self._take_members(forward, members, lrs, x_starts, y_starts)
        self.params = [p.detach().requires_grad_() for p in params]
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
        device = self.params[0].device
        self.bad = torch.zeros(len(members), dtype=torch.float32, device=device)
        self.applied = torch.zeros(len(members), dtype=torch.long, device=device)
        self.step = torch.zeros((), dtype=torch.float32, device=device)  # Adam's step count, shared by the slots
        self._index()

    _STATE = ("members", "exp_avg", "exp_avg_sq", "bad", "applied", "step")

    def state(self) -> dict:
        """The stack's training state: weights, Adam's state, flags and which member is in which slot (the rates and
        data offsets are the call's, so :meth:`from_state` takes them from the call that takes the state up)."""
        return {name: getattr(self, name) for name in self._STATE} | {"params": [p.detach() for p in self.params]}

    @classmethod
    def from_state(
        cls, forward: StackedForward, state: dict, lrs: list[float], x_starts: list[int], y_starts: list[int]
    ) -> _Stack:
        """The stack :meth:`state` described; ``lrs``, ``x_starts``, ``y_starts`` as for a fresh stack."""
        stack = cls.__new__(cls)
        stack._take_members(forward, state["members"], lrs, x_starts, y_starts)
        stack.params = [p.detach().requires_grad_() for p in state["params"]]
        for name in cls._STATE[1:]:  # Adam's state, flags, step
            setattr(stack, name, state[name])
        stack._index()
        return stack

    def _take_members(
        self, forward: StackedForward, members: list[int], lrs: list[float], x_starts: list[int], y_starts: list[int]
    ) -> None:
        """Slot ``a`` holds member ``members[a]``, with that member's rate and rows in the pooled data."""
        self.forward, self.members = forward, members
        self.lrs = [lrs[e] for e in members]
        self.x_starts = [x_starts[e] for e in members]
        self.y_starts = [y_starts[e] for e in members]

    def _index(self) -> None:
        """Per-slot views and constants, remade whenever the slots change."""
        device = self.params[0].device
        self.slot_params = list(zip(*(p.detach().unbind(0) for p in self.params), strict=True))
        self.slot_exp_avg = list(zip(*(m.unbind(0) for m in self.exp_avg), strict=True))
        self.slot_exp_avg_sq = list(zip(*(v.unbind(0) for v in self.exp_avg_sq), strict=True))
        self.slot_bad = self.bad.unbind(0)
        self.x_offset = torch.tensor(self.x_starts, device=device).unsqueeze(1)  # (A, 1) rows in the pooled data
        self.y_offset = torch.tensor(self.y_starts, device=device).unsqueeze(1)

    def keep(self, slots: list[int]) -> None:
        """Keep only these slots (in this order)."""
        idx = torch.tensor(slots, device=self.params[0].device)
        self.params = [p.detach()[idx].requires_grad_() for p in self.params]
        self.exp_avg = [m[idx] for m in self.exp_avg]
        self.exp_avg_sq = [v[idx] for v in self.exp_avg_sq]
        self.bad, self.applied = self.bad[idx], self.applied[idx]
        self.members = [self.members[a] for a in slots]
        self.lrs = [self.lrs[a] for a in slots]
        self.x_starts = [self.x_starts[a] for a in slots]
        self.y_starts = [self.y_starts[a] for a in slots]
        self._index()

    def load(self, slot: int, model: nn.Module) -> nn.Module:
        """Copy the slot's current weights into ``model`` (and return it)."""
        return self.forward.unstack(self.slot_params[slot], model)

    @torch.no_grad()
    def adam_step(self, grads: list[torch.Tensor]) -> None:
        """One Adam update of every slot whose losses were all finite so far (``grads`` stacked like ``params``)."""
        self.step.add_(1)
        slot_grads = list(zip(*(g.contiguous().unbind(0) for g in grads), strict=True))
        steps = [self.step] * len(self.params)
        for a, lr in enumerate(self.lrs):
            torch._fused_adam_(  # the kernel of torch.optim.Adam(fused=True); found_inf skips the update
                list(self.slot_params[a]),
                list(slot_grads[a]),
                list(self.slot_exp_avg[a]),
                list(self.slot_exp_avg_sq[a]),
                [],
                steps,
                lr=lr,
                beta1=ADAM_BETAS[0],
                beta2=ADAM_BETAS[1],
                weight_decay=0.0,
                eps=ADAM_EPS,
                amsgrad=False,
                maximize=False,
                found_inf=self.slot_bad[a],
            )


def train_many(
    models: Sequence[nn.Module],
    x_train: torch.Tensor | Sequence[torch.Tensor],
    y_train: torch.Tensor | Sequence[torch.Tensor],
    *,
    configs: TrainConfig | Sequence[TrainConfig],
    x_val: torch.Tensor | None | Sequence[torch.Tensor | None] = None,
    y_val: torch.Tensor | None | Sequence[torch.Tensor | None] = None,
    eval_at: Sequence[int] | Sequence[Sequence[int]] = (),
    on_eval: Callable[[int, int, nn.Module], dict | None] | None = None,
    target_losses: Sequence[float] | Sequence[Sequence[float]] = (),
    check_every: int | Sequence[int] = 1024,
    on_target: Callable[[int, float, int, nn.Module], None] | None = None,
    progress: bool = True,
    checkpoints: Checkpoints | None = None,
) -> list[TrainResult]:
    """Train E networks at once; member ``e`` ends as :func:`~repro.training.train` would leave it alone.

    Every argument but ``models`` and the callbacks is either one value shared by all members or a sequence with
    one value per member, with :func:`~repro.training.train`'s meaning:

    Args:
        models: the E networks (distinct modules of one architecture, on one CPU or CUDA device, in one dtype),
            trained in place. Supported layers: those of :data:`repro.stacked.RULES` (the paper's FC and CNN).
        x_train, y_train: a tensor ``(N, ...)`` / ``(N,)`` for all, or one per member (label permutations,
            subsets; N may differ, one example's shape may not).
        configs: a :class:`~repro.training.TrainConfig` or one per member (learning rate, seed, budget, ...). All
            must have the same ``batch_size`` (ValueError otherwise).
        x_val, y_val: held-out sets.
        eval_at: one sequence of images-seen points, or one sequence per member.
        on_eval: ``f(member, images_seen, model) -> dict | None`` at each member's evaluation points; ``model`` is
            ``models[member]`` holding that member's current weights (in eval mode; changing it does not change the
            training).
        target_losses: one sequence of target training losses, or one per member.
        check_every: target-check spacing in images, one or one per member.
        on_target: ``f(member, target, images_seen, model)`` when a member first reaches a target.
        progress: one tqdm bar over all members' images.
        checkpoints: save the state now and then, and take up a call that was killed part-way
            (:class:`Checkpoints`); a resumed call returns what an uninterrupted one would, bit for bit.

    Returns:
        one :class:`~repro.training.TrainResult` per member, equal to what ``train`` returns for it alone: the same
        records, status, images seen and target hits; the weights equal up to float rounding (the stacked
        products sum in another order). A member that diverges is recorded as ``train`` records it.

    Nothing is read back from the device at a step: members' divergence flags are read (together, once) only when
    some member reaches an evaluation point, a check point or the end of its budget.
    """
    models = list(models)
    n = len(models)
    if n == 0:
        raise ValueError("give at least one model")
    if len({id(m) for m in models}) != n:
        raise ValueError("the models must be distinct modules (each member is trained in place)")
    configs_ = _per_member(configs, n, "configs", lambda v: isinstance(v, TrainConfig))
    xs = _per_member(x_train, n, "x_train", lambda v: isinstance(v, torch.Tensor))
    ys = _per_member(y_train, n, "y_train", lambda v: isinstance(v, torch.Tensor))
    xvs = _per_member(x_val, n, "x_val", lambda v: v is None or isinstance(v, torch.Tensor))
    yvs = _per_member(y_val, n, "y_val", lambda v: v is None or isinstance(v, torch.Tensor))
    evals = _per_member(eval_at, n, "eval_at", _is_points)
    targets = _per_member(target_losses, n, "target_losses", _is_points)
    checks = _per_member(check_every, n, "check_every", lambda v: isinstance(v, int))
    batch_size = configs_[0].batch_size
    if any(c.batch_size != batch_size for c in configs_):
        raise ValueError(f"all members need one batch_size, got {sorted({c.batch_size for c in configs_})}")
    if len({tuple(x.shape[1:]) for x in xs}) != 1:
        raise ValueError(f"one example's shape must be the same for all members, got {[tuple(x.shape) for x in xs]}")
    first = next(models[0].parameters())
    if any(p.device != first.device or p.dtype != first.dtype for m in models for p in m.parameters()):
        raise ValueError("all models must be on one device, in one dtype")
    if first.device.type not in ("cpu", "cuda"):
        raise ValueError(f"train_many runs on CPU or CUDA (fused Adam), not {first.device.type}")

    runs = [
        _Run(
            xs[e],
            ys[e],
            configs_[e],
            xvs[e],
            yvs[e],
            evals[e],
            None if on_eval is None else (lambda seen, model, e=e: on_eval(e, seen, model)),
            targets[e],
            checks[e],
            None if on_target is None else (lambda t, seen, model, e=e: on_target(e, t, seen, model)),
        )
        for e in range(n)
    ]
    forward = StackedForward(models[0])
    x_pool, x_starts = _pool(xs)
    y_pool, y_starts = _pool(ys)
    for model in models:
        model.train()
    bar = tqdm(total=sum(c.max_images for c in configs_), unit="img", unit_scale=True, disable=not progress)
    stack: _Stack | None = None
    fingerprint = None if checkpoints is None else _fingerprint(models, configs_, evals, targets, checks,
                                                                [xs, ys, xvs, yvs], on_eval, on_target)  # fmt: skip
    try:
        lrs = [c.lr for c in configs_]
        if checkpoints is not None and checkpoints.path.is_file():
            stack = _resume(checkpoints, fingerprint, runs, models, forward, lrs, x_starts, y_starts)
            bar.update(sum(run.seen for run in runs))
        else:
            active = [e for e in range(n) if runs[e].start(models[e]) and not runs[e].stopped]
            if active:
                stack = _Stack(forward, forward.stack([models[e] for e in active]), active, lrs, x_starts, y_starts)
                check_stacked(
                    forward, stack.params, [models[e] for e in active], torch.stack([xs[e][:2] for e in active])
                )
        _show_members(bar, stack, n)
        saved_at = time.monotonic()
        while stack is not None:
            _step(stack, runs, x_pool, y_pool, batch_size, bar)
            _settle(stack, runs, models)
            done = [a for a, e in enumerate(stack.members) if runs[e].stopped]
            for a in done:
                stack.load(a, models[stack.members[a]])
            if len(done) == len(stack.members):
                stack = None
            elif done:
                stack.keep([a for a in range(len(stack.members)) if a not in done])
            if done:
                _show_members(bar, stack, n)
            due = checkpoints is not None and time.monotonic() - saved_at >= checkpoints.every_seconds
            if stack is not None and due:
                _save(checkpoints, fingerprint, runs, models, stack)
                saved_at = time.monotonic()
        if checkpoints is not None:
            _save(checkpoints, fingerprint, runs, models, None)
    finally:
        bar.close()
        if stack is not None:  # an exception: leave each model with its latest weights
            for a, e in enumerate(stack.members):
                stack.load(a, models[e])
        for model in models:
            model.eval()
    return [run.finish() for run in runs]


def _show_members(bar: tqdm, stack: _Stack | None, members: int) -> None:
    """How many members are still training, beside the progress bar (their images per second fall as they stop)."""
    bar.set_postfix_str(f"{0 if stack is None else len(stack.members)} of {members} members training")


def _fingerprint(
    models: list[nn.Module],
    configs: list[TrainConfig],
    evals: list,
    targets: list,
    checks: list[int],
    data: list[list[torch.Tensor | None]],
    on_eval: Callable | None,
    on_target: Callable | None,
) -> str:
    """What a checkpoint must have been written under to be taken up by this call: the members' settings, evaluation
    points, targets and checks, every data tensor's shape (training and held-out), which callbacks are given, the
    architecture (``repr`` of a member), device, dtype, and a digest of the initial weights (SHA-256, 16 hex)."""
    weights = hashlib.sha256()
    for model in models:
        for tensor in model.state_dict().values():
            weights.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    first = next(models[0].parameters())
    return repr(
        (configs, [[int(p) for p in e] for e in evals], [[float(t) for t in ts] for ts in targets], checks,
         [[None if t is None else tuple(t.shape) for t in member] for member in zip(*data, strict=True)],
         on_eval is not None, on_target is not None, repr(models[0]), str(first.device), str(first.dtype),
         weights.hexdigest()[:16])
    )  # fmt: skip


def _save(
    checkpoints: Checkpoints, fingerprint: str, runs: list[_Run], models: list[nn.Module], stack: _Stack | None
) -> None:
    """Write the whole state of a :func:`train_many` call between two steps to ``checkpoints.path``."""
    state = {
        "fingerprint": fingerprint,
        "runs": [run.state() for run in runs],
        "models": [model.state_dict() for model in models],
        "stack": None if stack is None else stack.state(),
        "caller": checkpoints.caller_state(),
    }
    write_atomic(checkpoints.path, lambda f: torch.save(state, f))


def _resume(
    checkpoints: Checkpoints,
    fingerprint: str,
    runs: list[_Run],
    models: list[nn.Module],
    forward: StackedForward,
    lrs: list[float],
    x_starts: list[int],
    y_starts: list[int],
) -> _Stack | None:
    """Load what :func:`_save` wrote into ``runs``, ``models`` and the caller; the stack of the members still
    training (None when all had stopped), with each slot's rate and rows in the pooled data taken from this call
    (``lrs``, ``x_starts``, ``y_starts``: one per member). ValueError when the file was written by a call with other
    settings."""
    device = next(models[0].parameters()).device
    state = torch.load(checkpoints.path, map_location=device, weights_only=False)
    if state["fingerprint"] != fingerprint:
        raise ValueError(
            f"checkpoint {checkpoints.path} was saved by a train_many call with other settings (members, budgets, "
            "evaluation points, targets, data shapes, callbacks, architecture, initial weights, device or dtype); "
            "remove it to start afresh"
        )
    for run, run_state in zip(runs, state["runs"], strict=True):
        run.load_state(run_state)
    for model, weights in zip(models, state["models"], strict=True):
        model.load_state_dict(weights)
    checkpoints.restore_caller(state["caller"])
    return None if state["stack"] is None else _Stack.from_state(forward, state["stack"], lrs, x_starts, y_starts)


def _step(
    stack: _Stack,
    runs: list[_Run],
    x_pool: torch.Tensor,
    y_pool: torch.Tensor,
    batch_size: int,
    bar: tqdm,
) -> None:
    """One step of every slot: its next batch (padded to B with weight 0 when shorter), loss, gradients, Adam."""
    batches, takes = [], []
    for e in stack.members:
        idx = runs[e].next_batch()
        takes.append(idx.numel())
        if idx.numel() < batch_size:
            idx = torch.cat([idx, idx[:1].expand(batch_size - idx.numel())])
        batches.append(idx)
    pos = torch.stack(batches)  # (A, B) rows within each member's own data
    x = x_pool[(pos + stack.x_offset).flatten()]  # (A·B, ...)
    y = y_pool[(pos + stack.y_offset).flatten()]  # (A·B,)
    logits = stack.forward(stack.params, x.view(len(takes), batch_size, *x.shape[1:]))  # (A, B, K)
    ce = F.cross_entropy(logits.flatten(0, 1), y, reduction="none").view(len(takes), batch_size)
    if all(t == batch_size for t in takes):
        losses = ce.mean(1)  # (A,): each member's mean over its batch, as F.cross_entropy in train
    else:
        weight = [[1.0 / t] * t + [0.0] * (batch_size - t) for t in takes]
        losses = (ce * torch.tensor(weight, dtype=ce.dtype, device=ce.device)).sum(1)
    stack.bad.logical_or_(~torch.isfinite(losses))
    stack.applied.add_(stack.bad == 0)
    grads = torch.autograd.grad(losses.sum(), stack.params)
    stack.adam_step(list(grads))
    bar.update(sum(takes))


def _settle(stack: _Stack, runs: list[_Run], models: list[nn.Module]) -> None:
    """Each slot's evaluations, target checks and stop decisions after a step; the flags read at most once."""
    flags: list[tuple[float, float]] = []

    def reader(slot: int) -> Callable[[], int | None]:
        def read() -> int | None:
            if not flags:  # the one read-back of this step
                flags.extend(torch.stack([stack.bad.double(), stack.applied.double()], 1).tolist())
            bad, applied = flags[slot]
            return int(applied) if bad else None

        return read

    for a, e in enumerate(stack.members):
        runs[e].after_step(lambda a=a, e=e: stack.load(a, models[e]), reader(a))
    for a, e in enumerate(stack.members):  # flags read for some member: stop every diverged one now
        if flags and flags[a][0] and not runs[e].stopped:
            runs[e].diverged(int(flags[a][1]))
