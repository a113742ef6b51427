"""Computed "paper vs this reproduction" verdicts.

A chapter splits a claim, in its rule text, into the *parts* the claim asserts, and decides each part from measured
numbers as a :class:`Check` with one of three outcomes:

- ``"holds"`` — the data show what the part asserts (e.g. a 95% interval lies wholly above the threshold the part
  asks it to exceed);
- ``"contradicted"`` — the data show the opposite (the interval lies wholly on the other side of the threshold; a
  trend claimed "up" is a separated "down");
- ``"undecided"`` — the data cannot tell (the interval overlaps the threshold; a trend without separated ends).

A part compared without an interval (one number against a range, a permutation test's p-value at a fixed level) is
two-valued where its builder says so: holds or contradicted.

Some checks are *preconditions*: what must hold for the claim to be observable at all (the network overfits, the
network learned its task); they are never evidence for the claim. The verdict follows one published rule for the
whole book (:data:`VERDICT_RULE`, shown by every chapter and by the claims page):

- a precondition does not hold → ``"inconclusive"`` (the claim could not be observed);
- every part holds → ``"reproduced"``;
- some parts hold and some are contradicted → ``"partly reproduced"``;
- no part holds and at least one is contradicted → ``"not reproduced"``;
- some parts hold, none is contradicted, the rest are undecided → ``"supported"`` (every part the data decide
  holds; it is not "cannot tell");
- no part decided (every part undecided) → ``"inconclusive"``.

The rule orders evidence (:data:`VERDICT_ORDER`, best first): deciding an undecided part as *holds* never makes a
verdict worse, deciding it as *contradicted* never makes it better.

No verdict is typed by hand.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

__all__ = [
    "HOLDS",
    "CONTRADICTED",
    "UNDECIDED",
    "OUTCOMES",
    "REPRODUCED",
    "PARTLY",
    "NOT_REPRODUCED",
    "INCONCLUSIVE",
    "SUPPORTED",
    "VERDICTS",
    "VERDICT_ORDER",
    "VERDICT_RULE",
    "Check",
    "decide",
    "check_above",
    "check_below",
    "check_inside",
    "check_separated",
    "verdict",
    "checks_table",
    "outcome_counts",
    "describe_parts",
    "shown_outcome",
]

HOLDS, CONTRADICTED, UNDECIDED = "holds", "contradicted", "undecided"
OUTCOMES = (HOLDS, CONTRADICTED, UNDECIDED)

REPRODUCED, SUPPORTED, PARTLY, NOT_REPRODUCED, INCONCLUSIVE = (
    "reproduced",
    "supported",
    "partly reproduced",
    "not reproduced",
    "inconclusive",
)
VERDICTS = (REPRODUCED, SUPPORTED, PARTLY, NOT_REPRODUCED, INCONCLUSIVE)
VERDICT_ORDER = (REPRODUCED, SUPPORTED, INCONCLUSIVE, PARTLY, NOT_REPRODUCED)
"""The verdicts from the best evidence for the claim to the worst, as the rule orders them: one more part decided as
*holds* never moves a verdict down this list, one more decided as *contradicted* never moves it up. *inconclusive*
(nothing decided) sits between *supported* (what is decided holds) and *partly reproduced* (something is
contradicted)."""

VERDICT_RULE = (
    "**The book's verdict rule** (the same for every claim). Each part of the claim is decided from the "
    "measurements as *holds*, *contradicted* (the data show the opposite, e.g. an interval wholly on the other side "
    "of its threshold) or *undecided* (the data cannot tell, e.g. an interval that overlaps its threshold). "
    "A precondition that does not hold (the claim could not be observed) → *inconclusive*; otherwise every part "
    "holds → *reproduced*; some parts hold and some are contradicted → *partly reproduced*; no part holds and at "
    "least one is contradicted → *not reproduced*; some parts hold, none is contradicted and the rest are undecided "
    "→ *supported* (all that the data decide holds: not the same as *cannot tell*); no part decided → "
    "*inconclusive*."
)


def decide(holds: bool, contradicted: bool) -> str:
    """The outcome of a part from its two tests: ``"holds"``, ``"contradicted"`` or, when neither, ``"undecided"``.
    Both at once is a bug in the caller (a part cannot show a claim and its opposite)."""
    if holds and contradicted:
        raise ValueError("a part cannot both hold and be contradicted")
    return HOLDS if holds else CONTRADICTED if contradicted else UNDECIDED


@dataclass(frozen=True)
class Check:
    """One part of a claim (or a precondition): what was tested, its outcome, and the numbers behind it.

    ``passed`` is True exactly when the part holds (kept for readers of the two-valued checks). ``outcome`` is one
    of :data:`OUTCOMES`; left empty it is derived from ``passed``: ``"holds"`` if passed, else ``"contradicted"`` —
    a check built without an outcome is two-valued, a decided yes or no (this is also how a results file written
    before outcomes existed is read back). Build a three-valued part with :meth:`decided`.
    """

    claim: str
    passed: bool
    evidence: str
    precondition: bool = False  # must hold for the claim to be observable; not evidence for it
    outcome: str = ""

    def __post_init__(self) -> None:
        outcome = self.outcome or (HOLDS if self.passed else CONTRADICTED)
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, got {outcome!r}")
        if bool(self.passed) != (outcome == HOLDS):
            raise ValueError(f"passed={self.passed} disagrees with outcome {outcome!r}")
        object.__setattr__(self, "passed", bool(self.passed))
        object.__setattr__(self, "outcome", outcome)

    @classmethod
    def decided(cls, claim: str, outcome: str, evidence: str, precondition: bool = False) -> Check:
        """A check with the given ``outcome`` (``passed`` follows from it)."""
        return cls(claim, outcome == HOLDS, evidence, precondition, outcome)

    def as_record(self) -> dict[str, object]:
        """The check as a plain record for a results file (read back with :meth:`from_record`)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_record(cls, record: Mapping[str, object]) -> Check:
        """A check from its :meth:`as_record` record; a record without ``outcome`` (written before outcomes
        existed) reads as a two-valued check: holds if passed, else contradicted."""
        return cls(
            claim=str(record["claim"]),
            passed=bool(record["passed"]),
            evidence=str(record["evidence"]),
            precondition=bool(record.get("precondition", False)),
            outcome=str(record.get("outcome") or ""),
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
    """Holds when the whole interval ``ci`` of quantity ``name`` lies above ``threshold``, is contradicted when the
    whole interval lies below it, and is undecided when it contains the threshold (or is not finite)."""
    return Check.decided(
        claim,
        decide(bool(ci[0] > threshold), bool(ci[1] < threshold)),
        f"{name} interval {_fmt_interval(ci)} vs threshold {_fmt(threshold)}",
    )


def check_below(claim: str, name: str, ci: tuple[float, float], threshold: float) -> Check:
    """Holds when the whole interval ``ci`` lies below ``threshold``, is contradicted when it lies wholly above,
    and is undecided when it contains the threshold (or is not finite)."""
    return Check.decided(
        claim,
        decide(bool(ci[1] < threshold), bool(ci[0] > threshold)),
        f"{name} interval {_fmt_interval(ci)} vs threshold {_fmt(threshold)}",
    )


def check_separated(
    claim: str, name: str, ci: tuple[float, float], reference: str, reference_ci: tuple[float, float], expected: str
) -> Check:
    """A comparison of two intervals: with ``expected="above"`` it holds when ``ci`` lies wholly above
    ``reference_ci`` (its lower end above the reference's upper end), is contradicted when it lies wholly below
    (its upper end below the reference's lower end), and is undecided when they overlap; ``"below"`` mirrors it."""
    if expected not in ("above", "below"):
        raise ValueError(f"expected must be 'above' or 'below', got {expected!r}")
    above, below = bool(ci[0] > reference_ci[1]), bool(ci[1] < reference_ci[0])
    outcome = decide(above, below) if expected == "above" else decide(below, above)
    return Check.decided(claim, outcome, f"{name} {_fmt_interval(ci)} vs {reference} {_fmt_interval(reference_ci)}")


def check_inside(claim: str, name: str, value: float, low: float, high: float) -> Check:
    """Holds when ``low ≤ value ≤ high``, else contradicted: one number without an interval is two-valued."""
    return Check(claim, bool(low <= value <= high), f"{name} = {_fmt(value)}, required in [{_fmt(low)}, {_fmt(high)}]")


def verdict(checks: Sequence[Check]) -> str:
    """The book's rule (:data:`VERDICT_RULE`): a precondition that does not hold → inconclusive; else, of the
    claim's own parts, all hold → reproduced; some hold and some are contradicted → partly reproduced; none holds
    and one or more are contradicted → not reproduced; some hold and the rest are undecided → supported; none
    decided → inconclusive."""
    if not checks:
        raise ValueError("a verdict needs at least one check")
    if not all(c.passed for c in checks if c.precondition):
        return INCONCLUSIVE
    parts = [c for c in checks if not c.precondition]
    if not parts:
        raise ValueError("a verdict needs at least one check of the claim itself, not only preconditions")
    n_hold = sum(c.outcome == HOLDS for c in parts)
    n_contra = sum(c.outcome == CONTRADICTED for c in parts)
    if n_hold == len(parts):
        return REPRODUCED
    if n_contra:
        return PARTLY if n_hold else NOT_REPRODUCED
    return SUPPORTED if n_hold else INCONCLUSIVE


def outcome_counts(checks: Sequence[Check]) -> dict[str, int]:
    """How many of the claim's own parts (preconditions left out) hold, are contradicted, are undecided."""
    parts = [c for c in checks if not c.precondition]
    return {o: sum(c.outcome == o for c in parts) for o in OUTCOMES}


def describe_parts(checks: Sequence[Check]) -> str:
    """``"2 hold, 1 contradicted, 0 undecided"`` for the claim's own parts (preconditions are not counted); empty
    when there are none."""
    counts = outcome_counts(checks)
    if not sum(counts.values()):
        return ""
    return ", ".join(f"{n} {'hold' if o == HOLDS else o}" for o, n in counts.items())


def shown_outcome(check: Check) -> str:
    """The outcome as tables show it: ``holds`` / ``contradicted`` / ``undecided``, and for a precondition
    ``holds`` / ``does not hold``."""
    if check.precondition:
        return HOLDS if check.passed else "does not hold"
    return check.outcome


def checks_table(checks: Sequence[Check]) -> pd.DataFrame:
    """The checks as a table for the chapter: claim (preconditions marked), outcome (holds / contradicted /
    undecided; a precondition holds or does not hold), evidence."""
    return pd.DataFrame(
        {
            "claim": [f"precondition: {c.claim}" if c.precondition else c.claim for c in checks],
            "outcome": [shown_outcome(c) for c in checks],
            "evidence": [c.evidence for c in checks],
        }
    )
