"""Figures 8 and 10 and the critical-length chapter (the learning rate): the direction rule of a quantity against
the learning rate (:func:`lr_trend`), and the checks built on it; the raw crossing ξ beside the stiff-domain size
per learning rate (:func:`xi_and_size`), and which of the two each paper version's sentences refer to
(:data:`V1_READING`, :data:`V3_READING`, judged by :func:`version_checks`); which stops count at all
(:func:`split_trained`, :data:`TRAINED_RULE`: a network that collapsed to a constant output is left out)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from repro.claims.censored_trend import censored_trend
from repro.claims.pooling import interval_over, seed_interval
from repro.claims.verdicts import CONTRADICTED, HOLDS, UNDECIDED, Check, decide
from repro.experiments.distance import EUCLID

__all__ = [
    "stop_label",
    "TRAINED_RULE",
    "trained_accuracy",
    "split_trained",
    "lr_trend",
    "trend_checks",
    "domain_growth_checks",
    "xi_and_size",
    "VersionReading",
    "V1_READING",
    "V3_READING",
    "version_checks",
]


def stop_label(rule: str, stop: float) -> str:
    """A sweep stop in words: ``"training loss 0.2"`` (rule ``"loss"``) or ``"300,000 images seen"``."""
    return f"training loss {stop:g}" if rule == "loss" else f"{int(stop):,} images seen"


def trained_accuracy(chance: float | pd.Series) -> float | pd.Series:
    """The least held-out accuracy of a trained network under :data:`TRAINED_RULE`: ``(1 + chance) / 2``."""
    return (1 + chance) / 2


TRAINED_RULE = (
    "**Which stops count.** A stop counts only when its network is trained: its accuracy on the stiffness set "
    "(the held-out validation images whose pairs it measured) is at least halfway from chance to perfect, "
    f"(1 + 1/C) / 2 for C classes ({trained_accuracy(1 / 10):g} for ten). Adam at a high constant learning rate "
    "can collapse a network to an output that no longer depends on the input; such a network classifies at chance, "
    "and its stiffness is that of a constant function (within-class +1, between-class −1 for sign stiffness) — a "
    "measurement of the collapse, not of what the learning rate does to a trained network. Stops that fail are "
    "listed here and left out of the figures and the trends."
)


def split_trained(rows: pd.DataFrame, accuracy: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``rows`` (one per stop of a learning-rate sweep) with each stop's held-out accuracy joined on ``dataset, lr,
    seed, rule, stop`` from ``accuracy`` (columns ``held_out_accuracy, held_out_loss, chance``, as
    :func:`repro.experiments.reanalysis.stop_accuracy` gives them), split by :data:`TRAINED_RULE`.

    Returns ``(kept, untrained)``: ``untrained`` holds the stops whose accuracy is below
    :func:`trained_accuracy`; ``kept`` every other row, including rows without a stop (a target never reached),
    whose accuracy is NaN. Raises ValueError when a stop reached has no accuracy (``accuracy`` is from another
    sweep)."""
    keys = ["dataset", "lr", "seed", "rule", "stop"]
    joined = rows.merge(accuracy, on=keys, how="left", validate="one_to_one")
    reached = joined["images_seen"].notna()
    if joined.loc[reached, "held_out_accuracy"].isna().any():
        missing = joined.loc[reached & joined["held_out_accuracy"].isna(), keys]
        raise ValueError(f"no held-out accuracy for {len(missing)} stop(s) reached, e.g. {missing.iloc[0].to_dict()}")
    failed = joined["held_out_accuracy"] < trained_accuracy(joined["chance"])
    return joined[~failed].reset_index(drop=True), joined[failed].reset_index(drop=True)


def _end_of_trend(e: pd.DataFrame, value: str, lo: str, hi: str) -> dict[str, object]:
    """One end (a learning rate) of a trend from its rows, one per seed: the mean over seeds, the interval that
    decides (:func:`~repro.claims.pooling.seed_interval` over the seeds' estimates from two seeds on; one seed's own
    interval ``[lo, hi]`` over images otherwise), what that interval is over, and every seed's own interval."""
    n = len(e)
    own = tuple((float(a), float(b)) for a, b in zip(e[lo], e[hi], strict=True))
    interval = seed_interval(e[value].tolist()) if n >= 2 else own[0] if n == 1 else (np.nan, np.nan)
    return {
        "mean": float(e[value].mean()) if n else np.nan,
        "interval": interval,
        "over": interval_over(n),
        "within": own,
    }


