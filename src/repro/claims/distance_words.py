"""Figure 9 and the spherical-harmonics chapter: the paper's words each distance part checks, the part the later
version states in its own words (stiffness *decays* with input-space distance), and which parts each version states.

The crossing and depth parts themselves live in :mod:`repro.claims.distance`; this module adds to them without
changing them: :func:`input_decay_check` (v1 §2.3, v3's TL;DR), :func:`fig09_rule` (the rule of
:func:`~repro.claims.distance.distance_rule` with each part's quote and the decay part), :func:`fig09_version_checks`
(v1 states every part, v3 the input space's), and the words of the paper that prompted the book's own question on
spherical harmonics (:data:`HARMONICS_QUOTES`, :func:`harmonics_prompt`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy.stats import spearmanr

from repro.claims.distance import MAX_RHO, MIN_BIN_PAIRS, MIN_RANKED, distance_rule
from repro.claims.verdicts import Check, decide
from repro.claims.wording import count_word, number
from repro.experiments.distance import EUCLID, DistanceAnalysis

__all__ = [
    "DISTANCE_QUOTES",
    "HARMONICS_QUOTES",
    "MIN_BIN_PAIRS",
    "INPUT",
    "input_decay_check",
    "fig09_checks",
    "fig09_rule",
    "fig09_version_checks",
    "harmonics_prompt",
]

INPUT = "input"  # the dot-product analysis of the input space (the Euclidean one is EUCLID)
DECAY_CLAIM = "input: stiffness decays with distance"

# The paper's words each Figure 9 part checks (v1: arXiv 1901.09491v1, full text; v3: its later version's abstract,
# TL;DR and captions, the text we hold of it).
DISTANCE_QUOTES = {
    "crossing": '"We identify a sharp decline in the amount of stiffness between inputs further than a threshold '
    'distance from each other in all representations including the input space." (v1 §2.3); "there exists a '
    "critical distance within which input data points tend to move together under gradient updates, i.e. have "
    'positive stiffness. This holds true for all layers in the network" (v1 §4.3)',
    "deeper": '"with the tendency of deeper layers to have smaller stiff domain sizes" (v1 §4.3)',
    "decay": '"stiffness tracks within-class transfer, [...] while decaying with input-space distance" (v3 TL;DR); '
    '"a dynamical critical length -- a distance below which a parameter update based on a data point influences '
    'its neighbors" (v3 abstract)',
}

# The paper's words that prompted the book's own question on spherical harmonics (not a claim of the paper).
HARMONICS_QUOTES = {
    "synthetic": '"We explore the concept of stiffness for fully-connected (FC) and convolutional neural networks '
    '(CNN) on 4 classification datasets [...] and on synthetic data comprising spherical harmonics." (v1 §1.1; no '
    "result on it is reported)",
    "spectral_bias": '"This links our results to the work on spectral bias (towards slowly-varying, low frequency '
    'functions) in Rahaman et al. (2018)." (v1 §2.3)',
    "length_scale": '"We believe that these two length scales are likely to be connected, however, we have not '
    'explored this direction in this paper." (v1 §4.4)',
}


def _decay_rho(analysis: DistanceAnalysis, layer: str, min_pairs: int) -> tuple[float, int]:
    """Spearman's ρ between distance (``1 − cos`` for a dot-product layer, the Euclidean distance for
    :data:`EUCLID`) and mean stiffness over the bins of ``layer`` holding at least ``min_pairs`` pairs, and the
    number of such bins (ρ is NaN below :data:`~repro.claims.distance.MIN_RANKED` bins or for a constant profile)."""
    profile = analysis.critical[layer].profile
    used = (np.asarray(profile.count) >= min_pairs) & np.isfinite(profile.mean)
    centres = np.asarray(profile.centers, dtype=float)[used]
    distance = centres if layer == EUCLID else 1.0 - centres
    mean = np.asarray(profile.mean, dtype=float)[used]
    if used.sum() < MIN_RANKED or np.ptp(mean) == 0 or np.ptp(distance) == 0:
        return float("nan"), int(used.sum())
    return float(spearmanr(distance, mean).statistic), int(used.sum())


def input_decay_check(
    analysis: DistanceAnalysis, max_rho: float = MAX_RHO, min_pairs: int = MIN_BIN_PAIRS
) -> Check:
    """Stiffness decays with input-space distance (:data:`DISTANCE_QUOTES` ``"decay"``), read on the dot-product
    distance of Eq. 9 (the paper's main one): Spearman's ρ between the distance ``1 − cos`` and the mean stiffness
    of the distance bins with at least ``min_pairs`` pairs. Holds at ρ ≤ ``max_rho``, contradicted at ρ ≥
    ``−max_rho`` (stiffness grows with distance), undecided in between or with fewer than three such bins. The
    other reading, the Euclidean distance between the standardised inputs, is shown in the evidence when the
    analysis has it."""
    rho, n_bins = _decay_rho(analysis, INPUT, min_pairs)
    evidence = f"Spearman ρ(1 − cos, mean stiffness) = {rho:+.2f} over {n_bins} bins with ≥ {min_pairs} pairs"
    if EUCLID in analysis.critical:
        other, n_other = _decay_rho(analysis, EUCLID, min_pairs)
        evidence += f"; the other reading, Euclidean distance: ρ = {other:+.2f} over {n_other} bins"
    return Check.decided(DECAY_CLAIM, decide(bool(rho <= max_rho), bool(rho >= -max_rho)), evidence)


def fig09_checks(crossing_checks: Sequence[Check], analysis: DistanceAnalysis) -> list[Check]:
    """Figure 9's parts: the crossing and depth parts of :func:`repro.claims.distance.distance_checks` (given as
    ``crossing_checks``) with :func:`input_decay_check` after the input's crossing."""
    decay = input_decay_check(analysis)
    return [c for c in crossing_checks if c.claim.startswith(f"{INPUT}:")] + [decay] + [
        c for c in crossing_checks if not c.claim.startswith(f"{INPUT}:")
    ]


