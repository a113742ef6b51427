"""Stiff-domain sizes from a learning-rate sweep's rows (:class:`repro.experiments.lr_sweep.LRSweep`): the raw
crossing ξ of each row in its distance's units beside the stiff-domain size, a distance that grows with the domain
(:func:`size_from_xi`, :func:`xi_from_size`, :func:`raw_direction` convert between the two); :func:`domain_size`,
:func:`domain_table`; :func:`crossing_shares` — in how many seeds and replicates a crossing
was found; :func:`censored_domains` — a curve that never crosses within its measurable range read as a bound (the
domain is at least that range), not a blank.

A reading of stored rows: the sweep does not import this module, so editing it keeps the sweep's stored groups.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from repro.experiments.distance import EUCLID

__all__ = [
    "size_from_xi",
    "xi_from_size",
    "raw_direction",
    "domain_size",
    "domain_table",
    "CELL",
    "BEYOND_RANGE",
    "censored_domains",
    "crossing_shares",
]


def size_from_xi(xi, lo, hi, layer: str) -> tuple:
    """The stiff-domain size and its interval ``(size, size_lo, size_hi)`` from the raw crossing ``xi`` and its
    interval ``[lo, hi]`` on ``layer``'s distance (floats, arrays or Series).

    For the dot-product distance of Eq. 9 (a cosine, 1 = same point) the domain reaches from 1 down to the crossing,
    so its size is ``1 − ξ`` and the interval's ends swap; for the Euclidean distance (0 = same point) the size is ξ.
    """
    if layer == EUCLID:
        return xi, lo, hi
    return 1 - xi, 1 - hi, 1 - lo


def xi_from_size(size, lo, hi, layer: str) -> tuple:
    """The inverse of :func:`size_from_xi`: the raw crossing and its interval ``(xi, xi_lo, xi_hi)`` on ``layer``'s
    distance from a domain size and its interval."""
    if layer == EUCLID:
        return size, lo, hi
    return 1 - size, 1 - hi, 1 - lo


def raw_direction(size_direction: str, layer: str) -> str:
    """The direction of the raw crossing ξ on ``layer``'s distance when the domain size goes ``size_direction``
    ("up", "down" or "unclear"): the same for the Euclidean distance, the opposite for the cosine (a domain that
    grows reaches further from 1, so its ξ falls)."""
    if layer == EUCLID or size_direction not in ("up", "down"):
        return size_direction
    return "down" if size_direction == "up" else "up"


def domain_size(rows: pd.DataFrame, layer: str) -> pd.DataFrame:
    """The raw crossing and the stiff-domain size of ``layer`` for every row.

    Returns columns ``xi, xi_lo, xi_hi`` (the first zero crossing in the units of ``layer``'s distance: a cosine
    for Eq. 9's dot-product distance, 1 = same point; a Euclidean distance for :data:`EUCLID`, 0 = same point),
    ``size, size_lo, size_hi`` (a distance that grows with the domain, :func:`size_from_xi`), all NaN where no
    crossing was found, and ``found`` (the share of bootstrap replicates that cross).
    """
    xi, lo, hi = rows[f"xi[{layer}]"], rows[f"xi_lo[{layer}]"], rows[f"xi_hi[{layer}]"]
    size, size_lo, size_hi = size_from_xi(xi, lo, hi, layer)
    return pd.DataFrame(
        {"xi": xi, "xi_lo": lo, "xi_hi": hi, "size": size, "size_lo": size_lo, "size_hi": size_hi,
         "found": rows[f"xi_found[{layer}]"]},
        index=rows.index,
    )


def domain_table(rows: pd.DataFrame, layers: list[str]) -> pd.DataFrame:
    """Long table of crossings: one row per sweep row and layer, with the raw ``xi, xi_lo, xi_hi``, the domain's
    ``size, size_lo, size_hi`` and ``found`` from :func:`domain_size` (``dataset, lr, seed, rule, stop`` kept)."""
    keys = ["dataset", "lr", "seed", "rule", "stop"]
    parts = [rows[keys].assign(layer=layer).join(domain_size(rows, layer)) for layer in layers]
    return pd.concat(parts, ignore_index=True)


CELL = ["dataset", "rule", "stop", "layer", "lr"]
_STOP = ["dataset", "lr", "seed", "rule", "stop", "layer"]
BEYOND_RANGE = "beyond the measured range"


def censored_domains(sized: pd.DataFrame, ranges: pd.DataFrame) -> pd.DataFrame:
    """A :func:`domain_table` with every curve that does not cross read as what it measures.

    ``ranges``: one row per stop and distance (:func:`repro.experiments.domain_ranges.stop_domain_ranges`:
    ``range_xi``, ``starts_positive``, ``crosses``). A curve that starts positive and never crosses zero within its
    measurable range has a stiff domain *at least* that range: a right-censored value, ``censored`` True, with
    ``size`` and ``size_lo`` the range's size and ``size_hi`` ∞ (``xi`` and its interval converted,
    :func:`xi_from_size`). A curve that is not positive even at its first measured distance has no stiff domain at
    this resolution: ``no_domain`` True, size 0. Rows without a stop (a target not reached) keep their NaN values.
    Adds ``range_size`` (the measurable range as a domain size). Raises ValueError when ``ranges`` disagrees with
    the rows about which curves cross (they are from another sweep)."""
    merged = sized.merge(ranges, on=_STOP, how="left", validate="one_to_one")
    merged.index = sized.index
    measured = merged["range_xi"].notna()
    disagree = measured & (merged["crosses"].astype(bool) != sized["xi"].notna())
    if disagree.any():
        raise ValueError(f"the ranges disagree with the rows about {int(disagree.sum())} crossing(s): another sweep?")
    euclid = merged["layer"] == EUCLID
    range_size = merged["range_xi"].where(euclid, 1 - merged["range_xi"])
    censored = measured & ~merged["crosses"].astype(bool) & merged["starts_positive"].astype(bool)
    no_domain = measured & ~merged["crosses"].astype(bool) & ~merged["starts_positive"].astype(bool)
    out = sized.copy()
    out.loc[censored, ["size", "size_lo"]] = np.column_stack([range_size[censored]] * 2)
    out.loc[censored, "size_hi"] = np.inf
    out.loc[no_domain, ["size", "size_lo", "size_hi"]] = 0.0
    for rows, layer in ((euclid, EUCLID), (~euclid, "cosine")):
        pick = rows & (censored | no_domain)
        xi = xi_from_size(out.loc[pick, "size"], out.loc[pick, "size_lo"], out.loc[pick, "size_hi"], layer)
        out.loc[pick, ["xi", "xi_lo", "xi_hi"]] = np.column_stack(xi)
    return out.assign(censored=censored, no_domain=no_domain, range_size=range_size)


def crossing_shares(sized: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, rule, stop, layer, lr) of a :func:`censored_domains` table: ``seeds`` (stops measured),
    ``seeds crossing`` (seeds whose measured curve crosses zero), ``seeds beyond range`` (censored: positive over
    the whole measurable range), ``range`` (the measurable range as a domain size, mean over seeds) and
    ``replicates crossing`` (the share of bootstrap replicates that cross, pooled over the seeds: the mean of their
    shares)."""
    measured = sized[sized["found"].notna()]
    g = measured.groupby(CELL, sort=False)
    return pd.DataFrame(
        {
            "seeds": g["found"].size(),
            "seeds crossing": g["xi"].size() - g["censored"].sum() - g["no_domain"].sum(),
            "seeds beyond range": g["censored"].sum(),
            "range": g["range_size"].mean(),
            "replicates crossing": g["found"].mean(),
        }
    ).reset_index()
