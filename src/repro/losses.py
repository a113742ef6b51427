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

Far into training those small numbers leave the dtype's range: a validation loss of 1e-30 gives output gradients of
≈ 1e-30 and gradient products of ≈ 1e-60, below float32's smallest number (≈ 1e-45), and losses below ≈ 1e-160
do the same to float64. :func:`output_gradient` therefore splits the logit gradient of each example into a unit
direction and a log-norm, both computed from the margins in float64 without underflow; the Gram engine
back-propagates the directions (per-example gradients of norm O(1), whatever the loss) and multiplies the norms back
in afterwards, so the *sign* and the *cosine* of every gradient product survive at any confidence.
"""

from __future__ import annotations

import torch

__all__ = ["cross_entropy", "output_gradient", "softmax_entropy"]

_REDUCTIONS = ("none", "sum", "mean")


def _check(logits: torch.Tensor, y: torch.Tensor) -> None:
    if logits.ndim != 2 or y.ndim != 1 or y.shape[0] != logits.shape[0]:
        raise ValueError(f"expected logits (N, K) and labels (N,), got {tuple(logits.shape)} and {tuple(y.shape)}")
    if logits.shape[1] < 2:
        raise ValueError(f"need at least 2 classes, got {logits.shape[1]}")


def _margins(logits: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(margins, is_true)``: ``z_k − z_y`` for every class ``k`` (``−inf`` at ``k = y``), and the ``(N, K)`` mask
    of the true class."""
    is_true = torch.arange(logits.shape[1], device=logits.device) == y[:, None]
    margins = (logits - logits.gather(1, y[:, None])).masked_fill(is_true, float("-inf"))
    return margins, is_true


def cross_entropy(logits: torch.Tensor, y: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy of ``logits (N, K)`` against integer labels ``y (N,)``, in nats, precise when saturated.

    Equal to :func:`torch.nn.functional.cross_entropy` wherever that one is exact; ``reduction`` is ``"none"``
    (shape ``(N,)``), ``"sum"`` or ``"mean"``.
    """
    if reduction not in _REDUCTIONS:
        raise ValueError(f"unknown reduction {reduction!r}; expected one of {_REDUCTIONS}")
    _check(logits, y)
    margins, _ = _margins(logits, y)
    per_example = torch.logaddexp(torch.zeros_like(margins[:, 0]), torch.logsumexp(margins, dim=1))
    if reduction == "none":
        return per_example
    return per_example.sum() if reduction == "sum" else per_example.mean()


def output_gradient(logits: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each example's logit gradient ``∇_z L(z, y)`` as a unit direction and the log of its norm.

    With margins ``u_k = z_k − z_y`` (``k ≠ y``), their maximum ``μ`` and ``w_k = exp(u_k − μ) ≤ 1``, the gradient
    of :func:`cross_entropy` is ``exp(μ) / (1 + exp(μ) Σ w) · v`` with ``v_k = w_k`` (``k ≠ y``) and
    ``v_y = −Σ_k w_k``; ``v`` has no tiny or huge entries, so neither has its norm.

    Args:
        logits: ``(N, K)`` (no gradient is taken through them); y: integer labels ``(N,)``.

    Returns:
        ``direction (N, K)`` in the logits' dtype, unit norm per row, and ``log_norm (N,)`` float64 (natural log),
        with ``∇_z L = exp(log_norm) · direction``; computed in float64, exact even where ``exp(log_norm)``
        underflows.
    """
    _check(logits, y)
    margins, is_true = _margins(logits.detach().to(torch.float64), y)
    top = margins.max(dim=1, keepdim=True).values
    w = torch.exp(margins - top)  # 0 at k = y, the largest entry is 1
    total = w.sum(dim=1, keepdim=True)
    v = torch.where(is_true, -total, w)
    v_norm = v.norm(dim=1, keepdim=True)
    log_norm = top - torch.nn.functional.softplus(top + torch.log(total)) + torch.log(v_norm)
    return (v / v_norm).to(logits.dtype), log_norm[:, 0]


def softmax_entropy(logits: torch.Tensor) -> torch.Tensor:
    """Entropy of each example's softmax output, ``−Σ_k p_k log p_k`` in nats, ``(N,)`` for ``logits (N, K)``.

    ``log K`` for a uniform output, 0 for a certain one; computed from ``log_softmax`` (no ``0 · log 0``).
    """
    if logits.ndim != 2:
        raise ValueError(f"expected logits (N, K), got shape {tuple(logits.shape)}")
    log_p = torch.log_softmax(logits, dim=1)
    return -(log_p.exp() * log_p).sum(dim=1)
