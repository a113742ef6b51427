"""The book's chapters on a Dask cluster (``python -m repro.runner run --workers N`` / ``--scheduler``,
repro.runner.cluster).

Throwaway chapters in a temporary book, as in test_runner_execute.py, written with the chapter contract
(:func:`repro.book.chapter.open_chapter`, so the contract is exercised inside the workers' kernels); the sweep is four
tiny runs on the synthetic spherical-harmonics data. Every test checks that it leaves no process behind: no child of
the test process, and no process whose command line or environment names the test's temporary folder (the chapters'
kernels carry it in ``REPRO_RESULTS_DIR``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")
psutil = pytest.importorskip("psutil")

from distributed import Client  # noqa: E402

from repro import book, runner  # noqa: E402
from repro.experiments.configs import LRSweepConfig  # noqa: E402
from repro.runner import BookError, cluster  # noqa: E402

pytestmark = pytest.mark.slow  # Dask clusters and chapters on them: minutes

PARAMETERS = """# %% tags=["parameters", "remove-cell"]
profile = "quick"
device = "auto"
seed = 0
data_root = None
"""


def chapter(name: str, body: str) -> str:
    return f"# %% [markdown]\n# # {name}\n\n{PARAMETERS}\n# %%\n{body}"


def opens(name: str) -> str:
    return (
        "from repro.book.chapter import open_chapter\n\n"
        f'ch = open_chapter("{name}", profile=profile, device=device, seed=seed, data_root=data_root)\n'
    )


def closes(headline: str) -> str:
    return f"ch.close({headline})\n"


def saves(name: str, headline: str) -> str:
    return opens(name) + closes(headline)


ALPHA = chapter("alpha", saves("alpha", '{"answer": 42, "seed": seed}') + '\n# %%\nprint("alpha done")\n')

BROKEN = chapter(
    "broken", 'x = 1\n\n# %%\nraise ValueError("deliberate failure in the broken chapter")\n\n# %%\nprint("never")\n'
)

SWEEP_CONFIG = (
    "LRSweepConfig(datasets=('spherical_harmonics',), lrs=(1e-3, 1e-2), target_losses=(0.65, 0.6), fixed_images=640,"
    " n_train=320, n_stiffness=30, max_images=2_000, n_seeds=2, check_every=128, n_bins=8, n_boot=10)"
)
#: The sweep's config object: the chapter below builds an equal one, which has the same cache entries.
CFG: LRSweepConfig = eval(SWEEP_CONFIG)

SWEEPY = chapter(
    "sweepy",
    opens("sweepy")
    + "from repro.experiments.configs import LRSweepConfig\nfrom repro.experiments.lr_sweep import run_lr_sweep\n\n"
    f"cfg = {SWEEP_CONFIG}\n"
    "sweep = ch.run(run_lr_sweep, cfg, cache_dir=ch.cache_dir, progress=False)\n"
    "rows = sweep.rows[sweep.rows['rule'] == 'images'].sort_values(['lr', 'seed'])\n"
    "print(f'groups read back: {sweep.groups_from_cache}')\n\n# %%\n"
    + closes('{"between": [round(float(v), 12) for v in rows["between"]], "runs": len(rows)}'),
)


def write_book(folder: Path, chapters: dict[str, str]) -> Path:
    (folder / "book").mkdir(parents=True, exist_ok=True)
    for name, source in chapters.items():
        (folder / "book" / f"{name}.py").write_text(source)
    names = list(chapters)
    toc = folder / "_toc.yml"
    toc.write_text(
        f"format: jb-book\nroot: book/{names[0]}\nchapters:\n" + "".join(f"  - file: book/{n}\n" for n in names[1:])
    )
    return toc


def configs(name: str, profile: str):
    return CFG if name == "sweepy" else None


def command(proc) -> str:
    with contextlib.suppress(psutil.Error):
        return " ".join(proc.cmdline())
    return ""


def children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def leftovers(marker: str, before: set[int]) -> list[str]:
    """Processes still running that this test started: children of the test process that were not there before
    it, or any process whose command line or environment mentions ``marker`` (the test's temporary folder)."""
    found = {p.pid: p for p in psutil.Process().children(recursive=True) if p.pid not in before}
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            if marker in " ".join(proc.info["cmdline"] or []) or any(
                marker in value for value in proc.environ().values()
            ):
                found[proc.pid] = proc
        except (psutil.Error, OSError):
            continue
    found.pop(os.getpid(), None)
    # multiprocessing's resource tracker (started once, for the worker processes) belongs to the test process and
    # ends with it
    found = {pid: p for pid, p in found.items() if "multiprocessing.resource_tracker" not in command(p)}
    alive = []
    for proc in found.values():
        with contextlib.suppress(psutil.Error):
            if proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(f"{proc.pid} {' '.join(proc.cmdline())[:120]}")
    return alive


def no_leftovers(marker: str, before: set[int], within_s: float = 15.0) -> None:
    deadline = time.monotonic() + within_s
    while (alive := leftovers(marker, before)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not alive, f"processes left running: {alive}"


def comparable(path: Path) -> dict:
    """A results file without what differs between two runs of the same chapter: timestamp and wall times, and
    when, how fast and in which phases its measurements were made (the stored payload holds the run's own timings
    too, so its compressed size may differ by a few bytes; a sweep group trained as a task of its own counts its
    work in its own entry, not in the chapter's; the key and whether it was read back must not differ)."""
    data = json.loads(path.read_text())
    for key in ("timestamp_utc", "wall_time_s"):
        data.pop(key, None)
    data.get("details", {}).pop("execution_seconds", None)
    for record in data.get("details", {}).get("measurements", []):
        for timing in ("seconds", "measured_utc", "payload_bytes", "phases"):
            record.pop(timing)
    return data


# --------------------------------------------------------------------------------------------- the plan


def test_plan_of_the_books_own_chapters():
    """Dependencies come from the data: fig10 and critical-length share fig08's config object, so they wait for
    fig08, whose sweep is split into one task per run; claims waits for every other chapter."""
    chapters = book.read_toc(Path(__file__).resolve().parents[1] / "_toc.yml")
    plan = cluster.plan_run(chapters, all_chapters=chapters, profile="quick")
    assert [c.name for c in plan.run] == [c.name for c in chapters] and not plan.finished
    assert plan.needs["fig10"] == plan.needs["critical-length"] == ["fig08"]
    assert plan.needs["claims"] == [c.name for c in chapters if c.name != "claims"]
    assert all(not plan.needs[c.name] for c in chapters if c.name not in ("fig10", "critical-length", "claims"))
    assert list(plan.sweep_groups) == ["fig08"]
    cfg = plan.sweep_groups["fig08"][0].config
    assert [g.dataset for g in plan.sweep_groups["fig08"]] == list(cfg.datasets)
    # without fig08, the first of the others to run trains the sweep and the last waits for it
    later = [c for c in chapters if c.name in ("critical-length", "fig10")]
    plan = cluster.plan_run(later, all_chapters=chapters, profile="quick")
    assert list(plan.sweep_groups) == ["fig10"] and plan.needs == {"fig10": [], "critical-length": ["fig10"]}


def test_chapters_start_longest_first_once_their_times_are_known(tmp_path):
    """Without earlier wall times the chapters start in table-of-contents order; with them, the longest first
    (a chapter new since then before all of them), so that the last chapter to start is a short one."""
    names = ["intro", "setup", "fig02", "fig06", "new"]
    assert cluster.plan.start_order(names, {}) == names
    seconds = {"intro": 10.1, "setup": 109.8, "fig02": 60.9, "fig06": 73.8}
    assert cluster.plan.start_order(names, seconds) == ["new", "setup", "fig06", "fig02", "intro"]

    chapters = book.read_toc(Path(__file__).resolve().parents[1] / "_toc.yml")
    fresh = cluster.plan_run(chapters, all_chapters=chapters, profile="quick", build_dir=tmp_path)
    assert fresh.start_order == [c.name for c in chapters]
    timings = tmp_path / "results" / "quick" / "_timings.json"
    timings.parent.mkdir(parents=True)
    timings.write_text(json.dumps({"fig07": {"wall_time_s": 500.0, "status": "failed"}, "fig03": {"wall_time_s": 1}}))
    again = cluster.plan_run(chapters, all_chapters=chapters, profile="quick", build_dir=tmp_path, force=True)
    assert again.start_order[-2:] == ["fig07", "fig03"] and len(again.start_order) == len(chapters)


def test_chapters_are_held_back_until_a_thread_is_free():
    """Never more chapters in flight than the cluster has threads, highest priority first, and a chapter only
    after what it waits for has been submitted."""
    by_priority = ["chapter:fig08", "chapter:setup", "chapter:fig02", "chapter:fig10", "chapter:claims"]
    needs = {"chapter:fig08": ["run:a", "run:b"], "chapter:fig10": ["chapter:fig08"], "chapter:claims": by_priority[:4]}
    ready = cluster.plan.ready_to_submit
    assert ready(by_priority, needs, {"run:a", "run:b"}, 0, 2) == ["chapter:fig08", "chapter:setup"]
    submitted = {"run:a", "run:b", "chapter:fig08", "chapter:setup"}
    assert ready(by_priority, needs, submitted, 2, 2) == []  # both threads busy
    assert ready(by_priority, needs, submitted, 1, 2) == ["chapter:fig02"]
    assert ready(by_priority, needs, submitted, 0, 8) == ["chapter:fig02", "chapter:fig10", "chapter:claims"]
    assert ready(by_priority, needs, {"run:a"}, 0, 8) == ["chapter:setup", "chapter:fig02"]  # fig08 waits for run:b


def test_worker_environments_give_the_serial_thread_count_and_divide_the_gpus(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    envs = cluster.client.worker_environments(4, "auto", 2)
    assert [e["OMP_NUM_THREADS"] for e in envs] == ["2"] * 4 and envs[0]["MKL_NUM_THREADS"] == "2"
    assert envs[0]["OPENBLAS_NUM_THREADS"] == "2"
    assert [e["CUDA_VISIBLE_DEVICES"] for e in envs] == ["3", "5", "3", "5"]
    assert all("CUDA_VISIBLE_DEVICES" not in e for e in cluster.client.worker_environments(2, "cpu", 1))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")  # one GPU: every worker sees it, as the serial run would
    assert all("CUDA_VISIBLE_DEVICES" not in e for e in cluster.client.worker_environments(2, "auto", 1))


def test_a_build_folder_the_workers_cannot_see_is_a_clear_error(tmp_path):
    class FakeClient:
        def run(self, func, paths, token):
            seen = cluster.tasks.probe_shared_folder(paths, token)
            return {
                "tcp://10.0.0.1:1": seen,
                "tcp://10.0.0.2:1": {**seen, "host": "far", "problem": "FileNotFoundError: no such file"},
            }

    toc = write_book(tmp_path, {"alpha": ALPHA})
    with pytest.raises(
        BookError, match=r"must be on a filesystem every worker shares(.|\n)*10\.0\.0\.2:1 \(host far\)"
    ):
        cluster.client.check_shared_folders(FakeClient(), tmp_path / "_build", book.read_toc(toc))
    assert not list((tmp_path / "_build").glob(".cluster-probe-*"))  # the probe file is removed


# --------------------------------------------------------------------------------------------- a LocalCluster


def test_local_cluster_runs_chapters_and_a_sweep_like_a_serial_run(tmp_path):
    """Two workers, three chapters (one failing) and a sweep of four runs as tasks: the failure is reported with
    its cell and source line while the others finish, their results files equal a serial run's, and a rerun keeps
    what finished and redoes only the chapter that failed."""
    before = children()
    toc = write_book(tmp_path, {"alpha": ALPHA, "broken": BROKEN, "sweepy": SWEEPY})
    serial = runner.run(["alpha", "sweepy"], toc=toc, device="cpu", build_dir=tmp_path / "serial", log=lambda _: None)
    assert len(serial) == 2

    lines: list[str] = []
    build = tmp_path / "par"
    with pytest.raises(BookError, match=r"1 chapter\(s\) did not finish(.|\n)*broken: failed") as info:
        cluster.run_on_cluster(toc=toc, device="cpu", build_dir=build, workers=2, log=lines.append, config_of=configs)
    text = "\n".join(lines)
    assert "LocalCluster of 2 worker process(es)" in text and "resume" in str(info.value)
    for name in ("alpha", "broken", "sweepy"):
        assert f"[{name}] started on worker tcp://127.0.0.1:" in text
    assert sum(f"[sweepy sweep: {dataset}] ok in" in text for dataset in CFG.datasets) == len(CFG.datasets)
    assert "[alpha] ok in" in text and "[sweepy] ok in" in text
    failure = next(line for line in lines if line.startswith("[broken] FAILED"))
    assert "chapter broken failed" in failure and "In [" in failure and "broken.py line" in failure
    assert 'raise ValueError("deliberate failure' in failure and "ValueError: deliberate failure" in failure

    executed = build / "executed" / "quick"
    assert sorted(p.name for p in executed.iterdir()) == ["alpha.ipynb", "broken.FAILED.ipynb", "sweepy.ipynb"]
    for name in ("alpha", "sweepy"):
        assert comparable(build / "results" / "quick" / f"{name}.json") == comparable(
            tmp_path / "serial" / "results" / "quick" / f"{name}.json"
        )
    nb = json.loads((executed / "sweepy.ipynb").read_text())
    assert "groups read back: 1" in json.dumps(nb["cells"])  # the chapter read the group its task trained
    assert len(list((build / "results" / "cache").glob("lr-sweep-group-*.measurement"))) == len(CFG.datasets)
    timings = json.loads((build / "results" / "quick" / "_timings.json").read_text())
    assert timings["alpha"]["status"] == timings["sweepy"]["status"] == "ok"
    assert timings["broken"]["status"] == "failed" and timings["broken"]["worker"].startswith("tcp://")
    assert timings["alpha"]["worker"].startswith("tcp://") and len(timings["alpha"]["digest"]) == 16

    # the rerun keeps alpha and sweepy; broken, fixed, runs again
    (tmp_path / "book" / "broken.py").write_text(chapter("broken", 'print("fixed")\n'))
    mtimes = {name: (executed / f"{name}.ipynb").stat().st_mtime_ns for name in ("alpha", "sweepy")}
    lines.clear()
    runs = cluster.run_on_cluster(
        toc=toc, device="cpu", build_dir=build, workers=2, log=lines.append, config_of=configs
    )
    assert [r.chapter.name for r in runs] == ["broken"]
    assert "[alpha] finished earlier" in "\n".join(lines) and "[sweepy] finished earlier" in "\n".join(lines)
    assert not any("sweep:" in line for line in lines)  # no sweep group submitted again
    assert {name: (executed / f"{name}.ipynb").stat().st_mtime_ns for name in mtimes} == mtimes
    assert (executed / "broken.ipynb").is_file() and not (executed / "broken.FAILED.ipynb").exists()
    no_leftovers(str(tmp_path), before)


VICTIM = chapter(
    "victim",
    "import os, signal, time\nfrom pathlib import Path\n\n"
    "here = Path(os.environ['REPRO_RESULTS_DIR']).parent\n"
    "(here / 'victim-kernel.pid').write_text(str(os.getpid()))\n"
    "if not (here / 'victim-was-killed').exists():\n"
    "    (here / 'victim-was-killed').touch()\n"
    "    os.kill(os.getppid(), signal.SIGKILL)  # the kernel's parent: the Dask worker running this chapter\n"
    "    time.sleep(120)\n\n# %%\n" + saves("victim", '{"alive": 1}'),
)

STEADY = chapter("steady", "import time\n\ntime.sleep(4)\n\n# %%\n" + saves("steady", '{"steady": 1}'))


def test_a_killed_worker_fails_its_chapter_and_a_rerun_resumes(tmp_path):
    """The worker running ``victim`` is killed mid-chapter: victim is failed with a clear reason, leaves no
    notebook or results file that looks complete, its kernel does not survive, the other chapter finishes; the
    rerun does victim only."""
    before = children()
    toc = write_book(tmp_path, {"steady": STEADY, "victim": VICTIM})
    build = tmp_path / "_build"
    lines: list[str] = []
    with pytest.raises(BookError, match=r"victim: failed \(the worker tcp://\S+ running it died"):
        cluster.run_on_cluster(toc=toc, device="cpu", build_dir=build, workers=2, log=lines.append)
    text = "\n".join(lines)
    assert "[steady] ok in" in text
    assert "[victim] FAILED after" in text and "KilledWorker" in text
    executed = build / "executed" / "quick"
    assert not (executed / "victim.ipynb").exists() and not list(executed.glob(".*partial*"))
    assert (executed / "victim.FAILED.ipynb").is_file()
    assert not (build / "results" / "quick" / "victim.json").exists()
    timings = json.loads((build / "results" / "quick" / "_timings.json").read_text())
    assert timings["victim"]["status"] == "failed" and "KilledWorker" in timings["victim"]["reason"]
    kernel = int((build / "victim-kernel.pid").read_text())
    deadline = time.monotonic() + 10
    while psutil.pid_exists(kernel) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not psutil.pid_exists(kernel) or psutil.Process(kernel).status() == psutil.STATUS_ZOMBIE

    steady_before = (executed / "steady.ipynb").stat().st_mtime_ns
    lines.clear()
    runs = cluster.run_on_cluster(toc=toc, device="cpu", build_dir=build, workers=2, log=lines.append)
    assert [r.chapter.name for r in runs] == ["victim"] and "[steady] finished earlier" in "\n".join(lines)
    assert (executed / "steady.ipynb").stat().st_mtime_ns == steady_before
    assert (executed / "victim.ipynb").is_file() and (build / "results" / "quick" / "victim.json").is_file()
    no_leftovers(str(tmp_path), before)


# --------------------------------------------------------------------------------------------- an existing cluster


def test_an_existing_scheduler_and_workers_started_with_the_dask_cli(tmp_path):
    """``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1; the runner's CLI sends two chapters
    there with ``--scheduler``."""
    before = children()
    toc = write_book(tmp_path, {"alpha": ALPHA, "beta": ALPHA.replace('"alpha"', '"beta"')})
    dask_cli = str(Path(sys.executable).with_name("dask"))
    scheduler_file = tmp_path / "scheduler.json"
    env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0", "OMP_NUM_THREADS": "1"}
    started: list[subprocess.Popen] = []

    def start(*args: str) -> None:
        log = open(tmp_path / f"dask-{len(started)}.log", "w")  # noqa: SIM115 - closed with the process
        started.append(
            subprocess.Popen([dask_cli, *args], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        )

    try:
        start(
            "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(scheduler_file)
        )
        deadline = time.monotonic() + 60
        while not scheduler_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        for _ in range(2):
            start("worker", address, "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard")
        with Client(address, timeout=60) as client:  # a loaded machine registers the workers seconds later
            client.wait_for_workers(2, timeout=120)
        done = subprocess.run(
            [sys.executable, "-m", "repro.runner", "--toc", str(toc), "run", "--device", "cpu",
             "--build-dir", str(tmp_path / "_build"), "--scheduler", address],
            capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"},
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"the scheduler at {address}, 2 worker(s)" in done.stdout
        for name in ("alpha", "beta"):
            assert f"[{name}] started on worker tcp://127.0.0.1:" in done.stdout
            assert f"[{name}] ok in" in done.stdout
            assert (tmp_path / "_build" / "executed" / "quick" / f"{name}.ipynb").is_file()
        workers = {json.loads((tmp_path / "_build" / "results" / "quick" / "_timings.json").read_text())[n]["worker"]
                   for n in ("alpha", "beta")}  # fmt: skip
        assert all(w.startswith("tcp://127.0.0.1:") for w in workers)
    finally:
        for proc in reversed(started):  # workers first, then the scheduler; each in its own process group
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in reversed(started):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
    no_leftovers(str(tmp_path), before)


# --------------------------------------------------------------------------------------------- TLS


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate (its own CA) and its key, PEM, made with the openssl command line."""
    cert, key = folder / "tls-cert.pem", folder / "tls-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=repro-test"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


PLAIN = chapter("plain", 'print("over TLS")\n')


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command line to make a certificate")
def test_a_tls_scheduler_gets_the_address_and_the_security_object(tmp_path, monkeypatch):
    """A scheduler and a worker (in this process) that take only TLS connections from certificates their CA signed:
    ``run_on_cluster`` hands the ``tls://`` address and the ``Security`` object to ``distributed.Client`` and runs a
    chapter there; without credentials it stops, before connecting, with an error that names the TLS flags."""
    import distributed
    from distributed import LocalCluster
    from distributed.security import Security

    before = children()
    cert, key = self_signed(tmp_path)
    roles = {f"tls_{role}_{part}": str(path) for role in ("scheduler", "worker", "client")
             for part, path in (("cert", cert), ("key", key))}  # fmt: skip
    toc = write_book(tmp_path, {"plain": PLAIN})
    build = tmp_path / "_build"
    seen: list[tuple] = []

    class SpyClient(distributed.Client):
        def __init__(self, *args, **kwargs):
            seen.append((args, kwargs))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(distributed, "Client", SpyClient)
    mine = Security(tls_ca_file=str(cert), tls_client_cert=str(cert), tls_client_key=str(key), require_encryption=True)
    lines: list[str] = []
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, protocol="tls://", host="127.0.0.1",
        security=Security(tls_ca_file=str(cert), **roles, require_encryption=True), dashboard_address=":0",
    ) as local:  # fmt: skip
        address = local.scheduler_address
        assert address.startswith("tls://127.0.0.1:")
        with pytest.raises(BookError, match=r"takes TLS connections(.|\n)*--tls-ca-file, --tls-cert, --tls-key"):
            cluster.run_on_cluster(toc=toc, device="cpu", build_dir=build, scheduler=address, log=lines.append)
        assert not seen  # stopped before any client was made
        runs = cluster.run_on_cluster(
            toc=toc, device="cpu", build_dir=build, scheduler=address, security=mine, log=lines.append
        )
    assert [args[0] for args, _ in seen] == [address] and all(kwargs["security"] is mine for _, kwargs in seen)
    assert [r.chapter.name for r in runs] == ["plain"] and runs[0].notebook.is_file()
    text = "\n".join(lines)
    assert f"the scheduler at {address}, 1 worker(s)" in text and "[plain] started on worker tls://127.0.0.1:" in text
    timings = json.loads((build / "results" / "quick" / "_timings.json").read_text())
    assert timings["plain"]["status"] == "ok" and timings["plain"]["worker"].startswith("tls://")
    no_leftovers(str(tmp_path), before)


def test_the_cli_tls_flags_make_a_security_object_that_requires_encryption(tmp_path, monkeypatch, capsys):
    """``--tls-ca-file``, ``--tls-cert`` and ``--tls-key`` become ``Security(tls_ca_file, tls_client_cert,
    tls_client_key, require_encryption=True)`` beside the ``--scheduler`` address; an incomplete set, a missing file or
    TLS without ``--scheduler`` is an error."""
    toc = write_book(tmp_path, {"plain": PLAIN})
    for name in ("ca.pem", "client.pem", "client-key.pem"):
        (tmp_path / name).write_text("not read: run_on_cluster is replaced below\n")
    calls: list[dict] = []
    monkeypatch.setattr(cluster, "run_on_cluster", lambda names, **kwargs: calls.append(kwargs) or [])
    run = ["--toc", str(toc), "run", "--device", "cpu"]
    tls = ["--tls-ca-file", str(tmp_path / "ca.pem"), "--tls-cert", str(tmp_path / "client.pem")]
    key = ["--tls-key", str(tmp_path / "client-key.pem")]

    assert runner.main([*run, "--scheduler", "tls://scheduler.example:8786", *tls, *key]) == 0
    [kwargs] = calls
    security = kwargs["security"]
    assert kwargs["scheduler"] == "tls://scheduler.example:8786" and kwargs["workers"] is None
    assert security.tls_ca_file == str(tmp_path / "ca.pem") and security.tls_client_cert == str(tmp_path / "client.pem")
    assert security.tls_client_key == str(tmp_path / "client-key.pem") and security.require_encryption
    assert runner.main([*run, "--scheduler", "tcp://scheduler.example:8786"]) == 0 and calls[1]["security"] is None

    bad = {
        "are for an existing scheduler": [*run, "--workers", "2", *tls],
        "needs both --tls-ca-file and --tls-cert; --tls-ca-file missing": [*run, "--scheduler", "tls://h:1", *tls[2:]],
        f"no such file: --tls-key {tmp_path / 'nope.pem'}": [*run, "--scheduler", "tls://h:1", *tls, "--tls-key",
                                                             str(tmp_path / "nope.pem")],
    }  # fmt: skip
    for message, argv in bad.items():
        capsys.readouterr()
        assert runner.main(argv) == 1 and message in capsys.readouterr().err, message
    assert len(calls) == 2


def test_tls_credentials_need_an_existing_tls_scheduler(tmp_path):
    """A ``Security`` object for a LocalCluster of ``workers``, or one that requires encryption with a ``tcp://``
    address, is an error before any cluster starts."""
    from distributed.security import Security

    toc = write_book(tmp_path, {"plain": PLAIN})
    security = Security(tls_ca_file="ca.pem", tls_client_cert="client.pem", require_encryption=True)
    settings = {"toc": toc, "device": "cpu", "build_dir": tmp_path / "_build", "security": security}
    with pytest.raises(BookError, match="not for a LocalCluster of --workers"):
        cluster.run_on_cluster(workers=2, **settings, log=lambda _: None)
    with pytest.raises(BookError, match="require encryption, but tcp://127.0.0.1:1 is not a tls:// address"):
        cluster.run_on_cluster(scheduler="tcp://127.0.0.1:1", **settings, log=lambda _: None)
