"""The tables the chapters show, built from the experiments' results (values with their 95% bootstrap intervals as
``+0.123 [+0.100, +0.150]``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from repro.analysis.sweep_domains import crossing_shares
from repro.claims import stop_label
from repro.experiments.class_stiffness import ClassStiffnessRun
from repro.experiments.distance import EUCLID, DistanceAnalysis
from repro.experiments.hierarchy import HierarchyRun
from repro.experiments.history import (
    IMAGES_SEEN,
    KINDS,
    METRICS,
    PAIR_KINDS,
    TRAIN_LOSS,
    VAL_ACC,
    VAL_LOSS,
    stiffness_column,
)

__all__ = [
    "with_interval",
    "stage_table",
    "pair_table",
    "dynamics_table",
    "hierarchy_table",
    "runs_table",
    "crossing_table",
    "sweep_crossing_table",
    "trend_table",
    "trend_summary",
    "condition_table",
    "condition_sentence",
    "xi_size_table",
    "untrained_stops",
]


def with_interval(value: float, ci: tuple[float, float]) -> str:
    """``+0.123 [+0.100, +0.150]``."""
    return f"{value:+.3f} [{ci[0]:+.3f}, {ci[1]:+.3f}]"


def stage_table(run: ClassStiffnessRun) -> pd.DataFrame:
    """One row per stage snapshot: images seen, losses, validation accuracy, within/between sign stiffness with
    their 95% bootstrap intervals, and within/between cosine stiffness."""
    hist = run.history.set_index(IMAGES_SEEN)
    rows = []
    for snap in run.snapshots:
        s, c = snap.summaries["sign"], snap.summaries["cos"]
        rec = hist.loc[snap.images_seen]
        rows.append(
            {
                "images seen": snap.images_seen,
                "train loss": round(float(rec[TRAIN_LOSS]), 3),
                "val loss": round(float(rec[VAL_LOSS]), 3),
                "val acc": round(float(rec[VAL_ACC]), 3),
                "within (sign)": with_interval(s.within, s.within_ci),
                "between (sign)": with_interval(s.between, s.between_ci),
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
            for metric in METRICS:
                s = snap.summary(kind, metric)
                rows.append(
                    {
                        "images seen": snap.images_seen,
                        "pairs": kind,
                        "metric": metric,
                        "within": with_interval(s.within, s.within_ci),
                        "between": with_interval(s.between, s.between_ci),
                    }
                )
    return pd.DataFrame(rows)


def dynamics_table(runs: list[ClassStiffnessRun], seeds: list[int], onsets: list[int | None]) -> pd.DataFrame:
    """Per seed: the onset of overfitting and within/between sign stiffness (95% interval) at the onset and at
    the end of training, with the validation loss at both points."""
    rows = []
    for run, seed, onset in zip(runs, seeds, onsets, strict=True):
        hist = run.history.set_index(IMAGES_SEEN)
        end = hist.iloc[-1]
        row = {"seed": seed, "onset (images seen)": onset if onset is not None else "none"}
        points = [("onset", hist.loc[onset])] if onset is not None else []
        for name, rec in [*points, ("end", end)]:
            row[f"val loss at {name}"] = round(float(rec[VAL_LOSS]), 3)
            for kind in KINDS:
                col, lo, hi = (stiffness_column(kind, bound=b) for b in (None, "lo", "hi"))
                ci = (float(rec[lo]), float(rec[hi]))
                row[f"{kind} at {name}"] = with_interval(float(rec[col]), ci)
        rows.append(row)
    return pd.DataFrame(rows)


def hierarchy_table(hrun: HierarchyRun) -> pd.DataFrame:
    """Per stage: same-group and cross-group mean stiffness, their contrast with its interval, p-value."""
    rows = []
    for snap, by_metric in zip(hrun.run.snapshots, hrun.contrasts, strict=True):
        for metric, c in by_metric.items():
            rows.append(
                {
                    "images seen": snap.images_seen,
                    "metric": metric,
                    "same group": round(c.same_coarse, 3),
                    "different groups": round(c.diff_coarse, 3),
                    "contrast": with_interval(c.contrast, c.contrast_ci),
                    "permutation p": round(c.p_value, 4),
                }
            )
    return pd.DataFrame(rows)


def runs_table(
    runs: dict[str, dict[str, ClassStiffnessRun]], verdicts: dict[str, dict[str, str]] | None = None
) -> pd.DataFrame:
    """One row per (chapter, init) of :func:`runs_by_init`: within- and between-class sign stiffness with their 95%
    bootstrap intervals at initialisation and at the last stage, the images seen at that stage, the final
    validation accuracy, and ``verdicts[chapter][init]`` when given."""
    rows = []
    for chapter, by_init in runs.items():
        for init, run in by_init.items():
            first, last = run.snapshots[0].summaries["sign"], run.snapshots[-1].summaries["sign"]
            row = {
                "chapter": chapter,
                "init": init,
                "within at init": with_interval(first.within, first.within_ci),
                "between at init": with_interval(first.between, first.between_ci),
                "last stage (images seen)": run.snapshots[-1].images_seen,
                "within at last stage": with_interval(last.within, last.within_ci),
                "between at last stage": with_interval(last.between, last.between_ci),
                "val acc at the end": round(float(run.history[VAL_ACC].iloc[-1]), 3),
            }
            if verdicts is not None:
                row["verdict"] = verdicts[chapter][init]
            rows.append(row)
    return pd.DataFrame(rows)


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


def _interval(ci: object) -> str:
    """``[+0.100, +0.150]``, or ``—`` for a missing interval."""
    if not isinstance(ci, tuple) or len(ci) != 2 or not all(np.isfinite(ci)):
        return "—"
    return f"[{ci[0]:+.3f}, {ci[1]:+.3f}]"


def _intervals(cis: object) -> str:
    """Every seed's own interval, ``[…] [… ]``, or ``—`` when there are none."""
    return " ".join(_interval(ci) for ci in cis) if isinstance(cis, tuple) and cis else "—"


