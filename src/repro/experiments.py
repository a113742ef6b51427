"""The experiments behind the chapters: each function loads data, builds and trains a model, measures stiffness.

Notebooks call these and only narrate and plot; every number a chapter shows comes from here.

- :func:`finite_difference_check` — Eqs. 2–4 checked numerically (``definition`` chapter).
- :func:`stiffness_snapshot` — class stiffness matrices (sign and cosine) with bootstrap intervals on a fixed set.
- :func:`run_class_stiffness` — train with snapshots at chosen stages (Figures 3–6).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from repro.data import (
    ImageDataset,
    balanced_indices,
    flatten_inputs,
    hierarchy,
    load_dataset,
    permuted_labels,
    stiffness_set,
    train_subset,
)
from repro.losses import cross_entropy, softmax_entropy
from repro.models import INIT_DESCRIPTIONS, build_model
from repro.profiles import ClassStiffnessConfig
from repro.stiffness import (
    ClassSummary,
    HierarchyContrast,
    bootstrap_class_summary,
    class_stiffness,
    class_summary,
    hierarchy_contrast,
    sign_disagreement,
    stiffness_from_gram,
    textbook_gram,
    unit_gram,
)
from repro.training import TrainConfig, images_seen_schedule, stage_label, train

__all__ = [
    "prepare_inputs",
    "finite_difference_check",
    "PrecisionCheck",
    "precision_check",
    "textbook_numerics",
    "StiffnessSnapshot",
    "stiffness_snapshot",
    "ClassStiffnessRun",
    "run_class_stiffness",
    "stage_table",
    "pair_table",
    "dynamics_table",
    "HierarchyRun",
    "run_hierarchy",
]


def prepare_inputs(x: torch.Tensor, arch: str, device: torch.device) -> torch.Tensor:
    """Inputs as the architecture takes them: flattened ``(N, C·H·W)`` for ``"fc"``, images for ``"cnn"``."""
    return (flatten_inputs(x) if arch == "fc" else x).to(device)


def _example_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return cross_entropy(model(x.unsqueeze(0)), y.unsqueeze(0))


def finite_difference_check(
    model: nn.Module,
    x1: torch.Tensor,
    y1: torch.Tensor,
    x2: torch.Tensor,
    y2: torch.Tensor,
    epsilons: tuple[float, ...],
) -> pd.DataFrame:
    """Compare the loss change on example 2 after a step ``−ε g₁`` with its first-order prediction ``−ε g₁·g₂``.

    Runs in float64 on a copy of ``model``. For each ε returns the finite difference
    ``[L₂(W − ε g₁) − L₂(W)] / ε``, the prediction ``−g₁·g₂`` (Eq. 4 with the descent sign), the same pair for
    example 1 itself (``−g₁·g₁``, Eq. 3), and the absolute and relative errors, which shrink ∝ ε.

    Args:
        x1, x2: single examples (no batch dimension); y1, y2: their integer labels (0-d tensors).
    """
    net = _float64_copy(model)
    params = [p for p in net.parameters() if p.requires_grad]
    x1, x2 = x1.to(torch.float64), x2.to(torch.float64)
    g1 = torch.autograd.grad(_example_loss(net, x1, y1), params)
    g2 = torch.autograd.grad(_example_loss(net, x2, y2), params)
    g1g2 = float(sum((a * b).sum() for a, b in zip(g1, g2, strict=True)))
    g1g1 = float(sum((a * a).sum() for a in g1))
    with torch.no_grad():
        base1, base2 = float(_example_loss(net, x1, y1)), float(_example_loss(net, x2, y2))
        originals = [p.detach().clone() for p in params]
        rows = []
        for eps in epsilons:
            for p, p0, g in zip(params, originals, g1, strict=True):
                p.copy_(p0 - eps * g)
            d1 = (float(_example_loss(net, x1, y1)) - base1) / eps
            d2 = (float(_example_loss(net, x2, y2)) - base2) / eps
            rows.append({"epsilon": eps, "fd_self": d1, "pred_self": -g1g1, "fd_other": d2, "pred_other": -g1g2})
        for p, p0 in zip(params, originals, strict=True):
            p.copy_(p0)
    df = pd.DataFrame(rows)
    df["abs_err_other"] = (df["fd_other"] - df["pred_other"]).abs()
    df["rel_err_other"] = df["abs_err_other"] / abs(g1g2)
    df["rel_err_self"] = (df["fd_self"] - df["pred_self"]).abs() / g1g1
    return df


def _float64_copy(model: nn.Module) -> nn.Module:
    import copy

    net = copy.deepcopy(model).to(torch.float64)
    net.eval()
    return net


@dataclass(frozen=True)
class PrecisionCheck:
    """How far a float32 unit Gram can be trusted for one model and set: ``sign_agreement`` is the share of
    off-diagonal pairs whose sign equals that of a float64 recomputation, ``max_cos_gap`` the largest cosine
    difference, ``min_loss`` the smallest per-example loss (float64), ``n_pairs`` the pairs compared."""

    sign_agreement: float
    max_cos_gap: float
    min_loss: float
    n_pairs: int

    def describe(self) -> str:
        return (
            f"Precision check at the end of training: the float32 Gram's signs equal a float64 recomputation for "
            f"{100 * self.sign_agreement:.2f}% of the {self.n_pairs:,} pairs (largest cosine gap "
            f"{self.max_cos_gap:.1e}; smallest validation loss {self.min_loss:.1e})."
        )


def precision_check(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> PrecisionCheck:
    """Compare the unit Gram of ``model`` on ``(x (N, ...), y (N,))`` in the model's dtype with one in float64."""
    was_training = model.training
    model.eval()
    try:
        ours = unit_gram(model, x, y).unit
        net = _float64_copy(model)
        x64 = x.to(torch.float64)
        reference = unit_gram(net, x64, y).unit
        with torch.no_grad():
            min_loss = float(cross_entropy(net(x64), y, reduction="none").min())
    finally:
        model.train(was_training)
    off = ~torch.eye(x.shape[0], dtype=torch.bool, device=ours.device)
    agree = (torch.sign(ours) == torch.sign(reference))[off].double().mean()
    gap = (stiffness_from_gram(ours, "cos") - stiffness_from_gram(reference, "cos"))[off].abs().max()
    return PrecisionCheck(float(agree), float(gap), min_loss, int(off.sum()))


