"""The spherical-harmonics chapter's resolution: the theory crossing (largest Legendre root), the label-agreement
oracle on a planted crossing, which degrees count as resolved, and the check that drops the others."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from repro import claims
from repro.claims.verdicts import INCONCLUSIVE, REPRODUCED, shown_outcome, verdict
from repro.data.harmonics import sample_spherical_harmonics
from repro.experiments.harmonics import label_agreement, oracle_critical, theory_crossing


@pytest.mark.parametrize(
    ("degree", "root"),
    [(1, 0.0), (2, 1 / math.sqrt(3)), (3, math.sqrt(3 / 5)), (4, math.sqrt((3 + 2 * math.sqrt(6 / 5)) / 7))],
)
def test_theory_crossing_is_the_largest_legendre_root(degree, root):
    assert theory_crossing(degree) == pytest.approx(root, abs=1e-12)
    assert math.copysign(1.0, theory_crossing(1)) == 1.0  # 0, not −0
    assert math.isnan(theory_crossing(degree, dim=4))


def test_theory_crossing_rejects_degree_zero():
    with pytest.raises(ValueError, match="degree"):
        theory_crossing(0)


def test_label_agreement_is_plus_one_for_equal_labels():
    S = label_agreement(torch.tensor([0, 1, 0]))
    assert S.dtype == torch.float64
    assert S.tolist() == [[1.0, -1.0, 1.0], [-1.0, 1.0, -1.0], [1.0, -1.0, 1.0]]


@pytest.mark.parametrize("k", [1, 2, 3])
def test_oracle_recovers_a_planted_crossing(k):
    """Points on a great circle labelled by a square wave of ``k`` periods: label agreement at angle Δ is the
    triangle wave 1 − 2kΔ/π, first zero at Δ = π/(2k), i.e. at cosine cos(π/(2k))."""
    phi = np.random.default_rng(k).uniform(0, 2 * np.pi, 400)
    x = torch.from_numpy(np.stack([np.cos(phi), np.sin(phi), np.zeros_like(phi)], axis=1))
    y = torch.from_numpy((np.cos(k * phi) > 0).astype(np.int64))
    planted = math.cos(math.pi / (2 * k))
    crit = oracle_critical(x, y, n_bins=20, n_boot=50, seed=0)
    assert crit.found_fraction == 1.0
    assert crit.xi == pytest.approx(planted, abs=0.05)
    assert crit.ci[0] - 0.05 <= planted <= crit.ci[1] + 0.05


def test_oracle_on_generated_harmonics_meets_the_theory():
    """The generated labels of degree 4 (one draw of the harmonic) cross where the Legendre root says."""
    sample = sample_spherical_harmonics(dim=3, degree=4, n_train=1, n_test=600, seed=0)
    crit = oracle_critical(sample.x_test, sample.y_test, n_bins=20, n_boot=50, seed=0)
    assert crit.found_fraction >= 0.9 and crit.xi == pytest.approx(theory_crossing(4), abs=0.05)


def _rows(theory, lo, hi, found, xi=None, acc=0.9):
    n = len(theory)
    xi = np.linspace(0.2, 0.8, n) if xi is None else np.asarray(xi, dtype=float)
    return pd.DataFrame({"degree": np.arange(1, n + 1), "theory_xi": theory, "oracle_lo": lo, "oracle_hi": hi,
                         "oracle_found": found, "xi": xi, "xi_lo": xi - 0.02, "xi_hi": xi + 0.02, "val_acc": acc})


def test_resolved_needs_a_found_crossing_near_the_theory():
    rows = _rows(
        theory=[0.0, 0.86, 0.86, 0.96, 0.96, 0.5],
        lo=[-0.1, 0.82, 0.60, 0.92, np.nan, 0.3],
        hi=[0.08, 0.85, 0.70, 0.95, np.nan, 0.4],
        found=[1.0, 1.0, 1.0, 0.2, 0.0, 0.5],
    )
    # inside; one bin off (0.86 − 0.85 ≤ 0.1); too far below; found too rarely; never found; at the edges of both
    assert claims.harmonics_resolved(rows, bin_width=0.1).tolist() == [True, True, False, False, False, True]
    assert claims.harmonics_resolved(rows, bin_width=0.01).tolist() == [True, True, False, False, False, False]


def test_trend_is_judged_on_resolved_degrees_only():
    # degree 4 is not resolved; its ξ = 0.0 (domain 1.0, largest) would break the shrinking trend
    rows = _rows(theory=[0.0, 0.5, 0.7, 0.96], lo=[-0.05, 0.45, 0.65, np.nan], hi=[0.05, 0.55, 0.75, np.nan],
                 found=[1.0, 1.0, 1.0, 0.0], xi=[0.2, 0.4, 0.6, 0.0])
    checks = claims.harmonics_checks(rows, bin_width=0.1)
    assert [shown_outcome(c) for c in checks] == ["holds", "holds", "holds", "holds"]
    assert "over 3 resolved degrees" in checks[0].evidence and "not resolved: degree 4" in checks[2].evidence
    assert verdict(checks) == REPRODUCED


def test_fewer_than_three_resolved_degrees_is_inconclusive():
    rows = _rows(theory=[0.0, 0.5, 0.9, 0.96], lo=[-0.05, 0.45, 0.6, np.nan], hi=[0.05, 0.55, 0.65, np.nan],
                 found=[1.0, 1.0, 1.0, 0.1])
    checks = claims.harmonics_checks(rows, bin_width=0.1)
    resolution = checks[2]
    assert resolution.precondition and not resolution.passed
    assert shown_outcome(resolution) == "does not hold"
    assert verdict(checks) == INCONCLUSIVE
    assert claims.MIN_RESOLVED_DEGREES == 3
