"""The book on a Dask cluster: ``python -m repro.book run --workers N`` or ``--scheduler ADDRESS``.

The chapters are independent but for two kinds of dependency, both read from the data rather than listed by hand:

- a chapter whose profile config is the *same object* as an earlier chapter's (in ``_toc.yml`` order) reads the
  experiment that chapter computed from the cache (``fig10`` and ``critical-length`` share ``fig08``'s
  learning-rate sweep), so it waits for that chapter;
- the summary chapter (:data:`SUMMARY_CHAPTER`, ``claims``) reads every results file, so it waits for all others.

A learning-rate sweep (:class:`repro.experiments.configs.LRSweepConfig`) is split further: each of its runs
(:func:`repro.experiments.lr_sweep.lr_sweep_runs`) is a task of its own that trains into the sweep's per-run cache entry
(:func:`repro.experiments.lr_sweep.train_lr_sweep_run`), and the first chapter of the sweep waits for them and reads
them back. One sweep thus spreads over the workers, and its cache entries are the unit of resumption.

Every chapter runs on a worker through :func:`repro.book.execute.run_chapter`, exactly as in a serial run: the same
notebook, results file, failure report (chapter, cell, source line) and ``.FAILED.ipynb``. The chapter contract
(:func:`repro.book.chapter.open_chapter`) finds the same things there as in a serial run: ``run_chapter`` writes the
kernel spec (the worker's Python) under ``<build>/jupyter`` and gives the kernel ``REPRO_RESULTS_DIR`` and
``REPRO_TOC``, so results files and the shared cache land in the build folder the client named. Its ``_timings.json``
entry also records the worker and a digest of what the chapter's output depends on (:func:`chapter_digest`: its
source, profile, seed, device, data root and the package's source). A later cluster run skips a chapter whose entry
says *ok* for the same digest and whose notebook and results file exist (``force=True`` redoes it), and redoes every
chapter that depends on one it redoes.

Failures are contained: a failing chapter is reported while the others go on; the chapters that depend on it are
skipped. The scheduler is told not to retry a task whose worker died (``distributed.scheduler.allowed-failures``
= 0 on the ``LocalCluster``; start an external scheduler with ``DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=0``
for the same): a worker that dies mid-chapter (killed, out of memory) makes that chapter *failed* with Dask's
``KilledWorker`` as the reason; its partial notebook becomes ``<chapter>.FAILED.ipynb`` and anything it had written
(results file, notebook) is removed. A chapter that was only waiting on the dead worker, not yet started, is
submitted again. The chapter's kernel does not outlive its worker: ipykernel polls its parent process
(``JPY_PARENT_PID``, set by jupyter_client) and exits within a second of the parent's death.

Workers: one task at a time each (one thread), and ``OMP_NUM_THREADS`` = ``MKL_NUM_THREADS`` = cores / N through
the worker's environment, which the chapter's kernel inherits (torch reads it at import); with ``device`` other
than ``cpu`` and several GPUs visible, worker *i* sees GPU *i* mod #GPUs alone (``CUDA_VISIBLE_DEVICES``).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import secrets
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from repro.book import execute
from repro.book.execute import ChapterRun
from repro.book.toc import BookError, Chapter, check_profile, find_toc, read_toc, select_chapters

__all__ = [
    "SUMMARY_CHAPTER",
    "PROGRESS_TOPIC",
    "SweepRun",
    "Plan",
    "chapter_config",
    "chapter_digest",
    "package_digest",
    "plan_run",
    "run_on_cluster",
]

SUMMARY_CHAPTER = "claims"  # reads every other chapter's results file, so it runs after all of them
PROGRESS_TOPIC = "repro-book-progress"  # Dask event topic of the tasks' "started" messages
_MAX_RESUBMITS = 3  # a task that never started, lost with a dead worker, is submitted again at most this often


# --------------------------------------------------------------------------------------------- the plan


def chapter_config(name: str, profile: str) -> object | None:
    """The chapter's profile config (:func:`repro.book.profiles.get_config`), or None for a chapter without one."""
    from repro.book.profiles import get_config

    try:
        return get_config(name, profile)
    except ValueError:
        return None


_PACKAGE = Path(__file__).resolve().parents[1]  # src/repro/book/cluster.py → src/repro


def package_digest() -> str:
    """SHA-256 (16 hex digits) over the path and bytes of every ``.py`` file of the ``repro`` package."""
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(_PACKAGE).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _data_root_parameter(data_root: str | os.PathLike | None) -> str | None:
    """The ``data_root`` value :func:`repro.book.execute.run_chapter` passes to the chapter."""
    return None if data_root is None else str(Path(data_root).expanduser().resolve())


