"""Re-analysis of a cached learning-rate sweep without retraining, from the matrices each group kept beside its
cached rows (:mod:`repro.experiments.matrices`):

- :func:`reanalyse_lr_sweep` — the rows of :func:`repro.experiments.lr_sweep.run_lr_sweep` recomputed, with the
  sweep's bins and bootstrap size (then they equal the cached rows exactly) or others;
- :func:`stop_accuracy` — how well each stop's network classifies its stiffness set (held-out images), from the
  stored logits: what tells a trained network from one that collapsed to a constant output
  (:func:`repro.claims.split_trained`).

This module is not imported by the sweep, so editing it keeps the sweep's cache entries.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import torch

from repro.data import load_dataset, resolve_data_root
from repro.experiments.configs import LRSweepConfig
from repro.experiments.lr_sweep import lr_sweep_group_files, lr_sweep_groups, stop_row
from repro.experiments.matrices import read_stop, stored_stops
from repro.measurements.store import load

_STOP_COLUMNS = ["dataset", "lr", "seed", "rule", "stop"]

__all__ = ["reanalyse_lr_sweep", "stop_accuracy", "open_groups"]


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


def _group_files(cfg: LRSweepConfig, dataset: str, seed: int, device: torch.device, root: str, cache_dir):
    """The cached rows and matrices files of ``dataset``'s group (:func:`lr_sweep_group_files`); FileNotFoundError
    naming the group and the missing file when either is not there."""
    rows_file, matrices_file = lr_sweep_group_files(cfg, dataset, seed, device, root, cache_dir)
    for path, what in ((rows_file, "rows"), (matrices_file, "matrices")):
        if not path.is_file():
            raise FileNotFoundError(
                f"the {what} of the learning-rate sweep's group {dataset!r} (seed {seed}, device {device}) are "
                f"not in the cache: {path} is missing; train the sweep with run_lr_sweep(..., cache_dir=...) "
                "with this code and thread count first"
            )
    return rows_file, matrices_file


def open_groups(cfg: LRSweepConfig, cache_dir, seed: int, device: torch.device, data_root):
    """Per group of the sweep trained earlier, in order: ``(dataset, rows file, matrices file, the open matrices
    file, number of classes)``; FileNotFoundError as :func:`_group_files` for a group not in ``cache_dir``."""
    root = str(resolve_data_root(data_root).resolve())
    for dataset in lr_sweep_groups(cfg):
        rows_file, matrices_file = _group_files(cfg, dataset, seed, device, root, cache_dir)
        num_classes = load_dataset(dataset, data_root).num_classes
        with np.load(matrices_file) as npz:
            yield dataset, rows_file, matrices_file, npz, num_classes


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
    n_bins = cfg.n_bins if n_bins is None else n_bins
    n_boot = cfg.n_boot if n_boot is None else n_boot
    rows: list[dict] = []
    for _, rows_file, _, npz, num_classes in open_groups(cfg, cache_dir, seed, device, data_root):
        rows += _reanalyse_rows(load(rows_file).value, npz, num_classes, device, n_bins, n_boot)
    frame = pd.DataFrame(rows)
    frame["train_loss_target_reached"] = frame["images_seen"].notna()
    return frame


def stop_accuracy(
    cfg: LRSweepConfig,
    *,
    cache_dir: str | os.PathLike,
    seed: int = 0,
    device: torch.device | str = "cpu",
    data_root=None,
) -> pd.DataFrame:
    """How well the network of every stop of the sweep trained earlier (the same arguments as
    :func:`reanalyse_lr_sweep`) classifies its stiffness set — the validation images whose pairs it measured, never
    trained on — from the logits stored at the stop (the network's last representation). Nothing is trained.

    Returns one row per stop reached: ``dataset, lr, seed, rule, stop``, ``held_out_accuracy`` (the share of the
    N images whose largest logit is their label's), ``held_out_loss`` (their mean cross-entropy, nats) and
    ``chance`` (1 / the number of classes). Raises FileNotFoundError as :func:`reanalyse_lr_sweep` does.
    """
    device = torch.device(device)
    out: list[dict] = []
    for dataset, _, matrices_file, npz, num_classes in open_groups(cfg, cache_dir, seed, device, data_root):
        for lr, run_seed, rule, stop in stored_stops(matrices_file):
            m = read_stop(npz, lr, run_seed, rule, stop, device)
            logits = list(m.reps.values())[-1].double()
            out.append(
                {"dataset": dataset, "lr": lr, "seed": run_seed, "rule": rule, "stop": stop,
                 "held_out_accuracy": float((logits.argmax(1) == m.y).double().mean()),
                 "held_out_loss": float(torch.nn.functional.cross_entropy(logits, m.y)),
                 "chance": 1.0 / num_classes}
            )  # fmt: skip
    return pd.DataFrame(out, columns=[*_STOP_COLUMNS, "held_out_accuracy", "held_out_loss", "chance"])
