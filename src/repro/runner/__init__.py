"""The book's runner: it executes the chapters and builds the site (``python -m repro.runner``, :mod:`~.cli`).

- :mod:`~repro.runner.execute` — each chapter's Jupytext source run with papermill in a kernel of this Python, and
  the serial run over chapters; its parts: :mod:`~repro.runner.kernel` (the kernel spec, its environment and CPU
  threads), :mod:`~repro.runner.notebooks` (the chapter's notebook: read, kept as ``.FAILED``, tidied into place)
  and :mod:`~repro.runner.failures` (the failure report: chapter, cell, source line);
- :mod:`~repro.runner.timings` — the record of every chapter run (``_timings.json``) and the table ``times`` prints;
- :mod:`~repro.runner.site` — the site (Jupyter Book 1, offline), and the Sphinx extension ``repro.runner.site``
  that ``_config.yml`` loads;
- :mod:`~repro.runner.references` — the notebooks nbval re-runs (``tests/reference/``);
- :mod:`~repro.runner.store` — a run published into the repository (``published/<profile>/``: notebooks, results
  files, measurements and the manifest of :mod:`~repro.runner.manifest`, with the fingerprints of
  :mod:`~repro.runner.fingerprints`), checked and restored into a build folder; :mod:`~repro.runner.provenance`
  stages the site from it, each page with its provenance and, when its chapter or measuring code changed, a stale
  mark;
- :mod:`~repro.runner.sensitivity` — each named threshold halved and doubled, the chapters it can move re-executed
  from the build's stored measurements only (``sensitivity``; ``_sensitivity.json``, shown on the claims page);
- :mod:`~repro.runner.cluster` — the chapters and the sweep's runs as Dask tasks (``run --workers N`` /
  ``--scheduler ADDRESS``, ``tls://`` with ``--tls-ca-file``/``--tls-cert``/``--tls-key``); Dask is the ``cluster``
  extra, imported only there.

The runner reads the chapters' kit (:mod:`repro.book`: the table of contents, the profiles, the results files); the
kit never imports the runner. Every heavy dependency (papermill, jupytext, nbformat, Jupyter Book, Dask) is imported
inside the function that needs it.
"""

from repro.book.toc import BookError
from repro.runner.cli import main
from repro.runner.execute import ChapterFailed, ChapterRun, executed_dir, run, run_chapter
from repro.runner.references import make_references
from repro.runner.site import build_site, check_offline, stage_site

__all__ = [
    "BookError",
    "ChapterFailed",
    "ChapterRun",
    "build_site",
    "check_offline",
    "executed_dir",
    "main",
    "make_references",
    "run",
    "run_chapter",
    "stage_site",
]
