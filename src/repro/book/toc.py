"""The table of contents: which chapters the book has, in reading order, and where their sources are.

Chapters are the Jupytext py:percent files named in ``_toc.yml`` (``root`` and every ``file`` entry, in order); a
chapter's name is its file name without ``.py`` (``book/fig03.py`` → ``fig03``). Adding a chapter = adding its ``.py``
to ``book/`` and a line to ``_toc.yml``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from repro.book.profiles import PROFILES

__all__ = [
    "TOC_NAME",
    "TOC_ENV",
    "BookError",
    "Chapter",
    "find_toc",
    "read_toc",
    "select_chapters",
    "check_profile",
]

TOC_NAME = "_toc.yml"
TOC_ENV = "REPRO_TOC"


class BookError(Exception):
    """A problem the user can fix (unknown chapter or profile, missing file, failed chapter or build)."""


@dataclass(frozen=True)
class Chapter:
    """A chapter: ``name`` (``"fig03"``), ``docname`` as in ``_toc.yml`` (``"book/fig03"``), its .py file."""

    name: str
    docname: str
    source: Path


def find_toc(start: str | os.PathLike | None = None) -> Path:
    """The table of contents: ``$REPRO_TOC`` (set by the runner for its kernels), else ``_toc.yml`` in
    ``start`` (default: cwd) or a parent folder, else beside this package's source checkout."""
    if start is None and os.environ.get(TOC_ENV):
        return Path(os.environ[TOC_ENV])
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / TOC_NAME).is_file():
            return folder / TOC_NAME
    checkout = Path(__file__).resolve().parents[3] / TOC_NAME  # src/repro/book/toc.py → repository root
    if checkout.is_file():
        return checkout
    raise BookError(f"no {TOC_NAME} found in {here} or its parents; pass --toc PATH")


def _toc_files(node: object) -> Iterator[str]:
    """Every ``root`` and ``file`` entry of a sphinx-external-toc tree, in reading order."""
    if isinstance(node, dict):
        for key in ("root", "file"):
            if isinstance(node.get(key), str):
                yield node[key]
        for key, value in node.items():
            if key not in ("root", "file"):
                yield from _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            yield from _toc_files(item)


def read_toc(toc: str | os.PathLike) -> list[Chapter]:
    """The chapters of ``toc`` in reading order; a chapter's source is ``<toc folder>/<file>.py``."""
    import yaml

    toc = Path(toc)
    if not toc.is_file():
        raise BookError(f"table of contents {toc} does not exist")
    with toc.open(encoding="utf-8") as fh:
        tree = yaml.safe_load(fh)
    chapters: list[Chapter] = []
    for docname in _toc_files(tree):
        docname = re.sub(r"\.(py|ipynb|md)$", "", docname)
        name = Path(docname).name
        if any(c.name == name for c in chapters):
            raise BookError(f"{toc}: two chapters are named {name!r}; chapter file names must be unique")
        chapters.append(Chapter(name=name, docname=docname, source=toc.parent / f"{docname}.py"))
    if not chapters:
        raise BookError(f"{toc} lists no chapters")
    return chapters


def select_chapters(chapters: Sequence[Chapter], names: Sequence[str] | None) -> list[Chapter]:
    """The chapters called ``names`` (all of them if empty), in the order asked; their sources must exist."""
    by_name = {c.name: c for c in chapters}
    valid = ", ".join(by_name)
    selected = []
    for name in names or list(by_name):
        key = Path(name).stem if name.endswith((".py", ".ipynb")) else Path(name).name
        if key not in by_name:
            raise BookError(f"unknown chapter {name!r}; chapters in the table of contents: {valid}")
        selected.append(by_name[key])
    missing = [c for c in selected if not c.source.is_file()]
    if missing:
        lines = "\n".join(f"  {c.name}: {c.source} does not exist" for c in missing)
        raise BookError(f"chapter source file(s) missing (listed in {TOC_NAME} but not written yet?):\n{lines}")
    return selected


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise BookError(f"unknown profile {profile!r}; valid profiles: {', '.join(PROFILES)}")
    return profile
