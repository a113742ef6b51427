"""A cluster run (:mod:`repro.runner.cluster`): :func:`run_on_cluster` plans the run (:func:`_plan`), turns the plan
into a graph of tasks (:func:`_task_graph`), submits them and follows them to the end (:class:`_Submission`: progress
lines, workers that die with Dask's ``KilledWorker``), then collects the chapters that ran (:func:`_chapter_runs`)
and reports the others (:func:`_report`)."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from repro.book.toc import BookError, Chapter, check_profile, find_toc, read_toc, select_chapters
from repro.runner import execute
from repro.runner.cluster.client import _check_shared, _client
from repro.runner.cluster.plan import Plan, chapter_config, plan_run, ready_to_submit
from repro.runner.cluster.resume import _data_root_parameter
from repro.runner.cluster.tasks import PROGRESS_TOPIC, _chapter_task, _sweep_group_task
from repro.runner.execute import ChapterRun
from repro.runner.notebooks import load_chapter_notebook
from repro.runner.timings import now_utc, update_timings

if TYPE_CHECKING:
    from distributed.security import Security

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


class _Node(NamedTuple):
    """A task of the run's graph: ``func(key, *args, *outcomes of needs)`` at Dask ``priority`` (higher first)."""

    func: Callable
    args: tuple
    needs: list[str]  # the nodes whose outcomes it takes, ``run:<sweep group>`` or ``chapter:<name>``
    priority: int


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
    nodes = _task_graph(plan, toc, build_dir, data_root=data_root, **settings)
    with _client(workers, scheduler, device, threads, log, security) as client:
        if scheduler is not None:
            _check_shared(client, build_dir, plan.run)
        where = {"build_dir": build_dir, "profile": profile, "device": device, "seed": seed}
        outcomes = _Submission(client, nodes, plan, **where, log=log).follow()
    runs = _chapter_runs(plan, outcomes)
    _report(plan, runs, outcomes, time.perf_counter() - total, log)
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


def _task_graph(
    plan: Plan,
    toc: Path,
    build_dir: Path,
    *,
    profile: str,
    device: str,
    seed: int,
    threads: int,
    data_root: str | os.PathLike | None,
) -> dict[str, _Node]:
    """The nodes of the run's graph, each after the nodes it waits for: the sweep groups (``run:<label>``), then the
    chapters (``chapter:<name>``).

    Priorities (higher starts first): sweep groups, then chapters others wait for, then the rest, each group in the
    plan's start order."""
    from repro.book.results import cache_dir as results_cache_dir

    parameter_root = _data_root_parameter(data_root)
    cache_dir = str(results_cache_dir(build_dir / "results"))  # what cache_dir() gives the chapters' kernels
    nodes: dict[str, _Node] = {}
    rank = {name: len(plan.start_order) - i for i, name in enumerate(plan.start_order)}
    sweep_priority = 2 * (len(rank) + 1)
    for name in (c.name for c in plan.run):
        for group in plan.sweep_groups.get(name, []):
            task = _Node(_sweep_group_task, (group, device, parameter_root, cache_dir, threads), [], sweep_priority)
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
        nodes[f"chapter:{chapter.name}"] = _Node(_chapter_task, (chapter, settings), needs, priority)
    return nodes