PAIR_KINDS = ("val-val", "train-train", "train-val")


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


TEXTBOOK_DTYPES = {"textbook32": torch.float32, "textbook64": torch.float64}


def textbook_numerics(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, unit: torch.Tensor, num_classes: int
) -> dict[str, float]:
    """Within/between sign stiffness as a textbook computation would report it, beside the exact one.

    For each of ``"textbook32"`` and ``"textbook64"``: the Gram of per-example gradients of PyTorch's
    ``F.cross_entropy`` computed in float32 / float64 (:func:`repro.gram.textbook_gram`; ``sign(0) = 0``), read as
    ``within_sign_<name>`` and ``between_sign_<name>``; for each, the share of off-diagonal pairs whose sign is
    exactly 0 (``<name>_zero_share``) and whose sign is opposite to that of the exact unit Gram ``unit (N, N)``
    (``<name>_flip_share``).
    """
    out: dict[str, float] = {}
    for name, dtype in TEXTBOOK_DTYPES.items():
        G = textbook_gram(model, x, y, dtype=dtype)
        within, between = class_summary(class_stiffness(stiffness_from_gram(G, "sign"), y, num_classes=num_classes))
        shares = sign_disagreement(G, unit.to(G.device))
        out |= {
            f"within_sign_{name}": within,
            f"between_sign_{name}": between,
            f"{name}_zero_share": shares.zeros,
            f"{name}_flip_share": shares.flipped,
        }
    return out


