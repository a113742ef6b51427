"""Seaborn figures laid out like the paper's, so a reader can compare them side by side.

Every function returns the ``matplotlib`` figure and draws nothing it was not given: the numbers come from
:mod:`repro.experiments`.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from repro.training import stage_label

__all__ = [
    "set_style",
    "plot_class_stiffness_grid",
    "plot_class_stiffness_stages",
    "plot_pair_kinds",
    "plot_hierarchy_matrix",
    "plot_lr_effect",
    "plot_domain_vs_lr",
    "plot_distance_profiles",
    "plot_harmonics",
    "plot_run_stages",
    "plot_training_dynamics",
    "plot_numerics_comparison",
    "plot_random_label_runs",
    "plot_finite_difference",
    "plot_init_stiffness",
    "stage_label",
]

STIFFNESS_CMAP = "RdBu_r"  # red = stiff (positive), blue = anti-stiff (negative), white = 0


def set_style() -> None:
    """The book's plotting style (seaborn "whitegrid", readable fonts)."""
    sns.set_theme(style="whitegrid", context="notebook", font_scale=0.95)


def plot_class_stiffness_grid(
    rows: Sequence[Sequence[np.ndarray]],
    titles: Sequence[Sequence[str]],
    class_names: Sequence[str],
    *,
    suptitle: str,
    row_labels: Sequence[str] | None = None,
    colorbar_label: str = "class stiffness",
) -> Figure:
    """A grid of ``K×K`` class stiffness heatmaps on one colour scale [−1, 1] (red stiff, blue anti-stiff).

    Args:
        rows: ``rows[r][c]`` is a ``(K, K)`` matrix (rows of the matrix: class of example 1; columns: example 2).
        titles: one title per panel, same nesting as ``rows``.
        class_names: the ``K`` class names for the axes (ticks are dropped above 20 classes).
        row_labels: optional label per grid row (e.g. the kind of pairs), shown left of the row.
    """
    n_rows, n_cols = len(rows), max(len(r) for r in rows)
    k = len(class_names)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(4.2 * n_cols + 1, 4.4 * n_rows), squeeze=False)
    cbar_ax = fig.add_axes([0.92, 0.3, 0.012, 0.4])
    short = [n if len(n) <= 10 else n[:9] + "…" for n in class_names]
    ticks = short if k <= 20 else False
    for r, (row, row_titles) in enumerate(zip(rows, titles, strict=True)):
        if len(row) != len(row_titles):
            raise ValueError("one title per matrix")
        for c in range(n_cols):
            ax = axes[r, c]
            if c >= len(row):
                ax.axis("off")
                continue
            C = np.asarray(row[c])
            if C.shape != (k, k):
                raise ValueError(f"matrix ({r}, {c}) has shape {C.shape}, expected ({k}, {k})")
            first = r == 0 and c == 0
            sns.heatmap(
                C,
                ax=ax,
                vmin=-1,
                vmax=1,
                cmap=STIFFNESS_CMAP,
                square=True,
                cbar=first,
                cbar_ax=cbar_ax if first else None,
                cbar_kws={"label": colorbar_label},
                xticklabels=ticks if r == n_rows - 1 else False,
                yticklabels=ticks if c == 0 else False,
            )
            ax.set_title(row_titles[c], fontsize=10)
            if r == n_rows - 1:
                ax.set_xlabel("class of example 2")
            if c == 0:
                label = "class of example 1"
                ax.set_ylabel(f"{row_labels[r]}\n{label}" if row_labels else label)
            ax.tick_params(axis="x", labelrotation=90, labelsize=8)
            ax.tick_params(axis="y", labelrotation=0, labelsize=8)
    fig.suptitle(suptitle, y=1.0 if n_rows > 1 else 1.02)
    fig.subplots_adjust(left=0.06, right=0.9, wspace=0.12, hspace=0.3)
    return fig


def plot_class_stiffness_stages(
    matrices: Sequence[np.ndarray],
    titles: Sequence[str],
    class_names: Sequence[str],
    *,
    suptitle: str,
    colorbar_label: str = "class stiffness",
) -> Figure:
    """A row of ``K×K`` class stiffness heatmaps, one per stage, like the paper's Figures 3–6."""
    return plot_class_stiffness_grid(
        [matrices], [titles], class_names, suptitle=suptitle, colorbar_label=colorbar_label
    )


