"""The definition chapter's measurement (repro.experiments.definition) on small synthetic data, and its readings
(repro.analysis.definition) against what the measurement holds."""

import math
from pathlib import Path

import pytest
import torch

import repro
from repro import claims
from repro.analysis import definition
from repro.experiments.configs import DefinitionConfig
from repro.experiments.definition import DefinitionRun, checked_pairs, run_definition
from repro.measurements.keys import source_files

CFG = DefinitionConfig(
    dataset="spherical_harmonics", n_train=200, train_images=128, n_pairs=3, epsilons=(1e-2, 1e-3, 1e-4, 1e-5),
    n_stiffness=20,
)  # fmt: skip


@pytest.fixture(scope="module")
def run() -> DefinitionRun:
    return run_definition(CFG, seed=0)


def test_checked_pairs_take_same_class_pairs_first_then_different():
    labels = torch.tensor([0, 1, 0, 1, 2])
    pairs, extra = checked_pairs(labels, 3)
    assert pairs == [(0, 2), (1, 3), (0, 1)]  # ⌈3/2⌉ same-class, then ⌊3/2⌋ different-class
    # different-class pairs in order: (0, 1), (0, 3), (0, 4), (1, 2), (1, 4), …; the extra ones start at n_pairs
    assert extra == [(1, 2), (1, 4)]
    assert checked_pairs(labels, 4)[0] == [(0, 2), (1, 3), (0, 1), (0, 3)]


def test_run_definition_measures_the_pairs_and_the_gram(run):
    n = CFG.n_stiffness
    assert run.images_seen == CFG.train_images and run.n_train == CFG.n_train
    assert run.labels.shape == (n,) and run.gram.shape == (n, n) == run.unit.shape and run.log_norms.shape == (n,)
    assert run.gram.device.type == "cpu"
    assert len(run.pairs) == CFG.n_pairs == len(run.finite_differences)
    assert [len(df) for df in run.finite_differences] == [len(CFG.epsilons)] * CFG.n_pairs
    (i, j), k = run.pairs[0], run.pairs[-1]
    assert run.labels[i] == run.labels[j] and run.labels[k[0]] != run.labels[k[1]]
    # the unit Gram has the Gram's signs
    assert torch.equal(torch.sign(run.unit), torch.sign(run.gram))


def test_readings_agree_with_the_measurement(run):
    table = definition.finite_difference_table(run)
    assert len(table) == CFG.n_pairs
    last = [df.iloc[-1] for df in run.finite_differences]  # the smallest step is the last
    assert list(table["relative error"]) == [r["rel_err_other"] for r in last]
    assert definition.max_relative_error(run) == max(r["rel_err_other"] for r in last)
    pair_table = definition.pair_stiffness_table(run)
    assert len(pair_table) == len(run.pairs) + len(run.extra_pairs)
    i, j = run.pairs[0]
    assert pair_table["g₁·g₂"].iloc[0] == float(run.gram[i, j])
    assert pair_table["sign stiffness"].iloc[0] == int(torch.sign(run.gram[i, j]))
    # the float32 Gram agrees with the float64 autograd dot products to float32 rounding
    assert 0 <= definition.gram_vs_autograd(run) < 1e-4
    assert "differs in 0 of 400 pairs" in definition.unit_gram_text(run)
    assert len(definition.pair_labels(run)) == CFG.n_pairs


def test_headline_checks_and_summary_follow_the_measurement(run):
    checks = definition.checks(run)
    assert [c.claim for c in checks] == [
        "ΔL₂/ε → −g₁·g₂ at the smallest step", "first-order convergence", "exact Gram = autograd dot products",
    ]  # fmt: skip
    headline = definition.headline(run)
    assert headline["n_pairs"] == CFG.n_pairs
    assert headline["max_rel_err_smallest_eps"] == definition.max_relative_error(run)
    orders = definition.convergence_orders(run)
    assert headline["pairs_at_rounding_floor"] == sum(c.at_floor for c in orders)
    lowest = headline["lowest_convergence_order"]
    assert math.isnan(lowest) or lowest == min(c.order for c in orders if not c.at_floor)
    lines = definition.summary_lines(run)
    small = definition.max_relative_error(run) < claims.MAX_RELATIVE_ERROR
    assert lines[:2] == [f"pairs checked: {CFG.n_pairs}", f"relative error at smallest step below 1e-3: {small}"]


def test_definition_rule_quotes_the_thresholds_the_checks_use(monkeypatch):
    from repro.claims import convergence

    rule = claims.definition_rule()
    assert "below $10^{-3}$" in rule and "at least $10^{-12}$" in rule and "to $10^{-5}$ relative" in rule
    assert "at least 10× that floor" in rule and "must be at least 0.9" in rule
    for name, value in (("MAX_RELATIVE_ERROR", 1e-4), ("FLAT_FLOOR", 1e-14), ("MAX_GRAM_GAP", 1e-6)):
        monkeypatch.setattr(convergence, name, value)
    monkeypatch.setattr(convergence, "ROUNDING_MARGIN", 100.0)
    monkeypatch.setattr(convergence, "MIN_ORDER", 0.8)
    rule = claims.definition_rule()
    assert "below $10^{-4}$" in rule and "at least $10^{-14}$" in rule and "to $10^{-6}$ relative" in rule
    assert "at least 100× that floor" in rule and "must be at least 0.8" in rule
    with pytest.raises(ValueError, match="not a power of ten"):
        convergence.power_of_ten(2e-3)


@pytest.mark.parametrize("module", ["repro.experiments.definition", "repro.experiments.init_study"])
def test_a_measuring_module_imports_no_reading_code(module):
    # a stored measurement is keyed by the source of its module and what it imports: readings must stay outside
    package = Path(repro.__file__).parent
    layers = {path.relative_to(package).parts[0] for path in source_files(module)}
    assert not layers & {"claims", "book", "analysis"}
