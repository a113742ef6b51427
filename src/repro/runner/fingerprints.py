"""What a published chapter was made from, as fingerprints a later checkout can be compared with: the SHA-256 of the
chapter's source ``book/<chapter>.py`` and, for each stored measurement, the code that measured it.

The measuring code of a measurement is the module of its experiment (the ``repro.experiments`` function named in
the results file) and every ``repro`` module it imports (:func:`repro.measurements.keys.source_files`), each file
fingerprinted as :func:`repro.measurements.keys.code_fingerprint` does (its syntax tree without docstrings: the
same edits that keep a measurement's key keep its fingerprint). A changed fingerprint means ``make book`` would
measure again instead of reading the stored measurement back.

The fingerprints are taken from a source tree: the checkout's (``src/repro`` and ``book/``), or a commit's, read
with ``git archive`` (:func:`commit_tree`), so that a store published from a later checkout still records what the
run was made from.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import io
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from repro.measurements.keys import code_fingerprint, source_files

__all__ = ["SourceTree", "commit_tree", "sha256_file", "experiment_module", "code_files", "code_changes"]

_GIT_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class SourceTree:
    """A source tree: ``book`` (the chapters' folder) and ``package`` (the ``repro`` package folder, ``src/repro``),
    and where it came from (``"working tree"`` or ``"commit <hash>"``)."""

    book: Path
    package: Path
    origin: str = "working tree"

    @classmethod
    def checkout(cls, root: Path) -> SourceTree:
        """The working tree of the checkout at ``root`` (the folder of ``_toc.yml``)."""
        return cls(root / "book", root / "src" / "repro")


@contextlib.contextmanager
def commit_tree(root: Path, commit: str) -> Iterator[SourceTree | None]:
    """The tree of ``commit`` (``book/`` and ``src/repro/``) in a temporary folder, read with ``git archive`` from the
    repository at ``root``; None when git or the commit cannot be had."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "archive", "--format=tar", commit, "book", "src/repro"],
            capture_output=True,
            timeout=_GIT_TIMEOUT_S,
        )
    except (OSError, subprocess.TimeoutExpired):
        done = None
    if done is None or done.returncode != 0:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="repro-commit-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(done.stdout)) as archive:
            archive.extractall(tmp, filter="data")
        yield SourceTree(Path(tmp) / "book", Path(tmp) / "src" / "repro", f"commit {commit}")


def sha256_file(path: Path) -> str | None:
    """The SHA-256 (hex) of the file at ``path``, or None when there is none."""
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def experiment_module(experiment: str, package: Path) -> str | None:
    """The ``repro.experiments`` module (dotted) that defines the top-level function ``experiment`` in the package
    folder ``package``; None when no module, or more than one, does."""
    found = []
    for path in sorted((package / "experiments").glob("*.py")):
        tree = ast.parse(path.read_bytes(), filename=str(path))
        names = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
        if experiment in names:
            found.append(f"repro.experiments.{path.stem}")
    return found[0] if len(found) == 1 else None


def code_files(module: str, package: Path) -> dict[str, str]:
    """``{path under the package: SHA-256 of its code fingerprint}`` for the files of ``module`` and what it imports
    (:func:`repro.measurements.keys.source_files`) in the package folder ``package``."""
    return {
        path.relative_to(package).as_posix(): hashlib.sha256(code_fingerprint(path.read_bytes(), str(path))).hexdigest()
        for path in source_files(module, package)
    }


def code_changes(recorded: Mapping[str, str], module: str, package: Path) -> list[str]:
    """How the measuring code of ``module`` in ``package`` differs from ``recorded`` (:func:`code_files` as it was):
    ``"repro/<file> changed"``, ``"… added"``, ``"… removed"``, or ``"<module> no longer exists"``; ``[]`` when
    unchanged."""
    try:
        now = code_files(module, package)
    except ValueError:
        return [f"{module} no longer exists"]
    changes = [f"repro/{name} changed" for name in sorted(set(now) & set(recorded)) if now[name] != recorded[name]]
    changes += [f"repro/{name} added" for name in sorted(set(now) - set(recorded))]
    changes += [f"repro/{name} removed" for name in sorted(set(recorded) - set(now))]
    return changes
