"""The chapter runner (``python -m repro.runner``) and the results files (``repro.book.results``).

The runner is exercised on throwaway py:percent chapters written to a temporary folder with their own
``_toc.yml``, never on the book's real chapters.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from repro import book, runner
from repro.book.results import load_results, record_wall_time, results_path, save_results
from repro.claims import Check
from repro.devices import describe_device, resolve_device
from repro.runner import BookError, ChapterFailed
from repro.runner.timings import timings_table

pytestmark = pytest.mark.slow  # chapters executed in Jupyter kernels

PARAMETERS = """# %% tags=["parameters", "remove-cell"]
profile = "quick"
device = "auto"
seed = 0
data_root = None
"""

TINY = (
    """# %% [markdown]
# # A tiny chapter
#
# Writes a results file and prints its headline.

"""
    + PARAMETERS
    + """
# %%
from repro.book.results import save_results

save_results("tiny", profile=profile, seed=seed, device="cpu", headline={"answer": 42, "ratio": 0.5},
             verdict="holds", details={"data_root": data_root})

# %% tags=["nbval-check-output"]
print("answer = 42")
"""
)

BROKEN = (
    """# %% [markdown]
# # A broken chapter

"""
    + PARAMETERS
    + """
# %%
x = 1

# %%
raise ValueError("deliberate failure in the broken chapter")

