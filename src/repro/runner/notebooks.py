"""A chapter's notebook: read from its Jupytext source, where a run writes it, and what the runner does to it once
papermill has run it (kept as ``.FAILED.ipynb``, or tidied and renamed into place).

Layout under the build folder (default ``_build`` beside ``_toc.yml``)::

    executed/<profile>/<chapter>.ipynb           executed notebooks (written only when every cell succeeded)
    executed/<profile>/<chapter>.FAILED.ipynb    the notebook of a failed run, up to the failing cell
    executed/<profile>/.<chapter>.partial.ipynb  the notebook while papermill runs it
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from repro.book.results import results_path
from repro.book.toc import BookError, Chapter
from repro.runner.kernel import KERNEL_NAME

__all__ = [
    "ChapterNotebooks",
    "clear_chapter_outputs",
    "executed_dir",
    "finish_notebook",
    "keep_failed_notebook",
    "load_chapter_notebook",
    "notebook_paths",
]


def executed_dir(build_dir: str | os.PathLike, profile: str) -> Path:
    """``<build>/executed/<profile>``: the folder of the executed notebooks of ``profile``."""
    return Path(build_dir) / "executed" / profile


@dataclass(frozen=True)
class ChapterNotebooks:
    """Where one chapter's run writes its notebook: ``partial`` while it runs, then ``final`` or ``failed``."""

    final: Path
    failed: Path
    partial: Path


def notebook_paths(chapter: Chapter, build_dir: Path, profile: str) -> ChapterNotebooks:
    """The paths of ``chapter``'s notebooks under ``<build>/executed/<profile>`` (nothing is created)."""
    out_dir = executed_dir(build_dir, profile)
    return ChapterNotebooks(
        final=out_dir / f"{chapter.name}.ipynb",
        failed=out_dir / f"{chapter.name}.FAILED.ipynb",
        partial=out_dir / f".{chapter.name}.partial.ipynb",
    )


def clear_chapter_outputs(chapter: Chapter, build_dir: Path, profile: str) -> ChapterNotebooks:
    """Remove the chapter's previous notebooks (final, failed, partial) and results file; where the run writes."""
    executed_dir(build_dir, profile).mkdir(parents=True, exist_ok=True)
    notebooks = notebook_paths(chapter, build_dir, profile)
    stale_results = results_path(chapter.name, profile, build_dir / "results")
    for path in (notebooks.final, notebooks.failed, notebooks.partial, stale_results):
        path.unlink(missing_ok=True)
    return notebooks


def load_chapter_notebook(chapter: Chapter):
    """The chapter's Jupytext source as a notebook (``nbformat.NotebookNode``) for the runner's kernel; a
    :class:`BookError` unless exactly one cell is tagged ``parameters``."""
    import jupytext

    nb = jupytext.read(chapter.source)
    tagged = [i for i, cell in enumerate(nb.cells) if "parameters" in cell.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1:
        raise BookError(
            f"chapter {chapter.name} ({chapter.source}) must have exactly one cell tagged "
            f"'parameters', found {len(tagged)}"
        )
    nb.metadata["kernelspec"] = {
        "name": KERNEL_NAME,
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    return nb


def _tidy_papermill_metadata(nb, chapter: Chapter, output: Path) -> None:
    """Record the chapter's source and final notebook as papermill's input and output paths."""
    meta = nb.metadata.get("papermill")
    if meta is not None:
        meta["input_path"] = str(chapter.source)
        meta["output_path"] = str(output)


def _final_state(text: str) -> str:
    """What a terminal would show: on each line, the text after the last carriage return (progress bars)."""
    lines = []
    for line in text.split("\n"):
        parts = line.split("\r")
        lines.append(next((part for part in reversed(parts) if part), ""))
    return "\n".join(lines)


def _collapse_streams(nb) -> None:
    """Merge each cell's consecutive outputs to one stream; keep the final state of every progress bar.

    The kernel sends a tqdm bar as one stream message per update (thousands for a long training run); stored
    as they are, the notebook grows by megabytes and the site shows every update on a line of its own.
    """
    for cell in nb.cells:
        if cell.cell_type != "code" or not cell.get("outputs"):
            continue
        merged = []
        for output in cell.outputs:
            previous = merged[-1] if merged else None
            if (
                output.output_type == "stream"
                and previous is not None
                and previous.output_type == "stream"
                and previous.name == output.name
            ):
                previous.text += output.text
            else:
                merged.append(output)
        for output in merged:
            if output.output_type == "stream" and "\r" in output.text:
                output.text = _final_state(output.text)
        cell.outputs = merged


def _hide_injected_parameters(nb) -> None:
    """Tag papermill's injected-parameters cell ``remove-cell`` so the site does not show it."""
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = [*tags, "remove-cell"]


def keep_failed_notebook(chapter: Chapter, notebooks: ChapterNotebooks) -> Path | None:
    """The partial notebook of a failed run renamed ``.FAILED.ipynb`` (its papermill paths tidied when it can be
    read); that path, or None when no notebook was written."""
    import nbformat

    if not notebooks.partial.exists():
        return None
    with contextlib.suppress(Exception):  # best effort: the notebook may be unreadable
        broken = nbformat.read(notebooks.partial, as_version=4)
        _tidy_papermill_metadata(broken, chapter, notebooks.failed)
        nbformat.write(broken, notebooks.partial)
    os.replace(notebooks.partial, notebooks.failed)
    return notebooks.failed


def finish_notebook(chapter: Chapter, notebooks: ChapterNotebooks) -> None:
    """The executed partial notebook, its injected parameters hidden, its streams collapsed and its papermill paths
    tidied, renamed into place as ``final``."""
    import nbformat

    executed = nbformat.read(notebooks.partial, as_version=4)
    _hide_injected_parameters(executed)
    _collapse_streams(executed)
    _tidy_papermill_metadata(executed, chapter, notebooks.final)
    nbformat.write(executed, notebooks.partial)
    os.replace(notebooks.partial, notebooks.final)
