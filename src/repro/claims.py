"""The paper's claims, one function per claim, each turned into checks on measured numbers (:mod:`repro.verdicts`).

A chapter calls the function for its figure, shows the checks table and the verdict, and states the rule in its
text; the thresholds live here, once, so that chapters sharing a claim (Figures 3, 5 and 6) share its test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from repro.experiments import StiffnessSnapshot
from repro.stiffness import HierarchyContrast
from repro.sweeps import EUCLID, DistanceAnalysis
from repro.verdicts import Check, check_above, check_below, check_inside

__all__ = [
    "NEAR_ZERO",
    "class_membership_checks",
    "class_membership_rule",
    "random_label_checks",
    "memorised",
    "UNIFORM_FRACTION",
    "random_label_regime",
    "random_label_reading",
    "overfitting_onset",
    "overfitting_checks",
    "COLLAPSE_DROP",
    "textbook_collapse_checks",
    "collapse_finding",
    "hierarchy_checks",
    "trend_checks",
    "distance_checks",
    "domain_growth_checks",
    "harmonics_checks",
    "PAPER_STATEMENTS",
    "claims_table",
    "checks_long_table",
    "POSITIVE_SHARE_RANGE",
    "init_consistency",
    "init_dependence",
]

NEAR_ZERO = 0.1  # |stiffness| below this counts as "no consistent stiffness" / "close to 0"
CHANCE_TOLERANCE = 0.05  # an accuracy within this of 1/K counts as chance


def class_membership_checks(snapshots: Sequence[StiffnessSnapshot], metric: str = "sign") -> list[Check]:
    """Figures 3, 5, 6: at initialisation within-class stiffness is positive and between-class stiffness shows no
    consistent sign; with training, between-class stiffness rises and within-class stiffness stays positive.

    Expects the snapshots in stage order: initialisation, early, then the late stages.
    """
    if len(snapshots) < 2:
        raise ValueError("need the initialisation snapshot and at least one later one")
    init, early, *late = [s.summaries[metric] for s in snapshots]
    best_later = max([early, *late], key=lambda s: s.between_ci[0])
    return [
        check_above("within-class stiffness > 0 at initialisation", "within at init", init.within_ci, 0.0),
        check_inside(
            "no consistent between-class stiffness at initialisation",
            "between at init",
            init.between,
            -NEAR_ZERO,
            NEAR_ZERO,
        ),
        check_above(
            "between-class stiffness rises with training",
            "best later between (vs upper end at init)",
            best_later.between_ci,
            init.between_ci[1],
        ),
        check_above("within-class stiffness stays > 0 early in training", "within early", early.within_ci, 0.0),
    ]


def class_membership_rule() -> str:
    """The claim of Figures 3, 5 and 6 and the rule :func:`class_membership_checks` applies, as Markdown."""
    return (
        "**The paper's claim.** At initialisation a gradient step helps mainly images of the same class: "
        "within-class stiffness is positive and there is no consistent between-class stiffness. As training "
        "proceeds, within-class stiffness stays high and between-class stiffness increases.\n\n"
        "**Rule** (sign stiffness, 95% bootstrap intervals). Four checks: (1) within-class stiffness at "
        "initialisation is above 0; (2) \"no consistent between-class stiffness\" at initialisation, read as a "
        f"between-class value within ±{NEAR_ZERO:g} of zero; (3) between-class stiffness rises during training: at "
        "some later stage its interval lies above the interval at initialisation; (4) within-class stiffness stays "
        "positive early in training. All four → *reproduced*, some → *partly reproduced*, none → *not reproduced*."
    )


def random_label_checks(snapshots: Sequence[StiffnessSnapshot], metric: str = "sign") -> list[Check]:
    """Figure 4 (random training labels): the network converges to a state without positive between-class
    stiffness — at the last stage, the between-class mean of validation pairs is negative and no off-diagonal cell
    of the class stiffness matrix exceeds ``NEAR_ZERO``."""
    last = snapshots[-1]
    summ = last.summaries[metric]
    max_cell = float(np.nanmax(_off_diagonal(last.matrices[metric])))
    return [
        check_below("between-class stiffness ends negative", "between at the last stage", summ.between_ci, 0.0),
        check_inside(
            "no positive between-class structure at the end",
            "largest off-diagonal cell at the last stage",
            max_cell,
            -1.0,
            NEAR_ZERO,
        ),
    ]


def memorised(history: pd.DataFrame, num_classes: int) -> bool:
    """Whether a network trained on random labels memorised them without learning anything that transfers: at
    the last evaluation its training loss is below a tenth of ``ln K`` (what a uniform guess scores) and its
    validation accuracy is within ``CHANCE_TOLERANCE`` of chance ``1/K``."""
    end = history.iloc[-1]
    return bool(
        end["train_loss"] < 0.1 * math.log(num_classes) and abs(end["val_acc"] - 1 / num_classes) < CHANCE_TOLERANCE
    )


UNIFORM_FRACTION = 0.9  # a loss and an output entropy above this fraction of ln K count as a uniform output


def random_label_regime(history: pd.DataFrame, num_classes: int) -> str:
    """Which regime a network trained on random labels ended in, at its last evaluation:

    - ``"memorised"``: :func:`memorised` (training loss below a tenth of ``ln K``, accuracy at chance);
    - ``"uniform"``: it could not fit — training loss and the mean softmax entropy on the stiffness images
      (``stiffness_entropy``) both at least ``UNIFORM_FRACTION · ln K``: its output is close to uniform, the state
      the paper's explanation of Figure 4 assumes;
    - ``"in between"``: neither.
    """
    end, ln_k = history.iloc[-1], math.log(num_classes)
    if memorised(history, num_classes):
        return "memorised"
    if end["train_loss"] >= UNIFORM_FRACTION * ln_k and end["stiffness_entropy"] >= UNIFORM_FRACTION * ln_k:
        return "uniform"
    return "in between"


def random_label_reading(history: pd.DataFrame, num_classes: int) -> str:
    """One Markdown paragraph: the run's final training loss, accuracy and output entropy against ``ln K`` and
    chance, and the regime :func:`random_label_regime` reads from them."""
    end, ln_k = history.iloc[-1], math.log(num_classes)
    regime = random_label_regime(history, num_classes)
    meaning = {
        "memorised": "it **memorised** its random labels without learning anything that transfers",
        "uniform": "it **could not fit** its random labels and its output on held-out images is close to uniform, "
        "the state the paper's explanation assumes",
        "in between": "it neither memorised its labels nor settled on a uniform output, so the run says little "
        "about the claim",
    }[regime]
    return (
        f"At {int(end['images_seen']):,} images seen: training loss {end['train_loss']:.3f} (a uniform output "
        f"scores ln K = {ln_k:.3f}), training accuracy {end['train_acc']:.3f}, validation accuracy "
        f"{end['val_acc']:.3f} (chance {1 / num_classes:.3f}), mean entropy of the softmax on the stiffness images "
        f"{end['stiffness_entropy']:.3f} nats: {meaning}."
    )


def _off_diagonal(C: np.ndarray) -> np.ndarray:
    return C[~np.eye(C.shape[0], dtype=bool)]


def overfitting_onset(history: pd.DataFrame) -> int | None:
    """Images seen at the minimum of the validation loss, when the loss rises by ≥ 10% after it (else None)."""
    val = history["val_loss"].to_numpy()
    if not np.isfinite(val).any():
        return None
    k = int(np.nanargmin(val))
    after = val[k + 1 :]
    if after.size == 0 or np.nanmax(after) < 1.1 * val[k]:
        return None
    return int(history["images_seen"].iloc[k])


def overfitting_checks(history: pd.DataFrame, metric: str = "sign") -> list[Check]:
    """Figure 2: after the onset of overfitting, within- and between-class stiffness of validation pairs fall and
    end close to 0.

    ``history`` needs ``images_seen``, ``val_loss`` and ``within_<metric>``, ``between_<metric>`` with their
    ``_lo`` / ``_hi`` interval columns.
    """
    onset = overfitting_onset(history)
    overfit = Check(
        "the network overfits (validation loss rises ≥ 10% after its minimum)",
        onset is not None,
        f"onset at {onset:,} images seen" if onset is not None else "validation loss never rose 10% above its minimum",
        precondition=True,
    )
    if onset is None:
        return [overfit]
    at = history.set_index("images_seen")
    peak_row, end_row = at.loc[onset], at.iloc[-1]
    checks = [overfit]
    for kind in ("within", "between"):
        col = f"{kind}_{metric}"
        peak_ci, end_ci = (peak_row[f"{col}_lo"], peak_row[f"{col}_hi"]), (end_row[f"{col}_lo"], end_row[f"{col}_hi"])
        checks.append(
            check_below(
                f"{kind}-class stiffness falls after the onset",
                f"{kind} at the end (vs lower end at onset)",
                end_ci,
                peak_ci[0],
            )
        )
        checks.append(
            check_inside(
                f"{kind}-class stiffness ends close to 0",
                f"{kind} at the end",
                float(end_row[col]),
                -NEAR_ZERO,
                NEAR_ZERO,
            )
        )
    return checks


COLLAPSE_DROP = 0.2  # a fall of within-class stiffness by at least this much after the onset counts as a collapse


def textbook_collapse_checks(history: pd.DataFrame, numerics: str = "textbook32") -> list[Check]:
    """Figure 2's second finding: does within-class sign stiffness computed with textbook numerics (``numerics``:
    a column suffix of :func:`repro.experiments.textbook_numerics`) fall by at least ``COLLAPSE_DROP`` from the
    onset of overfitting to the end of training? Precondition: the network overfits."""
    onset = overfitting_onset(history)
    overfit = Check(
        "the network overfits (validation loss rises ≥ 10% after its minimum)",
        onset is not None,
        f"onset at {onset:,} images seen" if onset is not None else "validation loss never rose 10% above its minimum",
        precondition=True,
    )
    if onset is None:
        return [overfit]
    at = history.set_index("images_seen")
    col = f"within_sign_{numerics}"
    at_onset, at_end = float(at.loc[onset, col]), float(at[col].iloc[-1])
    exact_onset, exact_end = float(at.loc[onset, "within_sign"]), float(at["within_sign"].iloc[-1])
    return [
        overfit,
        Check(
            f"{numerics}: within-class stiffness falls by ≥ {COLLAPSE_DROP:g} after the onset",
            bool(at_onset - at_end >= COLLAPSE_DROP),
            f"{numerics} within {at_onset:+.3f} at the onset → {at_end:+.3f} at the end (exact: {exact_onset:+.3f} → "
            f"{exact_end:+.3f})",
        ),
    ]


def collapse_finding(checks_per_seed: Sequence[Sequence[Check]]) -> str:
    """``"yes"`` when the textbook collapse (:func:`textbook_collapse_checks`) appears in every seed that overfits,
    ``"no"`` when in none, ``"in some seeds"`` otherwise, ``"cannot tell"`` when no seed overfits."""
    observable = [checks for checks in checks_per_seed if all(c.passed for c in checks if c.precondition)]
    decided = [all(c.passed for c in checks) for checks in observable]
    if not decided:
        return "cannot tell"
    return "yes" if all(decided) else ("no" if not any(decided) else "in some seeds")


def hierarchy_checks(contrast: HierarchyContrast, label: str, alpha: float = 0.05) -> list[Check]:
    """Figure 7: fine classes of the same coarse class are stiffer with each other than with other classes — the
    contrast's interval lies above 0 and the permutation test rejects "no block structure" at level ``alpha``."""
    return [
        check_above(
            f"{label}: same-group pairs stiffer than cross-group pairs", "same − different", contrast.contrast_ci, 0.0
        ),
        Check(
            f"{label}: block structure beyond chance (permutation test)",
            contrast.p_value < alpha,
            f"p = {contrast.p_value:.4f} over {contrast.n_perm} random groupings (α = {alpha})",
        ),
    ]


