"""The book on a Dask cluster: ``python -m repro.runner run --workers N`` or ``--scheduler ADDRESS``.

The chapters are independent but for two kinds of dependency, both read from the data rather than listed by hand:

- a chapter whose profile config is the *same object* as an earlier chapter's (in ``_toc.yml`` order) reads the
  experiment that chapter computed from the cache (``fig10`` and ``critical-length`` share ``fig08``'s
  learning-rate sweep), so it waits for that chapter;
- the summary chapter (:data:`SUMMARY_CHAPTER`, ``claims``) reads every results file, so it waits for all others.

A learning-rate sweep (:class:`repro.experiments.configs.LRSweepConfig`) is split further: each of its groups
(:func:`repro.experiments.lr_sweep.lr_sweep_groups`: one per dataset, its runs trained together as one stacked
network) is a task of its own that trains into the sweep's per-group cache entry
(:func:`repro.experiments.lr_sweep.train_lr_sweep_group`), and the first chapter of the sweep waits for them and reads
them back. One sweep thus spreads over the workers (as many tasks as datasets), its groups are the same as in a
serial run (so are its results), and its cache entries are the unit of resumption.

Every chapter runs on a worker through :func:`repro.runner.execute.run_chapter`, exactly as in a serial run: the same
notebook, results file, failure report (chapter, cell, source line) and ``.FAILED.ipynb``. The chapter contract
(:func:`repro.book.chapter.open_chapter`) finds the same things there as in a serial run: ``run_chapter`` writes the
kernel spec (the worker's Python) under ``<build>/jupyter`` and gives the kernel ``REPRO_RESULTS_DIR`` and
``REPRO_TOC``, so results files and the shared cache land in the build folder the client named. Its ``_timings.json``
entry also records the worker and a digest of what the chapter's output depends on (:func:`chapter_digest`: its
source, profile, seed, device, data root and the package's source). A later cluster run skips a chapter whose entry
says *ok* for the same digest and whose notebook and results file exist (``force=True`` redoes it), and redoes every
chapter that depends on one it redoes.

Failures are contained: a failing chapter is reported while the others go on; the chapters that depend on it are
skipped. The scheduler is told not to retry a task whose worker died (``distributed.scheduler.allowed-failures``
= 0 on the ``LocalCluster``; start an external scheduler with ``DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=0``
for the same): a worker that dies mid-chapter (killed, out of memory) makes that chapter *failed* with Dask's
``KilledWorker`` as the reason; its partial notebook becomes ``<chapter>.FAILED.ipynb`` and anything it had written
(results file, notebook) is removed. A chapter that was only waiting on the dead worker, not yet started, is
submitted again. The chapter's kernel does not outlive its worker: ipykernel polls its parent process
(``JPY_PARENT_PID``, set by jupyter_client) and exits within a second of the parent's death.

On a shared network the scheduler takes TLS connections only: ``--scheduler tls://host:8786`` with the client's
credentials, ``--tls-ca-file CA.pem --tls-cert CLIENT.pem --tls-key CLIENT-KEY.pem`` (``run_on_cluster(...,
security=Security(tls_ca_file=..., tls_client_cert=..., tls_client_key=..., require_encryption=True))``), which
:mod:`~repro.runner.cluster.client` hands to ``distributed.Client``; without them Dask's own configuration
(``distributed.comm.tls``) is used, and a ``tls://`` address with no credentials anywhere is an error.

Order: when several tasks are ready, sweep groups start first, then chapters that others wait for, then the rest,
each group in :func:`~repro.runner.cluster.plan.start_order` (``_toc.yml`` order, or longest first by the wall
times of an earlier run in the same build folder).

Workers: one task at a time each. Every chapter's kernel and every sweep group uses ``threads`` CPU threads
(default 1), exactly as in a serial run: PyTorch's CPU results depend on the thread count, so this, not cores / N,
is what makes the results files of the two runs identical. A ``LocalCluster`` of N workers × ``threads`` threads
beyond the cores here is reported (oversubscription). With ``device`` other than ``cpu`` and several GPUs visible,
worker *i* sees GPU *i* mod #GPUs alone (``CUDA_VISIBLE_DEVICES``).

The package, one job a module: :mod:`~repro.runner.cluster.plan` (the dependency graph and the sweep-group
tasks), :mod:`~repro.runner.cluster.resume` (digests, and what counts as finished),
:mod:`~repro.runner.cluster.tasks` (what runs on a worker), :mod:`~repro.runner.cluster.client` (starting or
connecting to a cluster, the workers' environments, the shared-folder check), :mod:`~repro.runner.cluster.graph`
(the plan as Dask tasks, each with what it waits for and its priority), :mod:`~repro.runner.cluster.submission`
(submitting, progress lines, dead workers), :mod:`~repro.runner.cluster.report` (the chapters that ran, and those
that did not) and :mod:`~repro.runner.cluster.run` (:func:`run_on_cluster`: these steps in order).
"""

from __future__ import annotations

from repro.runner.cluster.plan import SUMMARY_CHAPTER, Plan, SweepGroup, chapter_config, plan_run
from repro.runner.cluster.resume import chapter_digest, package_digest
from repro.runner.cluster.run import run_on_cluster
from repro.runner.cluster.tasks import PROGRESS_TOPIC

__all__ = [
    "SUMMARY_CHAPTER",
    "PROGRESS_TOPIC",
    "SweepGroup",
    "Plan",
    "chapter_config",
    "chapter_digest",
    "package_digest",
    "plan_run",
    "run_on_cluster",
]
