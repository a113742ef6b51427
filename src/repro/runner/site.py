"""The site: a Jupyter Book 1 source folder staged from executed notebooks, built with warnings as errors, checked to
load nothing from the web; and the Sphinx extension (``repro.runner.site``) that drops sphinx-thebe's assets.

Under the build folder: ``site-src/`` (what Jupyter Book builds: ``_config.yml``, ``_toc.yml``, the notebooks, the
chapters' shared ``_includes/`` and ``_static/``, the offline MathJax) and ``html/`` (the site; open ``index.html``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

from repro.book.toc import TOC_NAME, BookError, find_toc, read_toc

__all__ = ["CONFIG_NAME", "stage_site", "check_offline", "build_site", "setup"]

CONFIG_NAME = "_config.yml"


#: The offline MathJax 2.7 copy goes to ``<site>/mathjax/`` through Sphinx's ``html_extra_path`` (not
#: ``_static``: Jupyter Book 1 would add a <script> tag for every .js file found under ``_static``).
OFFLINE_DIR = "_offline"


_MATHJAX_SKIP = ("localization", "SVG", "unpacked")  # parts of the MathJax copy the site never loads


_SHARED_FOLDERS = ("_static", "_includes")  # copied beside the chapters: images, prose shared through {include}


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
    (from ``<notebook_dir>/<chapter>.ipynb``), each chapter folder's ``_static/`` and ``_includes/`` if it has them,
    and the offline MathJax under ``_offline/mathjax/``.
    """
    toc = Path(toc) if toc else find_toc()
    config = Path(config) if config else toc.parent / CONFIG_NAME
    notebook_dir, dest = Path(notebook_dir), Path(dest)
    chapters = read_toc(toc)
    missing = [c.name for c in chapters if not (notebook_dir / f"{c.name}.ipynb").is_file()]
    if missing:
        raise BookError(
            f"no executed notebook in {notebook_dir} for chapter(s) {', '.join(missing)}; "
            f"run `python -m repro.runner run {' '.join(missing)}` (or `make references` for the "
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
        for folder in _SHARED_FOLDERS:
            shared = chapter.source.parent / folder
            if shared.is_dir() and not (target.parent / folder).exists():
                shutil.copytree(shared, target.parent / folder)
    shutil.copytree(_mathjax_source(), dest / OFFLINE_DIR / "mathjax", ignore=shutil.ignore_patterns(*_MATHJAX_SKIP))
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


def build_site(src: str | os.PathLike, *, html_dir: str | os.PathLike, log: Callable[[str], None] = print) -> Path:
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
    """Sphinx extension (``_config.yml``: ``sphinx.extra_extensions: [repro.runner.site]``).

    Jupyter Book 1 always loads sphinx-thebe, which puts thebe's CDN address and a script on every page
    (twice, which is a JavaScript error). The book has no live code, so its pages drop thebe's assets.
    """
    app.connect("html-page-context", _drop_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
