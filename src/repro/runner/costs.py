"""Where a build's time went, from its results files: one row per chapter (and per learning-rate sweep group) with
the seconds of each phase of its measuring (:mod:`repro.phases`), the seconds spent reading, analysing and drawing,
and the work done (images trained, evaluations, target checks, Gram matrices) — the paper profile's cost table
(``python -m repro.runner times --costs --profile paper``).

A measurement read back from the store reports the phases of the execution that measured it (its ``where`` says
``stored``). A sweep group measured inside a chapter's measurement (a serial build) is part of that chapter's
seconds; the table shows it on a row of its own and the chapter's row without it, so no second is counted twice.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from repro.book.results import results_path
from repro.phases import COUNTS, PHASES
from repro.runner.timings import markdown_table, read_timings

__all__ = ["cost_rows", "total_row", "cost_table"]


def _phase_row(name: str, record: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A table row from a :meth:`repro.phases.PhaseClock.as_record` (zeros for what it lacks)."""
    seconds, counts = record.get("seconds", {}), record.get("counts", {})
    return {"row": name, "where": where} | {p: float(seconds.get(p, 0.0)) for p in PHASES} | {
        c: int(counts.get(c, 0)) for c in COUNTS
    }


def _add(row: dict[str, Any], other: Mapping[str, Any], sign: int = 1) -> None:
    """Add ``other``'s phase seconds and counts to ``row`` (in place; ``sign=-1`` takes them out)."""
    for key in (*PHASES, *COUNTS):
        row[key] += sign * other[key]


def cost_rows(profile: str, chapters: Sequence[str], out_dir: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """One row per chapter of ``chapters`` with a results file under ``profile`` (in that order), then one per
    learning-rate sweep group a chapter's results name: ``row``, ``where`` (``"measured"`` in this build,
    ``"stored"`` read back from an earlier one, ``"read"`` nothing measured), ``wall_s`` (the runner's wall time
    of the chapter, kernel start included; None without a timings entry), each phase's seconds, ``reading_s``
    (the execution's seconds outside measuring: reading back, analysis, figures) and each count."""
    timings = read_timings(profile, out_dir)
    rows: list[dict[str, Any]] = []
    for chapter in chapters:
        path = results_path(chapter, profile, out_dir)
        if not path.is_file():
            continue
        details = json.loads(path.read_text(encoding="utf-8")).get("details", {})
        records = details.get("measurements", [])
        row = _phase_row(chapter, {}, "read")
        for record in records:
            _add(row, _phase_row(chapter, record.get("phases", {}), ""))
        if records:
            row["where"] = "stored" if all(r["read_back"] for r in records) else "measured"
        groups = []
        for dataset, group in details.get("sweep_groups", {}).items():
            grow = _phase_row(f"{chapter}: sweep group {dataset}", group["phases"], "stored")
            if not group["read_back"]:  # trained inside this chapter's measuring: its own row, not twice
                grow["where"] = row["where"]
                _add(row, grow, -1)
            groups.append(grow)
        spent = details.get("execution_seconds", {})
        entry = timings.get(chapter, {})
        row = {"row": row.pop("row"), "where": row.pop("where"), "wall_s": entry.get("wall_time_s")} | row
        row["reading_s"] = spent.get("reading")
        rows.append(row)
        for group in groups:
            name, where = group.pop("row"), group.pop("where")
            rows.append({"row": name, "where": where, "wall_s": None} | group | {"reading_s": None})
    return rows


def total_row(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The sum of ``rows``' numbers (None where no row has one), as a row named ``total``."""
    total: dict[str, Any] = {"row": "total", "where": ""}
    for key in rows[0]:
        if key in ("row", "where"):
            continue
        values = [r[key] for r in rows if r[key] is not None]
        total[key] = sum(values) if values else None
    return total


def cost_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """``rows`` and their total as a Markdown table: seconds to the second, counts in full, a blank for None."""
    shown = []
    for row in [*rows, total_row(rows)]:
        cells = {}
        for key, value in row.items():
            if value is None or isinstance(value, str):
                cells[key] = value
            elif key in COUNTS:
                cells[key] = f"{value:,}"
            else:
                cells[key] = f"{value:,.0f}"
        shown.append(cells)
    return markdown_table(shown)
