"""The book's verdict rule."""

from dataclasses import replace

import pytest

from repro.claims.verdicts import check_above, check_below, check_inside, checks_table, verdict


def test_checks_compare_intervals_with_thresholds():
    assert check_above("c", "x", (0.1, 0.3), 0.0).passed
    assert not check_above("c", "x", (-0.1, 0.3), 0.0).passed
    assert check_below("c", "x", (-0.5, -0.2), 0.0).passed
    assert not check_below("c", "x", (-0.5, 0.2), 0.0).passed
    assert check_inside("c", "x", 0.05, -0.1, 0.1).passed
    assert "[+0.100, +0.300]" in check_above("c", "x", (0.1, 0.3), 0.0).evidence


def test_verdict_rule():
    yes, no = check_inside("a", "x", 0, -1, 1), check_inside("b", "x", 5, -1, 1)
    assert verdict([yes, yes]) == "reproduced"
    assert verdict([yes, no]) == "partly reproduced"
    assert verdict([no, no]) == "not reproduced"
    with pytest.raises(ValueError):
        verdict([])
    assert checks_table([yes, no])["holds"].tolist() == ["yes", "no"]


def test_preconditions_are_not_evidence():
    """A precondition that holds does not make a claim 'partly reproduced'; one that fails makes it not reproduced
    whatever the other checks say; a verdict needs a check of the claim itself."""
    yes, no = check_inside("a", "x", 0, -1, 1), check_inside("b", "x", 5, -1, 1)
    holds, fails = replace(yes, precondition=True), replace(no, precondition=True)
    assert verdict([holds, no, no]) == "not reproduced"
    assert verdict([holds, yes, no]) == "partly reproduced"
    assert verdict([holds, yes]) == "reproduced"
    assert verdict([fails, yes, yes]) == "not reproduced"
    with pytest.raises(ValueError, match="not only preconditions"):
        verdict([holds])
    assert checks_table([holds, yes])["claim"].tolist() == ["precondition: a", "a"]


def test_evidence_shows_small_thresholds_in_scientific_notation():
    from repro.claims.verdicts import check_inside

    evidence = check_inside("c", "gap", 6.2e-7, 0.0, 1e-5).evidence
    assert evidence == "gap = +6.20e-07, required in [+0.000, +1.00e-05]"
    assert check_inside("c", "x", 0.5, -0.1, float("inf")).evidence == "x = +0.500, required in [-0.100, +inf]"
