"""The package's layout: small modules, short functions, public names across module boundaries, and measuring
code that never imports what reads its measurements."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from repro.measurements.keys import PACKAGE_ROOT, source_files

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
SOURCES = sorted(PACKAGE_ROOT.rglob("*.py"))
READERS = ("analysis/", "claims/", "book/", "runner/")  # what reads, judges, draws and executes


def _name(path: Path) -> str:
    return path.relative_to(PACKAGE_ROOT).as_posix()


@pytest.mark.parametrize("path", SOURCES, ids=_name)
def test_modules_and_functions_are_small(path):
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_MODULE_LINES, f"{_name(path)} has over {MAX_MODULE_LINES} lines"
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(text))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, f"{_name(path)}: functions over {MAX_FUNCTION_LINES} lines: {long}"


@pytest.mark.parametrize("path", SOURCES, ids=_name)
def test_no_private_name_is_imported_from_another_module(path):
    private = [
        f"from {node.module} import {alias.name}"
        for node in ast.walk(ast.parse(path.read_bytes()))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("repro")
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    ]
    assert not private, f"{_name(path)} imports private names: {private}"


@pytest.mark.parametrize(
    "module",
    sorted(
        f"repro.experiments.{p.stem}" for p in (PACKAGE_ROOT / "experiments").glob("*.py") if p.stem != "__init__"
    ),
)
def test_measuring_code_imports_nothing_that_reads_its_measurements(module):
    """So that an edit to a reading, a claim, a figure or the runner keeps every stored measurement."""
    readers = [_name(p) for p in source_files(module) if _name(p).startswith(READERS)]
    assert not readers, f"{module} imports {readers}: editing them would re-measure"