def _interval_over(ends: dict[str, dict[str, object]]) -> str:
    """``"seeds (3)"`` when both ends' intervals are over the same thing, else ``"lowest: …; highest: …"``."""
    low, high = ends["lowest"]["over"], ends["highest"]["over"]
    return low if low == high else f"lowest: {low}; highest: {high}"


def lr_trend(rows: pd.DataFrame, value: str, lo: str, hi: str, censored: str | None = None) -> pd.DataFrame:
    """How ``value`` changes with the learning rate, per (dataset, rule, stop); ``rows`` has one row per learning
    rate and seed, with that seed's estimate ``value`` and its own 95% interval ``[lo, hi]`` (over images), and,
    when ``censored`` names a boolean column, which values are lower bounds (a stiff domain beyond the measurable
    range).

    The direction is decided over *every* learning rate: :func:`~repro.claims.censored_trend.censored_trend` (a
    stratified censored Kendall τ, pairs compared within each seed, two-sided permutation test) gives ``tau``,
    ``p``, ``smallest p`` (the least p the design can give), ``resolvable tau`` (the least |τ| it calls a trend: the
    smallest effect it resolves), ``bounds`` (censored values used) and ``direction``:
    ``"up"`` / ``"down"`` when p < 0.05, ``"unclear"`` otherwise. Beside it, the end-point reading the book used
    before (the other reasonable reading, shown, not deciding): at the lowest and at the highest learning rate the
    mean over seeds (``<value> at lowest``), the interval (``interval at lowest``: a percentile bootstrap over seeds
    of the seeds' estimates, :func:`~repro.claims.pooling.seed_interval`, from two seeds on; with one seed, that
    seed's own interval over images), every seed's own interval (``within-seed intervals at lowest``), ``interval
    over`` and ``end-point direction`` (``"up"`` when the highest rate's interval lies above the lowest's, ``"down"``
    when below, ``"unclear"`` otherwise). Rows without a value are left out (a missed target).
    """
    out = []
    for (dataset, rule, stop), g in rows.groupby(["dataset", "rule", "stop"], sort=False):
        g = g.dropna(subset=[value])
        lrs = sorted(g["lr"].unique())
        rec = {"dataset": dataset, "rule": rule, "stop": stop, "n_lrs": len(lrs)}
        test = censored_trend(g["lr"], g[value], None if censored is None else g[censored], g["seed"])
        rec |= {"tau": test.tau, "p": test.p_value, "smallest p": test.smallest_p,
                "resolvable tau": test.resolvable_tau, "bounds": test.censored, "seeds": test.seeds}  # fmt: skip
        if len(lrs) < 2:
            out.append(rec | {"direction": "unclear", "end-point direction": "unclear"})
            continue
        ends = {
            name: _end_of_trend(g[g["lr"] == lr], value, lo, hi)
            for name, lr in (("lowest", lrs[0]), ("highest", lrs[-1]))
        }
        for name, lr in (("lowest", lrs[0]), ("highest", lrs[-1])):
            rec |= {
                f"{name} lr": lr,
                f"{value} at {name}": ends[name]["mean"],
                f"interval at {name}": ends[name]["interval"],
                f"within-seed intervals at {name}": ends[name]["within"],
            }
        low, high = ends["lowest"]["interval"], ends["highest"]["interval"]
        end_point = "up" if high[0] > low[1] else "down" if high[1] < low[0] else "unclear"
        out.append(
            rec | {"interval over": _interval_over(ends), "end-point direction": end_point, "direction": test.direction}
        )
    return pd.DataFrame(out)


_OPPOSITE = {"up": "down", "down": "up"}


def _direction_outcome(direction: str, expected: str) -> str:
    """A direction of :func:`lr_trend` read against the ``expected`` one: the same → holds, the opposite (also
    separated intervals) → contradicted, ``"unclear"`` → undecided."""
    return HOLDS if direction == expected else CONTRADICTED if direction == _OPPOSITE[expected] else UNDECIDED


