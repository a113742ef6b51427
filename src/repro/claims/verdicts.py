"""Computed "paper vs this reproduction" verdicts.

A chapter states the paper's claim as a few checks, each a comparison of measured numbers (usually a bootstrap
interval against a threshold). Some checks are *preconditions*: what must hold for the claim to be observable at
all (the network overfits, the network learned its task); they are never evidence for the claim. The verdict
follows by one rule for the whole book:

- a precondition fails → ``"not reproduced"`` (the claim could not be observed);
- otherwise, of the checks of the claim itself: every one passes → ``"reproduced"``; some pass →
  ``"partly reproduced"``; none pass → ``"not reproduced"``.

No verdict is typed by hand.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

__all__ = [
    "REPRODUCED",
    "PARTLY",
    "NOT_REPRODUCED",
    "VERDICTS",
    "Check",
    "check_above",
    "check_below",
    "check_inside",
    "verdict",
    "checks_table",
]

REPRODUCED, PARTLY, NOT_REPRODUCED = "reproduced", "partly reproduced", "not reproduced"
VERDICTS = (REPRODUCED, PARTLY, NOT_REPRODUCED)


@dataclass(frozen=True)
class Check:
    """One measurable part of a claim: what was tested, whether it held, and the numbers behind it."""

    claim: str
    passed: bool
    evidence: str
    precondition: bool = False  # must hold for the claim to be observable; not evidence for it

    def as_record(self) -> dict[str, object]:
        """The check as a plain record for a results file (read back with :meth:`from_record`)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_record(cls, record: Mapping[str, object]) -> Check:
        """A check from its :meth:`as_record` record."""
        return cls(
            claim=str(record["claim"]),
            passed=bool(record["passed"]),
            evidence=str(record["evidence"]),
            precondition=bool(record.get("precondition", False)),
        )

    def labelled(self, label: str) -> Check:
        """The same check with its claim prefixed by ``label`` (e.g. ``"seed 1"``)."""
        return dataclasses.replace(self, claim=f"{label}: {self.claim}")


def _fmt(value: float) -> str:
    """Three decimals, or three significant digits in scientific notation where decimals would hide the value."""
    if value == 0 or not math.isfinite(value) or 1e-3 <= abs(value) < 1e4:
        return f"{value:+.3f}"
    return f"{value:+.2e}"


def _fmt_interval(ci: tuple[float, float]) -> str:
    return f"[{_fmt(ci[0])}, {_fmt(ci[1])}]"


def check_above(claim: str, name: str, ci: tuple[float, float], threshold: float) -> Check:
    """Passes when the whole interval ``ci`` of quantity ``name`` lies above ``threshold``."""
    return Check(claim, bool(ci[0] > threshold), f"{name} interval {_fmt_interval(ci)} vs threshold {_fmt(threshold)}")


def check_below(claim: str, name: str, ci: tuple[float, float], threshold: float) -> Check:
    """Passes when the whole interval ``ci`` lies below ``threshold``."""
    return Check(claim, bool(ci[1] < threshold), f"{name} interval {_fmt_interval(ci)} vs threshold {_fmt(threshold)}")


def check_inside(claim: str, name: str, value: float, low: float, high: float) -> Check:
    """Passes when ``low ≤ value ≤ high``."""
    return Check(claim, bool(low <= value <= high), f"{name} = {_fmt(value)}, required in [{_fmt(low)}, {_fmt(high)}]")


def verdict(checks: Sequence[Check]) -> str:
    """The book's rule: a failed precondition → not reproduced; else, of the claim's own checks, all pass →
    reproduced, some → partly reproduced, none → not reproduced."""
    if not checks:
        raise ValueError("a verdict needs at least one check")
    if not all(c.passed for c in checks if c.precondition):
        return NOT_REPRODUCED
    evidence = [c for c in checks if not c.precondition]
    if not evidence:
        raise ValueError("a verdict needs at least one check of the claim itself, not only preconditions")
    n_pass = sum(c.passed for c in evidence)
    if n_pass == len(evidence):
        return REPRODUCED
    return PARTLY if n_pass else NOT_REPRODUCED


def checks_table(checks: Sequence[Check]) -> pd.DataFrame:
    """The checks as a table for the chapter: claim (preconditions marked), result (yes/no), evidence."""
    return pd.DataFrame(
        {
            "claim": [f"precondition: {c.claim}" if c.precondition else c.claim for c in checks],
            "holds": ["yes" if c.passed else "no" for c in checks],
            "evidence": [c.evidence for c in checks],
        }
    )
