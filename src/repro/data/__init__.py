"""Datasets for the stiffness experiments: loading, standardisation, seeded class-balanced subsets.

Five datasets (:data:`DATASETS`): MNIST, Fashion-MNIST, CIFAR-10, CIFAR-100 and the synthetic
spherical-harmonics set of :mod:`repro.data.harmonics`. :func:`load_dataset` returns an :class:`ImageDataset` whose
images are ``(N, C, H, W)`` float32, scaled to [0, 1] (``uint8 / 255``) and then standardised per channel with
the mean and standard deviation of the *whole training split* of the source; the test split uses the same
statistics.

Where the files come from. The data root is the ``root`` argument, else ``$REPRO_DATA_ROOT``, else
:data:`DEFAULT_DATA_ROOT` (``~/.cache/repro/data``). For a real dataset the loader tries, in order:

1. torchvision's own layout under the root: ``MNIST/raw/`` and ``FashionMNIST/raw/`` holding the four
   uncompressed IDX files (``train-images-idx3-ubyte``, …), ``cifar-10-batches-py/``, ``cifar-100-python/``;
   read with ``torchvision.datasets`` and ``download=False`` (torchvision checks the CIFAR files' md5);
2. an archive ``<root>/<name>.npz`` (``numpy.savez``), with keys ``x_train``, ``x_test`` (uint8,
   ``(N, H, W, C)``, channels last; ``(N, H, W)`` is read as one channel), ``y_train``, ``y_test`` (int,
   ``(N,)``), ``classes`` (str, ``(K,)``, in label order) and, for CIFAR-100, ``y_train_coarse``,
   ``y_test_coarse``, ``coarse_classes`` (the 20 super-classes). Other keys are ignored;
3. if ``download=True`` and ``$REPRO_ALLOW_DOWNLOAD`` is not ``"0"``: torchvision's download into the root
   (network errors are caught; each socket operation times out after :data:`DOWNLOAD_TIMEOUT_S` seconds).

Otherwise :class:`DatasetNotFoundError` says what was searched and how to provide the data.

Loaded datasets are cached in memory (keyed on name and resolved root; nothing is written to disk), so
repeated calls return the *same* tensors: treat them as read-only and never modify them in place.
"""

from __future__ import annotations

import functools
import os
import pickle
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torchvision

from repro.data.harmonics import sample_spherical_harmonics

__all__ = [
    "DATASETS",
    "DEFAULT_DATA_ROOT",
    "DOWNLOAD_TIMEOUT_S",
    "HIERARCHIES",
    "DatasetNotFoundError",
    "ImageDataset",
    "balanced_indices",
    "canonical_name",
    "clear_dataset_cache",
    "default_stiffness_size",
    "flatten_inputs",
    "hierarchy",
    "load_dataset",
    "permuted_labels",
    "resolve_data_root",
    "stiffness_set",
    "train_subset",
]

DATASETS = ("mnist", "fashion_mnist", "cifar10", "cifar100", "spherical_harmonics")
DEFAULT_DATA_ROOT: Path = Path.home() / ".cache" / "repro" / "data"
DOWNLOAD_TIMEOUT_S = 30.0

_DISPLAY = {
    "mnist": "MNIST",
    "fashion_mnist": "Fashion-MNIST",
    "cifar10": "CIFAR-10",
    "cifar100": "CIFAR-100",
    "spherical_harmonics": "Spherical harmonics",
}
_TORCHVISION = {
    "mnist": torchvision.datasets.MNIST,
    "fashion_mnist": torchvision.datasets.FashionMNIST,
    "cifar10": torchvision.datasets.CIFAR10,
    "cifar100": torchvision.datasets.CIFAR100,
}
_IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
_CLASSES = {
    "mnist": tuple(str(d) for d in range(10)),
    "fashion_mnist": tuple(torchvision.datasets.FashionMNIST.classes),
    "cifar10": ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
}


class DatasetNotFoundError(FileNotFoundError):
    """A real dataset is in none of the supported places under the data root (and could not be downloaded)."""