def chapter_digest(
    chapter: Chapter, *, profile: str, seed: int, device: str, data_root: str | os.PathLike | None
) -> str:
    """What a chapter's notebook and results depend on: its source, profile, seed, device, the data root it
    resolves to and the package's source (:func:`package_digest`); 16 hex digits."""
    from repro.data import resolve_data_root

    settings = {
        "profile": profile,
        "seed": int(seed),
        "device": device,
        "data_root": str(resolve_data_root(_data_root_parameter(data_root)).resolve()),
        "package": package_digest(),
    }
    digest = hashlib.sha256(chapter.source.read_bytes())
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class SweepRun:
    """One run of a learning-rate sweep, trained as a task of its own before ``chapter`` (the sweep's first
    chapter in this run) reads the sweep back."""

    chapter: str
    config: object  # LRSweepConfig
    dataset: str
    lr: float
    seed: int

    @property
    def label(self) -> str:
        return f"{self.chapter} sweep: {self.dataset} lr={self.lr:g} seed={self.seed}"


@dataclass
class Plan:
    """What a cluster run does: ``run`` (chapters to execute, ``_toc.yml`` order), ``finished`` (chapters that
    finished earlier with the same digest and are kept), ``needs[c]`` (chapters of ``run`` that ``c`` waits for)
    and ``sweep_runs[c]`` (the sweep runs ``c`` waits for)."""

    run: list[Chapter]
    finished: list[Chapter] = field(default_factory=list)
    needs: dict[str, list[str]] = field(default_factory=dict)
    sweep_runs: dict[str, list[SweepRun]] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)


def _finished(chapter: Chapter, build_dir: Path, profile: str, digest: str, timings: dict) -> bool:
    from repro.book.results import results_path

    entry = timings.get(chapter.name) or {}
    return (
        entry.get("status") == "ok"
        and entry.get("digest") == digest
        and (execute.executed_dir(build_dir, profile) / f"{chapter.name}.ipynb").is_file()
        and (not entry.get("results") or results_path(chapter.name, profile, build_dir / "results").is_file())
    )


def plan_run(
    chapters: Sequence[Chapter],
    *,
    all_chapters: Sequence[Chapter] | None = None,
    profile: str = "quick",
    seed: int = 0,
    device: str = "auto",
    data_root: str | os.PathLike | None = None,
    build_dir: str | os.PathLike | None = None,
    force: bool = True,
    config_of: Callable[[str, str], object | None] = chapter_config,
) -> Plan:
    """Dependencies, sweep runs and resumption for ``chapters`` (a selection of ``all_chapters``, the table of
    contents, whose order decides which chapter of a shared config comes first).

    Without ``force`` (and with ``build_dir``), a chapter that finished earlier with the same digest is kept unless
    a chapter it depends on is redone.
    """
    from repro.experiments.configs import LRSweepConfig
    from repro.experiments.lr_sweep import lr_sweep_runs

    order = {c.name: i for i, c in enumerate(all_chapters or chapters)}
    chapters = sorted(chapters, key=lambda c: order[c.name])
    names = [c.name for c in chapters]
    configs = {c.name: config_of(c.name, profile) for c in chapters}

    def shares(a: str, b: str) -> bool:  # the same config object, not merely an equal one
        return configs[a] is not None and configs[a] is configs[b]

    depends = {}  # on chapters of the selection, whether they run or are kept
    for i, name in enumerate(names):
        if name == SUMMARY_CHAPTER:
            depends[name] = [n for n in names if n != name]
        else:
            depends[name] = [earlier for earlier in names[:i] if shares(earlier, name)][:1]

    digests = {
        c.name: chapter_digest(c, profile=profile, seed=seed, device=device, data_root=data_root) for c in chapters
    }
    timings = {}
    if build_dir is not None and not force:
        from repro.book.results import timings_path

        path = timings_path(profile, Path(build_dir) / "results")
        timings = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    redo: set[str] = set()
    for c in chapters:  # table-of-contents order: a chapter's dependencies come before it
        kept = timings and _finished(c, Path(build_dir), profile, digests[c.name], timings)
        if not kept or redo & set(depends[c.name]):
            redo.add(c.name)

    plan = Plan(
        run=[c for c in chapters if c.name in redo],
        finished=[c for c in chapters if c.name not in redo],
        digests=digests,
    )
    running = [c.name for c in plan.run]
    for i, name in enumerate(running):
        needs = [d for d in depends[name] if d in redo]
        first = next((earlier for earlier in running[:i] if shares(earlier, name)), None)
        if first is None and isinstance(configs[name], LRSweepConfig):  # it trains the sweep: one task per run
            plan.sweep_runs[name] = [SweepRun(name, configs[name], *run) for run in lr_sweep_runs(configs[name], seed)]
        elif first is not None:  # it reads back what ``first`` computes in this run
            needs = list(dict.fromkeys([*needs, first]))
        plan.needs[name] = needs
    return plan


