"""The definition chapter (Eqs. 2–5): does the finite difference ``ΔL₂/ε`` converge to ``−g₁·g₂`` at first order?

The error of the finite difference has two sources. The Taylor remainder shrinks as ``O(ε)`` (``O(ε²)`` where the
loss is nearly linear along the step); float64 rounding of the two losses, divided by ε, grows as ``1/ε``. The
measured relative error ``e(ε)`` therefore falls with ε down to a *rounding floor* and rises below it. The floor is
estimated from the curve itself: the error at the smallest step is taken as rounding, ``δ = e(ε_min)·ε_min``, so the
floor at ε is ``max(δ/ε, FLAT_FLOOR)`` (the flat part: the rounding of the prediction ``g₁·g₂`` itself, a float64
sum over the network's parameters). Were the smallest step's error still Taylor remainder, this overestimates the
floor only near the smallest steps.

A step is *above the floor* when its error is at least :data:`ROUNDING_MARGIN` times the floor. Over those steps
the convergence order is the least-squares slope of ``log e`` against ``log ε``; first order asks for at least
:data:`MIN_ORDER`. A pair with fewer than two steps above the floor is *at the floor*: its Taylor remainder is below
what float64 resolves even at the largest step, which is first-order agreement to rounding, not evidence against it.
An error that does not shrink (a wrong prediction) stays far above the floor at every step with an order near 0.

The chapter's claim has two more parts, decided on one number each: the finite difference's relative error at the
smallest step is at most :data:`MAX_RELATIVE_ERROR` over every pair, and the Gram matrix agrees with the per-pair
autograd dot products to :data:`MAX_GRAM_GAP` relative (:func:`definition_checks`; its rule in words:
:func:`definition_rule`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from repro.claims.thresholds import threshold
from repro.claims.verdicts import Check, check_inside

__all__ = [
    "ROUNDING_MARGIN",
    "MIN_ORDER",
    "FLAT_FLOOR",
    "MAX_RELATIVE_ERROR",
    "MAX_GRAM_GAP",
    "DEFINITION_QUOTES",
    "Convergence",
    "convergence_order",
    "convergence_check",
    "power_of_ten",
    "definition_checks",
    "definition_rule",
]

ROUNDING_MARGIN = threshold("ROUNDING_MARGIN")
MIN_ORDER = threshold("MIN_ORDER")  # repro.claims.thresholds says what it decides
FLAT_FLOOR = 1e-12  # relative rounding of g₁·g₂ itself (a float64 sum of ~10⁶ products: ≲ 10⁶·2⁻⁵³ ≈ 1e-10 worst,
# √10⁶·2⁻⁵³ ≈ 1e-13 typical)
MAX_RELATIVE_ERROR = threshold("MAX_RELATIVE_ERROR")
MAX_GRAM_GAP = threshold("MAX_GRAM_GAP")


@dataclass(frozen=True)
class Convergence:
    """The convergence of one pair's finite difference: ``order`` (slope of log error against log ε over the
    ``n_steps`` steps above the rounding floor; NaN when fewer than two) and ``at_floor`` (fewer than two steps
    above the floor)."""

    order: float
    n_steps: int

    @property
    def at_floor(self) -> bool:
        return self.n_steps < 2

    @property
    def first_order(self) -> bool:
        """At the floor, or converging at order ≥ :data:`MIN_ORDER`."""
        return self.at_floor or self.order >= MIN_ORDER


def convergence_order(epsilons: Sequence[float], errors: Sequence[float]) -> Convergence:
    """The :class:`Convergence` of a pair from its relative errors ``errors[k]`` at steps ``epsilons[k]`` (any
    order; at least two steps)."""
    eps, err = np.asarray(epsilons, dtype=float), np.asarray(errors, dtype=float)
    if eps.shape != err.shape or len(eps) < 2 or (eps <= 0).any():
        raise ValueError("need at least two positive steps, one error each")
    k_min = int(np.argmin(eps))
    delta = max(float(err[k_min]), 0.0) * eps[k_min]
    floor = np.maximum(delta / eps, FLAT_FLOOR)
    above = err >= ROUNDING_MARGIN * floor
    if above.sum() < 2:
        return Convergence(math.nan, int(above.sum()))
    slope = np.polyfit(np.log(eps[above]), np.log(err[above]), 1)[0]
    return Convergence(float(slope), int(above.sum()))


def convergence_check(curves: Sequence[tuple[Sequence[float], Sequence[float]]]) -> Check:
    """"First-order convergence" over every pair (``curves[k]``: pair k's steps and relative errors): holds when
    every pair converges at order ≥ :data:`MIN_ORDER` above the rounding floor or is at the floor at every step but
    one; else contradicted (a decided number against its bound, as the chapter's other parts)."""
    if not curves:
        raise ValueError("no pairs")
    found = [convergence_order(eps, err) for eps, err in curves]
    measured = [(k, c) for k, c in enumerate(found) if not c.at_floor]
    n_floor = len(found) - len(measured)
    evidence = f"{n_floor} of {len(found)} pairs at the float64 rounding floor from the largest step"
    if measured:
        k, worst = min(measured, key=lambda kc: kc[1].order)
        evidence = (
            f"lowest order {worst.order:.2f} (pair {k + 1}, over {worst.n_steps} steps above the rounding floor), "
            f"required ≥ {MIN_ORDER:g}; " + evidence
        )
    return Check("first-order convergence", all(c.first_order for c in found), evidence)


def power_of_ten(x: float) -> int:
    """The exponent ``k`` of ``x = 10**k`` (a threshold written as ``1e-3`` or ``10^{-3}``); ValueError for any
    other number."""
    k = round(math.log10(x)) if x > 0 else None
    if k is None or not math.isclose(x, 10.0**k, rel_tol=1e-12):
        raise ValueError(f"{x!r} is not a power of ten")
    return k


# The paper's words each part checks (v1: arXiv 1901.09491v1 §2.1; v3: the caption of its Figure 2). The paper steps
# along +ε·g₁ and writes ΔL₂ = ε g₁·g₂; the chapter steps down the gradient, −ε·g₁, and checks −g₁·g₂: the same
# statement with the sign of the step turned.
DEFINITION_QUOTES = {
    "finite_difference": '"The change in loss on input 2 due to the gradient step from input 1 becomes equivalently '
    'ΔL₂ = ε ∇_ε L(f_{W+εg₁}(X₂), y₂) = ε g₁·g₂." (v1 §2.1, Eq. 4)',
    "first_order": '"is the direction in which, if we were to change the parameters W, the loss would change the most '
    'rapidly (at least for infinitesimal step sizes)" (v1 §2.1, of Eq. 1): Eq. 4 holds to first order in ε',
    "gram": '"what we initially thought of as a change in loss due to the application of a small gradient update from '
    'one input to another is in fact equivalent to analyzing gradient alignment between different datapoints" (v1 '
    '§2.1); "These two descriptions are mathematically equivalent." (v3 Fig. 2) — the alignment the book reads off '
    "its Gram matrix",
}


def definition_checks(
    max_relative_error: float, curves: Sequence[tuple[Sequence[float], Sequence[float]]], gram_gap: float
) -> list[Check]:
    """The definition chapter's three parts, each holds or contradicted: the largest relative error over the pairs
    at the smallest step is at most :data:`MAX_RELATIVE_ERROR`; first-order convergence of every pair
    (:func:`convergence_check` of ``curves``); the largest relative gap between the Gram matrix and the per-pair
    autograd dot products is at most :data:`MAX_GRAM_GAP`."""
    return [
        check_inside("ΔL₂/ε → −g₁·g₂ at the smallest step", "max relative error", max_relative_error, 0.0,
                     MAX_RELATIVE_ERROR),
        convergence_check(curves),
        check_inside("exact Gram = autograd dot products", "max relative gap", gram_gap, 0.0, MAX_GRAM_GAP),
    ]  # fmt: skip


def definition_rule() -> str:
    """The claim of Eqs. 2–5 and the rule :func:`definition_checks` applies, as Markdown, with the thresholds of
    this module."""
    return (
        r"**The paper's claim (Eqs. 2–5).** A small gradient step on example 1 changes the loss on example 2 by "
        r"$-\varepsilon\, \vec g_1 \cdot \vec g_2$, so stiffness is a property of gradient alignment."
        "\n\n"
        f"**Rule.** Three parts, over every pair: (i) {DEFINITION_QUOTES['finite_difference']}: the relative error "
        f"of the finite difference at the smallest step is below $10^{{{power_of_ten(MAX_RELATIVE_ERROR)}}}$ (the "
        r"paper steps along $+\varepsilon \vec g_1$, we step down the gradient and compare with "
        r"$-\vec g_1 \cdot \vec g_2$); "
        f"(ii) {DEFINITION_QUOTES['first_order']}: first-order convergence: "
        r"the Taylor remainder of the finite difference shrinks as $O(\varepsilon)$, "
        r"while float64 rounding of the two losses, divided by $\varepsilon$, grows as $1/\varepsilon$. The "
        r"rounding floor at each step is estimated from the smallest step's error (taken as rounding, scaled by "
        r"$\varepsilon_{\min}/\varepsilon$; at least "
        f"$10^{{{power_of_ten(FLAT_FLOOR)}}}$"
        r", the rounding of $\vec g_1 \cdot \vec g_2$ itself); over the steps whose error is at least "
        f"{ROUNDING_MARGIN:g}× that floor, the slope of $\\log$ error against $\\log \\varepsilon$ must be at "
        f"least {MIN_ORDER:g}. "
        "A pair with fewer than two such steps is at the rounding floor from the largest step on (its loss is "
        "nearly linear along the step) and agrees to rounding, so it passes; an error that does not shrink stays "
        "above the floor with a slope near 0 and fails (`repro.claims.convergence`); (iii) "
        f"{DEFINITION_QUOTES['gram']}: the Gram matrix agrees with the per-pair autograd dot products to "
        f"$10^{{{power_of_ten(MAX_GRAM_GAP)}}}$ relative. Each is "
        "decided as holds or contradicted (no interval); the verdict follows the book's rule, shown below."
    )
