"""The censored trend over learning rates: Gehan's rule on constructed values with known answers, Kendall's S
without censoring (against scipy), and the permutation test's p-value against a brute-force enumeration."""

import itertools

import numpy as np
import pytest
from scipy.stats import kendalltau

from repro.claims.censored_trend import censored_trend, gehan_matrix


def test_a_bound_above_every_found_value_is_larger_and_two_equal_bounds_tie():
    values = np.array([0.2, 0.5, 0.6, 0.6])
    censored = np.array([False, False, True, True])
    G = gehan_matrix(values, censored)
    assert G[0, 2] == 1 and G[1, 2] == 1  # a bound above a crossing found is larger
    assert G[2, 0] == -1
    assert G[2, 3] == 0 and G[3, 2] == 0  # two bounds at the same range tie
    assert G[0, 1] == 1


def test_a_bound_below_a_found_value_orders_nothing():
    G = gehan_matrix(np.array([0.3, 0.5]), np.array([True, False]))
    assert G[0, 1] == 0 and G[1, 0] == 0  # at least 0.3 may be more or less than 0.5


def test_without_censoring_the_statistic_is_kendalls():
    rng = np.random.default_rng(1)
    lr = np.arange(6.0)
    v = rng.normal(size=6)
    test = censored_trend(lr, v)
    assert test.tau == pytest.approx(kendalltau(lr, v).statistic)


def test_p_value_equals_a_brute_force_enumeration():
    lr = [1, 2, 3, 4, 1, 2, 3, 4]
    seed = [0, 0, 0, 0, 1, 1, 1, 1]
    v = [0.1, 0.3, 0.2, 0.5, 0.2, 0.1, 0.4, 0.6]
    cens = [False, False, False, True, False, False, False, True]
    test = censored_trend(lr, v, cens, seed)
    G0 = gehan_matrix(np.array(v[:4]), np.array(cens[:4]))
    G1 = gehan_matrix(np.array(v[4:]), np.array(cens[4:]))

    def stat(G, order):
        return sum(G[order[a], order[b]] for a in range(4) for b in range(a + 1, 4))

    observed = stat(G0, range(4)) + stat(G1, range(4))
    orders = list(itertools.permutations(range(4)))
    null = [stat(G0, p) + stat(G1, q) for p in orders for q in orders]
    assert test.exact
    assert test.p_value == pytest.approx(np.mean(np.abs(null) >= abs(observed)))
    assert test.tau == pytest.approx(observed / 12)


def test_domains_beyond_the_range_at_high_rates_make_a_trend_up():
    """Three seeds, five rates: crossings found at the low rates grow, the two highest rates never cross (bounded
    at the range 0.8): the trend is up, where blanking the bounds would leave only three rates."""
    lr = np.tile([1e-4, 3e-4, 1e-3, 3e-3, 1e-2], 3)
    seed = np.repeat([0, 1, 2], 5)
    v = np.tile([0.2, 0.3, 0.5, 0.8, 0.8], 3) + np.repeat([0.0, 0.01, -0.01], 5) * np.tile([1, 1, 1, 0, 0], 3)
    cens = np.tile([False, False, False, True, True], 3)
    test = censored_trend(lr, v, cens, seed)
    assert test.direction == "up" and test.p_value < 0.01 and test.censored == 6
    assert censored_trend(lr, -v, None, seed).direction == "down"


def test_one_seed_of_three_rates_cannot_resolve_a_trend():
    test = censored_trend([1, 2, 3], [0.1, 0.2, 0.3])
    assert test.tau == 1 and test.smallest_p == pytest.approx(2 / 6) and test.direction == "unclear"
    assert np.isnan(test.resolvable_tau)


def test_the_resolvable_tau_is_the_least_tau_with_p_below_the_level():
    """One seed, five rates (120 arrangements): Kendall's S ∈ {±10, ±8, ±6, …}; P(|S| ≥ 10) = 2/120,
    P(|S| ≥ 8) = 10/120 ≥ 0.05, so only |τ| = 1 is resolved; with two such seeds far smaller effects are."""
    one = censored_trend([1, 2, 3, 4, 5], [0.1, 0.2, 0.3, 0.4, 0.5])
    assert one.resolvable_tau == pytest.approx(1.0) and one.p_value == pytest.approx(2 / 120)
    two = censored_trend([1, 2, 3, 4, 5] * 2, [0.1, 0.2, 0.3, 0.4, 0.5] * 2, None, [0] * 5 + [1] * 5)
    assert two.resolvable_tau < 1.0 and two.p_value < one.p_value


def test_no_signal_is_unclear_and_duplicate_rates_are_an_error():
    assert censored_trend([1, 2, 3, 4], [0.5, 0.5, 0.5, 0.5], [True] * 4).direction == "unclear"
    with pytest.raises(ValueError, match="two observations"):
        censored_trend([1, 1], [0.1, 0.2])
