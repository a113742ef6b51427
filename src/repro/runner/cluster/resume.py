"""What a cluster run may keep from an earlier one (:mod:`repro.runner.cluster`): the digest of what a chapter's
output depends on, and whether a chapter finished with that digest.

A chapter's digest covers its source, its parameters and the source of the ``repro`` modules the chapter imports,
directly or not (its experiments, readings, claims, figures and tables; :func:`repro.measurements.keys.source_files`)
— not the whole package: an edit to the runner, or to an experiment another chapter uses, keeps it. A chapter whose
digest changed is executed again, and reads back its stored measurements wherever their own keys
(:mod:`repro.measurements.keys`) still hold, so an edit to a reading costs seconds, not a re-measurement."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from repro.book.toc import Chapter
from repro.measurements.keys import PACKAGE_ROOT, repro_modules, source_digest
from repro.runner import execute

_PACKAGE = Path(__file__).resolve().parents[2]  # src/repro/runner/cluster/resume.py → src/repro


def package_digest() -> str:
    """SHA-256 (16 hex digits) over the path and bytes of every ``.py`` file of the ``repro`` package."""
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(_PACKAGE).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def data_root_parameter(data_root: str | os.PathLike | None) -> str | None:
    """The ``data_root`` value :func:`repro.runner.execute.run_chapter` passes to the chapter."""
    return None if data_root is None else str(Path(data_root).expanduser().resolve())


def chapter_code_digest(chapter: Chapter, root: Path = PACKAGE_ROOT) -> str:
    """SHA-256 (16 hex digits) of the source of the ``repro`` modules ``chapter`` imports and everything they import
    (:func:`repro.measurements.keys.source_digest`); ``root``: the package folder read (a copy in tests)."""
    modules = repro_modules(chapter.source.read_bytes(), root, filename=str(chapter.source))
    return source_digest(tuple(modules), root)


def chapter_digest(
    chapter: Chapter,
    *,
    profile: str,
    seed: int,
    device: str,
    data_root: str | os.PathLike | None,
    threads: int = execute.DEFAULT_THREADS,
) -> str:
    """What a chapter's notebook and results depend on: its source, profile, seed, device, the data root it
    resolves to, the kernel's CPU threads and the source of every ``repro`` module the chapter imports, directly or
    not (:func:`chapter_code_digest`); 16 hex digits."""
    from repro.data import resolve_data_root

    settings = {
        "profile": profile,
        "seed": int(seed),
        "device": device,
        "threads": int(threads),
        "data_root": str(resolve_data_root(data_root_parameter(data_root)).resolve()),
        "code": chapter_code_digest(chapter),
    }
    digest = hashlib.sha256(chapter.source.read_bytes())
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def finished_earlier(chapter: Chapter, build_dir: Path, profile: str, digest: str, timings: dict) -> bool:
    """Whether ``chapter`` finished earlier with ``digest``: its entry in ``timings`` (the ``_timings.json`` of
    ``profile``) says *ok* for that digest, and its notebook (and results file, if it wrote one) exist."""
    from repro.book.results import results_path

    entry = timings.get(chapter.name) or {}
    return (
        entry.get("status") == "ok"
        and entry.get("digest") == digest
        and (execute.executed_dir(build_dir, profile) / f"{chapter.name}.ipynb").is_file()
        and (not entry.get("results") or results_path(chapter.name, profile, build_dir / "results").is_file())
    )
