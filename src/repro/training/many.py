"""Several networks trained at once, each exactly as :func:`repro.training.train` trains it alone.

The members (one architecture; their own weights, data, learning rate, seed, budget, evaluation points and
targets) advance in lockstep as one stacked network (:mod:`repro.training.stacked`): one forward and one backward
pass for all of them per step, then Adam on each member's slice of the stacked weights with the very kernel
``torch.optim.Adam(fused=True)`` runs in :func:`~repro.training.train`
(:class:`~repro.training.member_stack.MemberStack`). Each member keeps its own data order, clock, records and stop
rule (:class:`~repro.training.run.RunState`, shared with ``train``); a member that stopped is taken out of the stack
and costs nothing more. With :class:`~repro.training.checkpoints.Checkpoints`, a long call saves its whole state now
and then, and a call killed part-way is taken up by the next one where its last save left it, with the same results.

Index convention: E members in all, A of them still training (the stack's leading axis, "slots"), B the batch
size, K classes.
"""

from __future__ import annotations

import numbers
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from repro.phases import count, phase
from repro.training.checkpoints import Checkpoints, call_fingerprint, load_call, save_call
from repro.training.member_stack import MemberStack
from repro.training.records import TrainConfig, TrainResult
from repro.training.run import RunState
from repro.training.stacked import StackedForward, check_stacked

__all__ = ["train_many"]


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
            trained in place. Supported layers: those of :data:`repro.training.stacked.RULES` (the paper's FC and
            CNN).
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
    args = _per_member_arguments(models, configs, x_train, y_train, x_val, y_val, eval_at, target_losses, check_every)
    runs = _runs(args, on_eval, on_target)
    forward = StackedForward(models[0])
    x_pool, x_starts = _pool(args.x_train)
    y_pool, y_starts = _pool(args.y_train)
    for model in models:
        model.train()
    bar = tqdm(total=sum(c.max_images for c in args.configs), unit="img", unit_scale=True, disable=not progress)
    stack: MemberStack | None = None
    fingerprint = None if checkpoints is None else _fingerprint(models, args, on_eval, on_target)
    try:
        stack = _first_stack(checkpoints, fingerprint, runs, models, forward, args, x_starts, y_starts, bar)
        _show_members(bar, stack, len(models))
        with phase("training"):
            _train_stack(stack, runs, models, x_pool, y_pool, args.configs[0].batch_size, bar, checkpoints, fingerprint)
        stack = None
        if checkpoints is not None:
            with phase("checkpoints"):
                save_call(checkpoints, fingerprint, runs, models, None)
    finally:
        bar.close()
        _leave_models(stack, models)
    return [run.finish() for run in runs]


@dataclass(frozen=True)
class _Arguments:
    """A :func:`train_many` call's arguments, one value per member (E values each)."""

    configs: list[TrainConfig]
    x_train: list[torch.Tensor]
    y_train: list[torch.Tensor]
    x_val: list[torch.Tensor | None]
    y_val: list[torch.Tensor | None]
    eval_at: list[Sequence[int]]
    target_losses: list[Sequence[float]]
    check_every: list[int]


def _per_member_arguments(
    models: list[nn.Module],
    configs: TrainConfig | Sequence[TrainConfig],
    x_train: torch.Tensor | Sequence[torch.Tensor],
    y_train: torch.Tensor | Sequence[torch.Tensor],
    x_val: torch.Tensor | None | Sequence[torch.Tensor | None],
    y_val: torch.Tensor | None | Sequence[torch.Tensor | None],
    eval_at: Sequence[int] | Sequence[Sequence[int]],
    target_losses: Sequence[float] | Sequence[Sequence[float]],
    check_every: int | Sequence[int],
) -> _Arguments:
    """The arguments of :func:`train_many`, one value per member, checked (ValueError with what is wrong)."""
    n = len(models)
    if n == 0:
        raise ValueError("give at least one model")
    if len({id(m) for m in models}) != n:
        raise ValueError("the models must be distinct modules (each member is trained in place)")
    args = _Arguments(
        configs=_per_member(configs, n, "configs", lambda v: isinstance(v, TrainConfig)),
        x_train=_per_member(x_train, n, "x_train", lambda v: isinstance(v, torch.Tensor)),
        y_train=_per_member(y_train, n, "y_train", lambda v: isinstance(v, torch.Tensor)),
        x_val=_per_member(x_val, n, "x_val", lambda v: v is None or isinstance(v, torch.Tensor)),
        y_val=_per_member(y_val, n, "y_val", lambda v: v is None or isinstance(v, torch.Tensor)),
        eval_at=_per_member(eval_at, n, "eval_at", _is_points),
        target_losses=_per_member(target_losses, n, "target_losses", _is_points),
        check_every=_per_member(check_every, n, "check_every", lambda v: isinstance(v, int)),
    )
    batch_size = args.configs[0].batch_size
    if any(c.batch_size != batch_size for c in args.configs):
        raise ValueError(f"all members need one batch_size, got {sorted({c.batch_size for c in args.configs})}")
    if len({tuple(x.shape[1:]) for x in args.x_train}) != 1:
        shapes = [tuple(x.shape) for x in args.x_train]
        raise ValueError(f"one example's shape must be the same for all members, got {shapes}")
    first = next(models[0].parameters())
    if any(p.device != first.device or p.dtype != first.dtype for m in models for p in m.parameters()):
        raise ValueError("all models must be on one device, in one dtype")
    if first.device.type not in ("cpu", "cuda"):
        raise ValueError(f"train_many runs on CPU or CUDA (fused Adam), not {first.device.type}")
    return args


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


