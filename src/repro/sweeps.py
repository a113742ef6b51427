"""Experiments of the paper's second half: learning rate, distance and the critical length (Figures 8–10).

- :func:`distance_analysis` — stiffness of a set's pairs against their distance in the input space and in every
  layer's representation (Eq. 9), with the first zero crossing ("stiff domain size", ξ) and its bootstrap interval.
- :func:`run_lr_sweep` — train at several constant learning rates, stop at target training losses (the first
  version's rule) and at a fixed number of images seen (a fixed-budget rule), measure class and distance stiffness.
- :func:`run_harmonics` — the synthetic spherical-harmonics task at increasing degree (frequency).

Distances: the dot-product "distance" of Eq. 9 is a cosine in [−1, 1] with 1 = same direction (``same_point
="high"``); the Euclidean distance between standardised inputs has 0 = same point (``same_point="low"``).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr
from torch import nn

from repro.cache import memoise
from repro.data import load_dataset, resolve_data_root, stiffness_set, train_subset
from repro.experiments import prepare_inputs
from repro.models import build_model
from repro.profiles import DistanceConfig, HarmonicsConfig, LRSweepConfig
from repro.stiffness import (
    CriticalDistance,
    bootstrap_class_summary,
    bootstrap_critical_distance,
    pairwise_cosine,
    stiffness_from_gram,
    unit_gram,
)
from repro.training import CHECK_RESOLUTION, TrainConfig, evaluate, train

__all__ = [
    "EUCLID",
    "DistanceAnalysis",
    "distance_analysis",
    "DistanceRun",
    "run_distance",
    "LRSweep",
    "run_lr_sweep",
    "domain_size",
    "crossing_table",
    "domain_table",
    "lr_trend",
    "trend_summary",
    "condition_table",
    "condition_sentence",
    "HarmonicsRun",
    "run_harmonics",
]

EUCLID = "input (Euclidean)"  # the key of the Euclidean input-space analysis


@dataclass
class DistanceAnalysis:
    """Stiffness vs distance of one set at one moment: ``critical[layer]`` for every representation (dot-product
    distance, Eq. 9) and for :data:`EUCLID` (Euclidean distance between inputs)."""

    critical: dict[str, CriticalDistance]
    gram_seconds: float

    def xi(self, layer: str) -> float | None:
        return self.critical[layer].xi


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
    return DistanceAnalysis(critical, gram_seconds)


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
    ds = load_dataset(cfg.dataset, data_root)
    x_tr, y_tr, _ = train_subset(ds, cfg.n_train, seed)
    x_st, y_st, _ = stiffness_set(ds, cfg.n_stiffness, seed)
    x_tr, x_st = prepare_inputs(x_tr, cfg.arch, device), prepare_inputs(x_st, cfg.arch, device)
    y_tr, y_st = y_tr.to(device), y_st.to(device)
    torch.manual_seed(seed)
    model = build_model(cfg.arch, tuple(ds.input_shape), ds.num_classes, init=cfg.init).to(device)
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


@dataclass
class LRSweep:
    """All measurements of a learning-rate sweep: one row per (dataset, learning rate, seed, stopping rule).

    Columns: ``dataset, lr, seed, rule`` ("loss" or "images"), ``stop`` (the target loss or the image budget),
    ``images_seen, train_loss, within, between, between_lo, between_hi`` (sign stiffness of validation pairs, 95%
    bootstrap interval), and per layer ``xi[<layer>]``, ``xi_lo[<layer>]``, ``xi_hi[<layer>]``.
    """

    config: LRSweepConfig
    rows: pd.DataFrame
    data: dict[str, str]  # dataset → description (source, sizes)
    seconds_total: float
    seed: int = 0
    layers: list[str] = field(default_factory=list)
    from_cache: bool = False  # read back from the on-disk cache instead of trained in this call
    runs_from_cache: int = 0  # runs read back from an earlier, interrupted sweep's per-run cache

    def describe(self) -> str:
        """What the sweep used and how it went (Markdown): data, sizes, learning rates, stopping points, seeds,
        missed targets and run time."""
        cfg = self.config
        loss = self.rows[self.rows["rule"] == "loss"]
        missed = int((~loss["train_loss_target_reached"]).sum())
        per_run = self.rows.groupby(["dataset", "lr", "seed"])["seconds"].first()
        subset = "the full training split" if cfg.n_train is None else f"{cfg.n_train:,} images"
        return (
            "**Data.** " + "  \n".join(self.data.values()) + f"  \nTraining subset: {subset}; stiffness set: "
            f"{cfg.n_stiffness} validation images; learning rates {', '.join(f'{lr:g}' for lr in cfg.lrs)}; stopping "
            f"at training losses {', '.join(f'{t:g}' for t in cfg.target_losses)} (first reached; checked every "
            f"{cfg.check_every} images, or every 1/{CHECK_RESOLUTION} of the images seen once that is more) and at "
            f"{cfg.fixed_images:,} images seen; seeds {self.seed}–"
            f"{self.seed + cfg.n_seeds - 1}; at most {cfg.max_images:,} images per run.  \n"
            f"Target losses missed within the budget: {missed} of {len(loss)}. Sweep time {self.seconds_total:.0f} s"
            + (" (trained by an earlier chapter or build and read back from the cache)" if self.from_cache else "")
            + (
                f"; {self.runs_from_cache} of its runs were read back from an interrupted earlier sweep"
                if self.runs_from_cache
                else ""
            )
            + f". The {len(per_run)} runs took {per_run.sum():.0f} s in all (training and measuring)."
        )


def _measure(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, num_classes: int, cfg: LRSweepConfig, euclid_edges, seed: int
) -> dict:
    was_training = model.training
    model.eval()
    S = stiffness_from_gram(unit_gram(model, x, y).unit, "sign")
    dist = distance_analysis(
        model, x, y, n_bins=cfg.n_bins, euclid_edges=euclid_edges, n_boot=cfg.n_boot, seed=seed, S=S
    )
    summ = bootstrap_class_summary(S, y, num_classes=num_classes, n_boot=cfg.n_boot, seed=seed)
    model.train(was_training)
    row = {
        "within": summ.within,
        "between": summ.between,
        "between_lo": summ.between_ci[0],
        "between_hi": summ.between_ci[1],
    }
    for layer, crit in dist.critical.items():
        row[f"xi[{layer}]"] = np.nan if crit.xi is None else crit.xi
        row[f"xi_lo[{layer}]"], row[f"xi_hi[{layer}]"] = crit.ci
    return row


def _train_and_measure(
    model: nn.Module,
    train_set: tuple[torch.Tensor, torch.Tensor],
    stiff_set: tuple[torch.Tensor, torch.Tensor],
    num_classes: int,
    cfg: LRSweepConfig,
    lr: float,
    seed: int,
    euclid_edges: np.ndarray,
    base: dict,
    progress: bool,
) -> list[dict]:
    """One training run of a sweep: a row at each target loss reached and at the fixed image budget; every row
    carries the run's wall time (``seconds``: training and measuring)."""
    start = time.perf_counter()
    rows: list[dict] = []

    def measure(rule: str, stop: float, seen: int, net: nn.Module) -> None:
        row = base | {"rule": rule, "stop": stop, "images_seen": seen}
        rows.append(row | _measure(net, *stiff_set, num_classes, cfg, euclid_edges, seed))

    result = train(
        model,
        *train_set,
        config=TrainConfig(lr=lr, batch_size=cfg.batch_size, max_images=cfg.max_images, seed=seed),
        eval_at=[cfg.fixed_images],
        on_eval=lambda seen, net: measure("images", cfg.fixed_images, seen, net),
        target_losses=cfg.target_losses,
        check_every=cfg.check_every,
        on_target=lambda target, seen, net: measure("loss", target, seen, net),
        progress=progress,
    )
    for target in cfg.target_losses:  # unreached targets are recorded as such, not dropped
        if target not in result.target_hits:
            rows.append(base | {"rule": "loss", "stop": target, "images_seen": np.nan})
    seconds = time.perf_counter() - start
    for row in rows:
        row["status"] = result.status
        row["seconds"] = seconds
    return rows


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
    ``cfg.fixed_images`` seen.

    With ``cache_dir`` (the book passes :func:`repro.cache.cache_dir`), a sweep with the same settings, seed,
    device, data root and package source is trained once and read back by the chapters that share it
    (:func:`repro.cache.memoise`); the returned sweep's ``from_cache`` says which happened.
    """
    device = torch.device(device)
    if cache_dir is None:
        return _run_lr_sweep(cfg, data_root, device, seed, progress)
    depends_on = (cfg, seed, str(device), str(resolve_data_root(data_root).resolve()))
    sweep, hit = memoise(
        "lr-sweep",
        depends_on,
        lambda: _run_lr_sweep(cfg, data_root, device, seed, progress, cache_dir),
        cache_dir,
        module=__name__,
    )
    sweep.from_cache = hit
    return sweep


def _run_lr_sweep(
    cfg: LRSweepConfig,
    data_root,
    device: torch.device,
    seed: int,
    progress: bool,
    cache_dir: str | os.PathLike | None = None,
) -> LRSweep:
    """The sweep's runs one after another; with ``cache_dir`` each run is memoised on its own, so that a sweep
    interrupted after some runs (a crash, a lost machine) resumes from the first run it had not finished."""
    t0 = time.perf_counter()
    rows, data, layers = [], {}, []
    root = str(resolve_data_root(data_root).resolve())
    runs_from_cache = 0
    for dataset in cfg.datasets:
        ds = load_dataset(dataset, data_root)
        data[dataset] = ds.describe()
        for s in range(seed, seed + cfg.n_seeds):
            x_tr, y_tr, _ = train_subset(ds, cfg.n_train, s)
            x_st, y_st, _ = stiffness_set(ds, cfg.n_stiffness, s)
            x_tr, x_st = prepare_inputs(x_tr, cfg.arch, device), prepare_inputs(x_st, cfg.arch, device)
            y_tr, y_st = y_tr.to(device), y_st.to(device)
            flat = x_st.reshape(x_st.shape[0], -1).double()
            euclid_edges = np.linspace(0.0, float(torch.cdist(flat, flat).max()), cfg.n_bins + 1)
            for lr in cfg.lrs:
                torch.manual_seed(s)
                model = build_model(cfg.arch, tuple(ds.input_shape), ds.num_classes, init=cfg.init).to(device)
                base = {"dataset": dataset, "lr": lr, "seed": s}
                run = partial(
                    _train_and_measure,
                    model,
                    (x_tr, y_tr),
                    (x_st, y_st),
                    ds.num_classes,
                    cfg,
                    lr,
                    s,
                    euclid_edges,
                    base,
                    progress,
                )
                if cache_dir is None:
                    rows += run()
                else:
                    run_rows, hit = memoise(
                        "lr-sweep-run", (cfg, dataset, lr, s, str(device), root), run, cache_dir, module=__name__
                    )
                    rows += run_rows
                    runs_from_cache += hit
                if not layers:
                    layers = [*model.representations(x_st[:1]).keys(), EUCLID]
    frame = pd.DataFrame(rows)
    frame["train_loss_target_reached"] = frame["images_seen"].notna()
    return LRSweep(cfg, frame, data, time.perf_counter() - t0, seed, layers, runs_from_cache=runs_from_cache)


def domain_size(rows: pd.DataFrame, layer: str) -> pd.DataFrame:
    """The stiff-domain size of ``layer`` for every row, as a distance that grows with the domain.

    For the dot-product distance (a cosine, 1 = same point) the domain reaches from 1 down to the crossing ξ, so its
    size is ``1 − ξ``; for the Euclidean distance the size is ξ itself. Returns columns ``size, size_lo, size_hi``
    (NaN where no crossing was found).
    """
    xi, lo, hi = rows[f"xi[{layer}]"], rows[f"xi_lo[{layer}]"], rows[f"xi_hi[{layer}]"]
    if layer == EUCLID:
        return pd.DataFrame({"size": xi, "size_lo": lo, "size_hi": hi}, index=rows.index)
    return pd.DataFrame({"size": 1 - xi, "size_lo": 1 - hi, "size_hi": 1 - lo}, index=rows.index)


def domain_table(rows: pd.DataFrame, layers: list[str]) -> pd.DataFrame:
    """Long table of stiff-domain sizes: one row per sweep row and layer, with ``size, size_lo, size_hi`` from
    :func:`domain_size` (``dataset, lr, seed, rule, stop`` kept)."""
    keys = ["dataset", "lr", "seed", "rule", "stop"]
    parts = [rows[keys].assign(layer=layer).join(domain_size(rows, layer)) for layer in layers]
    return pd.concat(parts, ignore_index=True)


def crossing_table(analysis: DistanceAnalysis) -> pd.DataFrame:
    """Per representation: ξ, its interval, the share of bootstrap replicates that cross, and the stiff-domain size
    (``1 − ξ`` for the dot-product distance, ξ for the Euclidean one; NaN without a crossing)."""
    rows = []
    for layer, c in analysis.critical.items():
        size = np.nan if c.xi is None else (c.xi if layer == EUCLID else 1 - c.xi)
        rows.append(
            {
                "representation": layer,
                "xi": np.nan if c.xi is None else c.xi,
                "xi interval": f"[{c.ci[0]:.3f}, {c.ci[1]:.3f}]",
                "replicates crossing": f"{c.found_fraction:.0%}",
                "domain size": size,
            }
        )
    return pd.DataFrame(rows)


def lr_trend(rows: pd.DataFrame, value: str, lo: str, hi: str) -> pd.DataFrame:
    """How ``value`` changes with the learning rate, per (dataset, rule, stop).

    Returns one row per group: Spearman's rank correlation between learning rate and ``value`` (over all seeds),
    the mean value and the mean interval ``[lo, hi]`` at the lowest and at the highest learning rate, and
    ``direction``: ``"up"`` when the highest rate's interval lies above the lowest's, ``"down"`` when below,
    ``"unclear"`` otherwise (or when either end is missing).
    """
    out = []
    for (dataset, rule, stop), g in rows.groupby(["dataset", "rule", "stop"], sort=False):
        g = g.dropna(subset=[value])
        lrs = sorted(g["lr"].unique())
        rec = {"dataset": dataset, "rule": rule, "stop": stop, "n_lrs": len(lrs)}
        if len(lrs) < 2:
            out.append(rec | {"spearman": np.nan, "direction": "unclear"})
            continue
        rho = spearmanr(g["lr"], g[value]).statistic
        ends = {}
        for name, lr in (("lowest", lrs[0]), ("highest", lrs[-1])):
            e = g[g["lr"] == lr]
            ends[name] = (lr, e[value].mean(), e[lo].mean(), e[hi].mean())
            rec |= {
                f"{name} lr": lr,
                f"{value} at {name}": ends[name][1],
                f"interval at {name}": (ends[name][2], ends[name][3]),
            }
        if ends["highest"][2] > ends["lowest"][3]:
            direction = "up"
        elif ends["highest"][3] < ends["lowest"][2]:
            direction = "down"
        else:
            direction = "unclear"
        out.append(rec | {"spearman": rho, "direction": direction})
    return pd.DataFrame(out)


def trend_summary(trends: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per (dataset, rule, stop): the direction in each representation (from :func:`lr_trend` tables keyed by
    layer) and how many go up, down or stay unclear."""
    layers = list(trends)
    merged = None
    for layer in layers:
        part = trends[layer][["dataset", "rule", "stop", "direction"]].rename(columns={"direction": layer})
        merged = part if merged is None else merged.merge(part, on=["dataset", "rule", "stop"], how="outer")
    for word in ("up", "down", "unclear"):
        merged[f"# {word}"] = (merged[layers] == word).sum(axis=1)
    return merged