def plot_run_stages(run, metric: str, suptitle: str) -> Figure:
    """The stage matrices of a :class:`repro.experiments.ClassStiffnessRun` for ``metric`` ("sign" or "cos"),
    each panel titled with its stage and within/between values."""
    titles = [
        f"{stage_label(s.images_seen)}\nwithin {s.summaries[metric].within:+.2f}, "
        f"between {s.summaries[metric].between:+.2f}"
        for s in run.snapshots
    ]
    label = {"sign": "sign stiffness", "cos": "cosine stiffness"}[metric]
    return plot_class_stiffness_stages(
        [s.matrices[metric] for s in run.snapshots], titles, run.class_names, suptitle=suptitle, colorbar_label=label
    )


def plot_finite_difference(checks: Sequence[pd.DataFrame], labels: Sequence[str]) -> Figure:
    """Two panels: the relative error of ``ΔL₂/ε`` against ``−g₁·g₂`` vs ε (log–log, slope 1 = first order), and
    the finite difference converging onto the prediction."""
    fig, (ax_err, ax_val) = plt.subplots(1, 2, figsize=(11, 4))
    palette = sns.color_palette("colorblind", len(checks))
    for df, label, color in zip(checks, labels, palette, strict=True):
        ax_err.loglog(df["epsilon"], df["rel_err_other"], "o-", color=color, label=label)
        ax_val.semilogx(df["epsilon"], df["fd_other"], "o-", color=color, label=label)
        ax_val.axhline(df["pred_other"].iloc[0], color=color, ls="--", lw=1)
    eps = np.asarray(checks[0]["epsilon"])
    ref = checks[0]["rel_err_other"].iloc[0] * eps / eps[0]
    ax_err.loglog(eps, ref, "k:", lw=1, label="∝ ε (first order)")
    ax_err.set(xlabel="step size ε", ylabel="relative error of ΔL₂/ε vs −g₁·g₂", title="error shrinks ∝ ε")
    ax_val.set(xlabel="step size ε", ylabel="[L₂(W − εg₁) − L₂(W)] / ε", title="finite difference → −g₁·g₂ (dashed)")
    ax_err.legend(fontsize=8)
    ax_val.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_training_dynamics(histories: Sequence[pd.DataFrame], onsets: Sequence[int | None], title: str) -> Figure:
    """Three stacked panels against images seen (log axis), like the paper's Figure 2 (v3 Figure 3): training and
    validation loss; within-class stiffness; between-class stiffness (sign solid with its 95% band, cosine
    dashed). One line per seed; the onset of overfitting (validation-loss minimum) is marked in orange.
    """
    fig, axes = plt.subplots(3, 1, figsize=(8, 9), sharex=True)
    colors = sns.color_palette("colorblind", 3)
    for k, (hist, onset) in enumerate(zip(histories, onsets, strict=True)):
        seen = hist["images_seen"].to_numpy().astype(float)
        x = np.where(seen > 0, seen, np.nan)  # the initialisation point has no place on a log axis
        first = k == 0
        axes[0].plot(x, hist["train_loss"], color=colors[0], label="training loss" if first else None)
        axes[0].plot(x, hist["val_loss"], color=colors[1], label="validation loss" if first else None)
        for ax, kind in ((axes[1], "within"), (axes[2], "between")):
            ax.plot(x, hist[f"{kind}_sign"], color=colors[2], label="sign" if first else None)
            ax.fill_between(x, hist[f"{kind}_sign_lo"], hist[f"{kind}_sign_hi"], color=colors[2], alpha=0.2, lw=0)
            ax.plot(x, hist[f"{kind}_cos"], color=colors[2], ls="--", label="cosine" if first else None)
        if onset is not None:
            for ax in axes:
                ax.axvline(
                    onset, color="orange", lw=1.5, label="onset of overfitting" if first and ax is axes[0] else None
                )
    axes[0].set(ylabel="cross-entropy (nats)", title=title)
    axes[1].set(ylabel="within-class stiffness")
    axes[2].set(ylabel="between-class stiffness", xlabel="images seen", xscale="log")
    for ax in axes[1:]:
        ax.axhline(0, color="k", lw=0.8)
    for ax in axes:
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return fig


