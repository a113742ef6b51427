"""The set-up chapter (initialisation): does "no consistent between-class stiffness at initialisation" hold under
each scheme, and which chapters' verdicts depend on the scheme?"""

from __future__ import annotations

import numpy as np
import pandas as pd

from repro.claims.class_membership import NEAR_ZERO

__all__ = ["POSITIVE_SHARE_RANGE", "init_consistency", "init_dependence"]

POSITIVE_SHARE_RANGE = (0.25, 0.75)  # a share of positive between-class cells in here: both signs are common


def init_consistency(table: pd.DataFrame) -> pd.DataFrame:
    """Per model and initialisation scheme of a :func:`repro.experiments.init_study.init_stiffness` table (columns
    ``dataset, arch, init, seed, between, positive_share``): does "no consistent between-class stiffness at
    initialisation" hold across the seeds?

    Rule: it holds when the mean over seeds of between-class sign stiffness is within ±``NEAR_ZERO`` of 0, *or*
    the mean share of positive off-diagonal cells of the class stiffness matrix lies in ``POSITIVE_SHARE_RANGE``
    (between-class cells of both signs are common). A mean far from 0 with most cells of one sign is a consistent
    sign. Columns: dataset, arch, init, seeds, mean between, mean positive share, holds ("yes"/"no").
    """
    grouped = table.groupby(["dataset", "arch", "init"], sort=False)
    out = grouped.agg(
        seeds=("seed", "size"), mean_between=("between", "mean"), mean_share=("positive_share", "mean")
    ).reset_index()
    low, high = POSITIVE_SHARE_RANGE
    holds = (out["mean_between"].abs() <= NEAR_ZERO) | out["mean_share"].between(low, high)
    out["no consistent between-class stiffness"] = np.where(holds, "yes", "no")
    return out.rename(columns={"mean_between": "mean between", "mean_share": "mean positive share"}).round(3)


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
