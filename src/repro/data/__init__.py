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

One job per module, the public names re-exported here: :mod:`~repro.data.dataset` (the names and the
:class:`ImageDataset` record), :mod:`~repro.data.standardise` (raw splits to a standardised dataset),
:mod:`~repro.data.loaders` (the data root and the three sources), :mod:`~repro.data.harmonics` (the synthetic set),
:mod:`~repro.data.subsets` (seeded subsets), :mod:`~repro.data.hierarchies` (super-classes).
"""

from __future__ import annotations

import functools
import os

from repro.data.dataset import DATASETS, ImageDataset, canonical_name
from repro.data.harmonics import sample_spherical_harmonics
from repro.data.hierarchies import HIERARCHIES, hierarchy
from repro.data.loaders import (
    DEFAULT_DATA_ROOT,
    DOWNLOAD_TIMEOUT_S,
    DatasetNotFoundError,
    clear_local_cache,
    load_real_dataset,
    resolve_data_root,
)
from repro.data.subsets import (
    balanced_indices,
    default_stiffness_size,
    flatten_inputs,
    permuted_labels,
    stiffness_set,
    train_subset,
)
from repro.phases import phase

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


@phase("data")
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
    return load_real_dataset(canonical, resolve_data_root(root).resolve(), download)


def clear_dataset_cache() -> None:
    """Forget every dataset held in the in-memory cache."""
    clear_local_cache()
    _spherical_harmonics.cache_clear()