_NUMERICS_STYLE = {  # history column suffix → (legend label, line style)
    "": ("exact (unit Gram)", "-"),
    "_textbook32": ("textbook, float32", "--"),
    "_textbook64": ("textbook, float64", ":"),
}


def plot_numerics_comparison(
    histories: Sequence[pd.DataFrame], onsets: Sequence[int | None], seeds: Sequence[int], title: str
) -> Figure:
    """Figure 2 measured three ways, against images seen (log axis): within-class (top) and between-class (middle)
    sign stiffness from the exact unit Gram (solid), textbook float32 gradients (dashed) and textbook float64
    gradients (dotted); bottom: for the float32 textbook Gram, the share of pairs whose sign is exactly 0 (solid)
    and opposite to the exact one (dashed). One colour per seed; the onset of overfitting is a vertical line in
    the seed's colour. Histories need the columns of :func:`repro.experiments.textbook_numerics`."""
    fig, axes = plt.subplots(3, 1, figsize=(8, 9), sharex=True)
    colors = sns.color_palette("colorblind", max(3, len(histories)))
    for k, (hist, onset, seed) in enumerate(zip(histories, onsets, seeds, strict=True)):
        seen = hist["images_seen"].to_numpy().astype(float)
        x = np.where(seen > 0, seen, np.nan)
        for ax, kind in ((axes[0], "within"), (axes[1], "between")):
            for suffix, (label, ls) in _NUMERICS_STYLE.items():
                ax.plot(x, hist[f"{kind}_sign{suffix}"], color=colors[k], ls=ls, label=f"seed {seed}: {label}")
        axes[2].plot(x, hist["textbook32_zero_share"], color=colors[k], label=f"seed {seed}: sign exactly 0")
        axes[2].plot(x, hist["textbook32_flip_share"], color=colors[k], ls="--", label=f"seed {seed}: sign flipped")
        if onset is not None:
            for ax in axes:
                ax.axvline(onset, color=colors[k], lw=1, alpha=0.6)
    axes[0].set(ylabel="within-class sign stiffness", title=title)
    axes[1].set(ylabel="between-class sign stiffness")
    axes[2].set(ylabel="share of pairs (float32 textbook)", xlabel="images seen (vertical lines: onset)", xscale="log")
    for ax in axes[:2]:
        ax.axhline(0, color="k", lw=0.8)
    for ax in axes:
        ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


def plot_random_label_runs(runs: Sequence, labels: Sequence[str], title: str) -> Figure:
    """Random-label runs side by side against images seen (log axis): training loss and the mean softmax entropy
    on the stiffness images, both as fractions of ``ln K`` (top); within- (dashed) and between-class (solid) sign
    stiffness with the between-class 95% band (bottom). ``runs``: :class:`repro.experiments.ClassStiffnessRun`
    with a ``stiffness_entropy`` history column; one colour per run."""
    fig, axes = plt.subplots(2, 1, figsize=(8, 7), sharex=True)
    colors = sns.color_palette("colorblind", max(3, len(runs)))
    for run, label, color in zip(runs, labels, colors, strict=False):
        hist, ln_k = run.history, np.log(len(run.class_names))
        seen = hist["images_seen"].to_numpy().astype(float)
        x = np.where(seen > 0, seen, np.nan)
        axes[0].plot(x, hist["train_loss"] / ln_k, color=color, label=f"{label}: training loss / ln K")
        axes[0].plot(x, hist["stiffness_entropy"] / ln_k, color=color, ls="--", label=f"{label}: output entropy / ln K")
        axes[1].plot(x, hist["between_sign"], color=color, label=f"{label}: between-class")
        axes[1].fill_between(x, hist["between_sign_lo"], hist["between_sign_hi"], color=color, alpha=0.2, lw=0)
        axes[1].plot(x, hist["within_sign"], color=color, ls="--", label=f"{label}: within-class")
    axes[0].set(ylabel="fraction of ln K", title=title)
    axes[1].set(ylabel="sign stiffness (validation pairs)", xlabel="images seen", xscale="log", ylim=(-1.05, 1.05))
    axes[1].axhline(0, color="k", lw=0.8)
    for ax in axes:
        ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