def _rho(value: float) -> str:
    """Spearman's ρ for evidence text; undefined when fewer than two learning rates have a value."""
    return f"ρ = {value:+.2f}" if np.isfinite(value) else "ρ undefined (fewer than two learning rates with a value)"


def trend_checks(trend: pd.DataFrame, quantity: str, expected: str) -> list[Check]:
    """One check per row of :func:`repro.sweeps.lr_trend`: the quantity moves in the ``expected`` direction ("up"
    or "down") from the lowest to the highest learning rate, with non-overlapping intervals at the two ends."""
    if expected not in ("up", "down"):
        raise ValueError(f"expected must be 'up' or 'down', got {expected!r}")
    checks = []
    for _, r in trend.iterrows():
        stop = f"training loss {r['stop']:g}" if r["rule"] == "loss" else f"{int(r['stop']):,} images seen"
        word = "higher" if expected == "up" else "lower"
        evidence = f"direction {r['direction']}, Spearman {_rho(r['spearman'])}"
        lo, hi = r.get("interval at lowest"), r.get("interval at highest")
        if isinstance(lo, tuple) and isinstance(hi, tuple):
            evidence += f"; lowest lr [{lo[0]:+.3f}, {lo[1]:+.3f}], highest lr [{hi[0]:+.3f}, {hi[1]:+.3f}]"
        checks.append(
            Check(
                f"{r['dataset']}, {stop}: higher learning rate → {word} {quantity}",
                r["direction"] == expected,
                evidence,
            )
        )
    return checks


