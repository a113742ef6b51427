"""Figures 3, 5 and 6 (the class-membership pattern): within-class stiffness positive from initialisation, no
consistent between-class stiffness at first, between-class stiffness rising with training. The thresholds live here,
once, so that the three chapters share the test."""

from __future__ import annotations

from collections.abc import Sequence

from repro.claims.verdicts import Check, check_above, check_inside, decide
from repro.experiments.class_stiffness import StiffnessSnapshot

__all__ = ["NEAR_ZERO", "class_membership_checks", "class_membership_rule"]

NEAR_ZERO = 0.1  # |stiffness| below this counts as "no consistent stiffness" / "close to 0"


def class_membership_checks(snapshots: Sequence[StiffnessSnapshot], metric: str = "sign") -> list[Check]:
    """Figures 3, 5, 6: at initialisation within-class stiffness is positive and between-class stiffness shows no
    consistent sign; with training, between-class stiffness rises and within-class stiffness stays positive.

    Expects the snapshots in stage order: initialisation, early, then the late stages. Outcomes: the interval parts
    hold when the interval lies on the claimed side, are contradicted when it lies wholly on the other side and are
    undecided otherwise; "rises" is contradicted when every later interval lies below the one at initialisation;
    "no consistent between-class stiffness" compares one number with ``±NEAR_ZERO`` (holds or contradicted).
    """
    if len(snapshots) < 2:
        raise ValueError("need the initialisation snapshot and at least one later one")
    init, early, *late = [s.summaries[metric] for s in snapshots]
    later = [early, *late]
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
        check_inside(
            "no consistent between-class stiffness at initialisation",
            "between at init",
            init.between,
            -NEAR_ZERO,
            NEAR_ZERO,
        ),
        rises,
        check_above("within-class stiffness stays > 0 early in training", "within early", early.within_ci, 0.0),
    ]


def _interval(ci: tuple[float, float]) -> str:
    return f"[{ci[0]:+.3f}, {ci[1]:+.3f}]"


def class_membership_rule() -> str:
    """The claim of Figures 3, 5 and 6 and the rule :func:`class_membership_checks` applies, as Markdown."""
    return (
        "**The paper's claim.** At initialisation a gradient step helps mainly images of the same class: "
        "within-class stiffness is positive and there is no consistent between-class stiffness. As training "
        "proceeds, within-class stiffness stays high and between-class stiffness increases.\n\n"
        "**Rule** (sign stiffness, 95% bootstrap intervals). Four parts: (1) within-class stiffness at "
        "initialisation is above 0 (holds: its interval lies above 0; contradicted: below 0; else undecided); "
        '(2) "no consistent between-class stiffness" at initialisation, read as a between-class value within '
        f"±{NEAR_ZERO:g} of zero (one number: holds inside, contradicted outside); (3) between-class stiffness rises "
        "during training (holds: at some later stage its interval lies above the interval at initialisation; "
        "contradicted: at every later stage it lies below; else undecided); (4) within-class stiffness stays "
        "positive early in training (as (1), early in training). The verdict follows the book's rule below."
    )
