"""Class stiffness matrices as heatmaps (Figures 3–7, the pairs chapter), and the untrained networks under each
initialisation (the set-up chapter)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from repro.book.figures.style import STIFFNESS_CMAP
from repro.experiments.history import PAIR_KINDS
from repro.training import stage_label

__all__ = [
    "plot_class_stiffness_grid",
    "plot_class_stiffness_stages",
    "plot_run_stages",
    "plot_pair_kinds",
    "plot_hierarchy_matrix",
    "plot_init_stiffness",
]


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
    """The stage matrices of a :class:`ClassStiffnessRun` for ``metric`` ("sign" or "cos"),
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


_METRIC_LABEL = {"sign": "sign stiffness", "cos": "cosine stiffness"}


def plot_pair_kinds(run, metric: str, suptitle: str) -> Figure:
    """Rows: validation–validation, training–training and training–validation pairs; columns: the stages of a
    :class:`ClassStiffnessRun` measured with training pairs (the later paper's Figure 4)."""
    rows = [[snap.matrix(kind, metric) for snap in run.snapshots] for kind in PAIR_KINDS]
    titles = [
        [
            f"{stage_label(snap.images_seen)}\nwithin {snap.summary(kind, metric).within:+.2f}, "
            f"between {snap.summary(kind, metric).between:+.2f}"
            for snap in run.snapshots
        ]
        for kind in PAIR_KINDS
    ]
    return plot_class_stiffness_grid(
        rows, titles, run.class_names, suptitle=suptitle, row_labels=PAIR_KINDS, colorbar_label=_METRIC_LABEL[metric]
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


_ARCH_NAMES = {"fc": "FC network", "cnn": "CNN"}


def plot_init_stiffness(
    table: pd.DataFrame, *, near_zero: float = 0.1, share_range: tuple[float, float] = (0.25, 0.75)
) -> Figure:
    """Untrained networks under each initialisation scheme, one column per model (``dataset``, ``arch``) of an
    :func:`repro.experiments.init_study.init_stiffness` table. Top row: between-class sign stiffness of each network
    (one point per seed, a bar at the mean), with 0 and the band ±``near_zero``. Bottom row: the share of positive
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
