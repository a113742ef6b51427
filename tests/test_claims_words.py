"""The paper's words for each claim part, and the parts added from them, on hand-built measurements."""

import numpy as np
import pandas as pd
import pytest

from repro import claims
from repro.experiments.distance import EUCLID, DistanceAnalysis
from repro.stiffness.distance import CriticalDistance, DistanceProfile


def _profile(centres, means, counts=None) -> DistanceProfile:
    centres = np.asarray(centres, dtype=float)
    width = centres[1] - centres[0]
    edges = np.append(centres - width / 2, centres[-1] + width / 2)
    counts = np.full(len(centres), 50) if counts is None else np.asarray(counts)
    return DistanceProfile(edges, centres, np.asarray(means, dtype=float), counts, np.full(len(centres), 0.01))


def _analysis(input_means, euclid_means=None, counts=None, xi=0.4) -> DistanceAnalysis:
    """An input space with bins at cosines −0.8 … 0.8 (distance 1 − cos grows to the left) and, optionally, the
    Euclidean input space with bins at distances 1 … 5."""
    cosines = np.linspace(-0.8, 0.8, len(input_means))
    critical = {"input": CriticalDistance(xi, (xi - 0.05, xi + 0.05), 1.0, _profile(cosines, input_means, counts))}
    critical["hidden1"] = CriticalDistance(0.5, (0.45, 0.55), 1.0, _profile(cosines, input_means))
    if euclid_means is not None:
        critical[EUCLID] = CriticalDistance(3.0, (2.5, 3.5), 1.0, _profile(np.linspace(1, 5, 5), euclid_means))
    return DistanceAnalysis(critical, 0.0)


def test_input_decay_holds_when_stiffness_falls_with_the_dot_product_distance():
    """Stiffness rising with the cosine is stiffness falling with distance; the Euclidean reading is shown."""
    check = claims.input_decay_check(_analysis([-0.3, -0.1, 0.0, 0.2, 0.6], euclid_means=[0.5, 0.3, 0.1, 0, -0.1]))
    assert check.outcome == "holds"
    assert "ρ(1 − cos, mean stiffness) = -1.00 over 5 bins" in check.evidence
    assert "Euclidean distance: ρ = -1.00 over 5 bins" in check.evidence


def test_input_decay_is_contradicted_when_stiffness_grows_with_distance_and_undecided_when_flat_or_sparse():
    grows = claims.input_decay_check(_analysis([0.6, 0.2, 0.0, -0.1, -0.3]))
    assert grows.outcome == "contradicted"
    mixed = claims.input_decay_check(_analysis([0.1, -0.2, 0.3, -0.1, 0.0]))
    assert mixed.outcome == "undecided"
    sparse = claims.input_decay_check(_analysis([-0.3, -0.1, 0.0, 0.2, 0.6], counts=[50, 3, 3, 3, 50]))
    assert sparse.outcome == "undecided" and "over 2 bins" in sparse.evidence


def test_fig09_versions_split_the_parts():
    crossing = claims.distance_checks(_analysis([-0.3, -0.1, 0.0, 0.2, 0.6]))
    checks = claims.fig09_checks(crossing, _analysis([-0.3, -0.1, 0.0, 0.2, 0.6]))
    assert [c.claim for c in checks[:2]] == ["input: stiffness crosses zero", "input: stiffness decays with distance"]
    assert len(checks) == len(crossing) + 1
    by_version = claims.fig09_version_checks(checks)
    assert by_version["v1"] == checks
    assert [c.claim for c in by_version["v3"]] == [c.claim for c in checks[:2]]
    assert "fig09" in claims.PAPER_VERSIONS and "v3" in claims.PAPER_VERSIONS["fig09"]


