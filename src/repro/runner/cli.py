"""The runner's command line: ``python -m repro.runner`` (``--help`` for every option)::

    python -m repro.runner list
    python -m repro.runner run [CHAPTER ...] --profile quick|paper --device auto|cpu|cuda --seed N \\
        --data-root PATH --build-dir _build --threads 1 [--workers N | --scheduler ADDRESS] [--force]
        [--tls-ca-file CA.pem --tls-cert CLIENT.pem --tls-key CLIENT-KEY.pem]
        (--workers/--scheduler: Dask, repro.runner.cluster; --tls-*: for a tls:// scheduler on a shared network)
    python -m repro.runner site --profile quick --build-dir _build
    python -m repro.runner references [CHAPTER ...]
    python -m repro.runner times --profile paper          (Markdown table: status, wall time, device, verdict)
    python -m repro.runner times --costs --profile paper  (where the time went: phases, work; repro.runner.costs)
    python -m repro.runner publish-store --profile paper --build-dir _build [--dest published/paper]
        [--absent CHAPTER=REASON ...]       (the run as a store in the repository: repro.runner.store)
    python -m repro.runner restore-store --profile paper --build-dir _build [--store published/paper] [--overwrite]
    python -m repro.runner publish --profile paper --build-dir _build [--store published/paper]
        (the site from the store, each page with its provenance and stale marks: repro.runner.provenance)
    python -m repro.runner sensitivity --profile quick --build-dir _build [--thresholds NAME ...] [--factors 0.5 2]
        (each threshold halved and doubled, the chapters it can move re-run from stored measurements only:
        repro.runner.sensitivity → <build>/results/<profile>/_sensitivity.json)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from repro.book.profiles import PROFILES
from repro.book.toc import TOC_NAME, BookError, check_profile, find_toc, read_toc
from repro.devices import DEVICE_HELP, DEVICES
from repro.runner.execute import DEFAULT_THREADS, executed_dir, run
from repro.runner.references import make_references
from repro.runner.site import CONFIG_NAME, build_site, stage_site
from repro.runner.timings import markdown_table, timings_table

__all__ = ["main"]


def _build_dir_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--build-dir", type=Path, default=None, help="build folder (default: _build beside _toc.yml)")


def _profile_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", default="quick", help=f"experiment sizes: {' | '.join(PROFILES)} (default quick)")


def _cluster_options(p_run: argparse.ArgumentParser) -> None:
    """``run``'s options for a Dask cluster (:mod:`repro.runner.cluster`)."""
    p_run.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="run independent chapters concurrently on a Dask LocalCluster of N worker processes "
        "(repro.runner.cluster)",
    )
    p_run.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run on an existing Dask cluster (tcp://host:8786, or a scheduler file); the build folder must be "
        "on a filesystem every worker shares",
    )
    p_run.add_argument(
        "--force",
        action="store_true",
        help="with --workers/--scheduler: also redo chapters that finished earlier with the same settings",
    )
    tls = p_run.add_argument_group(
        "TLS", "for --scheduler tls://host:port on a shared network: every connection encrypted and authenticated"
    )
    tls.add_argument(
        "--tls-ca-file",
        type=Path,
        default=None,
        metavar="PATH",
        help="the CA certificate (PEM) that signed the scheduler's and workers' certificates",
    )
    tls.add_argument("--tls-cert", type=Path, default=None, metavar="PATH", help="this client's certificate (PEM)")
    tls.add_argument(
        "--tls-key",
        type=Path,
        default=None,
        metavar="PATH",
        help="this client's private key (PEM; leave out when the certificate file holds it)",
    )


def _security(args: argparse.Namespace):
    """The ``distributed.security.Security`` of ``--tls-ca-file``, ``--tls-cert`` and ``--tls-key`` (encryption
    required), or None when none is given; :class:`BookError` for an incomplete set or a missing file."""
    given = {"--tls-ca-file": args.tls_ca_file, "--tls-cert": args.tls_cert, "--tls-key": args.tls_key}
    if not any(given.values()):
        return None
    if args.scheduler is None:
        raise BookError(
            "--tls-ca-file, --tls-cert and --tls-key are for an existing scheduler: add --scheduler tls://…"
        )
    missing = [flag for flag in ("--tls-ca-file", "--tls-cert") if given[flag] is None]
    if missing:
        raise BookError(f"TLS needs both --tls-ca-file and --tls-cert; {' and '.join(missing)} missing")
    absent = [f"{flag} {path}" for flag, path in given.items() if path is not None and not path.is_file()]
    if absent:
        raise BookError(f"no such file: {', '.join(absent)}")
    from distributed.security import Security

    return Security(
        tls_ca_file=str(args.tls_ca_file),
        tls_client_cert=str(args.tls_cert),
        tls_client_key=None if args.tls_key is None else str(args.tls_key),
        require_encryption=True,
    )