@dataclass(frozen=True, eq=False)
class ImageDataset:
    """A dataset with standardised inputs. Tensors may be shared between calls: do not modify them in place.

    Compared by identity (``==`` would otherwise compare tensors).

    ``x_train`` ``(N, *input_shape)`` and ``x_test`` ``(M, *input_shape)`` are float32; for images
    ``input_shape == (C, H, W)``, for the synthetic set ``(dim,)``. ``y_*`` are int64 labels in
    ``range(num_classes)``. ``mean``/``std`` are the per-channel training statistics on the [0, 1] pixel scale
    that were subtracted/divided (zeros and ones, one per coordinate, for the synthetic set, which is left on
    the unit sphere). ``coarse_*`` are super-class labels shipped with the data (CIFAR-100), else ``None``.
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    classes: tuple[str, ...]
    source: str
    mean: tuple[float, ...]
    std: tuple[float, ...]
    coarse_train: torch.Tensor | None = None
    coarse_test: torch.Tensor | None = None
    coarse_classes: tuple[str, ...] | None = None

    @property
    def num_classes(self) -> int:
        """Number of (fine) classes ``K``."""
        return len(self.classes)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input: ``(C, H, W)`` for images, ``(dim,)`` for the synthetic set."""
        return tuple(self.x_train.shape[1:])

    @property
    def n_train(self) -> int:
        """Number of training examples."""
        return self.x_train.shape[0]

    @property
    def n_test(self) -> int:
        """Number of test examples."""
        return self.x_test.shape[0]

    def describe(self) -> str:
        """One line for the book, e.g. ``"MNIST from torchvision raw files in …: 60,000 train / 10,000 test
        images, 10 classes, 1×28×28"``."""
        synthetic = self.name == "spherical_harmonics"
        where = self.source if synthetic else f"from {self.source}"
        unit = "points" if synthetic else "images"
        shape = "×".join(map(str, self.input_shape))
        shape = f"input dimension {shape}" if synthetic else shape
        return (
            f"{_DISPLAY[self.name]} {where}: {self.n_train:,} train / {self.n_test:,} test {unit}, "
            f"{self.num_classes} classes, {shape}"
        )


def canonical_name(name: str) -> str:
    """The canonical spelling of a dataset name (case-insensitive, ``-`` for ``_``); else ``ValueError``."""
    canonical = name.strip().lower().replace("-", "_")
    if canonical not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)}")
    return canonical


def resolve_data_root(root: str | os.PathLike | None = None) -> Path:
    """The data root: ``root`` if given, else ``$REPRO_DATA_ROOT`` if set and non-empty, else the default."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("REPRO_DATA_ROOT")
    return Path(env).expanduser() if env else DEFAULT_DATA_ROOT


# ------------------------------------------------------------------------------------------- standardisation


def _channel_stats(x: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Exact per-channel mean and (population) std on the [0, 1] scale of uint8 images ``(N, C, H, W)``."""
    values = torch.arange(256, dtype=torch.float64) / 255
    means, stds = [], []
    for c in range(x.shape[1]):
        hist = torch.bincount(x[:, c].reshape(-1), minlength=256).to(torch.float64)
        mean = float((hist * values).sum() / hist.sum())
        var = float((hist * (values - mean) ** 2).sum() / hist.sum())
        means.append(mean)
        stds.append(var**0.5)
    if min(stds) == 0:
        raise ValueError("a channel of the training images is constant; cannot standardise it")
    return tuple(means), tuple(stds)


