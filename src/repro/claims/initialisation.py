"""The set-up chapter (initialisation): does "no consistent between-class stiffness at initialisation" hold under
each scheme (:func:`init_consistency`, its rule in words :func:`init_consistency_rule`), and which chapters'
verdicts depend on the scheme (:data:`COMPARED_CHECKS`, :func:`checks_by_init`, :func:`init_dependence`)?"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from repro.claims.class_membership import NEAR_ZERO, QUOTES, class_membership_checks
from repro.claims.random_labels import random_label_checks
from repro.claims.verdicts import Check
from repro.experiments.class_stiffness import ClassStiffnessRun

__all__ = [
    "POSITIVE_SHARE_RANGE",
    "COMPARED_CHECKS",
    "init_consistency",
    "init_consistency_rule",
    "checks_by_init",
    "init_dependence",
]

POSITIVE_SHARE_RANGE = (0.25, 0.75)  # a share of positive between-class cells in here: both signs are common

# The chapters whose verdicts the set-up chapter re-derives under each scheme, and the checks each applies to a run.
COMPARED_CHECKS = {"fig03": class_membership_checks, "fig04": random_label_checks}


def init_consistency(table: pd.DataFrame) -> pd.DataFrame:
    """Per model and initialisation scheme of a :func:`repro.experiments.init_study.init_stiffness` table (columns
    ``dataset, arch, init, seed, between, positive_share``): does "no consistent between-class stiffness at
    initialisation" hold across the seeds, under each of the two readings the class-membership chapters show?

    - *not consistently positive* (the chapters' reading, :func:`repro.claims.class_membership_checks`): holds
      unless every seed's between-class sign stiffness is above 0;
    - *close to zero or mixed* (the other reading): holds when the mean over seeds is within ±``NEAR_ZERO`` of 0,
      *or* the mean share of positive off-diagonal cells lies in ``POSITIVE_SHARE_RANGE`` (cells of both signs are
      common); a mean far from 0 with most cells of one sign is a consistent sign.

    Columns: dataset, arch, init, seeds, mean between, mean positive share, and one "yes"/"no" column per reading.
    """
    grouped = table.groupby(["dataset", "arch", "init"], sort=False)
    out = grouped.agg(
        seeds=("seed", "size"), mean_between=("between", "mean"), min_between=("between", "min"),
        mean_share=("positive_share", "mean"),
    ).reset_index()  # fmt: skip
    low, high = POSITIVE_SHARE_RANGE
    near = (out["mean_between"].abs() <= NEAR_ZERO) | out["mean_share"].between(low, high)
    out["not consistently positive"] = np.where(out["min_between"] <= 0.0, "yes", "no")
    out["close to zero or mixed"] = np.where(near, "yes", "no")
    out = out.drop(columns="min_between")
    return out.rename(columns={"mean_between": "mean between", "mean_share": "mean positive share"}).round(3)


def init_consistency_rule() -> str:
    """The rule :func:`init_consistency` applies, as Markdown, with the paper's words it reads
    (:data:`~repro.claims.QUOTES`), :data:`~repro.claims.NEAR_ZERO` and :data:`POSITIVE_SHARE_RANGE`."""
    low, high = POSITIVE_SHARE_RANGE
    return (
        '**Is there "no consistent between-class stiffness" at initialisation?** The paper: '
        f"{QUOTES['between_init']} Two readings, per model and scheme over the seeds. *Not consistently positive* "
        "(the class-membership chapters' reading: the paper calls "
        "positive alignment stiffness): holds unless every seed's between-class sign stiffness is above 0. *Close "
        f"to zero or mixed* (the other reasonable reading): holds when the mean is within ±{NEAR_ZERO:g} of zero, "
        f"*or* when the mean share of positive off-diagonal cells lies between {low:.0%} and {high:.0%} (cells of "
        "both signs are common); a mean far from 0 with most cells of one sign is a consistent sign."
    )


def checks_by_init(runs: Mapping[str, Mapping[str, ClassStiffnessRun]]) -> dict[str, dict[str, list[Check]]]:
    """Each chapter's checks (:data:`COMPARED_CHECKS`) on its run under each scheme: ``runs[chapter][init]`` →
    ``checks[chapter][init]``. ValueError for a chapter without checks here."""
    unknown = [name for name in runs if name not in COMPARED_CHECKS]
    if unknown:
        raise ValueError(f"no checks for chapter(s) {unknown}; known: {list(COMPARED_CHECKS)}")
    return {
        name: {init: COMPARED_CHECKS[name](run.snapshots) for init, run in by_init.items()}
        for name, by_init in runs.items()
    }


def init_dependence(verdicts: dict[str, dict[str, str]]) -> tuple[pd.DataFrame, str]:
    """Which chapters' verdicts change with the initialisation: ``verdicts[chapter][init]`` → a table (one row per
    chapter, one column per scheme) and a Markdown paragraph naming the chapters whose verdict differs between
    schemes and those whose verdict is the same under every scheme."""
    table = pd.DataFrame.from_dict(verdicts, orient="index")
    table.index.name = "chapter"
    varies = [ch for ch, by_init in verdicts.items() if len(set(by_init.values())) > 1]
    same = [ch for ch in verdicts if ch not in varies]
    lines = []
    for ch in varies:
        by_verdict: dict[str, list[str]] = {}
        for init, v in verdicts[ch].items():
            by_verdict.setdefault(v, []).append(init)
        readings = "; ".join(f"*{v}* under {' and '.join(inits)}" for v, inits in by_verdict.items())
        lines.append(f"- **{ch}** depends on the initialisation: {readings}.")
    for ch in same:
        only = next(iter(verdicts[ch].values()), "")
        lines.append(f"- **{ch}** does not depend on it: *{only}* under every scheme.")
    head = (
        f"Verdicts that depend on the initialisation: {', '.join(varies) or 'none'}; "
        f"that do not: {', '.join(same) or 'none'}."
    )
    return table, "\n".join([head, "", *lines])
