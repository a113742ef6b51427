"""Numerical checks of the measurement itself.

- :func:`finite_difference_check` — Eqs. 2–4 checked by finite differences in float64 (``definition`` chapter);
- :func:`precision_check` — how far a float32 unit Gram's signs can be trusted, against a float64 recomputation
  (every class-stiffness run ends with one);
- :func:`textbook_numerics` — stiffness as a textbook computation would report it (Figure 2), beside the exact one.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn

from repro.experiments.history import TEXTBOOK_NUMERICS, numerics_column, stiffness_column
from repro.losses import cross_entropy
from repro.phases import phase
from repro.stiffness import (
    class_stiffness,
    class_summary,
    sign_disagreement,
    stiffness_from_gram,
    textbook_gram,
    unit_gram,
)

__all__ = ["finite_difference_check", "PrecisionCheck", "precision_check", "TEXTBOOK_DTYPES", "textbook_numerics"]


def _example_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return cross_entropy(model(x.unsqueeze(0)), y.unsqueeze(0))


def finite_difference_check(
    model: nn.Module,
    x1: torch.Tensor,
    y1: torch.Tensor,
    x2: torch.Tensor,
    y2: torch.Tensor,
    epsilons: tuple[float, ...],
) -> pd.DataFrame:
    """Compare the loss change on example 2 after a step ``−ε g₁`` with its first-order prediction ``−ε g₁·g₂``.

    Runs in float64 on a copy of ``model``. For each ε returns the finite difference
    ``[L₂(W − ε g₁) − L₂(W)] / ε``, the prediction ``−g₁·g₂`` (Eq. 4 with the descent sign), the same pair for
    example 1 itself (``−g₁·g₁``, Eq. 3), and the absolute and relative errors, which shrink ∝ ε.

    Args:
        x1, x2: single examples (no batch dimension); y1, y2: their integer labels (0-d tensors).
    """
    net = _float64_copy(model)
    params = [p for p in net.parameters() if p.requires_grad]
    x1, x2 = x1.to(torch.float64), x2.to(torch.float64)
    g1 = torch.autograd.grad(_example_loss(net, x1, y1), params)
    g2 = torch.autograd.grad(_example_loss(net, x2, y2), params)
    g1g2 = float(sum((a * b).sum() for a, b in zip(g1, g2, strict=True)))
    g1g1 = float(sum((a * a).sum() for a in g1))
    with torch.no_grad():
        base1, base2 = float(_example_loss(net, x1, y1)), float(_example_loss(net, x2, y2))
        originals = [p.detach().clone() for p in params]
        rows = []
        for eps in epsilons:
            for p, p0, g in zip(params, originals, g1, strict=True):
                p.copy_(p0 - eps * g)
            d1 = (float(_example_loss(net, x1, y1)) - base1) / eps
            d2 = (float(_example_loss(net, x2, y2)) - base2) / eps
            rows.append({"epsilon": eps, "fd_self": d1, "pred_self": -g1g1, "fd_other": d2, "pred_other": -g1g2})
        for p, p0 in zip(params, originals, strict=True):
            p.copy_(p0)
    df = pd.DataFrame(rows)
    df["abs_err_other"] = (df["fd_other"] - df["pred_other"]).abs()
    df["rel_err_other"] = df["abs_err_other"] / abs(g1g2)
    df["rel_err_self"] = (df["fd_self"] - df["pred_self"]).abs() / g1g1
    return df


def _float64_copy(model: nn.Module) -> nn.Module:
    net = copy.deepcopy(model).to(torch.float64)
    net.eval()
    return net


@dataclass(frozen=True)
class PrecisionCheck:
    """How far a float32 unit Gram can be trusted for one model and set: ``sign_agreement`` is the share of
    off-diagonal pairs whose sign equals that of a float64 recomputation, ``max_cos_gap`` the largest cosine
    difference, ``min_loss`` the smallest per-example loss (float64), ``n_pairs`` the pairs compared."""

    sign_agreement: float
    max_cos_gap: float
    min_loss: float
    n_pairs: int


@phase("stiffness")
def precision_check(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> PrecisionCheck:
    """Compare the unit Gram of ``model`` on ``(x (N, ...), y (N,))`` in the model's dtype with one in float64."""
    was_training = model.training
    model.eval()
    try:
        ours = unit_gram(model, x, y).unit
        net = _float64_copy(model)
        x64 = x.to(torch.float64)
        reference = unit_gram(net, x64, y).unit
        with torch.no_grad():
            min_loss = float(cross_entropy(net(x64), y, reduction="none").min())
    finally:
        model.train(was_training)
    off = ~torch.eye(x.shape[0], dtype=torch.bool, device=ours.device)
    agree = (torch.sign(ours) == torch.sign(reference))[off].double().mean()
    gap = (stiffness_from_gram(ours, "cos") - stiffness_from_gram(reference, "cos"))[off].abs().max()
    return PrecisionCheck(float(agree), float(gap), min_loss, int(off.sum()))


TEXTBOOK_DTYPES = dict(zip(TEXTBOOK_NUMERICS, (torch.float32, torch.float64), strict=True))


@phase("stiffness")
def textbook_numerics(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, unit: torch.Tensor, num_classes: int
) -> dict[str, float]:
    """Within/between sign stiffness as a textbook computation would report it, beside the exact one.

    For each of ``"textbook32"`` and ``"textbook64"``: the Gram of per-example gradients of PyTorch's
    ``F.cross_entropy`` computed in float32 / float64 (:func:`repro.gram.textbook_gram`; ``sign(0) = 0``), read as
    ``within_sign_<name>`` and ``between_sign_<name>``; for each, the share of off-diagonal pairs whose sign is
    exactly 0 (``<name>_zero_share``) and whose sign is opposite to that of the exact unit Gram ``unit (N, N)``
    (``<name>_flip_share``).
    """
    out: dict[str, float] = {}
    for name, dtype in TEXTBOOK_DTYPES.items():
        G = textbook_gram(model, x, y, dtype=dtype)
        within, between = class_summary(class_stiffness(stiffness_from_gram(G, "sign"), y, num_classes=num_classes))
        shares = sign_disagreement(G, unit.to(G.device))
        out |= {
            stiffness_column("within", numerics=name): within,
            stiffness_column("between", numerics=name): between,
            numerics_column(name, "zero"): shares.zeros,
            numerics_column(name, "flip"): shares.flipped,
        }
    return out
