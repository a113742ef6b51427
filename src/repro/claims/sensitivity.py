"""The claims page's table of how much the verdicts depend on the named thresholds, read from the file the
sensitivity run writes (``python -m repro.runner sensitivity``, :mod:`repro.runner.sensitivity`;
``<results>/<profile>/_sensitivity.json``): per threshold, what it decides, its default, and the verdicts (and
findings in words) that move when it is halved and when it is doubled.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

__all__ = [
    "SENSITIVITY_FILE",
    "SENSITIVITY_COMMAND",
    "NOT_COVERED",
    "load_sensitivity",
    "sensitivity_table",
    "sensitivity_missing",
    "not_computed",
]

SENSITIVITY_FILE = "_sensitivity.json"
SENSITIVITY_COMMAND = "python -m repro.runner sensitivity --profile {profile} --build-dir _build"
_FACTOR_NAMES = {0.5: "halved", 2.0: "doubled"}

NOT_COVERED = (
    "**Not in this table.** The distance bins (`n_bins`, 20 by default) and the least number of pairs a bin needs "
    "(10) are not thresholds of the verdict code but settings the learning-rate sweep measured with: its stored "
    "stiffness-against-distance matrices (`_build/results/cache/`) were binned with them, and changing them re-bins "
    "those matrices — a new analysis of the sweep, not a re-reading of its stored results, so not part of this table. "
    "Two thresholds written as powers of ten in their rule (`MAX_RELATIVE_ERROR`, `MAX_GRAM_GAP`) move a decade "
    "down and up instead of halving and doubling; each cell gives the value tried. "
    "Also left out: whole-number minimums (three ranked values for a rank correlation, three resolved degrees), which "
    "halving or doubling does not vary meaningfully; the set-up chapter's band of positive shares, which decides a "
    "reading shown beside the verdicts; the definition chapter's flat rounding floor (`FLAT_FLOOR`), an estimate of "
    "float64 rounding rather than a choice; and the rule that a learning-rate stop counts only when its network is at "
    "least halfway from chance to perfect accuracy, a formula rather than a named constant."
)


def sensitivity_missing(profile: str, where: str) -> str:
    """Markdown for a run without a sensitivity file: not computed, and the command that computes it."""
    return (
        f"Not computed for this run (no `{SENSITIVITY_FILE}` in `{where}`). It is computed from the stored "
        f"measurements, without training: `{SENSITIVITY_COMMAND.format(profile=profile)}` "
        f"(`make sensitivity PROFILE={profile}`), then this page is executed again."
    )


def load_sensitivity(path: str | os.PathLike) -> dict | None:
    """The sensitivity file at ``path``, or None when there is none."""
    path = Path(path)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _factor_name(factor: float) -> str:
    return _FACTOR_NAMES.get(float(factor), f"× {factor:g}")


def _moved(chapter: str, result: Mapping) -> list[str]:
    """``fig02: not reproduced → partly reproduced``; a finding in words is named: ``fig02 (textbook32_collapse):
    yes → no``."""
    return [
        f"{chapter}{'' if key == 'verdict' else f' ({key})'}: {before} → {after}"
        for key, (before, after) in result["moved"].items()
    ]


def _cell(run: Mapping) -> str:
    """What moved at one changed value: the moves, ``none`` when none moved, and the chapters not computed."""
    results = run["chapters"]
    moves = [line for ch, r in results.items() if r["computed"] for line in _moved(ch, r)]
    missing = [ch for ch, r in results.items() if not r["computed"]]
    text = "; ".join(moves) if moves else ("none" if len(missing) < len(results) else "")
    if missing:
        text += f"{' (' if text else ''}not computed: {', '.join(missing)}{')' if text else ''}"
    return f"{run['value']:g}: {text}"


def sensitivity_table(data: Mapping) -> pd.DataFrame:
    """One row per threshold of a sensitivity file: ``threshold``, ``decides``, ``default`` and one column per
    factor (``halved``, ``doubled``, or ``× f``) with the value used and the verdicts that moved
    (``0.2: fig02: not reproduced → partly reproduced``), ``none`` when none moved, and the chapters that could not
    be computed from stored measurements."""
    rows = []
    for name, entry in data["thresholds"].items():
        row = {"threshold": name, "decides": entry["decides"], "default": f"{entry['default']:g}"}
        row |= {_factor_name(run["factor"]): _cell(run) for run in entry["runs"]}
        rows.append(row)
    return pd.DataFrame(rows)


def not_computed(data: Mapping) -> list[str]:
    """One line per chapter a sensitivity file could not compute: ``NEAR_ZERO × 2, fig05: <reason>``."""
    return [
        f"{name} × {run['factor']:g}, {ch}: {r['reason']}"
        for name, entry in data["thresholds"].items()
        for run in entry["runs"]
        for ch, r in run["chapters"].items()
        if not r["computed"]
    ]
