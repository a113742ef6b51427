"""Figure 7 (class hierarchy): fine classes of the same coarse class are stiffer with each other than with other
classes."""

from __future__ import annotations

from repro.claims.verdicts import Check, check_above, decide
from repro.stiffness import HierarchyContrast

__all__ = ["PERMUTATION_ALPHA", "hierarchy_checks", "hierarchy_rule"]

PERMUTATION_ALPHA = 0.05  # level of the one-sided permutation test for block structure


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
    """Figure 7's claim and the rule :func:`hierarchy_checks` applies at :data:`PERMUTATION_ALPHA`, as Markdown."""
    alpha = PERMUTATION_ALPHA
    return (
        "**The paper's claim.** Early in training, the class stiffness matrix of a network trained on fine labels "
        "shows blocks along the coarse classes: fine classes of the same coarse class are stiffer with each other."
        "\n\n"
        "**Rule** (sign stiffness, the early stage, every hierarchy this profile runs). (1) The contrast \"same group "
        "− different groups\" has a 95% bootstrap interval above 0; (2) a one-sided permutation test over random "
        f"groupings of the same sizes gives p < {alpha:g}. Each part *holds* as stated; it is *contradicted* when the "
        f"data show the opposite — the contrast's interval lies below 0, or p > {1 - alpha:g} (the contrast lies "
        f"among the lowest {alpha:.0%} of random groupings: fine classes of a group are *less* stiff with each "
        "other) — and *undecided* otherwise. The verdict follows the book's rule, shown below."
    )
