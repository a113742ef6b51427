"""Curves against images seen: losses and stiffness through training (Figures 2 and 4), and the finite-difference
check of the definition chapter."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from repro.experiments.history import (
    IMAGES_SEEN,
    STIFFNESS_ENTROPY,
    TRAIN_LOSS,
    VAL_LOSS,
    numerics_column,
    stiffness_column,
)

__all__ = ["plot_finite_difference", "plot_training_dynamics", "plot_numerics_comparison", "plot_random_label_runs"]


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
        seen = hist[IMAGES_SEEN].to_numpy().astype(float)
        x = np.where(seen > 0, seen, np.nan)  # the initialisation point has no place on a log axis
        first = k == 0
        axes[0].plot(x, hist[TRAIN_LOSS], color=colors[0], label="training loss" if first else None)
        axes[0].plot(x, hist[VAL_LOSS], color=colors[1], label="validation loss" if first else None)
        for ax, kind in ((axes[1], "within"), (axes[2], "between")):
            lo, hi = (hist[stiffness_column(kind, bound=b)] for b in ("lo", "hi"))
            ax.plot(x, hist[stiffness_column(kind)], color=colors[2], label="sign" if first else None)
            ax.fill_between(x, lo, hi, color=colors[2], alpha=0.2, lw=0)
            ax.plot(x, hist[stiffness_column(kind, "cos")], color=colors[2], ls="--", label="cosine" if first else None)
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


_NUMERICS_STYLE = {  # numerics (None: the exact unit Gram) → (legend label, line style)
    None: ("exact (unit Gram)", "-"),
    "textbook32": ("textbook, float32", "--"),
    "textbook64": ("textbook, float64", ":"),
}


def plot_numerics_comparison(
    histories: Sequence[pd.DataFrame], onsets: Sequence[int | None], seeds: Sequence[int], title: str
) -> Figure:
    """Figure 2 measured three ways, against images seen (log axis): within-class (top) and between-class (middle)
    sign stiffness from the exact unit Gram (solid), textbook float32 gradients (dashed) and textbook float64
    gradients (dotted); bottom: for the float32 textbook Gram, the share of pairs whose sign is exactly 0 (solid)
    and opposite to the exact one (dashed). One colour per seed; the onset of overfitting is a vertical line in
    the seed's colour. Histories need the columns of :func:`repro.experiments.numerics.textbook_numerics`."""
    fig, axes = plt.subplots(3, 1, figsize=(8, 9), sharex=True)
    colors = sns.color_palette("colorblind", max(3, len(histories)))
    for k, (hist, onset, seed) in enumerate(zip(histories, onsets, seeds, strict=True)):
        seen = hist[IMAGES_SEEN].to_numpy().astype(float)
        x = np.where(seen > 0, seen, np.nan)
        for ax, kind in ((axes[0], "within"), (axes[1], "between")):
            for numerics, (label, ls) in _NUMERICS_STYLE.items():
                column = stiffness_column(kind, numerics=numerics)
                ax.plot(x, hist[column], color=colors[k], ls=ls, label=f"seed {seed}: {label}")
        zero, flip = numerics_column("textbook32", "zero"), numerics_column("textbook32", "flip")
        axes[2].plot(x, hist[zero], color=colors[k], label=f"seed {seed}: sign exactly 0")
        axes[2].plot(x, hist[flip], color=colors[k], ls="--", label=f"seed {seed}: sign flipped")
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
    stiffness with the between-class 95% band (bottom). ``runs``: :class:`ClassStiffnessRun`
    with a ``stiffness_entropy`` history column; one colour per run."""
    fig, axes = plt.subplots(2, 1, figsize=(8, 7), sharex=True)
    colors = sns.color_palette("colorblind", max(3, len(runs)))
    for run, label, color in zip(runs, labels, colors, strict=False):
        hist, ln_k = run.history, np.log(len(run.class_names))
        seen = hist[IMAGES_SEEN].to_numpy().astype(float)
        x = np.where(seen > 0, seen, np.nan)
        axes[0].plot(x, hist[TRAIN_LOSS] / ln_k, color=color, label=f"{label}: training loss / ln K")
        axes[0].plot(x, hist[STIFFNESS_ENTROPY] / ln_k, color=color, ls="--", label=f"{label}: output entropy / ln K")
        lo, hi = (hist[stiffness_column("between", bound=b)] for b in ("lo", "hi"))
        axes[1].plot(x, hist[stiffness_column("between")], color=color, label=f"{label}: between-class")
        axes[1].fill_between(x, lo, hi, color=color, alpha=0.2, lw=0)
        axes[1].plot(x, hist[stiffness_column("within")], color=color, ls="--", label=f"{label}: within-class")
    axes[0].set(ylabel="fraction of ln K", title=title)
    axes[1].set(ylabel="sign stiffness (validation pairs)", xlabel="images seen", xscale="log", ylim=(-1.05, 1.05))
    axes[1].axhline(0, color="k", lw=0.8)
    for ax in axes:
        ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig
