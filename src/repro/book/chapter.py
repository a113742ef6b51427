"""The chapter contract: what every chapter does at its start and at its end, written once.

A chapter is its prose, its run call, its figures and its reading; around them::

    ch = open_chapter("fig03", profile=profile, device=device, seed=seed, data_root=data_root)
    run = ch.run(run_class_stiffness)                   # the experiment, with the chapter's config, device, seed
    ch.describe(run)                                    # what the run used, and the profile, seed and device
    ...                                                 # figures, tables, readings (repro.analysis, repro.book)
    verdict = ch.judge(claims.class_membership_checks(run.snapshots), rule=claims.class_membership_rule())
    ...
    ch.close(headline(run), details=run_details(run), summary=summary_lines(run))   # the nbval-checked cell

:func:`open_chapter` sets the plotting style, reads the chapter's config for the profile
(:func:`repro.book.profiles.get_config`), resolves the device and seeds torch. :meth:`ChapterContext.run` is the
chapter's *measure* step: it stores what the experiment returns (:mod:`repro.measurements`) in
``<results root>/measurements/<profile>/<chapter>/`` under a key that covers the experiment's settings, seed,
device, data root, threads, torch version and the source of the code that measures, and reads it back on the next
execution while that key holds — so everything after it (analysis, figures, verdict, prose) re-runs in seconds
after an edit that does not touch the measuring code. :meth:`ChapterContext.judge` turns
typed checks (:class:`repro.claims.verdicts.Check`: each part holds, is contradicted or is undecided) into the
verdict by the book's rule and shows them; :meth:`ChapterContext.close` writes the results file (the config, the
checks as records, the headline numbers; see :mod:`repro.book.results`) and prints the lines nbval compares,
ending with the verdict.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from IPython.display import Markdown, display

from repro.analysis.descriptions import describe
from repro.book.figures import set_style
from repro.book.profiles import chapters as configured_chapters
from repro.book.profiles import get_config
from repro.book.results import cache_dir, display_path, measurements_dir, save_results
from repro.claims.thresholds import overrides as threshold_overrides
from repro.claims.verdicts import VERDICT_RULE, Check, checks_table, describe_parts, verdict
from repro.data import DatasetNotFoundError, load_dataset, resolve_data_root
from repro.devices import describe_device, machine_fingerprint, resolve_device
from repro.measurements.keys import measurement_key
from repro.measurements.store import SUFFIX, memoise

__all__ = [
    "ChapterContext",
    "MeasurementRecord",
    "MeasurementRefused",
    "open_chapter",
    "verdict_evidence",
    "NOT_SETTINGS",
    "READ_ONLY_ENV",
]

NOT_SETTINGS = ("cache_dir", "progress")  # options of an experiment that say where or how loudly, not what, it measures
READ_ONLY_ENV = "REPRO_READ_ONLY"  # "1": ChapterContext.run reads stored measurements back and refuses to measure


class MeasurementRefused(RuntimeError):
    """A chapter executed with ``REPRO_READ_ONLY=1`` (the sensitivity run, :mod:`repro.runner.sensitivity`) needed a
    measurement that is not stored: it would have had to measure (train), which that run must not do."""


def _refuse(path: Path, key: str) -> None:
    raise MeasurementRefused(
        f"{READ_ONLY_ENV}=1: {display_path(path)} is not stored (key {key}); this execution reads stored "
        "measurements only and does not measure"
    )


@dataclass(frozen=True)
class MeasurementRecord:
    """One :meth:`ChapterContext.run` call: which experiment, under which key, whether it was read back from the
    store, what the measuring took (seconds, when it was measured, and where the seconds went: ``phases``, seconds
    by phase and counts of work, :meth:`repro.phases.PhaseClock.as_record`; empty for a file stored before phases
    were recorded) and the size of what was stored (the compressed payload's bytes, the same in every run that
    stores the same values; the file adds a header of a few hundred bytes; 0 when the value could not be stored)."""

    experiment: str
    key: str
    read_back: bool
    seconds: float
    measured_utc: str
    payload_bytes: int
    file: str
    phases: dict = field(default_factory=dict)

    def as_record(self) -> dict[str, object]:
        """The record as a results file keeps it."""
        return dataclasses.asdict(self)


@dataclass
class ChapterContext:
    """One chapter being executed: its parameters, its config for the profile, and the checks it has judged."""

    name: str
    profile: str
    seed: int
    data_root: str | None
    device: torch.device
    config: object = None  # the chapter's settings (repro.book.profiles), None for a chapter without experiments
    checks: list[Check] = field(default_factory=list)
    verdict: str | None = None
    verdict_note: str = ""  # what the chapter says beside its verdict (kept in the results file)
    measurements: list[MeasurementRecord] = field(default_factory=list)
    missing_data: list[dict[str, str]] = field(default_factory=list)  # runs not made: their data cannot be had here
    opened_at: float = field(default_factory=time.perf_counter)  # when the chapter was opened (perf_counter seconds)

    @property
    def device_name(self) -> str:
        """The device as a results file records it, e.g. ``"cpu"`` or ``"cuda (NVIDIA H100 80GB HBM3)"``."""
        return describe_device(self.device)

    @property
    def cache_dir(self) -> Path:
        """Where experiments shared between chapters are cached (:func:`repro.book.results.cache_dir`)."""
        return cache_dir()

    def run_line(self, seeds: Sequence[int] | None = None) -> str:
        """``Profile *quick*, seed 0, device cpu.`` (``seeds``: the seeds of a chapter that runs several)."""
        seed = f"seed {self.seed}" if seeds is None else f"seeds {list(seeds)}"
        return f"Profile *{self.profile}*, {seed}, device {self.device_name}."

    @property
    def measurements_dir(self) -> Path:
        """Where this chapter's measurements are stored: ``<results root>/measurements/<profile>/<chapter>``."""
        return measurements_dir(self.name, self.profile)

    def run(self, experiment: Callable, config: object = None, **options):
        """The measure step: ``experiment(config, device=…, seed=…, data_root=…, **options)`` with the chapter's
        config (or ``config``), device and seed (``data_root`` only where the experiment takes one), stored in
        :attr:`measurements_dir` and read back instead of measured again while its key holds.

        The key (:func:`repro.measurements.keys.measurement_key`) covers the experiment's name, the config, seed,
        device and options (but not :data:`NOT_SETTINGS`), torch's version and thread count, and the code of the
        experiment's module and every ``repro`` module it imports. The data are named by the config (the book reads
        canonical datasets), so a stored run moves to a machine whose data root is elsewhere; the header keeps the
        data root and the machine (CPU, PyTorch's CPU capability, library versions) it was measured on. A stored
        file that is truncated, corrupt or foreign is an error naming it
        (:class:`repro.measurements.store.MeasurementError`). With ``REPRO_READ_ONLY=1`` (:data:`READ_ONLY_ENV`) a
        measurement that is not stored is :class:`MeasurementRefused` instead of measured."""
        cfg = self.config if config is None else config
        kwargs = {"device": self.device, "seed": self.seed, **options}
        if "data_root" in inspect.signature(experiment).parameters:
            kwargs["data_root"] = self.data_root
        if not getattr(experiment, "__module__", "").startswith("repro.experiments."):
            raise ValueError(
                f"ch.run measures with a function of repro.experiments, not {experiment!r}: readings of a measurement "
                "are called on what ch.run returns"
            )
        settings = {
            "experiment": f"{experiment.__module__}.{experiment.__qualname__}",
            "config": cfg,
            "seed": self.seed,
            "device": self.device_name,
            "options": {k: v for k, v in sorted(options.items()) if k not in NOT_SETTINGS},
        }
        key = measurement_key(settings, experiment.__module__)
        path = self.measurements_dir / f"{experiment.__name__}-{key}{SUFFIX}"
        info = {"data_root": str(resolve_data_root(self.data_root).resolve()), "machine": machine_fingerprint()}
        read_only = os.environ.get(READ_ONLY_ENV, "") == "1"
        measure = (lambda: _refuse(path, key)) if read_only else (lambda: experiment(cfg, **kwargs))
        value, header, hit = memoise(path, key, measure, name=experiment.__name__, info=info)
        self.measurements.append(
            MeasurementRecord(
                experiment.__name__, key, hit, float(header.get("seconds", float("nan"))),
                str(header.get("created_utc", "")), int(header.get("payload_bytes", 0)), display_path(path),
                dict(header.get("phases", {})),
            )
        )  # fmt: skip
        return value

    def run_if_data(self, experiment: Callable, config: object = None, **options):
        """:meth:`run`, or None when the data the run needs cannot be had here
        (:class:`repro.data.DatasetNotFoundError`, raised before any measuring): the dataset and the reason are
        shown and recorded (:attr:`missing_data`, in the results file's details). Any other error propagates."""
        name = str(getattr(self.config if config is None else config, "dataset", "the data"))
        try:
            return self.run(experiment, config, **options)
        except DatasetNotFoundError as err:
            return self._missing(name, err)
        except MeasurementRefused:  # a read-only execution: say "missing data" when that is why it was not stored
            try:
                load_dataset(name, self.data_root)
            except DatasetNotFoundError as err:
                return self._missing(name, err)
            raise

    def _missing(self, name: str, err: DatasetNotFoundError) -> None:
        """Record and show that the run on dataset ``name`` was not made (its data cannot be had here)."""
        self.missing_data.append({"dataset": name, "reason": str(err)})
        display(Markdown(f"**{name} cannot be had here, so this run was not made.** {err}"))

    def execution_seconds(self) -> dict[str, float]:
        """This execution's wall time so far (``total``, from :func:`open_chapter`; the kernel's start not
        included), the part spent measuring (``measuring``: the measurements not read back) and the rest
        (``reading``: reading back, analysis, figures, tables and prose)."""
        total = time.perf_counter() - self.opened_at
        measuring = sum(m.seconds for m in self.measurements if not m.read_back)
        return {"total": round(total, 3), "measuring": round(measuring, 3), "reading": round(total - measuring, 3)}

    def describe(self, run, extra: str = "") -> None:
        """Show what a run used (:func:`repro.analysis.descriptions.describe`), ``extra`` Markdown, the profile,
        seed and device, and where the measurement came from when it was read back from the store."""
        parts = (describe(run), extra, self.run_line(), self.measurement_line())
        display(Markdown("  \n".join(part for part in parts if part)))

    def measurement_line(self) -> str:
        """``Measurement read back from the store (measured in 812 s at 2026-…).`` for the runs this chapter read
        back so far, or ``""`` when it measured them all in this execution."""
        back = [m for m in self.measurements if m.read_back]
        if not back:
            return ""
        spent = sum(m.seconds for m in back)
        when = ", ".join(sorted({m.measured_utc for m in back}))
        return f"Measurement read back from the store (measured in {spent:,.0f} s at {when})."

    def judge(self, checks: Iterable[Check], *, rule: str | None = None, note: str = "") -> str:
        """The verdict on ``checks`` by the book's rule (:func:`repro.claims.verdicts.verdict`), shown after
        ``rule`` (the claim and how its parts are decided, Markdown) and the book's verdict rule
        (:data:`repro.claims.verdicts.VERDICT_RULE`) as the checks table (each part's outcome: holds, contradicted,
        undecided) and **Verdict: …** (then ``note``); the checks and verdict go into the results file at
        :meth:`close`."""
        self.checks = list(checks)
        self.verdict = verdict(self.checks)
        self.verdict_note = note
        if rule:
            display(Markdown(rule))
        display(Markdown(VERDICT_RULE))
        display(checks_table(self.checks).style.hide(axis="index"))
        display(Markdown(f"**Verdict: {self.verdict}**{verdict_evidence(self.checks)}." + (f" {note}" if note else "")))
        return self.verdict

    def close(
        self,
        headline: Mapping[str, object],
        *,
        details: Mapping[str, object] | None = None,
        summary: Iterable[str] = (),
        device: str | None = None,
    ) -> None:
        """Write the results file (:func:`repro.book.results.save_results`: config, device, seed, headline, verdict,
        checks, details) and print the regression lines: ``summary``, then ``verdict: …`` when the chapter judged a
        claim. ``device``: what to record instead of the device (``"none"`` for a chapter that computes nothing).
        Returns nothing, so that the checked cell shows only the printed lines."""
        details = dict(details or {})
        if self.measurements:
            details["measurements"] = [m.as_record() for m in self.measurements]
        if self.missing_data:
            details["missing_data"] = list(self.missing_data)
        details["execution_seconds"] = self.execution_seconds()
        if threshold_overrides():
            details["threshold_overrides"] = threshold_overrides()  # the sensitivity run (repro.claims.thresholds)
        if self.verdict_note:
            details["verdict_note"] = self.verdict_note
        save_results(
            self.name,
            profile=self.profile,
            seed=self.seed,
            device=device or self.device_name,
            headline=dict(headline),
            verdict=self.verdict,
            checks=self.checks,
            details=details,
            config=self.config,
        )
        for line in summary:
            print(line)
        if self.verdict is not None:
            print(f"verdict: {self.verdict}")


def verdict_evidence(checks: Sequence[Check]) -> str:
    """What a verdict stands on, for its line: `` (4 hold, 0 contradicted, 2 undecided)``, with a precondition
    that does not hold named first (`` (precondition not met: …)``); ``""`` without checks."""
    failed = [c.claim for c in checks if c.precondition and not c.passed]
    parts = [f"precondition not met: {'; '.join(failed)}"] if failed else []
    counted = describe_parts(checks)
    return f" ({'; '.join(parts + ([counted] if counted else []))})" if parts or counted else ""


def open_chapter(name: str, *, profile: str, device: str, seed: int, data_root: str | None) -> ChapterContext:
    """Start chapter ``name`` (its file name in ``book/``) with its four parameters: the book's plotting style, the
    chapter's config for ``profile`` (when it has one), the device resolved, torch seeded with ``seed``."""
    set_style()
    config = get_config(name, profile) if name in configured_chapters() else None
    context = ChapterContext(name, profile, int(seed), data_root, resolve_device(device), config)
    torch.manual_seed(context.seed)
    return context
