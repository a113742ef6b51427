"""Seeded, class-balanced subsets of a dataset: the training subset, the held-out "stiffness set" on which stiffness
is measured, permuted labels (Figure 4), and the flattening the fully-connected network takes."""

from __future__ import annotations

import numpy as np
import torch

from repro.data.dataset import ImageDataset

__all__ = [
    "balanced_indices",
    "default_stiffness_size",
    "stiffness_set",
    "train_subset",
    "permuted_labels",
    "flatten_inputs",
]


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
