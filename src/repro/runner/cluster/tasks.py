"""What runs on a worker of a cluster run (:mod:`repro.runner.cluster`): a chapter, a group of a sweep, the
shared-folder probe; and the scheduler's retry setting."""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

from repro.book.toc import BookError, Chapter
from repro.runner import execute
from repro.runner.cluster.plan import SweepGroup
from repro.runner.cluster.resume import package_digest
from repro.runner.timings import update_timings

PROGRESS_TOPIC = "repro-book-progress"  # Dask event topic of the tasks' "started" messages


def _worker_address() -> str:
    with contextlib.suppress(ImportError, ValueError):
        from distributed import get_worker

        return get_worker().address
    return "local"


def _announce(key: str) -> None:
    """Tell the client that the task ``key`` starts now, on this worker."""
    with contextlib.suppress(ImportError, ValueError):
        from distributed import get_worker

        worker = get_worker()
        worker.log_event(PROGRESS_TOPIC, {"key": key, "worker": worker.address})


def _amend_timings(build_dir: Path, profile: str, chapter: str, extra: dict) -> None:
    """Merge ``extra`` into the chapter's ``_timings.json`` entry (creating it if there is none)."""
    update_timings(build_dir, profile, chapter, extra, merge=True)


def sweep_group_task(
    key: str, group: SweepGroup, device: str, data_root: str | None, cache_dir: str, threads: int
) -> dict:
    """On a worker, as Dask task ``key``: train one sweep group into the sweep's per-group cache entry under
    ``cache_dir`` on ``threads`` CPU threads (:func:`repro.experiments.lr_sweep.train_lr_sweep_group`); its outcome
    ``{"kind": "sweep-group", "status": "ok" | "failed", "worker", ...}`` (``cached``: read back, not trained)."""
    import torch

    from repro.devices import resolve_device
    from repro.experiments.lr_sweep import train_lr_sweep_group

    _announce(key)
    start = time.perf_counter()
    outcome = {"kind": "sweep-group", "key": key, "worker": _worker_address()}
    torch.set_num_threads(threads)  # as in the chapter's kernel: the same float results, the same cache entry
    try:
        hit = train_lr_sweep_group(
            group.config,
            group.dataset,
            group.seed,
            data_root=data_root,
            device=resolve_device(device),
            cache_dir=cache_dir,
        )
    except Exception as exc:  # the chapter trains this group again in its own cell and reports where it fails
        return {**outcome, "status": "failed", "reason": f"{type(exc).__name__}: {exc}"}
    return {**outcome, "status": "ok", "cached": hit, "wall_time_s": time.perf_counter() - start}


def chapter_task(key: str, chapter: Chapter, settings: dict, *needs: dict) -> dict:
    """On a worker, as Dask task ``key``: run one chapter with :func:`repro.runner.execute.run_chapter` unless a
    chapter it depends on (``needs``: the outcomes of the tasks it waits for) did not finish; its outcome
    ``{"kind": "chapter", "status": "ok" | "failed" | "skipped", "worker", ...}``."""
    outcome = {"kind": "chapter", "key": key, "chapter": chapter.name, "worker": _worker_address()}
    blocked = [need["chapter"] for need in needs if need["kind"] == "chapter" and need["status"] != "ok"]
    if blocked:
        return {**outcome, "status": "skipped", "reason": f"{', '.join(blocked)} did not finish"}
    _announce(key)
    build_dir = Path(settings["build_dir"])
    start = time.perf_counter()
    try:
        done = execute.run_chapter(
            chapter,
            profile=settings["profile"],
            device=settings["device"],
            seed=settings["seed"],
            data_root=settings["data_root"],
            build_dir=build_dir,
            toc=settings["toc"],
            threads=settings["threads"],
        )
    except BookError as exc:  # ChapterFailed, or a chapter without a parameters cell
        with contextlib.suppress(OSError, ValueError):
            _amend_timings(build_dir, settings["profile"], chapter.name, {"worker": outcome["worker"]})
        return {
            **outcome,
            "status": "failed",
            "reason": str(exc),
            "cell_index": getattr(exc, "cell_index", None),
            "wall_time_s": time.perf_counter() - start,
        }
    _amend_timings(
        build_dir,
        settings["profile"],
        chapter.name,
        {"worker": outcome["worker"], "digest": settings["digest"], "results": done.results is not None},
    )
    return {
        **outcome,
        "status": "ok",
        "wall_time_s": done.wall_time_s,
        "notebook": str(done.notebook),
        "results": None if done.results is None else str(done.results),
    }


def scheduler_allowed_failures(dask_scheduler=None) -> int:
    """On the scheduler (``client.run_on_scheduler``): how often it runs a task again whose worker died
    (``distributed.scheduler.allowed-failures``; 0 makes such a chapter *failed*)."""
    return dask_scheduler.allowed_failures


def probe_shared_folder(paths: list[str], token: str) -> dict:
    """On a worker: can it read the probe file ``paths[0]`` (holding ``token``) and the chapter sources
    ``paths[1:]``, and which package and Python it runs: ``{"host", "problem" (None if none), "package"
    (:func:`~repro.runner.cluster.resume.package_digest`), "python"}``."""
    import socket

    problem = None
    try:
        if Path(paths[0]).read_text(encoding="utf-8") != token:
            problem = f"{paths[0]} has other content there"
        for path in paths[1:]:
            if not Path(path).is_file():
                problem = f"{path} does not exist there"
    except OSError as exc:
        problem = f"{type(exc).__name__}: {exc}"
    return {"host": socket.gethostname(), "problem": problem, "package": package_digest(), "python": sys.executable}
