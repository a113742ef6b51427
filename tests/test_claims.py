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


def test_class_membership_negative_start_is_not_consistent_stiffness():
    """"No consistent stiffness between classes at initialisation" read as not consistently positive: −1.0 fits the
    paper's words (the other reading, within ±0.1 of 0, is shown in the evidence and fails)."""
    snaps = [snapshot(0, 1.0, -1.0), snapshot(10, 1.0, 0.1), snapshot(100, 1.0, 0.2), snapshot(1000, 1.0, 0.1)]
    checks = claims.class_membership_checks(snaps)
    assert [c.outcome for c in checks] == ["holds"] * 5
    assert "within ±0.1 of 0: no (-1.000)" in checks[1].evidence
    assert verdict(checks) == "reproduced"


def test_class_membership_consistently_positive_start_and_no_majority_are_contradicted():
    negative = np.array([[0.9, -0.3], [-0.3, 0.9]])
    snaps = [snapshot(0, 0.9, 0.3), snapshot(10, 0.9, -0.3, negative), snapshot(100, 0.9, -0.3, negative)]
    checks = claims.class_membership_checks(snaps)
    assert [c.outcome for c in checks] == ["holds", "contradicted", "contradicted", "holds", "contradicted"]
    assert "0% of class pairs positive" in checks[4].evidence
    mixed = np.array([[0.9, 0.2, -0.1], [0.2, 0.9, -0.1], [-0.1, -0.1, 0.9]])  # 2 of 6 off-diagonal cells positive
    assert claims.positive_share(mixed) == pytest.approx(1 / 3)
    few = [snapshot(0, 0.9, -0.5), snapshot(10, 0.9, 0.1, mixed)]  # the mean above 0, but not most pairs
    assert claims.class_membership_checks(few)[4].outcome == "undecided"


def test_class_membership_rule_quotes_the_paper_for_every_part():
    rule = claims.class_membership_rule()
    for quote in claims.QUOTES.values():
        assert quote in rule
    assert "There is no consistent stiffness between different classes at initialization." in rule


def test_class_membership_rise_is_contradicted_only_when_every_later_stage_is_below():
    falls = [snapshot(0, 0.6, 0.3), snapshot(10, 0.6, 0.1), snapshot(100, 0.6, 0.0)]
    overlaps = [snapshot(0, 0.6, 0.3), snapshot(10, 0.6, 0.1), snapshot(100, 0.6, 0.29)]
    assert claims.class_membership_checks(falls)[2].outcome == "contradicted"
    assert claims.class_membership_checks(overlaps)[2].outcome == "undecided"
    negative_within = [snapshot(0, -0.5, 0.0), snapshot(10, -0.4, 0.3)]
    assert [c.outcome for c in claims.class_membership_checks(negative_within)] == [
        "contradicted", "holds", "holds", "contradicted", "holds"
    ]


def test_random_labels():
    good = [snapshot(0, 1.0, -1.0), snapshot(1, 0.5, -0.6), snapshot(2, 0.2, -0.9), snapshot(3, 0.02, -0.95)]
    assert verdict(claims.random_label_checks(good)) == "reproduced"
    positive_cell = np.array([[0.2, 0.5], [-0.9, 0.1]])
    bad = good[:-1] + [snapshot(3, 0.02, -0.2, positive_cell)]
    assert [c.outcome for c in claims.random_label_checks(bad)] == ["holds", "contradicted", "holds"]
    earlier_structure_is_allowed = [good[0], snapshot(1, 0.5, -0.2, positive_cell), *good[2:]]
    assert verdict(claims.random_label_checks(earlier_structure_is_allowed)) == "reproduced"


def test_random_labels_within_class_stiffness_that_stays_is_contradicted():
    """"The stiffness between examples disappears" (v1 §5), read for pairs of the same class: a within-class
    interval wholly above +0.1 at the last stage contradicts it, one that contains +0.1 leaves it undecided."""
    stays = [snapshot(0, 1.0, -0.5), snapshot(3, 1.0, -0.98)]
    checks = claims.random_label_checks(stays)
    assert [c.outcome for c in checks] == ["holds", "holds", "contradicted"]
    assert verdict(checks) == "partly reproduced"
    assert "at initialisation +1.000" in checks[2].evidence and "below 0: no" in checks[2].evidence
    borderline = [snapshot(0, 1.0, -0.5), snapshot(3, 0.1, -0.98)]
    assert claims.random_label_checks(borderline)[2].outcome == "undecided"
    gone = [snapshot(0, 1.0, -0.5), snapshot(3, -0.5, -0.98)]
    assert "below 0: yes" in claims.random_label_checks(gone)[2].evidence


def test_random_label_rule_quotes_the_paper_for_every_part():
    rule = claims.random_label_rule()
    for quote in claims.RANDOM_LABEL_QUOTES.values():
        assert quote in rule
    assert "the stiffness between examples disappears as the model trains" in rule


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
    assert [c.outcome for c in checks[1:]] == ["undecided", "contradicted", "undecided", "contradicted"]
    assert verdict(checks) == "not reproduced"


def test_stiffness_that_rises_after_the_onset_contradicts_the_fall():
    h = history([2.0, 1.0, 0.5, 0.6, 0.9], [0.9, 0.9, 0.5, 0.7, 0.95], [0.0, 0.3, 0.05, 0.2, 0.3])
    within_falls, within_zero, between_falls, between_zero = claims.overfitting_checks(h)[1:]
    assert within_falls.outcome == between_falls.outcome == "contradicted"
    assert "vs at the onset [+0.470, +0.530]" in within_falls.evidence
    assert within_zero.outcome == between_zero.outcome == "contradicted"


