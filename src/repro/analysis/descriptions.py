"""What a measurement used and how it went, in Markdown: one function, :func:`describe`, for every kind of run a
chapter shows with :meth:`repro.book.chapter.ChapterContext.describe`."""

from __future__ import annotations

from functools import singledispatch

from repro.analysis.class_stiffness import describe_run
from repro.analysis.lr_sweep import describe_sweep
from repro.experiments.class_stiffness import ClassStiffnessRun
from repro.experiments.lr_sweep import LRSweep

__all__ = ["describe"]


@singledispatch
def describe(measurement: object) -> str:
    """Markdown: what ``measurement`` used (data, sizes, budget) and how its run went."""
    raise TypeError(f"no description for a {type(measurement).__qualname__}; register one in {__name__}")


describe.register(ClassStiffnessRun, describe_run)
describe.register(LRSweep, describe_sweep)
