"""How much the verdicts depend on the named thresholds: each threshold halved and doubled, the chapters it can move
re-executed from their stored measurements (``python -m repro.runner sensitivity``; the claims page shows the
table, :mod:`repro.claims.sensitivity`).

For each threshold of :data:`repro.claims.thresholds.THRESHOLDS` and each factor, the chapters the threshold can
move run in a scratch build folder ``<build>/sensitivity/<NAME>-<factor>/`` whose ``results/measurements`` and
``results/cache`` are symbolic links to the build folder's own: the scratch run reads the build's measurements back,
and its results files, notebooks and timings stay in the scratch folder, so the build's own results are never
overwritten. Each kernel gets ``REPRO_THRESHOLDS={"NAME": value}`` (the override, the run's only hook) and
``REPRO_READ_ONLY=1``, under which a chapter whose measurement is not stored stops with
:class:`repro.book.chapter.MeasurementRefused` instead of training: such a chapter is recorded as not computed. As a
second guard, a scratch results file that lists a measurement not read back is recorded as "measured again" and its
verdict is not used.

What is compared, per chapter: the verdict and every headline entry in words (a finding, such as Figure 2's
``textbook32_collapse`` or the set-up chapter's verdicts under each initialisation), at the default (the build's own
results file) and at the changed value. The file ``<build>/results/<profile>/_sensitivity.json`` (written atomically
after each threshold; thresholds not run this time are kept from an earlier file of the same profile)::

    {"schema": 1, "profile": "quick", "thresholds": {"NEAR_ZERO": {
        "default": 0.1, "decides": "...", "module": "class_membership", "chapters": ["fig02"],
        "computed_utc": "...", "runs": [{"factor": 0.5, "value": 0.05, "chapters": {
            "fig02": {"computed": true, "default": {"verdict": "..."}, "changed": {"verdict": "..."},
                      "moved": {"verdict": ["supported", "partly reproduced"]}, "seconds": 8.1}}}, ...]}}}

A chapter not computed has ``{"computed": false, "reason": "..."}`` instead.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path

from repro.book.results import results_path
from repro.book.toc import BookError, Chapter, check_profile, find_toc, read_toc
from repro.claims.thresholds import THRESHOLDS, THRESHOLDS_ENV, Threshold
from repro.runner.execute import DEFAULT_THREADS, check_run_device, check_threads, run_chapter
from repro.runner.failures import ChapterFailed
from repro.runner.timings import now_utc

__all__ = [
    "FACTORS",
    "SENSITIVITY_FILE",
    "SCHEMA",
    "LINKED",
    "scratch_dir",
    "prepare_scratch",
    "outcomes",
    "measured_again",
    "write_atomically",
    "run_sensitivity",
]

FACTORS = (0.5, 2.0)  # halved and doubled
SENSITIVITY_FILE = "_sensitivity.json"  # in <build>/results/<profile>/
SCHEMA = 1
LINKED = ("measurements", "cache")  # the build's stores the scratch folder reads through symbolic links
READ_ONLY = {"REPRO_READ_ONLY": "1"}  # repro.book.chapter.READ_ONLY_ENV: refuse to measure


def scratch_dir(build_dir: str | os.PathLike, name: str, factor: float) -> Path:
    """``<build>/sensitivity/<name>-<factor>``, e.g. ``_build/sensitivity/NEAR_ZERO-0.5``."""
    return Path(build_dir) / "sensitivity" / f"{name}-{factor:g}"


def prepare_scratch(build_dir: str | os.PathLike, scratch: Path) -> Path:
    """Create ``scratch/results`` with ``measurements`` and ``cache`` as symbolic links to the build folder's own
    (``<build>/results/measurements``, ``<build>/results/cache``; a link to a folder the build does not have leads
    nowhere, and the read-only guard then refuses what would be measured); returns ``scratch``. A link already there
    is replaced, so a scratch folder moved with its build points at the right place; anything else at that path is
    an error, not overwritten."""
    results = scratch / "results"
    results.mkdir(parents=True, exist_ok=True)
    for name in LINKED:
        link, target = results / name, (Path(build_dir) / "results" / name).resolve()
        if link.is_symlink():
            link.unlink()
        elif link.exists():
            raise BookError(f"{link} exists and is not a link to {target}: remove it (a scratch folder holds none)")
        link.symlink_to(target, target_is_directory=True)
    return scratch


def outcomes(payload: Mapping) -> dict[str, object]:
    """What a results file decides: its ``verdict`` (when the chapter judged one) and every headline entry in words
    (a finding: ``"textbook32_collapse": "yes"``)."""
    found = {"verdict": payload["verdict"]} if payload.get("verdict") is not None else {}
    return found | {k: v for k, v in (payload.get("headline") or {}).items() if isinstance(v, str)}


def measured_again(payload: Mapping) -> list[str]:
    """The experiments a results file says were measured in its execution rather than read back."""
    return [m.get("experiment", "?") for m in payload.get("details", {}).get("measurements", []) if not m["read_back"]]


def write_atomically(path: Path, data: object) -> None:
    """``data`` as JSON at ``path``, through a temporary file in the same folder and :func:`os.replace`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, allow_nan=False)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read(path: Path) -> dict | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _one_run(chapter: Chapter, default: Mapping, scratch: Path, profile: str, run: Callable[..., object]) -> dict:
    """One chapter at one changed value (``run(chapter, build_dir=scratch)`` executes it): its outcomes beside the
    default's (``default``: the build's own results file), or why it was not computed."""
    if default.get("details", {}).get("threshold_overrides"):
        return {"computed": False, "reason": "the build's own results file was made with thresholds overridden"}
    start = time.perf_counter()
    try:
        run(chapter, build_dir=scratch)
    except ChapterFailed as err:
        if err.ename == "MeasurementRefused":
            reason = f"a measurement is not stored (it would have to train): {err.evalue}"
        else:
            reason = f"the chapter failed: {err.ename or 'error'}: {err.evalue or err}"
        return {"computed": False, "reason": reason}
    payload = _read(results_path(chapter.name, profile, scratch / "results"))
    if payload is None:
        return {"computed": False, "reason": "the chapter wrote no results file"}
    again = measured_again(payload)
    if again:
        return {"computed": False, "reason": f"measured again ({', '.join(again)}): not a sensitivity from stored data"}
    before, after = outcomes(default), outcomes(payload)
    keys = sorted(set(before) | set(after))
    moved = {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}
    seconds = round(time.perf_counter() - start, 1)
    return {"computed": True, "default": before, "changed": after, "moved": moved, "seconds": seconds}


