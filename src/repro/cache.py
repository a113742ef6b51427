"""An on-disk memo for experiments that several chapters share (the learning-rate sweep of Figures 8 and 10 and
the critical-length chapter).

An entry is a pickle in ``<cache_dir>/<name>-<key>.pkl``. Its key hashes what the caller says the result depends
on (settings, seed, device, data root) together with the source of the installed ``repro`` package and the torch
version, so an edit to any module or an upgrade of torch makes every entry stale instead of silently reused.
Entries are written atomically (temporary file + :func:`os.replace`): a run killed mid-write leaves no entry.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TypeVar

import torch

from repro.results import results_dir

__all__ = ["cache_dir", "source_digest", "cache_key", "memoise"]

T = TypeVar("T")


def cache_dir(out_dir: str | os.PathLike | None = None) -> Path:
    """The cache folder: ``<results root>/cache`` (see :func:`repro.results.results_dir`)."""
    return results_dir(out_dir) / "cache"


@cache
def source_digest() -> str:
    """SHA-256 over the path and bytes of every ``.py`` file of the ``repro`` package (hex, 16 characters)."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_key(depends_on: object) -> str:
    """A 16-hex-digit key for ``repr(depends_on)``, the package source and the torch version."""
    text = f"{depends_on!r}|repro={source_digest()}|torch={torch.__version__}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def memoise(name: str, depends_on: object, compute: Callable[[], T], directory: str | os.PathLike) -> tuple[T, bool]:
    """``compute()``'s value, read from ``directory`` when an entry for ``(name, depends_on)`` exists.

    Args:
        name: a file-name-safe label of the experiment, e.g. ``"lr-sweep"``.
        depends_on: everything the result depends on besides the code (its ``repr`` is hashed).
        compute: produces the value (picklable) on a miss.
        directory: the cache folder (created when missing).

    Returns:
        ``(value, hit)``: ``hit`` is True when the value was read from the cache.
    """
    if not name or any(c in name for c in "/\\") or name.startswith("."):
        raise ValueError(f"cache entry name {name!r} must be a plain file-name label")
    folder = Path(directory)
    path = folder / f"{name}-{cache_key(depends_on)}.pkl"
    if path.is_file():
        with path.open("rb") as f:
            return pickle.load(f), True
    value = compute()
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return value, False