_METRIC_LABEL = {"sign": "sign stiffness", "cos": "cosine stiffness"}


def plot_pair_kinds(run, metric: str, suptitle: str) -> Figure:
    """Rows: validation–validation, training–training and training–validation pairs; columns: the stages of a
    :class:`repro.experiments.ClassStiffnessRun` measured with training pairs (the later paper's Figure 4)."""
    kinds = ("val-val", "train-train", "train-val")
    rows = [[snap.matrix(kind, metric) for snap in run.snapshots] for kind in kinds]
    titles = [
        [
            f"{stage_label(snap.images_seen)}\nwithin {snap.summary(kind, metric).within:+.2f}, "
            f"between {snap.summary(kind, metric).between:+.2f}"
            for snap in run.snapshots
        ]
        for kind in kinds
    ]
    return plot_class_stiffness_grid(
        rows, titles, run.class_names, suptitle=suptitle, row_labels=kinds, colorbar_label=_METRIC_LABEL[metric]
    )


def plot_hierarchy_matrix(
    C: np.ndarray,
    class_names: Sequence[str],
    coarse_of_fine: Sequence[int],
    coarse_names: Sequence[str],
    *,
    title: str,
    colorbar_label: str = "sign stiffness",
) -> Figure:
    """One class stiffness matrix with its classes ordered by coarse class and each coarse block outlined, like
    the paper's Figure 7 (CIFAR-100's super-classes)."""
    coarse = np.asarray(coarse_of_fine)
    order = np.argsort(coarse, kind="stable")
    Co = np.asarray(C)[np.ix_(order, order)]
    k = len(class_names)
    fig, ax = plt.subplots(figsize=(7.5, 6.5) if k <= 20 else (10, 9))
    names = [class_names[i] for i in order]
    sns.heatmap(
        Co,
        ax=ax,
        vmin=-1,
        vmax=1,
        cmap=STIFFNESS_CMAP,
        square=True,
        cbar_kws={"label": colorbar_label},
        xticklabels=names if k <= 20 else False,
        yticklabels=names if k <= 20 else False,
    )
    start = 0
    for g in range(len(coarse_names)):
        size = int(np.sum(coarse == g))
        if size == 0:
            continue
        ax.add_patch(plt.Rectangle((start, start), size, size, fill=False, edgecolor="black", lw=1.5))
        if k > 20 or size > 1:
            ax.text(
                start + size / 2,
                -0.4,
                coarse_names[g],
                ha="center",
                va="bottom",
                fontsize=7 if k > 20 else 9,
                rotation=90 if k > 20 else 0,
            )
        start += size
    ax.set_title(title, pad=60 if k > 20 else 25)
    ax.set(xlabel="class of example 2 (grouped)", ylabel="class of example 1 (grouped)")
    fig.tight_layout()
    return fig


def plot_lr_effect(
    rows: pd.DataFrame, value: str, lo: str, hi: str, *, ylabel: str, title: str, datasets: Sequence[str]
) -> Figure:
    """``value`` against learning rate (log axis), one panel per dataset and one line per stopping point, with the
    mean over seeds and the mean 95% interval as error bars (like the paper's Figures 8 and 10). The bars are the
    intervals as they are, also where one does not contain its estimate."""
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.5 * len(datasets), 4), squeeze=False, sharey=True)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        d = rows[rows["dataset"] == dataset].dropna(subset=[value])
        stops = list(dict.fromkeys(zip(d["rule"], d["stop"], strict=True)))
        palette = sns.color_palette("viridis", len(stops))
        for (rule, stop), color in zip(stops, palette, strict=True):
            g = d[(d["rule"] == rule) & (d["stop"] == stop)].groupby("lr")[[value, lo, hi]].mean()
            label = f"train loss {stop:g}" if rule == "loss" else f"{int(stop):,} images"
            # The bar spans the interval wherever it lies: a mean of per-seed intervals, or a percentile interval
            # of a zero crossing over the bootstrap replicates that cross, need not contain the estimate.
            centre, half = (g[lo] + g[hi]) / 2, (g[hi] - g[lo]) / 2
            ax.errorbar(g.index, centre, yerr=half, fmt="none", capsize=3, color=color)
            ax.plot(g.index, g[value], marker="o", color=color, label=label)
        ax.set(xscale="log", xlabel="learning rate (Adam)", title=dataset)
        ax.axhline(0, color="k", lw=0.8)
        ax.legend(fontsize=8)
    axes[0, 0].set_ylabel(ylabel)
    fig.suptitle(title, y=1.02)
    fig.tight_layout()
    return fig


