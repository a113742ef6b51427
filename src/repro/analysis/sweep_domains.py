"""Stiff-domain sizes from a learning-rate sweep's rows (:class:`repro.experiments.lr_sweep.LRSweep`): the raw
crossing ξ of each row in its distance's units beside the stiff-domain size, a distance that grows with the domain
(:func:`size_from_xi`, :func:`xi_from_size`, :func:`raw_direction` convert between the two); :func:`domain_size`,
:func:`domain_table`; :func:`crossing_shares`, :func:`found_domains` — in how many seeds and replicates a crossing
was found, and both quantities with those found in fewer than :data:`MIN_FOUND` shown as not found.

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
    "MIN_FOUND",
    "NOT_FOUND",
    "CELL",
    "crossing_shares",
    "found_domains",
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


MIN_FOUND = 0.5  # a crossing found in fewer than half of the seeds or of the bootstrap replicates is "not found"
NOT_FOUND = "not found"
CELL = ["dataset", "rule", "stop", "layer", "lr"]
_VALUES = ["xi", "xi_lo", "xi_hi", "size", "size_lo", "size_hi"]  # what a crossing not found blanks


def crossing_shares(sized: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, rule, stop, layer, lr) of a :func:`domain_table`: ``seeds`` (how many), ``seeds crossing``
    (seeds whose measured curve crosses zero), ``replicates crossing`` (the share of bootstrap replicates that
    cross, pooled over the seeds: the mean of their shares) and ``found``: True when at least :data:`MIN_FOUND`
    of the seeds and of the replicates cross."""
    g = sized.groupby(CELL, sort=False)
    out = pd.DataFrame(
        {
            "seeds": g["size"].size(),
            "seeds crossing": g["size"].count(),
            "replicates crossing": g["found"].mean(),
        }
    ).reset_index()
    out["found"] = (out["seeds crossing"] >= MIN_FOUND * out["seeds"]) & (out["replicates crossing"] >= MIN_FOUND)
    return out


def found_domains(sized: pd.DataFrame) -> pd.DataFrame:
    """``sized`` with the raw ``xi, xi_lo, xi_hi`` and the ``size, size_lo, size_hi`` (those of them it has) set to
    NaN in every (dataset, rule, stop, layer, lr) whose crossing was not found (:func:`crossing_shares`): such a ξ
    is not averaged over the seeds that happened to cross, and a trend (:func:`repro.claims.lr_trend`) of either
    quantity leaves that learning rate out."""
    shares = crossing_shares(sized)[[*CELL, "found"]]
    merged = sized.merge(shares, on=CELL, how="left", suffixes=("", "_cell"), validate="many_to_one")
    merged.index = sized.index
    out = sized.copy()
    out.loc[~merged["found_cell"].astype(bool), [c for c in _VALUES if c in out]] = np.nan
    return out
