"""Machine-readable results of the book's chapters: one JSON file per chapter and profile.

A chapter ends by calling :func:`save_results` with its headline numbers and its verdict on the paper's claim;
the file lands in ``<out_dir>/<profile>/<chapter>.json`` where ``out_dir`` is the argument, else
``$REPRO_RESULTS_DIR`` (the runner, :mod:`repro.runner.execute`, sets it to ``<build>/results``), else
``<cwd>/_build/results``. :func:`load_results` reads every chapter's file back (the claims table), and the
runner adds each chapter's execution time with :func:`record_wall_time`.

A results file holds::

    {"schema": 2, "chapter": "fig03", "profile": "quick", "seed": 0, "device": "cpu", "threads": 1,
     "versions": {"python": ..., "torch": ..., "numpy": ..., "repro": ...},
     "git": {"commit": "<sha>" | null, "dirty": true | false | null},
     "timestamp_utc": "2025-01-01T12:00:00+00:00",
     "headline": {...}, "verdict": "..." | null, "checks": [{"claim": ..., "passed": ..., "evidence": ...,
     "precondition": ..., "outcome": "holds" | "contradicted" | "undecided"}, ...], "details": {...},
     "config": {...} | [{...}, ...] | null,
     "wall_time_s": 12.3}          # added by the runner after the chapter has run

Floats that are not finite (NaN, ±inf) are stored as ``null``; NumPy scalars and arrays and torch tensors
become plain JSON numbers and lists. Files are written atomically (temporary file + :func:`os.replace`), so a
reader never sees half a file.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
import os
import platform
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from repro.claims.summary import ChapterRecord
from repro.claims.verdicts import Check
from repro.devices import describe_device

__all__ = [
    "RESULTS_ENV",
    "SCHEMA_VERSION",
    "results_dir",
    "results_path",
    "save_results",
    "load_results",
    "record_wall_time",
    "timings_path",
    "load_records",
    "cache_dir",
    "measurements_dir",
    "display_path",
]

RESULTS_ENV = "REPRO_RESULTS_DIR"
SCHEMA_VERSION = 2  # 2: the checks as typed records at the top level (1: under details)
_GIT_TIMEOUT_S = 5.0


def results_dir(out_dir: str | os.PathLike | None = None) -> Path:
    """The results root: ``out_dir``, else ``$REPRO_RESULTS_DIR``, else ``<cwd>/_build/results``."""
    if out_dir is not None:
        return Path(out_dir)
    env = os.environ.get(RESULTS_ENV)
    if env:
        return Path(env)
    return Path.cwd() / "_build" / "results"


def cache_dir(out_dir: str | os.PathLike | None = None) -> Path:
    """Where experiments shared by chapters are cached (:func:`repro.measurements.store.cached`):
    ``<results root>/cache``."""
    return results_dir(out_dir) / "cache"


def measurements_dir(chapter: str, profile: str, out_dir: str | os.PathLike | None = None) -> Path:
    """Where chapter ``chapter``'s measurements for ``profile`` are stored
    (:meth:`repro.book.chapter.ChapterContext.run`): ``<results root>/measurements/<profile>/<chapter>``."""
    return results_dir(out_dir) / "measurements" / _check_name(profile, "profile") / _check_name(chapter, "chapter")


def display_path(path: str | os.PathLike) -> str:
    """``path`` as a page may show it: relative to the build folder (the results root's parent) when inside it,
    else its last two parts; never the absolute path of the machine that built the page."""
    path = Path(path).resolve()
    build = results_dir().resolve().parent
    if path.is_relative_to(build):
        return f"<build>/{path.relative_to(build).as_posix()}"
    return "/".join(path.parts[-2:])


def _check_name(value: str, what: str) -> str:
    if not isinstance(value, str) or not value or "/" in value or "\\" in value or value.startswith((".", "_")):
        raise ValueError(
            f"{what} must be a plain non-empty name (no path separators, no leading '.'/'_'), got {value!r}"
        )
    return value


def results_path(chapter: str, profile: str, out_dir: str | os.PathLike | None = None) -> Path:
    """``<results root>/<profile>/<chapter>.json``."""
    return results_dir(out_dir) / _check_name(profile, "profile") / f"{_check_name(chapter, 'chapter')}.json"


def _jsonable(value: Any, where: str) -> Any:
    """Plain JSON types; non-finite floats → None; NumPy/torch values → Python numbers and lists."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, torch.Tensor):
        return _jsonable(value.detach().cpu().numpy(), where)
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist(), where)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise TypeError(f"{where}: cannot store a {type(value).__name__} in a results file")


