"""The plan of a cluster run (:mod:`repro.runner.cluster`): which chapters run, which wait for which (a shared
profile config, the summary chapter), and the learning-rate sweeps split into one task per group of runs
(one per dataset)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from repro.book.toc import Chapter
from repro.runner.cluster.resume import chapter_digest, finished_earlier
from repro.runner.timings import read_timings

SUMMARY_CHAPTER = "claims"  # reads every other chapter's results file, so it runs after all of them


def chapter_config(name: str, profile: str) -> object | None:
    """The chapter's profile config (:func:`repro.book.profiles.get_config`), or None for a chapter without one."""
    from repro.book.profiles import get_config

    try:
        return get_config(name, profile)
    except ValueError:
        return None


@dataclass(frozen=True)
class SweepGroup:
    """One group of a learning-rate sweep (one dataset's runs, every seed and learning rate, trained together),
    trained as a task of its own before ``chapter`` (the sweep's first chapter in this run) reads the sweep back."""

    chapter: str
    config: object  # LRSweepConfig
    dataset: str
    seed: int  # the sweep's first seed

    @property
    def label(self) -> str:
        return f"{self.chapter} sweep: {self.dataset}"


@dataclass
class Plan:
    """What a cluster run does: ``run`` (chapters to execute, ``_toc.yml`` order), ``finished`` (chapters that
    finished earlier with the same digest and are kept), ``needs[c]`` (chapters of ``run`` that ``c`` waits for),
    ``sweep_groups[c]`` (the sweep groups ``c`` waits for) and ``start_order`` (the order in which the chapters of
    ``run`` should start when several are ready, :func:`start_order`)."""

    run: list[Chapter]
    finished: list[Chapter] = field(default_factory=list)
    needs: dict[str, list[str]] = field(default_factory=dict)
    sweep_groups: dict[str, list[SweepGroup]] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    start_order: list[str] = field(default_factory=list)


def ready_to_submit(
    by_priority: Sequence[str], needs: Mapping[str, Sequence[str]], submitted: set[str], in_flight: int, capacity: int
) -> list[str]:
    """The chapters to submit now: the first of ``by_priority`` (highest priority first) not yet ``submitted`` whose
    ``needs`` all are, as long as fewer than ``capacity`` (the cluster's threads) are in flight.

    Dask assigns a task to a worker as soon as it is ready, so chapters submitted all at once can queue behind a long
    one on one worker while another idles (measured: a paper-profile run left a worker idle for 20 minutes behind
    fig02); holding them back until a thread is free leaves the choice of worker to the moment it frees up."""
    chosen: list[str] = []
    for name in by_priority:
        if in_flight + len(chosen) >= capacity:
            break
        if name not in submitted and all(n in submitted or n in chosen for n in needs.get(name, ())):
            chosen.append(name)
    return chosen


def start_order(names: Sequence[str], seconds: Mapping[str, float]) -> list[str]:
    """``names`` (``_toc.yml`` order) in the order a free worker should start them: chapters without an earlier
    wall time first, in ``_toc.yml`` order, then the others longest first (``seconds``: each chapter's wall time in
    an earlier run), so that a long chapter does not start last while the other workers idle."""
    unknown = [n for n in names if n not in seconds]
    known = sorted((n for n in names if n in seconds), key=lambda n: -seconds[n])
    return unknown + known


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
    threads: int = 1,
) -> Plan:
    """Dependencies, sweep groups and resumption for ``chapters`` (a selection of ``all_chapters``, the table of
    contents, whose order decides which chapter of a shared config comes first).

    Without ``force`` (and with ``build_dir``), a chapter that finished earlier with the same digest is kept unless
    a chapter it depends on is redone.
    """
    from repro.experiments.configs import LRSweepConfig
    from repro.experiments.lr_sweep import lr_sweep_groups

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
        c.name: chapter_digest(c, profile=profile, seed=seed, device=device, data_root=data_root, threads=threads)
        for c in chapters
    }
    # the build folder's _timings.json: what finished, and how long each chapter took
    earlier = read_timings(profile, Path(build_dir) / "results") if build_dir is not None else {}
    timings = {} if force else earlier
    redo: set[str] = set()
    for c in chapters:  # table-of-contents order: a chapter's dependencies come before it
        kept = timings and finished_earlier(c, Path(build_dir), profile, digests[c.name], timings)
        if not kept or redo & set(depends[c.name]):
            redo.add(c.name)

    plan = Plan(
        run=[c for c in chapters if c.name in redo],
        finished=[c for c in chapters if c.name not in redo],
        digests=digests,
    )
    running = [c.name for c in plan.run]
    seconds = {n: float(earlier[n]["wall_time_s"]) for n in running if "wall_time_s" in earlier.get(n, {})}
    plan.start_order = start_order(running, seconds)
    for i, name in enumerate(running):
        needs = [d for d in depends[name] if d in redo]
        first = next((earlier for earlier in running[:i] if shares(earlier, name)), None)
        if first is None and isinstance(configs[name], LRSweepConfig):  # it trains the sweep: one task per group
            groups = lr_sweep_groups(configs[name])
            plan.sweep_groups[name] = [SweepGroup(name, configs[name], dataset, seed) for dataset in groups]
        elif first is not None:  # it reads back what ``first`` computes in this run
            needs = list(dict.fromkeys([*needs, first]))
        plan.needs[name] = needs
    return plan