def plot_distance_profiles(critical: dict, layers: Sequence[str], *, title: str) -> Figure:
    """Stiffness against distance, one panel per layer (like the paper's Figure 9): the binned mean with its
    standard error, and the first zero crossing ξ (dashed) with its bootstrap interval (shaded) when there is one.

    Args:
        critical: ``{layer: CriticalDistance}`` from :func:`repro.sweeps.distance_analysis`.
    """
    n = len(layers)
    cols = min(4, n)
    rows_ = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows_, cols, figsize=(3.6 * cols, 3.0 * rows_), squeeze=False, sharey=True)
    for ax in axes.flat[n:]:
        ax.axis("off")
    for ax, layer in zip(axes.flat, layers, strict=False):
        crit = critical[layer]
        prof = crit.profile
        ok = prof.count > 0
        ax.errorbar(prof.centers[ok], prof.mean[ok], yerr=np.nan_to_num(prof.sem[ok]), marker="o", ms=3, capsize=2)
        ax.axhline(0, color="k", lw=0.8)
        if crit.xi is not None:
            ax.axvline(crit.xi, color="C3", ls="--", lw=1.2, label=f"ξ = {crit.xi:.2f}")
            if np.all(np.isfinite(crit.ci)):
                ax.axvspan(*crit.ci, color="C3", alpha=0.15, lw=0)
            ax.legend(fontsize=8, loc="lower left")
        ax.set_title(layer, fontsize=10)
        euclid = "Euclidean" in layer
        ax.set_xlabel("Euclidean distance" if euclid else "dot-product distance (cosine)")
    for r in range(rows_):
        axes[r, 0].set_ylabel("mean sign stiffness")
    fig.suptitle(title, y=1.01)
    fig.tight_layout()
    return fig


def plot_harmonics(rows: pd.DataFrame, critical_by_degree: dict, *, title: str) -> Figure:
    """Left: stiffness against input-space dot-product distance for each degree. Right: the stiff-domain size
    ``1 − ξ`` against the degree with its bootstrap interval, next to the held-out accuracy."""
    fig, (ax_prof, ax_xi) = plt.subplots(1, 2, figsize=(11, 4))
    palette = sns.color_palette("flare", len(critical_by_degree))
    for (degree, crit), color in zip(critical_by_degree.items(), palette, strict=True):
        prof = crit.profile
        ok = prof.count > 0
        ax_prof.plot(prof.centers[ok], prof.mean[ok], "o-", ms=3, color=color, label=f"degree {degree}")
    ax_prof.axhline(0, color="k", lw=0.8)
    ax_prof.set(xlabel="dot-product distance of inputs (cosine)", ylabel="mean sign stiffness")
    ax_prof.legend(fontsize=8)
    size = 1 - rows["xi"]
    yerr = [size - (1 - rows["xi_hi"]), (1 - rows["xi_lo"]) - size]
    ax_xi.errorbar(
        rows["degree"],
        size,
        yerr=np.nan_to_num(np.asarray(yerr, dtype=float)),
        marker="o",
        capsize=3,
        label="stiff-domain size 1 − ξ",
    )
    ax_xi.set(xlabel="degree of the target harmonic", ylabel="stiff-domain size 1 − ξ")
    ax_acc = ax_xi.twinx()
    ax_acc.plot(rows["degree"], rows["val_acc"], "s:", color="C2", label="held-out accuracy")
    ax_acc.set_ylabel("held-out accuracy")
    ax_acc.set_ylim(0.4, 1.02)
    lines = ax_xi.get_legend_handles_labels()
    more = ax_acc.get_legend_handles_labels()
    ax_xi.legend(lines[0] + more[0], lines[1] + more[1], fontsize=8, loc="upper right")
    fig.suptitle(title, y=1.02)
    fig.tight_layout()
    return fig


