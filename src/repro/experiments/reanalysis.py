"""Re-analysis of a cached learning-rate sweep without retraining: the rows of
:func:`repro.experiments.lr_sweep.run_lr_sweep` recomputed from the matrices each group kept beside its cached rows
(:mod:`repro.experiments.matrices`), with the sweep's bins and bootstrap size (then they equal the cached rows
exactly) or others.

This module is not imported by the sweep, so editing it keeps the sweep's cache entries.
"""

from __future__ import annotations

import os
import pickle

import numpy as np
import pandas as pd
import torch

from repro.data import load_dataset, resolve_data_root
from repro.experiments.configs import LRSweepConfig
from repro.experiments.lr_sweep import lr_sweep_group_files, lr_sweep_groups, stop_row
from repro.experiments.matrices import read_stop

__all__ = ["reanalyse_lr_sweep"]


def _reanalyse_rows(rows: list[dict], npz, num_classes: int, device: torch.device, n_bins: int, n_boot: int):
    """``rows`` (one group's cached rows) with the measured columns of every stop reached recomputed from the open
    group file ``npz``; rows of targets never reached are kept as they are."""
    out = []
    for row in rows:
        if np.isnan(row["images_seen"]):
            out.append(row)
            continue
        m = read_stop(npz, row["lr"], row["seed"], row["rule"], row["stop"], device)
        measured = stop_row(m.S, m.reps, m.x, m.y, num_classes, n_bins=n_bins, n_boot=n_boot, seed=row["seed"])
        out.append(row | measured)
    return out


def reanalyse_lr_sweep(
    cfg: LRSweepConfig,
    *,
    cache_dir: str | os.PathLike,
    seed: int = 0,
    device: torch.device | str = "cpu",
    data_root=None,
    n_bins: int | None = None,
    n_boot: int | None = None,
) -> pd.DataFrame:
    """The rows of the sweep ``run_lr_sweep(cfg, seed=seed, device=device, data_root=data_root,
    cache_dir=cache_dir)`` trained earlier, their measured columns (``within, between, between_lo, between_hi`` and
    per layer ``xi, xi_lo, xi_hi, xi_found``) recomputed from the stored matrices with ``n_bins`` distance bins and
    ``n_boot`` bootstrap replicates (default: the sweep's own, which give the cached rows exactly). Seconds per
    group at the quick profile; nothing is trained.

    The groups are found by the sweep's cache key, so the code that computes the sweep
    (:mod:`repro.experiments.lr_sweep` and its imports), torch's version and its thread count must be those it
    ran with. Raises FileNotFoundError naming the group and the file when a group's rows or matrices are not in
    ``cache_dir`` (a sweep trained before the matrices were kept, or under other settings or code).
    """
    device = torch.device(device)
    root = str(resolve_data_root(data_root).resolve())
    n_bins = cfg.n_bins if n_bins is None else n_bins
    n_boot = cfg.n_boot if n_boot is None else n_boot
    rows: list[dict] = []
    for dataset in lr_sweep_groups(cfg):
        rows_file, matrices_file = lr_sweep_group_files(cfg, dataset, seed, device, root, cache_dir)
        for path, what in ((rows_file, "rows"), (matrices_file, "matrices")):
            if not path.is_file():
                raise FileNotFoundError(
                    f"the {what} of the learning-rate sweep's group {dataset!r} (seed {seed}, device {device}) are "
                    f"not in the cache: {path} is missing; train the sweep with run_lr_sweep(..., cache_dir=...) "
                    "with this code and thread count first"
                )
        with rows_file.open("rb") as f:
            cached = pickle.load(f)
        num_classes = load_dataset(dataset, data_root).num_classes
        with np.load(matrices_file) as npz:
            rows += _reanalyse_rows(cached, npz, num_classes, device, n_bins, n_boot)
    frame = pd.DataFrame(rows)
    frame["train_loss_target_reached"] = frame["images_seen"].notna()
    return frame
