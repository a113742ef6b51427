"""Readings of the ``definition`` chapter's measurement (:class:`repro.experiments.definition.DefinitionRun`): the
finite-difference and Gram tables, the descriptions, the checks of Eqs. 2–5 and the results file's numbers."""

from __future__ import annotations

import pandas as pd

from repro import claims
from repro.claims.convergence import Convergence, power_of_ten
from repro.claims.verdicts import Check
from repro.experiments.definition import DefinitionRun
from repro.stiffness import stiffness_from_gram

__all__ = [
    "FINITE_DIFFERENCE_FORMAT",
    "PAIR_STIFFNESS_FORMAT",
    "data_text",
    "pair_labels",
    "finite_difference_table",
    "pair_stiffness_table",
    "gram_vs_autograd",
    "unit_gram_text",
    "max_relative_error",
    "convergence_orders",
    "checks",
    "headline",
    "details",
    "summary_lines",
]

FINITE_DIFFERENCE_FORMAT = {"−g₁·g₂": "{:+.4e}", "ΔL₂/ε": "{:+.4e}", "relative error": "{:.1e}",
                            "ΔL₁/ε relative error": "{:.1e}"}  # fmt: skip
PAIR_STIFFNESS_FORMAT = {"g₁·g₂": "{:+.3e}", "cosine stiffness": "{:+.3f}"}


def _example(run: DefinitionRun, i: int) -> str:
    """``"#12 (7)"``: example ``i`` of the stiffness set and its class."""
    return f"#{i} ({run.classes[int(run.labels[i])]})"


def data_text(run: DefinitionRun) -> str:
    """Markdown: the dataset, the training subset, how far the network was trained, and the stiffness set."""
    return (
        f"**Data.** {run.data}  \n"
        f"Training subset: {run.n_train:,} images; network trained for {run.images_seen:,} images seen "
        f"(training loss {run.train_loss:.3f}, status *{run.status}*). "
        f"Stiffness set: {len(run.labels)} validation images ({len(run.classes)} classes, balanced)."
    )


def pair_labels(run: DefinitionRun) -> list[str]:
    """One legend label per checked pair: its two classes and ``g₁·g₂``."""
    return [
        f"pair ({run.classes[int(run.labels[i])]}, {run.classes[int(run.labels[j])]}): "
        f"g₁·g₂ = {-df['pred_other'].iloc[0]:+.2e}"
        for (i, j), df in zip(run.pairs, run.finite_differences, strict=True)
    ]


def finite_difference_table(run: DefinitionRun) -> pd.DataFrame:
    """One row per checked pair, at the smallest step: the prediction ``−g₁·g₂``, the finite difference ``ΔL₂/ε``,
    their relative error, and the relative error of ``ΔL₁/ε`` against ``−|g₁|²`` (display formats:
    :data:`FINITE_DIFFERENCE_FORMAT`)."""
    eps_min = min(run.epsilons)
    rows = []
    for (i, j), df in zip(run.pairs, run.finite_differences, strict=True):
        last = df[df["epsilon"] == eps_min].iloc[0]
        rows.append({
            "example 1": _example(run, i), "example 2": _example(run, j),
            "−g₁·g₂": last["pred_other"], "ΔL₂/ε": last["fd_other"], "relative error": last["rel_err_other"],
            "ΔL₁/ε relative error": last["rel_err_self"],
        })  # fmt: skip
    return pd.DataFrame(rows)


def pair_stiffness_table(run: DefinitionRun) -> pd.DataFrame:
    """The checked pairs and the extra different-class pairs: ``g₁·g₂`` from the Gram matrix and the pair's sign and
    cosine stiffness (display formats: :data:`PAIR_STIFFNESS_FORMAT`)."""
    sign, cos = stiffness_from_gram(run.gram, "sign"), stiffness_from_gram(run.gram, "cos")
    return pd.DataFrame([
        {"pair": f"{_example(run, i)} – {_example(run, j)}", "g₁·g₂": float(run.gram[i, j]),
         "sign stiffness": int(sign[i, j]), "cosine stiffness": float(cos[i, j])}
        for i, j in run.pairs + run.extra_pairs
    ])  # fmt: skip