def trend_evidence(r: pd.Series) -> str:
    """A :func:`lr_trend` row's test in words: ``"τ = +0.60, p = 0.002 over 5 rates × 3 seeds (2 bounds); the least p
    this design gives: 0.0001"``; undefined with fewer than two learning rates."""
    if not np.isfinite(r.get("tau", np.nan)):
        return "τ undefined (fewer than two learning rates with a value)"
    bounds = f", {int(r['bounds'])} of them bounds" if r.get("bounds", 0) else ""
    text = (
        f"τ = {r['tau']:+.2f}, p = {r['p']:.2g} over {int(r['n_lrs'])} rates × {int(r['seeds'])} seed(s){bounds}"
    )
    if r["smallest p"] >= 0.05:
        text += f"; this design cannot resolve a trend (its least p is {r['smallest p']:.2g})"
    elif np.isfinite(r.get("resolvable tau", np.nan)):
        text += f"; the design resolves |τ| ≥ {r['resolvable tau']:.2f}"
    return text


def trend_checks(trend: pd.DataFrame, quantity: str, expected: str) -> list[Check]:
    """One check per row of :func:`lr_trend`: the quantity moves in the ``expected`` direction ("up" or "down")
    over the learning rates (the censored rank trend over every rate, p < 0.05).

    Outcomes: the row's direction is the expected one → holds; the opposite one → contradicted; ``"unclear"`` (no
    significant trend, or a design that cannot resolve one) → undecided. The evidence gives τ, p, the least p the
    design can give and the end-point reading beside it."""
    if expected not in _OPPOSITE:
        raise ValueError(f"expected must be 'up' or 'down', got {expected!r}")
    checks = []
    for _, r in trend.iterrows():
        stop = stop_label(r["rule"], r["stop"])
        word = "higher" if expected == "up" else "lower"
        evidence = f"direction {r['direction']}: {trend_evidence(r)}"
        lo, hi = r.get("interval at lowest"), r.get("interval at highest")
        if isinstance(lo, tuple) and isinstance(hi, tuple):
            evidence += (
                f"; end points (the other reading: {r['end-point direction']}): lowest lr [{lo[0]:+.3f}, "
                f"{lo[1]:+.3f}], highest lr [{hi[0]:+.3f}, {hi[1]:+.3f}]"
            )
            over = r.get("interval over")
            if isinstance(over, str):
                evidence += f" (over {over})"
        checks.append(
            Check.decided(
                f"{r['dataset']}, {stop}: higher learning rate → {word} {quantity}",
                _direction_outcome(r["direction"], expected),
                evidence,
            )
        )
    return checks


def domain_growth_checks(trends: dict[str, pd.DataFrame], input_layer: str, expected: str = "up") -> list[Check]:
    """Figure 10: per (dataset, stop), the stiff-domain size moves in the ``expected`` direction with the learning
    rate (1) in ``input_layer`` and (2) in at least half of the representations in ``trends``.

    Outcomes: (1) as :func:`trend_checks` (expected direction → holds, the opposite → contradicted, unclear →
    undecided); (2) holds when at least half of the representations go the ``expected`` way, is contradicted when
    otherwise at least half go the opposite way, and is undecided otherwise (most are unclear)."""
    if expected not in _OPPOSITE:
        raise ValueError(f"expected must be 'up' or 'down', got {expected!r}")
    checks = []
    for k, row in trends[input_layer].iterrows():
        stop = stop_label(row["rule"], row["stop"])
        where = f"{row['dataset']}, {stop}"
        directions = [t.iloc[k]["direction"] for t in trends.values()]
        n_match = sum(d == expected for d in directions)
        n_opposite = sum(d == _OPPOSITE[expected] for d in directions)
        checks.append(
            Check.decided(
                f"{where}: input-space domain size goes {expected} with the learning rate",
                _direction_outcome(row["direction"], expected),
                f"direction {row['direction']}: {trend_evidence(row)}",
            )
        )
        half = 2 * n_match >= len(directions)
        checks.append(
            Check.decided(
                f"{where}: domain size goes {expected} in ≥ half of the representations",
                decide(half, not half and 2 * n_opposite >= len(directions)),
                f"{n_match} of {len(directions)} go {expected}, {n_opposite} go {_OPPOSITE[expected]}",
            )
        )
    return checks


