"""Figure 9 and the spherical-harmonics chapter (distance): stiffness crosses zero with distance, deeper layers and
higher frequencies have smaller stiff domains."""

from __future__ import annotations

import pandas as pd
from scipy.stats import spearmanr

from repro.claims.thresholds import threshold
from repro.claims.verdicts import Check, decide
from repro.claims.wording import count_word, number
from repro.experiments.distance import EUCLID, DistanceAnalysis
from repro.experiments.domain_ranges import profile_range

__all__ = [
    "CROSSING_FOUND",
    "MAX_RHO",
    "MIN_RANKED",
    "RESOLVED_FOUND",
    "MIN_RESOLVED_DEGREES",
    "LEARNED_ACCURACY",
    "distance_checks",
    "distance_rule",
    "harmonics_checks",
    "harmonics_resolved",
    "harmonics_rule",
]

CROSSING_FOUND = threshold("CROSSING_FOUND")
MAX_RHO = threshold("MAX_RHO")  # repro.claims.thresholds says what it decides
MIN_BIN_PAIRS = 10  # a distance bin with fewer pairs is left out, as the crossing was measured (distance_analysis)
MIN_RANKED = 3  # fewer values cannot give a rank correlation worth reading
RESOLVED_FOUND = threshold("RESOLVED_FOUND")
MIN_RESOLVED_DEGREES = 3  # fewer degrees within the method's resolution cannot show a trend
LEARNED_ACCURACY = threshold("LEARNED_ACCURACY")


def distance_checks(
    analysis: DistanceAnalysis, min_found: float = CROSSING_FOUND, max_rho: float = MAX_RHO
) -> list[Check]:
    """Figure 9: stiffness crosses zero with distance in the input space and every layer (a crossing found, and
    found in ≥ ``min_found`` of the bootstrap replicates), and deeper hidden layers have smaller stiff domains
    (Spearman's ρ between depth and domain size ``1 − ξ`` over the hidden layers ≤ ``max_rho``).

    Outcomes: a layer's crossing holds when the measured curve crosses and ≥ ``min_found`` of the replicates do; a
    curve that stays positive over its whole measured range (bins with at least :data:`MIN_BIN_PAIRS` pairs) is a
    right-censored observation — its stiff domain is at least that range, and a crossing beyond it cannot be seen —
    so it is undecided, not contradicted; the part is contradicted only when the curve is not positive even at the
    distance nearest the same point (no stiff domain to cross from); undecided otherwise. The depth part holds at
    ρ ≤ ``max_rho``, is contradicted at ρ ≥ ``−max_rho`` (deeper layers have *larger* domains) and is undecided in
    between or with fewer than three hidden layers crossing."""
    layers = [layer for layer in analysis.critical if layer != EUCLID]
    checks = []
    for layer in layers:
        c = analysis.critical[layer]
        measured = profile_range(c.profile, same_point="high", min_count=MIN_BIN_PAIRS)
        if c.xi is not None:
            shown = f"ξ = {c.xi:.3f}"
        elif measured["starts_positive"]:
            shown = f"positive out to the measured range's end (cosine {measured['range_xi']:+.3f}): domain ≥ " \
                f"{1 - measured['range_xi']:.3f}, a crossing beyond it cannot be seen"
        else:
            shown = "not positive even at the distance nearest the same point"
        checks.append(
            Check.decided(
                f"{layer}: stiffness crosses zero",
                decide(c.xi is not None and c.found_fraction >= min_found,
                       c.xi is None and not measured["starts_positive"]),
                f"{shown}; crossing in {c.found_fraction:.0%} of replicates",
            )
        )  # fmt: skip
    hidden = [layer for layer in layers if layer.startswith("hidden")]
    sizes = [(k, 1 - analysis.critical[h].xi) for k, h in enumerate(hidden) if analysis.critical[h].xi is not None]
    rho = spearmanr(*zip(*sizes, strict=True)).statistic if len(sizes) >= MIN_RANKED else float("nan")
    checks.append(
        Check.decided(
            "deeper hidden layers have smaller stiff domains",
            decide(bool(rho <= max_rho), bool(rho >= -max_rho)),
            f"Spearman ρ(depth, domain size) = {rho:+.2f} over {len(sizes)} hidden layers with a crossing",
        )
    )
    return checks


