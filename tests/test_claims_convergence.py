"""The definition chapter's "first-order convergence" part on constructed error curves whose answer is known."""

import math

import numpy as np
import pytest

from repro.claims.convergence import MIN_ORDER, convergence_check, convergence_order

EPS = np.array([1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 3e-6, 1e-6])
ROUNDING = 2e-14  # relative rounding error × ε: the floor rises as 1/ε towards the smallest steps


def test_a_quadratic_remainder_converges_at_first_order():
    # L₂(W − εg₁) = L₂ − εg₁·g₂ + ε²c: the finite difference is off by εc, plus rounding
    conv = convergence_order(EPS, 3e-3 * EPS + ROUNDING / EPS)
    assert conv.order == pytest.approx(1.0, abs=0.05) and conv.n_steps >= 5 and conv.first_order
    assert convergence_check([(EPS, 3e-3 * EPS + ROUNDING / EPS)]).outcome == "holds"


def test_a_cubic_remainder_is_faster_than_first_order():
    conv = convergence_order(EPS, 1e-2 * EPS**2 + ROUNDING / EPS)
    assert conv.order == pytest.approx(2.0, abs=0.1) and conv.first_order


def test_an_error_that_does_not_shrink_is_contradicted():
    flat = 0.05 + ROUNDING / EPS  # a prediction off by 5% at every step
    conv = convergence_order(EPS, flat)
    assert conv.order == pytest.approx(0.0, abs=0.05) and not conv.at_floor and not conv.first_order
    half_order = 1e-3 * np.sqrt(EPS) + ROUNDING / EPS  # shrinks, but slower than first order
    order = convergence_order(EPS, half_order).order
    assert order == pytest.approx(0.5, abs=0.05) and order < MIN_ORDER
    check = convergence_check([(EPS, 3e-3 * EPS + ROUNDING / EPS), (EPS, flat)])
    assert check.outcome == "contradicted" and "required ≥ 0.9" in check.evidence
    assert "lowest order -0.00 (pair 2," in check.evidence or "lowest order 0.00 (pair 2," in check.evidence


def test_a_nearly_linear_pair_at_the_rounding_floor_holds():
    # the Taylor remainder (1e-12·ε) is below rounding at every step: the error only grows as the step shrinks
    at_floor = 1e-12 * EPS + 3e-13 / EPS
    conv = convergence_order(EPS, at_floor)
    assert conv.at_floor and math.isnan(conv.order) and conv.first_order
    # the earlier rule (error at the largest step ≥ 100 × the smallest error) fails it
    assert at_floor[0] / at_floor.min() < 100
    check = convergence_check([(EPS, at_floor), (EPS, 3e-3 * EPS + ROUNDING / EPS)])
    assert check.outcome == "holds" and "1 of 2 pairs at the float64 rounding floor" in check.evidence


def test_the_paper_profile_pair_the_earlier_rule_failed():
    # relative errors of the pair (#0, #2) at the paper profile (7583af4): already 4.8e-8 at ε = 0.1, smallest
    # 1.2e-8 at ε = 0.03 (ratio 3.9), then rising with rounding
    measured = [4.836e-08, 1.246e-08, 1.405e-08, 3.746e-08, 1.326e-07, 5.756e-08, 8.426e-07, 5.577e-07, 4.559e-06,
                3.145e-05, 2.856e-05]
    conv = convergence_order(EPS, measured)
    assert conv.n_steps == 2 and conv.order > 1.0 and conv.first_order


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        convergence_order([0.1], [1e-3])
    with pytest.raises(ValueError):
        convergence_check([])