def fig09_version_checks(checks: Sequence[Check]) -> Mapping[str, list[Check]]:
    """The parts each version of the paper states: v1 all of them (§2.3, §4.3); v3, in the text we hold of it, the
    input space's only — a critical length in the input space (its abstract) and the decay with input-space distance
    (its TL;DR)."""
    v3 = [c for c in checks if c.claim.startswith(f"{INPUT}:")]
    return {"v1": list(checks), "v3": v3}


def fig09_rule() -> str:
    """Figure 9's claim and rule as Markdown: :func:`~repro.claims.distance.distance_rule` with the paper's words
    each part checks (:data:`DISTANCE_QUOTES`), the decay part of :func:`input_decay_check`, and which parts each
    version states."""
    q = DISTANCE_QUOTES
    return (
        f"**The paper's words.** (a) {q['crossing']}. (b) {q['deeper']}. (c) {q['decay']}.\n\n"
        + distance_rule()
        + "\n\n"
        + f"**Rule, part (c)** (the later version's words; the first version's \"sharp decline\" too). In the input "
        "space, mean stiffness falls with the dot-product distance: Spearman's rank correlation between the distance "
        f"$1 - \\cos$ and the mean stiffness of the bins with at least {MIN_BIN_PAIRS} pairs ≤ {number(MAX_RHO)} "
        f"*holds*, ≥ {number(-MAX_RHO, sign=True)} is *contradicted* (stiffness grows with distance), in between — or "
        f"fewer than {count_word(MIN_RANKED)} such bins — *undecided*. The paper does not say which input-space "
        "distance it means; the Euclidean distance between the standardised inputs, the other reasonable reading, "
        "is shown in the evidence. The first version states every part; the text we hold of the later one states "
        "the input space's: its crossing (a \"dynamical critical length\") and (c). The claims page tallies each "
        "version by the verdict on its own parts."
    )


def harmonics_prompt() -> str:
    """The paper's words that prompted the spherical-harmonics chapter (:data:`HARMONICS_QUOTES`), as Markdown."""
    q = HARMONICS_QUOTES
    return (
        "**What in the paper prompted the question.** The first version names spherical harmonics among its data — "
        f"{q['synthetic']} — and links stiff domains to spectral bias: {q['spectral_bias']} Of the stiff-domain "
        f"size and the function's own length scale it says: {q['length_scale']} The rule below tests the book's "
        "hypothesis, not a statement of the paper."
    )
