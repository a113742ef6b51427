"""Loading a real dataset from the data root: torchvision's layout, else a ``.npz`` archive, else (if allowed)
torchvision's download, else :class:`DatasetNotFoundError` (the search order is documented in :mod:`repro.data`).
Local copies are cached in memory, keyed on name and resolved root."""

from __future__ import annotations

import functools
import os
import pickle
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torchvision

from repro.data.dataset import CLASS_NAMES, ImageDataset
from repro.data.standardise import as_label_tensor, as_nchw, standardised_dataset

DEFAULT_DATA_ROOT: Path = Path.home() / ".cache" / "repro" / "data"
DOWNLOAD_TIMEOUT_S = 30.0

_TORCHVISION = {
    "mnist": torchvision.datasets.MNIST,
    "fashion_mnist": torchvision.datasets.FashionMNIST,
    "cifar10": torchvision.datasets.CIFAR10,
    "cifar100": torchvision.datasets.CIFAR100,
}
#: The four uncompressed IDX files that torchvision's ``MNIST/raw/`` and ``FashionMNIST/raw/`` hold.
IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


class DatasetNotFoundError(FileNotFoundError):
    """A real dataset is in none of the supported places under the data root (and could not be downloaded)."""


def resolve_data_root(root: str | os.PathLike | None = None) -> Path:
    """The data root: ``root`` if given, else ``$REPRO_DATA_ROOT`` if set and non-empty, else the default."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("REPRO_DATA_ROOT")
    return Path(env).expanduser() if env else DEFAULT_DATA_ROOT


def _torchvision_dir(name: str, root: Path) -> Path | None:
    """The folder of torchvision's layout for ``name`` under ``root``, or ``None`` if it is not there."""
    if name in ("mnist", "fashion_mnist"):
        raw = root / _TORCHVISION[name].__name__ / "raw"
        return raw if all((raw / f).is_file() for f in IDX_FILES) else None
    folder = root / _TORCHVISION[name].base_folder
    return folder if folder.is_dir() else None


def _read_cifar_pickle(path: Path) -> dict:
    """A CIFAR python pickle as a dict with ``str`` keys."""
    with path.open("rb") as f:
        data = pickle.load(f, encoding="latin1")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in data.items()}


def _from_torchvision(name: str, root: Path, folder: Path) -> ImageDataset:
    """Load ``name`` from torchvision's layout (``download=False``)."""
    cls = _TORCHVISION[name]
    train, test = (cls(root=str(root), train=flag, download=False) for flag in (True, False))
    raw = {
        "x_train": as_nchw(train.data),
        "y_train": as_label_tensor(train.targets),
        "x_test": as_nchw(test.data),
        "y_test": as_label_tensor(test.targets),
        "classes": CLASS_NAMES.get(name, tuple(train.classes)),
    }
    if name == "cifar100":
        raw["coarse_train"] = as_label_tensor(_read_cifar_pickle(folder / "train")["coarse_labels"])
        raw["coarse_test"] = as_label_tensor(_read_cifar_pickle(folder / "test")["coarse_labels"])
        raw["coarse_classes"] = tuple(_read_cifar_pickle(folder / "meta")["coarse_label_names"])
    kind = "raw files" if name in ("mnist", "fashion_mnist") else "python pickles"
    return standardised_dataset(
        name, raw, f"torchvision {kind} in {folder.relative_to(root).as_posix()}/ (under the data root)"
    )


