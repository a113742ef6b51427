"""A cluster run (:mod:`repro.runner.cluster`): :func:`run_on_cluster` plans the run (:func:`_plan`), turns the plan
into a graph of tasks (:func:`~repro.runner.cluster.graph.task_graph`), submits them and follows them to the end
(:class:`~repro.runner.cluster.submission.Submission`: progress lines, workers that die with Dask's ``KilledWorker``),
then collects the chapters that ran and reports the others (:mod:`~repro.runner.cluster.report`)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from repro.book.toc import BookError, check_profile, find_toc, read_toc, select_chapters
from repro.runner import execute
from repro.runner.cluster.client import check_shared_folders, cluster_client
from repro.runner.cluster.graph import task_graph
from repro.runner.cluster.plan import Plan, chapter_config, plan_run
from repro.runner.cluster.report import chapter_runs, report_run
from repro.runner.cluster.submission import Submission
from repro.runner.execute import ChapterRun
from repro.runner.notebooks import load_chapter_notebook

if TYPE_CHECKING:
    from distributed.security import Security


def run_on_cluster(
    names: Sequence[str] | None = None,
    *,
    toc: str | os.PathLike | None = None,
    profile: str = "quick",
    device: str = "auto",
    seed: int = 0,
    data_root: str | os.PathLike | None = None,
    build_dir: str | os.PathLike | None = None,
    workers: int | None = None,
    scheduler=None,
    security: Security | None = None,
    force: bool = False,
    log: Callable[[str], None] = print,
    config_of: Callable[[str, str], object | None] = chapter_config,
    threads: int = execute.DEFAULT_THREADS,
) -> list[ChapterRun]:
    """Execute the named chapters (default: all) on a Dask cluster: a ``LocalCluster`` of ``workers`` processes,
    or the existing cluster at ``scheduler`` (an address, a scheduler file, or a ``distributed`` Cluster object).
    Every chapter's kernel and every sweep group uses ``threads`` CPU threads, as in a serial run, so that the
    results are the same.

    On a shared network, ``scheduler`` is a ``tls://host:port`` address and ``security`` the client's TLS
    credentials (``Security(tls_ca_file=..., tls_client_cert=..., tls_client_key=..., require_encryption=True)``),
    handed to ``distributed.Client``; without ``security``, Dask's configuration (``distributed.comm.tls``) is used.

    Chapters that finished earlier with the same digest are kept unless ``force``. Raises :class:`BookError`
    listing the chapters that failed or were skipped, after every other chapter has finished.
    """
    if scheduler is None and (workers is None or workers < 1):
        raise BookError("--workers must be a positive number of worker processes")
    toc = Path(toc) if toc else find_toc()
    toc = toc.resolve()
    check_profile(profile)
    execute.check_threads(threads)
    execute.check_run_device(device)
    build_dir = (Path(build_dir) if build_dir else toc.parent / "_build").resolve()
    total = time.perf_counter()
    settings = {"profile": profile, "device": device, "seed": seed, "threads": threads}
    plan = _plan(names, toc, build_dir, data_root=data_root, force=force, config_of=config_of, log=log, **settings)
    if not plan.run:
        return []
    nodes = task_graph(plan, toc, build_dir, data_root=data_root, **settings)
    with cluster_client(workers, scheduler, device, threads, log, security) as client:
        if scheduler is not None:
            check_shared_folders(client, build_dir, plan.run)
        where = {"build_dir": build_dir, "profile": profile, "device": device, "seed": seed}
        outcomes = Submission(client, nodes, plan, **where, log=log).follow()
    runs = chapter_runs(plan, outcomes)
    report_run(plan, runs, outcomes, time.perf_counter() - total, log)
    return runs


def _plan(
    names: Sequence[str] | None,
    toc: Path,
    build_dir: Path,
    *,
    profile: str,
    device: str,
    seed: int,
    threads: int,
    data_root: str | os.PathLike | None,
    force: bool,
    config_of: Callable[[str, str], object | None],
    log: Callable[[str], None],
) -> Plan:
    """The run's plan (:func:`~repro.runner.cluster.plan.plan_run`) for the chapters called ``names``; logs the
    chapters kept from an earlier run, and checks the chapters to run as a serial run does, before anything starts."""
    all_chapters = read_toc(toc)
    chapters = select_chapters(all_chapters, names)
    plan = plan_run(
        chapters,
        all_chapters=all_chapters,
        profile=profile,
        seed=seed,
        device=device,
        data_root=data_root,
        build_dir=build_dir,
        force=force,
        config_of=config_of,
        threads=threads,
    )
    for chapter in plan.finished:
        log(f"[{chapter.name}] finished earlier with the same source and settings: kept (--force redoes it)")
    if not plan.run:
        log(f"nothing to run: {len(plan.finished)} chapter(s) finished earlier")
    for chapter in plan.run:  # the same checks as a serial run, before anything starts
        load_chapter_notebook(chapter)
    return plan
