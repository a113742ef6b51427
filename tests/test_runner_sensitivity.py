"""The sensitivity run (repro.runner.sensitivity) on a tiny book in tmp_path: a fake chapter whose verdict reads a
threshold, a chapter that needs a measurement the build does not hold, the scratch folder's links, the atomic
write, and the file the claims page reads (repro.claims.sensitivity)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from repro import runner
from repro.book.toc import BookError
from repro.claims.thresholds import Threshold
from repro.runner.sensitivity import (
    measured_again,
    outcomes,
    prepare_scratch,
    run_sensitivity,
    scratch_dir,
    write_atomically,
)

PARAMETERS = """# %% tags=["parameters", "remove-cell"]
profile = "quick"
device = "auto"
seed = 0
data_root = None
"""

# Its verdict moves when NEAR_ZERO passes 0.15; its finding when it passes 0.07.
READS = (
    PARAMETERS
    + """
# %%
from repro.book.results import save_results
from repro.claims import NEAR_ZERO

save_results("reads", profile=profile, seed=seed, device="cpu", verdict="holds" if NEAR_ZERO < 0.15 else "does not",
             headline={"finding": "small" if NEAR_ZERO < 0.07 else "large", "number": NEAR_ZERO})
"""
)

# Needs a measurement: a tiny harmonics run through the chapter contract (stored by the build, then read back).
MEASURES = (
    PARAMETERS
    + """
# %%
from repro.book.chapter import ChapterContext
from repro.experiments.configs import HarmonicsConfig
from repro.experiments.harmonics import run_harmonics
import torch

cfg = HarmonicsConfig(dim=3, degrees=(1,), n_train=32, n_test=32, n_stiffness=12, lr=1e-3, max_images=32, n_bins=4,
                      n_boot=5)