def plot_domain_vs_lr(sized: pd.DataFrame, layers: Sequence[str], *, datasets: Sequence[str], title: str) -> Figure:
    """Stiff-domain size against learning rate (log axis), one panel per dataset and one line per representation
    (like the paper's Figure 10). ``sized`` has columns ``dataset, lr, layer, size, size_lo, size_hi``; points are
    means over seeds, error bars the mean 95% bootstrap interval."""
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.8 * len(datasets), 4.2), squeeze=False, sharey=True)
    palette = sns.color_palette("crest", len(layers))
    for ax, dataset in zip(axes[0], datasets, strict=True):
        d = sized[sized["dataset"] == dataset]
        for layer, color in zip(layers, palette, strict=True):
            g = d[d["layer"] == layer].groupby("lr")[["size", "size_lo", "size_hi"]].mean().dropna()
            if g.empty:
                continue
            ax.errorbar(
                g.index,
                g["size"],
                yerr=[g["size"] - g["size_lo"], g["size_hi"] - g["size"]],
                marker="o",
                ms=4,
                capsize=2,
                color=color,
                label=layer,
            )
        ax.set(xscale="log", xlabel="learning rate (Adam)", title=dataset)
    axes[0, 0].set_ylabel("stiff-domain size 1 − ξ (dot-product distance)")
    axes[0, -1].legend(fontsize=7, loc="best", ncol=2)
    fig.suptitle(title, y=1.02)
    fig.tight_layout()
    return fig


_ARCH_NAMES = {"fc": "FC network", "cnn": "CNN"}


def plot_init_stiffness(
    table: pd.DataFrame, *, near_zero: float = 0.1, share_range: tuple[float, float] = (0.25, 0.75)
) -> Figure:
    """Untrained networks under each initialisation scheme, one column per model (``dataset``, ``arch``) of an
    :func:`repro.init_study.init_stiffness` table. Top row: between-class sign stiffness of each network (one point
    per seed, a bar at the mean), with 0 and the band ±``near_zero``. Bottom row: the share of positive
    off-diagonal cells of its class stiffness matrix, with the band ``share_range``."""
    models = list(dict.fromkeys(zip(table["dataset"], table["arch"], strict=True)))
    inits = list(dict.fromkeys(table["init"]))
    palette = dict(zip(inits, sns.color_palette("deep", len(inits)), strict=True))
    fig, axes = plt.subplots(2, len(models), figsize=(3.8 * len(models) + 0.6, 7.2), squeeze=False, sharey="row")
    rows = (
        ("between", "between-class sign stiffness", (-1.08, 1.08), (-near_zero, near_zero), 0.0),
        ("positive_share", "share of positive between-class cells", (-0.04, 1.04), share_range, 0.5),
    )
    band_labels = (f"±{near_zero:g} around 0", f"{share_range[0]:.0%}–{share_range[1]:.0%}: cells of both signs")
    for c, (dataset, arch) in enumerate(models):
        d = table[(table["dataset"] == dataset) & (table["arch"] == arch)]
        for r, (col, label, ylim, band, line) in enumerate(rows):
            ax = axes[r, c]
            ax.axhspan(*band, color="0.88", zorder=0, label=band_labels[r])
            ax.axhline(line, color="0.35", lw=1, zorder=1)
            sns.stripplot(
                data=d, x="init", y=col, hue="init", order=inits, hue_order=inits, palette=palette,
                jitter=0.15, size=6, ax=ax, legend=False, zorder=2,
            )  # fmt: skip
            means = d.groupby("init")[col].mean().reindex(inits)
            ax.scatter(
                range(len(inits)), means, marker="_", s=700, lw=2, color="black", zorder=3, label="mean over seeds"
            )
            ax.set(ylim=ylim, xlabel="initialisation" if r == 1 else "", ylabel=label if c == 0 else "")
        axes[0, c].set_title(f"{dataset}, {_ARCH_NAMES.get(arch, arch)}")
    for r in range(2):
        axes[r, -1].legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.suptitle("Untrained networks: between-class stiffness per initialisation scheme (one point per seed)", y=1.0)
    fig.tight_layout()
    return fig