def gram_vs_autograd(run: DefinitionRun) -> float:
    """The largest relative gap over the checked pairs between the Gram matrix entry ``G[i, j]`` and the autograd
    dot product ``g₁·g₂`` of the finite-difference check."""
    return max(
        abs(float(run.gram[i, j]) + df["pred_other"].iloc[0]) / abs(df["pred_other"].iloc[0])
        for (i, j), df in zip(run.pairs, run.finite_differences, strict=True)
    )


def unit_gram_text(run: DefinitionRun) -> str:
    """Markdown: how far sign and cosine stiffness read off the unit Gram differ from those read off ``G``, and the
    range of the logit-gradient norms ``sᵢ``."""
    sign, cos = stiffness_from_gram(run.gram, "sign"), stiffness_from_gram(run.gram, "cos")
    norms = run.log_norms.exp()
    return (
        f"Sign stiffness from $\\hat G$ and from $G$ differs in "
        f"{int((stiffness_from_gram(run.unit, 'sign') != sign).sum())} of {sign.numel():,} pairs; the largest cosine "
        f"difference is {float((stiffness_from_gram(run.unit, 'cos') - cos).abs().max()):.1e}; "
        f"$s_i$ ranges from {float(norms.min()):.1e} to {float(norms.max()):.1e}."
    )


def max_relative_error(run: DefinitionRun) -> float:
    """The largest relative error of ``ΔL₂/ε`` against ``−g₁·g₂`` over the checked pairs, at the smallest step."""
    return float(finite_difference_table(run)["relative error"].max())


def convergence_orders(run: DefinitionRun) -> list[Convergence]:
    """Each checked pair's convergence (:func:`repro.claims.convergence_order` of its relative errors)."""
    return [claims.convergence_order(df["epsilon"], df["rel_err_other"]) for df in run.finite_differences]


def checks(run: DefinitionRun) -> list[Check]:
    """The three parts of the claim (:func:`repro.claims.convergence.definition_checks`) on this run."""
    curves = [(df["epsilon"], df["rel_err_other"]) for df in run.finite_differences]
    return claims.definition_checks(max_relative_error(run), curves, gram_vs_autograd(run))


def headline(run: DefinitionRun) -> dict[str, float | int]:
    """The results file's headline: the largest relative error at the smallest step, the lowest convergence order
    above the rounding floor (NaN when every pair is at the floor), the pairs at the floor, the Gram-vs-autograd
    gap, the number of pairs."""
    orders = convergence_orders(run)
    return {
        "max_rel_err_smallest_eps": max_relative_error(run),
        "lowest_convergence_order": min((c.order for c in orders if not c.at_floor), default=float("nan")),
        "pairs_at_rounding_floor": sum(c.at_floor for c in orders),
        "gram_vs_autograd_rel_gap": gram_vs_autograd(run),
        "n_pairs": len(run.pairs),
    }


def details(run: DefinitionRun) -> dict[str, object]:
    """The results file's details: the data, the size of the stiffness set, the images seen, the steps ε."""
    return {"data": run.data, "n_stiffness": len(run.labels), "train_images": run.images_seen,
            "epsilons": list(run.epsilons)}  # fmt: skip


def summary_lines(run: DefinitionRun) -> list[str]:
    """The lines the chapter prints for nbval: the pairs checked and whether the first two parts hold."""
    return [
        f"pairs checked: {len(run.pairs)}",
        f"relative error at smallest step below 1e{power_of_ten(claims.MAX_RELATIVE_ERROR)}: "
        f"{max_relative_error(run) < claims.MAX_RELATIVE_ERROR}",
        f"first-order convergence (order ≥ {claims.MIN_ORDER:g} above the rounding floor, or at the floor): "
        f"{all(c.first_order for c in convergence_orders(run))}",
    ]