# %%
print("never reached")
"""
)

NO_PARAMETERS = """# %%
print("no parameters cell")
"""


@pytest.fixture
def toy_book(tmp_path: Path) -> Path:
    """A book with four chapters: ``tiny`` (works), ``broken`` (raises), ``plain`` (no parameters cell) and
    ``absent`` (listed but never written); returns its ``_toc.yml``."""
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "tiny.py").write_text(TINY)
    (tmp_path / "book" / "broken.py").write_text(BROKEN)
    (tmp_path / "book" / "plain.py").write_text(NO_PARAMETERS)
    toc = tmp_path / "_toc.yml"
    toc.write_text(
        "format: jb-book\nroot: book/tiny\nchapters:\n  - file: book/broken\n  - file: book/plain\n"
        "  - file: book/absent\n"
    )
    return toc


# ----------------------------------------------------------------------------------------- table of contents


def test_read_toc_lists_chapters_in_reading_order(toy_book):
    chapters = book.read_toc(toy_book)
    assert [c.name for c in chapters] == ["tiny", "broken", "plain", "absent"]
    assert chapters[0].docname == "book/tiny"
    assert chapters[0].source == toy_book.parent / "book" / "tiny.py"


def test_read_toc_follows_parts(tmp_path):
    toc = tmp_path / "_toc.yml"
    toc.write_text(
        "format: jb-book\nroot: book/intro\nparts:\n  - caption: One\n    chapters:\n"
        "      - file: book/a\n      - file: book/b.py\n  - caption: Two\n    chapters:\n"
        "      - file: book/c\n"
    )
    assert [c.name for c in book.read_toc(toc)] == ["intro", "a", "b", "c"]


def test_the_books_own_toc_starts_with_the_intro():
    chapters = book.read_toc(Path(__file__).resolve().parents[1] / "_toc.yml")
    assert chapters[0].name == "intro"


def test_unknown_chapter_is_an_error_listing_the_valid_ones(toy_book, tmp_path):
    with pytest.raises(BookError, match=r"unknown chapter 'nope'.*tiny, broken, plain, absent"):
        runner.run(["nope"], toc=toy_book, build_dir=tmp_path / "_build")


def test_unknown_profile_is_an_error_listing_the_valid_ones(toy_book, tmp_path):
    with pytest.raises(BookError, match=r"unknown profile 'huge'.*quick, paper"):
        runner.run(["tiny"], toc=toy_book, profile="huge", build_dir=tmp_path / "_build")


def test_unknown_device_is_an_error(toy_book, tmp_path):
    with pytest.raises(BookError, match=r"unknown device 'tpu'.*'auto', 'cpu', 'cuda'"):
        runner.run(["tiny"], toc=toy_book, device="tpu", build_dir=tmp_path / "_build")


@pytest.mark.parametrize("threads", [0, -1, 1.5, True])
def test_threads_must_be_a_positive_whole_number(toy_book, tmp_path, threads):
    with pytest.raises(BookError, match="threads must be a positive whole number"):
        runner.run(["tiny"], toc=toy_book, device="cpu", build_dir=tmp_path / "_build", threads=threads)
    assert not (tmp_path / "_build").exists()


def test_the_kernel_runs_on_the_threads_asked_for(toy_book, tmp_path):
    runner.run(["tiny"], toc=toy_book, device="cpu", build_dir=tmp_path / "_build", threads=2, log=lambda _m: None)
    result = json.loads((tmp_path / "_build" / "results" / "quick" / "tiny.json").read_text())
    timings = json.loads((tmp_path / "_build" / "results" / "quick" / "_timings.json").read_text())
    assert result["threads"] == 2 and timings["tiny"]["threads"] == 2


def test_chapter_listed_but_not_written_is_an_error(toy_book, tmp_path):
    with pytest.raises(BookError, match=r"absent: .*absent\.py does not exist"):
        runner.run(None, toc=toy_book, build_dir=tmp_path / "_build")  # all chapters: checked before any runs
    assert not (tmp_path / "_build" / "executed").exists()


def test_chapter_without_parameters_cell_is_an_error(toy_book, tmp_path):
    with pytest.raises(BookError, match=r"plain .*exactly one cell tagged 'parameters'"):
        runner.run(["plain"], toc=toy_book, build_dir=tmp_path / "_build")


def test_cli_reports_errors_with_a_non_zero_exit(toy_book, tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "repro.runner",
            "--toc",
            str(toy_book),
            "run",
            "nope",
            "--profile",
            "quick",
            "--build-dir",
            str(tmp_path / "_build"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "unknown chapter 'nope'" in done.stderr and "tiny" in done.stderr


# --------------------------------------------------------------------------------------------- execution


def test_successful_run_writes_notebook_results_and_timings(toy_book, tmp_path):
    build = tmp_path / "_build"
    (tmp_path / "data").mkdir()
    [done] = runner.run(
        ["tiny"],
        toc=toy_book,
        profile="quick",
        device="cpu",
        seed=3,
        data_root=tmp_path / "data",
        build_dir=build,
        log=lambda _msg: None,
    )

    executed = build / "executed" / "quick"
    assert done.notebook == executed / "tiny.ipynb" and done.notebook.is_file()
    assert sorted(p.name for p in executed.iterdir()) == ["tiny.ipynb"]  # no partial or FAILED file

    nb = json.loads(done.notebook.read_text())
    injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(injected) == 1 and "remove-cell" in injected[0]["metadata"]["tags"]
    assert "seed = 3" in "".join(injected[0]["source"])
    assert nb["metadata"]["papermill"]["input_path"].endswith("tiny.py")
    last = nb["cells"][-1]
    assert last["outputs"][0]["text"] == ["answer = 42\n"] or last["outputs"][0]["text"] == "answer = 42\n"

    result = json.loads((build / "results" / "quick" / "tiny.json").read_text())
    assert result["chapter"] == "tiny" and result["profile"] == "quick" and result["seed"] == 3
    assert result["device"] == "cpu" and result["threads"] == 1  # the runner's default, whatever the cores
    assert set(result["versions"]) >= {"python", "torch", "numpy", "repro"}
    assert set(result["git"]) == {"commit", "dirty"}
    assert result["timestamp_utc"].endswith("+00:00")
    assert result["headline"] == {"answer": 42, "ratio": 0.5} and result["verdict"] == "holds"
    assert result["details"]["data_root"] == str((tmp_path / "data").resolve())
    assert result["wall_time_s"] == pytest.approx(done.wall_time_s, abs=1e-3) and result["wall_time_s"] > 0

    timings = json.loads((build / "results" / "quick" / "_timings.json").read_text())
    assert timings["tiny"]["status"] == "ok" and timings["tiny"]["seed"] == 3 and timings["tiny"]["threads"] == 1
    assert [r["chapter"] for r in load_results("quick", build / "results")] == ["tiny"]
    assert (build / "jupyter" / "kernels" / "python3" / "kernel.json").is_file()

    rows = timings_table("quick", ["tiny", "broken"], build / "results")  # chapters not run are left out
    assert [(r["chapter"], r["status"], r["device"], r["verdict"]) for r in rows] == [("tiny", "ok", "cpu", "holds")]
    assert rows[0]["wall_time_s"] == pytest.approx(done.wall_time_s, abs=1e-3)


def test_failing_cell_names_chapter_and_cell_and_leaves_no_complete_notebook(toy_book, tmp_path, capsys):
    build = tmp_path / "_build"
    executed = build / "executed" / "quick"
    executed.mkdir(parents=True)
    (executed / "broken.ipynb").write_text("{}")  # a stale notebook from an earlier run must not survive

    code = runner.main(["--toc", str(toy_book), "run", "broken", "--device", "cpu", "--build-dir", str(build)])

    assert code == 1
    err = capsys.readouterr().err
    assert "chapter broken" in err and "ValueError: deliberate failure in the broken chapter" in err
    assert 'raise ValueError("deliberate failure' in err  # the failing cell's source
    assert "In [" in err and "broken.FAILED.ipynb" in err
    assert not (executed / "broken.ipynb").exists()
    assert not list(executed.glob(".*"))  # no partial file either
    failed = json.loads((executed / "broken.FAILED.ipynb").read_text())
    assert any(o.get("ename") == "ValueError" for c in failed["cells"] for o in c.get("outputs", []))
    timings = json.loads((build / "results" / "quick" / "_timings.json").read_text())
    assert timings["broken"]["status"] == "failed"

    capsys.readouterr()
    assert runner.main(["--toc", str(toy_book), "times", "--build-dir", str(build)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0] == "| chapter | status | wall_time_s | device | verdict | finished_utc |"
    assert table[2].startswith("| broken | failed | ") and "| cpu | — |" in table[2]  # no results file, no verdict
    assert runner.main(["--toc", str(toy_book), "times", "--profile", "paper", "--build-dir", str(build)]) == 1


def test_failure_raises_chapter_failed_with_the_cell(toy_book, tmp_path):
    with pytest.raises(ChapterFailed) as info:
        runner.run_chapter(
            book.read_toc(toy_book)[1], device="cpu", build_dir=tmp_path / "_build", toc=toy_book
        )
    failure = info.value
    assert failure.chapter == "broken" and failure.ename == "ValueError"
    assert isinstance(failure.cell_index, int) and failure.notebook.name == "broken.FAILED.ipynb"


# --------------------------------------------------------------------------------------------- site staging


def test_stage_site_requires_every_chapters_notebook(toy_book, tmp_path):
    notebooks = tmp_path / "nbs"
    notebooks.mkdir()
    (notebooks / "tiny.ipynb").write_text("{}")
    (toy_book.parent / "_config.yml").write_text("title: toy\n")
    with pytest.raises(BookError, match=r"no executed notebook .* broken, plain, absent"):
        runner.stage_site(notebooks, toc=toy_book, dest=tmp_path / "site-src")


def test_check_offline_flags_remote_scripts_and_styles(tmp_path):
    (tmp_path / "a.html").write_text(
        '<script src="https://cdn.example/x.js"></script><link rel="stylesheet" href="//cdn.example/y.css">'
        '<script src="_static/local.js"></script><a href="https://example.org">a link is fine</a>'
    )
    problems = runner.check_offline(tmp_path)
    assert len(problems) == 2 and all("cdn.example" in p for p in problems)


# --------------------------------------------------------------------------------------------- results files


def test_save_results_writes_every_field_atomically(tmp_path):
    path = save_results(
        "fig99",
        profile="quick",
        seed=np.int64(1),
        device="cpu",
        headline={
            "mean": np.float32(0.25),
            "n": np.int64(7),
            "missing": float("nan"),
            "label": "x",
            "none": None,
        },
        verdict="reproduced",
        checks=[Check("a claim", True, "[0.1, 0.2] vs 0.0"), Check("the network learned", True, "acc 0.9", True)],
        details={"curve": np.arange(3), "t": torch.tensor([1.5])},
        out_dir=tmp_path,
    )
    assert path == tmp_path / "quick" / "fig99.json"
    data = json.loads(path.read_text())
    assert data["headline"] == {"mean": 0.25, "n": 7, "missing": None, "label": "x", "none": None}
    assert data["details"] == {"curve": [0, 1, 2], "t": [1.5]}
    assert data["seed"] == 1 and data["schema"] == 2 and data["verdict"] == "reproduced"
    assert [Check.from_record(c) for c in data["checks"]][1] == Check("the network learned", True, "acc 0.9", True)
    assert [p.name for p in path.parent.iterdir()] == ["fig99.json"]  # no temporary file left


def test_save_results_default_folder_is_env_then_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REPRO_RESULTS_DIR", raising=False)
    kwargs = {"profile": "paper", "seed": 0, "device": "cpu", "headline": {}, "verdict": None}
    assert save_results("a", **kwargs) == tmp_path / "_build" / "results" / "paper" / "a.json"
    monkeypatch.setenv("REPRO_RESULTS_DIR", str(tmp_path / "elsewhere"))
    assert save_results("a", **kwargs) == tmp_path / "elsewhere" / "paper" / "a.json"


def test_save_results_rejects_bad_values(tmp_path):
    kwargs = {"profile": "quick", "seed": 0, "device": "cpu", "verdict": None, "out_dir": tmp_path}
    with pytest.raises(ValueError, match="headline"):
        save_results("a", headline={"nested": {"no": 1}}, **kwargs)
    with pytest.raises(ValueError, match="chapter"):
        save_results("../escape", headline={}, **kwargs)
    with pytest.raises(TypeError, match="details"):
        save_results("a", headline={}, details={"obj": object()}, **kwargs)


def test_load_results_and_record_wall_time(tmp_path):
    assert load_results("quick", tmp_path) == []
    for name in ("b", "a"):
        save_results(
            name, profile="quick", seed=0, device="cpu", headline={"x": 1}, verdict=None, out_dir=tmp_path
        )
    (tmp_path / "quick" / "_timings.json").write_text("{}")
    assert record_wall_time("a", "quick", 1.23456, tmp_path) == results_path("a", "quick", tmp_path)
    assert record_wall_time("nothing", "quick", 1.0, tmp_path) is None
    loaded = load_results("quick", tmp_path)
    assert [r["chapter"] for r in loaded] == ["a", "b"]
    assert loaded[0]["wall_time_s"] == 1.235 and "wall_time_s" not in loaded[1]


def test_results_store_no_non_finite_numbers(tmp_path):
    path = save_results(
        "a", profile="quick", seed=0, device="cpu", headline={"inf": math.inf}, verdict=None, out_dir=tmp_path
    )
    assert "Infinity" not in path.read_text() and json.loads(path.read_text())["headline"]["inf"] is None


# --------------------------------------------------------------------------------------------- devices


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    for bad in ("gpu", "cuda:1", "", None):
        with pytest.raises(ValueError, match="expected one of 'auto', 'cpu', 'cuda'"):
            resolve_device(bad)
    assert describe_device(torch.device("cpu")) == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_a_clear_error():
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        resolve_device("cuda")


def test_save_results_stores_the_config_with_its_initialisation(tmp_path):
    from repro.book.profiles import get_config

    kwargs = {"profile": "quick", "seed": 0, "device": "cpu", "headline": {}, "verdict": None, "out_dir": tmp_path}
    data = json.loads(save_results("a", config=get_config("fig03", "quick"), **kwargs).read_text())
    assert data["config"]["init"] == "glorot" and data["config"]["stages"] == [0, 3_200, 60_000, 120_000]
    data = json.loads(save_results("b", config=get_config("fig07", "quick"), **kwargs).read_text())
    assert [c["dataset"] for c in data["config"]] == ["cifar10", "fashion_mnist"]
    assert json.loads(save_results("c", **kwargs).read_text())["config"] is None
    with pytest.raises(ValueError, match="config"):
        save_results("d", config={"lr": 1e-3}, **kwargs)
