"""Claim checks on hand-built measurements."""

import numpy as np
import pandas as pd
import pytest

from repro import claims
from repro.claims.verdicts import verdict
from repro.experiments.class_stiffness import StiffnessSnapshot
from repro.stiffness import ClassSummary, HierarchyContrast


def summary(within: float, between: float, half_width: float = 0.02) -> ClassSummary:
    return ClassSummary(within, between, half_width / 2, half_width / 2, (within - half_width, within + half_width),
                        (between - half_width, between + half_width), 100, 0.95)


def snapshot(seen: int, within: float, between: float, matrix: np.ndarray | None = None) -> StiffnessSnapshot:
    C = matrix if matrix is not None else np.array([[within, between], [between, within]])
    return StiffnessSnapshot(seen, {"sign": C, "cos": C}, {"sign": summary(within, between),
                             "cos": summary(within, between)}, np.eye(2), np.arange(2), 0.0, np.zeros(2))


def test_class_membership_paper_pattern_is_reproduced():
    snaps = [snapshot(0, 0.6, 0.02), snapshot(10, 0.8, 0.3), snapshot(100, 0.7, 0.4), snapshot(1000, 0.5, 0.2)]
    assert verdict(claims.class_membership_checks(snaps)) == "reproduced"


def test_class_membership_negative_start_is_only_partly_reproduced():
    snaps = [snapshot(0, 1.0, -1.0), snapshot(10, 1.0, 0.1), snapshot(100, 1.0, 0.2), snapshot(1000, 1.0, 0.1)]
    checks = claims.class_membership_checks(snaps)
    assert [c.passed for c in checks] == [True, False, True, True]
    assert verdict(checks) == "partly reproduced"


def test_random_labels():
    good = [snapshot(0, 1.0, -1.0), snapshot(1, 0.5, -0.6), snapshot(2, 0.2, -0.9), snapshot(3, 0.1, -0.95)]
    assert verdict(claims.random_label_checks(good)) == "reproduced"
    positive_cell = np.array([[0.2, 0.5], [-0.9, 0.1]])
    bad = good[:-1] + [snapshot(3, 0.1, -0.2, positive_cell)]
    assert [c.passed for c in claims.random_label_checks(bad)] == [True, False]
    earlier_structure_is_allowed = [good[0], snapshot(1, 0.5, -0.2, positive_cell), *good[2:]]
    assert verdict(claims.random_label_checks(earlier_structure_is_allowed)) == "reproduced"


def history(val_loss, within, between):
    n = len(val_loss)
    df = pd.DataFrame({"images_seen": np.arange(n) * 100, "val_loss": val_loss, "within_sign": within,
                       "between_sign": between})
    for col in ("within_sign", "between_sign"):
        df[f"{col}_lo"], df[f"{col}_hi"] = df[col] - 0.03, df[col] + 0.03
    return df


def test_overfitting_onset_and_collapse():
    h = history([2.0, 1.0, 0.5, 0.6, 0.9], [0.9, 0.9, 0.8, 0.4, 0.05], [0.0, 0.3, 0.4, 0.2, 0.02])
    assert claims.overfitting_onset(h) == 200
    assert verdict(claims.overfitting_checks(h)) == "reproduced"


def test_overfitting_alone_is_not_partly_reproduced():
    """The network overfits but stiffness stays where it was: the precondition holds, no check of the claim does."""
    h = history([2.0, 1.0, 0.5, 0.6, 0.9], [1.0] * 5, [0.3] * 5)
    checks = claims.overfitting_checks(h)
    assert checks[0].precondition and checks[0].passed
    assert not any(c.passed for c in checks[1:])
    assert verdict(checks) == "not reproduced"


def test_no_overfitting_means_not_reproduced():
    h = history([2.0, 1.0, 0.5, 0.45, 0.44], [0.9] * 5, [0.3] * 5)
    assert claims.overfitting_onset(h) is None
    checks = claims.overfitting_checks(h)
    assert len(checks) == 1 and verdict(checks) == "not reproduced"


@pytest.mark.parametrize(("ci", "p", "expected"), [((0.1, 0.3), 0.001, "reproduced"),
                                                    ((-0.1, 0.3), 0.2, "not reproduced")])
def test_hierarchy_checks(ci, p, expected):
    contrast = HierarchyContrast(0.5, 0.3, 0.2, ci, p, 100, 1000, 0.95)
    assert verdict(claims.hierarchy_checks(contrast, "toy")) == expected


def test_class_membership_rule_quotes_the_threshold_the_checks_use(monkeypatch):
    from repro import claims

    assert f"±{claims.NEAR_ZERO:g} of zero" in claims.class_membership_rule()
    from repro.claims import class_membership

    monkeypatch.setattr(class_membership, "NEAR_ZERO", 0.25)
    assert "±0.25 of zero" in claims.class_membership_rule()


