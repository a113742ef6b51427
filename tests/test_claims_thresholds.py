"""The registry of named thresholds (repro.claims.thresholds) and its one hook, $REPRO_THRESHOLDS."""

import json
import os
import subprocess
import sys

import pytest

from repro import claims
from repro.claims import thresholds
from repro.claims.thresholds import THRESHOLDS, THRESHOLDS_ENV, ThresholdError, overrides, threshold

# The values the verdicts were judged with before the registry: a change here changes verdicts.
DEFAULTS = {
    "NEAR_ZERO": 0.1,
    "MAJORITY": 0.5,
    "OVERFIT_RISE": 0.1,
    "COLLAPSE_DROP": 0.2,
    "CHANCE_TOLERANCE": 0.05,
    "MAX_POSITIVE_SHARE": 0.1,
    "UNIFORM_FRACTION": 0.9,
    "CROSSING_FOUND": 0.8,
    "MAX_RHO": -0.5,
    "RESOLVED_FOUND": 0.5,
    "LEARNED_ACCURACY": 0.6,
    "PERMUTATION_ALPHA": 0.05,
    "TREND_ALPHA": 0.05,
    "ROUNDING_MARGIN": 10.0,
    "MIN_ORDER": 0.9,
    "MAX_RELATIVE_ERROR": 1e-3,
    "MAX_GRAM_GAP": 1e-5,
}


def test_defaults_are_unchanged_and_the_modules_use_them():
    assert {name: t.value for name, t in THRESHOLDS.items()} == DEFAULTS
    if os.environ.get(THRESHOLDS_ENV):
        pytest.skip(f"{THRESHOLDS_ENV} is set in this environment")
    for name, value in DEFAULTS.items():
        module = __import__(f"repro.claims.{THRESHOLDS[name].module}", fromlist=["_"])
        assert getattr(module, name) == value, name
        assert getattr(claims, name, value) == value, name


def test_registry_names_real_chapters_and_one_line_each():
    from repro.book import find_toc, read_toc

    names = {c.name for c in read_toc(find_toc())}
    for t in THRESHOLDS.values():
        assert t.chapters and set(t.chapters) <= names, t.name
        assert t.decides and "\n" not in t.decides
    assert thresholds.sensitive_chapters(["NEAR_ZERO", "COLLAPSE_DROP"]) == ["fig02"]


def _python(code: str, value: str) -> subprocess.CompletedProcess:
    env = {**os.environ, THRESHOLDS_ENV: value}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


def test_an_override_changes_the_constant_and_its_default_arguments():
    code = (
        "import inspect; from repro import claims; "
        "print(claims.NEAR_ZERO, claims.MAJORITY, "
        "inspect.signature(claims.distance_checks).parameters['min_found'].default)"
    )
    done = _python(code, json.dumps({"NEAR_ZERO": 0.05, "CROSSING_FOUND": 1.6}))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0.05", "0.5", "1.6"]


@pytest.mark.parametrize(
    "value, message",
    [
        ('{"NEAR_ZER0": 0.2}', "unknown threshold"),
        ('{"NEAR_ZERO": "0.2"}', "not finite numbers"),
        ('{"NEAR_ZERO": true}', "not finite numbers"),
        ('{"NEAR_ZERO": NaN}', "not finite numbers"),
        ("[0.2]", "JSON object"),
        ("NEAR_ZERO=0.2", "not JSON"),
    ],
    ids=["unknown", "text", "bool", "nan", "list", "not-json"],
)
def test_a_bad_override_is_a_clear_error(value, message):
    with pytest.raises(ThresholdError, match=message):
        overrides({THRESHOLDS_ENV: value})


def test_a_bad_override_stops_the_import():
    done = _python("import repro.claims", '{"NEAR_ZER0": 0.2}')
    assert done.returncode != 0
    assert "ThresholdError" in done.stderr and "NEAR_ZER0" in done.stderr


def test_threshold_reads_the_environment(monkeypatch):
    monkeypatch.setenv(THRESHOLDS_ENV, '{"MAX_RHO": -0.25}')
    assert threshold("MAX_RHO") == -0.25
    assert threshold("MAJORITY") == 0.5
    monkeypatch.delenv(THRESHOLDS_ENV)
    assert threshold("MAX_RHO") == -0.5 and overrides() == {}
    with pytest.raises(KeyError, match="no threshold named"):
        threshold("MIN_FOUND")


def test_a_kernel_gets_the_sensitivity_variables_only_when_passed(tmp_path, monkeypatch):
    """The book's own run unsets REPRO_THRESHOLDS and REPRO_READ_ONLY for its kernels; the sensitivity run passes
    them on purpose."""
    from repro.runner.kernel import kernel_environment

    monkeypatch.setenv(THRESHOLDS_ENV, '{"NEAR_ZERO": 0.2}')
    monkeypatch.setenv("REPRO_READ_ONLY", "1")
    toc = tmp_path / "_toc.yml"
    with kernel_environment(tmp_path / "_build", toc, 1):
        assert THRESHOLDS_ENV not in os.environ and "REPRO_READ_ONLY" not in os.environ
    with kernel_environment(tmp_path / "_build", toc, 1, {THRESHOLDS_ENV: '{"MAJORITY": 1.0}'}):
        assert os.environ[THRESHOLDS_ENV] == '{"MAJORITY": 1.0}'
    assert os.environ[THRESHOLDS_ENV] == '{"NEAR_ZERO": 0.2}'


def test_a_decade_threshold_moves_a_decade_and_the_others_by_the_factor():
    from repro.claims.thresholds import THRESHOLDS

    assert THRESHOLDS["MAX_GRAM_GAP"].changed(0.5) == pytest.approx(1e-6)
    assert THRESHOLDS["MAX_GRAM_GAP"].changed(2.0) == pytest.approx(1e-4)
    assert THRESHOLDS["NEAR_ZERO"].changed(0.5) == pytest.approx(0.05)