@dataclass
class ClassStiffnessRun:
    """Everything a class-stiffness chapter shows: the data used, the training history and the stage snapshots."""

    config: ClassStiffnessConfig
    data_description: str
    class_names: tuple[str, ...]
    n_train: int
    n_stiffness: int
    n_val: int
    # per evaluation point: images_seen, losses, accuracies, within/between (+ _lo/_hi CIs), and
    # stiffness_entropy, the mean entropy (nats) of the softmax on the stiffness images
    history: pd.DataFrame
    snapshots: list[StiffnessSnapshot]
    status: str
    seconds_total: float
    seconds_gram: float
    precision: PrecisionCheck | None = None
    extra: dict = field(default_factory=dict)

    def describe(self) -> str:
        """What the run used, read from the data and the run (Markdown): dataset and source, images used, budget,
        and the precision check of the final Gram."""
        cfg = self.config
        labels = " with randomly permuted training labels" if cfg.random_labels else ""
        return (
            f"**Data.** {self.data_description}  \n"
            f"Trained on {self.n_train:,} training images{labels} from {INIT_DESCRIPTIONS[cfg.init]}, Adam with "
            f"learning rate {cfg.lr:g}, batch {cfg.batch_size}, for {cfg.max_images:,} images seen (status "
            f"*{self.status}*). Stiffness measured on "
            f"{self.n_stiffness} validation images ({self.n_stiffness // len(self.class_names)} per class); "
            f"validation loss on {self.n_val:,} other held-out images. Run time {self.seconds_total:.0f} s, of "
            f"which {self.seconds_gram:.1f} s computing Gram matrices."
            + (f"  \n{self.precision.describe()}" if self.precision is not None else "")
        )

    def trajectory(self) -> str:
        """One Markdown sentence with within/between sign stiffness at every stage and the cosine's endpoints."""
        sign = [s.summaries["sign"] for s in self.snapshots]
        stages = ", ".join(
            f"{stage_label(s.images_seen)}: within **{x.within:+.2f}**, between **{x.between:+.2f}**"
            for s, x in zip(self.snapshots, sign, strict=True)
        )
        cos0, cos1 = self.snapshots[0].summaries["cos"], self.snapshots[-1].summaries["cos"]
        return (
            f"In this run, sign stiffness goes {stages}. Cosine stiffness goes from within {cos0.within:+.3f} / "
            f"between {cos0.between:+.3f} to within {cos1.within:+.3f} / between {cos1.between:+.3f}."
        )

    def details(self) -> dict[str, object]:
        """What a results file records about the run besides the headline numbers."""
        return {
            "data": self.data_description,
            "n_train": self.n_train,
            "n_stiffness": self.n_stiffness,
            "n_val": self.n_val,
            "status": self.status,
            "seconds_total": self.seconds_total,
            "seconds_gram": self.seconds_gram,
        }

    def summary_lines(self) -> list[str]:
        """Rounded within/between per stage: the lines a chapter's regression cell prints."""
        return [
            f"{stage_label(s.images_seen):>24}: within {s.summaries['sign'].within:+.1f}, "
            f"between {s.summaries['sign'].between:+.1f}"
            for s in self.snapshots
        ]

    def headline(self, metric: str = "sign") -> dict[str, object]:
        """Within/between stiffness (value and interval) at every stage, for a results file."""
        out: dict[str, object] = {}
        for k, snap in enumerate(self.snapshots):
            s = snap.summaries[metric]
            out |= {
                f"stage{k}_images_seen": snap.images_seen,
                f"stage{k}_within": s.within,
                f"stage{k}_between": s.between,
                f"stage{k}_within_ci": list(s.within_ci),
                f"stage{k}_between_ci": list(s.between_ci),
            }
        return out


def _load_split(cfg: ClassStiffnessConfig, data_root, seed: int) -> tuple[ImageDataset, tuple, tuple, tuple]:
    """Training set (with the indices of its stiffness examples, if any), stiffness set, validation-loss set."""
    ds = load_dataset(cfg.dataset, data_root)
    x_tr, y_tr, _ = train_subset(ds, cfg.n_train, seed)
    if cfg.random_labels:
        y_tr = permuted_labels(y_tr, seed)
    x_st, y_st, st_idx = stiffness_set(ds, cfg.n_stiffness, seed)
    # Validation-loss images: class-balanced from the test split, disjoint from the stiffness set.
    rest = torch.ones(ds.n_test, dtype=torch.bool)
    rest[st_idx] = False
    rest_idx = torch.nonzero(rest).squeeze(1)
    n_val = min(cfg.n_val, rest_idx.numel())
    gen = torch.Generator().manual_seed(seed + 1)
    val_idx = rest_idx[torch.randperm(rest_idx.numel(), generator=gen)[:n_val]]
    train_pairs = balanced_indices(y_tr, cfg.n_stiffness_train, seed) if cfg.n_stiffness_train else None
    return ds, (x_tr, y_tr, train_pairs), (x_st, y_st), (ds.x_test[val_idx], ds.y_test[val_idx])


