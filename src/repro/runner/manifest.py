"""The manifest of a published store (``manifest.json``), built from a build folder's run of one profile.

Top level: ``profile``, ``commit`` and ``dirty`` (from the results files' ``git`` field: one commit for the whole
run), ``date`` (the run's last chapter), ``published_utc``, ``machine`` (the CPUs the measurements' headers name,
and the platform that published), ``device``, ``threads``, ``versions`` (torch, …), ``wall_time_s`` (the chapters'
sum and the run's elapsed span), ``measured_seconds`` (the stored measurements' own), ``fingerprints_from`` (the
source tree the fingerprints were read from), ``chapters`` and, added by :func:`repro.runner.store.publish_store`,
``files`` (every file's SHA-256 and size) and ``store_bytes``.

Each chapter: ``status`` (``present`` or ``absent`` with a ``reason``), ``notebook``, ``results``, ``verdict``,
``commit``, ``timestamp_utc``, ``device``, ``threads``, ``wall_time_s`` (``_timings.json``), ``execution_seconds``
(the results file's: total, measuring, reading), ``missing_data``, ``source`` (``book/<chapter>.py`` and its
SHA-256) and ``measurements`` (each with its file, experiment, key, header facts — when and in how many seconds it
was measured, on which machine, where the seconds went — and its measuring code: ``module``, ``code_files``).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import platform
from collections.abc import Mapping
from pathlib import Path

from repro.book.toc import BookError, Chapter, read_toc
from repro.measurements.store import SUFFIX, read_header
from repro.runner.fingerprints import SourceTree, code_files, commit_tree, experiment_module, sha256_file

__all__ = ["MANIFEST_NAME", "SCHEMA", "build_manifest"]

MANIFEST_NAME = "manifest.json"
SCHEMA = 1


def _read_json(path: Path) -> dict | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _one_commit(results: Mapping[str, dict], profile: str) -> tuple[str | None, bool | None]:
    """The commit every results file records, and whether any checkout was dirty; :class:`BookError` naming the
    chapters of each commit when they differ."""
    by_commit: dict[str, list[str]] = {}
    for name, record in results.items():
        commit = (record.get("git") or {}).get("commit")
        if commit:
            by_commit.setdefault(commit, []).append(name)
    if len(by_commit) > 1:
        groups = "\n".join(f"  {commit[:12]}: {', '.join(names)}" for commit, names in sorted(by_commit.items()))
        raise BookError(
            f"the results files were written at {len(by_commit)} commits; a store is one run at one commit:\n"
            f"{groups}\nre-execute them at one commit (`make book PROFILE={profile}`: chapters read their stored "
            "measurements back while the measuring code's keys hold), then publish"
        )
    dirty = [(record.get("git") or {}).get("dirty") for record in results.values()]
    return (next(iter(by_commit), None), True if any(dirty) else (False if dirty and None not in dirty else None))


def _measurement_entry(record: Mapping, folder: Path, chapter: str, tree: SourceTree) -> tuple[dict, Path]:
    experiment, key = record["experiment"], record["key"]
    path = folder / f"{experiment}-{key}{SUFFIX}"
    if not path.is_file():
        raise BookError(f"chapter {chapter}'s results file names the measurement {path}, which is not there")
    header = read_header(path)
    module = experiment_module(experiment, tree.package)
    entry = {
        "file": f"measurements/{chapter}/{path.name}",
        "experiment": experiment,
        "key": key,
        "read_back": bool(record.get("read_back")),
        "created_utc": header.get("created_utc"),
        "measured_seconds": header.get("seconds"),
        "phases": header.get("phases", {}),
        "machine": header.get("machine", {}),
        "module": module,
        "code_files": code_files(module, tree.package) if module else {},
    }
    return entry, path


def _chapter_entry(
    chapter: Chapter, build_dir: Path, profile: str, timings: Mapping, tree: SourceTree, absent: Mapping[str, str]
) -> tuple[dict, dict[str, Path]]:
    """The manifest entry of ``chapter`` and its files (``{name in the store: source file}``)."""
    notebook = build_dir / "executed" / profile / f"{chapter.name}.ipynb"
    results_file = build_dir / "results" / profile / f"{chapter.name}.json"
    results = _read_json(results_file) or {}
    details = results.get("details") or {}
    source = tree.book / f"{chapter.name}.py"
    entry: dict = {"source": {"path": f"book/{chapter.name}.py", "sha256": sha256_file(source)}}
    if not notebook.is_file():
        missing = "; ".join(f"{m.get('dataset')}: {m.get('reason')}" for m in details.get("missing_data", []))
        reason = absent.get(chapter.name) or (f"the data could not be had: {missing}" if missing else "")
        return {"status": "absent", "reason": reason, **entry}, {}
    copies = {f"notebooks/{chapter.name}.ipynb": notebook}
    if results:
        copies[f"results/{chapter.name}.json"] = results_file
    folder = build_dir / "results" / "measurements" / profile / chapter.name
    measurements = []
    for record in details.get("measurements") or []:
        measurement, path = _measurement_entry(record, folder, chapter.name, tree)
        measurements.append(measurement)
        copies[measurement["file"]] = path
    timing = timings.get(chapter.name, {})
    entry = {
        "status": "present",
        "notebook": f"notebooks/{chapter.name}.ipynb",
        "results": f"results/{chapter.name}.json" if results else None,
        "verdict": results.get("verdict"),
        "commit": (results.get("git") or {}).get("commit"),
        "timestamp_utc": results.get("timestamp_utc") or timing.get("finished_utc"),
        "device": results.get("device"),
        "threads": results.get("threads", timing.get("threads")),
        "wall_time_s": timing.get("wall_time_s", results.get("wall_time_s")),
        "finished_utc": timing.get("finished_utc"),
        "execution_seconds": details.get("execution_seconds"),
        "missing_data": [m.get("dataset") for m in details.get("missing_data", [])],
        **entry,
        "measurements": measurements,
    }
    return entry, copies


def _elapsed(chapters: Mapping[str, dict]) -> float | None:
    """Seconds from the first chapter's start to the last one's end (``finished_utc`` − ``wall_time_s``)."""
    spans = [
        (_dt.datetime.fromisoformat(e["finished_utc"]), float(e["wall_time_s"]))
        for e in chapters.values()
        if e.get("finished_utc") and e.get("wall_time_s") is not None
    ]
    if not spans:
        return None
    start = min(end - _dt.timedelta(seconds=wall) for end, wall in spans)
    return round((max(end for end, _ in spans) - start).total_seconds(), 3)


def _summary(chapters: Mapping[str, dict], results: Mapping[str, dict]) -> dict:
    present = [e for e in chapters.values() if e["status"] == "present"]
    measured = {m["file"]: m for e in present for m in e["measurements"]}
    cpus = sorted({str(m["machine"].get("cpu")) for m in measured.values() if m["machine"].get("cpu")})
    dates = [e["timestamp_utc"] for e in present if e.get("timestamp_utc")]
    devices = sorted({str(e["device"]) for e in present if e.get("device") and e["device"] != "none"})
    threads = sorted({int(e["threads"]) for e in present if e.get("threads") is not None})
    versions = next((r.get("versions") for r in results.values() if r.get("versions")), {})
    return {
        "date": max(dates) if dates else None,
        "machine": {"cpu": cpus, "published_on": platform.platform()},
        "device": ", ".join(devices) or None,
        "threads": threads[0] if len(threads) == 1 else threads,
        "versions": versions,
        "torch": versions.get("torch"),
        "wall_time_s": {
            "chapters": round(sum(float(e["wall_time_s"] or 0) for e in present), 3),
            "elapsed": _elapsed(chapters),
        },
        "measured_seconds": round(sum(float(m["measured_seconds"] or 0) for m in measured.values()), 3),
    }


def _chapters(
    build_dir: Path, profile: str, toc: Path, tree: SourceTree, absent: Mapping[str, str]
) -> tuple[dict, dict[str, Path]]:
    timings = _read_json(build_dir / "results" / profile / "_timings.json") or {}
    chapters, copies = {}, {}
    for chapter in read_toc(toc):
        chapters[chapter.name], files = _chapter_entry(chapter, build_dir, profile, timings, tree, absent)
        copies.update(files)
    unexplained = [name for name, entry in chapters.items() if entry["status"] == "absent" and not entry["reason"]]
    if unexplained:
        raise BookError(
            f"no executed notebook in {build_dir / 'executed' / profile} for chapter(s) {', '.join(unexplained)}, "
            "and no reason stated: run them, or pass --absent CHAPTER=REASON"
        )
    return chapters, copies


def build_manifest(
    build_dir: Path, *, profile: str, toc: Path, absent: Mapping[str, str]
) -> tuple[dict, dict[str, Path]]:
    """The manifest of the run of ``profile`` in ``build_dir`` (without ``files``) and the files of the store
    (``{name in the store: source file}``). Fingerprints come from the tree of the run's commit when the repository
    beside ``toc`` has it and the run's checkout was clean, else from the working tree (``fingerprints_from``)."""
    results = {
        chapter.name: record
        for chapter in read_toc(toc)
        if (record := _read_json(build_dir / "results" / profile / f"{chapter.name}.json")) is not None
    }
    if not results and not (build_dir / "executed" / profile).is_dir():
        raise BookError(f"nothing of profile {profile!r} in {build_dir}: run `make book PROFILE={profile}` first")
    commit, dirty = _one_commit(results, profile)
    clean = commit and dirty is False  # else the commit's tree is not what ran: the working tree is the best guess
    with commit_tree(toc.parent, commit) if clean else contextlib.nullcontext(None) as tree:
        tree = tree or SourceTree.checkout(toc.parent)
        chapters, copies = _chapters(build_dir, profile, toc, tree, absent)
    head = {
        "schema": SCHEMA,
        "profile": profile,
        "commit": commit,
        "dirty": dirty,
        "published_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "fingerprints_from": tree.origin,
    }
    return {**head, **_summary(chapters, results), "chapters": chapters}, copies
