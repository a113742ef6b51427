"""The synthetic task (the spherical-harmonics chapter): points on the sphere labelled by a random spherical harmonic
of increasing degree (frequency), one network per degree (all trained together), and the stiff-domain size of each
in input space."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from repro.data import ImageDataset, load_dataset
from repro.experiments.configs import HarmonicsConfig
from repro.experiments.distance import DistanceAnalysis, distance_analysis
from repro.experiments.setup import Split, new_model, prepare_split
from repro.training import TrainConfig, TrainResult
from repro.training_many import train_many

__all__ = ["HarmonicsRun", "run_harmonics"]


@dataclass
class HarmonicsRun:
    """Spherical harmonics of increasing degree: per degree the accuracy and the critical distance in input space."""

    config: HarmonicsConfig
    rows: pd.DataFrame  # degree, train_acc, val_acc, xi, xi_lo, xi_hi, found_fraction
    analyses: dict[int, DistanceAnalysis]
    data: dict[int, str]


def _task(cfg: HarmonicsConfig, degree: int, seed: int, device: torch.device) -> tuple[ImageDataset, Split, nn.Module]:
    """The task of one degree (generated with ``seed``), its split (stiffness set ``cfg.n_stiffness`` held-out
    points) and its untrained FC network."""
    ds = load_dataset(
        "spherical_harmonics", dim=cfg.dim, degree=degree, num_classes=2, n_train=cfg.n_train, n_test=cfg.n_test,
        seed=seed,
    )  # fmt: skip
    split = prepare_split(ds, "fc", n_train=None, n_stiffness=cfg.n_stiffness, seed=seed, device=device)
    return ds, split, new_model("fc", ds, init=cfg.init, seed=seed, device=device)


def _row(degree: int, result: TrainResult, analysis: DistanceAnalysis) -> dict:
    """One degree's row: final training and held-out accuracy and the input-space critical distance."""
    crit = analysis.critical["input"]
    last = result.records[-1]
    return {
        "degree": degree,
        "train_acc": last["train_acc"],
        "val_acc": last["val_acc"],
        "xi": np.nan if crit.xi is None else crit.xi,
        "xi_lo": crit.ci[0],
        "xi_hi": crit.ci[1],
        "found_fraction": crit.found_fraction,
    }


def run_harmonics(
    cfg: HarmonicsConfig, *, device: torch.device | str = "cpu", seed: int = 0, progress: bool = True
) -> HarmonicsRun:
    """For each degree: generate the task, train the FC network for ``cfg.max_images`` images, and measure stiffness
    of held-out pairs against their dot-product distance in input space (points lie on the unit sphere, so it is
    the cosine of the angle between them). The degrees' networks are trained together, each on its own task, by one
    :func:`~repro.training_many.train_many` call."""
    device = torch.device(device)
    tasks = [_task(cfg, degree, seed, device) for degree in cfg.degrees]
    results = train_many(
        [model for _, _, model in tasks],
        [split.x_train for _, split, _ in tasks],
        [split.y_train for _, split, _ in tasks],
        configs=TrainConfig(lr=cfg.lr, max_images=cfg.max_images, seed=seed),
        x_val=[ds.x_test.to(device) for ds, _, _ in tasks],
        y_val=[ds.y_test.to(device) for ds, _, _ in tasks],
        eval_at=[cfg.max_images],
        progress=progress,
    )
    rows, analyses, data = [], {}, {}
    for degree, (ds, split, model), result in zip(cfg.degrees, tasks, results, strict=True):
        data[degree] = ds.describe()
        analyses[degree] = distance_analysis(
            model, split.x_stiffness, split.y_stiffness, n_bins=cfg.n_bins, n_boot=cfg.n_boot, seed=seed
        )
        rows.append(_row(degree, result, analyses[degree]))
    return HarmonicsRun(cfg, pd.DataFrame(rows), analyses, data)