def distance_checks(analysis: DistanceAnalysis, min_found: float = 0.8, max_rho: float = -0.5) -> list[Check]:
    """Figure 9: stiffness crosses zero with distance in the input space and every layer (a crossing found, and
    found in ≥ ``min_found`` of the bootstrap replicates), and deeper hidden layers have smaller stiff domains
    (Spearman's ρ between depth and domain size ``1 − ξ`` over the hidden layers ≤ ``max_rho``)."""
    layers = [layer for layer in analysis.critical if layer != EUCLID]
    checks = []
    for layer in layers:
        c = analysis.critical[layer]
        shown = "none" if c.xi is None else f"{c.xi:.3f}"
        checks.append(
            Check(
                f"{layer}: stiffness crosses zero",
                c.xi is not None and c.found_fraction >= min_found,
                f"ξ = {shown}, crossing in {c.found_fraction:.0%} of replicates",
            )
        )
    hidden = [layer for layer in layers if layer.startswith("hidden")]
    sizes = [(k, 1 - analysis.critical[h].xi) for k, h in enumerate(hidden) if analysis.critical[h].xi is not None]
    rho = spearmanr(*zip(*sizes, strict=True)).statistic if len(sizes) >= 3 else float("nan")
    checks.append(
        Check(
            "deeper hidden layers have smaller stiff domains",
            bool(rho <= max_rho),
            f"Spearman ρ(depth, domain size) = {rho:+.2f} over {len(sizes)} hidden layers with a crossing",
        )
    )
    return checks