_CELL = ["dataset", "rule", "stop", "layer", "lr"]


def xi_and_size(sized: pd.DataFrame) -> pd.DataFrame:
    """The raw crossing ξ beside the stiff-domain size, per (dataset, rule, stop, layer, lr).

    ``sized``: one row per seed and cell with ``xi, xi_lo, xi_hi, size, size_lo, size_hi`` and, when it has them,
    ``censored`` (the value is a bound: the curve never crossed within the measurable range,
    :func:`repro.analysis.sweep_domains.censored_domains`). Returns per cell ``seeds``, ``bounds`` (how many of
    their values are bounds: the cell's mean is then itself a bound, "at least" for the size), ``interval over``
    and, for ``xi`` and ``size`` each, the mean over seeds (``xi``, ``size``) and the interval over seeds
    (``xi interval``, ``size interval``: :func:`~repro.claims.pooling.seed_interval` from two seeds on, one seed's
    own interval over images otherwise, as in :func:`lr_trend`).
    """
    out = []
    for key, g in sized.groupby(_CELL, sort=False):
        bounds = int(g["censored"].sum()) if "censored" in g else 0
        rec = dict(zip(_CELL, key, strict=True)) | {"seeds": len(g), "bounds": bounds}
        for q in ("xi", "size"):
            end = _end_of_trend(g.dropna(subset=[q]), q, f"{q}_lo", f"{q}_hi")
            rec |= {q: end["mean"], f"{q} interval": end["interval"], "interval over": end["over"]}
        out.append(rec)
    return pd.DataFrame(out)


@dataclass(frozen=True)
class VersionReading:
    """What one paper version's sentences about the critical length refer to, and what they claim of it.

    ``quantity`` is the column judged (``"size"``: a distance that grows with the stiff domain; ``"xi"``: the raw
    crossing on the distance's own axis), on the distance ``layer`` and the stopping ``rule`` the version uses;
    ``expected`` the direction ("up"/"down") the version states for that quantity as the learning rate rises;
    ``label`` names the quantity in a check's text.
    """

    version: str
    quantity: str
    layer: str
    rule: str
    expected: str
    label: str


V1_READING = VersionReading("v1", "size", "input", "loss", "up", "dot-product stiff-domain size 1 − ξ (v1)")
"""v1 (Section 4.3, Figure 10) states that the *size* of stiff domains grows: "the characteristic size of stiff
regions in the learned function increases with higher learning rates", functions "stiffer over larger distances
(i.e. data points further apart respond similarly to gradient updates)". On Eq. 9's axis (1 = same point, "Note
that the dot product distance of 1 corresponds to points being at the same place") points further apart have a
smaller cosine, so a domain that grows is a raw crossing ξ that *falls*: v1's quantity is the size ``1 − ξ``."""

V3_READING = VersionReading("v3", "size", EUCLID, "images", "down", "Euclidean critical length ξ (v3)")
"""v3 defines the dynamical critical length ξ as "a distance below which a parameter update based on a data point
influences its neighbors" in the input space: a length that grows with the stiff domain. On the Euclidean
distance (0 = same point) that is the raw crossing itself (size = ξ); "higher learning rates reduce ξ" claims the
size goes down. Which distance and stopping rule v3 uses is our reading (its text available to us gives neither)."""


def version_checks(reading: VersionReading, sized: pd.DataFrame) -> list[Check]:
    """The version's claim judged on the quantity it defines: :func:`trend_checks` of :func:`lr_trend` of
    ``reading.quantity`` over the rows of ``sized`` on ``reading.layer`` and ``reading.rule`` (bounds counted as
    bounds where ``sized`` has a ``censored`` column), expecting ``reading.expected``."""
    rows = sized[(sized["layer"] == reading.layer) & (sized["rule"] == reading.rule)]
    q = reading.quantity
    censored = "censored" if "censored" in rows else None
    return trend_checks(lr_trend(rows, q, f"{q}_lo", f"{q}_hi", censored), reading.label, reading.expected)
