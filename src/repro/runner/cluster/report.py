"""The end of a cluster run (:mod:`repro.runner.cluster`): the chapters that ran, and the summary line, with a
:class:`BookError` naming the chapters that did not finish."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from repro.book.toc import BookError
from repro.runner.cluster.plan import Plan
from repro.runner.execute import ChapterRun

__all__ = ["chapter_runs", "report_run"]


def chapter_runs(plan: Plan, outcomes: dict[str, dict]) -> list[ChapterRun]:
    """The chapters of the plan that finished, in ``_toc.yml`` order."""
    runs = []
    for chapter in plan.run:
        outcome = outcomes.get(chapter.name, {"status": "failed", "reason": "no outcome"})
        if outcome["status"] == "ok":
            results = outcome["results"]
            runs.append(
                ChapterRun(
                    chapter=chapter,
                    notebook=Path(outcome["notebook"]),
                    wall_time_s=outcome["wall_time_s"],
                    results=None if results is None else Path(results),
                )
            )
    return runs


def report_run(
    plan: Plan, runs: list[ChapterRun], outcomes: dict[str, dict], seconds: float, log: Callable[[str], None]
) -> None:
    """Log what the run did in ``seconds``; :class:`BookError` listing the chapters that did not finish, if any."""
    bad = {c.name: outcomes.get(c.name, {}) for c in plan.run if outcomes.get(c.name, {}).get("status") != "ok"}
    log(
        f"{len(runs)} chapter(s) executed, {len(plan.finished)} kept from earlier, {len(bad)} failed or skipped, "
        f"in {seconds:.1f} s"
    )
    if bad:
        lines = "\n".join(
            f"  {name}: {o.get('status', 'failed')} ({o.get('reason', '').splitlines()[0] if o.get('reason') else ''})"
            for name, o in bad.items()
        )
        raise BookError(
            f"{len(bad)} chapter(s) did not finish (rerun the same command to resume; the others are kept):\n{lines}"
        )
