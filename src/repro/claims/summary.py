"""The book's summary page: what the paper states per chapter, and the table of every chapter's verdict and checks
read back from the results files as typed records (:class:`ChapterRecord`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from repro.claims.verdicts import Check

__all__ = ["PAPER_STATEMENTS", "ChapterRecord", "claims_table", "checks_long_table"]

PAPER_STATEMENTS: dict[str, tuple[str, str]] = {
    # chapter: (where in the paper, what it states)
    "definition": ("Eqs. 2–5", "A small gradient step on example 1 changes the loss on example 2 by −ε g₁·g₂."),
    "fig02": (
        "Figure 2 (v3 Fig. 3)",
        "After the onset of overfitting, within- and between-class stiffness of validation pairs regress to 0.",
    ),
    "fig03": (
        "Figure 3",
        "FC on MNIST: within-class stiffness positive from initialisation, no consistent "
        "between-class stiffness at first, between-class stiffness rising with training.",
    ),
    "fig04": (
        "Figure 4",
        "FC on MNIST with random labels: between-class stiffness goes negative (towards −1); no "
        "positive between-class structure.",
    ),
    "fig05": ("Figure 5", "FC on Fashion-MNIST: the class-membership pattern of Figure 3."),
    "fig06": ("Figure 6", "CNN on CIFAR-10: the class-membership pattern of Figure 3."),
    "fig07": ("Figure 7", "CNN on CIFAR-100 early in training: block structure along the super-classes."),
    "pairs": (
        "v3 Figure 4",
        "CNN on Fashion-MNIST: class structure of stiffness in train–train, train–val and "
        "val–val pairs, sign and cosine.",
    ),
    "fig08": ("Figure 8", "At equal training loss, higher learning rates give higher between-class stiffness."),
    "fig09": (
        "Figure 9",
        "Stiffness falls with distance and crosses zero in the input and every layer; deeper "
        "layers have smaller stiff domains.",
    ),
    "fig10": ("Figure 10", "Stiff domains grow with the learning rate."),
    "critical-length": (
        "v1 Fig. 10 vs v3",
        "v1: stiff domains grow with the learning rate; v3: higher learning rates reduce the critical length ξ.",
    ),
    "spherical-harmonics": (
        "Section 1 (synthetic data)",
        "The book's hypothesis after the paper's link to spectral "
        "bias: stiff domains shrink as the target's frequency grows.",
    ),
}


@dataclass(frozen=True)
class ChapterRecord:
    """What the summary needs of one chapter's results file: its verdict and typed checks, and how it was run."""

    chapter: str
    verdict: str | None
    checks: tuple[Check, ...]
    profile: str = ""
    device: str = ""
    wall_time_s: float | None = None

    @classmethod
    def from_results(cls, payload: Mapping) -> ChapterRecord:
        """Read a results file's content (:func:`repro.book.results.load_results`); its ``checks`` are
        :meth:`Check.as_record` records (files of schema 1 kept them under ``details``)."""
        checks = payload.get("checks", (payload.get("details") or {}).get("checks"))
        return cls(
            chapter=payload["chapter"],
            verdict=payload.get("verdict"),
            checks=tuple(Check.from_record(c) for c in checks or ()),
            profile=payload.get("profile", ""),
            device=payload.get("device", ""),
            wall_time_s=payload.get("wall_time_s"),
        )


def claims_table(records: Sequence[ChapterRecord], chapters: Sequence[str]) -> pd.DataFrame:
    """The book's summary: one row per chapter in ``chapters`` order, from the chapters' records.

    Columns: chapter, paper (figure / equation), the paper's statement, checks held (``k of n`` checks of the claim
    itself; preconditions are not counted), verdict, profile, device, wall time. A chapter without a results file
    (not run yet, or failed) is listed as such.
    """
    by_chapter = {r.chapter: r for r in records}
    rows = []
    for chapter in chapters:
        where, statement = PAPER_STATEMENTS.get(chapter, ("", ""))
        row = {"chapter": chapter, "paper": where, "the paper's statement": statement}
        r = by_chapter.get(chapter)
        if r is None:
            rows.append(
                row
                | {"checks held": "", "verdict": "no results file", "profile": "", "device": "", "wall time (s)": None}
            )
            continue
        evidence = [c for c in r.checks if not c.precondition]
        held = sum(c.passed for c in evidence)
        rows.append(
            row
            | {
                "checks held": f"{held} of {len(evidence)}" if evidence else "",
                "verdict": r.verdict or "",
                "profile": r.profile,
                "device": r.device,
                "wall time (s)": None if r.wall_time_s is None else round(float(r.wall_time_s)),
            }
        )
    return pd.DataFrame(rows)


def checks_long_table(records: Sequence[ChapterRecord], chapters: Sequence[str]) -> pd.DataFrame:
    """Every check of every chapter with its evidence (our numbers with their intervals), in ``chapters`` order."""
    by_chapter = {r.chapter: r for r in records}
    rows = [
        {
            "chapter": chapter,
            "check": ("precondition: " if c.precondition else "") + c.claim,
            "holds": "yes" if c.passed else "no",
            "our numbers": c.evidence,
        }
        for chapter in chapters
        for c in (by_chapter[chapter].checks if chapter in by_chapter else ())
    ]
    return pd.DataFrame(rows, columns=["chapter", "check", "holds", "our numbers"])
