"""The book's summary page: what the paper states per chapter (and which version states it), the questions the book
adds of its own, and the tables of every chapter's verdict and checks read back from the results files as typed
records (:class:`ChapterRecord`). The tally counts the paper's claims only, per version of the paper."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from repro.claims.verdicts import VERDICTS, Check, describe_parts, shown_outcome

__all__ = [
    "PAPER_STATEMENTS",
    "BOOK_QUESTIONS",
    "PAPER_VERSIONS",
    "VERSIONS",
    "NO_RESULTS",
    "ChapterRecord",
    "claims_table",
    "questions_table",
    "tally",
    "checks_long_table",
    "findings_table",
]

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
        "positive between-class structure; stiffness between examples (within-class too) disappears.",
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
        "Figure 9 (v3: abstract, TL;DR)",
        "Stiffness falls with distance and crosses zero in the input and every layer; deeper "
        "layers have smaller stiff domains. v3: stiffness decays with input-space distance.",
    ),
    "fig10": ("Figure 10", "Stiff domains grow with the learning rate."),
    "critical-length": (
        "v1 Fig. 10 vs v3",
        "v1: stiff domains grow with the learning rate; v3: higher learning rates reduce the critical length ξ.",
    ),
}

BOOK_QUESTIONS: dict[str, tuple[str, str]] = {
    # chapter: (what in the paper prompted it, the book's own question) — not a claim of the paper, not tallied
    "spherical-harmonics": (
        "Section 1 (synthetic data)",
        "The book's hypothesis after the paper's link to spectral "
        "bias: stiff domains shrink as the target's frequency grows.",
    ),
}

VERSIONS = ("v1", "v3")  # the paper's first version and its later one (arXiv 1901.09491v1 and v3)

PAPER_VERSIONS: dict[str, tuple[str, ...]] = {
    # which versions state the chapter's claim: v1 for every figure of the first version; v3 where the text we hold of
    # the later version (abstract, TL;DR, captions of its Figures 1–5) states it
    "definition": ("v1", "v3"),
    "fig02": ("v1", "v3"),
    "fig03": ("v1",),
    "fig04": ("v1",),
    "fig05": ("v1",),
    "fig06": ("v1",),
    "fig07": ("v1", "v3"),
    "pairs": ("v3",),
    "fig08": ("v1",),
    "fig09": ("v1", "v3"),
    "fig10": ("v1",),
    "critical-length": ("v1", "v3"),
}

NO_RESULTS = "no results file"


@dataclass(frozen=True)
class ChapterRecord:
    """What the summary needs of one chapter's results file: its verdict and typed checks, how it was run, and the
    verdicts it gave each version of the paper apart (``version_verdicts``, from headline entries
    ``"<version>_verdict"``; empty for a chapter that judges one claim for every version)."""

    chapter: str
    verdict: str | None
    checks: tuple[Check, ...]
    profile: str = ""
    device: str = ""
    wall_time_s: float | None = None
    version_verdicts: Mapping[str, str] = field(default_factory=dict)
    note: str = ""  # what the chapter said beside its verdict

    @classmethod
    def from_results(cls, payload: Mapping) -> ChapterRecord:
        """Read a results file's content (:func:`repro.book.results.load_results`); its ``checks`` are
        :meth:`Check.as_record` records (files of schema 1 kept them under ``details``)."""
        checks = payload.get("checks", (payload.get("details") or {}).get("checks"))
        headline = payload.get("headline") or {}
        return cls(
            chapter=payload["chapter"],
            verdict=payload.get("verdict"),
            checks=tuple(Check.from_record(c) for c in checks or ()),
            profile=payload.get("profile", ""),
            device=payload.get("device", ""),
            wall_time_s=payload.get("wall_time_s"),
            version_verdicts={v: str(headline[f"{v}_verdict"]) for v in VERSIONS if headline.get(f"{v}_verdict")},
            note=str((payload.get("details") or {}).get("verdict_note", "")),
        )

    def verdict_for(self, version: str) -> str | None:
        """The verdict on the claim as ``version`` of the paper states it: the chapter's own verdict for that version
        where it judged versions apart, else the chapter's verdict."""
        return self.version_verdicts.get(version, self.verdict)


def _rows(
    records: Sequence[ChapterRecord],
    chapters: Sequence[str],
    statements: Mapping[str, tuple[str, str]],
    columns: tuple[str, str],
    with_versions: bool,
) -> pd.DataFrame:
    """One row per chapter: ``columns`` names the two statement columns; ``with_versions`` adds the versions."""
    by_chapter = {r.chapter: r for r in records}
    rows = []
    for chapter in chapters:
        where, statement = statements.get(chapter, ("", ""))
        row = {"chapter": chapter, columns[0]: where, columns[1]: statement}
        r = by_chapter.get(chapter)
        if with_versions:
            judged = r.version_verdicts if r is not None else {}
            row["versions"] = ", ".join(
                f"{v}: {judged[v]}" if v in judged else v for v in PAPER_VERSIONS.get(chapter, ())
            )
        if r is None:
            rows.append(row | {"parts": "", "verdict": NO_RESULTS, "profile": "", "device": "", "wall time (s)": None})
            continue
        rows.append(
            row
            | {
                "parts": describe_parts(r.checks),
                "verdict": r.verdict or "",
                "profile": r.profile,
                "device": r.device,
                "wall time (s)": None if r.wall_time_s is None else round(float(r.wall_time_s)),
            }
        )
    return pd.DataFrame(rows)