ch = ChapterContext("measures", profile, seed, data_root, torch.device("cpu"), cfg)
ch.run(run_harmonics, progress=False)
ch.verdict = "holds"
ch.close({})
"""
)

REGISTRY = {
    "NEAR_ZERO": Threshold("NEAR_ZERO", 0.1, "a test threshold", "class_membership", ("reads", "absent", "measures")),
}


@pytest.fixture
def book(tmp_path: Path) -> Path:
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "reads.py").write_text(READS)
    (tmp_path / "book" / "measures.py").write_text(MEASURES)
    toc = tmp_path / "_toc.yml"
    toc.write_text("format: jb-book\nroot: book/reads\nchapters:\n  - file: book/measures\n")
    return toc


def test_scratch_folder_links_the_builds_stores(tmp_path):
    build = tmp_path / "_build"
    (build / "results" / "measurements").mkdir(parents=True)
    scratch = prepare_scratch(build, scratch_dir(build, "NEAR_ZERO", 0.5))
    assert scratch == build / "sensitivity" / "NEAR_ZERO-0.5"
    for name in ("measurements", "cache"):
        link = scratch / "results" / name
        assert link.is_symlink() and link.resolve() == (build / "results" / name).resolve()
    prepare_scratch(build, scratch)  # again: the links are replaced, not an error
    (scratch / "results" / "cache").unlink()
    (scratch / "results" / "cache").mkdir()
    with pytest.raises(BookError, match="not a link"):
        prepare_scratch(build, scratch)


def test_outcomes_and_measured_again():
    payload = {"verdict": "supported", "headline": {"collapse": "yes", "x": 1.0},
               "details": {"measurements": [{"experiment": "a", "read_back": True},
                                            {"experiment": "b", "read_back": False}]}}  # fmt: skip
    assert outcomes(payload) == {"verdict": "supported", "collapse": "yes"}
    assert outcomes({"verdict": None, "headline": {}}) == {}
    assert measured_again(payload) == ["b"]


def test_write_atomically_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "results" / "quick" / "_sensitivity.json"
    write_atomically(path, {"a": 1})
    write_atomically(path, {"a": 2})
    assert json.loads(path.read_text()) == {"a": 2} and os.listdir(path.parent) == [path.name]
    with pytest.raises(ValueError):
        write_atomically(path, {"a": float("nan")})
    assert json.loads(path.read_text()) == {"a": 2} and os.listdir(path.parent) == [path.name]


@pytest.mark.slow  # chapters executed in Jupyter kernels
def test_sensitivity_on_a_tiny_book(book, tmp_path, monkeypatch):
    monkeypatch.setenv("REPRO_THRESHOLDS", '{"NEAR_ZERO": 0.5}')  # a stray value: the build's run must not see it
    build = tmp_path / "_build"
    runner.run(["reads"], toc=book, device="cpu", build_dir=build, log=lambda _m: None)
    assert json.loads((build / "results" / "quick" / "reads.json").read_text())["verdict"] == "holds"
    lines = []
    out = run_sensitivity(build, profile="quick", toc=book, device="cpu", registry=REGISTRY, log=lines.append)
    data = json.loads(out.read_text())
    assert out == build / "results" / "quick" / "_sensitivity.json"
    entry = data["thresholds"]["NEAR_ZERO"]
    halved, doubled = entry["runs"]
    assert (halved["value"], doubled["value"]) == (0.05, 0.2)
    assert halved["chapters"]["reads"]["moved"] == {"finding": ["large", "small"]}
    assert doubled["chapters"]["reads"]["moved"] == {"verdict": ["holds", "does not"]}
    assert doubled["chapters"]["reads"]["changed"] == {"verdict": "does not", "finding": "large"}
    assert doubled["chapters"]["absent"] == {"computed": False, "reason": "not a chapter of this book"}
    # "measures" has no results file in the build: recorded, not executed (nothing trained)
    assert not doubled["chapters"]["measures"]["computed"]
    assert not list(build.rglob("*.measurement"))
    assert json.loads((build / "results" / "quick" / "reads.json").read_text())["verdict"] == "holds"  # untouched
    assert any("reads: verdict: holds → does not" in line for line in lines)


@pytest.mark.slow  # chapters executed in Jupyter kernels
def test_a_measurement_missing_from_the_build_is_refused_not_measured(book, tmp_path):
    """The build holds the chapter's results file but not its measurement (deleted): the read-only kernel stops,
    the chapter is recorded as not computed, and nothing is measured."""
    build = tmp_path / "_build"
    runner.run(["measures"], toc=book, device="cpu", build_dir=build, log=lambda _m: None)
    [stored] = list((build / "results" / "measurements").rglob("*.measurement"))
    one = {"NEAR_ZERO": Threshold("NEAR_ZERO", 0.1, "a test threshold", "class_membership", ("measures",))}
    out = run_sensitivity(build, toc=book, device="cpu", registry=one, factors=[2.0], log=lambda _m: None)
    [run] = json.loads(out.read_text())["thresholds"]["NEAR_ZERO"]["runs"]
    assert run["chapters"]["measures"]["computed"] and run["chapters"]["measures"]["moved"] == {}
    stored.unlink()
    out = run_sensitivity(build, toc=book, device="cpu", registry=one, factors=[2.0], log=lambda _m: None)
    [run] = json.loads(out.read_text())["thresholds"]["NEAR_ZERO"]["runs"]
    assert not run["chapters"]["measures"]["computed"]
    assert "not stored" in run["chapters"]["measures"]["reason"]
    assert not list((build / "results" / "measurements").rglob("*.measurement"))


def test_unknown_threshold_or_bad_factor_is_an_error(book, tmp_path):
    with pytest.raises(BookError, match="unknown threshold"):
        run_sensitivity(tmp_path / "_build", toc=book, device="cpu", names=["MIN_FOUND"])
    with pytest.raises(BookError, match="positive"):
        run_sensitivity(tmp_path / "_build", toc=book, device="cpu", factors=[0.0])


def test_the_command_line_reports_an_unknown_threshold(book, tmp_path, capsys):
    code = runner.main(["--toc", str(book), "sensitivity", "--build-dir", str(tmp_path / "_build"),
                        "--device", "cpu", "--thresholds", "MIN_FOUND", "--factors", "0.5", "2"])  # fmt: skip
    assert code == 1 and "unknown threshold" in capsys.readouterr().err
