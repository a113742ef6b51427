"""Raw uint8 splits to an :class:`~repro.data.dataset.ImageDataset`: the exact per-channel statistics of the
training split, standardisation of both splits with them, and the label and layout conversions the loaders share."""

from __future__ import annotations

import numpy as np
import torch

from repro.data.dataset import ImageDataset


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


def as_label_tensor(y: object) -> torch.Tensor:
    """Labels from a list, array or tensor (any shape, ``N`` entries) as a flat ``(N,)`` int64 tensor."""
    return torch.as_tensor(np.asarray(y), dtype=torch.int64).reshape(-1)


def as_nchw(x: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 images ``(N, H, W)`` or ``(N, H, W, C)`` as a contiguous uint8 tensor ``(N, C, H, W)``; ``ValueError``
    for another dtype."""
    x = torch.as_tensor(np.asarray(x))
    if x.dtype != torch.uint8:
        raise ValueError(f"images must be uint8, got {x.dtype}")
    x = x.unsqueeze(-1) if x.ndim == 3 else x
    return x.permute(0, 3, 1, 2).contiguous()


def standardised_dataset(name: str, raw: dict, source: str) -> ImageDataset:
    """Standardise raw splits into an :class:`ImageDataset` named ``name``, its source described by ``source``.

    ``raw`` holds ``x_train`` ``(N, C, H, W)`` and ``x_test`` ``(M, C, H, W)`` uint8, ``y_train`` ``(N,)`` and
    ``y_test`` ``(M,)`` int64, ``classes``, and optionally ``coarse_train``, ``coarse_test``, ``coarse_classes``. Both
    splits are standardised per channel with the exact mean and std of the training split on the [0, 1] scale.
    """
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
