"""Keys of stored measurements (repro.measurements.keys): they follow the code that measures, and only it."""

from __future__ import annotations

import inspect
import shutil
from pathlib import Path

import pytest

import repro.gram.engine
import repro.training
from repro.measurements import keys

MODULE = "repro.experiments.lr_sweep"  # a module whose results the book stores
CLASS_RUN = "repro.experiments.class_stiffness"


def test_source_files_follow_the_imports_of_the_computing_module():
    names = {p.relative_to(keys.PACKAGE_ROOT).as_posix() for p in keys.source_files(MODULE)}
    # the sweep trains, computes Grams and reads data: all of that is in its key ...
    assert {
        "experiments/lr_sweep.py",
        "experiments/setup.py",
        "experiments/distance.py",
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


def _file_of(obj: object) -> str:
    """The path of ``obj``'s source file inside the package, e.g. ``"training/loop.py"``."""
    return Path(inspect.getsourcefile(obj)).resolve().relative_to(keys.PACKAGE_ROOT).as_posix()


def test_the_training_loop_and_the_gram_are_in_every_measuring_key():
    for module in (MODULE, CLASS_RUN):
        names = {p.relative_to(keys.PACKAGE_ROOT).as_posix() for p in keys.source_files(module)}
        assert {_file_of(repro.training.train), _file_of(repro.gram.engine)} <= names
        assert not any(n.startswith(("analysis/", "claims/", "book/", "runner/")) for n in names), names


@pytest.fixture
def package_copy(tmp_path):
    """A copy of ``src/repro`` to edit, with the digest cache cleared before and after."""
    root = tmp_path / "repro"
    shutil.copytree(keys.PACKAGE_ROOT, root, ignore=shutil.ignore_patterns("__pycache__"))
    keys.source_digest.cache_clear()
    yield root
    keys.source_digest.cache_clear()


def _edit(path: Path, text: str = "\n_EDITED = 1  # an edit to the code\n") -> None:
    with path.open("a") as f:
        f.write(text)
    keys.source_digest.cache_clear()


@pytest.mark.parametrize(
    "edited",
    ["analysis/class_stiffness.py", "analysis/sweep_domains.py", "claims/verdicts.py", "book/figures/training.py",
     "book/tables.py", "book/chapter.py"],
)
def test_a_key_is_unchanged_by_an_edit_to_what_reads_the_measurement(package_copy, edited):
    before = [keys.measurement_key(("cfg", 0), m, package_copy) for m in (MODULE, CLASS_RUN)]
    _edit(package_copy / edited)
    assert [keys.measurement_key(("cfg", 0), m, package_copy) for m in (MODULE, CLASS_RUN)] == before


def test_a_key_changes_with_an_edit_to_the_training_loop_or_the_gram(package_copy):
    for obj in (repro.training.train, repro.gram.engine):
        before = [keys.measurement_key(("cfg", 0), m, package_copy) for m in (MODULE, CLASS_RUN)]
        _edit(package_copy / _file_of(obj))
        after = [keys.measurement_key(("cfg", 0), m, package_copy) for m in (MODULE, CLASS_RUN)]
        assert all(a != b for a, b in zip(after, before, strict=True))


def test_a_comment_or_a_docstring_keeps_every_key(package_copy):
    """Keys hash the code's syntax tree without docstrings: rewording a comment or a docstring re-measures nothing."""
    path = package_copy / _file_of(repro.training.train)
    before = [keys.measurement_key(("cfg", 0), m, package_copy) for m in (MODULE, CLASS_RUN)]
    text = path.read_text()
    path.write_text(text.replace('"""', '"""Reworded. ', 1) + "\n# a new comment\n")
    keys.source_digest.cache_clear()
    assert [keys.measurement_key(("cfg", 0), m, package_copy) for m in (MODULE, CLASS_RUN)] == before
    _edit(package_copy / "measurements" / "store.py")  # how measurements are stored is not what they hold
    assert [keys.measurement_key(("cfg", 0), m, package_copy) for m in (MODULE, CLASS_RUN)] == before


def test_a_key_changes_with_the_settings_and_the_thread_count(monkeypatch):
    key = keys.measurement_key(("cfg", 0), MODULE)
    assert keys.measurement_key(("cfg", 1), MODULE) != key
    monkeypatch.setattr(keys.torch, "get_num_threads", lambda: 97)
    assert keys.measurement_key(("cfg", 0), MODULE) != key


def test_rejects_a_module_outside_the_package():
    with pytest.raises(ValueError, match="not a module of the repro package"):
        keys.source_files("repro.no_such_module")


def test_a_chapter_digest_follows_what_the_chapter_imports_only(package_copy, tmp_path):
    """The cluster runner keeps a finished chapter while its digest holds: an edit to the runner keeps it, an edit
    to a reading the chapter imports (executed again; its measurements are read back) changes it."""
    from repro.book.toc import Chapter
    from repro.runner.cluster.resume import chapter_code_digest

    source = tmp_path / "fig06.py"
    source.write_text(
        "from repro.analysis.class_stiffness import headline\nfrom repro.book import figures\n"
        "from repro.experiments.class_stiffness import run_class_stiffness\n"
    )
    chapter = Chapter("fig06", "book/fig06", source)
    before = chapter_code_digest(chapter, package_copy)
    _edit(package_copy / "runner" / "cluster" / "run.py")
    _edit(package_copy / "experiments" / "lr_sweep.py")  # another chapter's experiment
    assert chapter_code_digest(chapter, package_copy) == before
    _edit(package_copy / "analysis" / "class_stiffness.py")
    assert chapter_code_digest(chapter, package_copy) != before
