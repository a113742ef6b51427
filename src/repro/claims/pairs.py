"""The pairs chapter (the later version's Figure 4): the class structure of stiffness — within-class above
between-class — in train–train, train–val and val–val pairs, with sign and cosine stiffness. The paper's words each
part checks live here (:data:`PAIRS_QUOTES`), beside the rule."""

from __future__ import annotations

from repro.claims.verdicts import Check, check_separated
from repro.experiments.class_stiffness import StiffnessSnapshot
from repro.experiments.history import METRICS, PAIR_KINDS

__all__ = ["PAIRS_QUOTES", "pair_checks", "pairs_rule"]

# The paper's words (the later version, arXiv 1901.09491v3: the text we hold is its abstract, TL;DR and captions;
# the first version's §4.1 gives the pattern the caption's "class membership dependence" refers to).
PAIRS_QUOTES = {
    "figure": '"Class membership dependence of stiffness for a CNN on FASHION MNIST at 4 different stages of '
    "training. The figure shows stiffness between train-train, train-val and val-val pairs of images, as well as "
    'the sign and cosine metrics." (v3 Fig. 4)',
    "within": '"stiffness tracks within-class transfer, cross-class generalization" (v3 TL;DR); "Initially, an '
    'improvement based on an input from a particular class benefits only members of the same class." (v1 §4.1)',
}


def pair_checks(last: StiffnessSnapshot) -> list[Check]:
    """One part per kind of pair (:data:`~repro.experiments.history.PAIR_KINDS`) and metric (sign, cosine), at the
    last stage ``last``: the within-class interval lies above the between-class interval (holds), below it
    (contradicted), or the two overlap (undecided)."""
    return [
        check_separated(
            f"{kind} pairs, {metric}: within > between",
            "within",
            last.summary(kind, metric).within_ci,
            "between",
            last.summary(kind, metric).between_ci,
            expected="above",
        )
        for kind in PAIR_KINDS
        for metric in METRICS
    ]


def pairs_rule() -> str:
    """The claim and the rule :func:`pair_checks` applies, as Markdown, with the paper's words
    (:data:`PAIRS_QUOTES`) and the reading the book chose."""
    q = PAIRS_QUOTES
    n = len(PAIR_KINDS) * len(METRICS)
    return (
        f"**The paper's claim** (later version). {q['figure']} The caption states no result in words; the text we "
        f"hold of that version says {q['within']}. We read *class membership dependence* as the pattern of the "
        "first version: gradient steps help images of the same class more than images of other classes, in all "
        "three kinds of pairs and both metrics.\n\n"
        "**Rule.** For each kind of pair and each metric, at the last stage, one part: the within-class interval "
        "lies above the between-class interval (*holds*), below it (*contradicted*), or the two overlap "
        f"(*undecided*). {n} parts. The last stage is the book's choice (the caption names four stages and no "
        "moment for its statement); the table above gives every stage, so the other reading, at every stage, can "
        "be read off it. The verdict follows the book's rule, shown below."
    )