# --------------------------------------------------------------------------------------------- tasks (on workers)


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
    execute._update_timings(build_dir, profile, chapter, extra, merge=True)


def _sweep_run_task(key: str, run: SweepRun, device: str, data_root: str | None, cache_dir: str) -> dict:
    from repro.devices import resolve_device
    from repro.experiments.lr_sweep import train_lr_sweep_run

    _announce(key)
    start = time.perf_counter()
    outcome = {"kind": "sweep-run", "key": key, "worker": _worker_address()}
    try:
        hit = train_lr_sweep_run(
            run.config,
            run.dataset,
            run.lr,
            run.seed,
            data_root=data_root,
            device=resolve_device(device),
            cache_dir=cache_dir,
        )
    except Exception as exc:  # the chapter trains this run again in its own cell and reports where it fails
        return {**outcome, "status": "failed", "reason": f"{type(exc).__name__}: {exc}"}
    return {**outcome, "status": "ok", "cached": hit, "wall_time_s": time.perf_counter() - start}


def _chapter_task(key: str, chapter: Chapter, settings: dict, *needs: dict) -> dict:
    """Run one chapter with :func:`repro.book.execute.run_chapter` unless a chapter it depends on did not finish."""
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


def _allowed_failures(dask_scheduler=None) -> int:
    return dask_scheduler.allowed_failures


def _probe(paths: list[str], token: str) -> dict:
    """On a worker: can it read the probe file and the chapter sources, and which package and Python it runs."""
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


# --------------------------------------------------------------------------------------------- the client


def _visible_gpus() -> list[str]:
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [g for g in visible.split(",") if g.strip()]
    with contextlib.suppress(Exception):
        import torch

        return [str(i) for i in range(torch.cuda.device_count())]
    return []


