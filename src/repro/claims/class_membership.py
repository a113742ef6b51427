"""Figures 3, 5 and 6 (the class-membership pattern): within-class stiffness positive from initialisation, no
consistent between-class stiffness at first, between-class stiffness rising with training. The thresholds live here,
once, so that the three chapters share the test."""

from __future__ import annotations

from collections.abc import Sequence

from repro.claims.verdicts import Check, check_above, check_inside
from repro.experiments.class_stiffness import StiffnessSnapshot

__all__ = ["NEAR_ZERO", "class_membership_checks", "class_membership_rule"]

NEAR_ZERO = 0.1  # |stiffness| below this counts as "no consistent stiffness" / "close to 0"


def class_membership_checks(snapshots: Sequence[StiffnessSnapshot], metric: str = "sign") -> list[Check]:
    """Figures 3, 5, 6: at initialisation within-class stiffness is positive and between-class stiffness shows no
    consistent sign; with training, between-class stiffness rises and within-class stiffness stays positive.

    Expects the snapshots in stage order: initialisation, early, then the late stages.
    """
    if len(snapshots) < 2:
        raise ValueError("need the initialisation snapshot and at least one later one")
    init, early, *late = [s.summaries[metric] for s in snapshots]
    best_later = max([early, *late], key=lambda s: s.between_ci[0])
    return [
        check_above("within-class stiffness > 0 at initialisation", "within at init", init.within_ci, 0.0),
        check_inside(
            "no consistent between-class stiffness at initialisation",
            "between at init",
            init.between,
            -NEAR_ZERO,
            NEAR_ZERO,
        ),
        check_above(
            "between-class stiffness rises with training",
            "best later between (vs upper end at init)",
            best_later.between_ci,
            init.between_ci[1],
        ),
        check_above("within-class stiffness stays > 0 early in training", "within early", early.within_ci, 0.0),
    ]


def class_membership_rule() -> str:
    """The claim of Figures 3, 5 and 6 and the rule :func:`class_membership_checks` applies, as Markdown."""
    return (
        "**The paper's claim.** At initialisation a gradient step helps mainly images of the same class: "
        "within-class stiffness is positive and there is no consistent between-class stiffness. As training "
        "proceeds, within-class stiffness stays high and between-class stiffness increases.\n\n"
        "**Rule** (sign stiffness, 95% bootstrap intervals). Four checks: (1) within-class stiffness at "
        'initialisation is above 0; (2) "no consistent between-class stiffness" at initialisation, read as a '
        f"between-class value within ±{NEAR_ZERO:g} of zero; (3) between-class stiffness rises during training: at "
        "some later stage its interval lies above the interval at initialisation; (4) within-class stiffness stays "
        "positive early in training. All four → *reproduced*, some → *partly reproduced*, none → *not reproduced*."
    )