def test_no_overfitting_means_inconclusive():
    h = history([2.0, 1.0, 0.5, 0.45, 0.44], [0.9] * 5, [0.3] * 5)
    assert claims.overfitting_onset(h) is None
    checks = claims.overfitting_checks(h)
    assert len(checks) == 1 and verdict(checks) == "inconclusive"


@pytest.mark.parametrize(
    ("ci", "p", "outcomes", "expected"),
    [
        ((0.1, 0.3), 0.001, ["holds", "holds"], "reproduced"),
        ((-0.1, 0.3), 0.2, ["undecided", "undecided"], "inconclusive"),
        ((-0.3, -0.1), 0.999, ["contradicted", "contradicted"], "not reproduced"),  # anti-block structure
        ((0.1, 0.3), 0.08, ["holds", "undecided"], "supported"),  # what is decided holds
    ],
)
def test_hierarchy_checks(ci, p, outcomes, expected):
    contrast = HierarchyContrast(0.5, 0.3, 0.2, ci, p, 100, 1000, 0.95)
    checks = claims.hierarchy_checks(contrast, "toy")
    assert [c.outcome for c in checks] == outcomes
    assert verdict(checks) == expected


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
    assert table.loc["fig02", "parts"] == "1 hold, 1 contradicted, 0 undecided"
    assert table.loc["fig02", "versions"] == "v1, v3"
    assert table.loc["fig02", "wall time (s)"] == 12
    assert table.loc["fig03", "verdict"] == "no results file"
    long = claims.checks_long_table(found, ["fig02", "fig03"])
    assert long["check"].tolist() == ["precondition: the network overfits", "within falls", "between falls"]
    assert long["outcome"].tolist() == ["holds", "holds", "contradicted"]


def _trend_row(**fields) -> dict:
    """One row of an lr_trend table with a decided rank trend, ``fields`` replacing the defaults."""
    return {"dataset": "mnist", "rule": "loss", "stop": 0.4, "n_lrs": 5, "tau": 0.5, "p": 0.01, "smallest p": 1e-4,
            "resolvable tau": 0.3, "bounds": 0, "seeds": 3, "direction": "up", "end-point direction": "up"} | fields


def test_trend_checks_say_when_tau_is_undefined_or_the_design_cannot_resolve_a_trend():
    trend = pd.DataFrame(
        [
            _trend_row(stop=0.1, n_lrs=1, tau=np.nan, p=1.0, direction="unclear"),
            _trend_row(bounds=2),
            _trend_row(n_lrs=4, seeds=1, tau=1.0, p=1 / 12, **{"smallest p": 1 / 12}, direction="unclear"),
        ]
    )
    undefined, defined, unresolvable = claims.trend_checks(trend, "between-class stiffness", expected="up")
    assert "τ undefined" in undefined.evidence and "nan" not in undefined.evidence
    assert undefined.outcome == "undecided"
    assert "τ = +0.50, p = 0.01 over 5 rates × 3 seed(s), 2 of them bounds" in defined.evidence
    assert "the design resolves |τ| ≥ 0.30" in defined.evidence
    assert defined.outcome == "holds"
    assert "cannot resolve a trend" in unresolvable.evidence and unresolvable.outcome == "undecided"


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


def _sweep_rows(values_by_lr: dict[float, list[float]], half_width: float = 0.05, dataset="mnist") -> pd.DataFrame:
    """Sweep rows of one (dataset, loss rule, stop): one row per learning rate and seed, interval ±half_width."""
    rows = [
        {"dataset": dataset, "rule": "loss", "stop": 0.1, "lr": lr, "seed": k, "v": v, "v_lo": v - half_width,
         "v_hi": v + half_width}
        for lr, values in values_by_lr.items()
        for k, v in enumerate(values)
    ]
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    ("values_by_lr", "direction", "end_point"),
    [
        ({0.01: [0.1, 0.12], 0.03: [0.2, 0.22], 0.1: [0.3, 0.32], 1.0: [0.6, 0.62]}, "up", "up"),
        ({0.01: [0.6, 0.62], 0.03: [0.4, 0.42], 0.1: [0.3, 0.32], 1.0: [0.1, 0.12]}, "down", "down"),
        ({0.01: [0.3, 0.32], 0.03: [0.9, 0.9], 0.1: [0.8, 0.8], 1.0: [0.31, 0.37]}, "unclear", "unclear"),
        # the ends overlap, yet every rate between rises: the rank trend over all rates sees it, the ends do not
        ({0.01: [0.3, 0.4], 0.03: [0.32, 0.42], 0.1: [0.34, 0.43], 1.0: [0.35, 0.45]}, "up", "unclear"),
        ({0.01: [0.3, 0.32]}, "unclear", None),  # one learning rate: no trend
    ],
)
def test_lr_trend_decides_over_every_rate_and_shows_the_ends(values_by_lr, direction, end_point):
    trend = claims.lr_trend(_sweep_rows(values_by_lr), "v", "v_lo", "v_hi")
    assert len(trend) == 1 and trend["direction"].iloc[0] == direction
    if len(values_by_lr) > 1:
        assert trend["end-point direction"].iloc[0] == end_point
        # two seeds: the bootstrap over seeds gives the range of their estimates (each resample of one seed twice
        # has probability 1/4 > 2.5%)
        assert trend["interval at lowest"].iloc[0] == pytest.approx(tuple(values_by_lr[0.01]))
        own = trend["within-seed intervals at lowest"].iloc[0]
        assert np.allclose(own, [(v - 0.05, v + 0.05) for v in values_by_lr[0.01]])
        assert trend["interval over"].iloc[0] == "seeds (2)"
        if direction != "unclear":  # every seed monotone: Kendall's τ within seeds is ±1, p the least possible
            assert trend["tau"].iloc[0] == (1.0 if direction == "up" else -1.0)
            assert trend["p"].iloc[0] == pytest.approx(2 / 24**2) == trend["smallest p"].iloc[0]