def run_sensitivity(
    build_dir: str | os.PathLike,
    *,
    profile: str = "quick",
    names: Sequence[str] | None = None,
    factors: Sequence[float] = FACTORS,
    toc: str | os.PathLike | None = None,
    device: str = "auto",
    seed: int = 0,
    data_root: str | os.PathLike | None = None,
    threads: int = DEFAULT_THREADS,
    log_output: bool = False,
    registry: Mapping[str, Threshold] = THRESHOLDS,
    log: Callable[[str], None] = print,
) -> Path:
    """Each threshold ``names`` (default: every one in ``registry``) times each factor, the chapters it can move
    re-executed from the measurements stored in ``build_dir`` (module docstring); returns the path of
    ``_sensitivity.json``. A chapter without a results file in ``build_dir`` is recorded as not computed and not
    executed. ``device``, ``seed``, ``data_root`` and ``threads`` must be those the build was run with, or the
    stored measurements' keys do not hold (and the chapters are recorded as not computed)."""
    toc = Path(toc) if toc else find_toc()
    check_profile(profile)
    check_threads(threads)
    check_run_device(device)
    chosen = list(registry) if not names else list(names)
    unknown = [n for n in chosen if n not in registry]
    if unknown:
        raise BookError(f"unknown threshold(s) {unknown}; known: {', '.join(registry)}")
    if not factors or any(not f > 0 for f in factors):
        raise BookError(f"factors must be positive numbers, got {list(factors)}")
    chapters = {c.name: c for c in read_toc(toc)}
    build_dir = Path(build_dir)
    out = build_dir / "results" / profile / SENSITIVITY_FILE
    previous = _read(out)
    kept = previous["thresholds"] if previous and previous.get("profile") == profile else {}
    data = {"schema": SCHEMA, "profile": profile, "thresholds": dict(kept)}
    settings = {"profile": profile, "device": device, "seed": seed, "data_root": data_root, "toc": toc,
                "threads": threads, "log_output": log_output}  # fmt: skip
    total = len(chosen) * len(factors)
    started = time.perf_counter()
    for i, name in enumerate(chosen):
        t = registry[name]
        defaults = {ch: _read(results_path(ch, profile, build_dir / "results")) for ch in t.chapters}
        runs = []
        for j, factor in enumerate(factors, 1):
            value = t.changed(factor)
            env = {THRESHOLDS_ENV: json.dumps({name: value}), **READ_ONLY}
            scratch = prepare_scratch(build_dir, scratch_dir(build_dir, name, factor))
            change = ("a decade down" if factor < 1 else "a decade up") if t.decade else f"× {factor:g}"
            step = f"[{i * len(factors) + j}/{total}] {name} {change} = {value:g}"
            results = {}
            for ch in t.chapters:
                if ch not in chapters:
                    results[ch] = {"computed": False, "reason": "not a chapter of this book"}
                elif defaults[ch] is None:
                    results[ch] = {"computed": False, "reason": f"no results file in {build_dir}: run it there first"}
                else:
                    log(f"{step}: {ch} …")
                    run = partial(run_chapter, **settings, environment=env)
                    results[ch] = _one_run(chapters[ch], defaults[ch], scratch, profile, run)
                log(f"{step}: {ch}: {_said(results[ch])}")
            runs.append({"factor": factor, "value": value, "chapters": results})
        data["thresholds"][name] = {
            "default": t.value, "decides": t.decides, "module": t.module, "chapters": list(t.chapters),
            "computed_utc": now_utc(), "runs": runs,
        }  # fmt: skip
        write_atomically(out, data)
    log(f"{len(chosen)} threshold(s) × {len(factors)} factor(s) in {time.perf_counter() - started:.1f} s → {out}")
    return out


def _said(result: Mapping) -> str:
    """One progress line's end: what moved, or why nothing was computed."""
    if not result["computed"]:
        return f"not computed ({result['reason']})"
    moved = result["moved"]
    return "nothing moved" if not moved else "; ".join(f"{k}: {a} → {b}" for k, (a, b) in moved.items())
