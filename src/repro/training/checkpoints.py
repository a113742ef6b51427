"""Checkpoints of a :func:`~repro.training.train_many` call: where and how often it saves (:class:`Checkpoints`),
what a file must have been written under to be taken up (:func:`call_fingerprint`), and the file itself, written
between two steps (:func:`save_call`) and read back into a call that takes it up (:func:`load_call`)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from repro.files import write_atomic
from repro.training.records import TrainConfig
from repro.training.run import RunState

__all__ = ["Checkpoints", "call_fingerprint", "save_call", "load_call"]


def _nothing() -> None:
    return None


def _ignore(state: object) -> None:
    return None


@dataclass(frozen=True)
class Checkpoints:
    """Where and how often :func:`~repro.training.train_many` saves its state, so that a call killed part-way (a lost
    machine, the end of a session) is taken up where its last save left it by the next call with the same arguments.

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


def call_fingerprint(
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
    architecture (``repr`` of a member), device, dtype, and a digest of the initial weights (SHA-256, 16 hex).

    ``evals``, ``targets``, ``checks``: one value per member; ``data``: ``[x_train, y_train, x_val, y_val]``, each a
    list with one tensor (or None) per member."""
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


def save_call(
    checkpoints: Checkpoints,
    fingerprint: str,
    runs: list[RunState],
    models: list[nn.Module],
    stack_state: dict | None,
) -> None:
    """Write the whole state of a :func:`~repro.training.train_many` call between two steps to ``checkpoints.path``:
    ``stack_state`` is :meth:`~repro.training.member_stack.MemberStack.state` of the members still training (None
    when every member has stopped)."""
    state = {
        "fingerprint": fingerprint,
        "runs": [run.state() for run in runs],
        "models": [model.state_dict() for model in models],
        "stack": stack_state,
        "caller": checkpoints.caller_state(),
    }
    write_atomic(checkpoints.path, lambda f: torch.save(state, f))


def load_call(checkpoints: Checkpoints, fingerprint: str, runs: list[RunState], models: list[nn.Module]) -> dict | None:
    """Load what :func:`save_call` wrote into ``runs``, ``models`` and the caller; return the saved stack state
    (None when every member had stopped). ValueError when the file was written by a call with other settings (its
    fingerprint is not ``fingerprint``)."""
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
    return state["stack"]
