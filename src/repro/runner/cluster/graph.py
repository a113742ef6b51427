"""The task graph of a cluster run (:mod:`repro.runner.cluster`): one node per sweep group and per chapter of the
plan, each with the nodes it waits for and its Dask priority."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from repro.runner.cluster.plan import Plan
from repro.runner.cluster.resume import data_root_parameter
from repro.runner.cluster.tasks import chapter_task, sweep_group_task

__all__ = ["TaskNode", "task_graph"]


class TaskNode(NamedTuple):
    """A task of the run's graph: ``func(key, *args, *outcomes of needs)`` at Dask ``priority`` (higher first)."""

    func: Callable
    args: tuple
    needs: list[str]  # the nodes whose outcomes it takes, ``run:<sweep group>`` or ``chapter:<name>``
    priority: int


def task_graph(
    plan: Plan,
    toc: Path,
    build_dir: Path,
    *,
    profile: str,
    device: str,
    seed: int,
    threads: int,
    data_root: str | os.PathLike | None,
) -> dict[str, TaskNode]:
    """The nodes of the run's graph, each after the nodes it waits for: the sweep groups (``run:<label>``), then the
    chapters (``chapter:<name>``).

    Priorities (higher starts first): sweep groups, then chapters others wait for, then the rest, each group in the
    plan's start order."""
    from repro.book.results import cache_dir as results_cache_dir

    parameter_root = data_root_parameter(data_root)
    cache_dir = str(results_cache_dir(build_dir / "results"))  # what cache_dir() gives the chapters' kernels
    nodes: dict[str, TaskNode] = {}
    rank = {name: len(plan.start_order) - i for i, name in enumerate(plan.start_order)}
    sweep_priority = 2 * (len(rank) + 1)
    for name in (c.name for c in plan.run):
        for group in plan.sweep_groups.get(name, []):
            task = TaskNode(sweep_group_task, (group, device, parameter_root, cache_dir, threads), [], sweep_priority)
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
        nodes[f"chapter:{chapter.name}"] = TaskNode(chapter_task, (chapter, settings), needs, priority)
    return nodes
