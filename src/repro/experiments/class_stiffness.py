"""Class stiffness through training (Figures 2–6, the pairs chapter): train one network and measure, at chosen
moments, the class stiffness matrices of held-out pairs (Eq. 6) with bootstrap intervals of their within- and
between-class means (Eq. 7).

- :func:`stiffness_snapshot` — class stiffness matrices (sign and cosine) with bootstrap intervals on a fixed set;
- :func:`run_class_stiffness` — train with snapshots at the config's stages and a history at every evaluation point
  (columns: :mod:`repro.experiments.history`);
- :func:`run_class_stiffness_many` — several such runs (configs × seeds), the networks of one architecture trained
  together as one stack (:func:`repro.training.train_many`); :func:`run_class_stiffness_seeds` (one config,
  ``n_seeds`` seeds) and :func:`run_class_stiffness_configs` (several configs, one seed) call it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from repro.data import balanced_indices
from repro.experiments.configs import ClassStiffnessConfig
from repro.experiments.history import KINDS, METRICS, STIFFNESS_ENTROPY, stiffness_column
from repro.experiments.numerics import PrecisionCheck, precision_check, textbook_numerics
from repro.experiments.setup import Split, new_model, split_for
from repro.losses import softmax_entropy
from repro.stiffness import ClassSummary, bootstrap_class_summary, class_stiffness, stiffness_from_gram, unit_gram
from repro.training import TrainConfig, TrainResult, images_seen_schedule, train_many

__all__ = [
    "StiffnessSnapshot",
    "stiffness_snapshot",
    "ClassStiffnessRun",
    "run_class_stiffness",
    "run_class_stiffness_many",
    "run_class_stiffness_seeds",
    "run_class_stiffness_configs",
]


@dataclass
class StiffnessSnapshot:
    """Class stiffness at one moment of training.

    ``matrices[metric]`` is the ``(K, K)`` class stiffness matrix of validation pairs and ``summaries[metric]``
    their within/between values with bootstrap intervals, for ``metric`` in ``("sign", "cos")``; ``gram`` is the
    validation unit Gram ``(N, N)`` (float64; :func:`repro.stiffness.unit_gram`: the signs and cosines of the
    Gram of per-example gradients, which is ``exp(log_norms[i]) · gram[i, j] · exp(log_norms[j])``), ``labels``
    its classes ``(N,)`` and ``gram_seconds`` the time it took. When training examples were
    given too, ``pairs[kind][metric] = (matrix, summary)`` for ``kind`` in ``("train-train", "train-val")`` (rows:
    training examples; columns: training or validation examples).
    """

    images_seen: int
    matrices: dict[str, np.ndarray]
    summaries: dict[str, ClassSummary]
    gram: np.ndarray
    labels: np.ndarray
    gram_seconds: float
    log_norms: np.ndarray
    pairs: dict[str, dict[str, tuple[np.ndarray, ClassSummary]]] = field(default_factory=dict)

    def matrix(self, kind: str, metric: str) -> np.ndarray:
        """Class stiffness matrix of ``kind`` pairs ("val-val", "train-train", "train-val") for ``metric``."""
        return self.matrices[metric] if kind == "val-val" else self.pairs[kind][metric][0]

    def summary(self, kind: str, metric: str) -> ClassSummary:
        """Within/between summary of ``kind`` pairs for ``metric``."""
        return self.summaries[metric] if kind == "val-val" else self.pairs[kind][metric][1]


def _class_stats(
    G: torch.Tensor,
    y: torch.Tensor,
    y2: torch.Tensor | None,
    sq: torch.Tensor,
    sq2: torch.Tensor,
    num_classes: int,
    n_boot: int,
    seed: int,
) -> dict[str, tuple[np.ndarray, ClassSummary]]:
    stats = {}
    for metric in ("sign", "cos"):
        S = stiffness_from_gram(G, metric, sq_norms=sq, sq_norms2=sq2)
        C = class_stiffness(S, y, y2, num_classes=num_classes).numpy()
        stats[metric] = (C, bootstrap_class_summary(S, y, y2, num_classes=num_classes, n_boot=n_boot, seed=seed))
    return stats


def stiffness_snapshot(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    num_classes: int,
    *,
    x_train: torch.Tensor | None = None,
    y_train: torch.Tensor | None = None,
    images_seen: int = 0,
    n_boot: int = 200,
    seed: int = 0,
) -> StiffnessSnapshot:
    """One Gram of per-example gradients → sign and cosine class stiffness with intervals.

    Args:
        x, y: validation examples ``(N, ...)``, ``(N,)``; x_train, y_train: optional training examples
            ``(T, ...)``, ``(T,)`` for train–train and train–val pairs (one Gram over both sets, sliced).
    """
    start = time.perf_counter()
    both = x_train is not None
    # the unit Gram: stiffness needs only signs and cosines, which it keeps where G itself underflows
    gram = unit_gram(model, torch.cat([x, x_train]) if both else x, torch.cat([y, y_train]) if both else y)
    G_all = gram.unit
    gram_seconds = time.perf_counter() - start
    n = x.shape[0]
    sq = torch.diagonal(G_all)
    G = G_all[:n, :n]
    val = _class_stats(G, y, None, sq[:n], sq[:n], num_classes, n_boot, seed)
    pairs = {}
    if both:
        pairs["train-train"] = _class_stats(G_all[n:, n:], y_train, None, sq[n:], sq[n:], num_classes, n_boot, seed)
        pairs["train-val"] = _class_stats(G_all[n:, :n], y_train, y, sq[n:], sq[:n], num_classes, n_boot, seed)
    return StiffnessSnapshot(
        images_seen=images_seen,
        matrices={m: v[0] for m, v in val.items()},
        summaries={m: v[1] for m, v in val.items()},
        gram=G.cpu().numpy(),
        log_norms=gram.log_norms[:n].cpu().numpy(),
        labels=y.cpu().numpy(),
        gram_seconds=gram_seconds,
        pairs=pairs,
    )


@dataclass
class ClassStiffnessRun:
    """Everything a class-stiffness chapter shows: the data used, the training history and the stage snapshots."""

    config: ClassStiffnessConfig
    data_description: str
    class_names: tuple[str, ...]
    n_train: int
    n_stiffness: int
    n_val: int
    history: pd.DataFrame  # one row per evaluation point; columns: repro.experiments.history
    snapshots: list[StiffnessSnapshot]
    status: str
    seconds_total: float
    seconds_gram: float
    precision: PrecisionCheck | None = None
    trained_together: int = 1  # networks trained in one stack with this one (itself included)


def _validation_set(split: Split, n_val: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Validation-loss images: class-balanced from the test split, disjoint from the stiffness set."""
    ds = split.dataset
    rest = torch.ones(ds.n_test, dtype=torch.bool)
    rest[split.stiffness_index] = False
    rest_idx = torch.nonzero(rest).squeeze(1)
    n_val = min(n_val, rest_idx.numel())
    gen = torch.Generator().manual_seed(seed + 1)
    val_idx = rest_idx[torch.randperm(rest_idx.numel(), generator=gen)[:n_val]]
    return split.prepare(ds.x_test[val_idx]), ds.y_test[val_idx].to(split.y_train.device)


