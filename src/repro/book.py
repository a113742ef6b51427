"""The book's runner: execute chapters (Jupytext → papermill), build the site (Jupyter Book 1), references.

Usage (``python -m repro.book --help`` for every option)::

    python -m repro.book list
    python -m repro.book run [CHAPTER ...] --profile quick|paper --device auto|cpu|cuda --seed N \\
        --data-root PATH --build-dir _build
    python -m repro.book site --profile quick --build-dir _build
    python -m repro.book references [CHAPTER ...]
    python -m repro.book times --profile paper          (Markdown table: status, wall time, device, verdict)

Chapters are the Jupytext py:percent files named in ``_toc.yml`` (``root`` and every ``file`` entry, in
order); a chapter's name is its file name without ``.py`` (``book/fig03.py`` → ``fig03``). Adding a chapter =
adding its ``.py`` to ``book/`` and a line to ``_toc.yml``.

Layout under the build folder (default ``_build`` beside ``_toc.yml``)::

    executed/<profile>/<chapter>.ipynb         executed notebooks (written only when every cell succeeded)
    executed/<profile>/<chapter>.FAILED.ipynb  the notebook of a failed run, up to the failing cell
    results/<profile>/<chapter>.json           each chapter's results (repro.results), plus wall_time_s
    results/<profile>/_timings.json            wall time and status of every chapter run
    site-src/                                  what Jupyter Book builds: _config.yml, _toc.yml, the notebooks
    html/                                      the site (open html/index.html)
    jupyter/kernels/python3/                   the kernel spec used for execution (this Python)

Kernel: the runner writes a ``python3`` kernel spec whose ``argv`` is *this* interpreter (``sys.executable``)
under ``<build>/jupyter`` and puts that folder first on ``JUPYTER_PATH`` while it executes, so the notebooks
run in the same environment as the runner whatever kernels the user has installed. The kernel also gets
``REPRO_RESULTS_DIR=<build>/results`` and ``REPRO_TOC``, and finds this copy of ``repro`` first on
``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from repro.devices import DEVICES
from repro.profiles import PROFILES
from repro.results import markdown_table, timings_path, timings_table

__all__ = [
    "BookError",
    "Chapter",
    "ChapterFailed",
    "ChapterRun",
    "build_site",
    "check_offline",
    "executed_dir",
    "find_toc",
    "main",
    "make_references",
    "read_toc",
    "run",
    "run_chapter",
    "select_chapters",
    "stage_site",
]

KERNEL_NAME = "python3"
TOC_NAME = "_toc.yml"
TOC_ENV = "REPRO_TOC"
CONFIG_NAME = "_config.yml"
REFERENCE_DIR = Path("tests") / "reference"
#: Parameters every chapter's ``parameters`` cell defines, with the values the runner passes by default.
DEFAULT_PARAMETERS = {"profile": "quick", "device": "auto", "seed": 0, "data_root": None}
#: The offline MathJax 2.7 copy goes to ``<site>/mathjax/`` through Sphinx's ``html_extra_path`` (not
#: ``_static``: Jupyter Book 1 would add a <script> tag for every .js file found under ``_static``).
OFFLINE_DIR = "_offline"
_MATHJAX_SKIP = ("localization", "SVG", "unpacked")  # parts of the MathJax copy the site never loads


class BookError(Exception):
    """A problem the user can fix (unknown chapter or profile, missing file, failed chapter or build)."""


class ChapterFailed(BookError):
    """A chapter raised in one of its cells; ``notebook`` is the ``.FAILED.ipynb`` kept for inspection."""

    def __init__(
        self,
        chapter: str,
        message: str,
        *,
        notebook: Path | None,
        cell_index: int | None = None,
        exec_count: int | None = None,
        ename: str | None = None,
        evalue: str | None = None,
    ):
        super().__init__(message)
        self.chapter = chapter
        self.notebook = notebook
        self.cell_index = cell_index
        self.exec_count = exec_count
        self.ename = ename
        self.evalue = evalue


@dataclass(frozen=True)
class Chapter:
    """A chapter: ``name`` (``"fig03"``), ``docname`` as in ``_toc.yml`` (``"book/fig03"``), its .py file."""

    name: str
    docname: str
    source: Path


@dataclass(frozen=True)
class ChapterRun:
    chapter: Chapter
    notebook: Path
    wall_time_s: float
    results: Path | None


# --------------------------------------------------------------------------------------------- chapters


def find_toc(start: str | os.PathLike | None = None) -> Path:
    """The table of contents: ``$REPRO_TOC`` (set by the runner for its kernels), else ``_toc.yml`` in
    ``start`` (default: cwd) or a parent folder, else beside this package's source checkout."""
    if start is None and os.environ.get(TOC_ENV):
        return Path(os.environ[TOC_ENV])
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / TOC_NAME).is_file():
            return folder / TOC_NAME
    checkout = Path(__file__).resolve().parents[2] / TOC_NAME  # src/repro/book.py → repository root
    if checkout.is_file():
        return checkout
    raise BookError(f"no {TOC_NAME} found in {here} or its parents; pass --toc PATH")


