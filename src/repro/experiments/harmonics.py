"""The synthetic task (the spherical-harmonics chapter): points on the sphere labelled by a random spherical harmonic
of increasing degree (frequency), one network per degree, and the stiff-domain size of each in input space."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from repro.data import load_dataset
from repro.experiments.configs import HarmonicsConfig
from repro.experiments.distance import DistanceAnalysis, distance_analysis
from repro.experiments.setup import new_model, prepare_split
from repro.training import TrainConfig, train

__all__ = ["HarmonicsRun", "run_harmonics"]


@dataclass
class HarmonicsRun:
    """Spherical harmonics of increasing degree: per degree the accuracy and the critical distance in input space."""

    config: HarmonicsConfig
    rows: pd.DataFrame  # degree, train_acc, val_acc, xi, xi_lo, xi_hi, found_fraction
    analyses: dict[int, DistanceAnalysis]
    data: dict[int, str]


def run_harmonics(
    cfg: HarmonicsConfig, *, device: torch.device | str = "cpu", seed: int = 0, progress: bool = True
) -> HarmonicsRun:
    """For each degree: generate the task, train the FC network for ``cfg.max_images`` images, and measure stiffness
    of held-out pairs against their dot-product distance in input space (points lie on the unit sphere, so it is
    the cosine of the angle between them)."""
    device = torch.device(device)
    rows, analyses, data = [], {}, {}
    for degree in cfg.degrees:
        ds = load_dataset(
            "spherical_harmonics",
            dim=cfg.dim,
            degree=degree,
            num_classes=2,
            n_train=cfg.n_train,
            n_test=cfg.n_test,
            seed=seed,
        )
        data[degree] = ds.describe()
        split = prepare_split(ds, "fc", n_train=None, n_stiffness=cfg.n_stiffness, seed=seed, device=device)
        x_tr, y_tr, x_st, y_st = split.x_train, split.y_train, split.x_stiffness, split.y_stiffness
        model = new_model("fc", ds, init=cfg.init, seed=seed, device=device)
        result = train(
            model,
            x_tr,
            y_tr,
            config=TrainConfig(lr=cfg.lr, max_images=cfg.max_images, seed=seed),
            x_val=ds.x_test.to(device),
            y_val=ds.y_test.to(device),
            eval_at=[cfg.max_images],
            progress=progress,
        )
        analysis = distance_analysis(model, x_st, y_st, n_bins=cfg.n_bins, n_boot=cfg.n_boot, seed=seed)
        analyses[degree] = analysis
        crit = analysis.critical["input"]
        last = result.records[-1]
        rows.append(
            {
                "degree": degree,
                "train_acc": last["train_acc"],
                "val_acc": last["val_acc"],
                "xi": np.nan if crit.xi is None else crit.xi,
                "xi_lo": crit.ci[0],
                "xi_hi": crit.ci[1],
                "found_fraction": crit.found_fraction,
            }
        )
    return HarmonicsRun(cfg, pd.DataFrame(rows), analyses, data)