def test_lr_trend_end_points_are_over_the_seeds_not_averaged_interval_ends():
    # narrow intervals within each seed, scattered seeds: the averaged ends, [+0.29, +0.31] and [+0.49, +0.51],
    # would read "up"; the intervals over seeds, [0.1, 0.5] and [0.3, 0.7], overlap
    rows = _sweep_rows({0.01: [0.1, 0.3, 0.5], 1.0: [0.3, 0.5, 0.7]}, half_width=0.01)
    trend = claims.lr_trend(rows, "v", "v_lo", "v_hi").iloc[0]
    assert trend["interval at lowest"] == pytest.approx((0.1, 0.5))
    assert trend["interval at highest"] == pytest.approx((0.3, 0.7))
    assert trend["end-point direction"] == "unclear" and trend["interval over"] == "seeds (3)"
    # two rates: every seed rises, yet 2^3 arrangements cannot give p < 0.05
    assert trend["tau"] == 1.0 and trend["smallest p"] == pytest.approx(0.25) and trend["direction"] == "unclear"
    (check,) = claims.trend_checks(claims.lr_trend(rows, "v", "v_lo", "v_hi"), "q", expected="up")
    assert check.outcome == "undecided" and "(over seeds (3))" in check.evidence
    assert "cannot resolve a trend" in check.evidence


def test_lr_trend_with_one_seed_falls_back_to_its_interval_over_images():
    rows = _sweep_rows({0.01: [0.1], 1.0: [0.3, 0.32]})
    trend = claims.lr_trend(rows, "v", "v_lo", "v_hi").iloc[0]
    assert trend["interval at lowest"] == pytest.approx((0.05, 0.15))  # seed 0's own interval
    assert trend["interval at highest"] == pytest.approx((0.3, 0.32))  # over the two seeds
    assert trend["interval over"] == "lowest: images (1 seed); highest: seeds (2)"
    assert trend["end-point direction"] == "up"


def test_seed_interval_against_a_hand_computation():
    # three seeds: every resample of one seed three times has probability 1/27 > 2.5%, so the 95% interval is the
    # range of the estimates
    assert claims.seed_interval([0.4, 0.1, 0.7]) == pytest.approx((0.1, 0.7))
    # four seeds (0, 1, 2, 7), 4^4 = 256 equally likely resamples; by their sum: 0 (1 way), 1 (4 ways: 0,0,0,1),
    # 2 (4 + 6 ways: 0,0,0,2 and 0,0,1,1): 15 ≥ 2.5% × 256 = 6.4 first at sum 2 → lower end 2/4 = 0.5; from the top,
    # 28 (1 way), 23 (4 ways), 22 (4 ways): P(sum > 22) = 5/256 ≤ 2.5% < P(sum > 21) = 9/256 → upper end 22/4 = 5.5
    assert claims.seed_interval([0.0, 1.0, 2.0, 7.0]) == pytest.approx((0.5, 5.5))
    assert claims.seed_interval([0.0, 1.0, 2.0, 7.0, np.nan]) == pytest.approx((0.5, 5.5))  # NaN dropped
    assert claims.seed_interval([0.3]) == (0.3, 0.3)
    assert all(np.isnan(claims.seed_interval([])))
    # beyond the exact enumeration: random resamples, close to the normal approximation for many seeds
    values = np.linspace(0.0, 1.0, 40)
    lo, hi = claims.seed_interval(values)
    half = 1.96 * values.std() / np.sqrt(len(values))
    assert lo == pytest.approx(0.5 - half, abs=0.02) and hi == pytest.approx(0.5 + half, abs=0.02)
    assert [claims.interval_over(n) for n in (3, 1, 0)] == ["seeds (3)", "images (1 seed)", "none (0 seeds)"]


@pytest.mark.parametrize(
    ("direction", "expected", "outcome"),
    [("up", "up", "holds"), ("down", "up", "contradicted"), ("unclear", "up", "undecided"),
     ("down", "down", "holds"), ("up", "down", "contradicted")],
)
def test_trend_checks_outcomes(direction, expected, outcome):
    trend = pd.DataFrame([_trend_row(rule="images", stop=1000, direction=direction)])
    (check,) = claims.trend_checks(trend, "q", expected=expected)
    assert check.outcome == outcome and "1,000 images seen" in check.claim
    with pytest.raises(ValueError):
        claims.trend_checks(trend, "q", expected="sideways")


def _trends(directions_per_layer: dict[str, list[str]]) -> dict[str, pd.DataFrame]:
    return {
        layer: pd.DataFrame([_trend_row(stop=s, direction=d) for s, d in zip((0.4, 0.1), directions, strict=True)])
        for layer, directions in directions_per_layer.items()
    }