def test_claims_table_counts_checks_of_the_claim_and_lists_missing_chapters():
    checks = [
        claims.Check("the network overfits", True, "onset at 600", precondition=True),
        claims.Check("within falls", True, "[0.1, 0.2] vs 0.5"),
        claims.Check("between falls", False, "[0.3, 0.4] vs 0.2"),
    ]
    payload = {"chapter": "fig02", "verdict": "partly reproduced", "profile": "quick", "device": "cpu",
               "wall_time_s": 12.4, "checks": [c.as_record() for c in checks]}
    found = [claims.ChapterRecord.from_results(payload)]
    assert found[0].checks == tuple(checks)  # the checks come back typed, as they were written
    # a results file of schema 1 kept its checks under details
    old = {k: v for k, v in payload.items() if k != "checks"} | {"details": {"checks": payload["checks"]}}
    assert claims.ChapterRecord.from_results(old).checks == tuple(checks)
    table = claims.claims_table(found, ["fig02", "fig03"]).set_index("chapter")
    assert table.loc["fig02", "checks held"] == "1 of 2"
    assert table.loc["fig02", "wall time (s)"] == 12
    assert table.loc["fig03", "verdict"] == "no results file"
    long = claims.checks_long_table(found, ["fig02", "fig03"])
    assert long["check"].tolist() == ["precondition: the network overfits", "within falls", "between falls"]
    assert long["holds"].tolist() == ["yes", "yes", "no"]


def test_trend_checks_say_when_spearman_is_undefined():
    trend = pd.DataFrame(
        [
            {"dataset": "mnist", "rule": "loss", "stop": 0.1, "n_lrs": 1, "spearman": np.nan, "direction": "unclear"},
            {"dataset": "mnist", "rule": "loss", "stop": 0.4, "n_lrs": 3, "spearman": 0.5, "direction": "up"},
        ]
    )
    undefined, defined = claims.trend_checks(trend, "between-class stiffness", expected="up")
    assert "ρ undefined" in undefined.evidence and "nan" not in undefined.evidence and not undefined.passed
    assert "ρ = +0.50" in defined.evidence and defined.passed


@pytest.mark.parametrize(
    ("train_loss", "val_acc", "expected"),
    [(0.07, 0.112, True), (0.5, 0.10, False), (0.07, 0.20, False)],  # memorised; loss too high; learned something
)
def test_memorised_needs_a_low_training_loss_and_chance_accuracy(train_loss, val_acc, expected):
    history = pd.DataFrame({"train_loss": [2.3, train_loss], "val_acc": [0.1, val_acc]})
    assert claims.memorised(history, num_classes=10) is expected


def _random_label_history(train_loss: float, entropy: float, val_acc: float = 0.1) -> pd.DataFrame:
    return pd.DataFrame({"images_seen": [0, 1000], "train_loss": [2.3, train_loss], "train_acc": [0.1, 0.1],
                         "val_acc": [0.1, val_acc], "stiffness_entropy": [2.3, entropy]})


@pytest.mark.parametrize(
    ("train_loss", "entropy", "val_acc", "expected"),
    [(2.30, 2.29, 0.10, "uniform"), (0.01, 0.4, 0.10, "memorised"), (1.2, 1.5, 0.10, "in between"),
     (2.30, 1.0, 0.10, "in between"), (0.01, 0.4, 0.5, "in between")],
)
def test_random_label_regime(train_loss, entropy, val_acc, expected):
    hist = _random_label_history(train_loss, entropy, val_acc)
    assert claims.random_label_regime(hist, 10) == expected
    reading = claims.random_label_reading(hist, 10)
    assert f"{train_loss:.3f}" in reading and "2.303" in reading
    assert {"uniform": "could not fit", "memorised": "memorised", "in between": "says little"}[expected] in reading


def _numerics_history(exact_end: float, textbook_end: float, overfits: bool = True) -> pd.DataFrame:
    val = [1.0, 0.5, 0.8 if overfits else 0.45]
    return pd.DataFrame({"images_seen": [0, 100, 1000], "val_loss": val, "within_sign": [1.0, 1.0, exact_end],
                         "within_sign_textbook32": [1.0, 0.95, textbook_end]})


def test_textbook_collapse_is_a_fall_of_at_least_the_stated_drop_after_the_onset():
    falls = claims.textbook_collapse_checks(_numerics_history(1.0, 0.95 - claims.COLLAPSE_DROP - 0.01))
    holds = claims.textbook_collapse_checks(_numerics_history(1.0, 0.95 - claims.COLLAPSE_DROP + 0.01))
    assert [c.passed for c in falls] == [True, True] and [c.passed for c in holds] == [True, False]
    assert "+0.950 at the onset" in falls[1].evidence and "exact: +1.000 → +1.000" in falls[1].evidence
    no_onset = claims.textbook_collapse_checks(_numerics_history(1.0, 0.2, overfits=False))
    assert len(no_onset) == 1 and no_onset[0].precondition and not no_onset[0].passed
    assert claims.collapse_finding([falls, falls]) == "yes"
    assert claims.collapse_finding([falls, holds]) == "in some seeds"
    assert claims.collapse_finding([holds, no_onset]) == "no"
    assert claims.collapse_finding([no_onset]) == "cannot tell"


def test_fig04_main_run_is_the_paper_regime_on_the_full_split():
    from repro.book.profiles import get_config

    for profile in ("quick", "paper"):
        main, contrast = get_config("fig04", profile)
        assert main.n_train is None and main.random_labels  # the paper's set-up: every training image
        assert contrast.n_train is not None and contrast.random_labels
