"""Keys of stored measurements: they change only when the measurement would.

A key hashes what the caller says the measurement depends on (settings, seed, device) together with the torch
version, torch's CPU thread count (float results on the CPU depend on it) and the code of the ``repro`` modules that
*measure*: the measuring function's module and every ``repro`` module it imports, directly or through others, read
from the files' ``import`` statements (:func:`source_files`). The code is hashed as its syntax tree without
docstrings, so a comment or a docstring keeps a key; the store itself (:data:`NOT_MEASURING`) is not measuring code
— a change of its file format changes its magic line instead. An edit to any of those, an upgrade of
torch or another thread count gives another key; an edit to a module the measurement never imports (the analysis of
:mod:`repro.analysis`, the verdicts of :mod:`repro.claims`, the figures and tables of :mod:`repro.book`, the runner,
a chapter's prose) keeps it, so re-reading a result never costs the hours of training behind it.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import torch

__all__ = [
    "PACKAGE_ROOT",
    "NOT_MEASURING",
    "source_files",
    "code_fingerprint",
    "source_digest",
    "measurement_key",
    "modules_imported_by",
    "repro_modules",
]

PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # src/repro
NOT_MEASURING = ("repro.measurements", "repro.files")  # how measurements are stored, not what they hold


def _module_file(module: str, root: Path) -> Path | None:
    """The source file of ``repro`` module ``module`` (dotted) under ``root``, or None when it is not one."""
    parts = module.split(".")
    if parts[0] != "repro":
        return None
    base = root.joinpath(*parts[1:])
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def modules_imported_by(source: bytes | str, package: str = "", filename: str = "<source>") -> set[str]:
    """The dotted names of everything ``source`` imports, anywhere in the file, with relative imports resolved
    against ``package`` and ``from a import b`` counted as both ``a`` and ``a.b``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return names


def repro_modules(source: bytes | str, root: Path = PACKAGE_ROOT, filename: str = "<source>") -> list[str]:
    """The ``repro`` modules (dotted, sorted) that ``source`` — e.g. a chapter — imports by absolute name; a name
    imported *from* a module (``from repro.book import figures``) counts when it is a module itself."""
    return sorted(m for m in modules_imported_by(source, filename=filename) if _module_file(m, root) is not None)


def source_files(modules: str | Iterable[str], root: Path = PACKAGE_ROOT) -> list[Path]:
    """The files of ``modules`` (dotted, e.g. ``"repro.experiments.lr_sweep"``) and of every ``repro`` module they
    import, transitively, with the ``__init__.py`` of each package on the way, sorted. ``root``: the package folder
    read (a copy of ``src/repro`` in tests)."""
    todo = [modules] if isinstance(modules, str) else list(modules)
    for module in todo:
        if _module_file(module, root) is None:
            raise ValueError(f"{module!r} is not a module of the repro package")
    seen: dict[str, Path] = {}
    while todo:
        name = todo.pop()
        parts = name.split(".")
        for k in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__ and a/b/__init__ first
            prefix = ".".join(parts[:k])
            path = _module_file(prefix, root)
            if path is None or prefix in seen or prefix.startswith(NOT_MEASURING):
                continue
            seen[prefix] = path
            package = prefix if path.name == "__init__.py" else prefix.rpartition(".")[0]
            todo += sorted(modules_imported_by(path.read_bytes(), package, str(path)))
    return sorted(set(seen.values()))


def code_fingerprint(source: bytes | str, filename: str = "<source>") -> bytes:
    """What of a module's source can change what it computes: its syntax tree without docstrings (comments, blank
    lines, formatting and docstrings drop out), as bytes."""
    tree = ast.parse(source, filename=filename)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
                if isinstance(body[0].value.value, str):
                    node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree, annotate_fields=False).encode()


@cache
def source_digest(modules: str | tuple[str, ...], root: Path = PACKAGE_ROOT) -> str:
    """SHA-256 over the path and :func:`code_fingerprint` of the files of :func:`source_files` ``(modules)`` (hex,
    16 characters). Cached for the process: a long-lived process that edits its own source must call
    ``source_digest.cache_clear()``."""
    digest = hashlib.sha256()
    for path in source_files(modules, root):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(code_fingerprint(path.read_bytes(), str(path)))
    return digest.hexdigest()[:16]


def measurement_key(depends_on: object, module: str, root: Path = PACKAGE_ROOT) -> str:
    """A 16-hex-digit key for ``repr(depends_on)``, the source of ``module`` and its imports (:func:`source_digest`),
    torch's version and its CPU thread count (float results on the CPU depend on it)."""
    threads = torch.get_num_threads()
    text = f"{depends_on!r}|{module}={source_digest(module, root)}|torch={torch.__version__}|threads={threads}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]
