"""Figures 3, 5 and 6 (the class-membership pattern): within-class stiffness positive from initialisation on, no
consistent between-class stiffness at first, between-class stiffness rising with training until most class pairs
are stiff. The paper's words each part checks and the thresholds live here, once, so that the three chapters share
the test."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from repro.claims.thresholds import threshold
from repro.claims.verdicts import Check, check_above, decide
from repro.experiments.class_stiffness import StiffnessSnapshot
from repro.stiffness import ClassSummary

__all__ = ["NEAR_ZERO", "MAJORITY", "QUOTES", "class_membership_checks", "class_membership_rule", "positive_share"]

NEAR_ZERO = threshold("NEAR_ZERO")  # repro.claims.thresholds says what it decides
MAJORITY = threshold("MAJORITY")  # repro.claims.thresholds says what it decides

# The paper's words each part checks (the first version, arXiv 1901.09491v1; section or figure named).
QUOTES = {
    "within_init": '"members of the same class have high stiffness with respect to each other. This holds at '
    'initialization as well as throughout most of the training" (§5)',
    "between_init": '"There is no consistent stiffness between different classes at initialization." (§4.1)',
    "rises": '"As training progresses, within-class stiffness stays high. In addition, stiffness between classes '
    'increases as well" (§4.1)',
    "within_later": '"within-class stiffness stays high" (§4.1); "throughout most of the training" (§5)',
    "majority": '"the off-diagonal elements of the stiffness matrix become consistently positive with training" '
    '(§4.1); "we observe positive stiffness between the majority of classes during training" (§5)',
}


def positive_share(matrix: np.ndarray) -> float:
    """The share of off-diagonal cells of a ``(K, K)`` class stiffness matrix above 0 (NaN cells left out)."""
    off = matrix[~np.eye(matrix.shape[0], dtype=bool)]
    off = off[np.isfinite(off)]
    return float((off > 0).mean()) if off.size else float("nan")


def class_membership_checks(snapshots: Sequence[StiffnessSnapshot], metric: str = "sign") -> list[Check]:
    """Figures 3, 5, 6 (:data:`QUOTES`): within-class stiffness positive at initialisation and at every later stage;
    between-class stiffness not consistently positive at initialisation, rising with training and positive for the
    majority of class pairs at some later stage.

    Expects the snapshots in stage order: initialisation, early, then the late stages (none past the onset of
    overfitting: these chapters' networks do not overfit). Outcomes, on the 95% bootstrap intervals of the within-
    and between-class means: "within > 0" holds when the interval lies above 0 (at initialisation; at every later
    stage), is contradicted when it lies below 0 (at some later stage), else undecided; "not consistently positive
    at initialisation" holds when the between-class interval is not wholly above 0 and is contradicted when it is;
    "rises" is contradicted when every later interval lies below the one at initialisation; "the majority" holds
    when at some later stage more than :data:`MAJORITY` of the off-diagonal cells are positive and the
    between-class interval lies above 0, is contradicted when at every later stage at most that share is positive
    and the interval lies below 0, else undecided.
    """
    if len(snapshots) < 2:
        raise ValueError("need the initialisation snapshot and at least one later one")
    init, *later = [s.summaries[metric] for s in snapshots]
    shares = [positive_share(s.matrices[metric]) for s in snapshots]
    best_later = max(later, key=lambda s: s.between_ci[0])
    highest_later = max(later, key=lambda s: s.between_ci[1])
    rises = Check.decided(
        "between-class stiffness rises with training",
        decide(best_later.between_ci[0] > init.between_ci[1], highest_later.between_ci[1] < init.between_ci[0]),
        f"best later between {_interval(best_later.between_ci)}, highest upper end {highest_later.between_ci[1]:+.3f} "
        f"vs at init {_interval(init.between_ci)}",
    )
    return [
        check_above("within-class stiffness > 0 at initialisation", "within at init", init.within_ci, 0.0),
        _not_consistently_positive(init, shares[0]),
        rises,
        _within_later(later),
        _majority(later, shares[1:]),
    ]


def _not_consistently_positive(init: ClassSummary, share: float) -> Check:
    """Part 2: the between-class interval at initialisation not wholly above 0 (holds) or wholly above (not)."""
    band = "yes" if abs(init.between) <= NEAR_ZERO else "no"
    return Check.decided(
        "between-class stiffness not consistently positive at initialisation",
        decide(init.between_ci[0] <= 0.0, init.between_ci[0] > 0.0),
        f"between at init {_interval(init.between_ci)}, {share:.0%} of class pairs positive; the other reading, "
        f"within ±{NEAR_ZERO:g} of 0: {band} ({init.between:+.3f})",
    )


def _within_later(later: Sequence[ClassSummary]) -> Check:
    """Part 4: within-class stiffness above 0 at every stage after initialisation."""
    lowest = min(later, key=lambda s: s.within_ci[0])
    return Check.decided(
        "within-class stiffness stays > 0 at every later stage",
        decide(lowest.within_ci[0] > 0.0, any(s.within_ci[1] < 0.0 for s in later)),
        f"lowest later within {_interval(lowest.within_ci)} ({len(later)} stages)",
    )


def _majority(later: Sequence[ClassSummary], shares: Sequence[float]) -> Check:
    """Part 5: at some later stage, most class pairs positive and the between-class interval above 0."""
    best = max(range(len(later)), key=lambda i: (shares[i], later[i].between_ci[0]))
    holds = any(shares[i] > MAJORITY and later[i].between_ci[0] > 0.0 for i in range(len(later)))
    never = all(shares[i] <= MAJORITY and later[i].between_ci[1] < 0.0 for i in range(len(later)))
    return Check.decided(
        "between-class stiffness positive for the majority of class pairs with training",
        decide(holds, never),
        f"most positive later stage: {shares[best]:.0%} of class pairs positive, between "
        f"{_interval(later[best].between_ci)}",
    )


def _interval(ci: tuple[float, float]) -> str:
    return f"[{ci[0]:+.3f}, {ci[1]:+.3f}]"


def class_membership_rule() -> str:
    """The claim of Figures 3, 5 and 6 and the rule :func:`class_membership_checks` applies, as Markdown, each part
    with the paper's words it checks (:data:`QUOTES`)."""
    q = QUOTES
    return (
        "**The paper's claim.** At initialisation a gradient step helps mainly images of the same class: "
        "within-class stiffness is positive and there is no consistent between-class stiffness. As training "
        "proceeds, within-class stiffness stays high and between-class stiffness increases, until it is positive "
        "between most classes.\n\n"
        "**Rule** (sign stiffness, 95% bootstrap intervals of the within- and between-class means). Five parts: "
        f"(1) {q['within_init']}: within-class stiffness at initialisation lies above 0 (holds: its interval lies "
        "above 0; contradicted: below 0; else undecided). "
        f"(2) {q['between_init']}: the paper calls positive alignment *stiffness* (\"benefits only members of the "
        "same class\"), so we read \"no consistent stiffness\" as *not consistently positive*: holds when the "
        "between-class interval at initialisation is not wholly above 0, contradicted when it is. The other "
        f"reasonable reading, a value within ±{NEAR_ZERO:g} of zero (a band the paper does not state), is shown "
        "beside it; whether the value is negative depends on the initialisation scheme (the *setup* chapter). "
        f"(3) {q['rises']}: holds when at some later stage the between-class interval lies above the one at "
        "initialisation; contradicted when at every later stage it lies below; else undecided. "
        f"(4) {q['within_later']}: within-class stiffness lies above 0 at every later stage (these networks do not "
        "overfit; *high* read as positive: holds when every later interval lies above 0, contradicted when one lies "
        "below 0, else undecided). "
        f"(5) {q['majority']}: at some later stage more than {MAJORITY:.0%} of the off-diagonal class cells are "
        "positive and the between-class interval lies above 0 (holds); contradicted when at every later stage at "
        "most that share is positive and the interval lies below 0; else undecided. The verdict follows the "
        "book's rule, shown below."
    )
