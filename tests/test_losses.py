"""The saturation-proof cross-entropy (repro.losses) against torch's and against float64."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from repro.losses import cross_entropy, output_gradient


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_equals_torch_cross_entropy_on_ordinary_logits(reduction):
    torch.manual_seed(0)
    logits = torch.randn(50, 10, dtype=torch.float64, requires_grad=True)
    y = torch.randint(0, 10, (50,))
    ours = cross_entropy(logits, y, reduction)
    ref = F.cross_entropy(logits, y, reduction=reduction)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-14)
    (g_ours,) = torch.autograd.grad(ours.sum(), logits)
    (g_ref,) = torch.autograd.grad(ref.sum(), logits)
    torch.testing.assert_close(g_ours, g_ref, rtol=1e-12, atol=1e-14)


def test_keeps_precision_where_the_softmax_saturates_in_float32():
    # margins of 20–40: p_y is within float32's epsilon of 1, and torch's loss reads 0
    logits64 = torch.tensor([[30.0, 0.0, -5.0], [0.0, 25.0, 3.0], [-2.0, 1.0, 41.0]], dtype=torch.float64)
    y = torch.tensor([0, 1, 2])
    logits32 = logits64.float().requires_grad_(True)
    exact = cross_entropy(logits64, y, "none")  # float64: exact to ~1e-16 relative
    assert (F.cross_entropy(logits32.detach(), y, reduction="none") == 0).all()  # what torch's form gives
    ours = cross_entropy(logits32, y, "none")
    torch.testing.assert_close(ours.double(), exact, rtol=1e-6, atol=0.0)
    # the logit gradient p − e_y: its true-class entry is −Σ_{k≠y} p_k, not 0, and each row sums to 0
    (grad,) = torch.autograd.grad(ours.sum(), logits32)
    p = torch.softmax(logits64, dim=1)
    expected = p.masked_fill(F.one_hot(y, 3).bool(), 0.0)  # p_k for k ≠ y (tiny, exact in float64)
    expected[torch.arange(3), y] = -expected.sum(1)
    torch.testing.assert_close(grad.double(), expected, rtol=1e-5, atol=0.0)
    (torch_grad,) = torch.autograd.grad(F.cross_entropy(logits32, y, reduction="sum"), logits32)
    assert (torch_grad[torch.arange(3), y] == 0).all()  # the component torch's form loses


def test_misclassified_examples_do_not_overflow():
    logits = torch.tensor([[-200.0, 200.0]])
    assert float(cross_entropy(logits, torch.tensor([0]), "sum")) == pytest.approx(400.0)


def test_output_gradient_is_the_logit_gradient_split_into_direction_and_norm():
    torch.manual_seed(1)
    logits = (5 * torch.randn(40, 10, dtype=torch.float64)).requires_grad_(True)
    y = torch.randint(0, 10, (40,))
    (grad,) = torch.autograd.grad(cross_entropy(logits, y, "sum"), logits)
    direction, log_norm = output_gradient(logits, y)
    assert direction.dtype == torch.float64 and log_norm.dtype == torch.float64
    torch.testing.assert_close(direction.norm(dim=1), torch.ones(40, dtype=torch.float64), rtol=1e-14, atol=0.0)
    torch.testing.assert_close(direction * log_norm.exp()[:, None], grad, rtol=1e-12, atol=1e-15)


def test_output_gradient_beyond_float64_range():
    """Margins of 800 and 803: the gradient's entries are e⁻⁸⁰⁰ ≈ 1e-348, below float64's range, but its
    direction is ∝ (−(1 + e⁻³), 1, e⁻³) and its log-norm is −800 + log|that vector|; in float32 too."""
    logits = torch.tensor([[800.0, 0.0, -3.0], [5.0, -800.0, 0.0]])
    y = torch.tensor([0, 0])
    direction, log_norm = output_gradient(logits, y)
    assert direction.dtype == torch.float32
    v = torch.tensor([-(1 + math.exp(-3)), 1.0, math.exp(-3)], dtype=torch.float64)
    torch.testing.assert_close(direction[0].double(), v / v.norm(), rtol=1e-6, atol=0.0)
    assert float(log_norm[0]) == pytest.approx(-800.0 + math.log(float(v.norm())), rel=1e-12)
    # second row, margins −5 and −805 for the other classes: only class 2 counts, as (−1, 0, 1)/√2
    torch.testing.assert_close(direction[1], torch.tensor([-1.0, 0.0, 1.0]) / math.sqrt(2), rtol=1e-6, atol=0.0)
    assert float(log_norm[1]) == pytest.approx(-5.0 - math.log1p(math.exp(-5.0)) + 0.5 * math.log(2), rel=1e-12)


@pytest.mark.parametrize(
    ("logits", "y", "reduction", "message"),
    [
        (torch.zeros(4, 3), torch.zeros(4, dtype=torch.long), "max", "unknown reduction"),
        (torch.zeros(4), torch.zeros(4, dtype=torch.long), "sum", "expected logits"),
        (torch.zeros(4, 3), torch.zeros(5, dtype=torch.long), "sum", "expected logits"),
        (torch.zeros(4, 1), torch.zeros(4, dtype=torch.long), "sum", "at least 2 classes"),
    ],
)
def test_rejects_bad_input(logits, y, reduction, message):
    with pytest.raises(ValueError, match=message):
        cross_entropy(logits, y, reduction)


def test_output_gradient_rejects_bad_shapes():
    with pytest.raises(ValueError, match="expected logits"):
        output_gradient(torch.zeros(4, 3), torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match="at least 2 classes"):
        output_gradient(torch.zeros(4, 1), torch.zeros(4, dtype=torch.long))


def test_softmax_entropy_is_log_k_for_uniform_and_zero_for_certain_outputs():
    from repro.losses import softmax_entropy

    logits = torch.tensor([[0.0, 0.0, 0.0, 0.0], [1e4, 0.0, 0.0, 0.0], [1.0, 2.0, 3.0, 4.0]])
    h = softmax_entropy(logits)
    p = torch.softmax(logits[2], 0)
    assert torch.allclose(h, torch.stack([torch.log(torch.tensor(4.0)), torch.tensor(0.0), -(p * p.log()).sum()]))
    with pytest.raises(ValueError):
        softmax_entropy(torch.zeros(4))