def _worker_environments(n: int, device: str) -> list[dict[str, str]]:
    """Each worker's environment: cores / n threads for OpenMP/MKL/OpenBLAS, and one GPU each when several are
    visible and the device may be CUDA."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    threads = str(max(1, cores // n))
    base = {"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads}
    gpus = _visible_gpus() if device != "cpu" else []
    if len(gpus) < 2:
        return [dict(base) for _ in range(n)]
    return [{**base, "CUDA_VISIBLE_DEVICES": gpus[i % len(gpus)]} for i in range(n)]


def _local_cluster(n: int, device: str):
    """A ``LocalCluster`` of ``n`` worker processes (one thread each) with :func:`_worker_environments`."""
    import logging

    from distributed import LocalCluster

    environments = _worker_environments(n, device)

    class _Cluster(LocalCluster):
        def new_worker_spec(self):  # like dask-cuda: each new worker gets its own environment
            spec = super().new_worker_spec()
            for name, worker in spec.items():
                options = dict(worker["options"])
                options["env"] = environments[int(name) % n]
                spec[name] = {**worker, "options": options}
            return spec

    cluster = _Cluster(
        n_workers=0,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # any free port (the HTTP server also runs without bokeh)
        silence_logs=logging.ERROR,
    )
    cluster.scale(n)
    return cluster


@contextlib.contextmanager
def _client(workers: int | None, scheduler, device: str, log: Callable[[str], None]):
    import dask
    from distributed import Client
    from distributed.deploy import Cluster

    dashboard = importlib.util.find_spec("bokeh") is not None
    settings = {
        "distributed.scheduler.allowed-failures": 0,  # a chapter whose worker dies fails; it is not re-run
        "distributed.scheduler.worker-saturation": 1.0,  # one queued task per worker thread, not 1.1
    }
    with dask.config.set(settings), contextlib.ExitStack() as stack:
        if scheduler is None:
            cluster = stack.enter_context(_local_cluster(workers, device))
            client = stack.enter_context(Client(cluster))
            client.wait_for_workers(workers, timeout=120)
            where = f"a LocalCluster of {workers} worker process(es)"
        elif isinstance(scheduler, Cluster):  # e.g. a dask_jobqueue.SLURMCluster made by the caller
            client = stack.enter_context(Client(scheduler))
            where = f"{type(scheduler).__name__} at {scheduler.scheduler_address}"
        elif os.path.isfile(str(scheduler)):
            client = stack.enter_context(Client(scheduler_file=str(scheduler), timeout="30s"))
            where = f"the scheduler of {scheduler}"
        else:
            try:
                client = stack.enter_context(Client(str(scheduler), timeout="30s"))
            except OSError as exc:
                raise BookError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
            where = f"the scheduler at {scheduler}"
        if workers is not None and scheduler is not None:
            client.wait_for_workers(workers, timeout=300)
        if scheduler is not None:
            with contextlib.suppress(Exception):
                retries = client.run_on_scheduler(_allowed_failures)
                if retries:
                    log(
                        f"cluster: this scheduler runs a task again when its worker dies (allowed-failures = "
                        f"{retries}); start it with DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=0 to have such a "
                        "chapter reported as failed instead"
                    )
        info = client.scheduler_info()
        log(f"cluster: {where}, {len(info['workers'])} worker(s) ({client.scheduler.address})")
        if dashboard and info.get("services", {}).get("dashboard") is not None and client.dashboard_link:
            log(f"cluster: Dask dashboard at {client.dashboard_link}")
        yield client


def _check_shared(client, build_dir: Path, chapters: Sequence[Chapter]) -> None:
    """Every worker must see the build folder (and the chapter sources) at the same paths, and run this package."""
    build_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    probe = build_dir / f".cluster-probe-{token[:8]}"
    probe.write_text(token, encoding="utf-8")
    try:
        answers = client.run(_probe, [str(probe), *(str(c.source) for c in chapters)], token)
    except Exception as exc:
        raise BookError(f"the workers cannot run repro.book.cluster (is this package installed there?): {exc}") from exc
    finally:
        probe.unlink(missing_ok=True)
    if not answers:
        raise BookError("the Dask cluster has no workers")
    problems = [f"  {addr} (host {a['host']}): {a['problem']}" for addr, a in answers.items() if a["problem"]]
    if problems:
        raise BookError(
            f"the build folder {build_dir} (and the chapters) must be on a filesystem every worker shares, at the "
            "same path; these workers cannot see it:\n" + "\n".join(problems)
        )
    mine = package_digest()
    other = [f"  {addr} (host {a['host']})" for addr, a in answers.items() if a["package"] != mine]
    if other:
        raise BookError("these workers run another version of the repro package than this one:\n" + "\n".join(other))
    pythons = {a["python"] for a in answers.values()}
    if len(pythons) > 1:
        raise BookError(
            f"the workers run different Python interpreters ({', '.join(sorted(pythons))}), but they share one "
            f"kernel spec under {build_dir / 'jupyter'}; run every worker from the same environment path"
        )


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
    execute._update_timings(build_dir, profile, chapter.name, {**entry, "status": "failed"})
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
) -> list[ChapterRun]:
    """Execute the named chapters (default: all) on a Dask cluster: a ``LocalCluster`` of ``workers`` processes,
    or the existing cluster at ``scheduler`` (an address, a scheduler file, or a ``distributed`` Cluster object).

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

    # nodes of the graph: sweep runs, then chapters, each with the nodes it waits for
    nodes: dict[str, tuple[Callable, tuple, list[str], int]] = {}
    for name in (c.name for c in plan.run):
        for run in plan.sweep_runs.get(name, []):
            nodes[f"run:{run.label}"] = (_sweep_run_task, (run, device, parameter_root, cache_dir), [], 2)
    dependents = {n for c in plan.run for n in plan.needs[c.name]}
    for chapter in plan.run:
        settings = {
            "profile": profile,
            "device": device,
            "seed": int(seed),
            "data_root": parameter_root,
            "build_dir": str(build_dir),
            "toc": str(toc),
            "digest": plan.digests[chapter.name],
        }
        needs = [f"run:{r.label}" for r in plan.sweep_runs.get(chapter.name, [])]
        needs += [f"chapter:{n}" for n in plan.needs[chapter.name]]
        priority = 1 if chapter.name in dependents or chapter.name in plan.sweep_runs else 0
        nodes[f"chapter:{chapter.name}"] = (_chapter_task, (chapter, settings), needs, priority)
    order = list(nodes)  # a node's dependencies come before it

    with _client(workers, scheduler, device, log) as client:
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
            key = key or f"sweep-run-{secrets.token_hex(8)}"
            label[key] = name
            node_of[key] = node
            future = client.submit(
                func, key, *args, *(current[n] for n in needs), key=key, priority=priority, pure=False
            )
            current[node] = future
            pending.add(future)

        for node in order:
            submit(node)

        outcomes: dict[str, dict] = {}  # chapter → outcome
        decided: dict[str, str] = {}  # key of a task whose worker died → "resubmitted" | "failed"

        def resubmit_from(node: str) -> None:
            """Submit ``node`` again, and every node that waits for it, directly or not."""
            again = {node}
            for other in order:
                if set(nodes[other][2]) & again:
                    again.add(other)
            for other in order:
                if other in again:
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
                    "finished_utc": execute._now_utc(),
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
            key = future.key
            node = node_of[key]
            if current[node] is not future:
                continue  # replaced by a resubmission
            name = node.split(":", 1)[1]
            if future.status == "finished":
                outcome = future.result()
                where = f"on worker {outcome['worker']}"
                if outcome["kind"] == "sweep-run":
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
                    status = "failed" if own else "skipped"  # failed: one of its own sweep runs died
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