def test_domain_growth_checks_decide_the_input_and_the_share_of_representations():
    trends = _trends({"input": ["up", "down"], "hidden 1": ["up", "down"], "hidden 2": ["unclear", "unclear"],
                      "logits": ["down", "unclear"]})
    in_04, share_04, in_01, share_01 = claims.domain_growth_checks(trends, "input")
    assert (in_04.outcome, in_01.outcome) == ("holds", "contradicted")
    assert share_04.outcome == "holds"  # 2 of 4 go up: at least half
    assert share_01.outcome == "contradicted" and "0 of 4 go up, 2 go down" in share_01.evidence
    mostly_unclear = _trends({"input": ["unclear", "up"], "a": ["unclear", "up"], "b": ["unclear", "up"],
                              "c": ["down", "up"]})
    in_04, share_04, *_ = claims.domain_growth_checks(mostly_unclear, "input")
    assert (in_04.outcome, share_04.outcome) == ("undecided", "undecided")
    assert verdict(claims.domain_growth_checks(mostly_unclear, "input")) == "supported"  # 0.1 holds, 0.4 undecided


def _critical(xi, found, positive=True):
    """A crossing at cosine ``xi`` (None: the curve never crosses) on ten bins over [0, 1] of 50 pairs each; a curve
    without a crossing is positive throughout, or, with ``positive=False``, nowhere."""
    from repro.stiffness.distance import CriticalDistance, DistanceProfile

    edges = np.linspace(0.0, 1.0, 11)
    centers = (edges[:-1] + edges[1:]) / 2
    mean = centers - xi if xi is not None else np.full(10, 0.5 if positive else -0.5)
    profile = DistanceProfile(edges, centers, mean, np.full(10, 50), np.full(10, 0.01))
    ci = (np.nan, np.nan) if xi is None else (xi - 0.05, xi + 0.05)
    return CriticalDistance(xi, ci, found, profile)


def test_distance_checks_on_constructed_crossings():
    from repro.experiments.distance import EUCLID, DistanceAnalysis

    critical = {
        "input": _critical(None, 0.0, positive=False),  # never positive: no domain to cross from, contradicted
        EUCLID: _critical(None, 0.0),  # not a dot-product representation: not checked
        "hidden 1": _critical(0.2, 1.0),
        "hidden 2": _critical(0.4, 0.9),
        "hidden 3": _critical(0.6, 0.5),  # crossing, but in only half the replicates: undecided
        "logits": _critical(0.7, 0.95),
    }
    checks = claims.distance_checks(DistanceAnalysis(critical, 0.0))
    assert [c.claim for c in checks][:1] == ["input: stiffness crosses zero"] and len(checks) == 6
    assert [c.outcome for c in checks] == ["contradicted", "holds", "holds", "undecided", "holds", "holds"]
    assert "ρ(depth, domain size) = -1.00 over 3" in checks[-1].evidence  # 1 − ξ falls with depth
    beyond = claims.distance_checks(DistanceAnalysis({"input": _critical(None, 0.0)}, 0.0))[0]
    assert beyond.outcome == "undecided"  # positive over the whole measured range: a bound, not a contradiction
    assert "domain ≥ 0.950" in beyond.evidence
    grows = {f"hidden {k}": _critical(xi, 1.0) for k, xi in enumerate((0.6, 0.4, 0.2), start=1)}
    assert claims.distance_checks(DistanceAnalysis(grows, 0.0))[-1].outcome == "contradicted"
    too_few = {"hidden 1": _critical(0.6, 1.0), "hidden 2": _critical(None, 0.1)}
    assert claims.distance_checks(DistanceAnalysis(too_few, 0.0))[-1].outcome == "undecided"


def _harmonics(xi, acc=0.9, half_width=0.02):
    """Rows of constructed degrees, every one resolved (the oracle's interval holds the theory crossing)."""
    xi = np.asarray(xi, dtype=float)
    return pd.DataFrame({"degree": np.arange(1, len(xi) + 1), "xi": xi, "xi_lo": xi - half_width,
                         "xi_hi": xi + half_width, "val_acc": acc, "theory_xi": 0.5, "oracle_lo": 0.45,
                         "oracle_hi": 0.55, "oracle_found": 1.0})


@pytest.mark.parametrize(
    ("xi", "acc", "outcomes", "expected"),
    [
        ([0.2, 0.4, 0.6, 0.8], 0.9, ["holds", "holds", "holds", "holds"], "reproduced"),  # 1 − ξ shrinks
        ([0.8, 0.6, 0.4, 0.2], 0.9, ["contradicted", "contradicted", "holds", "holds"], "not reproduced"),
        ([0.5, 0.6, 0.4, 0.51], 0.9, ["undecided", "undecided", "holds", "holds"], "inconclusive"),
        ([0.2, 0.4, np.nan, np.nan], 0.9, ["undecided", "holds", "holds", "holds"], "supported"),  # ρ: too few
        ([0.2, np.nan, np.nan, np.nan], 0.9, ["undecided", "undecided", "holds", "holds"], "inconclusive"),
        ([0.2, 0.4, 0.6, 0.8], 0.5, ["holds", "holds", "holds", "does not hold"], "inconclusive"),  # did not learn
    ],
)
def test_harmonics_checks_on_constructed_rows(xi, acc, outcomes, expected):
    from repro.claims.verdicts import shown_outcome

    checks = claims.harmonics_checks(_harmonics(xi, acc), bin_width=0.1)
    assert [shown_outcome(c) for c in checks] == outcomes and checks[-1].precondition and checks[-2].precondition
    assert verdict(checks) == expected


