"""The chapters' kit: what a chapter (``book/*.py``) imports, and nothing that executes chapters or builds the site.

- :mod:`~repro.book.chapter` — the chapter contract: one call opens a chapter (its config for the profile, the device,
  the plotting style, the seed), one judges its checks, one closes it (results file, the regression summary line);
- :mod:`~repro.book.profiles` — the chapter × profile table of experiment settings;
- :mod:`~repro.book.figures` — seaborn figures laid out like the paper's; :mod:`~repro.book.tables` — the tables;
- :mod:`~repro.book.results` — one machine-readable results file per chapter and profile;
- :mod:`~repro.book.toc` — the chapters, in reading order, from ``_toc.yml`` (yaml and pathlib only: the summary
  and intro chapters read it, and so does the runner).

The runner that executes the chapters and builds the site is :mod:`repro.runner` (``python -m repro.runner``); it
imports this kit, never the other way round, so a chapter loads neither papermill, Jupyter Book, jupytext, nbformat
nor Dask.
"""

from repro.book.toc import BookError, Chapter, find_toc, read_toc, select_chapters

__all__ = ["BookError", "Chapter", "find_toc", "read_toc", "select_chapters"]
