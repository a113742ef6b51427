"""Cross-entropy that stays exact when the softmax saturates, for per-example gradients and their signs.

The usual form ``−log_softmax(z)[y]`` computes ``z_y − logsumexp(z)``, a difference of two nearly equal numbers
once the network is confident; and its gradient ``softmax(z) − e_y`` takes ``p_y − 1``, which rounds to 0 when
``p_y`` is within the dtype's epsilon of 1 (float32: a logit margin above ≈ 17). The loss of a confidently
classified example then reads 0 and its logit gradient loses its true-class component: the per-example gradient
points in a wrong direction, and the *sign* of a gradient dot product, which stiffness is made of, becomes
noise. Training is unaffected (those examples contribute ≈ 0 to a batch's gradient), but stiffness late in
training is measured on exactly such examples.

Written as ``L = log(1 + Σ_{k≠y} exp(z_k − z_y))`` (:func:`torch.logaddexp` of 0 and the log-sum-exp of the
other classes' margins), the loss keeps the dtype's relative precision at every confidence, and autograd's
gradient is ``p_k`` for ``k ≠ y`` and ``−Σ_{k≠y} p_k`` for ``y``: both small numbers, computed without
cancellation.
"""

from __future__ import annotations

import torch

__all__ = ["cross_entropy"]

_REDUCTIONS = ("none", "sum", "mean")


def cross_entropy(logits: torch.Tensor, y: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy of ``logits (N, K)`` against integer labels ``y (N,)``, in nats, precise when saturated.

    Equal to :func:`torch.nn.functional.cross_entropy` wherever that one is exact; ``reduction`` is ``"none"``
    (shape ``(N,)``), ``"sum"`` or ``"mean"``.
    """
    if reduction not in _REDUCTIONS:
        raise ValueError(f"unknown reduction {reduction!r}; expected one of {_REDUCTIONS}")
    if logits.ndim != 2 or y.ndim != 1 or y.shape[0] != logits.shape[0]:
        raise ValueError(f"expected logits (N, K) and labels (N,), got {tuple(logits.shape)} and {tuple(y.shape)}")
    if logits.shape[1] < 2:
        raise ValueError(f"need at least 2 classes, got {logits.shape[1]}")
    true = logits.gather(1, y[:, None])
    is_true = torch.arange(logits.shape[1], device=logits.device) == y[:, None]  # (N, K)
    margins = (logits - true).masked_fill(is_true, float("-inf"))  # z_k − z_y, −inf at k = y
    per_example = torch.logaddexp(torch.zeros_like(true[:, 0]), torch.logsumexp(margins, dim=1))
    if reduction == "none":
        return per_example
    return per_example.sum() if reduction == "sum" else per_example.mean()
