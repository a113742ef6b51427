"""Computed "paper vs this reproduction" verdicts.

A chapter states the paper's claim as a few checks, each a comparison of measured numbers (usually a bootstrap
interval against a threshold). The verdict follows from how many checks pass, by one rule for the whole book:

- every check passes → ``"reproduced"``;
- some pass → ``"partly reproduced"``;
- none pass → ``"not reproduced"``.

No verdict is typed by hand.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

__all__ = ["Check", "check_above", "check_below", "check_inside", "verdict", "checks_table"]

REPRODUCED, PARTLY, NOT_REPRODUCED = "reproduced", "partly reproduced", "not reproduced"


@dataclass(frozen=True)
class Check:
    """One measurable part of a claim: what was tested, whether it held, and the numbers behind it."""

    claim: str
    passed: bool
    evidence: str


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
    """The book's rule: all checks pass → reproduced; some → partly reproduced; none → not reproduced."""
    if not checks:
        raise ValueError("a verdict needs at least one check")
    n_pass = sum(c.passed for c in checks)
    if n_pass == len(checks):
        return REPRODUCED
    return PARTLY if n_pass else NOT_REPRODUCED


def checks_table(checks: Sequence[Check]) -> pd.DataFrame:
    """The checks as a table for the chapter: claim, result (✓/✗), evidence."""
    return pd.DataFrame(
        {
            "claim": [c.claim for c in checks],
            "holds": ["yes" if c.passed else "no" for c in checks],
            "evidence": [c.evidence for c in checks],
        }
    )
