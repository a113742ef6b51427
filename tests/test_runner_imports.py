"""The chapters' kit (:mod:`repro.book`) loads none of the runner's machinery: a chapter that imports it loads neither
papermill, jupytext, Jupyter Book, nbformat, nbclient nor Dask, and the kit never imports :mod:`repro.runner`.

The imports are the chapters' own, read from ``book/*.py`` with :mod:`ast`, and run in a fresh interpreter so that
nothing this test process (or pytest's plugins, such as nbval) has loaded counts.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import repro

pytestmark = pytest.mark.slow  # fresh interpreters importing the kit

REPO = Path(__file__).resolve().parents[1]
KIT = Path(repro.__file__).resolve().parent / "book"
RUNNER_ONLY = ("papermill", "jupytext", "jupyter_book", "nbformat", "nbclient", "dask", "distributed")


def repro_imports(path: Path) -> list[str]:
    """Every ``import repro...`` and ``from repro... import ...`` statement of ``path``, as source lines."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            lines += [f"import {alias.name}" for alias in node.names if alias.name.split(".")[0] == "repro"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "repro":
            lines.append(f"from {node.module} import {', '.join(alias.name for alias in node.names)}")
    return lines


def loaded_after(statements: list[str]) -> list[str]:
    """The modules of :data:`RUNNER_ONLY` in ``sys.modules`` of a fresh interpreter after ``statements``."""
    probe = "\n".join(
        [*statements, "import sys, json", f"print(json.dumps([m for m in {RUNNER_ONLY!r} if m in sys.modules]))"]
    )
    src = str(Path(repro.__file__).resolve().parents[1])  # this checkout's repro, whatever is installed
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, cwd=REPO, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_chapters_imports_load_none_of_the_runners_machinery():
    statements = sorted({line for path in sorted((REPO / "book").glob("*.py")) for line in repro_imports(path)})
    assert "from repro.book.chapter import open_chapter" in statements  # the collection finds the chapters' imports
    assert any(line.startswith("from repro.book import") and "find_toc" in line for line in statements)
    assert loaded_after(statements) == []


def test_every_module_of_the_kit_loads_none_of_the_runners_machinery():
    modules = sorted(
        ".".join(("repro", *path.relative_to(KIT.parent).with_suffix("").parts)).removesuffix(".__init__")
        for path in KIT.rglob("*.py")
    )
    assert "repro.book.chapter" in modules and "repro.book.figures" in modules
    assert loaded_after([f"import {module}" for module in modules]) == []


@pytest.mark.parametrize("path", sorted(KIT.rglob("*.py")), ids=lambda p: p.relative_to(KIT).as_posix())
def test_the_kit_never_imports_the_runner(path):
    def modules(line: str) -> list[str]:  # "from a import b, c" imports a, and a.b and a.c when they are modules
        words = line.replace(",", " ").split()
        return [words[1]] + [f"{words[1]}.{name}" for name in words[3:]] if words[0] == "from" else [words[1]]

    runner = [line for line in repro_imports(path) if any(m.startswith("repro.runner") for m in modules(line))]
    assert runner == []


def test_python_m_repro_book_is_gone():
    assert importlib.util.find_spec("repro.book.__main__") is None
    assert importlib.util.find_spec("repro.runner.__main__") is not None
