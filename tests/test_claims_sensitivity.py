"""The claims page's sensitivity table (repro.claims.sensitivity) on a constructed _sensitivity.json."""

import json

from repro.claims.sensitivity import load_sensitivity, not_computed, sensitivity_missing, sensitivity_table


def _run(factor, value, chapters):
    return {"factor": factor, "value": value, "chapters": chapters}


def _done(moved=None):
    return {"computed": True, "default": {}, "changed": {}, "moved": moved or {}, "seconds": 1.0}


DATA = {
    "schema": 1,
    "profile": "quick",
    "thresholds": {
        "NEAR_ZERO": {
            "default": 0.1, "decides": "close to 0", "module": "class_membership", "chapters": ["fig02"],
            "runs": [
                _run(0.5, 0.05, {"fig02": _done()}),
                _run(2.0, 0.2, {"fig02": _done({"verdict": ["not reproduced", "partly reproduced"],
                                                "textbook32_collapse": ["yes", "no"]})}),
            ],
        },
        "MAJORITY": {
            "default": 0.5, "decides": "most class pairs", "module": "class_membership",
            "chapters": ["fig03", "fig05"],
            "runs": [
                _run(0.5, 0.25, {"fig03": _done(), "fig05": {"computed": False, "reason": "no results file"}}),
                _run(2.0, 1.0, {"fig03": _done({"verdict": ["reproduced", "supported"]}),
                                "fig05": {"computed": False, "reason": "no results file"}}),
            ],
        },
        "TREND_ALPHA": {
            "default": 0.05, "decides": "level", "module": "censored_trend", "chapters": ["fig08"],
            "runs": [_run(3.0, 0.15, {"fig08": {"computed": False, "reason": "a measurement is not stored"}})],
        },
    },
}  # fmt: skip


def test_the_table_names_what_moves_and_says_none_otherwise():
    table = sensitivity_table(DATA)
    assert list(table.columns) == ["threshold", "decides", "default", "halved", "doubled", "× 3"]
    rows = table.set_index("threshold")
    assert rows.loc["NEAR_ZERO", "default"] == "0.1"
    assert rows.loc["NEAR_ZERO", "halved"] == "0.05: none"
    assert rows.loc["NEAR_ZERO", "doubled"] == (
        "0.2: fig02: not reproduced → partly reproduced; fig02 (textbook32_collapse): yes → no"
    )
    assert rows.loc["MAJORITY", "halved"] == "0.25: none (not computed: fig05)"
    assert rows.loc["MAJORITY", "doubled"] == "1: fig03: reproduced → supported (not computed: fig05)"
    assert rows.loc["TREND_ALPHA", "× 3"] == "0.15: not computed: fig08"


def test_not_computed_lists_each_chapter_with_its_reason():
    assert not_computed(DATA) == [
        "MAJORITY × 0.5, fig05: no results file",
        "MAJORITY × 2, fig05: no results file",
        "TREND_ALPHA × 3, fig08: a measurement is not stored",
    ]


def test_load_and_the_missing_file(tmp_path):
    path = tmp_path / "_sensitivity.json"
    assert load_sensitivity(path) is None
    path.write_text(json.dumps(DATA))
    assert load_sensitivity(path) == DATA
    text = sensitivity_missing("paper", "_build/results/paper")
    assert "Not computed for this run" in text and "sensitivity --profile paper" in text
