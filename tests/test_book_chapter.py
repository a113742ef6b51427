"""The chapter contract's measure step (repro.book.chapter.ChapterContext.run): stored once, read back while its
key holds, recorded in the results file."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch

from repro.book.chapter import ChapterContext
from repro.experiments.configs import HarmonicsConfig
from repro.experiments.harmonics import run_harmonics

TINY = HarmonicsConfig(dim=3, degrees=(1,), n_train=64, n_test=64, n_stiffness=24, lr=1e-3, max_images=64,
                       n_bins=4, n_boot=10)  # fmt: skip


@pytest.fixture
def chapter(tmp_path, monkeypatch) -> ChapterContext:
    monkeypatch.setenv("REPRO_RESULTS_DIR", str(tmp_path / "results"))
    return ChapterContext("toy", "quick", 0, None, torch.device("cpu"), TINY)


def test_a_measurement_is_stored_once_and_read_back(chapter):
    first = chapter.run(run_harmonics, progress=False)
    [stored] = list(chapter.measurements_dir.glob("run_harmonics-*.measurement"))
    again = ChapterContext("toy", "quick", 0, None, torch.device("cpu"), TINY)
    second = again.run(run_harmonics, progress=True)  # progress says how loudly, not what: the same key
    pd.testing.assert_frame_equal(first.rows, second.rows)
    [m1], [m2] = chapter.measurements, again.measurements
    assert (m1.read_back, m2.read_back) == (False, True) and m1.key == m2.key
    assert 0 < m1.payload_bytes == m2.payload_bytes < stored.stat().st_size  # the payload, without its header
    assert m2.seconds == m1.seconds  # the measuring's own time, also when read back
    assert again.measurement_line().startswith("Measurement read back from the store")
    assert chapter.measurement_line() == ""


def test_another_seed_or_config_is_another_measurement(chapter):
    chapter.run(run_harmonics, progress=False)
    other = ChapterContext("toy", "quick", 1, None, torch.device("cpu"), TINY)
    other.run(run_harmonics, progress=False)
    chapter.run(run_harmonics, TINY.__class__(**{**TINY.__dict__, "n_boot": 11}), progress=False)
    keys = {m.key for m in chapter.measurements + other.measurements}
    assert len(keys) == 3 and not any(m.read_back for m in chapter.measurements + other.measurements)


def test_the_results_file_lists_the_measurements(chapter, tmp_path):
    chapter.run(run_harmonics, progress=False)
    chapter.close({"x": 1.0})
    results = json.loads((tmp_path / "results" / "quick" / "toy.json").read_text())
    [record] = results["details"]["measurements"]
    assert record["experiment"] == "run_harmonics" and record["read_back"] is False and record["payload_bytes"] > 0


def test_the_results_file_says_where_the_time_went(chapter, tmp_path):
    """Each measurement's phases and counts (kept in the stored file's header, so a later execution that reads it
    back reports the same), and the execution's own seconds split into measuring and the rest."""
    first = chapter.run(run_harmonics, progress=False)
    chapter.close({"x": 1.0})
    again = ChapterContext("toy", "quick", 0, None, torch.device("cpu"), TINY)
    again.run(run_harmonics, progress=False)
    results = [json.loads((tmp_path / "results" / "quick" / "toy.json").read_text())]
    [measured] = chapter.measurements
    [read] = again.measurements
    assert read.read_back and read.phases == measured.phases
    phases = measured.phases
    assert phases["counts"]["images_trained"] == len(first.rows) * TINY.max_images
    assert phases["counts"]["grams"] >= len(first.rows) and phases["seconds"]["training"] > 0
    assert sum(phases["seconds"].values()) == pytest.approx(measured.seconds, abs=0.01)
    spent = results[0]["details"]["execution_seconds"]
    assert spent["measuring"] == pytest.approx(measured.seconds, abs=1e-3)
    assert spent["total"] == pytest.approx(spent["measuring"] + spent["reading"], abs=1e-3)


def test_only_an_experiment_is_measured(chapter):
    from repro.analysis.lr_sweep import describe_sweep

    with pytest.raises(ValueError, match="a function of repro.experiments"):
        chapter.run(describe_sweep)