def _trend_columns(trend: pd.DataFrame, value: str | None) -> pd.DataFrame:
    """The ends of :func:`~repro.claims.lr_trend` rows as text: per end the learning rate, the mean over seeds (when
    ``value`` is given), the deciding interval and the seeds' own intervals; then what the intervals are over."""
    out = pd.DataFrame(index=trend.index)
    for end in ("lowest", "highest"):
        if f"{end} lr" not in trend:
            continue
        out[f"{end} lr"] = trend[f"{end} lr"]
        if value is not None:
            out[f"mean at {end}"] = trend[f"{value} at {end}"]
        out[f"interval at {end}"] = trend[f"interval at {end}"].map(_interval)
        out[f"within-seed intervals at {end}"] = trend[f"within-seed intervals at {end}"].map(_intervals)
    if "interval over" in trend:
        out["interval over"] = trend["interval over"].fillna("—")
    return out


def trend_table(trend: pd.DataFrame, value: str) -> pd.DataFrame:
    """A :func:`~repro.claims.lr_trend` table for a chapter: dataset, rule, stop; at the lowest and highest learning
    rate the mean of ``value`` over seeds, the interval that decides (over seeds, or over images for one seed) and
    every seed's own interval over images; what those intervals are over; the end-point reading they give; then the
    deciding rank trend over every rate (τ, p, the least p the design can give, the direction)."""
    keys = trend[["dataset", "rule", "stop"]]
    test = trend[["end-point direction", "tau", "p", "smallest p", "resolvable tau", "direction"]]
    test = test.round({"tau": 2, "p": 4, "smallest p": 4, "resolvable tau": 2})
    return pd.concat([keys, _trend_columns(trend, value), test], axis=1)


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
    """One row per (distance, stopping rule, dataset, stop) with the direction of the domain size from the rank
    trend over every rate (τ, p, bounds among the values), then the end-point reading beside it: the intervals at
    the lowest and highest learning rate (over seeds, or over images for one seed) and every seed's own, from
    :func:`lr_trend` tables keyed by ``(distance, stopping rule)``."""
    test = ["dataset", "stop", "direction", "tau", "p", "bounds", "end-point direction"]
    parts = [
        pd.concat([t[test], _trend_columns(t, None)], axis=1).assign(distance=dist, stopping=rule)
        for (dist, rule), t in trends.items()
    ]
    table = pd.concat(parts, ignore_index=True)
    cols = ["distance", "stopping", *test]
    return table[cols + [c for c in table.columns if c not in cols]].round({"tau": 2, "p": 4})


def condition_sentence(trends: dict[tuple[str, str], pd.DataFrame]) -> str:
    """A sentence per condition saying how often the domain size went up, down or stayed unclear."""
    out = []
    for (dist, rule), t in trends.items():
        counts = t["direction"].value_counts()
        parts = ", ".join(f"{counts.get(w, 0)} {w}" for w in ("up", "down", "unclear"))
        out.append(f"{dist} distance, {rule}: {parts} (of {len(t)})")
    return "Domain size with increasing learning rate — " + "; ".join(out) + "."


