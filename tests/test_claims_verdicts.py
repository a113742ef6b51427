"""The book's verdict rule: each part holds, is contradicted or is undecided; one rule makes the verdict."""

import itertools
from dataclasses import replace

import pytest

from repro.claims import pool_seeds
from repro.claims.verdicts import (
    CONTRADICTED,
    HOLDS,
    INCONCLUSIVE,
    NOT_REPRODUCED,
    PARTLY,
    REPRODUCED,
    SUPPORTED,
    UNDECIDED,
    VERDICT_ORDER,
    VERDICT_RULE,
    VERDICTS,
    Check,
    check_above,
    check_below,
    check_inside,
    check_separated,
    checks_table,
    decide,
    outcome_counts,
    verdict,
)


@pytest.mark.parametrize(
    ("ci", "above", "below"),
    [
        ((0.1, 0.3), HOLDS, CONTRADICTED),  # wholly above 0
        ((-0.3, -0.1), CONTRADICTED, HOLDS),  # wholly below 0
        ((-0.1, 0.3), UNDECIDED, UNDECIDED),  # overlaps 0
        ((0.0, 0.3), UNDECIDED, UNDECIDED),  # touches 0: not separated
        ((float("nan"), float("nan")), UNDECIDED, UNDECIDED),  # no interval: cannot tell
    ],
)
def test_interval_checks_have_three_outcomes(ci, above, below):
    up, down = check_above("c", "x", ci, 0.0), check_below("c", "x", ci, 0.0)
    assert (up.outcome, down.outcome) == (above, below)
    assert up.passed == (above == HOLDS) and down.passed == (below == HOLDS)


def test_a_point_check_is_holds_or_contradicted():
    assert check_inside("c", "x", 0.05, -0.1, 0.1).outcome == HOLDS
    assert check_inside("c", "x", 0.5, -0.1, 0.1).outcome == CONTRADICTED
    assert check_inside("c", "x", -0.5, -0.1, 0.1).outcome == CONTRADICTED
    assert "[+0.100, +0.300]" in check_above("c", "x", (0.1, 0.3), 0.0).evidence


@pytest.mark.parametrize(
    ("ci", "expected", "outcome"),
    [
        ((0.5, 0.6), "above", HOLDS),
        ((0.5, 0.6), "below", CONTRADICTED),
        ((0.0, 0.1), "above", CONTRADICTED),
        ((0.0, 0.1), "below", HOLDS),
        ((0.15, 0.35), "above", UNDECIDED),  # overlaps the reference [0.2, 0.4]
        ((0.15, 0.35), "below", UNDECIDED),
    ],
)
def test_two_intervals_are_compared_by_separation(ci, expected, outcome):
    check = check_separated("c", "x", ci, "ref", (0.2, 0.4), expected)
    assert check.outcome == outcome
    assert "vs ref [+0.200, +0.400]" in check.evidence
    with pytest.raises(ValueError):
        check_separated("c", "x", ci, "ref", (0.2, 0.4), "sideways")


def test_decide_and_the_check_record():
    assert (decide(True, False), decide(False, True), decide(False, False)) == (HOLDS, CONTRADICTED, UNDECIDED)
    with pytest.raises(ValueError):
        decide(True, True)
    undecided = Check.decided("c", UNDECIDED, "e")
    assert not undecided.passed and Check.from_record(undecided.as_record()) == undecided
    # a check built without an outcome is two-valued; so is a record written before outcomes existed
    assert Check("c", True, "e").outcome == HOLDS and Check("c", False, "e").outcome == CONTRADICTED
    assert Check.from_record({"claim": "c", "passed": False, "evidence": "e"}).outcome == CONTRADICTED
    with pytest.raises(ValueError, match="disagrees"):
        Check("c", True, "e", outcome=CONTRADICTED)
    with pytest.raises(ValueError, match="outcome must be"):
        Check("c", False, "e", outcome="maybe")


HOLD, CONTRA, UNDEC = (Check.decided(c, o, "e") for c, o in (("a", HOLDS), ("b", CONTRADICTED), ("c", UNDECIDED)))


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ([HOLD, HOLD], REPRODUCED),
        ([HOLD, CONTRA], PARTLY),
        ([HOLD, CONTRA, UNDEC], PARTLY),
        ([CONTRA, CONTRA], NOT_REPRODUCED),
        ([CONTRA, UNDEC], NOT_REPRODUCED),
        ([UNDEC, UNDEC], INCONCLUSIVE),  # the data cannot tell: not "not reproduced"
        ([HOLD, UNDEC], SUPPORTED),  # what the data decide holds: not the same as "cannot tell"
    ],
)
def test_verdict_rule(parts, expected):
    assert verdict(parts) == expected


