"""Executing chapters: each chapter's Jupytext source run with papermill in a kernel of this Python
(:func:`run_chapter`), and the serial run over chapters (:func:`run`).

Layout under the build folder (default ``_build`` beside ``_toc.yml``)::

    executed/<profile>/<chapter>.ipynb         executed notebooks (written only when every cell succeeded)
    executed/<profile>/<chapter>.FAILED.ipynb  the notebook of a failed run, up to the failing cell
    results/<profile>/<chapter>.json           each chapter's results (repro.book.results), plus wall_time_s
    results/<profile>/_timings.json            wall time and status of every chapter run (repro.runner.timings; updated
                                               under results/<profile>/.timings.lock: cluster workers share it)
    jupyter/kernels/python3/                   the kernel spec used for execution (this Python)

The parts, one job a module: :mod:`~repro.runner.kernel` (the kernel spec, its environment and CPU threads),
:mod:`~repro.runner.notebooks` (the chapter's notebook: read, kept when it fails, tidied when it succeeds) and
:mod:`~repro.runner.failures` (:class:`ChapterFailed`: the failing cell and its line). Their public names used by
callers (``DEFAULT_THREADS``, ``thread_environment``, ``executed_dir``, ``ChapterFailed``, …) are importable from here
too.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from repro.book.results import record_wall_time
from repro.book.toc import BookError, Chapter, check_profile, find_toc, read_toc, select_chapters
from repro.devices import check_device
from repro.runner.failures import ChapterFailed, chapter_failure
from repro.runner.kernel import (
    DEFAULT_THREADS,
    KERNEL_NAME,
    check_threads,
    ensure_kernel,
    kernel_environment,
    thread_environment,
)
from repro.runner.notebooks import (
    clear_chapter_outputs,
    executed_dir,
    finish_notebook,
    keep_failed_notebook,
    load_chapter_notebook,
)
from repro.runner.timings import now_utc, update_timings

__all__ = [
    "DEFAULT_THREADS",
    "KERNEL_NAME",
    "ChapterFailed",
    "ChapterRun",
    "executed_dir",
    "ensure_kernel",
    "check_threads",
    "check_run_device",
    "thread_environment",
    "run_chapter",
    "run",
]


@dataclass(frozen=True)
class ChapterRun:
    """A chapter that ran to the end: its executed notebook, wall time (s) and results file (None if it wrote none)."""

    chapter: Chapter
    notebook: Path
    wall_time_s: float
    results: Path | None


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
    environment: Mapping[str, str] | None = None,
) -> ChapterRun:
    """Execute one chapter with papermill into ``<build>/executed/<profile>/<chapter>.ipynb``, its kernel on
    ``threads`` CPU threads (``environment``: more variables for the kernel, as the sensitivity run passes
    ``REPRO_THRESHOLDS`` and ``REPRO_READ_ONLY``; :func:`repro.runner.kernel.kernel_environment`).

    The notebook is written to a hidden partial file and renamed into place only when every cell succeeded. On
    an error the partial notebook becomes ``<chapter>.FAILED.ipynb`` and :class:`ChapterFailed` names the
    chapter and the failing cell. The chapter's previous notebook and results file are removed first, so
    nothing stale survives a failed run.
    """
    check_profile(profile)
    check_threads(threads)
    build_dir = Path(build_dir)
    notebooks = clear_chapter_outputs(chapter, build_dir, profile)
    nb = load_chapter_notebook(chapter)
    parameters = {
        "profile": profile,
        "device": device,
        "seed": int(seed),
        "data_root": None if data_root is None else str(Path(data_root).expanduser().resolve()),
    }
    start = time.perf_counter()
    with kernel_environment(build_dir, Path(toc) if toc else find_toc(), threads, environment):
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
        kept = keep_failed_notebook(chapter, notebooks)
        update_timings(build_dir, profile, chapter.name, {**entry, "status": "failed"})
        failure = chapter_failure(chapter, error, kept, wall)
        if failure is None:
            raise error  # KeyboardInterrupt, SystemExit: the partial notebook is already renamed .FAILED
        raise failure from error
    finish_notebook(chapter, notebooks)
    results = record_wall_time(chapter.name, profile, wall, build_dir / "results")
    update_timings(build_dir, profile, chapter.name, {**entry, "status": "ok"})
    return ChapterRun(chapter=chapter, notebook=notebooks.final, wall_time_s=wall, results=results)


def check_run_device(device: str) -> str:
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
    check_run_device(device)
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
