"""The columns of a class-stiffness run's history (:attr:`repro.experiments.class_stiffness.ClassStiffnessRun.history`),
named once: the experiments write them, the claims, figures and tables read them.

One row per evaluation point. :mod:`repro.training` writes ``images_seen``, the losses and the accuracies; the
class-stiffness run adds the within/between stiffness of validation pairs for each metric with its 95% bootstrap
interval (:func:`stiffness_column`), the mean softmax entropy on the stiffness images, and, with textbook numerics,
the same stiffness from textbook gradients with the shares of zero and flipped signs (:func:`numerics_column`).
"""

from __future__ import annotations

__all__ = [
    "IMAGES_SEEN",
    "TRAIN_LOSS",
    "VAL_LOSS",
    "TRAIN_ACC",
    "VAL_ACC",
    "STIFFNESS_ENTROPY",
    "KINDS",
    "METRICS",
    "PAIR_KINDS",
    "TEXTBOOK_NUMERICS",
    "stiffness_column",
    "numerics_column",
]

IMAGES_SEEN = "images_seen"
TRAIN_LOSS, VAL_LOSS = "train_loss", "val_loss"
TRAIN_ACC, VAL_ACC = "train_acc", "val_acc"
STIFFNESS_ENTROPY = "stiffness_entropy"  # mean entropy (nats) of the softmax on the stiffness images

KINDS = ("within", "between")  # within-class (diagonal) and between-class (off-diagonal) stiffness, Eq. 7
METRICS = ("sign", "cos")
PAIR_KINDS = ("val-val", "train-train", "train-val")  # which sets the two examples of a pair come from
TEXTBOOK_NUMERICS = ("textbook32", "textbook64")  # textbook gradients in float32 / float64 (Figure 2)


def stiffness_column(kind: str, metric: str = "sign", *, bound: str | None = None, numerics: str | None = None) -> str:
    """``within_sign``, ``between_cos_lo`` (``bound`` "lo" / "hi": the 95% interval), ``within_sign_textbook32``
    (``numerics``: one of :data:`TEXTBOOK_NUMERICS`)."""
    if kind not in KINDS or metric not in METRICS:
        raise ValueError(f"no history column for kind {kind!r} and metric {metric!r}")
    if bound not in (None, "lo", "hi") or numerics not in (None, *TEXTBOOK_NUMERICS):
        raise ValueError(f"bound must be None, 'lo' or 'hi' and numerics one of {TEXTBOOK_NUMERICS}")
    return f"{kind}_{metric}" + (f"_{bound}" if bound else "") + (f"_{numerics}" if numerics else "")


def numerics_column(numerics: str, share: str) -> str:
    """``textbook32_zero_share`` / ``textbook32_flip_share``: the share of off-diagonal pairs whose textbook sign is
    exactly 0 (``share="zero"``) or opposite to the exact one (``share="flip"``)."""
    if numerics not in TEXTBOOK_NUMERICS or share not in ("zero", "flip"):
        raise ValueError(f"no column for numerics {numerics!r} and share {share!r}")
    return f"{numerics}_{share}_share"
