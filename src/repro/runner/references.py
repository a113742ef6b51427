"""The reference notebooks ``tests/reference/<chapter>.ipynb`` that nbval re-executes and the browser test renders:
every chapter run with the quick profile on the CPU with seed 0, then stripped of timestamps and machine paths."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from repro.book.toc import Chapter, find_toc
from repro.devices import NUMERICS_FIELDS, machine_fingerprint
from repro.runner.execute import run

__all__ = ["REFERENCE_DIR", "make_references"]

REFERENCE_DIR = Path("tests") / "reference"


def _portable_reference(nb, chapter: Chapter, target: Path, root: Path) -> None:
    """Drop timestamps and durations, and write paths relative to the repository, so that regenerated
    references differ only where the results differ and carry no machine's paths."""
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
    meta = nb.metadata.get("papermill", {})
    for key in ("start_time", "end_time", "duration"):
        meta.pop(key, None)
    for key, path in (("input_path", chapter.source), ("output_path", target)):
        if key in meta:
            path = Path(os.path.abspath(path))
            meta[key] = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
    made_on = machine_fingerprint()
    nb.metadata["repro"] = {"made_on": {k: made_on[k] for k in NUMERICS_FIELDS}}


def make_references(
    names: Sequence[str] | None = None,
    *,
    toc: str | os.PathLike | None = None,
    reference_dir: str | os.PathLike | None = None,
    log: Callable[[str], None] = print,
) -> list[Path]:
    """Regenerate ``tests/reference/<chapter>.ipynb``: quick profile, CPU, seed 0, ``data_root=None``.

    ``data_root=None`` means the committed notebooks carry no machine's path: when nbval re-runs them, the
    package resolves ``$REPRO_DATA_ROOT`` (or its default) on that machine.
    """
    import nbformat

    toc = Path(toc) if toc else find_toc()
    reference_dir = Path(reference_dir) if reference_dir else toc.parent / REFERENCE_DIR
    reference_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="repro-references-") as tmp:
        runs = run(names, toc=toc, profile="quick", device="cpu", seed=0, data_root=None, build_dir=tmp, log=log)
        for done in runs:
            nb = nbformat.read(done.notebook, as_version=4)
            target = reference_dir / f"{done.chapter.name}.ipynb"
            _portable_reference(nb, done.chapter, target, Path(os.path.abspath(toc.parent)))
            partial = reference_dir / f".{done.chapter.name}.partial.ipynb"
            nbformat.write(nb, partial)
            os.replace(partial, target)
            log(f"reference written: {target}")
            written.append(target)
    return written