def run_class_stiffness(
    cfg: ClassStiffnessConfig,
    *,
    data_root=None,
    device: torch.device | str = "cpu",
    seed: int = 0,
    n_schedule: int | None = None,
    progress: bool = True,
) -> ClassStiffnessRun:
    """Train ``cfg.arch`` on ``cfg.dataset`` and measure validation class stiffness along the way.

    Within/between sign stiffness is recorded at every evaluation point of a log-spaced schedule (``n_schedule``
    points plus the stages, default ``cfg.n_schedule``; 0: the stages only); the full sign and cosine matrices
    with bootstrap intervals at ``cfg.stages``. With ``cfg.textbook_numerics`` every evaluation point also records
    the stiffness a textbook computation would report (:func:`textbook_numerics`).
    """
    n_schedule = cfg.n_schedule if n_schedule is None else n_schedule
    device = torch.device(device)
    t0 = time.perf_counter()
    ds, (x_tr, y_tr, tr_pairs), (x_st, y_st), (x_val, y_val) = _load_split(cfg, data_root, seed)
    prep = lambda t: prepare_inputs(t, cfg.arch, device)  # noqa: E731
    x_tr, x_st, x_val = prep(x_tr), prep(x_st), prep(x_val)
    y_tr, y_st, y_val = y_tr.to(device), y_st.to(device), y_val.to(device)
    x_tp, y_tp = (x_tr[tr_pairs.to(device)], y_tr[tr_pairs.to(device)]) if tr_pairs is not None else (None, None)
    torch.manual_seed(seed)
    model = build_model(cfg.arch, tuple(ds.input_shape), ds.num_classes, init=cfg.init).to(device)
    pending_stages = sorted(set(cfg.stages))
    extra_points = images_seen_schedule(cfg.max_images, n_log=n_schedule, n_regular=0) if n_schedule > 0 else []
    schedule = sorted(set(extra_points) | set(cfg.stages))
    snapshots: list[StiffnessSnapshot] = []
    gram_time = 0.0

    def on_eval(seen: int, net: nn.Module) -> dict:
        nonlocal gram_time
        snap = stiffness_snapshot(
            net, x_st, y_st, ds.num_classes, x_train=x_tp, y_train=y_tp, images_seen=seen, n_boot=cfg.n_boot, seed=seed
        )
        gram_time += snap.gram_seconds
        if pending_stages and seen >= pending_stages[0]:  # a stage is taken at the first evaluation reaching it
            while pending_stages and seen >= pending_stages[0]:
                pending_stages.pop(0)
            snapshots.append(snap)
        s, c = snap.summaries["sign"], snap.summaries["cos"]
        with torch.no_grad():
            out = {"stiffness_entropy": float(softmax_entropy(net(x_st)).mean())}
        if cfg.textbook_numerics:
            out |= textbook_numerics(net, x_st, y_st, torch.as_tensor(snap.gram), ds.num_classes)
        for metric, summ in (("sign", s), ("cos", c)):
            out |= {
                f"within_{metric}": summ.within,
                f"between_{metric}": summ.between,
                f"within_{metric}_lo": summ.within_ci[0],
                f"within_{metric}_hi": summ.within_ci[1],
                f"between_{metric}_lo": summ.between_ci[0],
                f"between_{metric}_hi": summ.between_ci[1],
            }
        return out

    result = train(
        model,
        x_tr,
        y_tr,
        config=TrainConfig(lr=cfg.lr, batch_size=cfg.batch_size, max_images=cfg.max_images, seed=seed),
        x_val=x_val,
        y_val=y_val,
        eval_at=schedule,
        on_eval=on_eval,
        progress=progress,
    )
    precision = precision_check(model, x_st, y_st) if result.status != "diverged" else None
    return ClassStiffnessRun(
        config=cfg,
        data_description=ds.describe(),
        class_names=tuple(ds.classes),
        n_train=int(x_tr.shape[0]),
        n_stiffness=int(x_st.shape[0]),
        n_val=int(x_val.shape[0]),
        history=pd.DataFrame(result.records),
        snapshots=snapshots,
        status=result.status,
        seconds_total=time.perf_counter() - t0,
        seconds_gram=gram_time,
        precision=precision,
    )


def _with_interval(value: float, ci: tuple[float, float]) -> str:
    return f"{value:+.3f} [{ci[0]:+.3f}, {ci[1]:+.3f}]"


def stage_table(run: ClassStiffnessRun) -> pd.DataFrame:
    """One row per stage snapshot: images seen, losses, validation accuracy, within/between sign stiffness with
    their 95% bootstrap intervals, and within/between cosine stiffness."""
    hist = run.history.set_index("images_seen")
    rows = []
    for snap in run.snapshots:
        s, c = snap.summaries["sign"], snap.summaries["cos"]
        rec = hist.loc[snap.images_seen]
        rows.append(
            {
                "images seen": snap.images_seen,
                "train loss": round(float(rec["train_loss"]), 3),
                "val loss": round(float(rec["val_loss"]), 3),
                "val acc": round(float(rec["val_acc"]), 3),
                "within (sign)": _with_interval(s.within, s.within_ci),
                "between (sign)": _with_interval(s.between, s.between_ci),
                "within (cos)": f"{c.within:+.3f}",
                "between (cos)": f"{c.between:+.3f}",
            }
        )
    return pd.DataFrame(rows)