def test_harmonics_ends_are_degrees_whose_measured_curve_crosses():
    """The highest degree's curve does not cross (ξ NaN) although its bootstrap replicates give an interval: the
    end-to-end part compares the highest degree that crosses, not that interval."""
    rows = _harmonics([0.2, 0.4, 0.6, 0.8])
    rows.loc[3, ["xi", "xi_lo", "xi_hi"]] = [np.nan, 0.05, 0.1]  # the interval alone would put it above degree 1
    checks = claims.harmonics_checks(rows, bin_width=0.1)
    assert [c.outcome for c in checks[:2]] == ["holds", "holds"]
    assert "degree 3: [0.380, 0.420]" in checks[1].evidence and "degree 4" not in checks[1].evidence


def _record(chapter, verdict_, headline=None):
    payload = {"chapter": chapter, "verdict": verdict_, "checks": [], "headline": headline or {}}
    return claims.ChapterRecord.from_results(payload)


def test_the_tally_counts_the_paper_claims_per_version_and_not_the_books_questions():
    records = [
        _record("fig02", "not reproduced"),
        _record("pairs", "reproduced"),
        _record("fig10", "inconclusive"),
        _record("critical-length", "partly reproduced",
                {"v1_verdict": "inconclusive", "v3_verdict": "not reproduced"}),
        _record("spherical-harmonics", "not reproduced"),
    ]
    chapters = ["fig02", "fig03", "pairs", "fig10", "critical-length", "spherical-harmonics"]
    tally = claims.tally(records, chapters).set_index("version")
    assert tally.loc["v1"].to_dict() == {"claims": 4, "reproduced": 0, "supported": 0, "partly reproduced": 0,
                                         "not reproduced": 1, "inconclusive": 2, "no results file": 1}
    assert tally.loc["v3"].to_dict() == {"claims": 3, "reproduced": 1, "supported": 0, "partly reproduced": 0,
                                         "not reproduced": 2, "inconclusive": 0, "no results file": 0}
    table = claims.claims_table(records, chapters).set_index("chapter")
    assert "spherical-harmonics" not in table.index and len(table) == 5
    assert table.loc["critical-length", "versions"] == "v1: inconclusive, v3: not reproduced"
    questions = claims.questions_table(records, chapters)
    assert questions["chapter"].tolist() == ["spherical-harmonics"]
    assert questions["verdict"].tolist() == ["not reproduced"] and "versions" not in questions


def test_findings_put_each_claim_beside_the_other_profiles_verdict():
    paper = [
        _record("fig02", "partly reproduced"),
        _record("critical-length", "supported", {"v1_verdict": "supported", "v3_verdict": "inconclusive"}),
    ]
    quick = [_record("fig02", "not reproduced")]
    table = claims.findings_table(paper, quick, ["fig02", "critical-length", "spherical-harmonics"], "quick")
    assert table["claim"].tolist() == ["fig02 (v1)", "fig02 (v3)", "critical-length (v1)", "critical-length (v3)"]
    row = table.set_index("claim").loc["fig02 (v1)"]
    assert row["verdict"].startswith("partly reproduced") and row["verdict, quick"].startswith("not reproduced")
    assert table.set_index("claim").loc["critical-length (v3)", "verdict, quick"] == "no results file"
    assert table.set_index("claim").loc["critical-length (v3)", "verdict"].startswith("inconclusive")


def test_every_paper_claim_names_its_versions_and_the_books_questions_are_apart():
    assert set(claims.PAPER_VERSIONS) == set(claims.PAPER_STATEMENTS)
    assert all(set(v) <= set(claims.VERSIONS) and v for v in claims.PAPER_VERSIONS.values())
    assert not set(claims.BOOK_QUESTIONS) & set(claims.PAPER_STATEMENTS)
    assert "spherical-harmonics" in claims.BOOK_QUESTIONS


def _ranges(rows: pd.DataFrame, layer: str, range_xi: float, starts_positive: bool = True) -> pd.DataFrame:
    """What :func:`repro.experiments.domain_ranges.stop_domain_ranges` gives for the sweep rows of
    :func:`_crossing_rows`: every curve measured out to ``range_xi``; it crosses where the row has a ξ."""
    return rows[["dataset", "lr", "seed", "rule", "stop"]].assign(
        layer=layer, range_xi=range_xi, starts_positive=starts_positive, crosses=rows[f"xi[{layer}]"].notna()
    )


def test_a_curve_that_never_crosses_is_a_bound_at_its_measured_range():
    from repro.analysis.sweep_domains import censored_domains, domain_table
    from repro.book.tables import sweep_crossing_table

    rows = _crossing_rows({1e-3: [0.8, 0.7, 0.75], 1e-2: [0.6, np.nan, np.nan]}, "input", found=0.6)
    table = censored_domains(domain_table(rows, ["input"]), _ranges(rows, "input", range_xi=0.05))
    assert table["censored"].tolist() == [False] * 4 + [True, True]
    assert table["size"].tolist() == pytest.approx([0.2, 0.3, 0.25, 0.4, 0.95, 0.95])  # bound: 1 − 0.05
    assert table.loc[4, "size_hi"] == np.inf and table.loc[4, "xi"] == pytest.approx(0.05)
    assert np.isneginf(table.loc[4, "xi_lo"])  # on the cosine axis the crossing is at most the range's end
    cells = sweep_crossing_table(table).set_index("lr")["input"]
    assert cells[1e-3] == "3 cross (3 seeds); 60% of replicates cross"
    assert cells[1e-2] == "1 cross, 2 beyond ≥ 0.95 (3 seeds); 60% of replicates cross"
    cell = claims.xi_and_size(table).set_index("lr")
    assert cell.loc[1e-2, "bounds"] == 2 and cell.loc[1e-3, "bounds"] == 0


