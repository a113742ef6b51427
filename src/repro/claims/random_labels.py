"""Figure 4 (random training labels): between-class stiffness of validation pairs ends negative, with no positive
between-class structure, and within-class stiffness disappears; and which regime a network trained on random labels
ended in. The paper's words each part checks live here (:data:`RANDOM_LABEL_QUOTES`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from repro.claims.class_membership import NEAR_ZERO
from repro.claims.thresholds import threshold
from repro.claims.verdicts import Check, check_below, check_inside, decide
from repro.claims.wording import count_word
from repro.experiments.class_stiffness import StiffnessSnapshot
from repro.experiments.history import IMAGES_SEEN, STIFFNESS_ENTROPY, TRAIN_ACC, TRAIN_LOSS, VAL_ACC
from repro.stiffness import ClassSummary

__all__ = [
    "RANDOM_LABEL_QUOTES",
    "MAX_POSITIVE_SHARE",
    "CHANCE_TOLERANCE",
    "UNIFORM_FRACTION",
    "random_label_checks",
    "random_label_rule",
    "memorised",
    "random_label_regime",
    "random_label_reading",
]


CHANCE_TOLERANCE = threshold("CHANCE_TOLERANCE")
# "No positive between-class structure": at most this share of the off-diagonal cells of the class stiffness matrix
# lie above 0 at the end. A share, not the largest cell: each cell is a mean over a few pairs of a network whose
# outputs barely depend on its input, and the largest of 90 such cells flipped between −1.00 and +1.00 with the
# rounding of training alone (1 vs 2 threads; one network trained alone vs in a stack).
MAX_POSITIVE_SHARE = threshold("MAX_POSITIVE_SHARE")

# The paper's words each part checks (arXiv 1901.09491v1; the later version's text we hold does not discuss Figure 4).
RANDOM_LABEL_QUOTES = {
    "ends_negative": '"The reason for the off-diagonal, i.e. between different classes, stiffness converges to -1 is '
    'the fact that the optimal response is to give all classes equal probability." (§4.1)',
    "no_structure": '"As there are no general features to be learned, the model converges to a stage with no '
    'positive between classes stiffness." (§4.1)',
    "within_disappears": '"There, the stiffness between examples disappears as the model trains." (§5, of the runs '
    "with randomly permuted labels)",
}


def random_label_checks(snapshots: Sequence[StiffnessSnapshot], metric: str = "sign") -> list[Check]:
    """Figure 4 (random training labels, :data:`RANDOM_LABEL_QUOTES`): the network converges to a state without
    positive between-class stiffness — at the last stage, the between-class mean of validation pairs is negative and
    at most ``MAX_POSITIVE_SHARE`` of the off-diagonal cells of the class stiffness matrix lie above 0 — and the
    stiffness between examples disappears, read for within-class pairs (between-class pairs are the two parts
    before): the within-class mean at the last stage lies below ``+NEAR_ZERO``. Outcomes: "ends negative" holds
    when the interval lies below 0, is contradicted when it lies above, undecided when it contains 0; the share is
    one number (holds or contradicted); "disappears" holds when the within-class interval lies below ``+NEAR_ZERO``,
    is contradicted when it lies above, undecided when it contains it (the stricter reading, below 0, and the value
    at initialisation are shown in its evidence)."""
    first, last = snapshots[0], snapshots[-1]
    summ = last.summaries[metric]
    cells = _off_diagonal(last.matrices[metric])
    cells = cells[np.isfinite(cells)]
    positive_share = float(np.mean(cells > 0)) if cells.size else float("nan")
    return [
        check_below("between-class stiffness ends negative", "between at the last stage", summ.between_ci, 0.0),
        check_inside(
            "no positive between-class structure at the end",
            "share of off-diagonal cells above 0 at the last stage",
            positive_share,
            0.0,
            MAX_POSITIVE_SHARE,
        ),
        _within_disappears(first.summaries[metric], summ),
    ]


def _within_disappears(init: ClassSummary, last: ClassSummary) -> Check:
    """Part 3: within-class stiffness at the last stage no longer positive beyond the ±``NEAR_ZERO`` band."""
    lo, hi = last.within_ci
    strict = "yes" if hi < 0.0 else "no"
    return Check.decided(
        f"within-class stiffness disappears (ends below +{NEAR_ZERO:g})",
        decide(bool(hi < NEAR_ZERO), bool(lo > NEAR_ZERO)),
        f"within at the last stage [{lo:+.3f}, {hi:+.3f}] vs +{NEAR_ZERO:g} (at initialisation {init.within:+.3f}); "
        f"the stricter reading, the interval below 0: {strict}",
    )


def random_label_rule() -> str:
    """Figure 4's claim and the rule :func:`random_label_checks` applies, as Markdown, each part with the paper's
    words it checks (:data:`RANDOM_LABEL_QUOTES`), with :data:`MAX_POSITIVE_SHARE` (written "one in ten" where it is
    one over a whole number) and :data:`~repro.claims.NEAR_ZERO`."""
    q = RANDOM_LABEL_QUOTES
    per = 1 / MAX_POSITIVE_SHARE
    share = (
        f"at most one in {count_word(round(per))} off-diagonal cells of the class stiffness matrix lies above 0"
        if abs(per - round(per)) < 1e-9
        else f"at most {MAX_POSITIVE_SHARE:.0%} of the off-diagonal cells of the class stiffness matrix lie above 0"
    )
    return (
        "**The paper's claim.** Trained on random labels, the network converges to a state with no positive "
        "stiffness between classes: between-class stiffness of validation pairs converges to negative values; and "
        "the stiffness between examples disappears as the model trains.\n\n"
        "**Rule** (sign stiffness, 95% bootstrap intervals, on the run in the paper's regime — the full training "
        f"split). Three parts: (1) {q['ends_negative']}: between-class stiffness at the last stage is negative — "
        "*holds* when its interval lies below 0, *contradicted* when it lies above, *undecided* when it contains 0 "
        "(towards −1 is not required: the paper gives −1 as its explanation's limit, not as a measured value); "
        f"(2) {q['no_structure']}: no positive between-class structure remains: at the last stage {share} — one "
        'number, the share, so it holds or is contradicted. (An earlier form, "no cell above +0.1", judged the '
        "largest of 90 cells, each a mean over a few pairs; that one cell flipped between −1.00 and +1.00 with the "
        f"rounding of training alone, so it measured noise, not structure.) (3) {q['within_disappears']}: the "
        "between-class part of that sentence is parts 1 and 2, so this part reads it for pairs of the same class, "
        f"and reads *disappears* as *no longer positive*: within-class stiffness at the last stage lies below "
        f"+{NEAR_ZERO:g} (*holds*), above it (*contradicted*), or its interval contains it (*undecided*); the "
        "stricter reading, an interval wholly below 0, is shown beside it. The paper's own explanation of part 1 — "
        "a network whose output is uniform over the classes — predicts the opposite for pairs of the same class: "
        "two images of one class then ask for the same change of the output, so their gradients align. The "
        "verdict follows the book's rule, shown below."
    )


def memorised(history: pd.DataFrame, num_classes: int) -> bool:
    """Whether a network trained on random labels memorised them without learning anything that transfers: at
    the last evaluation its training loss is below a tenth of ``ln K`` (what a uniform guess scores) and its
    validation accuracy is within ``CHANCE_TOLERANCE`` of chance ``1/K``."""
    end = history.iloc[-1]
    return bool(
        end[TRAIN_LOSS] < 0.1 * math.log(num_classes) and abs(end[VAL_ACC] - 1 / num_classes) < CHANCE_TOLERANCE
    )


UNIFORM_FRACTION = threshold("UNIFORM_FRACTION")


def random_label_regime(history: pd.DataFrame, num_classes: int) -> str:
    """Which regime a network trained on random labels ended in, at its last evaluation:

    - ``"memorised"``: :func:`memorised` (training loss below a tenth of ``ln K``, accuracy at chance);
    - ``"uniform"``: it could not fit — training loss and the mean softmax entropy on the stiffness images
      (``stiffness_entropy``) both at least ``UNIFORM_FRACTION · ln K``: its output is close to uniform, the state
      the paper's explanation of Figure 4 assumes;
    - ``"in between"``: neither.
    """
    end, ln_k = history.iloc[-1], math.log(num_classes)
    if memorised(history, num_classes):
        return "memorised"
    if end[TRAIN_LOSS] >= UNIFORM_FRACTION * ln_k and end[STIFFNESS_ENTROPY] >= UNIFORM_FRACTION * ln_k:
        return "uniform"
    return "in between"


def random_label_reading(history: pd.DataFrame, num_classes: int) -> str:
    """One Markdown paragraph: the run's final training loss, accuracy and output entropy against ``ln K`` and
    chance, and the regime :func:`random_label_regime` reads from them."""
    end, ln_k = history.iloc[-1], math.log(num_classes)
    regime = random_label_regime(history, num_classes)
    meaning = {
        "memorised": "it **memorised** its random labels without learning anything that transfers",
        "uniform": "it **could not fit** its random labels and its output on held-out images is close to uniform, "
        "the state the paper's explanation assumes",
        "in between": "it neither memorised its labels nor settled on a uniform output, so the run says little "
        "about the claim",
    }[regime]
    return (
        f"At {int(end[IMAGES_SEEN]):,} images seen: training loss {end[TRAIN_LOSS]:.3f} (a uniform output "
        f"scores ln K = {ln_k:.3f}), training accuracy {end[TRAIN_ACC]:.3f}, validation accuracy "
        f"{end[VAL_ACC]:.3f} (chance {1 / num_classes:.3f}), mean entropy of the softmax on the stiffness images "
        f"{end[STIFFNESS_ENTROPY]:.3f} nats: {meaning}."
    )


def _off_diagonal(C: np.ndarray) -> np.ndarray:
    return C[~np.eye(C.shape[0], dtype=bool)]
