"""An on-disk memo for experiments that several chapters share (the learning-rate sweep of Figures 8 and 10 and
the critical-length chapter); the book chooses the folder (:func:`repro.book.results.cache_dir`).

An entry is a pickle in ``<cache_dir>/<name>-<key>.pkl``. Its key hashes what the caller says the result depends
on (settings, seed, device, data root) together with the torch version, torch's CPU thread count (float results on
the CPU depend on it) and the source of the ``repro`` modules that compute it: the caller's module and every
``repro`` module it imports, directly or through others. An edit to any of those, an upgrade of torch or another
thread count makes the entry stale instead of silently reused; an edit to a module the
computation never imports (the figures, tables and runner of :mod:`repro.book`, the verdicts of :mod:`repro.claims`)
keeps it, so a fix in how a sweep is drawn does not cost the hours of training behind it.
Entries are written atomically (temporary file + :func:`os.replace`): a run killed mid-write leaves no entry.
"""

from __future__ import annotations

import ast
import hashlib
import os
import pickle
from collections.abc import Callable
from functools import cache, partial
from pathlib import Path
from typing import TypeVar

import torch

from repro.files import write_atomic

__all__ = ["source_files", "source_digest", "cache_key", "entry_path", "write_atomic", "memoise"]

T = TypeVar("T")


_PACKAGE = Path(__file__).resolve().parents[1]  # src/repro


def _module_file(module: str) -> Path | None:
    """The source file of ``repro`` module ``module`` (dotted), or None when it is not one."""
    parts = module.split(".")
    if parts[0] != "repro":
        return None
    base = _PACKAGE.joinpath(*parts[1:])
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imported_modules(path: Path, module: str) -> set[str]:
    """The dotted names of everything ``path`` (the source of ``module``) imports, anywhere in the file, with
    relative imports resolved and ``from a import b`` counted as both ``a`` and ``a.b``."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return names


def source_files(module: str) -> list[Path]:
    """The files of ``module`` (dotted, e.g. ``"repro.experiments.lr_sweep"``) and of every ``repro`` module it imports,
    transitively, with the ``__init__.py`` of each package on the way, sorted."""
    if _module_file(module) is None:
        raise ValueError(f"{module!r} is not a module of the repro package")
    seen: dict[str, Path] = {}
    todo = [module]
    while todo:
        name = todo.pop()
        parts = name.split(".")
        for k in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__ and a/b/__init__ first
            prefix = ".".join(parts[:k])
            path = _module_file(prefix)
            if path is None or prefix in seen:
                continue
            seen[prefix] = path
            todo += sorted(_imported_modules(path, prefix))
    return sorted(set(seen.values()))


@cache
def source_digest(module: str) -> str:
    """SHA-256 over the path and bytes of the files of :func:`source_files` ``(module)`` (hex, 16 characters)."""
    digest = hashlib.sha256()
    for path in source_files(module):
        digest.update(path.relative_to(_PACKAGE).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_key(depends_on: object, module: str) -> str:
    """A 16-hex-digit key for ``repr(depends_on)``, the source of ``module`` and its imports, torch's version and
    its CPU thread count (float results on the CPU depend on it)."""
    threads = torch.get_num_threads()
    text = f"{depends_on!r}|{module}={source_digest(module)}|torch={torch.__version__}|threads={threads}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def entry_path(
    name: str, depends_on: object, directory: str | os.PathLike, *, module: str, suffix: str = ".pkl"
) -> Path:
    """The file of the entry ``(name, depends_on)`` in ``directory``: ``<name>-<key><suffix>``, with the key of
    :func:`cache_key` (``suffix=".npz"`` names a side file kept beside the entry's pickle, under the same key)."""
    if not name or any(c in name for c in "/\\") or name.startswith("."):
        raise ValueError(f"cache entry name {name!r} must be a plain file-name label")
    return Path(directory) / f"{name}-{cache_key(depends_on, module)}{suffix}"


def memoise(
    name: str, depends_on: object, compute: Callable[[], T], directory: str | os.PathLike, *, module: str
) -> tuple[T, bool]:
    """``compute()``'s value, read from ``directory`` when an entry for ``(name, depends_on)`` exists.

    Args:
        name: a file-name-safe label of the experiment, e.g. ``"lr-sweep"``.
        depends_on: everything the result depends on besides the code (its ``repr`` is hashed).
        compute: produces the value (picklable) on a miss.
        directory: the cache folder (created when missing).
        module: the dotted name of the module whose code computes the value (usually the caller's ``__name__``);
            its source and that of every ``repro`` module it imports are part of the key.

    Returns:
        ``(value, hit)``: ``hit`` is True when the value was read from the cache.
    """
    path = entry_path(name, depends_on, directory, module=module)
    if path.is_file():
        with path.open("rb") as f:
            return pickle.load(f), True
    value = compute()
    write_atomic(path, partial(pickle.dump, value, protocol=pickle.HIGHEST_PROTOCOL))
    return value, False
