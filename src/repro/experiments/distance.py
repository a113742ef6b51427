"""Stiffness against distance (Figure 9, and the sweeps of Figures 8 and 10): the sign stiffness of a set's pairs
binned by their distance in the input space and in every layer's representation (Eq. 9), with the first zero crossing
("stiff domain size", ξ) and its bootstrap interval.

- :func:`distance_analysis` — one network, one set: the crossing in every representation;
- :func:`critical_distances` — the same from the stiffness, representations and inputs it measured (a re-analysis
  of stored matrices, :mod:`repro.experiments.reanalysis`);
- :func:`run_distance` — train until a target training loss, then analyse (Figure 9).

Distances: the dot-product "distance" of Eq. 9 is a cosine in [−1, 1] with 1 = same direction (``same_point
="high"``); the Euclidean distance between standardised inputs has 0 = same point (``same_point="low"``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from repro.experiments.configs import DistanceConfig
from repro.experiments.setup import new_model, split_for
from repro.phases import phase
from repro.stiffness import (
    CriticalDistance,
    bootstrap_critical_distance,
    pairwise_cosine,
    stiffness_from_gram,
    unit_gram,
)
from repro.training import TrainConfig, evaluate, train

__all__ = ["EUCLID", "DistanceAnalysis", "distance_analysis", "critical_distances", "DistanceRun", "run_distance"]

EUCLID = "input (Euclidean)"  # the key of the Euclidean input-space analysis


@dataclass
class DistanceAnalysis:
    """Stiffness vs distance of one set at one moment: ``critical[layer]`` for every representation (dot-product
    distance, Eq. 9) and for :data:`EUCLID` (Euclidean distance between inputs)."""

    critical: dict[str, CriticalDistance]
    gram_seconds: float


def distance_analysis(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    n_bins: int = 20,
    euclid_edges: np.ndarray | None = None,
    min_count: int = 10,
    n_boot: int = 100,
    seed: int = 0,
    metric: str = "sign",
    S: torch.Tensor | None = None,
) -> DistanceAnalysis:
    """Sign (or cosine) stiffness of all pairs of ``(x (N, ...), y (N,))`` against their distance, per layer.

    The model must provide ``representations(x)`` (see :mod:`repro.models`). Dot-product distances are binned in
    ``n_bins`` equal bins over [−1, 1]; Euclidean input distances over ``euclid_edges`` (default: ``n_bins`` bins
    from 0 to the largest distance in the set). ``S``: the pairs' stiffness ``(N, N)`` when already computed.
    """
    start = time.perf_counter()
    if S is None:
        S = stiffness_from_gram(unit_gram(model, x, y).unit, metric)
    gram_seconds = time.perf_counter() - start
    with torch.no_grad():
        reps = model.representations(x)
    critical = critical_distances(
        S, reps, x, n_bins=n_bins, euclid_edges=euclid_edges, min_count=min_count, n_boot=n_boot, seed=seed
    )
    return DistanceAnalysis(critical, gram_seconds)


@phase("statistics")
def critical_distances(
    S: torch.Tensor,
    reps: dict[str, torch.Tensor],
    x: torch.Tensor,
    *,
    n_bins: int = 20,
    euclid_edges: np.ndarray | None = None,
    min_count: int = 10,
    n_boot: int = 100,
    seed: int = 0,
) -> dict[str, CriticalDistance]:
    """The crossing of stiffness against distance in every representation and in the input space, as
    :func:`distance_analysis` measures it, from what it measured: the pairs' stiffness ``S (N, N)``, the
    representations ``reps[layer] (N, D_layer)`` and the inputs ``x (N, ...)``. Keys: those of ``reps`` in order,
    then :data:`EUCLID`."""
    cos_edges = np.linspace(-1.0, 1.0, n_bins + 1)
    critical = {
        name: bootstrap_critical_distance(
            S, pairwise_cosine(R), cos_edges, same_point="high", min_count=min_count, n_boot=n_boot, seed=seed
        )
        for name, R in reps.items()
    }
    flat = x.reshape(x.shape[0], -1).to(torch.float64)
    D_e = torch.cdist(flat, flat)
    if euclid_edges is None:
        euclid_edges = np.linspace(0.0, float(D_e.max()), n_bins + 1)
    critical[EUCLID] = bootstrap_critical_distance(
        S, D_e, euclid_edges, same_point="low", min_count=min_count, n_boot=n_boot, seed=seed
    )
    return critical


@dataclass
class DistanceRun:
    """One trained network's stiffness against distance (Figure 9), with what the run used."""

    config: DistanceConfig
    analysis: DistanceAnalysis
    layers: list[str]
    data_description: str
    n_train: int
    n_stiffness: int
    images_seen: int | None  # when the target training loss was first reached (None: never, within the budget)
    train_loss: float
    seconds_total: float


def run_distance(
    cfg: DistanceConfig, *, data_root=None, device: torch.device | str = "cpu", seed: int = 0, progress: bool = True
) -> DistanceRun:
    """Train until the training loss first reaches ``cfg.target_loss`` (or the budget ends), then measure
    stiffness against distance in every layer on a class-balanced validation set."""
    device = torch.device(device)
    t0 = time.perf_counter()
    split = split_for(cfg, seed=seed, device=device, data_root=data_root)
    ds, x_tr, y_tr, x_st, y_st = split.dataset, split.x_train, split.y_train, split.x_stiffness, split.y_stiffness
    model = new_model(cfg.arch, ds, init=cfg.init, seed=seed, device=device)
    result = train(
        model,
        x_tr,
        y_tr,
        config=TrainConfig(lr=cfg.lr, max_images=cfg.max_images, seed=seed),
        target_losses=[cfg.target_loss],
        progress=progress,
    )
    model.eval()
    analysis = distance_analysis(model, x_st, y_st, n_bins=cfg.n_bins, n_boot=cfg.n_boot, seed=seed)
    train_loss, _ = evaluate(model, x_tr, y_tr)
    return DistanceRun(
        cfg,
        analysis,
        list(analysis.critical),
        ds.describe(),
        int(x_tr.shape[0]),
        int(x_st.shape[0]),
        result.target_hits.get(cfg.target_loss),
        train_loss,
        time.perf_counter() - t0,
    )
