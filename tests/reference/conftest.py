"""nbval wiring for the committed reference notebooks (``pytest --nbval-lax --nbval-current-env``).

The notebooks were executed by ``python -m repro.runner references`` (quick profile, CPU, seed 0,
``data_root=None``); nbval re-runs them in a kernel of the current environment, started in this folder, and
compares only the cells tagged ``nbval-check-output``. Their ``data_root=None`` makes the package read
``$REPRO_DATA_ROOT`` here. The results files the chapters write go to one throwaway folder for the session,
and the notebooks run in table-of-contents order, as the runner runs them: a summary chapter that reads the
other chapters' results files (``claims``) then finds them, as it did when the references were made.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
_results_dir: str | None = None


def pytest_configure(config) -> None:
    global _results_dir
    _results_dir = tempfile.mkdtemp(prefix="repro-nbval-results-")
    os.environ["REPRO_RESULTS_DIR"] = _results_dir  # inherited by the nbval kernels


def pytest_unconfigure(config) -> None:
    if _results_dir:
        shutil.rmtree(_results_dir, ignore_errors=True)


def _toc_order() -> dict[str, int]:
    from repro.book import find_toc, read_toc

    try:
        return {chapter.name: i for i, chapter in enumerate(read_toc(find_toc(HERE)))}
    except Exception:  # no readable table of contents: keep pytest's order
        return {}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items) -> None:
    """Run the reference notebooks in table-of-contents order (each notebook's cells stay in order)."""
    slots = [i for i, item in enumerate(items) if Path(str(item.fspath)).parent == HERE]
    if not slots:
        return
    order = _toc_order()
    ranked = sorted(
        (items[i] for i in slots), key=lambda item: order.get(Path(str(item.fspath)).stem, len(order))
    )
    for slot, item in zip(slots, ranked, strict=True):
        items[slot] = item