def _value_with_interval(value: float, ci: object, bound: str = "") -> str:
    """``0.123 [0.100, 0.150]`` for crossings found in every seed; ``≥ 0.850 …`` (``bound``: ``"≥"`` or ``"≤"``)
    when some seeds' values are bounds (the curve stayed positive over the measured range); ``—`` without a
    value (no stop)."""
    if not np.isfinite(value):
        return "—"
    return f"{bound + ' ' if bound else ''}{value:.3f} {_interval(ci).replace('+', '')}"


def xi_size_table(cells: pd.DataFrame) -> pd.DataFrame:
    """:func:`~repro.claims.xi_and_size` as the chapters show it: per dataset, stopping rule and stop,
    representation and learning rate, the raw crossing ξ (on the representation's own distance: a cosine for the
    dot-product distance, 1 = same point; a length for the Euclidean one, 0 = same point) and the domain size side
    by side, each as the mean over seeds with its interval over seeds, and what that interval is over; a cell with
    seeds whose curve never crossed is a bound: the size ``≥``, the raw cosine ``≤`` (further from 1), the raw
    Euclidean ``≥``."""
    euclid = cells["layer"] == EUCLID
    distance = np.where(euclid, "Euclidean (0 = same point)", "cosine (1 = same point)")
    bounded = cells["bounds"] > 0
    size_mark = np.where(bounded, "≥", "")
    xi_mark = np.where(bounded, np.where(euclid, "≥", "≤"), "")
    return pd.DataFrame(
        {
            "dataset": cells["dataset"],
            "rule": cells["rule"],
            "stop": cells["stop"],
            "representation": cells["layer"],
            "distance": distance,
            "lr": cells["lr"],
            "raw ξ": [
                _value_with_interval(*a) for a in zip(cells["xi"], cells["xi interval"], xi_mark, strict=True)
            ],
            "domain size": [
                _value_with_interval(*a) for a in zip(cells["size"], cells["size interval"], size_mark, strict=True)
            ],
            "bounds": cells["bounds"].astype(str) + "/" + cells["seeds"].astype(str),
            "interval over": cells["interval over"],
        }
    ).sort_values(["dataset", "rule", "stop", "representation", "lr"], kind="stable", ignore_index=True)


def untrained_stops(kept: pd.DataFrame, untrained: pd.DataFrame) -> str:
    """Markdown for the two parts of :func:`repro.claims.split_trained`: how many stops were judged and the least
    held-out accuracy among those kept, then every stop left out as untrained (a table) or that none was."""
    judged = kept["held_out_accuracy"].notna().sum() + len(untrained)
    least = kept["held_out_accuracy"].min()
    head = f"Stops judged: {judged}; the least held-out accuracy among those kept: {least:.3f}."
    if untrained.empty:
        return head + " No stop was left out as untrained."
    lines = [
        "| dataset | lr | seed | stop | held-out accuracy | held-out loss (nats) | chance |",
        "|---|---:|---:|---|---:|---:|---:|",
    ]
    for r in untrained.itertuples():
        lines.append(
            f"| {r.dataset} | {r.lr:g} | {r.seed} | {stop_label(r.rule, r.stop)} | {r.held_out_accuracy:.3f} "
            f"| {r.held_out_loss:.3f} | {r.chance:.3f} |"
        )
    return head + f" Left out as untrained ({len(untrained)}):\n\n" + "\n".join(lines)


def sweep_crossing_table(sized: pd.DataFrame) -> pd.DataFrame:
    """:func:`crossing_shares` as the chapters show it: one row per (dataset, rule, stop, lr), one column per
    layer, each cell ``"2 cross, 1 beyond ≥ 0.85 (3 seeds); 60% of replicates cross"``."""
    shares = crossing_shares(sized)
    beyond = shares["seeds beyond range"].astype(int)
    text = shares["seeds crossing"].astype(int).astype(str) + " cross"
    bound = ", " + beyond.astype(str) + " beyond ≥ " + shares["range"].map("{:.2f}".format)
    text = text.where(beyond == 0, text + bound)
    shares["cell"] = (
        text + " (" + shares["seeds"].astype(str) + " seeds); " + shares["replicates crossing"].map("{:.0%}".format)
        + " of replicates cross"
    )
    layers = list(dict.fromkeys(shares["layer"]))
    table = shares.pivot(index=["dataset", "rule", "stop", "lr"], columns="layer", values="cell")
    return table[layers].reset_index().rename_axis(columns=None)
