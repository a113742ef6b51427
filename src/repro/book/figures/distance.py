"""Stiffness against distance and the stiff-domain size (Figures 8–10, the critical length, spherical harmonics)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

__all__ = [
    "plot_lr_effect",
    "plot_distance_profiles",
    "plot_harmonics",
    "plot_harmonics_resolution",
    "plot_domain_vs_lr",
    "plot_crossing_shares",
]


def _stop_order(stop: tuple[str, float]) -> tuple[bool, float]:
    """Sort key of a ``(rule, stop)`` for a legend: the loss targets falling (0.4 before 0.1), then the image
    budgets rising (a fixed order: an image budget may come before or after a loss target in training)."""
    rule, value = stop
    return rule != "loss", -value if rule == "loss" else value


def _estimate_with_interval(ax, x, value, lo, hi, *, color, label: str, capsize: float, **marker) -> None:
    """Points ``value`` against ``x`` joined by a line, and the interval ``[lo, hi]`` as a bar wherever it lies: a
    mean of per-seed intervals, or a percentile interval of a zero crossing over the bootstrap replicates that
    cross, need not contain the estimate."""
    ax.errorbar(x, (lo + hi) / 2, yerr=(hi - lo) / 2, fmt="none", capsize=capsize, color=color)
    ax.plot(x, value, marker="o", color=color, label=label, **marker)


def _cells_by_lr(g: pd.DataFrame, value: str, lo: str, hi: str) -> pd.DataFrame:
    """Per learning rate of ``g`` (one row per seed): ``value`` the mean over seeds, ``lo, hi`` the mean interval
    of the seeds with a found value (NaN where none), ``bound`` True where some seed's value is a lower bound
    (``censored``: its curve stayed positive over the measured range, so the mean is itself a bound)."""
    censored = g["censored"] if "censored" in g else pd.Series(False, index=g.index)
    found = g[~censored.astype(bool)]
    out = g.groupby("lr")[[value]].mean()
    out[[lo, hi]] = found.groupby("lr")[[lo, hi]].mean().reindex(out.index)
    out["bound"] = censored.groupby(g["lr"]).any().reindex(out.index).astype(bool)
    return out


def _bounds_as_arrows(ax, cells: pd.DataFrame, value: str, *, color) -> None:
    """An upward arrow from every point of ``cells`` (:func:`_cells_by_lr`) that is a bound: the value is at least
    there."""
    for lr, v in cells.loc[cells["bound"], value].items():
        ax.annotate("", xy=(lr, v), xytext=(0, 14), textcoords="offset points", ha="center",
                    arrowprops={"arrowstyle": "<-", "color": color, "lw": 1.2})  # fmt: skip


def plot_lr_effect(
    rows: pd.DataFrame, value: str, lo: str, hi: str, *, ylabel: str, title: str, datasets: Sequence[str]
) -> Figure:
    """``value`` against learning rate (log axis), one panel per dataset and one line per stopping point, with the
    mean over seeds and the mean 95% interval as error bars (like the paper's Figures 8 and 10). The bars are the
    intervals as they are, also where one does not contain its estimate. Where ``rows`` has a ``censored`` column,
    a point with a seed whose value is a bound (a stiff domain beyond the measured range) is drawn with an upward
    arrow: the value is at least there."""
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.5 * len(datasets), 4), squeeze=False, sharey=True)
    drawn = rows[rows["dataset"].isin(datasets)].dropna(subset=[value])
    # the stops in one order (falling loss targets, then image budgets), one colour each in every panel
    stops = sorted(set(zip(drawn["rule"], drawn["stop"], strict=True)), key=_stop_order)
    colors = dict(zip(stops, sns.color_palette("viridis", len(stops)), strict=True))
    for ax, dataset in zip(axes[0], datasets, strict=True):
        d = drawn[drawn["dataset"] == dataset]
        present = set(zip(d["rule"], d["stop"], strict=True))
        for rule, stop in (s for s in stops if s in present):
            color = colors[(rule, stop)]
            g = _cells_by_lr(d[(d["rule"] == rule) & (d["stop"] == stop)], value, lo, hi)
            label = f"train loss {stop:g}" if rule == "loss" else f"{int(stop):,} images"
            _estimate_with_interval(ax, g.index, g[value], g[lo], g[hi], color=color, label=label, capsize=3)
            _bounds_as_arrows(ax, g, value, color=color)
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
        critical: ``{layer: CriticalDistance}`` from :func:`repro.experiments.distance.distance_analysis`.
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


def _xi_with_interval(ax, degree: pd.Series, xi: pd.Series, lo: pd.Series, hi: pd.Series, **style) -> None:
    """Crossings ``xi`` (cosines) against the degree with their bootstrap interval ``[lo, hi]`` (NaN: no bar)."""
    yerr = np.nan_to_num(np.asarray([xi - lo, hi - xi], dtype=float))
    ax.errorbar(degree, xi, yerr=np.clip(yerr, 0, None), capsize=3, **style)


def plot_harmonics_resolution(rows: pd.DataFrame, resolved: pd.Series, *, title: str) -> Figure:
    """The method's resolution: per degree the first zero crossing ξ (a cosine) expected by theory (largest
    Legendre root), measured for label agreement (the oracle) and for the trained network's stiffness, with 95%
    bootstrap intervals; degrees not ``resolved`` (bool per row) are shaded. ``rows``: ``degree, theory_xi,
    oracle_xi, oracle_lo, oracle_hi, xi, xi_lo, xi_hi``."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for degree in rows["degree"][~resolved.to_numpy()]:
        ax.axvspan(degree - 0.4, degree + 0.4, color="0.9", zorder=0)
    ax.plot(rows["degree"], rows["theory_xi"], "k--", marker="x", label="theory: largest root of $P_k$")
    _xi_with_interval(
        ax, rows["degree"] - 0.08, rows["oracle_xi"], rows["oracle_lo"], rows["oracle_hi"], marker="s", ls="",
        color="C1", label="oracle: label agreement",
    )  # fmt: skip
    _xi_with_interval(
        ax, rows["degree"] + 0.08, rows["xi"], rows["xi_lo"], rows["xi_hi"], marker="o", ls="", color="C0",
        label="trained network: sign stiffness",
    )  # fmt: skip
    ax.set(xlabel="degree of the target harmonic (shaded: not resolved)", ylabel="first zero crossing ξ (cosine)")
    ax.set_ylim(min(-0.1, float(np.nanmin(rows[["theory_xi", "oracle_lo", "xi_lo"]].to_numpy())) - 0.05), 1.0)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_domain_vs_lr(sized: pd.DataFrame, layers: Sequence[str], *, datasets: Sequence[str], title: str) -> Figure:
    """Stiff-domain size against learning rate (log axis), one panel per dataset and one line per representation
    (like the paper's Figure 10). ``sized`` has columns ``dataset, lr, layer, size, size_lo, size_hi``; points are
    means over the seeds with both a size and an interval, error bars the mean of those seeds' 95% bootstrap
    intervals, drawn where they lie. A seed whose replicates never cross has a size but no interval: it is left out
    of both, so the point and its bar average the same seeds. Where ``sized`` has a ``censored`` column, a seed
    whose curve stayed positive over the measured range counts with its bound, the point is drawn with an upward
    arrow (the size is at least there) and its bar averages the seeds that crossed; the legend, beside the panels,
    names every representation."""
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.8 * len(datasets), 4.2), squeeze=False, sharey=True)
    palette = sns.color_palette("crest", len(layers))
    for ax, dataset in zip(axes[0], datasets, strict=True):
        d = sized[sized["dataset"] == dataset]
        bounded = d["censored"].astype(bool) if "censored" in d else pd.Series(False, index=d.index)
        d = d[bounded | d[["size", "size_lo", "size_hi"]].notna().all(axis=1)]
        for layer, color in zip(layers, palette, strict=True):
            g = _cells_by_lr(d[d["layer"] == layer], "size", "size_lo", "size_hi")
            if g.empty:
                continue
            _estimate_with_interval(
                ax, g.index, g["size"], g["size_lo"], g["size_hi"], color=color, label=layer, capsize=2, ms=4
            )
            _bounds_as_arrows(ax, g, "size", color=color)
        ax.set(xscale="log", xlabel="learning rate (Adam)", title=dataset)
    axes[0, 0].set_ylabel("stiff-domain size 1 − ξ (dot-product distance)")
    handles = [
        Line2D([], [], color=color, marker="o", ms=4, label=layer) for layer, color in zip(layers, palette, strict=True)
    ]
    fig.suptitle(title, y=1.02)
    fig.tight_layout()
    fig.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, title="representation")
    return fig