def test_the_verdict_line_shows_what_it_stands_on():
    from repro.book.chapter import verdict_evidence
    from repro.claims.verdicts import Check

    parts = [Check.decided("a", "holds", ""), Check.decided("b", "undecided", ""), Check.decided("c", "holds", "")]
    assert verdict_evidence(parts) == " (2 hold, 0 contradicted, 1 undecided)"
    missing = [Check("the data are CIFAR-100", False, "", precondition=True)]
    assert verdict_evidence(missing) == " (precondition not met: the data are CIFAR-100)"
    assert verdict_evidence([]) == ""


def test_a_run_whose_data_cannot_be_had_is_recorded_not_failed(chapter, tmp_path, monkeypatch):
    """fig07's paper run on a machine without CIFAR-100: the chapter goes on, says why, and its results file
    records the missing data; no measurement is stored."""
    from repro.book.profiles import get_config
    from repro.experiments.hierarchy import run_hierarchy

    monkeypatch.setenv("REPRO_DATA_ROOT", str(tmp_path / "no-data"))
    monkeypatch.setenv("REPRO_ALLOW_DOWNLOAD", "0")
    [cfg] = get_config("fig07", "paper")
    assert chapter.run_if_data(run_hierarchy, cfg) is None
    assert [m["dataset"] for m in chapter.missing_data] == ["cifar100"] and not chapter.measurements
    assert "not found under the data root" in chapter.missing_data[0]["reason"]
    chapter.close({})
    results = json.loads((tmp_path / "results" / "quick" / "toy.json").read_text())
    assert results["details"]["missing_data"][0]["dataset"] == "cifar100"
    assert not list(chapter.measurements_dir.glob("*.measurement"))


def test_a_read_only_run_whose_data_cannot_be_had_is_missing_data_not_refused(chapter, tmp_path, monkeypatch):
    """The sensitivity run (read-only) of fig07 without CIFAR-100: nothing is stored for that run, and the reason
    is the missing data, as in the measuring run; a run whose data exist but is not stored stays refused."""
    from repro.book.chapter import READ_ONLY_ENV, MeasurementRefused
    from repro.book.profiles import get_config
    from repro.experiments.hierarchy import run_hierarchy

    monkeypatch.setenv("REPRO_DATA_ROOT", str(tmp_path / "no-data"))
    monkeypatch.setenv("REPRO_ALLOW_DOWNLOAD", "0")
    monkeypatch.setenv(READ_ONLY_ENV, "1")
    [cfg] = get_config("fig07", "paper")
    assert chapter.run_if_data(run_hierarchy, cfg) is None
    assert [m["dataset"] for m in chapter.missing_data] == ["cifar100"]
    monkeypatch.setattr("repro.book.chapter.load_dataset", lambda name, root: None)  # the data could be had
    with pytest.raises(MeasurementRefused):
        chapter.run_if_data(run_hierarchy, cfg)


def test_read_only_refuses_to_measure_and_reads_back(chapter, monkeypatch):
    """REPRO_READ_ONLY=1 (the sensitivity run): a measurement not stored is refused, not measured; one stored is
    read back as usual."""
    from repro.book.chapter import READ_ONLY_ENV, MeasurementRefused

    monkeypatch.setenv(READ_ONLY_ENV, "1")
    with pytest.raises(MeasurementRefused, match="is not stored"):
        chapter.run(run_harmonics, progress=False)
    assert not chapter.measurements and not list(chapter.measurements_dir.glob("*.measurement"))
    monkeypatch.delenv(READ_ONLY_ENV)
    chapter.run(run_harmonics, progress=False)
    monkeypatch.setenv(READ_ONLY_ENV, "1")
    again = ChapterContext("toy", "quick", 0, None, torch.device("cpu"), TINY)
    again.run(run_harmonics, progress=False)
    assert [m.read_back for m in again.measurements] == [True]


def test_a_threshold_override_is_recorded_in_the_results_file(chapter, tmp_path, monkeypatch):
    monkeypatch.setenv("REPRO_THRESHOLDS", '{"NEAR_ZERO": 0.05}')
    chapter.close({"x": 1.0})
    results = json.loads((tmp_path / "results" / "quick" / "toy.json").read_text())
    assert results["details"]["threshold_overrides"] == {"NEAR_ZERO": 0.05}
