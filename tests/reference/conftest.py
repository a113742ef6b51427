"""nbval wiring for the committed reference notebooks (``pytest --nbval-lax --nbval-current-env``).

The notebooks were executed by ``python -m repro.book references`` (quick profile, CPU, seed 0,
``data_root=None``); nbval re-runs them in a kernel of the current environment, started in this folder, and
compares only the cells tagged ``nbval-check-output``. Their ``data_root=None`` makes the package read
``$REPRO_DATA_ROOT`` here. The results files the chapters write go to a throwaway folder, not into the tree.
"""

from __future__ import annotations

import os
import shutil
import tempfile

_results_dir: str | None = None


def pytest_configure(config) -> None:
    global _results_dir
    _results_dir = tempfile.mkdtemp(prefix="repro-nbval-results-")
    os.environ["REPRO_RESULTS_DIR"] = _results_dir  # inherited by the nbval kernels


def pytest_unconfigure(config) -> None:
    if _results_dir:
        shutil.rmtree(_results_dir, ignore_errors=True)
