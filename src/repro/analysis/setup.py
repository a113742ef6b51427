"""Readings of the ``setup`` chapter's measurements: the untrained networks of
:func:`repro.experiments.init_study.init_stiffness` summarised per model and scheme, and the compared chapters'
verdicts under each scheme (from :func:`repro.experiments.init_study.runs_by_init`), as tables, Markdown and the
results file's numbers."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from repro import claims
from repro.analysis.class_stiffness import headline as run_headline
from repro.analysis.class_stiffness import run_details
from repro.claims.verdicts import Check
from repro.experiments.class_stiffness import ClassStiffnessRun
from repro.experiments.configs import SetupConfig

__all__ = [
    "init_summary",
    "networks_text",
    "output_statistics_text",
    "consistency_text",
    "verdicts_by_init",
    "verdict_labels",
    "headline",
    "details",
    "summary_lines",
]

Runs = Mapping[str, Mapping[str, ClassStiffnessRun]]  # runs[chapter][init]
ChecksByInit = Mapping[str, Mapping[str, list[Check]]]  # checks[chapter][init]


def init_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, arch, init) of an :func:`~repro.experiments.init_study.init_stiffness` table, in its order: the
    number of seeds, the mean, smallest and largest between-class sign stiffness, the mean within-class sign
    stiffness, the mean share of positive off-diagonal cells, and the means of the output statistics (logit spread,
    largest softmax probability, top-class share), rounded to 3 decimals."""
    grouped = table.groupby(["dataset", "arch", "init"], sort=False)
    out = grouped.agg(
        **{
            "seeds": ("seed", "size"),
            "between (mean)": ("between", "mean"),
            "between (min)": ("between", "min"),
            "between (max)": ("between", "max"),
            "within (mean)": ("within", "mean"),
            "positive share (mean)": ("positive_share", "mean"),
            "logit spread (mean)": ("logit_spread", "mean"),
            "largest probability (mean)": ("max_prob", "mean"),
            "top-class share (mean)": ("top_class_share", "mean"),
        }
    )
    return out.round(3).reset_index()


def networks_text(table: pd.DataFrame, cfg: SetupConfig, seed: int) -> str:
    """Markdown: how many untrained networks ``table`` holds, of which models, schemes and seeds, measured on how
    many images with how many bootstrap replicates."""
    return (
        f"{len(table)} untrained networks: {len(cfg.models)} models × {len(cfg.inits)} schemes × {cfg.n_seeds} seeds "
        f"(seeds {seed}–{seed + cfg.n_seeds - 1}). Every network of a model is measured on the same "
        f"{cfg.n_stiffness} class-balanced test images; intervals from {cfg.n_boot} bootstrap replicates over images."
    )


def _by_model(summary: pd.DataFrame) -> pd.DataFrame:
    return summary.set_index(["dataset", "arch", "init"])


def output_statistics_text(summary: pd.DataFrame, cfg: SetupConfig) -> str:
    """Markdown, one item per model of ``cfg.models``: the logit spread, largest softmax probability and
    between-class sign stiffness under each scheme of ``cfg.inits`` (means over seeds, from :func:`init_summary`)."""
    by_model = _by_model(summary)

    def values(d: str, a: str, column: str, fmt: str) -> str:
        return ", ".join(f"{i} {by_model.loc[(d, a, i), column]:{fmt}}" for i in cfg.inits)

    return "The output statistics behind the hypothesis, per model (mean over seeds):\n\n" + "\n".join(
        f"- **{d}, {a}**: logit spread {values(d, a, 'logit spread (mean)', '.3f')}; largest softmax probability "
        f"{values(d, a, 'largest probability (mean)', '.3f')}; between-class sign stiffness "
        f"{values(d, a, 'between (mean)', '+.2f')}."
        for d, a in cfg.models
    )


def consistency_text(consistency: pd.DataFrame) -> str:
    """Markdown: under each reading of :func:`repro.claims.init_consistency`, the models and schemes for which the
    paper's statement about the untrained network holds, and those for which it fails."""
    names = consistency["dataset"] + "/" + consistency["arch"] + " under " + consistency["init"]
    lines = []
    for reading in ("not consistently positive", "close to zero or mixed"):
        holds = consistency[reading] == "yes"
        lines.append(
            f"- *{reading}*: holds for {', '.join(names[holds]) or 'none'}; fails for "
            f"{', '.join(names[~holds]) or 'none'}."
        )
    return '"No consistent between-class stiffness at initialisation", by reading:\n\n' + "\n".join(lines)


def verdicts_by_init(checks: ChecksByInit) -> dict[str, dict[str, str]]:
    """The verdict (:func:`repro.claims.verdict`) of each chapter's checks under each scheme."""
    return {name: {init: claims.verdict(c) for init, c in by_init.items()} for name, by_init in checks.items()}


def verdict_labels(checks: ChecksByInit) -> dict[str, dict[str, str]]:
    """``"partly reproduced (2 hold, 1 contradicted, 1 undecided)"`` per chapter and scheme, for the runs table."""
    return {
        name: {init: f"{claims.verdict(cs)} ({claims.describe_parts(cs)})" for init, cs in by_init.items()}
        for name, by_init in checks.items()
    }


def headline(summary: pd.DataFrame, checks: ChecksByInit) -> dict[str, float | str]:
    """The results file's headline: the mean between-class sign stiffness at initialisation per model and scheme
    (rounded as in :func:`init_summary`), and each compared chapter's verdict under each scheme."""
    between = {f"{d}/{a} {i} between mean": float(v) for (d, a, i), v in _by_model(summary)["between (mean)"].items()}
    verdicts = verdicts_by_init(checks)
    return between | {f"{name} verdict under {i}": v for name, by_init in verdicts.items() for i, v in by_init.items()}


def details(table: pd.DataFrame, consistency: pd.DataFrame, checks: ChecksByInit, runs: Runs) -> dict[str, object]:
    """The results file's details: every untrained network's row, the consistency table, the verdicts, the checks
    and each compared run's details and headline, per chapter and scheme."""
    return {
        "networks": table.to_dict(orient="records"),
        "consistency": consistency.to_dict(orient="records"),
        "verdicts": verdicts_by_init(checks),
        "checks_by_init": {name: {i: [c.as_record() for c in cs] for i, cs in by_init.items()}
                           for name, by_init in checks.items()},
        "runs": {name: {i: run_details(run) | run_headline(run) for i, run in by_init.items()}
                 for name, by_init in runs.items()},
    }  # fmt: skip


def summary_lines(summary: pd.DataFrame, checks: ChecksByInit) -> list[str]:
    """The lines the chapter prints for nbval: the between-class stiffness at initialisation per model and scheme
    (one decimal), then each compared chapter's verdict under each scheme."""
    return [
        *(f"{d}/{a} {i}: between at init {round(float(v), 1) + 0.0:+.1f}"
          for (d, a, i), v in _by_model(summary)["between (mean)"].items()),
        *(f"{name}: " + ", ".join(f"{init} {v}" for init, v in by_init.items())
          for name, by_init in verdicts_by_init(checks).items()),
    ]  # fmt: skip
