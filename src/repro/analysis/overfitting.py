"""Readings of Figure 2's runs (one :class:`~repro.experiments.class_stiffness.ClassStiffnessRun` per seed, trained
past the onset of overfitting): what the training subset was, where stiffness peaks and ends across the seeds, how
textbook float32 gradients end, the precision checks, and the headline numbers and regression lines of the chapter.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from repro.analysis.class_stiffness import describe_precision
from repro.claims.class_membership import NEAR_ZERO
from repro.claims.verdicts import Check
from repro.experiments.class_stiffness import ClassStiffnessRun
from repro.experiments.history import numerics_column, stiffness_column

__all__ = [
    "WITHIN",
    "BETWEEN",
    "subset_note",
    "labelled_per_seed",
    "stiffness_ends",
    "end_of_training_sentence",
    "textbook_ends_sentence",
    "precision_sentences",
    "seeds_headline",
    "seeds_summary",
]

WITHIN, BETWEEN = stiffness_column("within"), stiffness_column("between")
TEXTBOOK32, TEXTBOOK64 = (stiffness_column("within", numerics=n) for n in ("textbook32", "textbook64"))
ZERO32, FLIP32 = numerics_column("textbook32", "zero"), numerics_column("textbook32", "flip")


def subset_note(runs: Sequence[ClassStiffnessRun]) -> str:
    """Markdown: whether the runs trained on a subset of the training split (to overfit within the budget)."""
    if runs[0].config.n_train is None:
        return "This run trains on the whole training split."
    return (
        f"**This run trains on a {runs[0].n_train:,}-image subset** of the training split to make overfitting happen "
        "within the quick profile's budget."
    )


def labelled_per_seed(checks_per_seed: Sequence[Sequence[Check]], seeds: Sequence[int]) -> list[Check]:
    """Every seed's checks in one list, each labelled with its seed (for one table)."""
    return [c.labelled(f"seed {s}") for s, checks in zip(seeds, checks_per_seed, strict=True) for c in checks]


def stiffness_ends(runs: Sequence[ClassStiffnessRun]) -> dict[str, np.ndarray]:
    """Per seed ``(n_seeds,)``: within- and between-class sign stiffness at the last evaluation point
    (``end_within``, ``end_between``) and the highest within-class value (``peak_within``)."""
    return {
        "end_within": np.array([r.history[WITHIN].iloc[-1] for r in runs]),
        "end_between": np.array([r.history[BETWEEN].iloc[-1] for r in runs]),
        "peak_within": np.array([r.history[WITHIN].max() for r in runs]),
    }


def end_of_training_sentence(runs: Sequence[ClassStiffnessRun]) -> str:
    """Markdown: where within-class stiffness peaks, where within and between end, and their spread over seeds."""
    ends = stiffness_ends(runs)
    end_within, end_between = ends["end_within"], ends["end_between"]
    spread = (
        f" Across the {len(runs)} seeds, within-class stiffness at the end is {end_within.mean():+.3f} ± "
        f"{end_within.std(ddof=1):.3f} and between-class {end_between.mean():+.3f} ± {end_between.std(ddof=1):.3f} "
        "(mean ± standard deviation)."
        if len(runs) > 1
        else " (One seed in this profile; the paper profile runs three and reports their spread.)"
    )
    return (
        f"Within-class sign stiffness peaks at {ends['peak_within'].max():+.2f} and ends at "
        + ", ".join(f"{v:+.2f}" for v in end_within)
        + "; between-class stiffness ends at "
        + ", ".join(f"{v:+.2f}" for v in end_between)
        + "."
        + spread
    )


def textbook_ends_sentence(runs: Sequence[ClassStiffnessRun], seeds: Sequence[int], collapse: str) -> str:
    """Markdown: the finding (a fall with textbook float32 numerics: ``collapse``), whether the fall reaches the
    paper's collapse to 0 (within ±``NEAR_ZERO`` at the end, in every seed), then per seed the within-class stiffness
    at the end from exact gradients and from textbook float32 and float64 gradients, with the share of float32 signs
    that are 0 or flipped (the plausible cause of the fall)."""
    ends32 = [float(r.history[TEXTBOOK32].iloc[-1]) for r in runs]
    full = all(abs(v) <= NEAR_ZERO for v in ends32)
    reach = (
        f"it reaches the paper's collapse (every seed ends within ±{NEAR_ZERO:g} of 0)"
        if full
        else f"a partial fall at most: not every seed ends within ±{NEAR_ZERO:g} of 0, so not the paper's "
        "full collapse"
    )
    ends = "; ".join(
        f"seed {s}: exact {r.history[WITHIN].iloc[-1]:+.2f}, float32 textbook {r.history[TEXTBOOK32].iloc[-1]:+.2f}, "
        f"float64 textbook {r.history[TEXTBOOK64].iloc[-1]:+.2f} ({100 * r.history[ZERO32].iloc[-1]:.1f}% of float32 "
        f"signs exactly 0, {100 * r.history[FLIP32].iloc[-1]:.1f}% flipped)"
        for s, r in zip(seeds, runs, strict=True)
    )
    return (
        f"**A fall of within-class stiffness with textbook float32 numerics: {collapse}** — {reach}. Within-class "
        f"sign stiffness at the end of training — {ends}. Signs that float32 rounding sets to 0 or flips are a "
        "plausible cause of the fall — the float64 textbook values are the same gradients without that rounding — "
        "not a shown one: the paper does not say how it computed its gradients."
    )


def precision_sentences(runs: Sequence[ClassStiffnessRun], seeds: Sequence[int]) -> str:
    """Markdown: each seed's precision check of its final Gram (or that training diverged)."""
    return "  \n".join(
        f"Seed {s}: " + (describe_precision(run.precision) if run.precision else "training diverged; nothing to check.")
        for s, run in zip(seeds, runs, strict=True)
    )


def seeds_headline(
    runs: Sequence[ClassStiffnessRun], seeds: Sequence[int], onsets: Sequence[int | None], collapse: str
) -> dict[str, object]:
    """The chapter's headline numbers for its results file."""
    ends = stiffness_ends(runs)
    return {
        "onsets": list(onsets),
        "end_within": ends["end_within"].tolist(),
        "end_between": ends["end_between"].tolist(),
        "peak_within": ends["peak_within"].tolist(),
        "seeds": list(seeds),
        "textbook32_collapse": collapse,
        "end_within_textbook32": [r.history[TEXTBOOK32].iloc[-1] for r in runs],
    }


def seeds_summary(
    runs: Sequence[ClassStiffnessRun], seeds: Sequence[int], onsets: Sequence[int | None], collapse: str
) -> list[str]:
    """The rounded lines the chapter's regression cell prints."""
    ends = stiffness_ends(runs)
    return [
        *(
            f"seed {s}: overfits {onset is not None}; end within {w:+.1f}, between {b:+.1f}"
            for s, onset, w, b in zip(seeds, onsets, ends["end_within"], ends["end_between"], strict=True)
        ),
        f"fall with textbook float32 numerics: {collapse}",
    ]
