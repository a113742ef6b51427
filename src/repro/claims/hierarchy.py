"""Figure 7 (class hierarchy): fine classes of the same coarse class are stiffer with each other than with other
classes. The paper's words each part checks live here (:data:`HIERARCHY_QUOTES`), beside the rule."""

from __future__ import annotations

from collections.abc import Sequence

from repro.claims.thresholds import threshold
from repro.claims.verdicts import Check, check_above, decide
from repro.stiffness import HierarchyContrast

__all__ = [
    "HIERARCHY_QUOTES",
    "PERMUTATION_ALPHA",
    "PAPER_DATASET",
    "hierarchy_checks",
    "hierarchy_claim_checks",
    "hierarchy_rule",
]

PERMUTATION_ALPHA = threshold("PERMUTATION_ALPHA")  # level of the one-sided permutation test for block structure
PAPER_DATASET = "cifar100"  # the data the claim is about: CIFAR-100's 100 classes in its 20 super-classes

# The paper's words each part checks (v1: arXiv 1901.09491v1; v3: its abstract and TL;DR).
HIERARCHY_QUOTES = {
    "data": '"Class-membership dependence of stiffness for a convolutional neural network on CIFAR-100 in early '
    'stages of training." (v1 Fig. 7)',
    "blocks": '"we notice a block-like structure in the stiffness matrix shown in Figure 7. The coarse-grained '
    'pattern is suggestive of the networks knowledge of the super-classes (groups of 5 classes)" (v1 §4.1); "When '
    "training on CIFAR-100, the stiffness matrix exhibits a coarse-grained behavior indicative of the model's "
    'awareness of super-class membership." (v3 abstract)',
    "prominent": '"A prominent block-like structure is visible in the matrix" (v1 Fig. 7)',
}


def hierarchy_claim_checks(
    contrasts: Sequence[tuple[str, HierarchyContrast]], alpha: float = PERMUTATION_ALPHA
) -> list[Check]:
    """The paper's Figure 7 claim on ``contrasts`` (``(dataset, early contrast)`` per run): a precondition — the
    run used :data:`PAPER_DATASET`, the data the claim speaks of — then :func:`hierarchy_checks` of those runs only.
    Other hierarchies (the quick profile's Fashion-MNIST and CIFAR-10 groupings) cannot contradict a claim about
    CIFAR-100's super-classes: without a CIFAR-100 run the claim is *inconclusive* by its precondition, and what
    the substitutes show is the book's own question (:func:`hierarchy_checks` on them, judged apart)."""
    datasets = [d for d, _ in contrasts]
    paper = [(d, c) for d, c in contrasts if d == PAPER_DATASET]
    precondition = Check(
        "the data are CIFAR-100's fine classes in its super-classes (the paper's Figure 7)",
        bool(paper),
        f"data: {', '.join(datasets) or 'none'}"
        + ("" if paper else "; CIFAR-100 was not among them, so the claim could not be observed"),
        precondition=True,
    )
    return [precondition] + [check for d, c in paper for check in hierarchy_checks(c, d, alpha)]


def hierarchy_checks(contrast: HierarchyContrast, label: str, alpha: float = PERMUTATION_ALPHA) -> list[Check]:
    """Figure 7: fine classes of the same coarse class are stiffer with each other than with other classes — the
    contrast's interval lies above 0 and the permutation test rejects "no block structure" at level ``alpha``.

    Outcomes: the contrast holds when its interval lies above 0, is contradicted when below (fine classes of a group
    are *less* stiff with each other), undecided otherwise. The permutation test (one-sided, upper tail) holds when
    ``p < alpha``, is contradicted when ``p > 1 − alpha`` (the contrast lies in the lowest ``alpha`` of random
    groupings: significantly anti-block) and is undecided in between."""
    return [
        check_above(
            f"{label}: same-group pairs stiffer than cross-group pairs", "same − different", contrast.contrast_ci, 0.0
        ),
        Check.decided(
            f"{label}: block structure beyond chance (permutation test)",
            decide(bool(contrast.p_value < alpha), bool(contrast.p_value > 1 - alpha)),
            f"p = {contrast.p_value:.4f} over {contrast.n_perm} random groupings (α = {alpha})",
        ),
    ]


def hierarchy_rule() -> str:
    """Figure 7's claim and the rule :func:`hierarchy_checks` applies at :data:`PERMUTATION_ALPHA`, as Markdown, each
    part with the paper's words it checks (:data:`HIERARCHY_QUOTES`)."""
    alpha, q = PERMUTATION_ALPHA, HIERARCHY_QUOTES
    return (
        "**The paper's claim.** Early in training, the class stiffness matrix of a network trained on fine labels "
        "shows blocks along the coarse classes: fine classes of the same coarse class are stiffer with each other."
        "\n\n"
        f"**Rule** (sign stiffness, the early stage). Precondition, {q['data']}: the run used CIFAR-100 and its 20 "
        "super-classes, the data the claim is about (a grouping the book made for other data cannot contradict it; "
        "without CIFAR-100 the verdict is *inconclusive*, and the other hierarchies are the book's own question, "
        f"judged apart by the same two parts). (1) {q['blocks']}: the contrast \"same group − different groups\" "
        f"has a 95% bootstrap interval above 0; (2) {q['prominent']}: read as a block structure beyond chance, a "
        f"one-sided permutation test over random groupings of the same sizes gives p < {alpha:g}. Each part *holds* "
        "as stated; it is *contradicted* when the "
        f"data show the opposite — the contrast's interval lies below 0, or p > {1 - alpha:g} (the contrast lies "
        f"among the lowest {alpha:.0%} of random groupings: fine classes of a group are *less* stiff with each "
        "other) — and *undecided* otherwise. The verdict follows the book's rule, shown below."
    )
