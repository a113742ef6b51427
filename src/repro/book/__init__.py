"""The book: its chapters' contract, figures and tables, and the runner that executes the chapters and builds the site.

What a chapter uses:

- :mod:`~repro.book.chapter` — the chapter contract: one call opens a chapter (its config for the profile, the device,
  the plotting style, the seed), one judges its checks, one closes it (results file, the regression summary line);
- :mod:`~repro.book.profiles` — the chapter × profile table of experiment settings;
- :mod:`~repro.book.figures` — seaborn figures laid out like the paper's; :mod:`~repro.book.tables` — the tables;
- :mod:`~repro.book.results` — one machine-readable results file per chapter and profile.

The runner (``python -m repro.book``, :mod:`~repro.book.cli`): :mod:`~repro.book.toc` (the chapters, from
``_toc.yml``), :mod:`~repro.book.execute` (papermill in a kernel of this Python), :mod:`~repro.book.site` (Jupyter
Book 1, offline; also the Sphinx extension ``repro.book`` that ``_config.yml`` loads),
:mod:`~repro.book.references` (the notebooks nbval re-runs), :mod:`~repro.book.cluster` (the chapters and the sweep's
runs as Dask tasks, ``run --workers N`` / ``--scheduler``; Dask is the ``cluster`` extra, imported only there; a
package: ``plan``, ``resume``, ``tasks``, ``client``, ``run``).
"""

from repro.book.cli import main
from repro.book.execute import ChapterFailed, ChapterRun, executed_dir, run, run_chapter
from repro.book.references import make_references
from repro.book.site import build_site, check_offline, setup, stage_site
from repro.book.toc import BookError, Chapter, find_toc, read_toc, select_chapters

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
    "setup",
    "stage_site",
]