def plot_crossing_shares(shares: pd.DataFrame, layers: Sequence[str], *, title: str) -> Figure:
    """Where a zero crossing was found, as a heat map: one panel per dataset, one column per representation, one row
    per (stopping point, learning rate); the colour is the share of seeds whose measured curve crossed zero, the
    text ``c/b/n``: seeds that crossed, seeds whose curve stayed positive beyond the measured range (a bound), seeds
    measured. ``shares``: :func:`repro.analysis.sweep_domains.crossing_shares`."""
    datasets = list(dict.fromkeys(shares["dataset"]))
    rows_per = shares.groupby("dataset")[["rule", "stop", "lr"]].apply(lambda g: len(g.drop_duplicates()))
    height = 1.2 + 0.28 * int(rows_per.max())
    fig, axes = plt.subplots(1, len(datasets), figsize=(0.9 * len(layers) * len(datasets) + 2, height), squeeze=False)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        d = shares[shares["dataset"] == dataset].copy()
        d["row"] = [f"{stop_text} · lr {lr:g}" for stop_text, lr in zip(
            [f"loss {s:g}" if r == "loss" else f"{int(s):,} img" for r, s in zip(d["rule"], d["stop"], strict=True)],
            d["lr"], strict=True)]  # fmt: skip
        order = list(dict.fromkeys(d.sort_values(["rule", "stop", "lr"], ascending=[False, False, True])["row"]))
        share = (d["seeds crossing"] / d["seeds"]).to_numpy()
        text = (d["seeds crossing"].astype(int).astype(str) + "/" + d["seeds beyond range"].astype(int).astype(str)
                + "/" + d["seeds"].astype(int).astype(str))  # fmt: skip
        grid = pd.DataFrame({"row": d["row"], "layer": d["layer"], "share": share, "text": text})
        values = grid.pivot(index="row", columns="layer", values="share").reindex(index=order, columns=list(layers))
        labels = grid.pivot(index="row", columns="layer", values="text").reindex(index=order, columns=list(layers))
        sns.heatmap(values, ax=ax, vmin=0, vmax=1, cmap="crest", annot=labels.fillna(""), fmt="", cbar=False,
                    annot_kws={"fontsize": 7}, linewidths=0.5)  # fmt: skip
        ax.set(title=dataset, xlabel="representation", ylabel="")
        ax.tick_params(axis="y", labelsize=7)
        ax.tick_params(axis="x", labelsize=7, rotation=45)
    fig.suptitle(title, y=1.0)
    fig.tight_layout()
    return fig