def _toc_files(node: object) -> Iterator[str]:
    """Every ``root`` and ``file`` entry of a sphinx-external-toc tree, in reading order."""
    if isinstance(node, dict):
        for key in ("root", "file"):
            if isinstance(node.get(key), str):
                yield node[key]
        for key, value in node.items():
            if key not in ("root", "file"):
                yield from _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            yield from _toc_files(item)


def read_toc(toc: str | os.PathLike) -> list[Chapter]:
    """The chapters of ``toc`` in reading order; a chapter's source is ``<toc folder>/<file>.py``."""
    import yaml

    toc = Path(toc)
    if not toc.is_file():
        raise BookError(f"table of contents {toc} does not exist")
    with toc.open(encoding="utf-8") as fh:
        tree = yaml.safe_load(fh)
    chapters: list[Chapter] = []
    for docname in _toc_files(tree):
        docname = re.sub(r"\.(py|ipynb|md)$", "", docname)
        name = Path(docname).name
        if any(c.name == name for c in chapters):
            raise BookError(f"{toc}: two chapters are named {name!r}; chapter file names must be unique")
        chapters.append(Chapter(name=name, docname=docname, source=toc.parent / f"{docname}.py"))
    if not chapters:
        raise BookError(f"{toc} lists no chapters")
    return chapters


def select_chapters(chapters: Sequence[Chapter], names: Sequence[str] | None) -> list[Chapter]:
    """The chapters called ``names`` (all of them if empty), in the order asked; their sources must exist."""
    by_name = {c.name: c for c in chapters}
    valid = ", ".join(by_name)
    selected = []
    for name in names or list(by_name):
        key = Path(name).stem if name.endswith((".py", ".ipynb")) else Path(name).name
        if key not in by_name:
            raise BookError(f"unknown chapter {name!r}; chapters in the table of contents: {valid}")
        selected.append(by_name[key])
    missing = [c for c in selected if not c.source.is_file()]
    if missing:
        lines = "\n".join(f"  {c.name}: {c.source} does not exist" for c in missing)
        raise BookError(
            f"chapter source file(s) missing (listed in {TOC_NAME} but not written yet?):\n{lines}"
        )
    return selected


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise BookError(f"unknown profile {profile!r}; valid profiles: {', '.join(PROFILES)}")
    return profile


def check_device(device: str) -> str:
    if device not in DEVICES:
        raise BookError(f"unknown device {device!r}; valid devices: {', '.join(DEVICES)}")
    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise BookError("--device cuda was requested but torch sees no CUDA device here; use auto or cpu")
    return device


def executed_dir(build_dir: str | os.PathLike, profile: str) -> Path:
    return Path(build_dir) / "executed" / profile


# --------------------------------------------------------------------------------------------- kernel


def ensure_kernel(build_dir: str | os.PathLike) -> Path:
    """Write ``<build>/jupyter/kernels/python3/kernel.json`` (this Python); return ``<build>/jupyter``."""
    root = Path(build_dir).resolve() / "jupyter"
    spec_dir = root / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        # log_level=ERROR: ipykernel ≥ 7 warns on every start that local TCP is unencrypted
        "argv": [
            sys.executable,
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
            "--IPKernelApp.log_level=ERROR",
        ],
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "env": {"PYDEVD_DISABLE_FILE_VALIDATION": "1"},
        "metadata": {"debugger": False},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
    return root