@dataclass
class _Member:
    """One network of a joint run: its config, seed, data and model, and what its evaluations collected.

    ``split`` holds its training set ``(T, ...)``, ``(T,)`` and stiffness set ``(S, ...)``, ``(S,)``; ``x_val``,
    ``y_val`` its validation-loss set; ``x_tp``, ``y_tp`` training images for train-train and train-val pairs (None
    without); ``snapshots`` the stage snapshots taken so far and ``pending_stages`` the stages still to come.
    """

    cfg: ClassStiffnessConfig
    seed: int
    split: Split
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_tp: torch.Tensor | None
    y_tp: torch.Tensor | None
    model: nn.Module
    snapshots: list[StiffnessSnapshot] = field(default_factory=list)
    pending_stages: list[int] = field(default_factory=list)
    gram_time: float = 0.0

    def __post_init__(self) -> None:
        self.pending_stages = sorted(set(self.cfg.stages))

    def schedule(self) -> list[int]:
        """Evaluation points: ``cfg.n_schedule`` log-spaced points (none for 0) and the stages."""
        n_log = self.cfg.n_schedule
        extra = images_seen_schedule(self.cfg.max_images, n_log=n_log, n_regular=0) if n_log > 0 else []
        return sorted(set(extra) | set(self.cfg.stages))

    def train_config(self) -> TrainConfig:
        """The optimiser settings and budget of the config, shuffled with this member's seed."""
        cfg = self.cfg
        return TrainConfig(lr=cfg.lr, batch_size=cfg.batch_size, max_images=cfg.max_images, seed=self.seed)

    def on_eval(self, seen: int, net: nn.Module) -> dict:
        """The stiffness snapshot at ``seen`` images seen (kept when it is the first evaluation reaching the next
        stage) and the history columns read from it (:mod:`repro.experiments.history`)."""
        cfg, num_classes = self.cfg, self.split.dataset.num_classes
        x_st, y_st = self.split.x_stiffness, self.split.y_stiffness
        snap = stiffness_snapshot(
            net, x_st, y_st, num_classes, x_train=self.x_tp, y_train=self.y_tp, images_seen=seen, n_boot=cfg.n_boot,
            seed=self.seed,
        )  # fmt: skip
        self.gram_time += snap.gram_seconds
        if self.pending_stages and seen >= self.pending_stages[0]:  # taken at the first evaluation reaching a stage
            while self.pending_stages and seen >= self.pending_stages[0]:
                self.pending_stages.pop(0)
            self.snapshots.append(snap)
        with torch.no_grad():
            out = {STIFFNESS_ENTROPY: float(softmax_entropy(net(x_st)).mean())}
        if cfg.textbook_numerics:
            out |= textbook_numerics(net, x_st, y_st, torch.as_tensor(snap.gram), num_classes)
        for metric in METRICS:
            summ = snap.summaries[metric]
            values = {"within": (summ.within, summ.within_ci), "between": (summ.between, summ.between_ci)}
            out |= {stiffness_column(kind, metric): values[kind][0] for kind in KINDS}
            for kind in KINDS:
                lo, hi = values[kind][1]
                out |= {stiffness_column(kind, metric, bound="lo"): lo, stiffness_column(kind, metric, bound="hi"): hi}
        return out

    def precision(self, result: TrainResult) -> PrecisionCheck | None:
        """The precision check of the trained network's stiffness Gram (None when training diverged)."""
        if result.status == "diverged":
            return None
        return precision_check(self.model, self.split.x_stiffness, self.split.y_stiffness)

    def finish(
        self, result: TrainResult, precision: PrecisionCheck | None, seconds_total: float, together: int
    ) -> ClassStiffnessRun:
        """The run as a chapter reads it, from this member's training result."""
        split = self.split
        return ClassStiffnessRun(
            config=self.cfg,
            data_description=split.dataset.describe(),
            class_names=tuple(split.dataset.classes),
            n_train=int(split.x_train.shape[0]),
            n_stiffness=int(split.x_stiffness.shape[0]),
            n_val=int(self.x_val.shape[0]),
            history=pd.DataFrame(result.records),
            snapshots=self.snapshots,
            status=result.status,
            seconds_total=seconds_total,
            seconds_gram=self.gram_time,
            precision=precision,
            trained_together=together,
        )