def _git_info() -> dict[str, Any]:
    """Commit and dirty flag of the checkout holding this package; nulls outside a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=_GIT_TIMEOUT_S
        )
        if commit.returncode != 0:
            return {"commit": None, "dirty": None}
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT_S,
        )
    except (OSError, subprocess.TimeoutExpired):
        return {"commit": None, "dirty": None}
    dirty = bool(status.stdout.strip()) if status.returncode == 0 else None
    return {"commit": commit.stdout.strip(), "dirty": dirty}


def _versions() -> dict[str, str]:
    import repro

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "repro": repro.__version__,
    }


def _write_json_atomic(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(payload, indent=2, allow_nan=False) + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _config_dict(config: object) -> dict | list | None:
    if config is None:
        return None
    if isinstance(config, tuple):
        return [_config_dict(c) for c in config]
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise ValueError(f"config must be a config dataclass or a tuple of them, got {type(config).__name__}")
    return _jsonable(dataclasses.asdict(config), "config")


def save_results(
    chapter: str,
    *,
    profile: str,
    seed: int,
    device: str | torch.device,
    headline: dict[str, float | int | str | None],
    verdict: str | None,
    checks: Sequence[Check] = (),
    details: dict | None = None,
    config: object = None,
    out_dir: str | Path | None = None,
) -> Path:
    """Write ``<out_dir>/<profile>/<chapter>.json`` (atomically) and return its path.

    Args:
        chapter: the chapter's name, its file name in ``book/`` without ``.py`` (e.g. ``"fig03"``).
        profile, seed: the chapter's parameters.
        device: a description such as ``"cpu"`` or ``"cuda (NVIDIA H100)"``; a :class:`torch.device` is
            described with :func:`describe_device`.
        headline: the numbers the chapter reports, name → number, string or None; a flat list of those
            (such as a confidence interval) is accepted too, nothing nested.
        verdict: the chapter's one-line verdict on the paper's claim, or None when it makes no claim.
        checks: the checks behind the verdict (:class:`repro.claims.verdicts.Check`), stored as records.
        details: anything else JSON-able (NumPy arrays and tensors become lists).
        config: the chapter's settings (a config of :mod:`repro.experiments.configs`, or a tuple of them), stored
            as ``"config"`` (a dict, or a list of dicts): sizes, learning rate, initialisation, ….
        out_dir: results root; default ``$REPRO_RESULTS_DIR``, else ``<cwd>/_build/results``.
    """
    path = results_path(chapter, profile, out_dir)
    if isinstance(device, torch.device):
        device = describe_device(device)
    if not isinstance(device, str) or not device:
        raise ValueError(f"device must be a non-empty string or a torch.device, got {device!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    if not isinstance(headline, Mapping):
        raise ValueError(f"headline must be a dict of name → number/string/None, got {type(headline).__name__}")
    clean_headline = _jsonable(headline, "headline")
    for key, value in clean_headline.items():
        flat_list = isinstance(value, list) and not any(isinstance(v, (dict, list)) for v in value)
        if isinstance(value, dict) or (isinstance(value, list) and not flat_list):
            raise ValueError(
                f"headline[{key!r}] must be a number, a string, None or a flat list of those "
                f"(such as an interval), not {value!r}"
            )
    if verdict is not None and not isinstance(verdict, str):
        raise ValueError(f"verdict must be a string or None, got {verdict!r}")
    payload = {
        "schema": SCHEMA_VERSION,
        "chapter": chapter,
        "profile": profile,
        "seed": int(seed),
        "device": device,
        "threads": torch.get_num_threads(),  # torch's CPU threads: float results on the CPU depend on them
        "versions": _versions(),
        "git": _git_info(),
        "timestamp_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "headline": clean_headline,
        "verdict": verdict,
        "checks": [_jsonable(c.as_record(), "checks") for c in checks],
        "details": _jsonable(details or {}, "details"),
        "config": _config_dict(config),
    }
    _write_json_atomic(path, payload)
    return path


def load_results(profile: str, out_dir: str | Path | None = None) -> list[dict]:
    """Every chapter's results file in ``<out_dir>/<profile>/``, sorted by chapter name (``[]`` if none)."""
    folder = results_dir(out_dir) / _check_name(profile, "profile")
    if not folder.is_dir():
        return []
    results = []
    for path in sorted(folder.glob("*.json")):
        if path.name.startswith((".", "_")):
            continue
        with path.open(encoding="utf-8") as fh:
            results.append(json.load(fh))
    return results


def load_records(profile: str, out_dir: str | Path | None = None) -> list[ChapterRecord]:
    """:func:`load_results` as typed records (:class:`repro.claims.summary.ChapterRecord`), for the claims page."""
    return [ChapterRecord.from_results(payload) for payload in load_results(profile, out_dir)]


def record_wall_time(chapter: str, profile: str, wall_time_s: float, out_dir: str | Path | None = None) -> Path | None:
    """Add ``wall_time_s`` to a chapter's results file; its path, or None if the chapter wrote none."""
    path = results_path(chapter, profile, out_dir)
    if not path.is_file():
        return None
    with path.open(encoding="utf-8") as fh:
        payload = json.load(fh)
    payload["wall_time_s"] = round(float(wall_time_s), 3)
    _write_json_atomic(path, payload)
    return path


def timings_path(profile: str, out_dir: str | Path | None = None) -> Path:
    """``<out_dir>/<profile>/_timings.json``: the runner's record of every chapter run (status, wall time;
    :mod:`repro.runner.timings`)."""
    return results_dir(out_dir) / _check_name(profile, "profile") / "_timings.json"