@contextlib.contextmanager
def _environment(**updates: str | None) -> Iterator[None]:
    """Set (or, with None, unset) environment variables for the duration of the block."""
    saved = {key: os.environ.get(key) for key in updates}
    try:
        for key, value in updates.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _prepend_path(var: str, entry: Path) -> str:
    current = os.environ.get(var)
    return f"{entry}{os.pathsep}{current}" if current else str(entry)


def _kernel_environment(build_dir: Path, toc: Path) -> contextlib.AbstractContextManager[None]:
    """JUPYTER_PATH → our kernel spec; REPRO_RESULTS_DIR → <build>/results; REPRO_TOC → the table of contents;
    this ``repro`` first on PYTHONPATH."""
    jupyter_root = ensure_kernel(build_dir)
    updates = {
        "JUPYTER_PATH": _prepend_path("JUPYTER_PATH", jupyter_root),
        "REPRO_RESULTS_DIR": str((build_dir / "results").resolve()),  # repro.results.RESULTS_ENV
        TOC_ENV: str(toc.resolve()),
    }
    package_parent = Path(__file__).resolve().parents[1]
    if package_parent.name not in ("site-packages", "dist-packages"):
        updates["PYTHONPATH"] = _prepend_path("PYTHONPATH", package_parent)
    return _environment(**updates)


# --------------------------------------------------------------------------------------------- execution


