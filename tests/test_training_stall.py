"""The stall rule: stated on target checks (repro.training.run.stalled), a run that reaches its targets is unchanged by
it bit for bit, a run that cannot reach its next target stops early with the target missed, train_many applies it
to each member exactly as train does, and it never skips a pending evaluation point."""

import copy

import pytest
import torch
from torch import nn

from repro.models import FCNet
from repro.training import TrainConfig, train, train_many
from repro.training.run import stalled


def test_stalled_on_constructed_checks():
    """Stalled when the best of the last half is not min_gain below the best before; never with one half empty."""
    steady = [(1_000, 1.0), (2_000, 0.8), (4_000, 0.6), (8_000, 0.45)]  # 25 % better per doubling
    assert not stalled(steady, 0.05)
    plateau = [(1_000, 1.0), (2_000, 0.50), (3_000, 0.49), (4_000, 0.51)]  # best before 0.50, since 0.49 (2 %)
    assert stalled(plateau, 0.05) and not stalled(plateau, 0.01)
    assert not stalled([(1_000, 1.0)], 0.05)  # nothing before half-way
    assert not stalled([(1_000, 1.0), (1_500, 0.9)], 0.05)  # 1,000 > 1,500 / 2: both checks in the last half
    exactly = [(1_000, 1.0), (2_000, 0.75)]  # gained exactly 25 %: not stalled at min_gain 0.25
    assert not stalled(exactly, 0.25) and stalled(exactly, 0.2500001)


def test_the_rule_is_checked_when_configured():
    with pytest.raises(ValueError, match="stall_min_images"):
        TrainConfig(stall_min_images=0)
    with pytest.raises(ValueError, match="stall_min_gain"):
        TrainConfig(stall_min_images=100, stall_min_gain=1.0)


def make(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return FCNet(in_features=6, num_classes=3, hidden=(16, 16)).double()


def learnable(n: int = 96, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 6, generator=gen, dtype=torch.float64)
    return x, (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()  # a rule of the inputs: the loss falls to ≈ 0


def unlearnable(n: int = 96, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return torch.zeros(n, 6, dtype=torch.float64), torch.randint(0, 3, (n,), generator=gen)  # loss ≥ labels' entropy


def flat(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def run(config: TrainConfig, xy, targets, eval_at=(0,)):
    model = make(1)
    result = train(model, *xy, config=config, eval_at=eval_at, target_losses=targets, check_every=64, progress=False)
    return result, flat(model)


def test_a_run_that_reaches_its_targets_is_unchanged_by_the_rule():
    """The rule is checked at every target check from 320 images on, and the run reaches every target: status,
    images seen, target hits, checks, records and weights are those of the run without the rule, bit for bit."""
    targets = [0.5, 0.1, 0.02]
    plain, w_plain = run(TrainConfig(lr=1e-2, max_images=40_000, seed=3), learnable(), targets)
    ruled, w_ruled = run(TrainConfig(lr=1e-2, max_images=40_000, seed=3, stall_min_images=320), learnable(), targets)
    assert plain.status == "reached_targets" and len(plain.target_hits) == 3
    assert (ruled.status, ruled.images_seen, ruled.target_hits) == (plain.status, plain.images_seen, plain.target_hits)
    assert ruled.checks == plain.checks and ruled.records == plain.records
    assert torch.equal(w_ruled, w_plain)


def test_a_run_that_cannot_reach_its_target_stalls_early_and_misses_it():
    """Constant inputs with random labels: the loss cannot fall below the labels' entropy (≈ 1.1 nats), so the
    target 0.5 is out of reach; without the rule the run spends its budget, with it the run stops where its best
    loss stopped improving, having trained exactly as the unruled run until then."""
    plain, _ = run(TrainConfig(lr=1e-2, max_images=60_000, seed=3), unlearnable(), [2.0, 0.5])
    ruled, _ = run(TrainConfig(lr=1e-2, max_images=60_000, seed=3, stall_min_images=2_000), unlearnable(), [2.0, 0.5])
    assert plain.status == "completed" and plain.images_seen == 60_000
    assert ruled.status == "stalled" and 2_000 <= ruled.images_seen < 20_000
    assert ruled.target_hits == plain.target_hits == {2.0: plain.target_hits[2.0]}  # 0.5 missed by both
    assert ruled.checks == plain.checks[: len(ruled.checks)]  # the same run until it stopped
    assert stalled(ruled.checks, 0.05) and ruled.checks[-1][0] == ruled.images_seen


def test_a_pending_evaluation_point_is_always_reached():
    """The fixed-budget stop is measured for every run: the rule waits until no evaluation point is left."""
    ruled, _ = run(
        TrainConfig(lr=1e-2, max_images=60_000, seed=3, stall_min_images=2_000), unlearnable(), [0.5], (0, 29_984)
    )
    assert ruled.status == "stalled" and 29_984 < ruled.images_seen < 60_000
    assert [r["images_seen"] for r in ruled.records] == [0, 29_984]


def test_train_many_applies_the_rule_to_each_member_as_train_does():
    """A member that stalls, one that reaches its targets and one without the rule, trained together: each ends
    as train leaves it alone (status, images seen, target hits, checks; weights to 1e-10)."""
    cases = [
        (unlearnable(), TrainConfig(lr=1e-2, max_images=30_000, seed=3, stall_min_images=2_000), [2.0, 0.5]),
        (learnable(), TrainConfig(lr=1e-2, max_images=30_000, seed=4, stall_min_images=320), [0.5, 0.1]),
        (unlearnable(seed=1), TrainConfig(lr=1e-2, max_images=12_000, seed=5), [0.5]),
    ]
    inits = [make(10 + e) for e in range(len(cases))]
    alone = []
    for init, (xy, config, targets) in zip(inits, cases, strict=True):
        model = copy.deepcopy(init)
        alone.append((train(model, *xy, config=config, target_losses=targets, check_every=64, progress=False), model))
    models = [copy.deepcopy(m) for m in inits]
    together = train_many(
        models, [xy[0] for xy, _, _ in cases], [xy[1] for xy, _, _ in cases], configs=[c for _, c, _ in cases],
        target_losses=[t for _, _, t in cases], check_every=64, progress=False,
    )  # fmt: skip
    assert [r.status for r in together] == ["stalled", "reached_targets", "completed"]
    for got, (expected, model), mine in zip(together, alone, models, strict=True):
        assert (got.status, got.images_seen, got.target_hits) == (
            expected.status, expected.images_seen, expected.target_hits
        )  # fmt: skip
        assert [at for at, _ in got.checks] == [at for at, _ in expected.checks]
        assert [loss for _, loss in got.checks] == pytest.approx([loss for _, loss in expected.checks], rel=1e-10)
        assert torch.allclose(flat(mine), flat(model), rtol=0, atol=1e-10)