def _execution_options(p_run: argparse.ArgumentParser) -> None:
    """The options that say how chapters execute: profile, device, seed, data root, build folder, threads."""
    _profile_option(p_run)
    p_run.add_argument("--device", default="auto", help=f"{' | '.join(DEVICES)}: {DEVICE_HELP} (default auto)")
    p_run.add_argument("--seed", type=int, default=0)
    p_run.add_argument(
        "--data-root",
        type=Path,
        default=None,
        help="dataset folder (default: the package's: $REPRO_DATA_ROOT, else ~/.cache/repro/data)",
    )
    _build_dir_option(p_run)
    p_run.add_argument("--log-output", action="store_true", help="stream the notebooks' outputs to the terminal")
    p_run.add_argument(
        "--threads",
        type=int,
        default=DEFAULT_THREADS,
        metavar="T",
        help=f"CPU threads of each chapter, serial or on a cluster (default {DEFAULT_THREADS}); PyTorch's CPU "
        "results depend on it, so runs with the same T give identical results files",
    )


def _run_parser(sub, parents: list[argparse.ArgumentParser]) -> None:
    p_run = sub.add_parser("run", help="execute chapters into <build>/executed/<profile>/", parents=parents)
    p_run.add_argument("chapters", nargs="*", metavar="CHAPTER", help="chapter names (default: all)")
    _execution_options(p_run)
    _cluster_options(p_run)


def _sensitivity_parser(sub, parents: list[argparse.ArgumentParser]) -> None:
    from repro.claims.thresholds import THRESHOLDS
    from repro.runner.sensitivity import FACTORS

    p = sub.add_parser(
        "sensitivity",
        help="each threshold halved and doubled: which verdicts move, from stored measurements only (no training)",
        parents=parents,
    )
    _execution_options(p)
    p.add_argument(
        "--thresholds",
        nargs="+",
        default=None,
        metavar="NAME",
        help=f"thresholds to vary (default: all): {', '.join(THRESHOLDS)}",
    )
    p.add_argument(
        "--factors",
        nargs="+",
        type=float,
        default=list(FACTORS),
        metavar="F",
        help="factors each threshold is multiplied by (default: 0.5 2)",
    )


def _site_parser(sub, parents: list[argparse.ArgumentParser]) -> None:
    p_site = sub.add_parser(
        "site", help="build the HTML site from the executed notebooks (no execution)", parents=parents
    )
    _profile_option(p_site)
    _build_dir_option(p_site)
    p_site.add_argument(
        "--notebooks",
        type=Path,
        default=None,
        help="folder of executed notebooks (default: <build>/executed/<profile>)",
    )
    p_site.add_argument(
        "--config", type=Path, default=None, help=f"book config (default: {CONFIG_NAME} beside the toc)"
    )