@pytest.mark.parametrize("n_parts", range(1, 7))
def test_deciding_a_part_moves_the_verdict_the_right_way(n_parts):
    """Over every combination of up to six parts: turning one undecided part into one that holds never makes the
    verdict worse (by VERDICT_ORDER), turning it into a contradicted one never makes it better."""
    rank = {v: k for k, v in enumerate(VERDICT_ORDER)}  # 0 = best
    assert sorted(rank) == sorted(VERDICTS)
    for parts in itertools.product((HOLD, CONTRA, UNDEC), repeat=n_parts):
        before = rank[verdict(parts)]
        for k, part in enumerate(parts):
            if part is not UNDEC:
                continue
            held = rank[verdict([*parts[:k], HOLD, *parts[k + 1 :]])]
            contradicted = rank[verdict([*parts[:k], CONTRA, *parts[k + 1 :]])]
            assert held <= before <= contradicted, (parts, k)



def test_verdict_needs_checks_and_the_rule_is_published():
    with pytest.raises(ValueError):
        verdict([])
    assert VERDICTS == ("reproduced", "supported", "partly reproduced", "not reproduced", "inconclusive")
    phrases = ("*supported*", "*inconclusive*", "*partly reproduced*", "*not reproduced*", "*contradicted*")
    for phrase in (*phrases, "*undecided*"):
        assert phrase in VERDICT_RULE


def test_preconditions_are_not_evidence():
    """A precondition that holds does not make a claim 'partly reproduced'; one that does not hold makes it
    inconclusive whatever the other checks say; a verdict needs a check of the claim itself."""
    holds, fails = replace(HOLD, precondition=True), Check("overfits", False, "e", precondition=True)
    assert verdict([holds, CONTRA, CONTRA]) == NOT_REPRODUCED
    assert verdict([holds, HOLD, CONTRA]) == PARTLY
    assert verdict([holds, HOLD]) == REPRODUCED
    assert verdict([fails, HOLD, HOLD]) == INCONCLUSIVE
    assert verdict([fails]) == INCONCLUSIVE
    with pytest.raises(ValueError, match="not only preconditions"):
        verdict([holds])
    table = checks_table([holds, fails, HOLD, CONTRA, UNDEC])
    assert table["claim"].tolist() == ["precondition: a", "precondition: overfits", "a", "b", "c"]
    assert table["outcome"].tolist() == ["holds", "does not hold", "holds", "contradicted", "undecided"]
    assert outcome_counts([holds, HOLD, CONTRA, UNDEC, UNDEC]) == {HOLDS: 1, CONTRADICTED: 1, UNDECIDED: 2}


def _seed(overfits: bool, *outcomes: str) -> list[Check]:
    pre = Check("the network overfits", overfits, "onset", precondition=True)
    return [pre, *(Check.decided(f"part {k}", o, f"n{k}") for k, o in enumerate(outcomes))]


def test_pooling_over_seeds_decides_each_part_over_the_seeds_that_overfit():
    """A part holds when it holds in every seed that overfits, is contradicted when contradicted in every one, and
    is undecided when the seeds disagree; a seed that does not overfit is left out."""
    pooled = pool_seeds(
        [
            _seed(True, HOLDS, CONTRADICTED, HOLDS, CONTRADICTED),
            _seed(True, HOLDS, CONTRADICTED, CONTRADICTED, UNDECIDED),
            _seed(False, CONTRADICTED, HOLDS, HOLDS, HOLDS),
        ],
        [0, 1, 2],
    )
    pre, *parts = pooled
    assert pre.precondition and pre.passed and "2 of 3 seeds" in pre.evidence
    assert [p.outcome for p in parts] == [HOLDS, CONTRADICTED, UNDECIDED, UNDECIDED]
    assert parts[0].evidence == "seed 0 holds: n0; seed 1 holds: n0"
    assert verdict(pooled) == PARTLY


def test_one_passing_check_of_many_no_longer_makes_a_claim_partly_reproduced():
    """Figure 2 at paper scale: one part held in one seed of three, everything else was contradicted."""
    seeds = [
        _seed(True, HOLDS, CONTRADICTED, CONTRADICTED, CONTRADICTED),
        _seed(True, CONTRADICTED, CONTRADICTED, CONTRADICTED, CONTRADICTED),
        _seed(True, CONTRADICTED, CONTRADICTED, CONTRADICTED, CONTRADICTED),
    ]
    assert verdict([c for checks in seeds for c in checks]) == PARTLY  # what pooling avoids
    assert verdict(pool_seeds(seeds, [0, 1, 2])) == NOT_REPRODUCED


def test_pooling_when_no_seed_is_observable():
    pooled = pool_seeds([_seed(False, HOLDS), _seed(False, HOLDS)], [3, 4])
    assert len(pooled) == 1 and not pooled[0].passed and verdict(pooled) == INCONCLUSIVE
    with pytest.raises(ValueError):
        pool_seeds([_seed(True, HOLDS)], [0, 1])


def test_evidence_shows_small_thresholds_in_scientific_notation():
    evidence = check_inside("c", "gap", 6.2e-7, 0.0, 1e-5).evidence
    assert evidence == "gap = +6.20e-07, required in [+0.000, +1.00e-05]"
    assert check_inside("c", "x", 0.5, -0.1, float("inf")).evidence == "x = +0.500, required in [-0.100, +inf]"