def _load_chapter(chapter: Chapter):
    import jupytext

    nb = jupytext.read(chapter.source)
    tagged = [
        i for i, cell in enumerate(nb.cells) if "parameters" in cell.get("metadata", {}).get("tags", [])
    ]
    if len(tagged) != 1:
        raise BookError(
            f"chapter {chapter.name} ({chapter.source}) must have exactly one cell tagged "
            f"'parameters', found {len(tagged)}"
        )
    nb.metadata["kernelspec"] = {
        "name": KERNEL_NAME,
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    return nb


def _tidy_papermill_metadata(nb, chapter: Chapter, output: Path) -> None:
    """Record the chapter's source and final notebook as papermill's input and output paths."""
    meta = nb.metadata.get("papermill")
    if meta is not None:
        meta["input_path"] = str(chapter.source)
        meta["output_path"] = str(output)


def _final_state(text: str) -> str:
    """What a terminal would show: on each line, the text after the last carriage return (progress bars)."""
    lines = []
    for line in text.split("\n"):
        parts = line.split("\r")
        lines.append(next((part for part in reversed(parts) if part), ""))
    return "\n".join(lines)


def _collapse_streams(nb) -> None:
    """Merge each cell's consecutive outputs to one stream; keep the final state of every progress bar.

    The kernel sends a tqdm bar as one stream message per update (thousands for a long training run); stored
    as they are, the notebook grows by megabytes and the site shows every update on a line of its own.
    """
    for cell in nb.cells:
        if cell.cell_type != "code" or not cell.get("outputs"):
            continue
        merged = []
        for output in cell.outputs:
            previous = merged[-1] if merged else None
            if (
                output.output_type == "stream"
                and previous is not None
                and previous.output_type == "stream"
                and previous.name == output.name
            ):
                previous.text += output.text
            else:
                merged.append(output)
        for output in merged:
            if output.output_type == "stream" and "\r" in output.text:
                output.text = _final_state(output.text)
        cell.outputs = merged


def _hide_injected_parameters(nb) -> None:
    """Tag papermill's injected-parameters cell ``remove-cell`` so the site does not show it."""
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = [*tags, "remove-cell"]


def _first_lines(source: str, n: int = 3) -> str:
    lines = [line for line in source.strip().splitlines() if line.strip()]
    more = "\n    …" if len(lines) > n else ""
    return "\n".join(f"    {line}" for line in lines[:n]) + more


def _locate(source_file: Path, cell_source: str) -> str:
    """``<file> line <n>``: where the failing cell's code starts in the chapter's .py, if it can be found."""
    with contextlib.suppress(OSError):
        text = source_file.read_text(encoding="utf-8")
        at = text.find(cell_source.strip()) if cell_source.strip() else -1
        if at >= 0:
            return f"{source_file} line {text.count(chr(10), 0, at) + 1}"
    return str(source_file)


def _now_utc() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _update_timings(build_dir: Path, profile: str, chapter: str, entry: dict) -> None:
    path = timings_path(profile, build_dir / "results")
    path.parent.mkdir(parents=True, exist_ok=True)
    timings = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    timings[chapter] = entry
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(timings, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def run_chapter(
    chapter: Chapter,
    *,
    profile: str = "quick",
    device: str = "auto",
    seed: int = 0,
    data_root: str | os.PathLike | None = None,
    build_dir: str | os.PathLike = "_build",
    log_output: bool = False,
    toc: str | os.PathLike | None = None,
) -> ChapterRun:
    """Execute one chapter with papermill into ``<build>/executed/<profile>/<chapter>.ipynb``.

    The notebook is written to a hidden partial file and renamed into place only when every cell succeeded. On
    an error the partial notebook becomes ``<chapter>.FAILED.ipynb`` and :class:`ChapterFailed` names the
    chapter and the failing cell. The chapter's previous notebook and results file are removed first, so
    nothing stale survives a failed run.
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from repro.results import record_wall_time, results_path

    check_profile(profile)
    build_dir = Path(build_dir)
    out_dir = executed_dir(build_dir, profile)
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / f"{chapter.name}.ipynb"
    failed = out_dir / f"{chapter.name}.FAILED.ipynb"
    partial = out_dir / f".{chapter.name}.partial.ipynb"
    results_root = build_dir / "results"
    stale_results = results_path(chapter.name, profile, results_root)
    for path in (final, failed, partial, stale_results):
        path.unlink(missing_ok=True)

    nb = _load_chapter(chapter)
    parameters = {
        "profile": profile,
        "device": device,
        "seed": int(seed),
        "data_root": None if data_root is None else str(Path(data_root).expanduser().resolve()),
    }
    start = time.perf_counter()
    error: BaseException | None = None
    with _kernel_environment(build_dir, Path(toc) if toc else find_toc()):
        try:
            papermill.execute_notebook(
                nb,
                str(partial),
                parameters=parameters,
                kernel_name=KERNEL_NAME,
                cwd=str(chapter.source.parent.resolve()),
                progress_bar=False,
                log_output=log_output,
            )
        except BaseException as exc:  # noqa: B036 - also keep the partial notebook on KeyboardInterrupt
            error = exc
    wall = time.perf_counter() - start
    entry = {
        "wall_time_s": round(wall, 3),
        "device_requested": device,
        "seed": int(seed),
        "finished_utc": _now_utc(),
    }

    if error is not None:
        kept = None
        if partial.exists():
            with contextlib.suppress(Exception):  # best effort: the notebook may be unreadable
                broken = nbformat.read(partial, as_version=4)
                _tidy_papermill_metadata(broken, chapter, failed)
                nbformat.write(broken, partial)
            os.replace(partial, failed)
            kept = failed
        _update_timings(build_dir, profile, chapter.name, {**entry, "status": "failed"})
        where = f"the failed notebook is kept at {kept}" if kept else "no notebook was written"
        if isinstance(error, PapermillExecutionError):
            message = (
                f"chapter {chapter.name} failed after {wall:.1f} s in cell In [{error.exec_count}] "
                f"(notebook cell {error.cell_index}, {_locate(chapter.source, error.source)}):\n"
                f"{_first_lines(error.source)}\n"
                f"{error.ename}: {error.evalue}\n{where}"
            )
            raise ChapterFailed(
                chapter.name,
                message,
                notebook=kept,
                cell_index=error.cell_index,
                exec_count=error.exec_count,
                ename=error.ename,
                evalue=error.evalue,
            ) from error
        if isinstance(error, Exception):
            message = (
                f"chapter {chapter.name} ({chapter.source}) failed after {wall:.1f} s: "
                f"{type(error).__name__}: {error}\n{where}"
            )
            raise ChapterFailed(chapter.name, message, notebook=kept) from error
        raise error  # KeyboardInterrupt, SystemExit: the partial notebook is already renamed .FAILED

    executed = nbformat.read(partial, as_version=4)
    _hide_injected_parameters(executed)
    _collapse_streams(executed)
    _tidy_papermill_metadata(executed, chapter, final)
    nbformat.write(executed, partial)
    os.replace(partial, final)
    results = record_wall_time(chapter.name, profile, wall, results_root)
    _update_timings(build_dir, profile, chapter.name, {**entry, "status": "ok"})
    return ChapterRun(chapter=chapter, notebook=final, wall_time_s=wall, results=results)


def run(
    names: Sequence[str] | None = None,
    *,
    toc: str | os.PathLike | None = None,
    profile: str = "quick",
    device: str = "auto",
    seed: int = 0,
    data_root: str | os.PathLike | None = None,
    build_dir: str | os.PathLike | None = None,
    log_output: bool = False,
    log: Callable[[str], None] = print,
) -> list[ChapterRun]:
    """Execute the named chapters (default: all, in ``_toc.yml`` order); stop at the first failure."""
    toc = Path(toc) if toc else find_toc()
    check_profile(profile)
    check_device(device)
    chapters = select_chapters(read_toc(toc), names)
    build_dir = Path(build_dir) if build_dir else toc.parent / "_build"
    runs = []
    total = time.perf_counter()
    for i, chapter in enumerate(chapters, 1):
        log(f"[{i}/{len(chapters)}] {chapter.name}: profile={profile} device={device} seed={seed} …")
        done = run_chapter(
            chapter,
            profile=profile,
            device=device,
            seed=seed,
            data_root=data_root,
            build_dir=build_dir,
            log_output=log_output,
            toc=toc,
        )
        log(f"[{i}/{len(chapters)}] {chapter.name}: {done.wall_time_s:.1f} s → {done.notebook}")
        runs.append(done)
    log(f"{len(runs)} chapter(s) executed in {time.perf_counter() - total:.1f} s")
    return runs


# --------------------------------------------------------------------------------------------- site


def _mathjax_source() -> Path:
    import jupyter_server_mathjax

    static = Path(jupyter_server_mathjax.__file__).parent / "static"
    if not (static / "MathJax.js").is_file():
        raise BookError(f"jupyter_server_mathjax has no MathJax.js under {static}")
    return static


def stage_site(
    notebook_dir: str | os.PathLike,
    *,
    toc: str | os.PathLike | None = None,
    config: str | os.PathLike | None = None,
    dest: str | os.PathLike,
) -> Path:
    """Assemble a Jupyter Book source folder from already-executed notebooks.

    ``dest`` is emptied and receives ``_toc.yml``, ``_config.yml``, ``<docname>.ipynb`` for every chapter
    (from ``<notebook_dir>/<chapter>.ipynb``), each chapter folder's ``_static/`` if it has one, and the
    offline MathJax under ``_offline/mathjax/``.
    """
    toc = Path(toc) if toc else find_toc()
    config = Path(config) if config else toc.parent / CONFIG_NAME
    notebook_dir, dest = Path(notebook_dir), Path(dest)
    chapters = read_toc(toc)
    missing = [c.name for c in chapters if not (notebook_dir / f"{c.name}.ipynb").is_file()]
    if missing:
        raise BookError(
            f"no executed notebook in {notebook_dir} for chapter(s) {', '.join(missing)}; "
            f"run `python -m repro.book run {' '.join(missing)}` (or `make references` for the "
            "test references) first"
        )
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copy2(toc, dest / TOC_NAME)
    shutil.copy2(config, dest / CONFIG_NAME)
    for chapter in chapters:
        target = dest / f"{chapter.docname}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(notebook_dir / f"{chapter.name}.ipynb", target)
        static = chapter.source.parent / "_static"
        if static.is_dir() and not (target.parent / "_static").exists():
            shutil.copytree(static, target.parent / "_static")
    shutil.copytree(
        _mathjax_source(), dest / OFFLINE_DIR / "mathjax", ignore=shutil.ignore_patterns(*_MATHJAX_SKIP)
    )
    return dest


class _ResourceLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        url = attributes.get("src") if tag in ("script", "img", "iframe") else None
        if tag == "link" and "canonical" not in (attributes.get("rel") or ""):
            url = attributes.get("href")
        if url and re.match(r"^(https?:)?//", url):
            self.urls.append(f"<{tag}> {url}")


def check_offline(html_dir: str | os.PathLike) -> list[str]:
    """``"<page>: <tag> <url>"`` for each script, stylesheet, image or frame fetched from the web."""
    problems = []
    for page in sorted(Path(html_dir).rglob("*.html")):
        parser = _ResourceLinks()
        parser.feed(page.read_text(encoding="utf-8", errors="replace"))
        problems += [f"{page.relative_to(html_dir)}: {url}" for url in parser.urls]
    return problems


def build_site(
    src: str | os.PathLike, *, html_dir: str | os.PathLike, log: Callable[[str], None] = print
) -> Path:
    """``jupyter-book build <src> --all -W --keep-going`` (no execution); copy the HTML to ``html_dir``."""
    src, html_dir = Path(src), Path(html_dir)
    command = [
        sys.executable,
        "-c",
        "from jupyter_book.cli.main import main; main()",
        "build",
        str(src),
        "--all",
        "-W",
        "--keep-going",
        "--builder",
        "html",
    ]
    log(f"building the site: jupyter-book build {src} --all -W --keep-going")
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        report = re.sub(r"\x1b\[[0-9;]*m", "", f"{done.stdout[-8000:]}\n{done.stderr[-8000:]}")  # no colours
        raise BookError(f"jupyter-book build failed (exit {done.returncode}):\n{report}")
    built = src / "_build" / "html"
    problems = check_offline(built)
    if problems:
        raise BookError("the site would load resources from the web:\n" + "\n".join(problems))
    if html_dir.exists():
        shutil.rmtree(html_dir)
    shutil.copytree(built, html_dir)
    log(f"site built in {time.perf_counter() - start:.1f} s → {html_dir / 'index.html'}")
    return html_dir


def _is_thebe_asset(asset: object) -> bool:
    name = str(getattr(asset, "filename", None) or asset or "")
    body = str((getattr(asset, "attributes", None) or {}).get("body", ""))
    return "thebe" in name or "THEBE_JS_URL" in body


def _drop_thebe(app, pagename, templatename, context, doctree) -> None:
    for key in ("script_files", "css_files"):
        if isinstance(context.get(key), list):
            context[key][:] = [asset for asset in context[key] if not _is_thebe_asset(asset)]


def setup(app) -> dict:
    """Sphinx extension (``_config.yml``: ``sphinx.extra_extensions: [repro.book]``).

    Jupyter Book 1 always loads sphinx-thebe, which puts thebe's CDN address and a script on every page
    (twice, which is a JavaScript error). The book has no live code, so its pages drop thebe's assets.
    """
    app.connect("html-page-context", _drop_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


# --------------------------------------------------------------------------------------------- references


def _portable_reference(nb, chapter: Chapter, target: Path, root: Path) -> None:
    """Drop timestamps and durations, and write paths relative to the repository, so that regenerated
    references differ only where the results differ and carry no machine's paths."""
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
    meta = nb.metadata.get("papermill", {})
    for key in ("start_time", "end_time", "duration"):
        meta.pop(key, None)
    for key, path in (("input_path", chapter.source), ("output_path", target)):
        if key in meta:
            path = Path(os.path.abspath(path))
            meta[key] = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name


def make_references(
    names: Sequence[str] | None = None,
    *,
    toc: str | os.PathLike | None = None,
    reference_dir: str | os.PathLike | None = None,
    log: Callable[[str], None] = print,
) -> list[Path]:
    """Regenerate ``tests/reference/<chapter>.ipynb``: quick profile, CPU, seed 0, ``data_root=None``.

    ``data_root=None`` means the committed notebooks carry no machine's path: when nbval re-runs them, the
    package resolves ``$REPRO_DATA_ROOT`` (or its default) on that machine.
    """
    import nbformat

    toc = Path(toc) if toc else find_toc()
    reference_dir = Path(reference_dir) if reference_dir else toc.parent / REFERENCE_DIR
    reference_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="repro-references-") as tmp:
        runs = run(
            names, toc=toc, profile="quick", device="cpu", seed=0, data_root=None, build_dir=tmp, log=log
        )
        for done in runs:
            nb = nbformat.read(done.notebook, as_version=4)
            target = reference_dir / f"{done.chapter.name}.ipynb"
            _portable_reference(nb, done.chapter, target, Path(os.path.abspath(toc.parent)))
            partial = reference_dir / f".{done.chapter.name}.partial.ipynb"
            nbformat.write(nb, partial)
            os.replace(partial, target)
            log(f"reference written: {target}")
            written.append(target)
    return written


# --------------------------------------------------------------------------------------------- CLI


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m repro.book", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--toc", type=Path, default=None, help=f"table of contents (default: the nearest {TOC_NAME})"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    # --toc is also accepted after the command; SUPPRESS keeps an absent one from hiding the global value
    toc_after = argparse.ArgumentParser(add_help=False)
    toc_after.add_argument("--toc", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    sub.add_parser("list", help="list the chapters in table-of-contents order", parents=[toc_after])

    def build_dir_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--build-dir", type=Path, default=None, help="build folder (default: _build beside _toc.yml)"
        )

    def profile_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--profile", default="quick", help=f"experiment sizes: {' | '.join(PROFILES)} (default quick)"
        )

    p_run = sub.add_parser(
        "run", help="execute chapters into <build>/executed/<profile>/", parents=[toc_after]
    )
    p_run.add_argument("chapters", nargs="*", metavar="CHAPTER", help="chapter names (default: all)")
    profile_option(p_run)
    p_run.add_argument(
        "--device", default="auto", help=f"{' | '.join(DEVICES)} (default auto: CUDA if available)"
    )
    p_run.add_argument("--seed", type=int, default=0)
    p_run.add_argument(
        "--data-root",
        type=Path,
        default=None,
        help="dataset folder (default: the package's: $REPRO_DATA_ROOT, else ~/.cache/repro/data)",
    )
    build_dir_option(p_run)
    p_run.add_argument(
        "--log-output", action="store_true", help="stream the notebooks' outputs to the terminal"
    )

    p_site = sub.add_parser(
        "site", help="build the HTML site from the executed notebooks (no execution)", parents=[toc_after]
    )
    profile_option(p_site)
    build_dir_option(p_site)
    p_site.add_argument(
        "--notebooks",
        type=Path,
        default=None,
        help="folder of executed notebooks (default: <build>/executed/<profile>)",
    )
    p_site.add_argument(
        "--config", type=Path, default=None, help=f"book config (default: {CONFIG_NAME} beside the toc)"
    )

    p_times = sub.add_parser(
        "times",
        help="print a Markdown table of the chapters run: status, wall time, device, verdict",
        parents=[toc_after],
    )
    profile_option(p_times)
    build_dir_option(p_times)

    p_ref = sub.add_parser(
        "references", help="regenerate tests/reference/*.ipynb (quick, cpu, seed 0)", parents=[toc_after]
    )
    p_ref.add_argument("chapters", nargs="*", metavar="CHAPTER", help="chapter names (default: all)")
    p_ref.add_argument(
        "--reference-dir", type=Path, default=None, help="default: tests/reference beside the toc"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        toc = args.toc or find_toc()
        if args.command == "list":
            for chapter in read_toc(toc):
                state = "" if chapter.source.is_file() else "   (missing)"
                print(f"{chapter.name:<16} {chapter.source}{state}")
        elif args.command == "run":
            if args.log_output:
                import logging

                logging.basicConfig(level=logging.INFO, format="%(message)s")
            run(
                args.chapters,
                toc=toc,
                profile=args.profile,
                device=args.device,
                seed=args.seed,
                data_root=args.data_root,
                build_dir=args.build_dir,
                log_output=args.log_output,
            )
        elif args.command == "site":
            check_profile(args.profile)
            build_dir = args.build_dir or toc.parent / "_build"
            notebooks = args.notebooks or executed_dir(build_dir, args.profile)
            src = stage_site(notebooks, toc=toc, config=args.config, dest=build_dir / "site-src")
            build_site(src, html_dir=build_dir / "html")
        elif args.command == "times":
            check_profile(args.profile)
            build_dir = args.build_dir or toc.parent / "_build"
            names = [chapter.name for chapter in read_toc(toc)]
            rows = timings_table(args.profile, names, out_dir=build_dir / "results")
            if not rows:
                raise BookError(f"no chapter has been run with profile {args.profile!r} in {build_dir}")
            print(markdown_table(rows))
        elif args.command == "references":
            make_references(args.chapters, toc=toc, reference_dir=args.reference_dir)
    except BookError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
