"""The on-disk memo shared by chapters (repro.experiments.cache)."""

from __future__ import annotations

import shutil
import threading

import pytest

from repro.experiments import cache

MODULE = "repro.experiments.lr_sweep"  # the module whose results the book caches


def test_memoise_computes_once_and_reads_back(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"rows": [1, 2, 3]}

    first, hit_first = cache.memoise("sweep", ("cfg", 0), compute, tmp_path, module=MODULE)
    second, hit_second = cache.memoise("sweep", ("cfg", 0), compute, tmp_path, module=MODULE)
    assert (hit_first, hit_second) == (False, True)
    assert first == second == {"rows": [1, 2, 3]} and len(calls) == 1
    # another seed: another entry
    other, hit_other = cache.memoise("sweep", ("cfg", 1), compute, tmp_path, module=MODULE)
    assert not hit_other and len(calls) == 2
    assert len(list(tmp_path.glob("sweep-*.pkl"))) == 2


def test_key_changes_with_the_computing_source(monkeypatch):
    before = cache.cache_key(("cfg", 0), MODULE)
    monkeypatch.setattr(cache, "source_digest", lambda module: "0123456789abcdef")
    assert cache.cache_key(("cfg", 0), MODULE) != before


def test_source_files_follow_the_imports_of_the_computing_module():
    names = {p.relative_to(cache._PACKAGE).as_posix() for p in cache.source_files(MODULE)}
    # the sweep trains, computes Grams and reads data: all of that is in its key ...
    assert {
        "experiments/lr_sweep.py",
        "experiments/setup.py",
        "experiments/distance.py",
        "training/__init__.py",
        "training/loop.py",
        "training/many.py",
        "gram/engine.py",
        "gram/planning.py",
        "gram/accumulate.py",
        "gram/kernels.py",
        "losses.py",
        "data/__init__.py",
        "data/loaders.py",
        "data/standardise.py",
        "models.py",
        "stiffness/__init__.py",
        "stiffness/classes.py",
        "stiffness/bootstrap.py",
        "stiffness/distance.py",
    } <= names
    # packages run on the way to their modules
    assert {"__init__.py", "gram/__init__.py", "experiments/__init__.py"} <= names
    # ... how its results are drawn, judged and executed as chapters is not
    assert not any(name.startswith(("book/", "claims/")) for name in names)
    # ... nor the other experiments
    assert not names & {"experiments/init_study.py", "experiments/class_stiffness.py", "experiments/harmonics.py"}


def test_digest_changes_with_an_imported_module_only(monkeypatch, tmp_path):
    package = tmp_path / "repro"
    shutil.copytree(cache._PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cache, "_PACKAGE", package)
    cache.source_digest.cache_clear()
    try:
        before = cache.source_digest(MODULE)
        with (package / "book" / "figures" / "training.py").open("a") as f:
            f.write("\n# a change to how figures look\n")
        cache.source_digest.cache_clear()
        assert cache.source_digest(MODULE) == before
        with (package / "training" / "loop.py").open("a") as f:
            f.write("\n# a change to the training loop\n")
        cache.source_digest.cache_clear()
        assert cache.source_digest(MODULE) != before
    finally:
        cache.source_digest.cache_clear()


def test_rejects_a_module_outside_the_package():
    with pytest.raises(ValueError, match="not a module of the repro package"):
        cache.source_files("repro.no_such_module")


def test_failed_compute_leaves_no_entry(tmp_path):
    def compute():
        raise RuntimeError("diverged")

    with pytest.raises(RuntimeError, match="diverged"):
        cache.memoise("sweep", "cfg", compute, tmp_path, module=MODULE)
    assert list(tmp_path.iterdir()) == []


def test_unpicklable_value_leaves_no_partial_file(tmp_path):
    with pytest.raises(TypeError, match="pickle"):
        cache.memoise("sweep", "cfg", threading.Lock, tmp_path, module=MODULE)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["", "../escape", "a/b", ".hidden"])
def test_rejects_names_that_are_not_plain_labels(tmp_path, name):
    with pytest.raises(ValueError, match="plain file-name label"):
        cache.memoise(name, "cfg", lambda: 1, tmp_path, module=MODULE)