def _from_npz(name: str, path: Path) -> ImageDataset:
    """Load ``name`` from an archive in the module's ``.npz`` format."""
    with np.load(path, allow_pickle=False) as npz:
        missing = {"x_train", "y_train", "x_test", "y_test", "classes"} - set(npz.files)
        if missing:
            raise ValueError(f"archive {path} lacks the keys {sorted(missing)}")
        raw = {
            "x_train": as_nchw(npz["x_train"]),
            "y_train": as_label_tensor(npz["y_train"]),
            "x_test": as_nchw(npz["x_test"]),
            "y_test": as_label_tensor(npz["y_test"]),
            "classes": tuple(str(c) for c in npz["classes"]),
        }
        if "coarse_classes" in npz.files:
            raw["coarse_train"] = as_label_tensor(npz["y_train_coarse"])
            raw["coarse_test"] = as_label_tensor(npz["y_test_coarse"])
            raw["coarse_classes"] = tuple(str(c) for c in npz["coarse_classes"])
    return standardised_dataset(name, raw, f"archive {path.name} (in the data root)")


class _NotFound(Exception):
    """Internal: no local copy (an exception, so that the cache never stores a miss)."""


@functools.lru_cache(maxsize=8)
def _load_local(name: str, root: Path) -> ImageDataset:
    """Load a real dataset from the first local source found under ``root``; ``_NotFound`` if none is."""
    folder = _torchvision_dir(name, root)
    if folder is not None:
        return _from_torchvision(name, root, folder)
    archive = root / f"{name}.npz"
    if archive.is_file():
        return _from_npz(name, archive)
    raise _NotFound


def clear_local_cache() -> None:
    """Forget every real dataset held in the in-memory cache of local copies."""
    _load_local.cache_clear()


@contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    """Temporarily set the default socket timeout, so that an offline download fails instead of hanging."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _try_download(name: str, root: Path) -> str | None:
    """Download ``name`` with torchvision into ``root``; ``None`` on success, else the error as text."""
    try:
        with _socket_timeout(DOWNLOAD_TIMEOUT_S):
            for train in (True, False):
                _TORCHVISION[name](root=str(root), train=train, download=True)
    except (OSError, RuntimeError) as err:  # URLError, timeouts, md5 mismatches, read-only roots
        return f"{type(err).__name__}: {err}"
    return None


def _not_found(name: str, root: Path, download_note: str) -> DatasetNotFoundError:
    """The error for a dataset found nowhere, naming the places searched and both ways to provide it."""
    where = (
        root / _TORCHVISION[name].__name__ / "raw" / "{train,t10k}-*-idx*-ubyte"
        if name in ("mnist", "fashion_mnist")
        else root / _TORCHVISION[name].base_folder
    )
    return DatasetNotFoundError(
        f"dataset {name!r} not found under the data root {root} (looked for torchvision's layout {where} and "
        f"for the archive {root / (name + '.npz')}). {download_note} Provide it in one of two ways: "
        f"(1) let torchvision download it into that root: load_dataset({name!r}, root, download=True) with "
        f"network access and REPRO_ALLOW_DOWNLOAD not set to '0'; or (2) place {root / (name + '.npz')} in "
        "the documented .npz format (keys x_train, x_test uint8 (N,H,W,C); y_train, y_test; classes; see "
        "repro.data). The data root is the `root` argument, else $REPRO_DATA_ROOT, else "
        f"{DEFAULT_DATA_ROOT}."
    )


def load_real_dataset(name: str, root: Path, download: bool) -> ImageDataset:
    """The real dataset ``name`` (canonical spelling) from the resolved data root ``root``: its local copy (cached in
    memory), else (if ``download`` and allowed) torchvision's download, else :class:`DatasetNotFoundError`."""
    try:
        return _load_local(name, root)
    except _NotFound:
        pass
    if not download:
        note = "Download was not attempted (download=False)."
    elif os.environ.get("REPRO_ALLOW_DOWNLOAD") == "0":
        note = "Download was not attempted (REPRO_ALLOW_DOWNLOAD=0)."
    else:
        error = _try_download(name, root)
        if error is None:
            try:
                return _load_local(name, root)
            except _NotFound:
                error = "it finished, but the files are not in the expected layout"
        note = f"Downloading with torchvision failed ({error})."
    raise _not_found(name, root, note)
