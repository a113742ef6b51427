"""How far each stop's stiffness-against-distance curve could be measured, read from a cached learning-rate sweep's
matrices (:mod:`repro.experiments.matrices`) without retraining: what turns a curve that never crosses zero from a
blank into a bound (a right-censored stiff domain: at least as large as the measurable range).

For each stop reached and each distance the sweep bins (every representation's dot-product distance of Eq. 9 and
the Euclidean input distance, :func:`repro.experiments.distance.critical_distances`), with the sweep's own bins and
the same minimum of pairs per bin:

- ``range_xi`` — the bin centre farthest from the same point whose bin holds at least ``min_count`` pairs: how far
  the curve was measured (a cosine for Eq. 9's distance, 1 = same point; a Euclidean distance, 0 = same point);
- ``starts_positive`` — the curve's first measured bin (nearest the same point) has positive mean stiffness;
- ``crosses`` — the measured curve reaches zero within the range (:func:`repro.stiffness.distance.critical_distance`),
  which is exactly when the sweep's row has a crossing ``xi``.

This module is not imported by the sweep, so editing it keeps the sweep's cache entries.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import torch

from repro.experiments.configs import LRSweepConfig
from repro.experiments.distance import EUCLID
from repro.experiments.matrices import read_stop, stored_stops
from repro.experiments.reanalysis import open_groups
from repro.stiffness.distance import DistanceProfile, critical_distance, pairwise_cosine, stiffness_vs_distance

__all__ = ["RANGE_COLUMNS", "profile_range", "curve_range", "stop_domain_ranges"]

RANGE_COLUMNS = ["dataset", "lr", "seed", "rule", "stop", "layer", "range_xi", "starts_positive", "crosses"]


def profile_range(prof: DistanceProfile, *, same_point: str, min_count: int) -> dict[str, float | bool]:
    """The measurable range of one binned curve ``prof`` (:class:`~repro.stiffness.distance.DistanceProfile`), bins
    with fewer than ``min_count`` pairs left out (as :func:`repro.stiffness.distance.bootstrap_critical_distance`
    leaves them out).

    Returns ``range_xi`` (the kept bin centre farthest from the ``same_point`` end, ``"high"`` or ``"low"``; NaN
    when no bin is kept), ``starts_positive`` (the kept bin nearest the same point has mean > 0) and ``crosses``
    (the curve reaches zero, :func:`~repro.stiffness.distance.critical_distance`)."""
    mean = np.where(prof.count >= min_count, prof.mean, np.nan)
    kept = np.flatnonzero(np.isfinite(mean))
    if kept.size == 0:
        return {"range_xi": np.nan, "starts_positive": False, "crosses": False}
    near, far = (kept[-1], kept[0]) if same_point == "high" else (kept[0], kept[-1])
    return {
        "range_xi": float(prof.centers[far]),
        "starts_positive": bool(mean[near] > 0),
        "crosses": critical_distance(prof.centers, mean, same_point=same_point) is not None,
    }


def curve_range(
    S: torch.Tensor, D: torch.Tensor, edges: np.ndarray, *, same_point: str, min_count: int
) -> dict[str, float | bool]:
    """:func:`profile_range` of the binned mean stiffness of the pairs ``i < j`` of ``S (N, N)`` against their
    distance ``D (N, N)`` over ``edges``."""
    return profile_range(stiffness_vs_distance(S, D, edges), same_point=same_point, min_count=min_count)


def _stop_ranges(m, n_bins: int, min_count: int) -> list[dict]:
    """Every distance's :func:`curve_range` of one stop's matrices ``m`` (:class:`StopMatrices`), with the sweep's
    bins: ``n_bins`` equal bins over [−1, 1] for the cosine, from 0 to the set's largest distance for
    :data:`EUCLID`."""
    cos_edges = np.linspace(-1.0, 1.0, n_bins + 1)
    out = [
        {"layer": name} | curve_range(m.S, pairwise_cosine(R), cos_edges, same_point="high", min_count=min_count)
        for name, R in m.reps.items()
    ]
    flat = m.x.reshape(m.x.shape[0], -1).double()
    D_e = torch.cdist(flat, flat)
    euclid_edges = np.linspace(0.0, float(D_e.max()), n_bins + 1)
    return [*out, {"layer": EUCLID} | curve_range(m.S, D_e, euclid_edges, same_point="low", min_count=min_count)]


def stop_domain_ranges(
    cfg: LRSweepConfig,
    *,
    cache_dir: str | os.PathLike,
    seed: int = 0,
    device: torch.device | str = "cpu",
    data_root=None,
    min_count: int = 10,
) -> pd.DataFrame:
    """The measurable range of every stop's curves in the sweep trained earlier (the same arguments as
    :func:`repro.experiments.reanalysis.stop_accuracy`): one row per stop reached and distance, columns
    :data:`RANGE_COLUMNS`. ``min_count``: the pairs a bin needs, the sweep's own (10). Nothing is trained.
    Raises FileNotFoundError as :func:`~repro.experiments.reanalysis.reanalyse_lr_sweep` does."""
    device = torch.device(device)
    out: list[dict] = []
    for dataset, _, matrices_file, npz, _ in open_groups(cfg, cache_dir, seed, device, data_root):
        for lr, run_seed, rule, stop in stored_stops(matrices_file):
            m = read_stop(npz, lr, run_seed, rule, stop, device)
            stop_id = {"dataset": dataset, "lr": lr, "seed": run_seed, "rule": rule, "stop": stop}
            out += [stop_id | r for r in _stop_ranges(m, cfg.n_bins, min_count)]
    return pd.DataFrame(out, columns=RANGE_COLUMNS)
