"""The Dask client of a cluster run (:mod:`repro.runner.cluster`): a ``LocalCluster`` whose workers divide the
cores and GPUs, or an existing cluster (over TLS on a shared network: a ``tls://`` address and a
``distributed.security.Security``), and the check that its workers share the build folder and package."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path

from repro.book.toc import BookError, Chapter
from repro.runner.cluster.resume import package_digest
from repro.runner.cluster.tasks import probe_shared_folder, scheduler_allowed_failures
from repro.runner.kernel import thread_environment


def _visible_gpus() -> list[str]:
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [g for g in visible.split(",") if g.strip()]
    with contextlib.suppress(Exception):
        import torch

        return [str(i) for i in range(torch.cuda.device_count())]
    return []


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def worker_environments(n: int, device: str, threads: int) -> list[dict[str, str]]:
    """Each worker's environment: ``threads`` CPU threads for OpenMP/MKL/OpenBLAS (what a serial run gives each
    chapter, so that results are the same), and one GPU each when several are visible and the device may be CUDA."""
    base = thread_environment(threads)
    gpus = _visible_gpus() if device != "cpu" else []
    if len(gpus) < 2:
        return [dict(base) for _ in range(n)]
    return [{**base, "CUDA_VISIBLE_DEVICES": gpus[i % len(gpus)]} for i in range(n)]


def _local_cluster(n: int, device: str, threads: int):
    """A ``LocalCluster`` of ``n`` worker processes (one task at a time each) with :func:`worker_environments`."""
    import logging

    from distributed import LocalCluster

    environments = worker_environments(n, device, threads)

    class _Cluster(LocalCluster):
        def new_worker_spec(self):  # like dask-cuda: each new worker gets its own environment
            spec = super().new_worker_spec()
            for name, worker in spec.items():
                options = dict(worker["options"])
                options["env"] = environments[int(name) % n]
                spec[name] = {**worker, "options": options}
            return spec

    cluster = _Cluster(
        n_workers=0,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # any free port (the HTTP server also runs without bokeh)
        silence_logs=logging.ERROR,
    )
    cluster.scale(n)
    return cluster


def _check_security(scheduler, security) -> None:
    """TLS credentials are for an existing scheduler, a ``tls://`` address needs them, and credentials that require
    encryption need a ``tls://`` address; :class:`BookError` otherwise, before anything connects.

    The credentials are ``security`` (a ``distributed.security.Security``), else Dask's configuration
    (``distributed.comm.tls``, or a ``distributed.client.security-loader``)."""
    import dask
    from distributed.deploy import Cluster
    from distributed.security import Security

    if scheduler is None:
        if security is not None:
            raise BookError(
                "TLS credentials (--tls-ca-file, --tls-cert, --tls-key; security=) are for an existing scheduler "
                "(--scheduler tls://host:port), not for a LocalCluster of --workers"
            )
        return
    if isinstance(scheduler, Cluster) or os.path.isfile(str(scheduler)):  # the address is the cluster's or the file's
        return
    address = str(scheduler)
    if address.startswith("tls://"):
        given = security or Security()  # Security() holds Dask's configuration
        if not (given.tls_ca_file and given.tls_client_cert) and not dask.config.get(
            "distributed.client.security-loader", None
        ):
            raise BookError(
                f"the scheduler at {address} takes TLS connections: give the CA certificate that signed its "
                "certificate and this client's certificate and key (--tls-ca-file, --tls-cert, --tls-key; "
                "run_on_cluster(security=Security(...))), or set them in Dask's configuration (distributed.comm.tls)"
            )
    elif security is not None and security.require_encryption:
        raise BookError(f"the TLS credentials require encryption, but {address} is not a tls:// address")


@contextlib.contextmanager
def cluster_client(
    workers: int | None, scheduler, device: str, threads: int, log: Callable[[str], None], security=None
):
    """A Dask client of the run's cluster (a new ``LocalCluster`` when ``scheduler`` is None), its scheduler
    configured to fail, not re-run, a task whose worker dies; ``security`` (``distributed.security.Security``)
    for an existing scheduler's ``tls://`` address."""
    import dask
    from distributed import Client
    from distributed.deploy import Cluster

    _check_security(scheduler, security)
    dashboard = importlib.util.find_spec("bokeh") is not None
    settings = {
        "distributed.scheduler.allowed-failures": 0,  # a chapter whose worker dies fails; it is not re-run
        "distributed.scheduler.worker-saturation": 1.0,  # one queued task per worker thread, not 1.1
    }
    with dask.config.set(settings), contextlib.ExitStack() as stack:
        if scheduler is None:
            if workers * threads > _cores():
                log(
                    f"cluster: {workers} worker(s) × {threads} thread(s) is more than the {_cores()} core(s) here; "
                    "oversubscribed cores can make chapters many times slower (fewer --workers or --threads)"
                )
            cluster = stack.enter_context(_local_cluster(workers, device, threads))
            client = stack.enter_context(Client(cluster))
            client.wait_for_workers(workers, timeout=120)
            where = f"a LocalCluster of {workers} worker process(es)"
        elif isinstance(scheduler, Cluster):  # e.g. a dask_jobqueue.SLURMCluster made by the caller
            client = stack.enter_context(Client(scheduler, security=security))
            where = f"{type(scheduler).__name__} at {scheduler.scheduler_address}"
        elif os.path.isfile(str(scheduler)):
            client = stack.enter_context(Client(scheduler_file=str(scheduler), timeout="30s", security=security))
            where = f"the scheduler of {scheduler}"
        else:
            try:
                client = stack.enter_context(Client(str(scheduler), timeout="30s", security=security))
            except OSError as exc:
                raise BookError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
            where = f"the scheduler at {scheduler}"
        if workers is not None and scheduler is not None:
            client.wait_for_workers(workers, timeout=300)
        if scheduler is not None:
            with contextlib.suppress(Exception):
                retries = client.run_on_scheduler(scheduler_allowed_failures)
                if retries:
                    log(
                        f"cluster: this scheduler runs a task again when its worker dies (allowed-failures = "
                        f"{retries}); start it with DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=0 to have such a "
                        "chapter reported as failed instead"
                    )
        info = client.scheduler_info()
        log(f"cluster: {where}, {len(info['workers'])} worker(s) ({client.scheduler.address})")
        if dashboard and info.get("services", {}).get("dashboard") is not None and client.dashboard_link:
            log(f"cluster: Dask dashboard at {client.dashboard_link}")
        yield client


