"""The opening the three sweep chapters (``fig08``, ``fig10``, ``critical-length``) share: the learning-rate sweep
measured once (or read back), its stops joined with their networks' held-out accuracy and split into trained and
untrained ones, and the Markdown that says which stops were left out."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from repro.analysis.sweep_domains import censored_domains, domain_table
from repro.book.chapter import ChapterContext
from repro.book.tables import untrained_stops
from repro.claims import TRAINED_RULE, split_trained
from repro.experiments.domain_ranges import stop_domain_ranges
from repro.experiments.lr_sweep import LRSweep, run_lr_sweep
from repro.experiments.reanalysis import stop_accuracy

__all__ = ["SweepReading", "read_sweep", "read_domains"]


@dataclass
class SweepReading:
    """A sweep as its chapters read it: the stored ``sweep``, its ``rows`` of trained networks (with their held-out
    accuracy) and the ``untrained`` stops left out (:func:`repro.claims.split_trained`)."""

    sweep: LRSweep
    rows: pd.DataFrame
    untrained: pd.DataFrame

    def untrained_note(self) -> str:
        """Markdown: the trained-network rule, how many stops it judged and every stop it left out."""
        return TRAINED_RULE + "\n\n" + untrained_stops(self.rows, self.untrained)


def read_sweep(ch: ChapterContext) -> SweepReading:
    """The chapter's sweep through its measure step (:meth:`ChapterContext.run`: stored, and shared with the other
    sweep chapters through the sweep's per-group cache) and each stop's held-out accuracy from the stored logits."""
    sweep = ch.run(run_lr_sweep, cache_dir=ch.cache_dir)
    rows, untrained = split_trained(sweep.rows, ch.run(stop_accuracy, cache_dir=ch.cache_dir))
    return SweepReading(sweep, rows, untrained)


def read_domains(ch: ChapterContext, rows: pd.DataFrame, layers: list[str]) -> pd.DataFrame:
    """The stiff domains of ``rows`` (stops of the sweep) on ``layers``, a curve that never crossed read as a bound
    (:func:`repro.analysis.sweep_domains.censored_domains`), with each stop's measurable range measured once from
    the sweep's stored matrices (:func:`repro.experiments.domain_ranges.stop_domain_ranges`, through
    :meth:`ChapterContext.run`)."""
    ranges = ch.run(stop_domain_ranges, cache_dir=ch.cache_dir)
    return censored_domains(domain_table(rows, layers), ranges)