class _Submission:
    """The run's graph on the cluster: submits the nodes (the sweep groups at once, the chapters as threads free up),
    logs each task's start and end, submits again a task lost with a dead worker before it started, and records each
    chapter's outcome (``{"status": "ok" | "failed" | "skipped", ...}``)."""

    def __init__(
        self,
        client,
        nodes: dict[str, _Node],
        plan: Plan,
        *,
        build_dir: Path,
        profile: str,
        device: str,
        seed: int,
        log: Callable[[str], None],
    ) -> None:
        from distributed import as_completed

        self.client, self.nodes, self.log = client, nodes, log
        self.build_dir, self.profile, self.device, self.seed = build_dir, profile, device, seed
        self.by_name = {c.name: c for c in plan.run}
        self.order = list(nodes)  # a node's dependencies come before it
        chapters = (n for n in self.order if n.startswith("chapter:"))
        self.chapter_nodes = sorted(chapters, key=lambda n: -nodes[n].priority)  # highest priority first
        self.started: dict[str, tuple[str, float]] = {}  # key → (worker, monotonic start)
        self.label: dict[str, str] = {}  # key → what the progress lines call it
        self.current: dict[str, object] = {}  # node → its live future
        self.node_of: dict[str, str] = {}  # key → node
        self.resubmits: dict[str, int] = {}
        self.pending = as_completed()
        self.outcomes: dict[str, dict] = {}  # chapter → outcome
        self.decided: dict[str, str] = {}  # key of a task whose worker died → "resubmitted" | "failed"

    def follow(self) -> dict[str, dict]:
        """Submit the graph and wait for every task; each chapter's outcome."""
        self.client.subscribe_topic(PROGRESS_TOPIC, self._on_start)
        for node in self.order:  # the sweep groups at once (one per dataset), which Dask queues and spreads by itself
            if not node.startswith("chapter:"):
                self._submit(node)
        self._fill()
        for future in self.pending:
            self._fill()
            node = self.node_of[future.key]
            if self.current[node] is not future:
                continue  # replaced by a resubmission
            if future.status == "finished":
                self._finished(node, future.result())
            else:
                self._errored(node, future)
        self.client.unsubscribe_topic(PROGRESS_TOPIC)
        return self.outcomes

    def _on_start(self, event) -> None:
        _, msg = event
        if msg["key"] in self.label and msg["key"] not in self.started:
            self.started[msg["key"]] = (msg["worker"], time.monotonic())
            self.log(f"[{self.label[msg['key']]}] started on worker {msg['worker']}")

    def _submit(self, node: str) -> None:
        func, args, needs, priority = self.nodes[node]
        name = node.split(":", 1)[1]
        key = f"{name.split(' ')[0]}-{secrets.token_hex(8)}" if node.startswith("chapter:") else None
        key = key or f"sweep-group-{secrets.token_hex(8)}"
        self.label[key] = name
        self.node_of[key] = node
        future = self.client.submit(
            func, key, *args, *(self.current[n] for n in needs), key=key, priority=priority, pure=False
        )
        self.current[node] = future
        self.pending.add(future)

    def _fill(self) -> None:
        """Submit chapters while fewer are in flight than the cluster has threads (:func:`ready_to_submit`)."""
        capacity = max(1, sum(self.client.nthreads().values()))
        in_flight = sum(1 for n in self.chapter_nodes if n in self.current and not self.current[n].done())
        needs = {n: self.nodes[n].needs for n in self.chapter_nodes}
        for node in ready_to_submit(self.chapter_nodes, needs, set(self.current), in_flight, capacity):
            self._submit(node)

    def _finished(self, node: str, outcome: dict) -> None:
        """Log a task that returned, and record a chapter's outcome."""
        name = node.split(":", 1)[1]
        where = f"on worker {outcome['worker']}"
        if outcome["kind"] == "sweep-group":
            if outcome["status"] == "ok":
                note = " (read back from the cache)" if outcome["cached"] else ""
                self.log(f"[{name}] ok in {outcome['wall_time_s']:.1f} s {where}{note}")
            else:
                self.log(f"[{name}] FAILED {where}: {outcome['reason']} (its chapter trains it again)")
            return
        self.outcomes[name] = outcome
        if outcome["status"] == "ok":
            self.log(f"[{name}] ok in {outcome['wall_time_s']:.1f} s {where} → {outcome['notebook']}")
        elif outcome["status"] == "skipped":
            self.log(f"[{name}] skipped: {outcome['reason']}")
        else:
            self.log(f"[{name}] FAILED after {outcome['wall_time_s']:.1f} s {where}:\n{outcome['reason']}")

    def _errored(self, node: str, future) -> None:
        """A task that raised (or was cancelled): its worker died, or one it waited for did; or another error."""
        from distributed.scheduler import KilledWorker

        key, name = future.key, node.split(":", 1)[1]
        try:
            exc = future.exception()
        except Exception as cancelled:  # noqa: BLE001 - a cancelled future raises instead of returning
            exc = cancelled
        if isinstance(exc, KilledWorker):
            culprit = exc.task
            if culprit == key or culprit not in self.node_of:
                self._died(key, exc)
                return
            if self._died(culprit, exc) == "resubmitted":
                return  # this node was submitted again with it
            if node.startswith("chapter:") and name not in self.outcomes:
                what = self.label[culprit]
                own = self.node_of[culprit] in self.nodes[node].needs and self.node_of[culprit].startswith("run:")
                status = "failed" if own else "skipped"  # failed: one of its own sweep groups died
                reason = f"{what} did not finish: its worker died"
                self.outcomes[name] = {"status": status, "reason": reason}
                self.log(f"[{name}] {'FAILED' if status == 'failed' else 'skipped'}: {reason}")
            return
        if node.startswith("chapter:"):
            reason = f"{type(exc).__name__}: {exc}"
            self.outcomes[name] = {"status": "failed", "reason": reason}
            self.log(f"[{name}] FAILED: {reason}")
        else:
            self.log(f"[{name}] FAILED: {type(exc).__name__}: {exc}")

    def _resubmit_from(self, node: str) -> None:
        """Submit ``node`` again, and every node that waits for it, directly or not."""
        again = {node}
        for other in self.order:
            if set(self.nodes[other].needs) & again:
                again.add(other)
        for other in self.order:
            if other in again and other in self.current:  # the others are submitted later, by _fill()
                self._submit(other)

    def _died(self, key: str, exc) -> str:
        """The worker running task ``key`` died (``exc``: Dask's ``KilledWorker``): submit it again if it had not
        started, else it failed."""
        if key in self.decided:
            return self.decided[key]
        node = self.node_of[key]
        if key not in self.started and self.resubmits.get(node, 0) < _MAX_RESUBMITS and self.current[node].key == key:
            self.resubmits[node] = self.resubmits.get(node, 0) + 1
            self.log(f"[{self.label[key]}] its worker died before it started: submitted again")
            self.decided[key] = "resubmitted"
            self._resubmit_from(node)
            return self.decided[key]
        self.decided[key] = "failed"
        worker, since = self.started.get(key, (getattr(exc.last_worker, "address", "?"), time.monotonic()))
        wall = time.monotonic() - since
        reason = f"the worker {worker} running it died (Dask KilledWorker: its process was killed or ran out of memory)"
        if node.startswith("chapter:"):
            self._killed_chapter(self.by_name[node.split(":", 1)[1]], worker, wall, reason)
        else:
            self.log(f"[{self.label[key]}] FAILED after {wall:.1f} s on worker {worker}: {reason}")
        return self.decided[key]

    def _killed_chapter(self, chapter: Chapter, worker: str, wall: float, reason: str) -> None:
        """Record ``chapter`` as failed, its worker dead ``wall`` seconds into it (:func:`_clean_killed_chapter`)."""
        entry = {
            "wall_time_s": round(wall, 3),
            "device_requested": self.device,
            "seed": int(self.seed),
            "finished_utc": now_utc(),
            "worker": worker,
            "reason": reason,
        }
        kept = _clean_killed_chapter(self.build_dir, self.profile, chapter, entry)
        reason = f"{reason}; {kept}"
        self.outcomes[chapter.name] = {"status": "failed", "reason": reason, "worker": worker}
        self.log(f"[{chapter.name}] FAILED after {wall:.1f} s on worker {worker}: {reason}")


def _chapter_runs(plan: Plan, outcomes: dict[str, dict]) -> list[ChapterRun]:
    """The chapters of the plan that finished, in ``_toc.yml`` order."""
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
    return runs


def _report(
    plan: Plan, runs: list[ChapterRun], outcomes: dict[str, dict], seconds: float, log: Callable[[str], None]
) -> None:
    """Log what the run did in ``seconds``; :class:`BookError` listing the chapters that did not finish, if any."""
    bad = {c.name: outcomes.get(c.name, {}) for c in plan.run if outcomes.get(c.name, {}).get("status") != "ok"}
    log(
        f"{len(runs)} chapter(s) executed, {len(plan.finished)} kept from earlier, {len(bad)} failed or skipped, "
        f"in {seconds:.1f} s"
    )
    if bad:
        lines = "\n".join(
            f"  {name}: {o.get('status', 'failed')} ({o.get('reason', '').splitlines()[0] if o.get('reason') else ''})"
            for name, o in bad.items()
        )
        raise BookError(
            f"{len(bad)} chapter(s) did not finish (rerun the same command to resume; the others are kept):\n{lines}"
        )
