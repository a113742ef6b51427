"""Datasets for the stiffness experiments: loading, standardisation, seeded class-balanced subsets.

Five datasets (:data:`DATASETS`): MNIST, Fashion-MNIST, CIFAR-10, CIFAR-100 and the synthetic
spherical-harmonics set of :mod:`repro.harmonics`. :func:`load_dataset` returns an :class:`ImageDataset` whose
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

from repro.harmonics import sample_spherical_harmonics

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

#: Coarse groupings of the fine classes used for block-structure analysis: ``{dataset: {coarse: (fine, …)}}``.
#: CIFAR-100's 20 super-classes come from the data itself (see :func:`hierarchy`).
HIERARCHIES: dict[str, dict[str, tuple[str, ...]]] = {
    "cifar10": {
        "vehicles": ("airplane", "automobile", "ship", "truck"),
        "animals": ("bird", "cat", "deer", "dog", "frog", "horse"),
    },
    "fashion_mnist": {
        "tops": ("T-shirt/top", "Pullover", "Dress", "Coat", "Shirt"),
        "footwear": ("Sandal", "Sneaker", "Ankle boot"),
        "rest": ("Trouser", "Bag"),
    },
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
    return _build(name, raw, f"torchvision {kind} in {folder}")


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
    return _build(name, raw, f"archive {path}")


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
    n_train=1000, n_test=1000, seed=0, n_terms=10`` (see :func:`repro.harmonics.sample_spherical_harmonics`);
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


# ---------------------------------------------------------------------------------------------- hierarchies


def hierarchy(ds: ImageDataset | str) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Super-classes of a dataset: ``(coarse_of_fine, coarse_names)``; ``coarse_of_fine[k]`` is class k's.

    Uses the coarse labels shipped with a loaded dataset (CIFAR-100) when present, else :data:`HIERARCHIES`
    (matched on class names; a name string uses the standard class order). ``ValueError`` when none is known.
    """
    if isinstance(ds, ImageDataset) and ds.coarse_train is not None and ds.coarse_classes is not None:
        return _hierarchy_from_labels(ds), ds.coarse_classes
    name = canonical_name(ds if isinstance(ds, str) else ds.name)
    if name not in HIERARCHIES:
        hint = " (CIFAR-100's comes from a loaded dataset with coarse labels)" if name == "cifar100" else ""
        raise ValueError(f"no class hierarchy is known for {name!r}{hint}; known: {', '.join(HIERARCHIES)}")
    fine_names = ds.classes if isinstance(ds, ImageDataset) else _CLASSES[name]
    groups = HIERARCHIES[name]
    coarse_of = {fine: i for i, members in enumerate(groups.values()) for fine in members}
    if set(coarse_of) != set(fine_names):
        raise ValueError(f"the classes {fine_names} do not match the hierarchy of {name!r}")
    return tuple(coarse_of[c] for c in fine_names), tuple(groups)


def _hierarchy_from_labels(ds: ImageDataset) -> tuple[int, ...]:
    """``coarse_of_fine`` read off paired fine/coarse training labels; ``ValueError`` if inconsistent."""
    pairs = torch.unique(torch.stack([ds.y_train, ds.coarse_train], dim=1), dim=0)
    if len(pairs) != ds.num_classes or not torch.equal(pairs[:, 0], torch.arange(ds.num_classes)):
        raise ValueError(f"{ds.name}'s coarse labels do not assign exactly one super-class to each class")
    return tuple(int(c) for c in pairs[:, 1])


# ------------------------------------------------------------------------------------------- subsets, labels


def balanced_indices(labels: torch.Tensor, size: int, seed: int) -> torch.Tensor:
    """A seeded class-balanced subset: ``size`` indices into ``labels`` ``(N,)``, sorted ascending (int64).

    Each of the ``K`` classes present gets ``size // K`` examples; the ``size % K`` remaining ones go to
    distinct classes chosen at random. ``ValueError`` if ``size < 1``, ``size > N`` or a class has too few.
    """
    labels = torch.as_tensor(labels).reshape(-1)
    if not 1 <= size <= len(labels):
        raise ValueError(f"subset size must be between 1 and {len(labels)}, got {size}")
    rng = np.random.default_rng(seed)
    y = labels.cpu().numpy()
    classes = np.unique(y)
    counts = np.full(len(classes), size // len(classes))
    counts[rng.choice(len(classes), size % len(classes), replace=False)] += 1
    chosen = []
    for cls, count in zip(classes, counts, strict=True):
        members = np.flatnonzero(y == cls)
        if count > len(members):
            raise ValueError(f"class {cls} has {len(members)} examples, fewer than the {count} requested")
        chosen.append(rng.choice(members, count, replace=False))
    return torch.from_numpy(np.sort(np.concatenate(chosen))).to(torch.int64)


def default_stiffness_size(num_classes: int) -> int:
    """The paper's stiffness-set size: ``max(150, 10·K)`` (150 for ≤ 15 classes, 1000 for CIFAR-100)."""
    return max(150, 10 * num_classes)


def stiffness_set(
    ds: ImageDataset, size: int | None = None, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The fixed held-out set on which stiffness is measured: ``(x, y, indices)`` from the *test* split.

    Class-balanced (:func:`balanced_indices`) with ``size`` examples, by default
    :func:`default_stiffness_size` of the number of classes.
    """
    idx = balanced_indices(ds.y_test, default_stiffness_size(ds.num_classes) if size is None else size, seed)
    return ds.x_test[idx], ds.y_test[idx], idx


def train_subset(ds: ImageDataset, size: int | None, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A class-balanced training subset ``(x, y, indices)``; ``size=None`` gives the whole training split."""
    if size is None:
        return ds.x_train, ds.y_train, torch.arange(ds.n_train)
    idx = balanced_indices(ds.y_train, size, seed)
    return ds.x_train[idx], ds.y_train[idx], idx


def permuted_labels(y: torch.Tensor, seed: int) -> torch.Tensor:
    """Labels ``y`` ``(N,)`` in a seeded random order (the random-label experiment; the histogram is kept)."""
    generator = torch.Generator().manual_seed(seed)
    return y[torch.randperm(len(y), generator=generator)]


def flatten_inputs(x: torch.Tensor) -> torch.Tensor:
    """Inputs ``(N, C, H, W)`` (or any ``(N, …)``) as ``(N, C·H·W)`` for the fully-connected network."""
    return x.reshape(x.shape[0], -1)
