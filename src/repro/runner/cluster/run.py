"""A cluster run (:mod:`repro.runner.cluster`): :func:`run_on_cluster` submits the plan's tasks, prints their
progress and handles workers that die (Dask's ``KilledWorker``)."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from repro.book.toc import BookError, Chapter, check_profile, find_toc, read_toc, select_chapters
from repro.runner import execute
from repro.runner.cluster.client import _check_shared, _client
from repro.runner.cluster.plan import chapter_config, plan_run, ready_to_submit
from repro.runner.cluster.resume import _data_root_parameter
from repro.runner.cluster.tasks import PROGRESS_TOPIC, _chapter_task, _sweep_group_task
from repro.runner.execute import ChapterRun
from repro.runner.timings import now_utc, update_timings

_MAX_RESUBMITS = 3  # a task that never started, lost with a dead worker, is submitted again at most this often


def _clean_killed_chapter(build_dir: Path, profile: str, chapter: Chapter, entry: dict) -> str:
    """After the worker running ``chapter`` died: its partial notebook becomes ``.FAILED.ipynb``, whatever it
    wrote as final (notebook, results file) is removed, and its timings entry says failed. Returns where the
    partial notebook is kept."""
    from repro.book.results import results_path

    out = execute.executed_dir(build_dir, profile)
    partial, failed = out / f".{chapter.name}.partial.ipynb", out / f"{chapter.name}.FAILED.ipynb"
    (out / f"{chapter.name}.ipynb").unlink(missing_ok=True)
    results_path(chapter.name, profile, build_dir / "results").unlink(missing_ok=True)
    kept = "no notebook was written"
    if partial.exists():
        os.replace(partial, failed)
        kept = f"what ran is kept at {failed}"
    update_timings(build_dir, profile, chapter.name, {**entry, "status": "failed"})
    return kept


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
    force: bool = False,
    log: Callable[[str], None] = print,
    config_of: Callable[[str, str], object | None] = chapter_config,
    threads: int = execute.DEFAULT_THREADS,
) -> list[ChapterRun]:
    """Execute the named chapters (default: all) on a Dask cluster: a ``LocalCluster`` of ``workers`` processes,
    or the existing cluster at ``scheduler`` (an address, a scheduler file, or a ``distributed`` Cluster object).
    Every chapter's kernel and every sweep group uses ``threads`` CPU threads, as in a serial run, so that the
    results are the same.

    Chapters that finished earlier with the same digest are kept unless ``force``. Raises :class:`BookError`
    listing the chapters that failed or were skipped, after every other chapter has finished.
    """
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    from repro.book.results import cache_dir as results_cache_dir

    if scheduler is None and (workers is None or workers < 1):
        raise BookError("--workers must be a positive number of worker processes")
    toc = Path(toc) if toc else find_toc()
    toc = toc.resolve()
    check_profile(profile)
    execute.check_threads(threads)
    execute._check_device(device)
    all_chapters = read_toc(toc)
    chapters = select_chapters(all_chapters, names)
    build_dir = (Path(build_dir) if build_dir else toc.parent / "_build").resolve()
    total = time.perf_counter()
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
        return []
    for chapter in plan.run:  # the same checks as a serial run, before anything starts
        execute._load_chapter(chapter)
    by_name = {c.name: c for c in plan.run}
    parameter_root = _data_root_parameter(data_root)
    cache_dir = str(results_cache_dir(build_dir / "results"))  # what cache_dir() gives the chapters' kernels

    # nodes of the graph: sweep groups, then chapters, each with the nodes it waits for
    # priorities (higher starts first): sweep groups, then chapters others wait for, then the rest, each group in
    # the plan's start order
    nodes: dict[str, tuple[Callable, tuple, list[str], int]] = {}
    rank = {name: len(plan.start_order) - i for i, name in enumerate(plan.start_order)}
    sweep_priority = 2 * (len(rank) + 1)
    for name in (c.name for c in plan.run):
        for group in plan.sweep_groups.get(name, []):
            task = (_sweep_group_task, (group, device, parameter_root, cache_dir, threads), [], sweep_priority)
            nodes[f"run:{group.label}"] = task
    dependents = {n for c in plan.run for n in plan.needs[c.name]}
    for chapter in plan.run:
        settings = {
            "profile": profile,
            "device": device,
            "seed": int(seed),
            "data_root": parameter_root,
            "build_dir": str(build_dir),
            "toc": str(toc),
            "threads": threads,
            "digest": plan.digests[chapter.name],
        }
        needs = [f"run:{g.label}" for g in plan.sweep_groups.get(chapter.name, [])]
        needs += [f"chapter:{n}" for n in plan.needs[chapter.name]]
        waited_for = chapter.name in dependents or chapter.name in plan.sweep_groups
        priority = (len(rank) + 1 if waited_for else 0) + rank[chapter.name]
        nodes[f"chapter:{chapter.name}"] = (_chapter_task, (chapter, settings), needs, priority)
    order = list(nodes)  # a node's dependencies come before it

    with _client(workers, scheduler, device, threads, log) as client:
        if scheduler is not None:
            _check_shared(client, build_dir, plan.run)
        started: dict[str, tuple[str, float]] = {}  # key → (worker, monotonic start)
        label: dict[str, str] = {}  # key → what the progress lines call it

        def on_start(event) -> None:
            _, msg = event
            if msg["key"] in label and msg["key"] not in started:
                started[msg["key"]] = (msg["worker"], time.monotonic())
                log(f"[{label[msg['key']]}] started on worker {msg['worker']}")

        client.subscribe_topic(PROGRESS_TOPIC, on_start)
        current: dict[str, object] = {}  # node → its live future
        node_of: dict[str, str] = {}  # key → node
        resubmits: dict[str, int] = {}
        pending = as_completed()

        def submit(node: str) -> None:
            func, args, needs, priority = nodes[node]
            name = node.split(":", 1)[1]
            key = f"{name.split(' ')[0]}-{secrets.token_hex(8)}" if node.startswith("chapter:") else None
            key = key or f"sweep-group-{secrets.token_hex(8)}"
            label[key] = name
            node_of[key] = node
            future = client.submit(
                func, key, *args, *(current[n] for n in needs), key=key, priority=priority, pure=False
            )
            current[node] = future
            pending.add(future)

        chapter_nodes = sorted((n for n in order if n.startswith("chapter:")), key=lambda n: -nodes[n][3])

        def fill() -> None:
            """Submit chapters while fewer are in flight than the cluster has threads (:func:`ready_to_submit`)."""
            capacity = max(1, sum(client.nthreads().values()))
            in_flight = sum(1 for n in chapter_nodes if n in current and not current[n].done())
            needs = {n: nodes[n][2] for n in chapter_nodes}
            for node in ready_to_submit(chapter_nodes, needs, set(current), in_flight, capacity):
                submit(node)

        for node in order:  # the sweep groups at once (one per dataset), which Dask queues and spreads by itself
            if not node.startswith("chapter:"):
                submit(node)
        fill()

        outcomes: dict[str, dict] = {}  # chapter → outcome
        decided: dict[str, str] = {}  # key of a task whose worker died → "resubmitted" | "failed"

        def resubmit_from(node: str) -> None:
            """Submit ``node`` again, and every node that waits for it, directly or not."""
            again = {node}
            for other in order:
                if set(nodes[other][2]) & again:
                    again.add(other)
            for other in order:
                if other in again and other in current:  # the others are submitted later, by fill()
                    submit(other)

        def died(key: str, exc: KilledWorker) -> str:
            """The worker running task ``key`` died: submit it again if it had not started, else it failed."""
            if key in decided:
                return decided[key]
            node = node_of[key]
            if key not in started and resubmits.get(node, 0) < _MAX_RESUBMITS and current[node].key == key:
                resubmits[node] = resubmits.get(node, 0) + 1
                log(f"[{label[key]}] its worker died before it started: submitted again")
                decided[key] = "resubmitted"
                resubmit_from(node)
                return decided[key]
            decided[key] = "failed"
            worker, since = started.get(key, (getattr(exc.last_worker, "address", "?"), time.monotonic()))
            wall = time.monotonic() - since
            reason = (
                f"the worker {worker} running it died (Dask KilledWorker: its process was killed or ran out of memory)"
            )
            if node.startswith("chapter:"):
                chapter = by_name[node.split(":", 1)[1]]
                entry = {
                    "wall_time_s": round(wall, 3),
                    "device_requested": device,
                    "seed": int(seed),
                    "finished_utc": now_utc(),
                    "worker": worker,
                    "reason": reason,
                }
                kept = _clean_killed_chapter(build_dir, profile, chapter, entry)
                reason = f"{reason}; {kept}"
                outcomes[chapter.name] = {"status": "failed", "reason": reason, "worker": worker}
                log(f"[{chapter.name}] FAILED after {wall:.1f} s on worker {worker}: {reason}")
            else:
                log(f"[{label[key]}] FAILED after {wall:.1f} s on worker {worker}: {reason}")
            return decided[key]

        for future in pending:
            fill()
            key = future.key
            node = node_of[key]
            if current[node] is not future:
                continue  # replaced by a resubmission
            name = node.split(":", 1)[1]
            if future.status == "finished":
                outcome = future.result()
                where = f"on worker {outcome['worker']}"
                if outcome["kind"] == "sweep-group":
                    if outcome["status"] == "ok":
                        note = " (read back from the cache)" if outcome["cached"] else ""
                        log(f"[{name}] ok in {outcome['wall_time_s']:.1f} s {where}{note}")
                    else:
                        log(f"[{name}] FAILED {where}: {outcome['reason']} (its chapter trains it again)")
                    continue
                outcomes[name] = outcome
                if outcome["status"] == "ok":
                    log(f"[{name}] ok in {outcome['wall_time_s']:.1f} s {where} → {outcome['notebook']}")
                elif outcome["status"] == "skipped":
                    log(f"[{name}] skipped: {outcome['reason']}")
                else:
                    log(f"[{name}] FAILED after {outcome['wall_time_s']:.1f} s {where}:\n{outcome['reason']}")
                continue
            try:
                exc = future.exception()
            except Exception as cancelled:  # noqa: BLE001 - a cancelled future raises instead of returning
                exc = cancelled
            if isinstance(exc, KilledWorker):
                culprit = exc.task
                if culprit == key or culprit not in node_of:
                    died(key, exc)
                    continue
                if died(culprit, exc) == "resubmitted":
                    continue  # this node was submitted again with it
                if node.startswith("chapter:") and name not in outcomes:
                    what = label[culprit]
                    own = node_of[culprit] in nodes[node][2] and node_of[culprit].startswith("run:")
                    status = "failed" if own else "skipped"  # failed: one of its own sweep groups died
                    reason = f"{what} did not finish: its worker died"
                    outcomes[name] = {"status": status, "reason": reason}
                    log(f"[{name}] {'FAILED' if status == 'failed' else 'skipped'}: {reason}")
                continue
            if node.startswith("chapter:"):
                reason = f"{type(exc).__name__}: {exc}"
                outcomes[name] = {"status": "failed", "reason": reason}
                log(f"[{name}] FAILED: {reason}")
            else:
                log(f"[{name}] FAILED: {type(exc).__name__}: {exc}")
        client.unsubscribe_topic(PROGRESS_TOPIC)

    runs = []
    for chapter in plan.run:
        outcome = outcomes.get(chapter.name, {"status": "failed", "reason": "no outcome"})
        if outcome["status"] == "ok":
            results = outcome["results"]
            runs.append(
                ChapterRun(
                    chapter=chapter,
                    notebook=Path(outcome["notebook"]),
                    wall_time_s=outcome["wall_time_s"],
                    results=None if results is None else Path(results),
                )
            )
    bad = {c.name: outcomes.get(c.name, {}) for c in plan.run if outcomes.get(c.name, {}).get("status") != "ok"}
    log(
        f"{len(runs)} chapter(s) executed, {len(plan.finished)} kept from earlier, {len(bad)} failed or skipped, "
        f"in {time.perf_counter() - total:.1f} s"
    )
    if bad:
        lines = "\n".join(
            f"  {name}: {o.get('status', 'failed')} ({o.get('reason', '').splitlines()[0] if o.get('reason') else ''})"
            for name, o in bad.items()
        )
        raise BookError(
            f"{len(bad)} chapter(s) did not finish (rerun the same command to resume; the others are kept):\n{lines}"
        )
    return runs