def test_a_curve_not_positive_at_its_first_distance_has_no_domain():
    from repro.analysis.sweep_domains import censored_domains, domain_table

    rows = _crossing_rows({1e-3: [np.nan]}, "input")
    table = censored_domains(domain_table(rows, ["input"]), _ranges(rows, "input", 0.1, starts_positive=False))
    assert not table.loc[0, "censored"] and table.loc[0, "no_domain"] and table.loc[0, "size"] == 0


def test_ranges_from_another_sweep_are_an_error():
    from repro.analysis.sweep_domains import censored_domains, domain_table

    rows = _crossing_rows({1e-3: [0.8, np.nan]}, "input")
    wrong = _ranges(rows, "input", 0.1).assign(crosses=[False, True])
    with pytest.raises(ValueError, match="disagree"):
        censored_domains(domain_table(rows, ["input"]), wrong)


def test_domains_beyond_the_range_at_high_rates_count_as_larger():
    """v1 at MNIST loss 0.2 in the paper run: only the lowest rate crosses, every higher rate's domain exceeds the
    measurable range. Blanking the bounds leaves one rate and no trend; as bounds, the trend is up."""
    from repro.analysis.sweep_domains import censored_domains, domain_table

    lrs = [1e-4, 3e-4, 1e-3, 3e-3]
    rows = _crossing_rows({lr: [0.6, 0.62, 0.61] if lr == 1e-4 else [np.nan] * 3 for lr in lrs}, "input")
    table = censored_domains(domain_table(rows, ["input"]), _ranges(rows, "input", range_xi=0.1))
    (check,) = claims.version_checks(claims.V1_READING, table)
    assert check.outcome == "holds" and "9 of them bounds" in check.evidence
    blanked = table[~table["censored"]]
    (check,) = claims.version_checks(claims.V1_READING, blanked.drop(columns="censored"))
    assert check.outcome == "undecided"


def test_random_labels_structure_is_a_share_of_cells_not_the_largest_cell():
    """One positive cell of 90 (a few pairs' mean in a near-constant network) leaves 'no positive between-class
    structure' holding; positive cells beyond one in ten contradict it."""
    K = 10
    one_cell = np.full((K, K), -1.0)
    one_cell[0, 1] = one_cell[1, 0] = 1.0  # 2 of 90 off-diagonal entries
    many = np.full((K, K), -1.0)
    many[:4, :4] = 1.0  # 12 of 90 off-diagonal entries above 0
    cases = (("one", one_cell), ("many", many))
    ends = {name: [snapshot(0, 1.0, -1.0), snapshot(3, 0.02, -0.9, C)] for name, C in cases}
    assert [c.outcome for c in claims.random_label_checks(ends["one"])[:2]] == ["holds", "holds"]
    assert [c.outcome for c in claims.random_label_checks(ends["many"])[:2]] == ["holds", "contradicted"]


def _crossing_rows(
    xi_by_lr: dict[float, list[float]], layer: str, rule: str = "loss", found: float = 1.0
) -> pd.DataFrame:
    """Sweep rows of one dataset and stop with raw crossings ``xi[<layer>]`` (interval ±0.01) per learning rate, one
    row per seed (NaN: no crossing)."""
    return pd.DataFrame(
        [
            {"dataset": "mnist", "lr": lr, "seed": k, "rule": rule, "stop": 0.1, f"xi[{layer}]": v,
             f"xi_lo[{layer}]": v - 0.01, f"xi_hi[{layer}]": v + 0.01, f"xi_found[{layer}]": found}
            for lr, values in xi_by_lr.items()
            for k, v in enumerate(values)
        ]
    )


def test_raw_xi_and_domain_size_convert_both_ways():
    from repro.analysis.sweep_domains import size_from_xi, xi_from_size
    from repro.experiments.distance import EUCLID

    assert size_from_xi(0.8, 0.75, 0.9, "input") == pytest.approx((0.2, 0.1, 0.25))  # cosine: 1 − ξ, ends swap
    assert xi_from_size(0.2, 0.1, 0.25, "input") == pytest.approx((0.8, 0.75, 0.9))
    assert size_from_xi(3.0, 2.5, 3.5, EUCLID) == (3.0, 2.5, 3.5)  # Euclidean: ξ is the size
    assert xi_from_size(3.0, 2.5, 3.5, EUCLID) == (3.0, 2.5, 3.5)
    xi = np.array([0.9, -0.2, 0.5])
    assert xi_from_size(*size_from_xi(xi, xi - 0.1, xi + 0.1, "fc1"), "fc1")[0] == pytest.approx(xi)


def test_domain_table_keeps_the_raw_xi_beside_the_size():
    from repro.analysis.sweep_domains import domain_table

    rows = _crossing_rows({1e-3: [0.8, 0.7], 1e-2: [0.6, np.nan, np.nan]}, "input")
    table = domain_table(rows, ["input"])
    assert table["xi"].tolist()[:3] == pytest.approx([0.8, 0.7, 0.6])
    assert table["size"].tolist()[:3] == pytest.approx([0.2, 0.3, 0.4])
    assert table.loc[0, ["size_lo", "size_hi"]].tolist() == pytest.approx([0.19, 0.21])


