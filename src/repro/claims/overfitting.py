"""Figure 2 (overfitting): after the onset of overfitting, within- and between-class stiffness of validation pairs
fall and end close to 0 (the paper's words for each part: :data:`OVERFITTING_QUOTES`); and the second finding,
whether a fall appears with textbook float32 numerics, and whether it reaches the paper's collapse to 0."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from repro.claims.class_membership import NEAR_ZERO
from repro.claims.thresholds import threshold
from repro.claims.verdicts import Check, check_inside, check_separated
from repro.experiments.history import IMAGES_SEEN, KINDS, VAL_LOSS, stiffness_column

__all__ = [
    "OVERFITTING_QUOTES",
    "OVERFIT_RISE",
    "overfitting_onset",
    "overfitting_checks",
    "overfitting_rule",
    "COLLAPSE_DROP",
    "textbook_collapse_checks",
    "collapse_rule",
    "collapse_finding",
]

OVERFIT_RISE = threshold("OVERFIT_RISE")

# The paper's words each part checks: the first version (arXiv 1901.09491v1, its Figure 2) and the later one (its
# Figure 3, the same figure). Neither names the dataset or the network of the figure: both are the book's choice.
OVERFITTING_QUOTES = {
    "onset": '"The onset of over-fitting (the split between training and validation loss curves) is marked with a '
    'yellow line." (v1 Fig. 2)',
    "within_falls": '"The within-class stiffness [...] declines during overfitting and regresses to 0." (v1 Fig. 2)',
    "within_zero": '"until even stiffness for inputs within the same class is lost" (v1 §4.1); "stiffness on the '
    'validation set decreases and eventually reaches 0" (v1 §5)',
    "between_falls": '"The between-classes stiffness, starts plateauing and regresses back to 0." (v1 Fig. 2)',
    "between_zero": '"With the onset of overfitting, the stiffness between different classes regresses to 0, as does '
    'within-class stiffness." (v1 §5); "After that, both within-class and between-classes stiffness regress to 0." '
    "(v3 Fig. 3)",
}


def overfitting_onset(history: pd.DataFrame) -> int | None:
    """Images seen at the minimum of the validation loss, when the loss rises by at least ``OVERFIT_RISE`` (a
    fraction: 0.1 is 10%) after it (else None)."""
    val = history[VAL_LOSS].to_numpy()
    if not np.isfinite(val).any():
        return None
    k = int(np.nanargmin(val))
    after = val[k + 1 :]
    if after.size == 0 or np.nanmax(after) < (1 + OVERFIT_RISE) * val[k]:
        return None
    return int(history[IMAGES_SEEN].iloc[k])


def _overfits(history: pd.DataFrame) -> tuple[int | None, Check]:
    """The onset of overfitting and the precondition check "the network overfits"."""
    onset = overfitting_onset(history)
    rise = f"{OVERFIT_RISE:.0%}"
    if onset is None:
        evidence = f"validation loss never rose {rise} above its minimum"
    else:
        evidence = f"onset at {onset:,} images seen"
    return onset, Check(
        f"the network overfits (validation loss rises ≥ {rise} after its minimum)",
        onset is not None,
        evidence,
        precondition=True,
    )


def overfitting_checks(history: pd.DataFrame, metric: str = "sign") -> list[Check]:
    """Figure 2: after the onset of overfitting, within- and between-class stiffness of validation pairs fall and
    end close to 0.

    ``history`` needs ``images_seen``, ``val_loss`` and ``within_<metric>``, ``between_<metric>`` with their
    ``_lo`` / ``_hi`` interval columns. Outcomes: "falls" holds when the interval at the end lies below the one at
    the onset, is contradicted when it lies above (stiffness rose), undecided when they overlap; "ends close to 0"
    compares the value at the end with ``±NEAR_ZERO`` (holds or contradicted). When the network does not overfit,
    only the failed precondition is returned.
    """
    onset, overfit = _overfits(history)
    if onset is None:
        return [overfit]
    at = history.set_index(IMAGES_SEEN)
    peak_row, end_row = at.loc[onset], at.iloc[-1]
    checks = [overfit]
    for kind in KINDS:
        col, lo, hi = (stiffness_column(kind, metric, bound=b) for b in (None, "lo", "hi"))
        peak_ci, end_ci = (peak_row[lo], peak_row[hi]), (end_row[lo], end_row[hi])
        checks.append(
            check_separated(
                f"{kind}-class stiffness falls after the onset",
                f"{kind} at the end",
                end_ci,
                "at the onset",
                peak_ci,
                expected="below",
            )
        )
        checks.append(
            check_inside(
                f"{kind}-class stiffness ends close to 0",
                f"{kind} at the end",
                float(end_row[col]),
                -NEAR_ZERO,
                NEAR_ZERO,
            )
        )
    return checks


def overfitting_rule() -> str:
    """Figure 2's claim and the rule :func:`overfitting_checks` applies over the seeds (pooled by
    :func:`repro.claims.pool_seeds`), as Markdown, each part with the paper's words it checks
    (:data:`OVERFITTING_QUOTES`), with :data:`OVERFIT_RISE` and :data:`~repro.claims.NEAR_ZERO`."""
    q = OVERFITTING_QUOTES
    return (
        "**The paper's claim.** After the onset of overfitting, within-class and between-class stiffness of "
        "validation pairs fall and end close to 0. The paper does not name the dataset or the network of this "
        "figure; the fully-connected network on MNIST is the book's choice.\n\n"
        f"**Rule** (sign stiffness, 95% bootstrap intervals, for every seed). Precondition (1), {q['onset']}: the "
        f"network overfits — the validation loss rises at least {OVERFIT_RISE:.0%} above its minimum, whose position "
        "is the onset; without it the claim cannot be observed in that seed. For each of within- and between-class "
        "stiffness, two parts: (2) it falls after the onset — *holds* when the interval at the end of training lies "
        "below the interval at the onset, *contradicted* when it lies above (stiffness rose), *undecided* when they "
        f"overlap; for within-class pairs {q['within_falls']}, for between-class pairs {q['between_falls']}; "
        f"(3) it ends close to 0 — one number, the value at the end, *holds* within ±{NEAR_ZERO:g} and is "
        f"*contradicted* outside (a band the paper does not state); for within-class pairs {q['within_zero']}, for "
        f"between-class pairs {q['between_zero']}. The seeds are pooled: a part holds when it holds in every seed "
        "that overfits, is contradicted when it is contradicted in every one, and is undecided otherwise; the claim "
        "is inconclusive when no seed overfits. The verdict follows the book's rule, shown below; each seed's own "
        "checks follow the verdict."
    )


COLLAPSE_DROP = threshold("COLLAPSE_DROP")


def textbook_collapse_checks(history: pd.DataFrame, numerics: str = "textbook32") -> list[Check]:
    """Figure 2's second finding: does within-class sign stiffness computed with textbook numerics (``numerics``:
    one of :data:`repro.experiments.history.TEXTBOOK_NUMERICS`) fall by at least ``COLLAPSE_DROP`` from the
    onset of overfitting to the end of training? Precondition: the network overfits."""
    onset, overfit = _overfits(history)
    if onset is None:
        return [overfit]
    at = history.set_index(IMAGES_SEEN)
    col, exact = stiffness_column("within", numerics=numerics), stiffness_column("within")
    at_onset, at_end = float(at.loc[onset, col]), float(at[col].iloc[-1])
    exact_onset, exact_end = float(at.loc[onset, exact]), float(at[exact].iloc[-1])
    return [
        overfit,
        Check(
            f"{numerics}: within-class stiffness falls by ≥ {COLLAPSE_DROP:g} after the onset",
            bool(at_onset - at_end >= COLLAPSE_DROP),
            f"{numerics} within {at_onset:+.3f} at the onset → {at_end:+.3f} at the end (exact: {exact_onset:+.3f} → "
            f"{exact_end:+.3f})",
        ),
    ]


def collapse_rule() -> str:
    """Figure 2's second finding and the rule :func:`textbook_collapse_checks` and :func:`collapse_finding` apply,
    as Markdown, with :data:`COLLAPSE_DROP` and :data:`~repro.claims.NEAR_ZERO`."""
    return (
        "**Second finding, rule stated in advance.** *A fall of within-class stiffness appears with textbook float32 "
        "numerics* when, in every seed whose network overfits, within-class sign stiffness computed from textbook "
        f"float32 gradients falls by at least {COLLAPSE_DROP:g} from the onset of overfitting to the end of training "
        "(the exact value is shown beside it). It does not when it falls in no such seed; *in some seeds* otherwise. "
        "A fall is not yet the paper's collapse: that asks the value at the end to lie close to 0 (within "
        f"±{NEAR_ZERO:g}, as in part 3 of the claim), which the sentence below the table says for each seed."
    )


def collapse_finding(checks_per_seed: Sequence[Sequence[Check]]) -> str:
    """``"yes"`` when the textbook collapse (:func:`textbook_collapse_checks`) appears in every seed that overfits,
    ``"no"`` when in none, ``"in some seeds"`` otherwise, ``"cannot tell"`` when no seed overfits."""
    observable = [checks for checks in checks_per_seed if all(c.passed for c in checks if c.precondition)]
    decided = [all(c.passed for c in checks) for checks in observable]
    if not decided:
        return "cannot tell"
    return "yes" if all(decided) else ("no" if not any(decided) else "in some seeds")
