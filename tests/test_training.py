"""Training loop: schedules, determinism, targets, divergence."""

import math

import pytest
import torch

from repro.models import FCNet
from repro.training import TrainConfig, evaluate, images_seen_schedule, train


def toy_problem(n: int = 256, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 20, generator=gen)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long()
    return x, y


def small_model(seed: int = 0) -> FCNet:
    torch.manual_seed(seed)
    return FCNet(in_features=20, num_classes=2, hidden=(32, 16))


def test_schedule_is_sorted_unique_and_bounded():
    pts = images_seen_schedule(10_000, n_log=5, n_regular=4)
    assert pts[0] == 0 and pts[-1] == 10_000
    assert pts == sorted(set(pts))
    assert 2_500 in pts and 5_000 in pts
    with pytest.raises(ValueError):
        images_seen_schedule(0)


def test_training_is_deterministic_and_learns():
    x, y = toy_problem()
    runs = []
    for _ in range(2):
        model = small_model()
        res = train(
            model,
            x,
            y,
            config=TrainConfig(lr=1e-2, max_images=2_048, seed=3),
            x_val=x,
            y_val=y,
            eval_at=[0, 1_024, 2_048],
            progress=False,
        )
        runs.append((res, [p.detach().clone() for p in model.parameters()]))
    (r1, p1), (r2, p2) = runs
    assert all(torch.equal(a, b) for a, b in zip(p1, p2, strict=False))
    assert [r["images_seen"] for r in r1.records] == [0, 1_024, 2_048]
    assert r1.status == "completed" and r1.images_seen == 2_048
    assert r1.records[-1]["train_loss"] < 0.5 * r1.records[0]["train_loss"]
    assert r1.records[-1]["val_acc"] > 0.9


def test_on_eval_output_is_recorded_and_model_restored_to_train_mode():
    x, y = toy_problem()
    model = small_model()
    modes = []

    def on_eval(seen, net):
        modes.append(net.training)
        return {"marker": seen * 2}

    res = train(model, x, y, config=TrainConfig(max_images=64), eval_at=[0, 64], on_eval=on_eval, progress=False)
    assert res.column("marker").tolist() == [0, 128]
    assert modes == [False, False]


def test_stops_when_every_target_loss_is_reached():
    x, y = toy_problem()
    hits = []
    res = train(
        small_model(),
        x,
        y,
        config=TrainConfig(lr=1e-2, max_images=50_000),
        target_losses=[0.5, 0.3],
        check_every=256,
        on_target=lambda t, seen, net: hits.append((t, seen, evaluate(net, x, y)[0])),
        progress=False,
    )
    assert res.status == "reached_targets"
    assert [h[0] for h in hits] == [0.5, 0.3]
    assert all(loss <= target for target, _, loss in hits)
    assert res.images_seen < 50_000 and set(res.target_hits) == {0.5, 0.3}


def test_divergence_is_a_status_not_a_crash():
    x, y = toy_problem()
    model = small_model()
    with torch.no_grad():
        model.blocks["logits"].weight.fill_(float("nan"))
    res = train(model, x, y, config=TrainConfig(max_images=1_000), eval_at=[0, 500], progress=False)
    assert res.status == "diverged"
    assert math.isnan(res.records[0]["train_loss"])


def test_bad_input():
    x, y = toy_problem()
    with pytest.raises(ValueError, match="must be non-empty and match"):
        train(small_model(), x, y[:10], config=TrainConfig(), progress=False)
    with pytest.raises(ValueError, match="both x_val and y_val"):
        train(small_model(), x, y, config=TrainConfig(), x_val=x, progress=False)
    with pytest.raises(ValueError, match="empty"):
        evaluate(small_model(), x[:0], y[:0])


def test_points_passed_in_one_step_give_one_record():
    x, y = toy_problem()
    res = train(small_model(), x, y, config=TrainConfig(max_images=128), eval_at=[0, 10, 20, 40, 128], progress=False)
    assert [r["images_seen"] for r in res.records] == [0, 32, 64, 128]


def test_targets_do_not_cut_pending_evaluations_short():
    x, y = toy_problem()
    res = train(
        small_model(),
        x,
        y,
        config=TrainConfig(lr=1e-2, max_images=20_000),
        target_losses=[0.6],
        check_every=64,
        eval_at=[4_096],
        progress=False,
    )
    assert res.target_hits[0.6] < 4_096
    assert res.status == "reached_targets" and res.records[-1]["images_seen"] == 4_096


def test_target_checks_thin_out_as_training_goes_on(monkeypatch):
    """Checks every ``check_every`` images at first, then every 1/64 of the images seen: for 65,536 images and
    ``check_every=64``, 64 checks up to 4,096 images and about 64·ln(16) ≈ 177 after, not 1,024."""
    import repro.training.run

    x, y = toy_problem()
    calls = []
    real = repro.training.run.evaluate
    monkeypatch.setattr(repro.training.run, "evaluate", lambda *a: calls.append(1) or real(*a))
    res = train(
        small_model(),
        x,
        y,
        config=TrainConfig(lr=1e-3, max_images=65_536),
        target_losses=[-1.0],  # never reached: every check runs
        check_every=64,
        progress=False,
    )
    assert res.status == "completed" and not res.target_hits
    assert 64 + 150 <= len(calls) <= 64 + 200