def test_xi_and_size_give_both_quantities_with_seed_level_intervals():
    from repro.analysis.sweep_domains import domain_table

    table = domain_table(_crossing_rows({1e-3: [0.8, 0.7, 0.75], 1e-2: [0.6, np.nan, np.nan]}, "input"), ["input"])
    cells = claims.xi_and_size(table).set_index("lr")
    assert cells.loc[1e-3, "xi"] == pytest.approx(0.75) and cells.loc[1e-3, "size"] == pytest.approx(0.25)
    assert cells.loc[1e-3, "xi interval"] == pytest.approx((0.7, 0.8))  # three seeds: their range
    assert cells.loc[1e-3, "size interval"] == pytest.approx((0.2, 0.3))
    assert cells.loc[1e-3, "interval over"] == "seeds (3)" and cells.loc[1e-3, "bounds"] == 0


@pytest.mark.parametrize(
    ("xi_by_lr", "outcome"),
    [
        ({1e-3: [0.5, 0.52, 0.51], 3e-3: [0.6, 0.6, 0.6], 1e-2: [0.7, 0.7, 0.7], 1e-1: [0.8, 0.82, 0.81]},
         "contradicted"),  # raw cosine ξ rises: domain shrinks
        ({1e-3: [0.8, 0.82, 0.81], 3e-3: [0.7, 0.7, 0.7], 1e-2: [0.6, 0.6, 0.6], 1e-1: [0.5, 0.52, 0.51]},
         "holds"),  # raw cosine ξ falls: domain grows
        ({1e-3: [0.5, 0.8, 0.6], 3e-3: [0.6, 0.7, 0.5], 1e-2: [0.7, 0.5, 0.6], 1e-1: [0.55, 0.6, 0.7]},
         "undecided"),  # no order within the seeds
    ],
)
def test_v1_is_judged_on_the_domain_size_not_the_raw_cosine(xi_by_lr, outcome):
    from repro.analysis.sweep_domains import domain_table, raw_direction

    found = domain_table(_crossing_rows(xi_by_lr, "input"), ["input"])
    assert [c.outcome for c in claims.version_checks(claims.V1_READING, found)] == [outcome]
    raw = claims.lr_trend(found, "xi", "xi_lo", "xi_hi").iloc[0]["direction"]
    size = claims.lr_trend(found, "size", "size_lo", "size_hi").iloc[0]["direction"]
    assert raw == raw_direction(size, "input")


@pytest.mark.parametrize(
    ("xi_by_lr", "outcome"),
    [
        ({1e-3: [30.0, 31.0, 30.5], 1e-2: [25.0] * 3, 3e-2: [22.0] * 3, 1e-1: [20.0, 21.0, 20.5]}, "holds"),
        ({1e-3: [20.0, 21.0, 20.5], 1e-2: [25.0] * 3, 3e-2: [28.0] * 3, 1e-1: [30.0, 31.0, 30.5]}, "contradicted"),
    ],
)
def test_v3_is_judged_on_the_euclidean_critical_length(xi_by_lr, outcome):
    from repro.analysis.sweep_domains import domain_table, raw_direction
    from repro.experiments.distance import EUCLID

    found = domain_table(_crossing_rows(xi_by_lr, EUCLID, rule="images"), [EUCLID])
    assert [c.outcome for c in claims.version_checks(claims.V3_READING, found)] == [outcome]
    assert claims.version_checks(claims.V1_READING, found) == []  # v1's reading is on the dot-product distance
    assert raw_direction("down", EUCLID) == "down" and raw_direction("up", "input") == "down"


