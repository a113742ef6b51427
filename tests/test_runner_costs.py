"""The cost table (repro.runner.costs) from results files: phases and work per chapter, a sweep group measured
inside a chapter shown on its own row and not counted twice, stored measurements named, totals."""

import json

import pytest

from repro.book.results import results_path, timings_path
from repro.runner.costs import cost_rows, cost_table


def phases(training: float, stiffness: float, images: int) -> dict:
    return {"seconds": {"training": training, "stiffness": stiffness, "other": 1.0},
            "counts": {"images_trained": images, "grams": 2}}  # fmt: skip


def write(out, chapter: str, details: dict) -> None:
    path = results_path(chapter, "paper", out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"details": details}))


@pytest.fixture
def build(tmp_path):
    out = tmp_path / "results"
    record = {"read_back": False, "phases": phases(100.0, 10.0, 5_000)}
    write(out, "fig03", {"measurements": [record], "execution_seconds": {"reading": 3.0}})
    sweep = {"read_back": False, "phases": phases(500.0, 20.0, 40_000)}
    stored = {"read_back": True, "phases": phases(700.0, 30.0, 60_000)}
    fig08 = {"read_back": False, "phases": phases(520.0, 20.0, 40_000)}  # the mnist group inside its measuring
    write(out, "fig08", {"measurements": [fig08], "sweep_groups": {"mnist": sweep, "fashion_mnist": stored},
                         "execution_seconds": {"reading": 2.0}})  # fmt: skip
    write(out, "fig10", {"measurements": [{"read_back": True, "phases": phases(1.0, 0.0, 0)}]})
    write(out, "intro", {})
    timings_path("paper", out).write_text(json.dumps({"fig03": {"wall_time_s": 120.0}}))
    return out


def test_rows_split_a_sweep_group_out_of_the_chapter_that_measured_it(build):
    rows = {r["row"]: r for r in cost_rows("paper", ["intro", "fig03", "fig08", "fig10", "missing"], build)}
    assert list(rows) == ["intro", "fig03", "fig08", "fig08: sweep group mnist", "fig08: sweep group fashion_mnist",
                          "fig10"]  # fmt: skip
    assert rows["fig03"]["training"] == 100.0 and rows["fig03"]["wall_s"] == 120.0 and rows["fig03"]["reading_s"] == 3.0
    assert rows["fig08"]["training"] == 20.0 and rows["fig08"]["images_trained"] == 0  # its own part only
    assert rows["fig08: sweep group mnist"]["where"] == "measured"
    assert rows["fig08: sweep group fashion_mnist"]["where"] == "stored"  # trained by another task or build
    assert rows["fig10"]["where"] == "stored" and rows["intro"]["where"] == "read" and rows["intro"]["training"] == 0
    table = cost_table(list(rows.values())).splitlines()
    total = table[-1].split(" | ")
    header = table[0].split(" | ")
    assert total[0] == "| total"
    assert total[header.index("training")] == f"{100 + 20 + 500 + 700 + 1:,}"
    assert total[header.index("images_trained")] == f"{5_000 + 40_000 + 60_000:,}"
