"""Figure 7 (class hierarchy): fine classes of the same coarse class are stiffer with each other than with other
classes."""

from __future__ import annotations

from repro.claims.verdicts import Check, check_above, decide
from repro.stiffness import HierarchyContrast

__all__ = ["hierarchy_checks"]


def hierarchy_checks(contrast: HierarchyContrast, label: str, alpha: float = 0.05) -> list[Check]:
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