def distance_rule() -> str:
    """Figure 9's claim and the rule :func:`distance_checks` applies with its default thresholds, as Markdown."""
    return (
        "**The paper's claim.** (a) Stiffness falls with distance and has a first zero crossing in the input space "
        "and in every layer; (b) deeper layers have smaller stiff domains.\n\n"
        "**Rule.** (a) One part per dot-product representation: *holds* when a crossing is found and found in at "
        f"least {CROSSING_FOUND:.0%} of the bootstrap replicates; a curve that stays positive over its whole measured "
        f"range (bins of at least {MIN_BIN_PAIRS} pairs) is a bound, not a blank: its stiff domain is at least that "
        "range and a crossing beyond it cannot be seen, so the part is *undecided* (the book's earlier reading called "
        "it *contradicted*); *contradicted* when the curve is not positive even at the distance nearest the same "
        "point; *undecided* otherwise. (b) Among "
        "the hidden layers, the stiff-domain size decreases with depth: Spearman's rank correlation between depth and "
        f"domain size ≤ {number(MAX_RHO)} *holds*, ≥ {number(-MAX_RHO, sign=True)} is *contradicted* (deeper layers "
        f"have larger domains), in between — or fewer than {count_word(MIN_RANKED)} hidden layers with a crossing — is "
        "*undecided*. The verdict follows the book's rule, shown below."
    )


def harmonics_resolved(rows: pd.DataFrame, bin_width: float, min_found: float = RESOLVED_FOUND) -> pd.Series:
    """Which degrees the method resolves (bool per row): the oracle (label agreement in place of stiffness) finds
    its crossing in ≥ ``min_found`` of the bootstrap replicates and its interval ``[oracle_lo, oracle_hi]`` contains
    the theory crossing ``theory_xi`` or misses it by at most ``bin_width`` (the width of a distance bin, a cosine).
    ``rows``: ``theory_xi, oracle_lo, oracle_hi, oracle_found`` per degree. A degree that is not resolved has a stiff
    domain these bins and this stiffness set cannot measure even with a perfect network."""
    found = rows["oracle_found"] >= min_found
    near = (rows["oracle_lo"] - bin_width <= rows["theory_xi"]) & (rows["theory_xi"] <= rows["oracle_hi"] + bin_width)
    return found & near  # NaN (no interval, no theory) compares False


def _resolution_check(r: pd.DataFrame, resolved: pd.Series) -> Check:
    """The precondition: at least :data:`MIN_RESOLVED_DEGREES` degrees are within the method's resolution."""

    def shown(row) -> str:
        return (f"degree {int(row.degree)}: theory {row.theory_xi:.3f}, oracle [{row.oracle_lo:.3f}, "
                f"{row.oracle_hi:.3f}] in {row.oracle_found:.0%}")  # fmt: skip

    parts = [("resolved", r[resolved]), ("not resolved", r[~resolved])]
    return Check(
        f"at least {MIN_RESOLVED_DEGREES} degrees within the method's resolution",
        bool(resolved.sum() >= MIN_RESOLVED_DEGREES),
        "; ".join(
            f"{name}: " + ", ".join(shown(row) for row in part.itertuples()) for name, part in parts if len(part)
        ),
        precondition=True,
    )


