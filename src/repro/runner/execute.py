"""Executing chapters: each chapter's Jupytext source run with papermill in a kernel of this Python.

Layout under the build folder (default ``_build`` beside ``_toc.yml``)::

    executed/<profile>/<chapter>.ipynb         executed notebooks (written only when every cell succeeded)
    executed/<profile>/<chapter>.FAILED.ipynb  the notebook of a failed run, up to the failing cell
    results/<profile>/<chapter>.json           each chapter's results (repro.book.results), plus wall_time_s
    results/<profile>/_timings.json            wall time and status of every chapter run (repro.runner.timings; updated
                                               under results/<profile>/.timings.lock: cluster workers share it)
    jupyter/kernels/python3/                   the kernel spec used for execution (this Python)

Kernel: the runner writes a ``python3`` kernel spec whose ``argv`` is *this* interpreter (``sys.executable``)
under ``<build>/jupyter`` and puts that folder first on ``JUPYTER_PATH`` while it executes, so the notebooks
run in the same environment as the runner whatever kernels the user has installed. The kernel also gets
``REPRO_RESULTS_DIR=<build>/results`` and ``REPRO_TOC``, and finds this copy of ``repro`` first on
``PYTHONPATH``.

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
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from repro.book.results import RESULTS_ENV, record_wall_time, results_path
from repro.book.toc import TOC_ENV, BookError, Chapter, check_profile, find_toc, read_toc, select_chapters
from repro.devices import check_device
from repro.runner.timings import now_utc, update_timings

__all__ = [
    "DEFAULT_THREADS",
    "KERNEL_NAME",
    "ChapterFailed",
    "ChapterRun",
    "executed_dir",
    "ensure_kernel",
    "check_threads",
    "thread_environment",
    "run_chapter",
    "run",
]

KERNEL_NAME = "python3"
DEFAULT_THREADS = 1  # CPU threads of a chapter's kernel, serial or on a cluster (module docstring)
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


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


@dataclass(frozen=True)
class ChapterRun:
    chapter: Chapter
    notebook: Path
    wall_time_s: float
    results: Path | None


def executed_dir(build_dir: str | os.PathLike, profile: str) -> Path:
    return Path(build_dir) / "executed" / profile


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


def _kernel_environment(build_dir: Path, toc: Path, threads: int) -> contextlib.AbstractContextManager[None]:
    """JUPYTER_PATH → our kernel spec; REPRO_RESULTS_DIR → <build>/results; REPRO_TOC → the table of contents;
    this ``repro`` first on PYTHONPATH; ``threads`` CPU threads for OpenMP, MKL and OpenBLAS."""
    jupyter_root = ensure_kernel(build_dir)
    updates = {
        "JUPYTER_PATH": _prepend_path("JUPYTER_PATH", jupyter_root),
        RESULTS_ENV: str((build_dir / "results").resolve()),
        TOC_ENV: str(toc.resolve()),
        **thread_environment(threads),
    }
    package_parent = Path(__file__).resolve().parents[2]  # src/repro/runner/execute.py → src
    if package_parent.name not in ("site-packages", "dist-packages"):
        updates["PYTHONPATH"] = _prepend_path("PYTHONPATH", package_parent)
    return _environment(**updates)


def _load_chapter(chapter: Chapter):
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


@dataclass(frozen=True)
class _Notebooks:
    """Where one chapter's run writes its notebook: ``partial`` while it runs, then ``final`` or ``failed``."""

    final: Path
    failed: Path
    partial: Path


def _clear_outputs(chapter: Chapter, build_dir: Path, profile: str) -> _Notebooks:
    """Remove the chapter's previous notebooks (final, failed, partial) and results file; where the run writes."""
    out_dir = executed_dir(build_dir, profile)
    out_dir.mkdir(parents=True, exist_ok=True)
    notebooks = _Notebooks(
        final=out_dir / f"{chapter.name}.ipynb",
        failed=out_dir / f"{chapter.name}.FAILED.ipynb",
        partial=out_dir / f".{chapter.name}.partial.ipynb",
    )
    stale_results = results_path(chapter.name, profile, build_dir / "results")
    for path in (notebooks.final, notebooks.failed, notebooks.partial, stale_results):
        path.unlink(missing_ok=True)
    return notebooks


def _execute(nb, chapter: Chapter, partial: Path, parameters: dict, *, log_output: bool) -> BaseException | None:
    """papermill runs ``nb`` (the chapter's notebook) with ``parameters`` into ``partial``, in the chapter's folder
    (the kernel's environment is the caller's); what it raised, or None."""
    import papermill

    try:
        papermill.execute_notebook(
            nb,
            str(partial),
            parameters=parameters,
            kernel_name=KERNEL_NAME,
            cwd=str(chapter.source.parent.resolve()),
            progress_bar=False,
            log_output=log_output,
        )
    except BaseException as exc:  # noqa: B036 - also keep the partial notebook on KeyboardInterrupt
        return exc
    return None


