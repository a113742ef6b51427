"""The kernel a chapter runs in: a ``python3`` kernel spec of *this* Python, and the environment it starts with.

Kernel: the runner writes a ``python3`` kernel spec whose ``argv`` is *this* interpreter (``sys.executable``)
under ``<build>/jupyter`` and puts that folder first on ``JUPYTER_PATH`` while it executes, so the notebooks
run in the same environment as the runner whatever kernels the user has installed. The kernel also gets
``REPRO_RESULTS_DIR=<build>/results`` and ``REPRO_TOC``, and finds this copy of ``repro`` first on
``PYTHONPATH``. The sensitivity run's two variables, ``REPRO_THRESHOLDS`` (:mod:`repro.claims.thresholds`) and
``REPRO_READ_ONLY`` (:class:`repro.book.chapter.MeasurementRefused`), reach a kernel only when its caller passes them
(``extra``); otherwise they are unset, so a value left in the shell cannot change a verdict of the book.

Threads: the kernel runs on ``threads`` CPU threads (``OMP_NUM_THREADS`` = ``MKL_NUM_THREADS`` =
``OPENBLAS_NUM_THREADS``; default :data:`DEFAULT_THREADS`), whether the chapter runs alone or on a cluster worker.
PyTorch's CPU kernels split their sums by thread, so the float results of training depend on the thread count
(measured: FC and CNN weights after 100 Adam steps differ in their bits between 1 and 2 threads); a fixed count is
what makes a serial and a cluster run give identical results files.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from repro.book.results import RESULTS_ENV
from repro.book.toc import TOC_ENV, BookError
from repro.claims.thresholds import THRESHOLDS_ENV

__all__ = [
    "DEFAULT_THREADS",
    "KERNEL_NAME",
    "THREAD_VARIABLES",
    "SENSITIVITY_VARIABLES",
    "check_threads",
    "ensure_kernel",
    "kernel_environment",
    "thread_environment",
]

KERNEL_NAME = "python3"
DEFAULT_THREADS = 1  # CPU threads of a chapter's kernel, serial or on a cluster (module docstring)
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
# the sensitivity run's hooks (repro.runner.sensitivity): unset in a kernel unless passed on purpose
SENSITIVITY_VARIABLES = (THRESHOLDS_ENV, "REPRO_READ_ONLY")  # the second: repro.book.chapter.READ_ONLY_ENV


def ensure_kernel(build_dir: str | os.PathLike) -> Path:
    """Write ``<build>/jupyter/kernels/python3/kernel.json`` (this Python); return ``<build>/jupyter``."""
    root = Path(build_dir).resolve() / "jupyter"
    spec_dir = root / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        # log_level=ERROR: ipykernel ≥ 7 warns on every start that local TCP is unencrypted
        "argv": [
            sys.executable,
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
            "--IPKernelApp.log_level=ERROR",
        ],
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "env": {"PYDEVD_DISABLE_FILE_VALIDATION": "1"},
        "metadata": {"debugger": False},
    }
    tmp = spec_dir / f".kernel.json.{os.getpid()}.tmp"  # atomic: concurrent workers start kernels from it
    tmp.write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, spec_dir / "kernel.json")
    return root


@contextlib.contextmanager
def _environment(**updates: str | None) -> Iterator[None]:
    """Set (or, with None, unset) environment variables for the duration of the block."""
    saved = {key: os.environ.get(key) for key in updates}
    try:
        for key, value in updates.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _prepend_path(var: str, entry: Path) -> str:
    current = os.environ.get(var)
    return f"{entry}{os.pathsep}{current}" if current else str(entry)


def check_threads(threads: int) -> int:
    """``threads`` if it is a positive whole number, else :class:`BookError`."""
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise BookError(f"threads must be a positive whole number of CPU threads, got {threads!r}")
    return threads


def thread_environment(threads: int) -> dict[str, str]:
    """The environment variables that give OpenMP, MKL and OpenBLAS ``threads`` threads."""
    return {var: str(threads) for var in THREAD_VARIABLES}


def kernel_environment(
    build_dir: Path, toc: Path, threads: int, extra: Mapping[str, str] | None = None
) -> contextlib.AbstractContextManager[None]:
    """The environment, for the duration of a ``with`` block, in which papermill starts a chapter's kernel:
    JUPYTER_PATH → our kernel spec (:func:`ensure_kernel`); REPRO_RESULTS_DIR → <build>/results; REPRO_TOC → the
    table of contents ``toc``; this ``repro`` first on PYTHONPATH; ``threads`` CPU threads for OpenMP, MKL and
    OpenBLAS; :data:`SENSITIVITY_VARIABLES` unset unless ``extra`` (more variables, set last) gives them."""
    jupyter_root = ensure_kernel(build_dir)
    updates: dict[str, str | None] = {
        "JUPYTER_PATH": _prepend_path("JUPYTER_PATH", jupyter_root),
        RESULTS_ENV: str((build_dir / "results").resolve()),
        TOC_ENV: str(toc.resolve()),
        **thread_environment(threads),
        **dict.fromkeys(SENSITIVITY_VARIABLES),
    }
    package_parent = Path(__file__).resolve().parents[2]  # src/repro/runner/kernel.py → src
    if package_parent.name not in ("site-packages", "dist-packages"):
        updates["PYTHONPATH"] = _prepend_path("PYTHONPATH", package_parent)
    return _environment(**(updates | dict(extra or {})))