def pair_table(run: ClassStiffnessRun) -> pd.DataFrame:
    """Per stage, kind of pair and metric: within and between stiffness with their 95% bootstrap intervals."""
    rows = []
    for snap in run.snapshots:
        for kind in PAIR_KINDS:
            for metric in ("sign", "cos"):
                s = snap.summary(kind, metric)
                rows.append(
                    {
                        "images seen": snap.images_seen,
                        "pairs": kind,
                        "metric": metric,
                        "within": _with_interval(s.within, s.within_ci),
                        "between": _with_interval(s.between, s.between_ci),
                    }
                )
    return pd.DataFrame(rows)


def dynamics_table(runs: list[ClassStiffnessRun], seeds: list[int], onsets: list[int | None]) -> pd.DataFrame:
    """Per seed: the onset of overfitting and within/between sign stiffness (95% interval) at the onset and at
    the end of training, with the validation loss at both points."""
    rows = []
    for run, seed, onset in zip(runs, seeds, onsets, strict=True):
        hist = run.history.set_index("images_seen")
        end = hist.iloc[-1]
        row = {"seed": seed, "onset (images seen)": onset if onset is not None else "none"}
        points = [("onset", hist.loc[onset])] if onset is not None else []
        for name, rec in [*points, ("end", end)]:
            row[f"val loss at {name}"] = round(float(rec["val_loss"]), 3)
            for kind in ("within", "between"):
                col = f"{kind}_sign"
                ci = (float(rec[f"{col}_lo"]), float(rec[f"{col}_hi"]))
                row[f"{kind} at {name}"] = _with_interval(float(rec[col]), ci)
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass
class HierarchyRun:
    """A class-stiffness run read through a class hierarchy (Figure 7): per stage and metric, the contrast between
    pairs of fine classes in the same coarse class and pairs in different ones."""

    run: ClassStiffnessRun
    coarse_of_fine: tuple[int, ...]
    coarse_names: tuple[str, ...]
    contrasts: list[dict[str, HierarchyContrast]]  # one dict per stage snapshot, keyed by metric

    def table(self) -> pd.DataFrame:
        """Per stage: same-group and cross-group mean stiffness, their contrast with its interval, p-value."""
        rows = []
        for snap, by_metric in zip(self.run.snapshots, self.contrasts, strict=True):
            for metric, c in by_metric.items():
                rows.append(
                    {
                        "images seen": snap.images_seen,
                        "metric": metric,
                        "same group": round(c.same_coarse, 3),
                        "different groups": round(c.diff_coarse, 3),
                        "contrast": _with_interval(c.contrast, c.contrast_ci),
                        "permutation p": round(c.p_value, 4),
                    }
                )
        return pd.DataFrame(rows)


def run_hierarchy(
    cfg: ClassStiffnessConfig,
    *,
    data_root=None,
    device: torch.device | str = "cpu",
    seed: int = 0,
    n_perm: int = 2000,
    progress: bool = True,
) -> HierarchyRun:
    """Train as :func:`run_class_stiffness` and measure the block structure of every stage's class stiffness under
    the dataset's hierarchy (:func:`repro.data.hierarchy`: CIFAR-100's super-classes, CIFAR-10's vehicles vs
    animals, Fashion-MNIST's tops / footwear / the rest)."""
    run = run_class_stiffness(cfg, data_root=data_root, device=device, seed=seed, n_schedule=0, progress=progress)
    coarse_of_fine, coarse_names = hierarchy(load_dataset(cfg.dataset, data_root))
    contrasts = []
    for snap in run.snapshots:
        G, labels = torch.as_tensor(snap.gram), torch.as_tensor(snap.labels)
        contrasts.append(
            {
                metric: hierarchy_contrast(
                    stiffness_from_gram(G, metric), labels, coarse_of_fine, n_boot=cfg.n_boot, n_perm=n_perm, seed=seed
                )
                for metric in ("sign", "cos")
            }
        )
    return HierarchyRun(run, tuple(coarse_of_fine), tuple(coarse_names), contrasts)
