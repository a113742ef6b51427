"""train_many: each member equal to train alone (float64), divergence, targets, shared/per-member arguments, errors;
a call killed part-way and taken up from its checkpoint ends exactly as an uninterrupted one."""

import copy
import itertools
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from repro.models import ConvNet, FCNet
from repro.training import Checkpoints, StackedForward, TrainConfig, check_stacked, train, train_many

TOL = 1e-10


def make(arch: str, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    if arch == "fc":
        net = FCNet(in_features=12, num_classes=3, hidden=(16, 16))
    else:
        net = ConvNet(in_channels=1, image_size=8, num_classes=3, channels=(4, 8))
    return net.double()


def data(arch: str, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    shape = (12,) if arch == "fc" else (1, 8, 8)
    x = torch.randn(n, *shape, generator=gen, dtype=torch.float64)
    return x, torch.randint(0, 3, (n,), generator=gen)


def flat(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def assert_weights_close(a: torch.Tensor, b: torch.Tensor) -> None:
    """Equal to 1e-10, relative to the weight's size where it exceeds 1 (a diverging member's reach 1e300)."""
    assert torch.all((a - b).abs() <= TOL * b.abs().clamp(min=1.0)), float((a - b).abs().max())


def assert_records_close(a: list[dict], b: list[dict]) -> None:
    assert [sorted(r) for r in a] == [sorted(r) for r in b]
    for ra, rb in zip(a, b, strict=True):
        for key, va in ra.items():
            vb = rb[key]
            if isinstance(va, float) and not math.isfinite(va):
                assert repr(va) == repr(vb), key
            else:
                assert va == pytest.approx(vb, rel=TOL, abs=TOL), key


def on_eval_solo(seen: int, net: nn.Module) -> dict:
    return {"w_sum": float(flat(net).sum()), "training_mode": net.training}


@pytest.mark.parametrize("arch", ["fc", "cnn"])
def test_each_member_equals_train_alone(arch):
    """Three members with different rates, seeds, data (sizes 100, 107, 90: batches cut short at epoch ends) and
    budgets (one ending mid-batch), two stopping at their targets, up to 251 steps: records (with the callback's
    output), statuses, target hits and images seen equal, weights to 1e-10."""
    datasets = [data(arch, n, seed) for n, seed in ((100, 1), (107, 2), (90, 3))]
    configs = [
        TrainConfig(lr=1e-2, seed=1, max_images=6_000, train_eval_size=50),
        TrainConfig(lr=3e-3, seed=2, max_images=9_003),
        TrainConfig(lr=1e-3, seed=3, max_images=8_003, train_eval_size=40),  # its last batch: 3 images
    ]
    x_val, y_val = data(arch, 20, 9)
    kwargs = dict(x_val=x_val, y_val=y_val, eval_at=[0, 100, 1_000, 3_000, 5_000], target_losses=[0.9, 0.6])
    inits = [make(arch, 10 + e) for e in range(3)]
    solo = []
    for e, (x, y) in enumerate(datasets):
        model = copy.deepcopy(inits[e])
        result = train(model, x, y, config=configs[e], on_eval=on_eval_solo, check_every=128, progress=False, **kwargs)
        solo.append((result, flat(model)))
    models = [copy.deepcopy(m) for m in inits]
    results = train_many(
        models,
        [x for x, _ in datasets],
        [y for _, y in datasets],
        configs=configs,
        on_eval=lambda e, seen, net: on_eval_solo(seen, net),
        check_every=128,
        progress=False,
        **kwargs,
    )
    assert len(results) == 3
    for e, (expected, weights) in enumerate(solo):
        got = results[e]
        assert (got.status, got.images_seen, got.target_hits) == (
            expected.status,
            expected.images_seen,
            expected.target_hits,
        )
        assert_records_close(got.records, expected.records)
        assert_weights_close(flat(models[e]), weights)
        assert not models[e].training
    assert [r.status for r in results] == ["reached_targets", "reached_targets", "completed"]
    assert results[2].images_seen == 8_003  # 251 steps, ending mid-batch


@pytest.mark.parametrize("arch", ["fc", "cnn"])
def test_diverging_members_are_recorded_like_train_and_spare_the_others(arch):
    """Member 1 diverges through its learning rate (1e300), member 2 through an infinite input met mid-run; both
    are recorded as train records them, and member 0 trains exactly as alone."""
    x, y = data(arch, 400, 1)
    x_inf = x.clone()
    x_inf[357].fill_(float("inf"))
    xs, configs = (
        [x, x, x_inf],
        [
            TrainConfig(lr=1e-2, seed=1, max_images=4_000, train_eval_size=50),
            TrainConfig(lr=1e300, seed=2, max_images=4_000, train_eval_size=50),
            TrainConfig(lr=1e-3, seed=3, max_images=4_000, train_eval_size=50),
        ],
    )
    evals = [[0, 64, 1_000, 4_000], [0, 64, 1_000, 4_000], [1_000, 4_000]]  # no eval at 0: row 357 may be in it
    inits = [make(arch, 20 + e) for e in range(3)]
    solo = []
    for e in range(3):
        model = copy.deepcopy(inits[e])
        solo.append((train(model, xs[e], y, config=configs[e], eval_at=evals[e], progress=False), flat(model)))
    models = [copy.deepcopy(m) for m in inits]
    results = train_many(models, xs, y, configs=configs, eval_at=evals, progress=False)
    assert [r.status for r in results] == ["completed", "diverged", "diverged"]
    assert 0 < results[2].images_seen < 1_000  # diverged mid-run, between two evaluation points
    for e, (expected, weights) in enumerate(solo):
        assert (results[e].status, results[e].images_seen) == (expected.status, expected.images_seen)
        assert_records_close(results[e].records, expected.records)
        assert torch.isfinite(flat(models[e])).all()  # the weights from before the diverging step
        assert_weights_close(flat(models[e]), weights)


def test_shared_and_per_member_arguments_agree():
    """One shared value and the same value given once per member give the same results."""
    x, y = data("fc", 96, 4)
    config = TrainConfig(lr=1e-2, max_images=640)
    targets = [0.8]
    shared_models = [make("fc", 30), make("fc", 31)]
    listed_models = [copy.deepcopy(m) for m in shared_models]
    a = train_many(shared_models, x, y, configs=config, eval_at=[0, 320], target_losses=targets, progress=False)
    b = train_many(
        listed_models,
        [x, x],
        [y, y],
        configs=[config, config],
        eval_at=[[0, 320], [0, 320]],
        target_losses=[targets, targets],
        check_every=[1024, 1024],
        progress=False,
    )
    for ra, rb in zip(a, b, strict=True):
        assert ra.records == rb.records and ra.status == rb.status and ra.target_hits == rb.target_hits
    for ma, mb in zip(shared_models, listed_models, strict=True):
        assert torch.equal(flat(ma), flat(mb))
    assert [r["images_seen"] for r in a[0].records] == [0, 320]


def test_permuted_labels_per_member_with_shared_inputs():
    """Shared inputs with a label permutation for one member: that member equals train on the permuted labels."""
    x, y = data("fc", 64, 5)
    y_perm = y[torch.randperm(64, generator=torch.Generator().manual_seed(0))]
    config = TrainConfig(lr=1e-2, seed=7, max_images=1_280)
    inits = [make("fc", 40), make("fc", 41)]
    expected = copy.deepcopy(inits[1])
    res_solo = train(expected, x, y_perm, config=config, eval_at=[1_280], progress=False)
    models = [copy.deepcopy(m) for m in inits]
    results = train_many(models, x, [y, y_perm], configs=config, eval_at=[1_280], progress=False)
    assert_records_close(results[1].records, res_solo.records)
    assert_weights_close(flat(models[1]), flat(expected))
    assert not torch.allclose(flat(models[0]), flat(models[1]))


def test_callbacks_get_the_member_index_and_its_current_weights():
    x, y = data("fc", 64, 6)
    seen_calls, targets_hit = [], []

    def on_eval(member, seen, net):
        seen_calls.append((member, seen))
        return {"member": member}

    models = [make("fc", 50), make("fc", 51)]
    results = train_many(
        models,
        x,
        y,
        configs=[TrainConfig(lr=1e-2, max_images=640), TrainConfig(lr=1e-2, max_images=320)],
        eval_at=[0, 320, 640],
        on_eval=on_eval,
        target_losses=[10.0],  # reached at the first check
        check_every=64,
        on_target=lambda member, target, seen, net: targets_hit.append((member, target, seen)),
        progress=False,
    )
    assert sorted(seen_calls) == [(0, 0), (0, 320), (0, 640), (1, 0), (1, 320)]
    assert [r["member"] for r in results[1].records] == [1, 1]
    assert sorted(targets_hit) == [(0, 10.0, 64), (1, 10.0, 64)]


def test_bad_input_is_refused_clearly():
    x, y = data("fc", 64, 7)
    models = [make("fc", 60), make("fc", 61)]
    with pytest.raises(ValueError, match="configs: got 3 values for 2 members"):
        train_many(models, x, y, configs=[TrainConfig()] * 3, progress=False)
    with pytest.raises(ValueError, match="x_train: got 1 values for 2 members"):
        train_many(models, [x], y, configs=TrainConfig(), progress=False)
    with pytest.raises(ValueError, match="one batch_size"):
        train_many(models, x, y, configs=[TrainConfig(batch_size=32), TrainConfig(batch_size=16)], progress=False)
    with pytest.raises(ValueError, match="distinct modules"):
        train_many([models[0], models[0]], x, y, configs=TrainConfig(), progress=False)
    with pytest.raises(ValueError, match="must be non-empty and match"):
        train_many(models, x, y[:10], configs=TrainConfig(), progress=False)
    with pytest.raises(ValueError, match="same parameter shapes"):
        other = FCNet(in_features=12, num_classes=3, hidden=(8, 16)).double()
        train_many([models[0], other], x, y, configs=TrainConfig(), progress=False)
    with pytest.raises(ValueError, match="one example's shape"):
        train_many(models, [x, x[:, :6]], y, configs=TrainConfig(), progress=False)
    with pytest.raises(ValueError, match="no stacking rule for Tanh"):
        train_many([nn.Sequential(nn.Linear(12, 3), nn.Tanh()) for _ in range(2)], x, y, configs=TrainConfig())


class _Residual(nn.Module):
    """Leaf modules a Linear and a ReLU, but a forward that is not their composition."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.act(self.fc(x))


def test_a_forward_that_is_not_the_leaf_chain_is_refused():
    models = [_Residual() for _ in range(2)]
    forward = StackedForward(models[0])
    with pytest.raises(ValueError, match="differs from the network's own"):
        check_stacked(forward, forward.stack(models), models, torch.randn(2, 3, 4))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_no_host_sync_per_step_on_cuda():
    """200 steps of train and of train_many (no evaluation points, no targets): the synchronising calls CUDA's
    debug mode reports are the few at the start, the epoch reshuffle and the end, not one per step."""
    import warnings

    x, y = data("fc", 6_400, 8)
    x, y = x.cuda(), y.cuda()
    config = TrainConfig(lr=1e-3, max_images=6_400)
    models = [make("fc", 70).cuda(), make("fc", 71).cuda()]
    for run in (
        lambda: train(models[0], x, y, config=config, check_every=10**9, progress=False),
        lambda: train_many(models, x, y, configs=config, check_every=10**9, progress=False),
    ):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            torch.cuda.set_sync_debug_mode("warn")
            try:
                run()
            finally:
                torch.cuda.set_sync_debug_mode("default")
        syncs = [w for w in caught if "synchroniz" in str(w.message)]
        assert len(syncs) < 20, [str(w.message) for w in syncs[:3]]


# --- checkpoints: a killed call taken up where its last save left it ---


class Killed(Exception):
    """Stands for a process killed part-way (a lost machine, the end of a session)."""


CONFIGS = [
    TrainConfig(lr=1e-2, seed=1, max_images=4_000, train_eval_size=50),
    TrainConfig(lr=1e300, seed=2, max_images=4_000, train_eval_size=50),  # diverges in its first steps
    TrainConfig(lr=1e-3, seed=3, max_images=3_003, train_eval_size=40),  # ends mid-batch
]
EVALS = [0, 640, 1_600, 3_003, 4_000]
TARGETS = [0.9, 0.7]


def _call(arch, inits, xs, y, *, checkpoints=None, kill_at=None, collected=None, made_here=None):
    """One train_many call on copies of ``inits``; ``kill_at=(member, images)`` raises Killed from that member's
    first evaluation at or past that many images. Returns ``(results, models, collected)``; ``collected`` lists
    every callback call (restored from a checkpoint when taken up), ``made_here`` those made in this call."""
    collected = [] if collected is None else collected
    made_here = [] if made_here is None else made_here
    models = [copy.deepcopy(m) for m in inits]

    def on_eval(member, seen, net):
        if kill_at is not None and member == kill_at[0] and seen >= kill_at[1]:
            raise Killed
        collected.append(("eval", member, seen, float(flat(net).sum())))
        made_here.append(collected[-1])
        return {"w_sum": float(flat(net).sum())}

    def on_target(member, target, seen, net):
        collected.append(("target", member, target, seen))
        made_here.append(collected[-1])

    results = train_many(
        models, xs, y, configs=CONFIGS, eval_at=EVALS, on_eval=on_eval, target_losses=TARGETS, check_every=128,
        on_target=on_target, progress=False, checkpoints=checkpoints,
    )  # fmt: skip
    return results, models, collected


def _saves(path, collected, every_seconds=0.0):
    def restore(state):
        collected[:] = state

    return Checkpoints(path, every_seconds, lambda: collected, restore)


def _assert_same_end(results, models, expected, expected_models):
    """A taken-up call ended as the uninterrupted one: statuses, images seen, target hits, records, and weights bit
    for bit, every model left in eval mode."""
    for got, want in zip(results, expected, strict=True):
        assert (got.status, got.images_seen, got.target_hits, got.records) == (
            want.status, want.images_seen, want.target_hits, want.records
        )  # fmt: skip
    for got, want in zip(models, expected_models, strict=True):
        assert torch.equal(flat(got), flat(want))
        assert not got.training


@pytest.mark.parametrize("arch", ["fc", "cnn"])
def test_a_killed_call_taken_up_from_its_checkpoint_ends_as_an_uninterrupted_one(arch, tmp_path):
    """Killed at member 0's evaluation at 1,600 images (member 1 diverged and left the stack before; member 2 has
    hit a target), saved after every step, then taken up by a second call on fresh copies of the initial models:
    the same results, weights equal bit for bit, and the callbacks' record neither lost nor doubled."""
    x, y = data(arch, 300, 1)
    xs = [x, x, x.flip(0)]
    inits = [make(arch, 80 + e) for e in range(3)]
    expected, expected_models, expected_calls = _call(arch, inits, xs, y)
    assert expected[1].status == "diverged" and expected[1].images_seen < 640
    assert expected[0].images_seen > 1_600 and expected[2].images_seen == 3_003

    path = tmp_path / "group.ckpt"
    collected: list = []
    with pytest.raises(Killed):
        _call(arch, inits, xs, y, checkpoints=_saves(path, collected), kill_at=(0, 1_600), collected=collected)
    assert path.is_file()
    assert len([c for c in collected if c[:2] == ("eval", 0)]) == 2  # at 0 and ≈ 640; killed in the one at ≈ 1,600
    resumed_calls: list = []
    made_here: list = []
    results, models, _ = _call(
        arch, inits, xs, y, checkpoints=_saves(path, resumed_calls), collected=resumed_calls, made_here=made_here
    )

    assert resumed_calls == expected_calls
    assert 0 < len(made_here) < len(expected_calls)  # taken up, not started afresh
    assert made_here == expected_calls[-len(made_here) :]
    _assert_same_end(results, models, expected, expected_models)


def test_a_finished_checkpoint_returns_its_results_without_training(tmp_path):
    """The final save of a finished call: a later call reads the results and weights from it and calls no callback."""
    x, y = data("fc", 300, 2)
    inits = [make("fc", 90 + e) for e in range(3)]
    path = tmp_path / "done.ckpt"
    calls: list = []
    first, first_models, _ = _call(
        "fc", inits, x, y, checkpoints=_saves(path, calls, every_seconds=1e9), collected=calls
    )
    assert path.is_file() and calls
    again_calls: list = []
    again, again_models, _ = _call(
        "fc", inits, x, y, checkpoints=_saves(path, again_calls), kill_at=(0, 0), collected=again_calls
    )  # kill_at: a callback called again would raise
    assert again_calls == calls
    assert [r.records for r in again] == [r.records for r in first]
    for got, want in zip(again_models, first_models, strict=True):
        assert torch.equal(flat(got), flat(want))


def test_a_checkpoint_of_other_settings_is_refused(tmp_path):
    x, y = data("fc", 300, 3)
    inits = [make("fc", 95 + e) for e in range(3)]
    path = tmp_path / "other.ckpt"
    _call("fc", inits, x, y, checkpoints=_saves(path, []))
    models = [copy.deepcopy(m) for m in inits]
    other = [TrainConfig(lr=3e-3, seed=e, max_images=4_000) for e in range(3)]
    with pytest.raises(ValueError, match="other settings"):
        train_many(models, x, y, configs=other, progress=False, checkpoints=Checkpoints(path))
    assert path.is_file()  # not removed: nothing is lost by a refusal


@pytest.mark.parametrize("change", ["initial weights", "held-out set", "callbacks", "eval points"])
def test_a_checkpoint_is_refused_by_a_call_that_differs_only_in(change, tmp_path):
    """Each of these would mix two calls' results if the file were taken up: a member's initial weights, a held-out
    set given or not, a callback given or not, the evaluation points (given as a NumPy array of many points)."""
    x, y = data("fc", 300, 3)
    inits = [make("fc", 95 + e) for e in range(3)]
    points = np.arange(0, 4_001, 2)  # 2,001 points: their repr would elide the middle
    path = str(tmp_path / "differs.ckpt")  # a str path is taken
    kwargs = dict(configs=CONFIGS, eval_at=points, on_eval=lambda e, seen, net: None, progress=False)
    train_many([copy.deepcopy(m) for m in inits], x, y, checkpoints=Checkpoints(path), **kwargs)
    models = [copy.deepcopy(m) for m in inits]
    if change == "initial weights":
        models = [make("fc", 99), *models[1:]]
    elif change == "held-out set":
        kwargs |= dict(x_val=x[:10], y_val=y[:10])
    elif change == "callbacks":
        kwargs["on_eval"] = None
    else:
        kwargs["eval_at"] = np.where(points == 2_000, 2_001, points)
    with pytest.raises(ValueError, match="other settings"):
        train_many(models, x, y, checkpoints=Checkpoints(path), **kwargs)


def test_a_call_taken_up_with_its_data_pooled_otherwise_reads_each_members_own_rows(tmp_path):
    """The checkpoint holds no row offsets into the pooled training data: killed with three separate tensors
    (pooled at rows 0, N, 2N) and taken up with the first two given as one tensor (0, 0, N), each member still
    reads its own rows and the call ends as an uninterrupted one."""
    x, y = data("fc", 300, 5)
    inits = [make("fc", 60 + e) for e in range(3)]
    shared = [x, x, x.flip(0)]
    expected, expected_models, expected_calls = _call("fc", inits, shared, y)
    path, collected = tmp_path / "pooled.ckpt", []
    with pytest.raises(Killed):
        _call("fc", inits, [x, x.clone(), x.flip(0)], y, checkpoints=_saves(path, collected), kill_at=(0, 1_600),
              collected=collected)  # fmt: skip
    resumed_calls, made_here = [], []
    results, models, _ = _call(
        "fc", inits, shared, y, checkpoints=_saves(path, resumed_calls), collected=resumed_calls, made_here=made_here
    )
    assert resumed_calls == expected_calls and 0 < len(made_here) < len(expected_calls)
    _assert_same_end(results, models, expected, expected_models)


@pytest.mark.parametrize(("kill_after", "every"), [(2, 0.0), (3, 0.0), (7, 3.0), (60, 3.0), (60, 7.0)])
def test_a_call_killed_after_any_step_is_taken_up_exactly(kill_after, every, tmp_path, monkeypatch):
    """Killed after ``kill_after`` steps, saving every step (``every`` 0: the save after step 2 holds member 1's
    divergence flag set but not yet read — the first check is at step 4) or every few steps of a fake clock (the
    steps after the last save are thrown away and taken again): the resumed call ends as an uninterrupted one."""
    import repro.training.many as tm

    x, y = data("fc", 300, 4)
    xs = [x, x, x.flip(0)]
    inits = [make("fc", 70 + e) for e in range(3)]
    expected, expected_models, expected_calls = _call("fc", inits, xs, y)
    clock = itertools.count()
    monkeypatch.setattr(tm, "time", SimpleNamespace(monotonic=lambda: float(next(clock))))
    real_step, steps = tm._step, itertools.count(1)

    def step(*args):
        if next(steps) > kill_after:
            raise Killed
        real_step(*args)

    monkeypatch.setattr(tm, "_step", step)
    path, collected = tmp_path / "k.ckpt", []
    with pytest.raises(Killed):
        _call("fc", inits, xs, y, checkpoints=_saves(path, collected, every), collected=collected)
    monkeypatch.setattr(tm, "_step", real_step)
    assert path.is_file()
    resumed_calls, made_here = [], []
    results, models, _ = _call(
        "fc", inits, xs, y, checkpoints=_saves(path, resumed_calls, every), collected=resumed_calls,
        made_here=made_here,
    )  # fmt: skip
    assert resumed_calls == expected_calls
    assert len(made_here) < len(expected_calls)  # taken up: the evaluations at 0 were not made again
    _assert_same_end(results, models, expected, expected_models)