def _store_parsers(sub, parents: list[argparse.ArgumentParser]) -> None:
    """``publish-store``, ``restore-store`` and ``publish``: the published store of a run (repro.runner.store)."""
    helps = {
        "publish-store": "copy a run's notebooks, results files and measurements into published/<profile>/ with a "
        "manifest",
        "restore-store": "copy a store's results files, measurements and notebooks back into the build folder",
        "publish": "build the HTML site from the store (no execution), with provenance and stale marks",
    }
    for command, text in helps.items():
        p = sub.add_parser(command, help=text, parents=parents)
        p.add_argument("--profile", default="paper", help=f"{' | '.join(PROFILES)} (default paper)")
        _build_dir_option(p)
        where = "--dest" if command == "publish-store" else "--store"
        p.add_argument(where, type=Path, default=None, help="the store (default: published/<profile> beside the toc)")
        if command == "publish-store":
            p.add_argument(
                "--absent",
                action="append",
                default=[],
                metavar="CHAPTER=REASON",
                help="a chapter without an executed notebook, and why (repeatable)",
            )
        if command == "restore-store":
            p.add_argument("--overwrite", action="store_true", help="replace files already in the build folder")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m repro.runner",
        description="The book's runner: execute chapters (Jupytext → papermill), build the site (Jupyter Book 1), "
        "regenerate the test references.",
    )
    parser.add_argument("--toc", type=Path, default=None, help=f"table of contents (default: the nearest {TOC_NAME})")
    sub = parser.add_subparsers(dest="command", required=True)
    # --toc is also accepted after the command; SUPPRESS keeps an absent one from hiding the global value
    toc_after = argparse.ArgumentParser(add_help=False)
    toc_after.add_argument("--toc", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    sub.add_parser("list", help="list the chapters in table-of-contents order", parents=[toc_after])
    _run_parser(sub, [toc_after])
    _sensitivity_parser(sub, [toc_after])
    _site_parser(sub, [toc_after])
    p_times = sub.add_parser(
        "times",
        help="print a Markdown table of the chapters run: status, wall time, device, verdict",
        parents=[toc_after],
    )
    _profile_option(p_times)
    _build_dir_option(p_times)
    p_times.add_argument(
        "--costs", action="store_true", help="where each chapter's time went instead: seconds by phase, work done"
    )
    _store_parsers(sub, [toc_after])
    p_ref = sub.add_parser(
        "references", help="regenerate tests/reference/*.ipynb (quick, cpu, seed 0)", parents=[toc_after]
    )
    p_ref.add_argument("chapters", nargs="*", metavar="CHAPTER", help="chapter names (default: all)")
    p_ref.add_argument("--reference-dir", type=Path, default=None, help="default: tests/reference beside the toc")
    return parser


def _list(args: argparse.Namespace, toc: Path) -> None:
    for chapter in read_toc(toc):
        state = "" if chapter.source.is_file() else "   (missing)"
        print(f"{chapter.name:<16} {chapter.source}{state}")


def _run(args: argparse.Namespace, toc: Path) -> None:
    if args.log_output:
        import logging

        logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = {
        "toc": toc,
        "profile": args.profile,
        "device": args.device,
        "seed": args.seed,
        "data_root": args.data_root,
        "build_dir": args.build_dir,
        "threads": args.threads,
    }
    security = _security(args)
    if args.workers is not None or args.scheduler is not None:
        from repro.runner.cluster import run_on_cluster

        cluster = {"workers": args.workers, "scheduler": args.scheduler, "security": security}
        run_on_cluster(args.chapters, **settings, **cluster, force=args.force)
    else:
        run(args.chapters, **settings, log_output=args.log_output)


def _sensitivity(args: argparse.Namespace, toc: Path) -> None:
    from repro.runner.sensitivity import run_sensitivity

    if args.log_output:
        import logging

        logging.basicConfig(level=logging.INFO, format="%(message)s")
    run_sensitivity(
        args.build_dir or toc.parent / "_build",
        profile=args.profile,
        names=args.thresholds,
        factors=args.factors,
        toc=toc,
        device=args.device,
        seed=args.seed,
        data_root=args.data_root,
        threads=args.threads,
        log_output=args.log_output,
    )


def _site(args: argparse.Namespace, toc: Path) -> None:
    check_profile(args.profile)
    build_dir = args.build_dir or toc.parent / "_build"
    notebooks = args.notebooks or executed_dir(build_dir, args.profile)
    src = stage_site(notebooks, toc=toc, config=args.config, dest=build_dir / "site-src")
    build_site(src, html_dir=build_dir / "html")
    print(f"built the site of profile {args.profile} from {notebooks}")


def _times(args: argparse.Namespace, toc: Path) -> None:
    check_profile(args.profile)
    build_dir = args.build_dir or toc.parent / "_build"
    names = [chapter.name for chapter in read_toc(toc)]
    rows = timings_table(args.profile, names, out_dir=build_dir / "results")
    if not rows:
        raise BookError(f"no chapter has been run with profile {args.profile!r} in {build_dir}")
    if args.costs:
        from repro.runner.costs import cost_rows, cost_table

        print(cost_table(cost_rows(args.profile, names, out_dir=build_dir / "results")))
    else:
        print(markdown_table(rows))


def _references(args: argparse.Namespace, toc: Path) -> None:
    make_references(args.chapters, toc=toc, reference_dir=args.reference_dir)


def _publish_store(args: argparse.Namespace, toc: Path) -> None:
    from repro.runner.store import publish_store

    check_profile(args.profile)
    absent = dict(item.partition("=")[::2] for item in args.absent)
    build_dir = args.build_dir or toc.parent / "_build"
    publish_store(build_dir, profile=args.profile, toc=toc, dest=args.dest, absent=absent)


def _restore_store(args: argparse.Namespace, toc: Path) -> None:
    from repro.runner.store import restore_store, store_dir

    check_profile(args.profile)
    build_dir = args.build_dir or toc.parent / "_build"
    restore_store(args.store or store_dir(toc.parent, args.profile), build_dir, overwrite=args.overwrite)


def _publish(args: argparse.Namespace, toc: Path) -> None:
    from repro.runner.provenance import stage_store
    from repro.runner.store import check_store, read_manifest, store_dir

    check_profile(args.profile)
    build_dir = args.build_dir or toc.parent / "_build"
    store = args.store or store_dir(toc.parent, args.profile)
    manifest = read_manifest(store)
    problems = check_store(store, toc)
    if problems:
        raise BookError(f"the store {store} is not complete and consistent:\n" + "\n".join(f"  {p}" for p in problems))
    src, stale = stage_store(store, toc=toc, dest=build_dir / "site-src")
    build_site(src, html_dir=build_dir / "html")
    print(f"built the site of profile {manifest['profile']} at commit {manifest['commit']} from {store}")
    if stale:
        print(f"stale chapters (marked on their pages): {', '.join(stale)}", file=sys.stderr)


_COMMANDS = {
    "list": _list,
    "run": _run,
    "sensitivity": _sensitivity,
    "site": _site,
    "times": _times,
    "references": _references,
    "publish-store": _publish_store,
    "restore-store": _restore_store,
    "publish": _publish,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command of ``argv`` (default: ``sys.argv[1:]``); 0, or 1 after printing a :class:`BookError`."""
    args = _parser().parse_args(argv)
    try:
        _COMMANDS[args.command](args, args.toc or find_toc())
    except BookError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
