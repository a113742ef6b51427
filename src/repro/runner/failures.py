"""How a failed chapter is reported: :class:`ChapterFailed`, naming the chapter, the failing cell, the line of the
chapter's ``.py`` where that cell starts, the error, and where the ``.FAILED.ipynb`` is kept."""

from __future__ import annotations

import contextlib
from pathlib import Path

from repro.book.toc import BookError, Chapter

__all__ = ["ChapterFailed", "chapter_failure"]


class ChapterFailed(BookError):
    """A chapter raised in one of its cells; ``notebook`` is the ``.FAILED.ipynb`` kept for inspection."""

    def __init__(
        self,
        chapter: str,
        message: str,
        *,
        notebook: Path | None,
        cell_index: int | None = None,
        exec_count: int | None = None,
        ename: str | None = None,
        evalue: str | None = None,
    ):
        super().__init__(message)
        self.chapter = chapter
        self.notebook = notebook
        self.cell_index = cell_index
        self.exec_count = exec_count
        self.ename = ename
        self.evalue = evalue


def _first_lines(source: str, n: int = 3) -> str:
    lines = [line for line in source.strip().splitlines() if line.strip()]
    more = "\n    …" if len(lines) > n else ""
    return "\n".join(f"    {line}" for line in lines[:n]) + more


def _locate(source_file: Path, cell_source: str) -> str:
    """``<file> line <n>``: where the failing cell's code starts in the chapter's .py, if it can be found."""
    with contextlib.suppress(OSError):
        text = source_file.read_text(encoding="utf-8")
        at = text.find(cell_source.strip()) if cell_source.strip() else -1
        if at >= 0:
            return f"{source_file} line {text.count(chr(10), 0, at) + 1}"
    return str(source_file)


def chapter_failure(chapter: Chapter, error: BaseException, kept: Path | None, wall: float) -> ChapterFailed | None:
    """The :class:`ChapterFailed` that reports ``error`` (raised ``wall`` seconds into the chapter; its notebook
    ``kept``): the failing cell, its source line and first lines for an error in a cell. None for what is not an
    :class:`Exception` (KeyboardInterrupt, SystemExit), which the caller raises as it is."""
    from papermill.exceptions import PapermillExecutionError

    where = f"the failed notebook is kept at {kept}" if kept else "no notebook was written"
    if isinstance(error, PapermillExecutionError):
        message = (
            f"chapter {chapter.name} failed after {wall:.1f} s in cell In [{error.exec_count}] "
            f"(notebook cell {error.cell_index}, {_locate(chapter.source, error.source)}):\n"
            f"{_first_lines(error.source)}\n"
            f"{error.ename}: {error.evalue}\n{where}"
        )
        return ChapterFailed(
            chapter.name,
            message,
            notebook=kept,
            cell_index=error.cell_index,
            exec_count=error.exec_count,
            ename=error.ename,
            evalue=error.evalue,
        )
    if isinstance(error, Exception):
        message = (
            f"chapter {chapter.name} ({chapter.source}) failed after {wall:.1f} s: "
            f"{type(error).__name__}: {error}\n{where}"
        )
        return ChapterFailed(chapter.name, message, notebook=kept)
    return None
