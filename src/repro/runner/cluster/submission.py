"""Following a cluster run's task graph on the cluster (:mod:`repro.runner.cluster`): :class:`Submission` submits
the tasks, prints a line as each starts and ends, submits again a task lost with a dead worker before it started, and
records each chapter's outcome; a chapter whose worker died while it ran is cleaned up as failed."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from repro.book.results import results_path
from repro.book.toc import Chapter
from repro.runner.cluster.graph import TaskNode
from repro.runner.cluster.plan import Plan, ready_to_submit
from repro.runner.cluster.tasks import PROGRESS_TOPIC
from repro.runner.notebooks import notebook_paths
from repro.runner.timings import now_utc, update_timings

__all__ = ["MAX_RESUBMITS", "Submission"]

MAX_RESUBMITS = 3  # a task that never started, lost with a dead worker, is submitted again at most this often


def _clean_killed_chapter(build_dir: Path, profile: str, chapter: Chapter, entry: dict) -> str:
    """After the worker running ``chapter`` died: its partial notebook becomes ``.FAILED.ipynb``, whatever it
    wrote as final (notebook, results file) is removed, and its timings entry says failed. Returns where the
    partial notebook is kept."""
    notebooks = notebook_paths(chapter, build_dir, profile)
    notebooks.final.unlink(missing_ok=True)
    results_path(chapter.name, profile, build_dir / "results").unlink(missing_ok=True)
    kept = "no notebook was written"
    if notebooks.partial.exists():
        os.replace(notebooks.partial, notebooks.failed)
        kept = f"what ran is kept at {notebooks.failed}"
    update_timings(build_dir, profile, chapter.name, {**entry, "status": "failed"})
    return kept


class Submission:
    """The run's graph on the cluster: submits the nodes (the sweep groups at once, the chapters as threads free up),
    logs each task's start and end, submits again a task lost with a dead worker before it started, and records each
    chapter's outcome (``{"status": "ok" | "failed" | "skipped", ...}``)."""

    def __init__(
        self,
        client,
        nodes: dict[str, TaskNode],
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
        if key not in self.started and self.resubmits.get(node, 0) < MAX_RESUBMITS and self.current[node].key == key:
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