def claims_table(records: Sequence[ChapterRecord], chapters: Sequence[str]) -> pd.DataFrame:
    """The paper's claims: one row per chapter of ``chapters`` (in that order) that is not one of the book's own
    questions (:data:`BOOK_QUESTIONS`), from the chapters' records.

    Columns: chapter, paper (figure / equation), the paper's statement, versions (the versions of the paper stating
    it, each with its own verdict where the chapter judged them apart), parts (how many of the claim's parts hold,
    are contradicted, are undecided; preconditions are not counted), verdict, profile, device, wall time. A chapter
    without a results file (not run yet, or failed) is listed as such.
    """
    paper = [c for c in chapters if c not in BOOK_QUESTIONS]
    return _rows(records, paper, PAPER_STATEMENTS, ("paper", "the paper's statement"), with_versions=True)


def questions_table(records: Sequence[ChapterRecord], chapters: Sequence[str]) -> pd.DataFrame:
    """The questions this book adds (:data:`BOOK_QUESTIONS`) among ``chapters``: the columns of :func:`claims_table`
    without versions, with what in the paper prompted the question and the question itself."""
    ours = [c for c in chapters if c in BOOK_QUESTIONS]
    return _rows(records, ours, BOOK_QUESTIONS, ("prompted by", "the book's question"), with_versions=False)


def tally(records: Sequence[ChapterRecord], chapters: Sequence[str]) -> pd.DataFrame:
    """How many of the paper's claims among ``chapters`` received each verdict, per version of the paper.

    One row per version (:data:`VERSIONS`); columns ``claims`` (chapters whose claim that version states,
    :data:`PAPER_VERSIONS`), one per verdict (:data:`~repro.claims.verdicts.VERDICTS`; a chapter that judged the
    versions apart counts its verdict for each) and ``no results file``. The book's own questions
    (:data:`BOOK_QUESTIONS`) are not counted.
    """
    by_chapter = {r.chapter: r for r in records}
    rows = []
    for version in VERSIONS:
        stated = [c for c in chapters if c not in BOOK_QUESTIONS and version in PAPER_VERSIONS.get(c, ())]
        found = [by_chapter[c].verdict_for(version) if c in by_chapter else NO_RESULTS for c in stated]
        rows.append({"version": version, "claims": len(stated)} | {v: found.count(v) for v in (*VERDICTS, NO_RESULTS)})
    return pd.DataFrame(rows)


def checks_long_table(records: Sequence[ChapterRecord], chapters: Sequence[str]) -> pd.DataFrame:
    """Every check of every chapter with its outcome and evidence (our numbers with their intervals), in
    ``chapters`` order."""
    by_chapter = {r.chapter: r for r in records}
    rows = [
        {
            "chapter": chapter,
            "check": ("precondition: " if c.precondition else "") + c.claim,
            "outcome": shown_outcome(c),
            "our numbers": c.evidence,
        }
        for chapter in chapters
        for c in (by_chapter[chapter].checks if chapter in by_chapter else ())
    ]
    return pd.DataFrame(rows, columns=["chapter", "check", "outcome", "our numbers"])


def _verdict_with_parts(record: ChapterRecord | None, version: str) -> str:
    """``"supported (7 hold, 0 contradicted, 5 undecided)"`` for ``version``; the parts are the chapter's (a chapter
    judging versions apart counts them together); ``"no results file"`` without a record."""
    if record is None:
        return NO_RESULTS
    parts = describe_parts(record.checks)
    return f"{record.verdict_for(version)}{f' ({parts})' if parts else ''}"


def findings_table(
    records: Sequence[ChapterRecord], compared: Sequence[ChapterRecord], chapters: Sequence[str], compared_name: str
) -> pd.DataFrame:
    """The findings, one row per paper claim and version stating it (the book's own questions left out): where in
    the paper and what it says (:data:`PAPER_STATEMENTS`), the verdict of ``records`` with the counts of its parts,
    the parts that did not hold (contradicted ones named, undecided ones counted), what the chapter said beside its
    verdict (what in the set-up could produce it, where the chapter says so), and the verdict of ``compared`` (the
    other profile's results files, column ``verdict, <compared_name>``) for the same claim."""
    mine, theirs = ({r.chapter: r for r in rs} for rs in (records, compared))
    rows = []
    for chapter in (c for c in chapters if c not in BOOK_QUESTIONS):
        where, statement = PAPER_STATEMENTS.get(chapter, ("", ""))
        r = mine.get(chapter)
        parts = [c for c in (r.checks if r else ()) if not c.precondition]
        contradicted = [c.claim for c in parts if c.outcome == "contradicted"]
        undecided = sum(c.outcome == "undecided" for c in parts)
        checks = r.checks if r else ()
        failed = [f"precondition not met: {c.claim}" for c in checks if c.precondition and not c.passed]
        not_holding = failed + [f"contradicted: {c}" for c in contradicted]
        not_holding += [f"{undecided} undecided"] * bool(undecided)
        for version in PAPER_VERSIONS.get(chapter, ()):
            rows.append(
                {
                    "claim": f"{chapter} ({version})",
                    "paper": where,
                    "the paper's statement": statement,
                    "verdict": _verdict_with_parts(r, version),
                    "what did not hold": "; ".join(not_holding) or "—",
                    "the chapter's note": (r.note if r else "") or "—",
                    f"verdict, {compared_name}": _verdict_with_parts(theirs.get(chapter), version),
                }
            )
    return pd.DataFrame(rows)
