"""repro.phases: exclusive phase accounting that sums to the wall time, nesting, counts, and what training and the
Gram report through it."""

import pytest
import torch

from repro import phases
from repro.models import FCNet
from repro.phases import COUNTS, PHASES, count, phase, timing
from repro.stiffness import unit_gram
from repro.training import TrainConfig, train


class FakeClock:
    """A clock that moves only when told to (no timed test: the accounting is checked exactly)."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def busy(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(phases, "read_clock", clock)

    def advance(seconds: float) -> None:
        clock.t += seconds

    return advance


def test_phases_are_exclusive_and_sum_to_the_wall_time(busy):
    with timing() as clock:
        busy(0.02)  # other
        with phase("training"):
            busy(0.03)
            with phase("evaluation"):  # pauses training
                busy(0.02)
            busy(0.01)
    s = clock.seconds
    assert set(s) == set(PHASES)
    assert s["evaluation"] == pytest.approx(0.02)
    assert s["training"] == pytest.approx(0.04)
    assert s["other"] == pytest.approx(0.02)
    assert sum(s.values()) == pytest.approx(0.08)


def test_a_decorated_function_counts_every_call_even_recursive_ones(busy):
    @phase("statistics")
    def recurse(depth: int) -> None:
        busy(0.005)
        if depth:
            recurse(depth - 1)

    with timing() as clock:
        recurse(3)
    assert clock.seconds["statistics"] == pytest.approx(0.02)
    assert clock.seconds["other"] == 0.0


def test_an_inner_timing_block_keeps_its_own_clock_and_adds_to_the_outer_one(busy):
    with timing() as outer:
        with phase("training"):
            busy(0.01)
            with timing() as inner:
                with phase("stiffness"):
                    busy(0.02)
                count("grams", 2)
            busy(0.01)
    assert inner.seconds["stiffness"] == pytest.approx(0.02) and inner.seconds["training"] == 0.0
    assert outer.seconds["stiffness"] == pytest.approx(0.02)
    assert outer.seconds["training"] == pytest.approx(0.02)  # the inner block's time is not training
    assert sum(outer.seconds.values()) == pytest.approx(0.04)
    assert inner.counts["grams"] == outer.counts["grams"] == 2


def test_outside_a_timing_block_nothing_is_recorded_and_names_are_checked():
    with phase("training"):
        count("grams")  # no clock: nothing to count into
    with pytest.raises(ValueError, match="unknown phase"):
        phase("plotting")
    with timing(), pytest.raises(ValueError, match="unknown count"):
        count("pictures")
    assert "images_trained" in COUNTS


def test_training_and_the_gram_report_their_work():
    """train counts the images of its steps, its evaluations and its target checks; the Gram counts itself."""
    torch.manual_seed(0)
    model = FCNet(in_features=6, num_classes=3, hidden=(8,))
    x, y = torch.randn(64, 6), torch.randint(0, 3, (64,))
    with timing() as clock:
        result = train(
            model, x, y, config=TrainConfig(max_images=3_000), eval_at=[0, 1_000], target_losses=[1e-6],
            check_every=256, on_eval=lambda seen, net: {"n": unit_gram(net, x[:8], y[:8]).unit.shape[0]},
            progress=False,
        )  # fmt: skip
    assert clock.counts["images_trained"] == result.images_seen == 3_000
    assert clock.counts["evaluations"] == len(result.records) == 2
    assert clock.counts["target_checks"] == len(result.checks) > 5
    assert clock.counts["grams"] == 2
    assert clock.seconds["training"] > 0 and clock.seconds["evaluation"] > 0 and clock.seconds["stiffness"] > 0
