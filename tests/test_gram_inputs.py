"""Bad inputs to the public Gram functions: one clear ``ValueError`` naming the argument, before any Gram work.

Every public entry that takes ``model, x, y`` (``per_example_gram``, ``unit_gram``, ``textbook_gram``) is tried on
each case; a model that counts the examples it is run on shows that at most the one-example forward of
:func:`repro.gram.validate.count_classes` happened before the error.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from repro.gram import DEFAULT_MEMORY_BUDGET, default_chunk_size, per_example_gram, textbook_gram, unit_gram
from repro.gram.engine import compute_gram

N, D, CLASSES = 6, 5, 3
ENTRIES = {"per_example_gram": per_example_gram, "unit_gram": unit_gram, "textbook_gram": textbook_gram}


pytestmark = pytest.mark.usefixtures("one_thread")


class Counted(nn.Module):
    """A small classifier (optionally with dropout) that counts the examples its forward has seen."""

    def __init__(self, dropout: float | None = None) -> None:
        super().__init__()
        self.hidden = nn.Linear(D, 8)
        self.drop = nn.Dropout(dropout) if dropout is not None else nn.Identity()
        self.head = nn.Linear(8, CLASSES)
        self.examples_seen = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.examples_seen += x.shape[0]
        return self.head(self.drop(torch.tanh(self.hidden(x))))


def data(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(seed)
    return torch.randn(N, D, dtype=torch.float64), torch.arange(N) % CLASSES


def model(dropout: float | None = None) -> Counted:
    torch.manual_seed(1)
    return Counted(dropout).double()


def assert_rejected(entry: str, net: Counted, x, y, match: str, **kwargs) -> None:
    with pytest.raises(ValueError, match=match):
        ENTRIES[entry](net, x, y, **kwargs)
    assert net.examples_seen <= 1  # at most count_classes's forward: nothing of the Gram was computed


@pytest.mark.parametrize("entry", list(ENTRIES))
@pytest.mark.parametrize("bad", [CLASSES, -1], ids=["too_large", "negative"])
def test_labels_outside_the_logits(entry: str, bad: int) -> None:
    x, y = data()
    y[2] = bad
    assert_rejected(entry, model(), x, y, match=rf"^y holds labels .* {CLASSES} logits")


@pytest.mark.parametrize("entry", list(ENTRIES))
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("where", [(0, 0), (4, 1), (N - 1, D - 1)], ids=["first", "inside", "last"])
def test_non_finite_inputs(entry: str, value: float, where: tuple[int, int]) -> None:
    x, y = data()
    x[where] = value
    match = rf"^x holds NaN or infinite values in 1 of its {N} examples \(first: index {where[0]}\)"
    assert_rejected(entry, model(), x, y, match=match)


@pytest.mark.parametrize("entry", list(ENTRIES))
def test_frozen_model(entry: str) -> None:
    x, y = data()
    assert_rejected(entry, model().requires_grad_(False), x, y, match="^model has no trainable parameters")


@pytest.mark.parametrize("entry", list(ENTRIES))
def test_model_without_parameters(entry: str) -> None:
    x, y = data()
    with pytest.raises(ValueError, match="^model has no trainable parameters"):
        ENTRIES[entry](nn.Identity(), x[:, :CLASSES], y)


@pytest.mark.parametrize("entry", list(ENTRIES))
def test_dropout_in_training_mode(entry: str) -> None:
    x, y = data()
    assert_rejected(
        entry, model(dropout=0.5), x, y, match=r"^module 'drop' \(Dropout\) is in training mode.*model\.eval\(\)"
    )


@pytest.mark.parametrize("method", ["auto", "vmap"])
def test_dropout_in_eval_mode_or_with_p_zero_is_accepted(method: str) -> None:
    x, y = data()
    reference = per_example_gram(model().eval(), x, y, method=method)
    assert torch.equal(per_example_gram(model(dropout=0.5).eval(), x, y, method=method), reference)
    assert torch.equal(per_example_gram(model(dropout=0.0).train(), x, y, method=method), reference)


@pytest.mark.parametrize("entry", list(ENTRIES))
def test_label_shape_and_dtype(entry: str) -> None:
    x, y = data()
    assert_rejected(entry, model(), x, y[:, None], match=r"^y must have shape \(6,\)")
    assert_rejected(entry, model(), x, y[:-1], match=r"^y must have shape \(6,\)")
    assert_rejected(entry, model(), x, y.double(), match="^y must hold integer class labels")


def test_logits_of_the_wrong_shape() -> None:
    x, y = data()
    with pytest.raises(ValueError, match=r"^model must map x .* to logits \(N, classes\)"):
        per_example_gram(nn.Linear(D, 1).double(), x, y)


def test_second_set_is_named() -> None:
    x, y = data()
    x2, y2 = data(seed=1)
    y2[0] = CLASSES
    assert_rejected("unit_gram", model(), x, y, x2=x2, y2=y2, match="^y2 holds labels")
    x2[1, 0] = float("nan")
    assert_rejected("unit_gram", model(), x, y, x2=x2, y2=y2 % CLASSES, match="^x2 holds NaN")
    assert_rejected("unit_gram", model(), x, y, x2=x2, y2=y2.float(), match="^y2 must hold integer")


def test_checks_leave_the_gram_unchanged() -> None:
    """The checked entry point gives exactly the engine's unit Gram, computed without any check."""
    x, y = data()
    net = model()
    got = unit_gram(net, x, y)
    ref = compute_gram(
        net,
        [(x, y)],
        capture_chunk=1024,
        vmap_chunk=default_chunk_size(net),
        memory_budget=DEFAULT_MEMORY_BUDGET,
        per_layer=False,
    )
    assert torch.equal(got.unit, ref.total) and torch.equal(got.log_norms, ref.log_norms[0])
