"""Stored measurements: one file per measurement, written whole or not at all, checked before it is read.

A file is three parts::

    repro-measurement 1\\n                      the magic line (anything else is a foreign file)
    {"key": ..., "name": ..., "sha256": ..., "payload_bytes": ..., ...}\\n     one line of JSON: the header
    <payload>                                   a compressed NumPy archive (np.savez_compressed, no pickle):
                                                "__tree__" the value's JSON tree (uint8), "a0", "a1", ... its arrays

:func:`save` writes it atomically (:func:`repro.files.write_atomic`); :func:`load` checks the magic line, the
header, the payload's length (a truncated file) and its SHA-256 (a corrupt one), and that the file holds the key
asked for, and raises :class:`MeasurementError` naming the file and what is wrong; it never returns a value it has
not checked. :func:`memoise` computes a value once and reads it back while its key holds.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import os
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from repro.files import write_atomic
from repro.measurements.codec import decode, encode
from repro.measurements.keys import measurement_key
from repro.phases import timing

__all__ = [
    "MAGIC", "SUFFIX", "MeasurementError", "Stored", "save", "load", "read_header", "memoise", "entry_path", "cached"
]

MAGIC = b"repro-measurement 1\n"
SUFFIX = ".measurement"
_TREE = "__tree__"
T = TypeVar("T")


class MeasurementError(RuntimeError):
    """A stored measurement that cannot be trusted: foreign, truncated, corrupt or stored under another key."""

    def __init__(self, path: os.PathLike | str, problem: str) -> None:
        self.path = Path(path)
        super().__init__(
            f"{self.path}: {problem}. Delete the file to measure again (nothing else reads it)."
        )


@dataclass(frozen=True)
class Stored:
    """A value read back from a stored measurement, with the header it was stored under (``key``, ``name``,
    ``created_utc``, ``seconds`` the measuring took, ``payload_bytes``, and whatever ``info`` the writer gave)."""

    value: Any
    header: dict


def save(
    path: str | os.PathLike, value: object, *, key: str, name: str, info: Mapping[str, object] | None = None
) -> int:
    """Store ``value`` (what :mod:`repro.measurements.codec` keeps) at ``path`` under ``key``; returns the file's
    size in bytes. ``info``: JSON-serialisable facts kept in the header (e.g. the seconds the measuring took)."""
    tree, arrays = encode(value)
    if _TREE in arrays:  # pragma: no cover - the codec names arrays a0, a1, …
        raise AssertionError("array name clash")
    buffer = io.BytesIO()
    tree_bytes = np.frombuffer(json.dumps(tree, allow_nan=False).encode(), dtype=np.uint8)
    np.savez_compressed(buffer, **{_TREE: tree_bytes}, **arrays)
    payload = buffer.getvalue()
    header = {
        **dict(info or {}),  # first: the writer's facts never replace the fields the reader checks
        "key": key,
        "name": name,
        "sha256": hashlib.sha256(payload).hexdigest(),
        "payload_bytes": len(payload),
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    head = MAGIC + json.dumps(header, allow_nan=False).encode() + b"\n"
    write_atomic(Path(path), lambda f: (f.write(head), f.write(payload)))
    return len(head) + len(payload)


def _split(path: Path) -> tuple[dict, bytes]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise MeasurementError(path, "no such stored measurement") from None
    except OSError as err:
        raise MeasurementError(path, f"cannot be read ({err.strerror or err})") from None
    if not data.startswith(MAGIC):
        raise MeasurementError(path, "not a stored measurement (foreign file: its first line is not the magic line)")
    end = data.find(b"\n", len(MAGIC))
    if end < 0:
        raise MeasurementError(path, "truncated inside its header")
    try:
        header = json.loads(data[len(MAGIC) : end])
    except ValueError as err:
        raise MeasurementError(path, f"unreadable header ({err})") from None
    if not isinstance(header, dict) or not {"key", "sha256", "payload_bytes"} <= set(header):
        raise MeasurementError(path, "its header lacks the key, checksum or payload size")
    return header, data[end + 1 :]


def read_header(path: str | os.PathLike) -> dict:
    """The header of the stored measurement at ``path`` (magic line and header checked, payload not read)."""
    return _split(Path(path))[0]


def load(path: str | os.PathLike, *, key: str | None = None) -> Stored:
    """The value stored at ``path``, checked: magic line, header, payload length and SHA-256, and (when given)
    that it was stored under ``key``. Raises :class:`MeasurementError` naming the file otherwise."""
    path = Path(path)
    header, payload = _split(path)
    if len(payload) < header["payload_bytes"]:
        raise MeasurementError(path, f"truncated: {len(payload):,} of {header['payload_bytes']:,} payload bytes")
    if len(payload) > header["payload_bytes"]:
        said = header["payload_bytes"]
        raise MeasurementError(path, f"{len(payload):,} payload bytes where its header says {said:,}")
    if hashlib.sha256(payload).hexdigest() != header["sha256"]:
        raise MeasurementError(path, "corrupt: its payload does not match its SHA-256 checksum")
    if key is not None and header["key"] != key:
        raise MeasurementError(path, f"stored under key {header['key']}, not the {key} asked for")
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        tree = json.loads(arrays.pop(_TREE).tobytes())
        value = decode(tree, arrays)
    except Exception as err:  # noqa: BLE001 - whatever a damaged or foreign payload raises, name the file
        raise MeasurementError(path, f"unreadable payload ({type(err).__name__}: {err})") from None
    return Stored(value, header)


def memoise(
    path: str | os.PathLike,
    key: str,
    compute: Callable[[], T],
    *,
    name: str,
    info: Mapping[str, object] | None = None,
) -> tuple[T, dict, bool]:
    """``compute()``'s value, stored at ``path`` under ``key`` (with ``info``, the seconds it took and where they
    went — ``phases``, :meth:`repro.phases.PhaseClock.as_record` — in the header) and read back from there while the
    file holds that key. Returns ``(value, header, hit)``.

    The value returned is always the one read back from the file — also right after measuring — so a chapter reads
    the same object on its first execution and on every later one, and the write is checked. A file at ``path``
    that fails :func:`load` is an error, not recomputed over (it may be the only copy of hours of measuring). A value
    that cannot be stored is returned as computed, with a warning: the measuring is not thrown away."""
    path = Path(path)
    if path.is_file():
        stored = load(path, key=key)
        return stored.value, stored.header, True
    start = time.perf_counter()
    with timing() as clock:
        value = compute()
    seconds = round(time.perf_counter() - start, 3)
    facts = {"seconds": seconds, "phases": clock.as_record()}
    try:
        save(path, value, key=key, name=name, info={**dict(info or {}), **facts})
    except (TypeError, OSError) as err:
        warnings.warn(f"{path}: the measurement was not stored ({err}); it is used as computed", stacklevel=2)
        return value, {"key": key, "name": name, **facts, "stored": False}, False
    stored = load(path, key=key)
    return stored.value, stored.header, False


def entry_path(
    name: str, depends_on: object, directory: str | os.PathLike, *, module: str, suffix: str = SUFFIX
) -> Path:
    """The file of the entry ``(name, depends_on)`` computed by ``module`` in ``directory``:
    ``<name>-<key><suffix>`` with the key of :func:`repro.measurements.keys.measurement_key` (another ``suffix``
    names a side file kept beside the entry under the same key, e.g. ``.npz`` or a ``.ckpt`` checkpoint)."""
    if not name or any(c in name for c in "/\\") or name.startswith("."):
        raise ValueError(f"measurement name {name!r} must be a plain file-name label")
    return Path(directory) / f"{name}-{measurement_key(depends_on, module)}{suffix}"


def cached(
    name: str, depends_on: object, compute: Callable[[], T], directory: str | os.PathLike, *, module: str
) -> tuple[T, bool]:
    """``compute()``'s value, stored in ``directory`` as the entry ``(name, depends_on)`` of :func:`entry_path`
    and read back while its key holds (settings, the source of ``module`` and what it imports, torch version,
    threads). Returns ``(value, hit)``: ``hit`` is True when the value was read back."""
    path = entry_path(name, depends_on, directory, module=module)
    value, _, hit = memoise(path, path.stem.rpartition("-")[2], compute, name=name)
    return value, hit