def domain_growth_checks(trends: dict[str, pd.DataFrame], input_layer: str, expected: str = "up") -> list[Check]:
    """Figure 10: per (dataset, stop), the stiff-domain size moves in the ``expected`` direction with the learning
    rate (1) in ``input_layer`` and (2) in at least half of the representations in ``trends``."""
    checks = []
    for k, row in trends[input_layer].iterrows():
        stop = f"training loss {row['stop']:g}" if row["rule"] == "loss" else f"{int(row['stop']):,} images seen"
        where = f"{row['dataset']}, {stop}"
        directions = [t.iloc[k]["direction"] for t in trends.values()]
        n_match = sum(d == expected for d in directions)
        checks.append(
            Check(
                f"{where}: input-space domain size goes {expected} with the learning rate",
                row["direction"] == expected,
                f"direction {row['direction']}, {_rho(row['spearman'])}",
            )
        )
        checks.append(
            Check(
                f"{where}: domain size goes {expected} in ≥ half of the representations",
                2 * n_match >= len(directions),
                f"{n_match} of {len(directions)} go {expected}",
            )
        )
    return checks


def harmonics_checks(rows: pd.DataFrame, max_rho: float = -0.5, min_acc: float = 0.6) -> list[Check]:
    """Spherical harmonics: the stiff-domain size ``1 − ξ`` shrinks as the degree grows (Spearman ρ ≤ ``max_rho``;
    the interval at the highest degree below the one at the lowest), and every network learned its task (held-out
    accuracy > ``min_acc``). ``rows``: ``degree, xi, xi_lo, xi_hi, val_acc`` per degree."""
    r = rows.sort_values("degree")
    size, size_lo, size_hi = 1 - r["xi"], 1 - r["xi_hi"], 1 - r["xi_lo"]
    ok = size.notna()
    rho = spearmanr(r["degree"][ok], size[ok]).statistic if ok.sum() >= 3 else float("nan")
    first, last = r.index[0], r.index[-1]
    below = bool(size_hi[last] < size_lo[first])  # NaN compares False
    return [
        Check(
            "domain size shrinks with the degree",
            bool(rho <= max_rho),
            f"Spearman ρ(degree, 1 − ξ) = {rho:+.2f} over {int(ok.sum())} degrees with a crossing",
        ),
        Check(
            "highest degree's domain below the lowest's",
            below,
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


def claims_table(results: Sequence[dict], chapters: Sequence[str]) -> pd.DataFrame:
    """The book's summary: one row per chapter in ``chapters`` order, from the chapters' results files.

    Columns: chapter, paper (figure / equation), the paper's statement, checks held (``k of n`` checks of the claim
    itself; preconditions are not counted), verdict, profile, device, wall time. A chapter without a results file
    (not run yet, or failed) is listed as such.
    """
    by_chapter = {r["chapter"]: r for r in results}
    rows = []
    for chapter in chapters:
        where, statement = PAPER_STATEMENTS.get(chapter, ("", ""))
        r = by_chapter.get(chapter)
        if r is None:
            rows.append(
                {
                    "chapter": chapter,
                    "paper": where,
                    "the paper's statement": statement,
                    "checks held": "",
                    "verdict": "no results file",
                    "profile": "",
                    "device": "",
                    "wall time (s)": None,
                }
            )
            continue
        checks = [c for c in r.get("details", {}).get("checks", []) if not c.get("precondition")]
        held = sum(bool(c.get("passed")) for c in checks)
        wall = r.get("wall_time_s")
        rows.append(
            {
                "chapter": chapter,
                "paper": where,
                "the paper's statement": statement,
                "checks held": f"{held} of {len(checks)}" if checks else "",
                "verdict": r.get("verdict") or "",
                "profile": r.get("profile", ""),
                "device": r.get("device", ""),
                "wall time (s)": None if wall is None else round(float(wall)),
            }
        )
    return pd.DataFrame(rows)


def checks_long_table(results: Sequence[dict], chapters: Sequence[str]) -> pd.DataFrame:
    """Every check of every chapter with its evidence (our numbers with their intervals), in ``chapters`` order."""
    by_chapter = {r["chapter"]: r for r in results}
    rows = [
        {
            "chapter": chapter,
            "check": ("precondition: " if c.get("precondition") else "") + c.get("claim", ""),
            "holds": "yes" if c.get("passed") else "no",
            "our numbers": c.get("evidence", ""),
        }
        for chapter in chapters
        for c in by_chapter.get(chapter, {}).get("details", {}).get("checks", [])
    ]
    return pd.DataFrame(rows, columns=["chapter", "check", "holds", "our numbers"])


POSITIVE_SHARE_RANGE = (0.25, 0.75)  # a share of positive between-class cells in here: both signs are common


def init_consistency(table: pd.DataFrame) -> pd.DataFrame:
    """Per model and initialisation scheme of a :func:`repro.init_study.init_stiffness` table (columns ``dataset,
    arch, init, seed, between, positive_share``): does "no consistent between-class stiffness at initialisation"
    hold across the seeds?

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
