"""The synthetic task (the spherical-harmonics chapter): points on the sphere labelled by a random spherical harmonic
of increasing degree (frequency), one network per degree (all trained together), and the stiff-domain size of each
in input space — next to the method's resolution: the same analysis with stiffness replaced by label agreement (the
*oracle*) and the crossing that theory expects for it.

Theory (``dim = 3``): the labels are ``sign f`` with ``f = Σⱼ cⱼ P_k(⟨x, uⱼ⟩)`` (:mod:`repro.data.harmonics`). Over
the random ``cⱼ ~ N(0, 1)`` and uniform ``uⱼ``, ``E[f(x) f(y)] ∝ P_k(⟨x, y⟩)`` (the addition theorem), and for a
Gaussian field ``E[sign f(x) sign f(y)] = (2/π) arcsin(P_k(cos θ))``, which first reaches zero, coming from
``cos θ = 1``, at the largest root of ``P_k``. With ``n_terms`` = 10 zonal terms ``f`` is Gaussian only given the
``uⱼ`` (exactly so for ``k = 1``, where ``f`` is linear), and one draw of ``f`` is measured, not the average over
draws: the theory crossing is the expected one, the oracle the measured one of this task.
"""

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
from repro.stiffness import CriticalDistance, bootstrap_critical_distance, pairwise_cosine
from repro.training import TrainConfig, TrainResult, train_many

__all__ = ["HarmonicsRun", "run_harmonics", "theory_crossing", "label_agreement", "oracle_critical"]


@dataclass
class HarmonicsRun:
    """Spherical harmonics of increasing degree: per degree the accuracy and the critical distance in input space."""

    config: HarmonicsConfig
    # degree, train_acc, val_acc, xi, xi_lo, xi_hi, found_fraction (trained), theory_xi,
    # oracle_xi, oracle_lo, oracle_hi, oracle_found (label agreement)
    rows: pd.DataFrame
    analyses: dict[int, DistanceAnalysis]
    oracles: dict[int, CriticalDistance]
    data: dict[int, str]


def theory_crossing(degree: int, dim: int = 3) -> float:
    """The expected first zero crossing (a cosine) of label agreement against the cosine between two points for
    a random degree-``degree`` harmonic on ``S²``: the largest root of the Legendre polynomial ``P_degree`` (see the
    module docstring). NaN for ``dim != 3`` (not derived here); ``ValueError`` for ``degree < 1``."""
    if degree < 1:
        raise ValueError(f"degree must be >= 1, got {degree}")
    if dim != 3:
        return float("nan")
    return float(np.max(np.polynomial.legendre.legroots([0] * degree + [1]).real)) + 0.0  # + 0.0: no −0.0


def label_agreement(y: torch.Tensor) -> torch.Tensor:
    """The oracle's stiffness ``(N, N)`` float64 of labels ``y (N,)``: +1 where two labels agree, −1 otherwise.

    For two classes this is the product ``sᵢ sⱼ`` of the labels as signs ``s = ±1`` (on a class-balanced set it is
    also the centred product ``(yᵢ − ȳ)(yⱼ − ȳ)`` up to the factor 4), and on the scale of sign stiffness: a
    network whose gradients agree exactly where the labels do has this stiffness."""
    return torch.where(y[:, None] == y[None, :], 1.0, -1.0).to(torch.float64)


def oracle_critical(
    x: torch.Tensor, y: torch.Tensor, *, n_bins: int, n_boot: int, seed: int, min_count: int = 10
) -> CriticalDistance:
    """The input-space critical distance of :func:`~repro.experiments.distance.distance_analysis` (same
    ``n_bins`` equal bins of the cosine over [−1, 1], same bootstrap) with :func:`label_agreement` of ``y (N,)`` in
    place of stiffness; ``x (N, dim)`` are the points."""
    edges = np.linspace(-1.0, 1.0, n_bins + 1)
    return bootstrap_critical_distance(
        label_agreement(y), pairwise_cosine(x), edges, same_point="high", min_count=min_count, n_boot=n_boot, seed=seed
    )


def _task(cfg: HarmonicsConfig, degree: int, seed: int, device: torch.device) -> tuple[ImageDataset, Split, nn.Module]:
    """The task of one degree (generated with ``seed``), its split (stiffness set ``cfg.n_stiffness`` held-out
    points) and its untrained FC network."""
    ds = load_dataset(
        "spherical_harmonics", dim=cfg.dim, degree=degree, num_classes=2, n_train=cfg.n_train, n_test=cfg.n_test,
        seed=seed,
    )  # fmt: skip
    split = prepare_split(ds, "fc", n_train=None, n_stiffness=cfg.n_stiffness, seed=seed, device=device)
    return ds, split, new_model("fc", ds, init=cfg.init, seed=seed, device=device)


def _row(degree: int, dim: int, result: TrainResult, analysis: DistanceAnalysis, oracle: CriticalDistance) -> dict:
    """One degree's row: final training and held-out accuracy, the input-space critical distance of the trained
    network, the theory crossing and the oracle's critical distance."""
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
        "theory_xi": theory_crossing(degree, dim),
        "oracle_xi": np.nan if oracle.xi is None else oracle.xi,
        "oracle_lo": oracle.ci[0],
        "oracle_hi": oracle.ci[1],
        "oracle_found": oracle.found_fraction,
    }


def run_harmonics(
    cfg: HarmonicsConfig, *, device: torch.device | str = "cpu", seed: int = 0, progress: bool = True
) -> HarmonicsRun:
    """For each degree: generate the task, train the FC network for ``cfg.max_images`` images, and measure stiffness
    of held-out pairs against their dot-product distance in input space (points lie on the unit sphere, so it is
    the cosine of the angle between them); the same for label agreement instead of stiffness (the oracle, see
    :func:`oracle_critical`). The degrees' networks are trained together, each on its own task, by one
    :func:`~repro.training.train_many` call."""
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
    rows, analyses, oracles, data = [], {}, {}, {}
    for degree, (ds, split, model), result in zip(cfg.degrees, tasks, results, strict=True):
        data[degree] = ds.describe()
        x, y = split.x_stiffness, split.y_stiffness
        analyses[degree] = distance_analysis(model, x, y, n_bins=cfg.n_bins, n_boot=cfg.n_boot, seed=seed)
        oracles[degree] = oracle_critical(x, y, n_bins=cfg.n_bins, n_boot=cfg.n_boot, seed=seed)
        rows.append(_row(degree, cfg.dim, result, analyses[degree], oracles[degree]))
    return HarmonicsRun(cfg, pd.DataFrame(rows), analyses, oracles, data)