def check_shared_folders(client, build_dir: Path, chapters: Sequence[Chapter]) -> None:
    """Every worker must see the build folder (and the chapter sources) at the same paths, and run this package."""
    build_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    probe = build_dir / f".cluster-probe-{token[:8]}"
    probe.write_text(token, encoding="utf-8")
    try:
        answers = client.run(probe_shared_folder, [str(probe), *(str(c.source) for c in chapters)], token)
    except Exception as exc:
        raise BookError(
            f"the workers cannot run repro.runner.cluster (is this package installed there?): {exc}"
        ) from exc
    finally:
        probe.unlink(missing_ok=True)
    if not answers:
        raise BookError("the Dask cluster has no workers")
    problems = [f"  {addr} (host {a['host']}): {a['problem']}" for addr, a in answers.items() if a["problem"]]
    if problems:
        raise BookError(
            f"the build folder {build_dir} (and the chapters) must be on a filesystem every worker shares, at the "
            "same path; these workers cannot see it:\n" + "\n".join(problems)
        )
    mine = package_digest()
    other = [f"  {addr} (host {a['host']})" for addr, a in answers.items() if a["package"] != mine]
    if other:
        raise BookError("these workers run another version of the repro package than this one:\n" + "\n".join(other))
    pythons = {a["python"] for a in answers.values()}
    if len(pythons) > 1:
        raise BookError(
            f"the workers run different Python interpreters ({', '.join(sorted(pythons))}), but they share one "
            f"kernel spec under {build_dir / 'jupyter'}; run every worker from the same environment path"
        )