def _keep_failed(chapter: Chapter, notebooks: _Notebooks) -> Path | None:
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


def _failure(chapter: Chapter, error: BaseException, kept: Path | None, wall: float) -> ChapterFailed | None:
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


def _finish_notebook(chapter: Chapter, notebooks: _Notebooks) -> None:
    """The executed partial notebook, its injected parameters hidden, its streams collapsed and its papermill paths
    tidied, renamed into place as ``final``."""
    import nbformat

    executed = nbformat.read(notebooks.partial, as_version=4)
    _hide_injected_parameters(executed)
    _collapse_streams(executed)
    _tidy_papermill_metadata(executed, chapter, notebooks.final)
    nbformat.write(executed, notebooks.partial)
    os.replace(notebooks.partial, notebooks.final)


def run_chapter(
    chapter: Chapter,
    *,
    profile: str = "quick",
    device: str = "auto",
    seed: int = 0,
    data_root: str | os.PathLike | None = None,
    build_dir: str | os.PathLike = "_build",
    log_output: bool = False,
    toc: str | os.PathLike | None = None,
    threads: int = DEFAULT_THREADS,
) -> ChapterRun:
    """Execute one chapter with papermill into ``<build>/executed/<profile>/<chapter>.ipynb``, its kernel on
    ``threads`` CPU threads.

    The notebook is written to a hidden partial file and renamed into place only when every cell succeeded. On
    an error the partial notebook becomes ``<chapter>.FAILED.ipynb`` and :class:`ChapterFailed` names the
    chapter and the failing cell. The chapter's previous notebook and results file are removed first, so
    nothing stale survives a failed run.
    """
    check_profile(profile)
    check_threads(threads)
    build_dir = Path(build_dir)
    notebooks = _clear_outputs(chapter, build_dir, profile)
    nb = _load_chapter(chapter)
    parameters = {
        "profile": profile,
        "device": device,
        "seed": int(seed),
        "data_root": None if data_root is None else str(Path(data_root).expanduser().resolve()),
    }
    start = time.perf_counter()
    with _kernel_environment(build_dir, Path(toc) if toc else find_toc(), threads):
        error = _execute(nb, chapter, notebooks.partial, parameters, log_output=log_output)
    wall = time.perf_counter() - start
    entry = {
        "wall_time_s": round(wall, 3),
        "device_requested": device,
        "seed": int(seed),
        "threads": threads,
        "finished_utc": now_utc(),
    }
    if error is not None:
        kept = _keep_failed(chapter, notebooks)
        update_timings(build_dir, profile, chapter.name, {**entry, "status": "failed"})
        failure = _failure(chapter, error, kept, wall)
        if failure is None:
            raise error  # KeyboardInterrupt, SystemExit: the partial notebook is already renamed .FAILED
        raise failure from error
    _finish_notebook(chapter, notebooks)
    results = record_wall_time(chapter.name, profile, wall, build_dir / "results")
    update_timings(build_dir, profile, chapter.name, {**entry, "status": "ok"})
    return ChapterRun(chapter=chapter, notebook=notebooks.final, wall_time_s=wall, results=results)


def _check_device(device: str) -> str:
    """:func:`repro.devices.check_device`, its errors as :class:`BookError` (the runner checks before it starts)."""
    try:
        return check_device(device)
    except (ValueError, RuntimeError) as exc:
        raise BookError(str(exc)) from None


def run(
    names: Sequence[str] | None = None,
    *,
    toc: str | os.PathLike | None = None,
    profile: str = "quick",
    device: str = "auto",
    seed: int = 0,
    data_root: str | os.PathLike | None = None,
    build_dir: str | os.PathLike | None = None,
    log_output: bool = False,
    log: Callable[[str], None] = print,
    threads: int = DEFAULT_THREADS,
) -> list[ChapterRun]:
    """Execute the named chapters (default: all, in ``_toc.yml`` order), each kernel on ``threads`` CPU threads;
    stop at the first failure."""
    toc = Path(toc) if toc else find_toc()
    check_profile(profile)
    check_threads(threads)
    _check_device(device)
    chapters = select_chapters(read_toc(toc), names)
    build_dir = Path(build_dir) if build_dir else toc.parent / "_build"
    runs = []
    total = time.perf_counter()
    for i, chapter in enumerate(chapters, 1):
        log(f"[{i}/{len(chapters)}] {chapter.name}: profile={profile} device={device} seed={seed} threads={threads} …")
        done = run_chapter(
            chapter,
            profile=profile,
            device=device,
            seed=seed,
            data_root=data_root,
            build_dir=build_dir,
            log_output=log_output,
            toc=toc,
            threads=threads,
        )
        log(f"[{i}/{len(chapters)}] {chapter.name}: {done.wall_time_s:.1f} s → {done.notebook}")
        runs.append(done)
    log(f"{len(runs)} chapter(s) executed in {time.perf_counter() - total:.1f} s")
    return runs
