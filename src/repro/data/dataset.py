"""The datasets' names and the record every loader returns: :class:`ImageDataset` (standardised splits, classes,
where the data came from)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torchvision

DATASETS = ("mnist", "fashion_mnist", "cifar10", "cifar100", "spherical_harmonics")

#: How the book names each dataset (in :meth:`ImageDataset.describe`).
DISPLAY_NAMES = {
    "mnist": "MNIST",
    "fashion_mnist": "Fashion-MNIST",
    "cifar10": "CIFAR-10",
    "cifar100": "CIFAR-100",
    "spherical_harmonics": "Spherical harmonics",
}
#: The standard class names, in label order, of the real datasets whose names are fixed: torchvision copies are
#: labelled with them, and :func:`repro.data.hierarchy` reads them for a dataset given by name. CIFAR-100's come
#: from its files.
CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "mnist": tuple(str(d) for d in range(10)),
    "fashion_mnist": tuple(torchvision.datasets.FashionMNIST.classes),
    "cifar10": ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
}


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
            f"{DISPLAY_NAMES[self.name]} {where}: {self.n_train:,} train / {self.n_test:,} test {unit}, "
            f"{self.num_classes} classes, {shape}"
        )


def canonical_name(name: str) -> str:
    """The canonical spelling of a dataset name (case-insensitive, ``-`` for ``_``); else ``ValueError``."""
    canonical = name.strip().lower().replace("-", "_")
    if canonical not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)}")
    return canonical
