"""What a cluster run may keep from an earlier one (:mod:`repro.runner.cluster`): the digest of what a chapter's
output depends on, and whether a chapter finished with that digest."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from repro.book.toc import Chapter
from repro.runner import execute

_PACKAGE = Path(__file__).resolve().parents[2]  # src/repro/runner/cluster/resume.py → src/repro


def package_digest() -> str:
    """SHA-256 (16 hex digits) over the path and bytes of every ``.py`` file of the ``repro`` package."""
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(_PACKAGE).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _data_root_parameter(data_root: str | os.PathLike | None) -> str | None:
    """The ``data_root`` value :func:`repro.runner.execute.run_chapter` passes to the chapter."""
    return None if data_root is None else str(Path(data_root).expanduser().resolve())


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
    resolves to, the kernel's CPU threads and the package's source (:func:`package_digest`); 16 hex digits."""
    from repro.data import resolve_data_root

    settings = {
        "profile": profile,
        "seed": int(seed),
        "device": device,
        "threads": int(threads),
        "data_root": str(resolve_data_root(_data_root_parameter(data_root)).resolve()),
        "package": package_digest(),
    }
    digest = hashlib.sha256(chapter.source.read_bytes())
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def _finished(chapter: Chapter, build_dir: Path, profile: str, digest: str, timings: dict) -> bool:
    from repro.book.results import results_path

    entry = timings.get(chapter.name) or {}
    return (
        entry.get("status") == "ok"
        and entry.get("digest") == digest
        and (execute.executed_dir(build_dir, profile) / f"{chapter.name}.ipynb").is_file()
        and (not entry.get("results") or results_path(chapter.name, profile, build_dir / "results").is_file())
    )
