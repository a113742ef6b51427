"""Static checks of every chapter in ``_toc.yml`` and of its committed reference notebook (no execution).

What the runner, nbval and the site rely on: a ``parameters`` cell with the four standard parameters and
their defaults, a last code cell tagged ``nbval-check-output``, and a reference notebook in
``tests/reference/`` made from the chapter as it is now (``make references``) with portable parameters.
The reference notebooks themselves are re-executed and compared by nbval (``pytest --nbval-lax``).

A chapter is prose, settings and short calls into ``repro``: no code cell holds more than
:data:`MAX_CELL_LINES` lines of code (an algorithm belongs in ``repro.experiments`` or ``repro.analysis``).
"""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import jupytext
import pytest

from repro.book import read_toc

REPO = Path(__file__).resolve().parents[1]
TOC = Path(os.environ.get("REPRO_TOC") or REPO / "_toc.yml")
REFERENCES = REPO / "tests" / "reference"
CHAPTERS = read_toc(TOC)
DEFAULTS = {"profile": "quick", "device": "auto", "seed": 0, "data_root": None}
REFERENCE_PARAMETERS = {"profile": "quick", "device": "cpu", "seed": 0, "data_root": None}
MAX_CELL_LINES = 12  # code lines (not blank, not comments) in one code cell of a chapter
by_chapter = pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.name for c in CHAPTERS])


def _tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def _assignments(source: str) -> dict:
    values = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            values[node.targets[0].id] = ast.literal_eval(node.value)
    return values


def _source(chapter):
    if not chapter.source.is_file():
        pytest.fail(f"{chapter.name} is listed in {TOC.name} but {chapter.source} does not exist")
    return jupytext.read(chapter.source)


def _reference(chapter) -> dict:
    path = REFERENCES / f"{chapter.name}.ipynb"
    if not path.is_file():
        pytest.fail(f"no reference notebook {path}; run `make references CHAPTERS={chapter.name}`")
    return json.loads(path.read_text(encoding="utf-8"))


def _text(source: str | list[str]) -> str:
    return "".join(source) if isinstance(source, list) else source


@by_chapter
def test_chapter_has_the_standard_parameters_cell(chapter):
    cells = [c for c in _source(chapter).cells if "parameters" in _tags(c)]
    assert len(cells) == 1, f"{chapter.name}: exactly one cell must be tagged 'parameters'"
    assert "remove-cell" in _tags(cells[0]), (
        f"{chapter.name}: the parameters cell must be tagged 'remove-cell'"
    )
    values = _assignments(cells[0].source)
    assert {k: values.get(k, "<missing>") for k in DEFAULTS} == DEFAULTS


@by_chapter
def test_chapter_ends_with_a_checked_cell(chapter):
    code = [c for c in _source(chapter).cells if c.cell_type == "code"]
    assert "nbval-check-output" in _tags(code[-1]), (
        f"{chapter.name}: the last code cell must be tagged 'nbval-check-output' (rounded headline numbers)"
    )


@by_chapter
def test_reference_is_portable_and_clean(chapter):
    nb = _reference(chapter)
    assert nb["metadata"]["papermill"]["parameters"] == REFERENCE_PARAMETERS
    injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(injected) == 1 and "data_root = None" in _text(injected[0]["source"])
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{chapter.name}: the reference notebook holds an error"
    checked = [c for c in nb["cells"] if "nbval-check-output" in c["metadata"].get("tags", [])]
    assert checked and checked[-1].get("outputs"), (
        f"{chapter.name}: the checked cell has no output to compare"
    )


@by_chapter
def test_reference_was_made_from_the_current_chapter(chapter):
    current = [(c.cell_type, c.source.strip()) for c in _source(chapter).cells]
    reference = [
        (c["cell_type"], _text(c["source"]).strip())
        for c in _reference(chapter)["cells"]
        if "injected-parameters" not in c["metadata"].get("tags", [])
    ]
    assert reference == current, (
        f"tests/reference/{chapter.name}.ipynb is out of date with {chapter.source.relative_to(TOC.parent)}; "
        f"regenerate it with `make references CHAPTERS={chapter.name}`"
    )


def _code_lines(source: str) -> int:
    """Physical lines of a cell that are neither blank nor comments (a statement over several lines counts each)."""
    return sum(1 for line in source.splitlines() if line.strip() and not line.lstrip().startswith("#"))


def test_code_lines_counts_physical_lines_of_code_only():
    source = "# a comment\n\nx = {\n    'a': 1,  # why\n}\n    # indented comment\nf(x)\n"
    assert _code_lines(source) == 4


@by_chapter
def test_chapter_code_cells_are_short_calls(chapter):
    long = {
        k: n
        for k, cell in enumerate(_source(chapter).cells)
        if cell.cell_type == "code" and (n := _code_lines(cell.source)) > MAX_CELL_LINES
    }
    assert not long, (
        f"{chapter.name}: code cells longer than {MAX_CELL_LINES} lines (cell index: lines) {long}; move the logic "
        "into repro.experiments (measuring) or repro.analysis (reading) and call it"
    )
