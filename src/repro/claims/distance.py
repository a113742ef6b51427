"""Figure 9 and the spherical-harmonics chapter (distance): stiffness crosses zero with distance, deeper layers and
higher frequencies have smaller stiff domains."""

from __future__ import annotations

import pandas as pd
from scipy.stats import spearmanr

from repro.claims.verdicts import Check, decide
from repro.experiments.distance import EUCLID, DistanceAnalysis

__all__ = ["distance_checks", "harmonics_checks"]


def distance_checks(analysis: DistanceAnalysis, min_found: float = 0.8, max_rho: float = -0.5) -> list[Check]:
    """Figure 9: stiffness crosses zero with distance in the input space and every layer (a crossing found, and
    found in ≥ ``min_found`` of the bootstrap replicates), and deeper hidden layers have smaller stiff domains
    (Spearman's ρ between depth and domain size ``1 − ξ`` over the hidden layers ≤ ``max_rho``).

    Outcomes: a layer's crossing holds when the measured curve crosses and ≥ ``min_found`` of the replicates do, is
    contradicted when the measured curve does not cross and ≤ ``1 − min_found`` of the replicates do, and is
    undecided otherwise. The depth part holds at ρ ≤ ``max_rho``, is contradicted at ρ ≥ ``−max_rho`` (deeper
    layers have *larger* domains) and is undecided in between or with fewer than three hidden layers crossing."""
    layers = [layer for layer in analysis.critical if layer != EUCLID]
    checks = []
    for layer in layers:
        c = analysis.critical[layer]
        shown = "none" if c.xi is None else f"{c.xi:.3f}"
        checks.append(
            Check.decided(
                f"{layer}: stiffness crosses zero",
                decide(
                    c.xi is not None and c.found_fraction >= min_found,
                    c.xi is None and c.found_fraction <= 1 - min_found + 1e-12,
                ),
                f"ξ = {shown}, crossing in {c.found_fraction:.0%} of replicates",
            )
        )
    hidden = [layer for layer in layers if layer.startswith("hidden")]
    sizes = [(k, 1 - analysis.critical[h].xi) for k, h in enumerate(hidden) if analysis.critical[h].xi is not None]
    rho = spearmanr(*zip(*sizes, strict=True)).statistic if len(sizes) >= 3 else float("nan")
    checks.append(
        Check.decided(
            "deeper hidden layers have smaller stiff domains",
            decide(bool(rho <= max_rho), bool(rho >= -max_rho)),
            f"Spearman ρ(depth, domain size) = {rho:+.2f} over {len(sizes)} hidden layers with a crossing",
        )
    )
    return checks


def harmonics_checks(rows: pd.DataFrame, max_rho: float = -0.5, min_acc: float = 0.6) -> list[Check]:
    """Spherical harmonics: the stiff-domain size ``1 − ξ`` shrinks as the degree grows (Spearman ρ ≤ ``max_rho``;
    the interval at the highest degree below the one at the lowest), and every network learned its task (held-out
    accuracy > ``min_acc``). ``rows``: ``degree, xi, xi_lo, xi_hi, val_acc`` per degree.

    Outcomes: the rank part holds at ρ ≤ ``max_rho``, is contradicted at ρ ≥ ``−max_rho`` (domains grow with the
    degree), undecided in between or with fewer than three degrees crossing; the end-to-end part holds when the
    highest degree's interval lies below the lowest's, is contradicted when it lies above, undecided when they
    overlap or either is missing. The accuracy precondition holds or does not."""
    r = rows.sort_values("degree")
    size, size_lo, size_hi = 1 - r["xi"], 1 - r["xi_hi"], 1 - r["xi_lo"]
    ok = size.notna()
    rho = spearmanr(r["degree"][ok], size[ok]).statistic if ok.sum() >= 3 else float("nan")
    first, last = r.index[0], r.index[-1]
    below = bool(size_hi[last] < size_lo[first])  # NaN compares False
    above = bool(size_lo[last] > size_hi[first])
    return [
        Check.decided(
            "domain size shrinks with the degree",
            decide(bool(rho <= max_rho), bool(rho >= -max_rho)),
            f"Spearman ρ(degree, 1 − ξ) = {rho:+.2f} over {int(ok.sum())} degrees with a crossing",
        ),
        Check.decided(
            "highest degree's domain below the lowest's",
            decide(below, above),
            f"degree {int(r['degree'][first])}: [{size_lo[first]:.3f}, {size_hi[first]:.3f}]; degree "
            f"{int(r['degree'][last])}: [{size_lo[last]:.3f}, {size_hi[last]:.3f}]",
        ),
        Check(
            "every network learned its task",
            bool((r["val_acc"] > min_acc).all()),
            "held-out accuracy " + ", ".join(f"{a:.2f}" for a in r["val_acc"]),
            precondition=True,
        ),
    ]