def harmonics_checks(
    rows: pd.DataFrame,
    bin_width: float,
    max_rho: float = MAX_RHO,
    min_acc: float = LEARNED_ACCURACY,
    min_found: float = RESOLVED_FOUND,
) -> list[Check]:
    """Spherical harmonics: the stiff-domain size ``1 − ξ`` shrinks as the degree grows (Spearman ρ ≤ ``max_rho``;
    the interval at the highest degree below the one at the lowest), judged on the degrees the method resolves
    (:func:`harmonics_resolved` with ``bin_width`` and ``min_found``) only, and the network of every resolved degree
    learned its task (held-out accuracy > ``min_acc``). ``rows``: ``degree, xi, xi_lo, xi_hi, val_acc`` and the oracle's
    ``theory_xi, oracle_lo, oracle_hi, oracle_found`` per degree.

    Outcomes: the rank part holds at ρ ≤ ``max_rho``, is contradicted at ρ ≥ ``−max_rho`` (domains grow with the
    degree), undecided in between or with fewer than three resolved degrees crossing; the end-to-end part (the
    highest and the lowest resolved degree whose measured curve crosses zero, as for the rank part: a degree
    without a crossing has no domain size, whatever its bootstrap replicates give) holds when the highest degree's
    interval lies below the lowest's, is contradicted when it lies above, undecided when they overlap or fewer than
    two resolved degrees cross. Two preconditions hold or do not: at least :data:`MIN_RESOLVED_DEGREES` resolved
    degrees, and the accuracy."""
    r = rows.sort_values("degree")
    resolved = harmonics_resolved(r, bin_width, min_found)
    used = r[resolved]
    size, size_lo, size_hi = 1 - used["xi"], 1 - used["xi_hi"], 1 - used["xi_lo"]
    ok = size.notna()
    rho = spearmanr(used["degree"][ok], size[ok]).statistic if ok.sum() >= MIN_RANKED else float("nan")
    crossing = used[ok]
    if len(crossing) >= 2:
        first, last = crossing.index[0], crossing.index[-1]
        below = bool(size_hi[last] < size_lo[first])
        above = bool(size_lo[last] > size_hi[first])
        ends = (f"degree {int(used['degree'][first])}: [{size_lo[first]:.3f}, {size_hi[first]:.3f}]; degree "
                f"{int(used['degree'][last])}: [{size_lo[last]:.3f}, {size_hi[last]:.3f}]")  # fmt: skip
    else:
        below, above, ends = False, False, f"{len(crossing)} resolved degree(s) with a crossing"
    return [
        Check.decided(
            "domain size shrinks with the degree",
            decide(bool(rho <= max_rho), bool(rho >= -max_rho)),
            f"Spearman ρ(degree, 1 − ξ) = {rho:+.2f} over {int(ok.sum())} resolved degrees with a crossing",
        ),
        Check.decided(
            "highest resolved degree's domain below the lowest's (degrees with a crossing)", decide(below, above), ends
        ),
        _resolution_check(r, resolved),
        Check(
            "every resolved degree's network learned its task",
            bool((used["val_acc"] > min_acc).all()),
            "held-out accuracy "
            + ", ".join(
                f"degree {int(row.degree)}: {row.val_acc:.2f}" + ("" if ok_ else " (not resolved)")
                for row, ok_ in zip(r.itertuples(), resolved, strict=True)
            ),
            precondition=True,
        ),
    ]


def harmonics_rule() -> str:
    """The rule :func:`harmonics_checks` applies with its default thresholds (the book's own hypothesis: domains
    shrink as the degree grows), as Markdown."""
    return (
        "**Rule.** Only the resolved degrees (above) count. (1) Spearman's rank correlation between degree and "
        f"domain size $1 - \\xi$ is ≤ {number(MAX_RHO)} (domains shrink with frequency: *holds*); ≥ "
        f"{number(-MAX_RHO, sign=True)} is *contradicted*; in between, or fewer than {count_word(MIN_RANKED)} "
        "resolved degrees with a crossing, *undecided*. (2) Among the resolved degrees whose measured curve crosses "
        "zero (a degree without a crossing has no domain size), the interval of the domain size at the highest lies "
        "below the interval at the lowest (*holds*), above it (*contradicted*), or they overlap or fewer than two "
        "such degrees exist (*undecided*). Preconditions (a failure → *inconclusive*): (3) at least "
        f"{count_word(MIN_RESOLVED_DEGREES)} degrees are resolved (fewer cannot show a trend); (4) the networks of "
        f"the resolved degrees learned their tasks, held-out accuracy above {LEARNED_ACCURACY:g} (otherwise stiffness "
        "describes a network that did not fit its target). The verdict follows the book's rule, shown below. This "
        "is the book's own hypothesis, not a claim of the paper: the claims page lists it apart, among the "
        "questions this book adds, and does not count it in the tally of the paper's claims."
    )
