"""The chapter contract: what every chapter does at its start and at its end, written once.

A chapter is its prose, its run call, its figures and its reading; around them::

    ch = open_chapter("fig03", profile=profile, device=device, seed=seed, data_root=data_root)
    run = ch.run(run_class_stiffness)                   # the experiment, with the chapter's config, device, seed
    ch.describe(run)                                    # what the run used, and the profile, seed and device
    ...                                                 # figures, tables, readings
    verdict = ch.judge(claims.class_membership_checks(run.snapshots), rule=claims.class_membership_rule())
    ...
    ch.close(run.headline(), details=run.details(), summary=run.summary_lines())   # the nbval-checked cell

:func:`open_chapter` sets the plotting style, reads the chapter's config for the profile
(:func:`repro.book.profiles.get_config`), resolves the device and seeds torch. :meth:`ChapterContext.judge` turns
typed checks (:class:`repro.claims.verdicts.Check`: each part holds, is contradicted or is undecided) into the
verdict by the book's rule and shows them; :meth:`ChapterContext.close` writes the results file (the config, the
checks as records, the headline numbers; see :mod:`repro.book.results`) and prints the lines nbval compares,
ending with the verdict.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from IPython.display import Markdown, display

from repro.book.figures import set_style
from repro.book.profiles import chapters as configured_chapters
from repro.book.profiles import get_config
from repro.book.results import cache_dir, save_results
from repro.claims.verdicts import VERDICT_RULE, Check, checks_table, verdict
from repro.devices import describe_device, resolve_device

__all__ = ["ChapterContext", "open_chapter"]


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

    def run(self, experiment: Callable, config: object = None, **options):
        """``experiment(config, device=…, seed=…, data_root=…, **options)`` with the chapter's config (or
        ``config``), device and seed; ``data_root`` only where the experiment takes one."""
        kwargs = {"device": self.device, "seed": self.seed, **options}
        if "data_root" in inspect.signature(experiment).parameters:
            kwargs["data_root"] = self.data_root
        return experiment(self.config if config is None else config, **kwargs)

    def describe(self, run, extra: str = "") -> None:
        """Show what a run used (its ``describe()``), ``extra`` Markdown, and the profile, seed and device."""
        display(Markdown("  \n".join(part for part in (run.describe(), extra, self.run_line()) if part)))

    def judge(self, checks: Iterable[Check], *, rule: str | None = None, note: str = "") -> str:
        """The verdict on ``checks`` by the book's rule (:func:`repro.claims.verdicts.verdict`), shown after
        ``rule`` (the claim and how its parts are decided, Markdown) and the book's verdict rule
        (:data:`repro.claims.verdicts.VERDICT_RULE`) as the checks table (each part's outcome: holds, contradicted,
        undecided) and **Verdict: …** (then ``note``); the checks and verdict go into the results file at
        :meth:`close`."""
        self.checks = list(checks)
        self.verdict = verdict(self.checks)
        if rule:
            display(Markdown(rule))
        display(Markdown(VERDICT_RULE))
        display(checks_table(self.checks).style.hide(axis="index"))
        display(Markdown(f"**Verdict: {self.verdict}.**" + (f" {note}" if note else "")))
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
        save_results(
            self.name,
            profile=self.profile,
            seed=self.seed,
            device=device or self.device_name,
            headline=dict(headline),
            verdict=self.verdict,
            checks=self.checks,
            details=dict(details or {}),
            config=self.config,
        )
        for line in summary:
            print(line)
        if self.verdict is not None:
            print(f"verdict: {self.verdict}")


def open_chapter(name: str, *, profile: str, device: str, seed: int, data_root: str | None) -> ChapterContext:
    """Start chapter ``name`` (its file name in ``book/``) with its four parameters: the book's plotting style, the
    chapter's config for ``profile`` (when it has one), the device resolved, torch seeded with ``seed``."""
    set_style()
    config = get_config(name, profile) if name in configured_chapters() else None
    context = ChapterContext(name, profile, int(seed), data_root, resolve_device(device), config)
    torch.manual_seed(context.seed)
    return context