def _member(cfg: ClassStiffnessConfig, seed: int, device: torch.device, data_root) -> _Member:
    """The data (split, validation set, training pairs) and the untrained model of ``cfg`` with ``seed``."""
    split = split_for(cfg, seed=seed, device=device, data_root=data_root)
    x_val, y_val = _validation_set(split, cfg.n_val, seed)
    x_tp = y_tp = None
    if cfg.n_stiffness_train:  # training images for train-train / train-val pairs
        pairs = balanced_indices(split.y_train.cpu(), cfg.n_stiffness_train, seed).to(device)
        x_tp, y_tp = split.x_train[pairs], split.y_train[pairs]
    model = new_model(cfg.arch, split.dataset, init=cfg.init, seed=seed, device=device)
    return _Member(cfg, seed, split, x_val, y_val, x_tp, y_tp, model)


def _train_together(members: list[_Member], progress: bool) -> list[TrainResult]:
    """One :func:`~repro.training.train_many` call for ``members`` (one architecture, one batch size)."""
    return train_many(
        [m.model for m in members],
        [m.split.x_train for m in members],
        [m.split.y_train for m in members],
        configs=[m.train_config() for m in members],
        x_val=[m.x_val for m in members],
        y_val=[m.y_val for m in members],
        eval_at=[m.schedule() for m in members],
        on_eval=lambda e, seen, net: members[e].on_eval(seen, net),
        progress=progress,
    )


