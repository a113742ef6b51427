"""Where a measurement's time goes: seconds by phase and counts of the work done, for the paper profile's cost table.

A :func:`timing` block starts a :class:`PhaseClock`; inside it, code marks its parts with :func:`phase` (a context
manager, or a decorator) and counts its work with :func:`count`. Phases nest *exclusively*: while an inner phase
runs, the outer one is paused, so a clock's seconds sum to the block's wall time, and ``"other"`` holds what no
phase claimed (setting up, Python between the marked parts). A timing block inside another one keeps its own clock
and, when it ends, adds what it measured to the outer one (a stored sweep group inside a chapter's measurement).
Outside a timing block :func:`phase` and :func:`count` do nothing but a global lookup.

The clock is per process and not thread-safe: mark code that runs on the thread that opened the block (the book's
experiments do; PyTorch's own worker threads never call back into Python).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ContextDecorator, contextmanager
from dataclasses import dataclass, field

__all__ = ["PHASES", "COUNTS", "PhaseClock", "timing", "phase", "count"]

PHASES = (
    "data",  # loading and preparing data sets
    "training",  # optimiser steps (forward, backward, Adam)
    "evaluation",  # losses and accuracies at evaluation points and target checks
    "stiffness",  # Gram matrices of per-example gradients and what a measurement callback computes beside them
    "statistics",  # class stiffness, bootstraps, stiffness against distance and its crossings
    "checkpoints",  # saving a long training's state
    "other",  # what no phase claimed
)
COUNTS = (
    "images_trained",  # images of the optimiser steps taken, summed over networks
    "evaluations",  # evaluation points recorded (training and held-out loss, a callback)
    "target_checks",  # training-loss checks against target losses
    "grams",  # Gram matrices of per-example gradients computed
)


@dataclass
class PhaseClock:
    """What one timing block measured: ``seconds[phase]`` (wall seconds, exclusive, summing to the block's wall
    time) and ``counts[name]`` (work done, :data:`COUNTS`)."""

    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))

    def add(self, other: PhaseClock) -> None:
        """Add ``other``'s seconds and counts to this clock's."""
        for name, value in other.seconds.items():
            self.seconds[name] += value
        for name, value in other.counts.items():
            self.counts[name] += value

    def as_record(self) -> dict[str, dict[str, float]]:
        """``{"seconds": {phase: s}, "counts": {name: n}}``, seconds rounded to milliseconds (a JSON-ready dict)."""
        return {
            "seconds": {name: round(value, 3) for name, value in self.seconds.items()},
            "counts": dict(self.counts),
        }


class _Frame:
    """One open phase: its name and when it last started (or resumed) counting."""

    __slots__ = ("name", "since")

    def __init__(self, name: str, since: float) -> None:
        self.name, self.since = name, since


read_clock = time.perf_counter  # the clock read (seconds); a test may replace it
_clock: PhaseClock | None = None
_open: list[_Frame] = []  # the open phases of the current timing block, innermost last


@contextmanager
def timing() -> Iterator[PhaseClock]:
    """Measure the block's phases into a new :class:`PhaseClock` (yielded; complete when the block ends)."""
    global _clock, _open
    outer_clock, outer_open = _clock, _open
    now = read_clock()
    if outer_open:  # the outer block's phase is paused while this one runs
        outer_clock.seconds[outer_open[-1].name] += now - outer_open[-1].since  # type: ignore[union-attr]
    clock, start = PhaseClock(), now
    _clock, _open = clock, [_Frame("other", now)]
    try:
        yield clock
    finally:
        end = read_clock()
        clock.seconds["other"] = max(0.0, (end - start) - sum(v for k, v in clock.seconds.items() if k != "other"))
        _clock, _open = outer_clock, outer_open
        if outer_clock is not None:
            outer_clock.add(clock)
            if outer_open:
                outer_open[-1].since = end


class phase(ContextDecorator):  # noqa: N801 - used as a context manager and decorator, like contextlib's
    """Count the seconds of a block (or of every call of a decorated function) as phase ``name`` of the current
    timing block, pausing the phase it runs inside; nothing outside a timing block. ValueError for a name not in
    :data:`PHASES`."""

    def __init__(self, name: str) -> None:
        if name not in PHASES:
            raise ValueError(f"unknown phase {name!r}; expected one of {PHASES}")
        self.name = name
        self._frames: list[_Frame | None] = []  # per entry (a decorated function may recurse): the frame pushed

    def __enter__(self) -> phase:
        frame = None
        if _clock is not None:
            now = read_clock()
            top = _open[-1]
            _clock.seconds[top.name] += now - top.since
            frame = _Frame(self.name, now)
            _open.append(frame)
        self._frames.append(frame)
        return self

    def __exit__(self, *exc: object) -> None:
        frame = self._frames.pop()
        if frame is not None and _clock is not None and _open and _open[-1] is frame:
            now = read_clock()
            _open.pop()
            _clock.seconds[frame.name] += now - frame.since
            _open[-1].since = now


def count(name: str, n: int = 1) -> None:
    """Add ``n`` to the current timing block's count ``name`` (:data:`COUNTS`); nothing outside a timing block."""
    if _clock is not None:
        if name not in _clock.counts:
            raise ValueError(f"unknown count {name!r}; expected one of {COUNTS}")
        _clock.counts[name] += n
