"""The published store (repro.runner.store, .manifest, .provenance) on a tiny book in tmp_path: a build folder with
fake notebooks, results files and one stored measurement, published, checked, restored and staged with its
provenance and stale marks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from repro.book.toc import BookError
from repro.measurements.store import save
from repro.runner import main
from repro.runner import store as store_module
from repro.runner.fingerprints import SourceTree
from repro.runner.provenance import stage_store, stale_chapters
from repro.runner.store import check_store, publish_store, read_manifest, restore_store

REPO = Path(__file__).resolve().parents[1]
COMMIT = "0123456789abcdef0123456789abcdef01234567"
KEY = "00112233aabbccdd"
TOC = "format: jb-book\nroot: book/intro\nchapters:\n  - file: book/ch1\n"
HELPER = '"""Helper."""\n\n\ndef scale(x):\n    return 2 * x\n'
TOY = '"""Toy experiment."""\n\nfrom repro.helper import scale\n\n\ndef run_toy(config):\n    return scale(config)\n'


def _notebook(title: str, printed: str = "") -> dict:
    cells = [
        {"cell_type": "markdown", "id": "a1", "metadata": {}, "source": f"# {title}\n\nSome prose."},
        {
            "cell_type": "code",
            "id": "a2",
            "metadata": {},
            "execution_count": 1,
            "source": "print('x')",
            "outputs": [{"output_type": "stream", "name": "stdout", "text": printed}] if printed else [],
        },
    ]
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _results(commit: str = COMMIT, **details) -> dict:
    return {
        "chapter": "ch1",
        "profile": "quick",
        "device": "cpu",
        "threads": 1,
        "versions": {"torch": "9.9"},
        "git": {"commit": commit, "dirty": False},
        "timestamp_utc": "2030-01-02T03:04:05+00:00",
        "verdict": "supported",
        "checks": [
            {"claim": "a part", "passed": True, "evidence": "e", "outcome": "holds"},
            {"claim": "another", "passed": False, "evidence": "e", "outcome": "undecided"},
        ],
        "details": {"execution_seconds": {"total": 12.0, "measuring": 10.0, "reading": 2.0}, **details},
    }


@pytest.fixture
def book(tmp_path) -> Path:
    """A checkout (``_toc.yml``, ``_config.yml``, ``book/``, ``src/repro`` with one experiment) and a build folder
    ``_build`` holding the run of profile quick."""
    root = tmp_path / "repo"
    (root / "book").mkdir(parents=True)
    (root / "_toc.yml").write_text(TOC)
    shutil.copy2(REPO / "_config.yml", root / "_config.yml")
    (root / "book" / "intro.py").write_text("# # Intro\n")
    (root / "book" / "ch1.py").write_text("# # Chapter one\n\nx = 1\n")
    package = root / "src" / "repro"
    (package / "experiments").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "experiments" / "__init__.py").write_text("")
    (package / "helper.py").write_text(HELPER)
    (package / "experiments" / "toy.py").write_text(TOY)
    build = root / "_build"
    executed, results = build / "executed" / "quick", build / "results" / "quick"
    executed.mkdir(parents=True)
    results.mkdir(parents=True)
    (executed / "intro.ipynb").write_text(json.dumps(_notebook("Intro")))
    (executed / "ch1.ipynb").write_text(json.dumps(_notebook("Chapter one", "verdict: supported\n")))
    record = {"experiment": "run_toy", "key": KEY, "read_back": False, "seconds": 10.0}
    (results / "ch1.json").write_text(json.dumps(_results(measurements=[record])))
    timings = {name: {"wall_time_s": 14.0, "finished_utc": "2030-01-02T03:04:06+00:00"} for name in ("intro", "ch1")}
    (results / "_timings.json").write_text(json.dumps(timings))
    folder = build / "results" / "measurements" / "quick" / "ch1"
    save(folder / f"run_toy-{KEY}.measurement", [1.0, 2.0], key=KEY, name="run_toy", info={"seconds": 10.0})
    return root


def _publish(root: Path, **kwargs) -> dict:
    return publish_store(root / "_build", profile="quick", toc=root / "_toc.yml", log=lambda _: None, **kwargs)


def test_publish_copies_the_run_and_writes_its_manifest(book):
    manifest = _publish(book)
    store = book / "published" / "quick"
    assert sorted(manifest["files"]) == [
        f"measurements/ch1/run_toy-{KEY}.measurement",
        "notebooks/ch1.ipynb",
        "notebooks/intro.ipynb",
        "results/ch1.json",
    ]
    assert (manifest["commit"], manifest["dirty"], manifest["torch"]) == (COMMIT, False, "9.9")
    assert manifest["wall_time_s"]["chapters"] == 28.0
    chapter = manifest["chapters"]["ch1"]
    assert chapter["measurements"][0]["module"] == "repro.experiments.toy"
    assert sorted(chapter["measurements"][0]["code_files"]) == [
        "__init__.py", "experiments/__init__.py", "experiments/toy.py", "helper.py"
    ]  # fmt: skip
    assert manifest["fingerprints_from"] == "working tree"  # the fake commit is in no repository
    assert read_manifest(store) == manifest
    assert check_store(store, book / "_toc.yml") == []
    assert not [p for p in store.parent.iterdir() if p.name.startswith(".")]  # no temporary folder left


def test_results_of_two_commits_are_refused_naming_the_chapters(book):
    (book / "_toc.yml").write_text(TOC + "  - file: book/ch2\n")
    (book / "book" / "ch2.py").write_text("# # Two\n")
    build = book / "_build"
    (build / "executed" / "quick" / "ch2.ipynb").write_text(json.dumps(_notebook("Two")))
    (build / "results" / "quick" / "ch2.json").write_text(json.dumps(_results("f" * 40)))
    named = r"2 commits(.|\n)*0123456789ab: ch1(.|\n)*ffffffffffff: ch2(.|\n)*make book PROFILE=quick"
    with pytest.raises(BookError, match=named):
        _publish(book)
    assert not (book / "published" / "quick").exists()


def test_a_chapter_without_notebook_needs_a_reason(book):
    (book / "_build" / "executed" / "quick" / "ch1.ipynb").unlink()
    with pytest.raises(BookError, match="ch1, and no reason stated"):
        _publish(book)
    manifest = _publish(book, absent={"ch1": "CIFAR-100 cannot be had"})
    assert manifest["chapters"]["ch1"] == {
        "status": "absent",
        "reason": "CIFAR-100 cannot be had",
        "source": {"path": "book/ch1.py", "sha256": manifest["chapters"]["ch1"]["source"]["sha256"]},
    }
    store = book / "published" / "quick"
    assert check_store(store, book / "_toc.yml") == []
    src, _ = stage_store(store, toc=book / "_toc.yml", dest=book / "_build" / "site-src")
    staged = (src / "book" / "ch1.ipynb").read_text()
    assert "# Chapter one" in staged and "CIFAR-100 cannot be had" in staged


def test_an_existing_store_is_replaced_only_by_a_complete_one(book, monkeypatch):
    _publish(book)
    store = book / "published" / "quick"
    before = (store / "manifest.json").read_text()
    monkeypatch.setattr(store_module, "MAX_FILE_BYTES", 100)
    with pytest.raises(BookError, match=r"notebooks/ch1.ipynb is .*, over the 0.0 MB \(100 bytes\) a file may be"):
        _publish(book)
    monkeypatch.undo()
    assert (store / "manifest.json").read_text() == before
    assert check_store(store, book / "_toc.yml") == [] and len(list(store.parent.iterdir())) == 1


def test_check_store_finds_a_changed_file_and_a_verdict_not_shown(book):
    _publish(book)
    store = book / "published" / "quick"
    (store / "notebooks" / "ch1.ipynb").write_text(json.dumps(_notebook("Chapter one")))
    problems = check_store(store, book / "_toc.yml")
    assert "notebooks/ch1.ipynb differs from the manifest's size or SHA-256" in problems
    assert any("ch1: its results file says 'supported', its notebook does not print it" in p for p in problems)


def test_restore_puts_the_measurements_back_where_a_chapter_reads_them(book, tmp_path):
    _publish(book)
    fresh = tmp_path / "fresh-build"
    written = restore_store(book / "published" / "quick", fresh, log=lambda _: None)
    assert len(written) == 4
    assert (fresh / "results" / "measurements" / "quick" / "ch1" / f"run_toy-{KEY}.measurement").is_file()
    assert (fresh / "results" / "quick" / "ch1.json").is_file()
    assert (fresh / "executed" / "quick" / "ch1.ipynb").is_file()
    assert restore_store(book / "published" / "quick", fresh, log=lambda _: None) == []  # kept unless overwrite


def _staged_cells(root: Path, chapter: str) -> list[dict]:
    src, _ = stage_store(root / "published" / "quick", toc=root / "_toc.yml", dest=root / "_build" / "site-src")
    return json.loads((src / "book" / f"{chapter}.ipynb").read_text())["cells"]


def test_a_page_carries_its_provenance_and_no_stale_mark_while_nothing_changed(book):
    _publish(book)
    cells = _staged_cells(book, "ch1")
    assert [c["source"][:10] for c in cells[:4]] == ["# Chapter ", "```{admoni", "```{admoni", "Some prose"]
    answer, box = cells[1]["source"], cells[2]["source"]
    assert "Verdict: supported" in answer and "(1 hold, 0 contradicted, 1 undecided)" in answer
    assert "profile quick, commit 0123456789ab" in box and "device cpu" in box and "wall time: 14 s" in box
    assert "`run_toy`: measured in this run at commit `0123456789ab`" in box
    assert not any("stale" in c["metadata"].get("tags", []) for c in cells)


def test_an_edited_chapter_source_makes_its_page_stale(book):
    _publish(book)
    (book / "book" / "ch1.py").write_text("# # Chapter one\n\nx = 2\n")
    cells = _staged_cells(book, "ch1")
    stale = [c["source"] for c in cells if "stale" in c["metadata"].get("tags", [])]
    assert len(stale) == 1 and "book/ch1.py differs from the one published" in stale[0]
    assert "make restore-store PROFILE=quick && make book PROFILE=quick && make publish-store" in stale[0]
    assert not any("stale" in c["metadata"].get("tags", []) for c in _staged_cells(book, "intro"))


def test_changed_measuring_code_makes_the_page_stale_but_a_docstring_does_not(book):
    manifest = _publish(book)
    helper = book / "src" / "repro" / "helper.py"
    helper.write_text(HELPER.replace('"""Helper."""', '"""Helper, documented."""'))
    assert stale_chapters(manifest, SourceTree.checkout(book)) == {}
    helper.write_text(HELPER.replace("2 * x", "3 * x"))
    assert stale_chapters(manifest, SourceTree.checkout(book)) == {
        "ch1": ["the code that measured run_toy (repro.experiments.toy) changed: repro/helper.py changed"]
    }


def test_the_command_line_publishes_restores_and_refuses_a_damaged_store(book, tmp_path, capsys):
    toc, build = str(book / "_toc.yml"), str(book / "_build")
    assert main(["publish-store", "--toc", toc, "--profile", "quick", "--build-dir", build]) == 0
    assert "published profile quick at commit 0123456789abcdef" in capsys.readouterr().out
    fresh = str(tmp_path / "fresh")
    assert main(["restore-store", "--toc", toc, "--profile", "quick", "--build-dir", fresh]) == 0
    assert "restored 4 of 4 files of profile quick" in capsys.readouterr().out
    (book / "published" / "quick" / "results" / "ch1.json").write_text("{}")
    assert main(["publish", "--toc", toc, "--profile", "quick", "--build-dir", fresh]) == 1
    assert "results/ch1.json differs from the manifest" in capsys.readouterr().err
