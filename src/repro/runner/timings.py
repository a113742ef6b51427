"""The runner's record of every chapter run: ``<build>/results/<profile>/_timings.json``, one entry per chapter
(``status`` ``"ok"`` | ``"failed"``, ``wall_time_s`` in seconds, ``device_requested``, ``seed``, ``threads``,
``finished_utc``; a cluster run adds ``worker``, ``digest`` and ``results``), and the table ``times`` prints from it.

The file's place is the results folder's (:func:`repro.book.results.timings_path`); chapters run concurrently on a
cluster's workers (:mod:`repro.runner.cluster`) update it under an exclusive lock on ``.timings.lock`` beside it.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from repro.book.results import results_path, timings_path

__all__ = ["now_utc", "read_timings", "update_timings", "timings_table", "markdown_table"]


def now_utc() -> str:
    """The time now, as a ``finished_utc`` entry records it (ISO 8601, seconds, UTC)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def read_timings(profile: str, out_dir: str | os.PathLike | None = None) -> dict[str, dict]:
    """Chapter → its entry in ``<out_dir>/<profile>/_timings.json`` (``{}`` if no chapter has been run)."""
    path = timings_path(profile, out_dir)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


@contextlib.contextmanager
def _timings_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path``'s folder's ``.timings.lock``."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / ".timings.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def update_timings(build_dir: Path, profile: str, chapter: str, entry: dict, *, merge: bool = False) -> None:
    """Set the chapter's ``_timings.json`` entry to ``entry`` (``merge``: add ``entry``'s keys to the entry there)."""
    path = timings_path(profile, build_dir / "results")
    with _timings_lock(path):
        timings = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        timings[chapter] = {**timings.get(chapter, {}), **entry} if merge else entry
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(timings, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)


def timings_table(profile: str, chapters: Sequence[str], out_dir: str | os.PathLike | None = None) -> list[dict]:
    """One row per chapter of ``chapters`` (in that order) that the runner has run under ``profile``: its status,
    wall time in seconds, the device the chapter reported and its verdict.

    Reads ``<out_dir>/<profile>/_timings.json`` and the chapters' results files; a chapter that failed has no
    results file, so its device is the one requested and its verdict ``None``.
    """
    timings = read_timings(profile, out_dir)
    rows = []
    for chapter in chapters:
        if chapter not in timings:
            continue
        entry = timings[chapter]
        path = results_path(chapter, profile, out_dir)
        payload = json.loads(path.read_text(encoding="utf-8")) if entry["status"] == "ok" and path.is_file() else {}
        rows.append(
            {
                "chapter": chapter,
                "status": entry["status"],
                "wall_time_s": entry["wall_time_s"],
                "device": payload.get("device", entry.get("device_requested")),
                "verdict": payload.get("verdict"),
                "finished_utc": entry.get("finished_utc"),
            }
        )
    return rows


def markdown_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """``rows`` (dicts with the same keys) as a GitHub Markdown table; ``None`` shows as an em dash."""
    if not rows:
        return ""
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "|".join("---" for _ in keys) + "|"]
    for row in rows:
        lines.append("| " + " | ".join("—" if row[k] is None else str(row[k]) for k in keys) + " |")
    return "\n".join(lines)
