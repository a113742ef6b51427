"""The learning-rate sweep of Figures 8 and 10 and the critical-length chapter: train at several constant learning
rates, stop at target training losses (the first version's rule) and at a fixed number of images seen (a fixed-budget
rule), and measure class stiffness and stiffness against distance at each stop.

- :func:`run_lr_sweep` — the sweep (stored on disk by :func:`repro.measurements.store.cached` when asked);
- :func:`lr_sweep_groups`, :func:`train_lr_sweep_group` — its groups (one per dataset: every seed and learning
  rate of it, trained together as one stacked network by :func:`repro.training.train_many`), and one group
  trained on its own into the sweep's per-group cache entry (the cluster runner, :mod:`repro.runner.cluster`, makes
  each group a task).

This module measures; what is read from its rows (stiff-domain sizes, crossing shares, the sweep's description)
lives in :mod:`repro.analysis.sweep_domains` and :mod:`repro.analysis.lr_sweep`, which it does not import, so that
editing a reading keeps the sweep's stored groups.
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from repro.data import load_dataset, resolve_data_root
from repro.experiments.configs import LRSweepConfig
from repro.experiments.distance import EUCLID, critical_distances
from repro.experiments.matrices import GroupMatrices, stop_key
from repro.experiments.setup import new_model, prepare_split
from repro.measurements.store import SUFFIX, cached, entry_path, read_header
from repro.models import prepare_inputs
from repro.phases import timing
from repro.stiffness import bootstrap_class_summary, stiffness_from_gram, unit_gram
from repro.training import Checkpoints, TrainConfig, train_many

__all__ = [
    "LRSweep",
    "run_lr_sweep",
    "lr_sweep_groups",
    "train_lr_sweep_group",
    "lr_sweep_group_files",
    "stop_row",
    "CHECKPOINT_SECONDS",
]

CHECKPOINT_SECONDS = 600.0  # a cached sweep group saves its training this often (a killed group loses ≤ 10 min)
STALE_CHECKPOINT_SECONDS = 3 * CHECKPOINT_SECONDS  # a checkpoint not written for this long has no group training


@dataclass
class LRSweep:
    """All measurements of a learning-rate sweep: one row per (dataset, learning rate, seed, stopping rule).

    Columns: ``dataset, lr, seed, rule`` ("loss" or "images"), ``stop`` (the target loss or the image budget),
    ``images_seen`` (NaN for a target not reached), ``missed_at`` (for a target not reached: the images the run had
    seen when it stopped — its budget spent, or stalled by the config's stall rule; NaN otherwise), ``status`` (the
    run's: ``"reached_targets"``, ``"completed"`` — the budget spent —, ``"stalled"`` or ``"diverged"``),
    ``within, between, between_lo, between_hi`` (sign stiffness of validation pairs, 95%
    bootstrap interval), and per layer ``xi[<layer>]``, ``xi_lo[<layer>]``, ``xi_hi[<layer>]`` (the first zero
    crossing, NaN where the measured curve does not cross, and its interval) and ``xi_found[<layer>]`` (the share of
    bootstrap replicates that cross).
    """

    config: LRSweepConfig
    rows: pd.DataFrame
    data: dict[str, str]  # dataset → description (source, sizes)
    seconds_total: float
    seed: int = 0
    layers: list[str] = field(default_factory=list)
    from_cache: bool = False  # read back from the on-disk cache instead of trained in this call
    groups_from_cache: int = 0  # groups read back from the per-group cache (an interrupted sweep, or groups trained
    # as tasks of their own)
    group_phases: dict[str, dict] = field(default_factory=dict)  # dataset → {"phases": where its group's measuring
    # time went (repro.phases.PhaseClock.as_record), wherever it was trained; "read_back": whether this call read it}


def _matrices(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """What one network measures at a stop, in eval mode: the sign stiffness ``S (N, N)`` (float64) of the stiffness
    set ``(x (N, ...), y (N,))`` and its representations ``{layer: (N, D_layer)}`` (``"input"`` first)."""
    was_training = model.training
    model.eval()
    S = stiffness_from_gram(unit_gram(model, x, y).unit, "sign")
    with torch.no_grad():
        reps = model.representations(x)
    model.train(was_training)
    return S, reps


def stop_row(
    S: torch.Tensor,
    reps: dict[str, torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    num_classes: int,
    *,
    n_bins: int,
    n_boot: int,
    seed: int,
    euclid_edges: np.ndarray | None = None,
) -> dict:
    """Class stiffness and the stiff domains of one stop from what it measured (:func:`_matrices`): ``within,
    between, between_lo, between_hi`` and per layer ``xi, xi_lo, xi_hi`` (NaN where the measured curve does not
    cross) and ``xi_found`` (the share of bootstrap replicates that cross). ``euclid_edges``: the Euclidean bins
    (default ``n_bins`` from 0 to the set's largest distance, as the sweep bins them)."""
    critical = critical_distances(S, reps, x, n_bins=n_bins, euclid_edges=euclid_edges, n_boot=n_boot, seed=seed)
    summ = bootstrap_class_summary(S, y, num_classes=num_classes, n_boot=n_boot, seed=seed)
    row = {
        "within": summ.within,
        "between": summ.between,
        "between_lo": summ.between_ci[0],
        "between_hi": summ.between_ci[1],
    }
    for layer, crit in critical.items():
        row[f"xi[{layer}]"] = np.nan if crit.xi is None else crit.xi
        row[f"xi_lo[{layer}]"], row[f"xi_hi[{layer}]"] = crit.ci
        row[f"xi_found[{layer}]"] = crit.found_fraction
    return row


def _train_group(
    cfg: LRSweepConfig,
    ds,
    dataset: str,
    seed: int,
    device: torch.device,
    progress: bool,
    matrices_file: Path | None = None,
    checkpoint: Path | None = None,
) -> list[dict]:
    """Every run of one dataset (each seed of the sweep × each learning rate) trained together as one stacked network
    (:func:`repro.training.train_many`; each run as :func:`repro.training.train` would train it alone, up to
    float rounding): a row at each target loss reached, one per target missed (``images_seen`` NaN) and one at the
    fixed image budget. Every row carries the run's status, the group's wall time (``seconds``: training and
    measuring all its runs, summed over the sittings of a resumed group) and the number of runs trained together
    (``group_runs``). With ``matrices_file``, what every stop measured is written there
    (:class:`repro.experiments.matrices.GroupMatrices`). With ``checkpoint``, the group's training and what its
    stops measured so far are saved there every :data:`CHECKPOINT_SECONDS` and taken up from there by the next call
    (:class:`repro.training.Checkpoints`); the file is left for the caller to remove."""
    start = time.perf_counter()
    earlier = 0.0  # seconds spent in earlier sittings of a resumed group
    runs = [(s, lr) for s in range(seed, seed + cfg.n_seeds) for lr in cfg.lrs]
    inputs = {s: _run_inputs(cfg, ds, s, device) for s in range(seed, seed + cfg.n_seeds)}
    models = [new_model(cfg.arch, ds, init=cfg.init, seed=s, device=device) for s, _ in runs]
    rows: list[list[dict]] = [[] for _ in runs]
    matrices = GroupMatrices()
    for s, (_, stiff_set, _) in inputs.items():
        matrices.add_set(s, *stiff_set)

    def base(member: int) -> dict:
        s, lr = runs[member]
        return {"dataset": dataset, "lr": lr, "seed": s}

    def measure(member: int, rule: str, stop: float, seen: int, net: nn.Module) -> None:
        s = runs[member][0]
        _, stiff_set, euclid_edges = inputs[s]
        S, reps = _matrices(net, *stiff_set)
        measured = stop_row(
            S, reps, *stiff_set, ds.num_classes, n_bins=cfg.n_bins, n_boot=cfg.n_boot, seed=s, euclid_edges=euclid_edges
        )
        rows[member].append(base(member) | {"rule": rule, "stop": stop, "images_seen": seen} | measured)
        matrices.add_stop(stop_key(runs[member][1], s, rule, stop), S, reps)

    def restore(state: dict) -> None:
        nonlocal earlier
        rows[:], matrices.arrays, earlier = state["rows"], state["arrays"], state["seconds"]

    saves = None
    if checkpoint is not None:
        saves = Checkpoints(
            checkpoint,
            CHECKPOINT_SECONDS,
            lambda: {"rows": rows, "arrays": matrices.arrays, "seconds": earlier + time.perf_counter() - start},
            restore,
        )
    results = train_many(
        models,
        [inputs[s][0][0] for s, _ in runs],  # one tensor per seed, shared by that seed's runs
        [inputs[s][0][1] for s, _ in runs],
        configs=[_train_config(cfg, lr, s) for s, lr in runs],
        eval_at=[cfg.fixed_images],
        on_eval=lambda member, seen, net: measure(member, "images", cfg.fixed_images, seen, net),
        target_losses=cfg.target_losses,
        check_every=cfg.check_every,
        on_target=lambda member, target, seen, net: measure(member, "loss", target, seen, net),
        progress=progress,
        checkpoints=saves,
    )
    seconds = earlier + time.perf_counter() - start
    out: list[dict] = []
    for member, result in enumerate(results):
        for target in cfg.target_losses:  # unreached targets are recorded as such, not dropped
            if target not in result.target_hits:
                missed = {"rule": "loss", "stop": target, "images_seen": np.nan, "missed_at": result.images_seen}
                rows[member].append(base(member) | missed)
        out += [row | {"status": result.status, "seconds": seconds, "group_runs": len(runs)} for row in rows[member]]
    if matrices_file is not None:
        matrices.save(matrices_file)
    return out


def _train_config(cfg: LRSweepConfig, lr: float, seed: int) -> TrainConfig:
    """The training settings of the sweep's run at rate ``lr`` with seed ``seed`` (its budget and stall rule)."""
    return TrainConfig(
        lr=lr, batch_size=cfg.batch_size, max_images=cfg.max_images, seed=seed,
        stall_min_images=cfg.stall_min_images, stall_min_gain=cfg.stall_min_gain,
    )  # fmt: skip


def run_lr_sweep(
    cfg: LRSweepConfig,
    *,
    data_root=None,
    device: torch.device | str = "cpu",
    seed: int = 0,
    progress: bool = True,
    cache_dir: str | os.PathLike | None = None,
) -> LRSweep:
    """Train ``cfg.arch`` at every learning rate in ``cfg.lrs`` for every dataset and seed; measure at each target
    training loss (first reached; checked every ``cfg.check_every`` images or 1/64 of the images seen) and at
    ``cfg.fixed_images`` seen. The runs of one dataset (all its seeds and rates) train together as one stacked
    network (:func:`lr_sweep_groups`).

    With ``cache_dir`` (the book passes the book's cache folder), a sweep with the same settings, seed,
    device, data root and package source is trained once and read back by the chapters that share it
    (:func:`repro.measurements.store.cached`); the returned sweep's ``from_cache`` says which happened.
    """
    device = torch.device(device)
    if cache_dir is None:
        return _run_lr_sweep(cfg, data_root, device, seed, progress)
    depends_on = (cfg, seed, str(device), str(resolve_data_root(data_root).resolve()))
    sweep, hit = cached(
        "lr-sweep",
        depends_on,
        lambda: _run_lr_sweep(cfg, data_root, device, seed, progress, cache_dir),
        cache_dir,
        module=__name__,
    )
    sweep.from_cache = hit
    return sweep


def lr_sweep_groups(cfg: LRSweepConfig) -> list[str]:
    """The sweep's groups, in the order :func:`run_lr_sweep` trains them: one per dataset, holding all its runs
    (every seed × every learning rate), trained together. Each group is one entry of the per-group cache, and
    :func:`train_lr_sweep_group` trains it on its own (the book's cluster runner, :mod:`repro.runner.cluster`, makes
    each group a task, so that one sweep spreads over several workers with the same results as a serial run)."""
    return list(cfg.datasets)


def _run_inputs(cfg: LRSweepConfig, ds, seed: int, device: torch.device):
    """The training set, stiffness set and Euclidean distance bins of the runs with seed ``seed``."""
    split = prepare_split(ds, cfg.arch, n_train=cfg.n_train, n_stiffness=cfg.n_stiffness, seed=seed, device=device)
    flat = split.x_stiffness.reshape(split.x_stiffness.shape[0], -1).double()
    euclid_edges = np.linspace(0.0, float(torch.cdist(flat, flat).max()), cfg.n_bins + 1)
    return (split.x_train, split.y_train), (split.x_stiffness, split.y_stiffness), euclid_edges


def lr_sweep_group_files(
    cfg: LRSweepConfig, dataset: str, seed: int, device: torch.device, root: str, cache_dir: str | os.PathLike
) -> tuple[Path, Path]:
    """The per-group cache entry of ``dataset``'s group (its rows, a stored measurement) and the side file beside
    it, under the same key (what every stop measured, :mod:`repro.experiments.matrices`); ``root``: the resolved
    data root."""
    return _group_file(cfg, dataset, seed, device, root, cache_dir, SUFFIX), _group_file(
        cfg, dataset, seed, device, root, cache_dir, ".npz"
    )


def _group_file(cfg, dataset, seed, device, root, cache_dir, suffix: str) -> Path:
    """A file of the group's cache entry: ``.measurement`` its rows, ``.npz`` its matrices, ``.ckpt`` its checkpoint (a
    group being trained)."""
    depends_on = (cfg, dataset, seed, str(device), root)
    return entry_path("lr-sweep-group", depends_on, cache_dir, module=__name__, suffix=suffix)


def _stale_checkpoints(cache_dir: Path, ours: set[Path]) -> list[str]:
    """The names of the sweep-group checkpoints in ``cache_dir`` other than ``ours`` (this sweep's groups) that have
    not been written for :data:`STALE_CHECKPOINT_SECONDS`: a group still training rewrites its checkpoint every
    :data:`CHECKPOINT_SECONDS`, so a file this old belongs to no running group."""
    now = time.time()
    return sorted(
        p.name
        for p in cache_dir.glob("lr-sweep-group-*.ckpt")
        if p not in ours and now - p.stat().st_mtime > STALE_CHECKPOINT_SECONDS
    )


def _one_group(cfg, ds, dataset, seed, device, root, progress, cache_dir) -> tuple[list[dict], bool, dict]:
    """One group of the sweep: ``(rows, read back from the per-group cache, where its measuring time went)``
    (:meth:`repro.phases.PhaseClock.as_record`, from the entry's header when cached); a group trained here writes its
    matrices beside its rows (:func:`lr_sweep_group_files`) and, while it trains, a checkpoint beside them every
    :data:`CHECKPOINT_SECONDS`: a group killed part-way (a lost machine, a session's end) is taken up from there by
    the next call, and its results are those of an uninterrupted group."""
    if cache_dir is None:
        with timing() as clock:
            rows = _train_group(cfg, ds, dataset, seed, device, progress)
        return rows, False, clock.as_record()
    matrices_file = _group_file(cfg, dataset, seed, device, root, cache_dir, ".npz")
    checkpoint = _group_file(cfg, dataset, seed, device, root, cache_dir, ".ckpt")
    rows_file = _group_file(cfg, dataset, seed, device, root, cache_dir, SUFFIX)
    if not rows_file.is_file() and not checkpoint.is_file():
        ours = {_group_file(cfg, d, seed, device, root, cache_dir, ".ckpt") for d in lr_sweep_groups(cfg)}
        stale = _stale_checkpoints(Path(cache_dir), ours)
        if stale:
            warnings.warn(
                f"{dataset}'s sweep group starts afresh: checkpoints in {cache_dir} not written for over "
                f"{STALE_CHECKPOINT_SECONDS / 60:.0f} minutes ({', '.join(stale)}) are not this sweep's (written under "
                "another cache key: other code of the sweep, torch version, thread count, or another sweep's "
                "settings) and are not taken up; once no sweep of theirs is running, remove them to free the space",
                stacklevel=2,
            )
    run = partial(_train_group, cfg, ds, dataset, seed, device, progress, matrices_file, checkpoint)
    rows, hit = cached("lr-sweep-group", (cfg, dataset, seed, str(device), root), run, cache_dir, module=__name__)
    checkpoint.unlink(missing_ok=True)  # the group is stored: its training needs no taking up
    return rows, hit, dict(read_header(rows_file).get("phases", {}))


def train_lr_sweep_group(
    cfg: LRSweepConfig,
    dataset: str,
    seed: int,
    *,
    data_root=None,
    device: torch.device | str = "cpu",
    cache_dir: str | os.PathLike,
    progress: bool = False,
) -> bool:
    """Train and measure one group of :func:`lr_sweep_groups` into the per-group cache in ``cache_dir``, exactly
    as :func:`run_lr_sweep` would (same cache entry); True when it was there already."""
    device = torch.device(device)
    ds = load_dataset(dataset, data_root)
    root = str(resolve_data_root(data_root).resolve())
    return _one_group(cfg, ds, dataset, seed, device, root, progress, cache_dir)[1]


def _run_lr_sweep(
    cfg: LRSweepConfig,
    data_root,
    device: torch.device,
    seed: int,
    progress: bool,
    cache_dir: str | os.PathLike | None = None,
) -> LRSweep:
    """The sweep's groups one after another; with ``cache_dir`` each group is memoised on its own, so that a sweep
    interrupted after some groups (a crash, a lost machine) resumes from the first group it had not finished, and
    groups trained as tasks of their own (:func:`train_lr_sweep_group`) are read back."""
    t0 = time.perf_counter()
    rows, data = [], {}
    root = str(resolve_data_root(data_root).resolve())
    groups_from_cache, group_phases = 0, {}
    for dataset in lr_sweep_groups(cfg):
        ds = load_dataset(dataset, data_root)
        data[dataset] = ds.describe()
        group_rows, hit, phases = _one_group(cfg, ds, dataset, seed, device, root, progress, cache_dir)
        group_phases[dataset] = {"phases": phases, "read_back": hit}
        rows += group_rows
        groups_from_cache += hit
    probe = new_model(cfg.arch, ds, init=cfg.init, seed=seed, device=device)
    layers = [*probe.representations(prepare_inputs(ds.x_test[:1], cfg.arch, device)).keys(), EUCLID]
    frame = pd.DataFrame(rows)
    frame["train_loss_target_reached"] = frame["images_seen"].notna()
    if "missed_at" not in frame:  # every target reached
        frame["missed_at"] = np.nan
    return LRSweep(
        cfg, frame, data, time.perf_counter() - t0, seed, layers, groups_from_cache=groups_from_cache,
        group_phases=group_phases,
    )  # fmt: skip