def stack_groups(runs: Sequence[tuple[ClassStiffnessConfig, int]]) -> list[list[int]]:
    """``runs`` split into the groups that can be trained as one stack (the same dataset, architecture and batch
    size): lists of indices into ``runs``, in order of first appearance."""
    groups: dict[tuple, list[int]] = {}
    for e, (cfg, _) in enumerate(runs):
        groups.setdefault((cfg.dataset, cfg.arch, cfg.batch_size), []).append(e)
    return list(groups.values())


def run_class_stiffness_many(
    runs: Sequence[tuple[ClassStiffnessConfig, int]],
    *,
    data_root=None,
    device: torch.device | str = "cpu",
    progress: bool = True,
) -> list[ClassStiffnessRun]:
    """:func:`run_class_stiffness` for every ``(config, seed)`` of ``runs``, in that order, the networks of one
    dataset, architecture and batch size trained together by one :func:`~repro.training.train_many` call.

    Each run has its own split, data, model, evaluation points and snapshots, and its result is the one
    :func:`run_class_stiffness` gives for it (the weights equal up to float rounding). ``seconds_total`` of each run
    is the wall time of its group's call (data, training and measurements of all its networks), and
    ``trained_together`` the number of networks in that group.
    """
    device = torch.device(device)
    out: list[ClassStiffnessRun | None] = [None] * len(runs)
    for group in stack_groups(runs):
        t0 = time.perf_counter()
        members = [_member(*runs[e], device, data_root) for e in group]
        results = _train_together(members, progress)
        precisions = [m.precision(r) for m, r in zip(members, results, strict=True)]
        seconds = time.perf_counter() - t0
        for e, m, r, p in zip(group, members, results, precisions, strict=True):
            out[e] = m.finish(r, p, seconds, len(group))
    return out  # type: ignore[return-value]


def run_class_stiffness_seeds(
    cfg: ClassStiffnessConfig,
    *,
    data_root=None,
    device: torch.device | str = "cpu",
    seed: int = 0,
    progress: bool = True,
) -> list[ClassStiffnessRun]:
    """``cfg.n_seeds`` runs of ``cfg`` with seeds ``seed``, ``seed + 1``, …, trained together
    (:func:`run_class_stiffness_many`)."""
    runs = [(cfg, seed + k) for k in range(cfg.n_seeds)]
    return run_class_stiffness_many(runs, data_root=data_root, device=device, progress=progress)


def run_class_stiffness_configs(
    cfgs: Sequence[ClassStiffnessConfig],
    *,
    data_root=None,
    device: torch.device | str = "cpu",
    seed: int = 0,
    progress: bool = True,
) -> list[ClassStiffnessRun]:
    """One run of each config with ``seed``, in order; those sharing a dataset, architecture and batch size
    trained together (:func:`run_class_stiffness_many`)."""
    runs = [(cfg, seed) for cfg in cfgs]
    return run_class_stiffness_many(runs, data_root=data_root, device=device, progress=progress)


def run_class_stiffness(
    cfg: ClassStiffnessConfig,
    *,
    data_root=None,
    device: torch.device | str = "cpu",
    seed: int = 0,
    progress: bool = True,
) -> ClassStiffnessRun:
    """Train ``cfg.arch`` on ``cfg.dataset`` and measure validation class stiffness along the way.

    Within/between sign stiffness is recorded at every evaluation point of a log-spaced schedule (``cfg.n_schedule``
    points plus the stages; 0: the stages only); the full sign and cosine matrices with bootstrap intervals at
    ``cfg.stages``. With ``cfg.textbook_numerics`` every evaluation point also records the stiffness a textbook
    computation would report (:func:`repro.experiments.numerics.textbook_numerics`). The network is trained by
    :func:`~repro.training.train_many` as a stack of one (:func:`run_class_stiffness_many`).
    """
    return run_class_stiffness_many([(cfg, seed)], data_root=data_root, device=device, progress=progress)[0]