def _stops(accuracies: dict[tuple[float, str, float], float | None]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sweep rows (one seed) and their held-out accuracies; ``None``: a target never reached (no stop, no row of
    accuracy)."""
    keys = [{"dataset": "d", "lr": lr, "seed": 0, "rule": rule, "stop": stop} for lr, rule, stop in accuracies]
    rows = pd.DataFrame(
        [k | {"images_seen": np.nan if acc is None else 1000.0, "between": 0.1} for k, acc in
         zip(keys, accuracies.values(), strict=True)]
    )  # fmt: skip
    acc = pd.DataFrame(
        [k | {"held_out_accuracy": a, "held_out_loss": 0.5, "chance": 0.1} for k, a in
         zip(keys, accuracies.values(), strict=True) if a is not None]
    )  # fmt: skip
    return rows, acc


def test_split_trained_leaves_out_a_collapsed_network_and_keeps_missed_targets():
    rows, acc = _stops({(1e-3, "loss", 0.4): 0.9, (1e-2, "loss", 0.4): 0.55, (1e-2, "images", 300_000.0): 0.18,
                        (1e-2, "loss", 0.1): None})  # fmt: skip
    kept, untrained = claims.split_trained(rows, acc)
    assert claims.trained_accuracy(0.1) == pytest.approx(0.55)
    assert list(zip(untrained["lr"], untrained["rule"], strict=True)) == [(1e-2, "images")]
    assert untrained["held_out_accuracy"].tolist() == [0.18]
    assert len(kept) == 3 and kept["images_seen"].isna().sum() == 1  # halfway exactly is trained; a miss stays
    assert kept.loc[kept["images_seen"].isna(), "held_out_accuracy"].isna().all()


def test_split_trained_refuses_a_stop_without_its_accuracy():
    rows, acc = _stops({(1e-3, "loss", 0.4): 0.9, (1e-2, "loss", 0.4): 0.8})
    with pytest.raises(ValueError, match="no held-out accuracy for 1 stop"):
        claims.split_trained(rows, acc.iloc[:1])


def test_stops_left_out_are_listed_in_words():
    from repro.book.tables import untrained_stops

    assert claims.stop_label("loss", 0.2) == "training loss 0.2"
    assert claims.stop_label("images", 300_000.0) == "300,000 images seen"
    rows, acc = _stops({(1e-3, "loss", 0.4): 0.9, (1e-2, "images", 300_000.0): 0.18, (1e-2, "loss", 0.1): None})
    text = untrained_stops(*claims.split_trained(rows, acc))
    assert text.startswith("Stops judged: 2; the least held-out accuracy among those kept: 0.900.")
    assert "Left out as untrained (1)" in text
    assert "| d | 0.01 | 0 | 300,000 images seen | 0.180 | 0.500 | 0.100 |" in text
    kept, none = claims.split_trained(*_stops({(1e-3, "loss", 0.4): 0.9}))
    assert untrained_stops(kept, none).endswith("No stop was left out as untrained.")


@pytest.mark.parametrize(
    "module, rule, constants, now, changed",
    [
        ("overfitting", "overfitting_rule", {"OVERFIT_RISE": 0.25, "NEAR_ZERO": 0.2},
         ["rises at least 10% above", "within ±0.1 and"], ["rises at least 25% above", "within ±0.2 and"]),
        ("overfitting", "collapse_rule", {"COLLAPSE_DROP": 0.3}, ["by at least 0.2 from"], ["by at least 0.3 from"]),
        ("random_labels", "random_label_rule", {"MAX_POSITIVE_SHARE": 0.2},
         ["at most one in ten off-diagonal cells"], ["at most one in five off-diagonal cells"]),
        ("hierarchy", "hierarchy_rule", {"PERMUTATION_ALPHA": 0.01},
         ["p < 0.05", "p > 0.95", "lowest 5% of"], ["p < 0.01", "p > 0.99", "lowest 1% of"]),
        ("distance", "distance_rule",
         {"CROSSING_FOUND": 0.9, "MAX_RHO": -0.3, "MIN_RANKED": 4, "MIN_BIN_PAIRS": 20},
         ["at least 80% of", "(bins of at least 10 pairs)", "size ≤ −0.5 *holds*, ≥ +0.5 is",
          "fewer than three hidden"],
         ["at least 90% of", "(bins of at least 20 pairs)", "size ≤ −0.3 *holds*, ≥ +0.3 is",
          "fewer than four hidden"]),
        ("distance_words", "fig09_rule", {"MIN_BIN_PAIRS": 20}, ["bins with at least 10 pairs"],
         ["bins with at least 20 pairs"]),
        ("distance", "harmonics_rule", {"MAX_RHO": -0.4, "MIN_RESOLVED_DEGREES": 5, "LEARNED_ACCURACY": 0.7},
         ["is ≤ −0.5 (domains", "≥ +0.5 is", "at least three degrees", "accuracy above 0.6 ("],
         ["is ≤ −0.4 (domains", "≥ +0.4 is", "at least five degrees", "accuracy above 0.7 ("]),
    ],
)  # fmt: skip
def test_a_rule_quotes_the_thresholds_its_checks_use(monkeypatch, module, rule, constants, now, changed):
    import importlib

    mod = importlib.import_module(f"repro.claims.{module}")
    text = getattr(mod, rule)()
    assert all(part in text for part in now), text
    for name, value in constants.items():
        monkeypatch.setattr(mod, name, value)
    text = getattr(mod, rule)()
    assert all(part in text for part in changed), text


def test_the_overfitting_precondition_reads_its_rise_from_the_constant(monkeypatch):
    from repro.claims import overfitting

    flat = history([1.0, 0.5, 0.54, 0.53], [0.5] * 4, [0.0] * 4)  # rises 8% after its minimum
    assert claims.overfitting_onset(flat) is None
    assert "never rose 10% above" in claims.overfitting_checks(flat)[0].evidence
    monkeypatch.setattr(overfitting, "OVERFIT_RISE", 0.05)
    assert claims.overfitting_onset(flat) is not None
    assert claims.overfitting_checks(flat)[0].claim.endswith("(validation loss rises ≥ 5% after its minimum)")


def test_rule_wording_of_numbers():
    from repro.claims.wording import count_word, number

    assert [count_word(n) for n in (0, 3, 10, 12)] == ["zero", "three", "ten", "12"]
    assert (number(-0.5), number(0.5, sign=True), number(0.25)) == ("−0.5", "+0.5", "0.25")
    with pytest.raises(ValueError):
        count_word(2.5)


def test_hierarchy_claim_on_substitute_data_is_inconclusive_by_its_precondition():
    """A claim about CIFAR-100's super-classes is not contradicted by other hierarchies: without a CIFAR-100 run
    it is inconclusive, however the substitutes come out; with one, only its parts count."""
    anti = HierarchyContrast(0.1, 0.3, -0.2, (-0.3, -0.1), 0.99, 100, 1000, 0.95)
    block = HierarchyContrast(0.5, 0.3, 0.2, (0.1, 0.3), 0.001, 100, 1000, 0.95)
    substitutes = claims.hierarchy_claim_checks([("fashion_mnist", anti), ("cifar10", anti)])
    assert [c.precondition for c in substitutes] == [True] and not substitutes[0].passed
    assert "CIFAR-100 was not among them" in substitutes[0].evidence
    assert verdict(substitutes) == "inconclusive"
    paper = claims.hierarchy_claim_checks([("fashion_mnist", anti), ("cifar100", block)])
    assert [c.outcome for c in paper] == ["holds", "holds", "holds"] and verdict(paper) == "reproduced"
    assert "cifar100:" in paper[1].claim