def condition_table(trends: dict[tuple[str, str], pd.DataFrame]) -> pd.DataFrame:
    """One row per (distance, stopping rule, dataset, stop) with the direction of the domain size and Spearman's
    ρ, from :func:`lr_trend` tables keyed by ``(distance, stopping rule)``."""
    parts = [
        t[["dataset", "stop", "direction", "spearman"]].assign(distance=dist, stopping=rule)
        for (dist, rule), t in trends.items()
    ]
    cols = ["distance", "stopping", "dataset", "stop", "direction", "spearman"]
    return pd.concat(parts, ignore_index=True)[cols].round({"spearman": 2})


def condition_sentence(trends: dict[tuple[str, str], pd.DataFrame]) -> str:
    """A sentence per condition saying how often the domain size went up, down or stayed unclear."""
    out = []
    for (dist, rule), t in trends.items():
        counts = t["direction"].value_counts()
        parts = ", ".join(f"{counts.get(w, 0)} {w}" for w in ("up", "down", "unclear"))
        out.append(f"{dist} distance, {rule}: {parts} (of {len(t)})")
    return "Domain size with increasing learning rate — " + "; ".join(out) + "."


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
        x_st, y_st, _ = stiffness_set(ds, cfg.n_stiffness, seed)
        x_tr, y_tr = ds.x_train.to(device), ds.y_train.to(device)
        x_st, y_st = x_st.to(device), y_st.to(device)
        torch.manual_seed(seed)
        model = build_model("fc", tuple(ds.input_shape), ds.num_classes, init=cfg.init).to(device)
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