@pytest.mark.parametrize(
    ("quotes", "rule"),
    [
        (lambda: claims.DISTANCE_QUOTES, lambda: claims.fig09_rule()),
        (lambda: claims.HARMONICS_QUOTES, lambda: claims.harmonics_prompt()),
        (lambda: claims.RANDOM_LABEL_QUOTES, lambda: claims.random_label_rule()),
        (lambda: claims.OVERFITTING_QUOTES, lambda: claims.overfitting_rule()),
        (lambda: claims.DEFINITION_QUOTES, lambda: claims.definition_rule()),
        (lambda: claims.PAIRS_QUOTES, lambda: claims.pairs_rule()),
        (lambda: claims.HIERARCHY_QUOTES, lambda: claims.hierarchy_rule()),
    ],
    ids=["fig09", "harmonics", "fig04", "fig02", "definition", "pairs", "fig07"],
)
def test_every_quote_is_shown_in_its_rule(quotes, rule):
    text = rule()
    assert quotes() and all(q in text for q in quotes().values())


def test_the_textbook_fall_is_called_partial_unless_every_seed_ends_near_zero():
    """Item 7 of issue 26: a fall of ≥ 0.2 with textbook float32 gradients is a finding, but the paper's collapse
    asks the end within ±0.1 of 0; the sentence says which."""
    from types import SimpleNamespace

    from repro.analysis.overfitting import textbook_ends_sentence
    from repro.experiments.history import TEXTBOOK_NUMERICS, numerics_column, stiffness_column

    def run(end32: float):
        row = {stiffness_column("within"): 1.0, numerics_column("textbook32", "zero"): 0.1,
               numerics_column("textbook32", "flip"): 0.2}
        ends = zip(TEXTBOOK_NUMERICS, (end32, 0.98), strict=True)
        row |= {stiffness_column("within", numerics=n): v for n, v in ends}
        return SimpleNamespace(history=pd.DataFrame([row]))

    partial = textbook_ends_sentence([run(0.76), run(0.05)], [0, 1], "yes")
    assert "partial fall at most" in partial and "float32 textbook +0.76" in partial
    full = textbook_ends_sentence([run(0.05), run(-0.08)], [0, 1], "yes")
    assert "it reaches the paper's collapse" in full


def _pairs_snapshot(within: dict[str, float], between: dict[str, float]):
    from repro.experiments.class_stiffness import StiffnessSnapshot
    from repro.stiffness import ClassSummary

    def summ(w: float, b: float) -> ClassSummary:
        return ClassSummary(w, b, 0.01, 0.01, (w - 0.02, w + 0.02), (b - 0.02, b + 0.02), 100, 0.95)

    C = np.eye(2)
    val = {m: summ(within["val-val"], between["val-val"]) for m in ("sign", "cos")}
    pairs = {k: {m: (C, summ(within[k], between[k])) for m in ("sign", "cos")} for k in ("train-train", "train-val")}
    return StiffnessSnapshot(10, {"sign": C, "cos": C}, val, C, np.arange(2), 0.0, np.zeros(2), pairs=pairs)


def test_pair_checks_judge_each_kind_of_pair_and_metric():
    kinds = ("val-val", "train-train", "train-val")
    good = _pairs_snapshot(dict.fromkeys(kinds, 0.8), dict.fromkeys(kinds, 0.2))
    checks = claims.pair_checks(good)
    assert len(checks) == 6 and all(c.outcome == "holds" for c in checks)
    mixed = _pairs_snapshot({"val-val": 0.1, "train-train": 0.8, "train-val": 0.21},
                            {"val-val": 0.5, "train-train": 0.2, "train-val": 0.2})
    outcomes = {c.claim: c.outcome for c in claims.pair_checks(mixed)}
    assert outcomes["val-val pairs, sign: within > between"] == "contradicted"
    assert outcomes["train-train pairs, cos: within > between"] == "holds"
    assert outcomes["train-val pairs, sign: within > between"] == "undecided"
    assert claims.verdict(claims.pair_checks(mixed)) == "partly reproduced"