def _standardise(x: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    """``(x / 255 − mean) / std`` per channel for uint8 ``(N, C, H, W)``, as a new float32 tensor."""
    shape = (1, len(mean), 1, 1)
    offset = torch.tensor(mean, dtype=torch.float32).view(shape) * 255
    scale = torch.tensor(std, dtype=torch.float32).view(shape) * 255
    return x.to(torch.float32).sub_(offset).div_(scale)


def _labels(y: object) -> torch.Tensor:
    """Labels from a list, array or tensor as a ``(N,)`` int64 tensor."""
    return torch.as_tensor(np.asarray(y), dtype=torch.int64).reshape(-1)


def _nchw(x: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 images ``(N, H, W)`` or ``(N, H, W, C)`` as a contiguous uint8 tensor ``(N, C, H, W)``."""
    x = torch.as_tensor(np.asarray(x))
    if x.dtype != torch.uint8:
        raise ValueError(f"images must be uint8, got {x.dtype}")
    x = x.unsqueeze(-1) if x.ndim == 3 else x
    return x.permute(0, 3, 1, 2).contiguous()


def _build(name: str, raw: dict, source: str) -> ImageDataset:
    """Standardise raw uint8 splits (``x_*``: ``(N, C, H, W)``) into an :class:`ImageDataset`."""
    mean, std = _channel_stats(raw["x_train"])
    coarse = {k: raw.get(k) for k in ("coarse_train", "coarse_test", "coarse_classes")}
    return ImageDataset(
        name=name,
        x_train=_standardise(raw["x_train"], mean, std),
        y_train=raw["y_train"],
        x_test=_standardise(raw["x_test"], mean, std),
        y_test=raw["y_test"],
        classes=tuple(raw["classes"]),
        source=source,
        mean=mean,
        std=std,
        **coarse,
    )


# ---------------------------------------------------------------------------------------------- sources


def _torchvision_dir(name: str, root: Path) -> Path | None:
    """The folder of torchvision's layout for ``name`` under ``root``, or ``None`` if it is not there."""
    if name in ("mnist", "fashion_mnist"):
        raw = root / _TORCHVISION[name].__name__ / "raw"
        return raw if all((raw / f).is_file() for f in _IDX_FILES) else None
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
        "x_train": _nchw(train.data),
        "y_train": _labels(train.targets),
        "x_test": _nchw(test.data),
        "y_test": _labels(test.targets),
        "classes": _CLASSES.get(name, tuple(train.classes)),
    }
    if name == "cifar100":
        raw["coarse_train"] = _labels(_read_cifar_pickle(folder / "train")["coarse_labels"])
        raw["coarse_test"] = _labels(_read_cifar_pickle(folder / "test")["coarse_labels"])
        raw["coarse_classes"] = tuple(_read_cifar_pickle(folder / "meta")["coarse_label_names"])
    kind = "raw files" if name in ("mnist", "fashion_mnist") else "python pickles"
    return _build(name, raw, f"torchvision {kind} in {folder.relative_to(root).as_posix()}/ (under the data root)")


def _from_npz(name: str, path: Path) -> ImageDataset:
    """Load ``name`` from an archive in the module's ``.npz`` format."""
    with np.load(path, allow_pickle=False) as npz:
        missing = {"x_train", "y_train", "x_test", "y_test", "classes"} - set(npz.files)
        if missing:
            raise ValueError(f"archive {path} lacks the keys {sorted(missing)}")
        raw = {
            "x_train": _nchw(npz["x_train"]),
            "y_train": _labels(npz["y_train"]),
            "x_test": _nchw(npz["x_test"]),
            "y_test": _labels(npz["y_test"]),
            "classes": tuple(str(c) for c in npz["classes"]),
        }
        if "coarse_classes" in npz.files:
            raw["coarse_train"] = _labels(npz["y_train_coarse"])
            raw["coarse_test"] = _labels(npz["y_test_coarse"])
            raw["coarse_classes"] = tuple(str(c) for c in npz["coarse_classes"])
    return _build(name, raw, f"archive {path.name} (in the data root)")


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


def _load_real(name: str, root: Path, download: bool) -> ImageDataset:
    """Local copy, else (if allowed) torchvision's download, else :class:`DatasetNotFoundError`."""
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


@functools.lru_cache(maxsize=8)
def _spherical_harmonics(
    dim: int, degree: int, num_classes: int, n_train: int, n_test: int, seed: int, n_terms: int
) -> ImageDataset:
    """The synthetic set as an :class:`ImageDataset`: inputs ``(N, dim)`` on the unit sphere, as they are."""
    sample = sample_spherical_harmonics(dim, degree, num_classes, n_train, n_test, seed, n_terms)
    params = f"dim={dim}, degree={degree}, num_classes={num_classes}, n_terms={n_terms}, seed={seed}"
    return ImageDataset(
        name="spherical_harmonics",
        x_train=sample.x_train,
        y_train=sample.y_train,
        x_test=sample.x_test,
        y_test=sample.y_test,
        classes=sample.classes,
        source=f"generated in code ({params})",
        mean=(0.0,) * dim,
        std=(1.0,) * dim,
    )


def load_dataset(
    name: str, root: str | os.PathLike | None = None, *, download: bool = True, **synthetic_kwargs: int
) -> ImageDataset:
    """Load a dataset by name (see the module docstring for the sources searched and their order).

    ``synthetic_kwargs`` apply to ``"spherical_harmonics"`` only: ``dim=3, degree=4, num_classes=2,
    n_train=1000, n_test=1000, seed=0, n_terms=10`` (see :func:`repro.data.harmonics.sample_spherical_harmonics`);
    ``root`` and ``download`` are ignored for it. Raises ``ValueError`` for an unknown name,
    :class:`DatasetNotFoundError` when a real dataset cannot be found or downloaded, and ``TypeError`` for
    keyword arguments a real dataset does not take.
    """
    canonical = canonical_name(name)
    if canonical == "spherical_harmonics":
        params = dict(dim=3, degree=4, num_classes=2, n_train=1000, n_test=1000, seed=0, n_terms=10)
        unknown = set(synthetic_kwargs) - set(params)
        if unknown:
            raise TypeError(f"unknown arguments for spherical_harmonics: {sorted(unknown)}")
        return _spherical_harmonics(**{**params, **synthetic_kwargs})
    if synthetic_kwargs:
        raise TypeError(f"{canonical} takes no extra arguments, got {sorted(synthetic_kwargs)}")
    return _load_real(canonical, resolve_data_root(root).resolve(), download)


def clear_dataset_cache() -> None:
    """Forget every dataset held in the in-memory cache."""
    _load_local.cache_clear()
    _spherical_harmonics.cache_clear()


# The seeded subsets and the class hierarchies live in their own modules; imported last, they see the names above.
from repro.data.hierarchies import HIERARCHIES, hierarchy  # noqa: E402
from repro.data.subsets import (  # noqa: E402
    balanced_indices,
    default_stiffness_size,
    flatten_inputs,
    permuted_labels,
    stiffness_set,
    train_subset,
)