def _fingerprint(
    models: list[nn.Module],
    args: _Arguments,
    on_eval: Callable[[int, int, nn.Module], dict | None] | None,
    on_target: Callable[[int, float, int, nn.Module], None] | None,
) -> str:
    """The call's :func:`~repro.training.checkpoints.call_fingerprint`."""
    data = [args.x_train, args.y_train, args.x_val, args.y_val]
    return call_fingerprint(
        models, args.configs, args.eval_at, args.target_losses, args.check_every, data, on_eval, on_target
    )


def _runs(
    args: _Arguments,
    on_eval: Callable[[int, int, nn.Module], dict | None] | None,
    on_target: Callable[[int, float, int, nn.Module], None] | None,
) -> list[RunState]:
    """One run per member, its callbacks told which member they serve."""
    return [
        RunState(
            args.x_train[e],
            args.y_train[e],
            args.configs[e],
            args.x_val[e],
            args.y_val[e],
            args.eval_at[e],
            None if on_eval is None else (lambda seen, model, e=e: on_eval(e, seen, model)),
            args.target_losses[e],
            args.check_every[e],
            None if on_target is None else (lambda t, seen, model, e=e: on_target(e, t, seen, model)),
        )
        for e in range(len(args.configs))
    ]


def _first_stack(
    checkpoints: Checkpoints | None,
    fingerprint: str | None,
    runs: list[RunState],
    models: list[nn.Module],
    forward: StackedForward,
    args: _Arguments,
    x_starts: list[int],
    y_starts: list[int],
    bar: tqdm,
) -> MemberStack | None:
    """The stack of the members to train, None if none is left: taken up from the checkpoint when its file exists
    (:func:`~repro.training.checkpoints.load_call`; the bar moved past the images seen before), else fresh, after
    every run's start (its evaluation at 0 images seen), its forward pass checked against the members' own on two of
    each one's training examples. Each slot's rate and rows in the pooled data (``x_starts``, ``y_starts``: one per
    member) are this call's."""
    lrs = [c.lr for c in args.configs]
    if checkpoints is not None and checkpoints.path.is_file():
        state = load_call(checkpoints, fingerprint, runs, models)
        stack = None if state is None else MemberStack.from_state(forward, state, lrs, x_starts, y_starts)
        bar.update(sum(run.seen for run in runs))
        return stack
    active = [e for e in range(len(runs)) if runs[e].start(models[e]) and not runs[e].stopped]
    if not active:
        return None
    stack = MemberStack(forward, forward.stack([models[e] for e in active]), active, lrs, x_starts, y_starts)
    xs = args.x_train
    check_stacked(forward, stack.params, [models[e] for e in active], torch.stack([xs[e][:2] for e in active]))
    return stack


def _train_stack(
    stack: MemberStack | None,
    runs: list[RunState],
    models: list[nn.Module],
    x_pool: torch.Tensor,
    y_pool: torch.Tensor,
    batch_size: int,
    bar: tqdm,
    checkpoints: Checkpoints | None,
    fingerprint: str | None,
) -> None:
    """Steps until every member has stopped, the state saved every ``checkpoints.every_seconds``. The stack is
    changed in place as members retire (their last weights copied into their models), so that after an exception
    the caller's reference to it holds the members still training."""
    saved_at = time.monotonic()
    while stack is not None:
        _step(stack, runs, x_pool, y_pool, batch_size, bar)
        _settle(stack, runs, models)
        stack = _retire_stopped(stack, runs, models, bar)
        due = checkpoints is not None and time.monotonic() - saved_at >= checkpoints.every_seconds
        if stack is not None and due:
            with phase("checkpoints"):
                save_call(checkpoints, fingerprint, runs, models, stack.state())
            saved_at = time.monotonic()


def _retire_stopped(stack: MemberStack, runs: list[RunState], models: list[nn.Module], bar: tqdm) -> MemberStack | None:
    """Copy the final weights of the members that stopped into their models and take them out of the stack; the
    stack of those left (None when none is)."""
    done = [a for a, e in enumerate(stack.members) if runs[e].stopped]
    for a in done:
        stack.load(a, models[stack.members[a]])
    left: MemberStack | None = stack
    if len(done) == len(stack.members):
        left = None
    elif done:
        stack.keep([a for a in range(len(stack.members)) if a not in done])
    if done:
        _show_members(bar, left, len(runs))
    return left


def _leave_models(stack: MemberStack | None, models: list[nn.Module]) -> None:
    """After the call, or an exception in it: each model of a member still in ``stack`` given its latest weights, and
    every model put in eval mode."""
    if stack is not None:
        for a, e in enumerate(stack.members):
            stack.load(a, models[e])
    for model in models:
        model.eval()


def _show_members(bar: tqdm, stack: MemberStack | None, members: int) -> None:
    """How many members are still training, beside the progress bar (their images per second fall as they stop)."""
    bar.set_postfix_str(f"{0 if stack is None else len(stack.members)} of {members} members training")


def _step(
    stack: MemberStack,
    runs: list[RunState],
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
    count("images_trained", sum(takes))


def _settle(stack: MemberStack, runs: list[RunState], models: list[nn.Module]) -> None:
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
