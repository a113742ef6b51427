"""Learning-rate sweeps, distance analysis and the harmonics task, on small synthetic problems."""

import os
import time
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from repro.analysis.lr_sweep import describe_sweep, group_seconds
from repro.data import resolve_data_root
from repro.experiments.configs import HarmonicsConfig, LRSweepConfig
from repro.experiments.distance import EUCLID, distance_analysis
from repro.experiments.domain_ranges import curve_range, stop_domain_ranges
from repro.experiments.harmonics import run_harmonics
from repro.experiments.lr_sweep import lr_sweep_group_files, run_lr_sweep
from repro.experiments.matrices import GroupMatrices, read_stop, stop_key, stored_stops
from repro.experiments.reanalysis import reanalyse_lr_sweep, stop_accuracy
from repro.measurements.store import load
from repro.models import FCNet
from repro.stiffness import stiffness_vs_distance


def test_distance_analysis_covers_every_layer_and_the_euclidean_input():
    torch.manual_seed(0)
    model = FCNet(in_features=5, num_classes=3, hidden=(16, 16))
    x, y = torch.randn(40, 5), torch.arange(40) % 3
    res = distance_analysis(model, x, y, n_bins=10, n_boot=10)
    assert set(res.critical) == {"input", "hidden1", "hidden2", "logits", EUCLID}
    for crit in res.critical.values():
        assert crit.profile.count.sum() == 40 * 39 // 2 or crit is res.critical[EUCLID]
        assert 0.0 <= crit.found_fraction <= 1.0
        if crit.xi is not None:
            assert crit.profile.edges[0] <= crit.xi <= crit.profile.edges[-1]


def test_a_dead_layer_has_no_crossing_instead_of_an_error():
    """Every ReLU of a hidden layer off (a diverged high-learning-rate run ends like this): its representations
    are all zero, no pair has a dot-product distance, and that layer reports no crossing."""
    torch.manual_seed(0)
    model = FCNet(in_features=5, num_classes=3, hidden=(16, 16))
    with torch.no_grad():
        model.blocks.hidden2[0].weight.zero_()
        model.blocks.hidden2[0].bias.fill_(-1.0)
    x, y = torch.randn(40, 5), torch.arange(40) % 3
    res = distance_analysis(model, x, y, n_bins=10, n_boot=10)
    dead = res.critical["hidden2"]
    assert dead.xi is None and dead.found_fraction == 0.0 and dead.profile.count.sum() == 0
    assert np.isnan(dead.profile.mean).all() and np.isnan(dead.ci).all()
    assert res.critical["hidden1"].profile.count.sum() == 40 * 39 // 2


def test_no_finite_pair_needs_explicit_edges():
    S, D = torch.ones(4, 4), torch.full((4, 4), float("nan"))
    with pytest.raises(ValueError, match="give explicit edges"):
        stiffness_vs_distance(S, D, 5)
    prof = stiffness_vs_distance(S, D, np.linspace(-1, 1, 6))
    assert prof.count.sum() == 0 and np.isnan(prof.mean).all()


def _tiny_sweep_config() -> LRSweepConfig:
    return LRSweepConfig(
        datasets=("spherical_harmonics",),
        lrs=(1e-3, 1e-2),
        target_losses=(0.65, 0.6),
        fixed_images=640,
        n_train=320,
        n_stiffness=30,
        max_images=4_000,
        check_every=128,
        n_bins=8,
        n_boot=10,
    )


def test_lr_sweep_rows_for_every_rule_and_learning_rate():
    cfg = _tiny_sweep_config()
    sweep = run_lr_sweep(cfg, progress=False)
    assert not sweep.from_cache
    rows = sweep.rows
    assert set(rows["lr"]) == {1e-3, 1e-2}
    for lr in cfg.lrs:
        mine = rows[rows["lr"] == lr]
        assert sorted(mine.loc[mine["rule"] == "loss", "stop"]) == [0.6, 0.65]
        assert (mine.loc[mine["rule"] == "images", "images_seen"] == 640).all()
    reached = rows[rows["train_loss_target_reached"]]
    assert {"between", "between_lo", "xi[input]", "xi_hi[logits]", f"xi[{EUCLID}]"} <= set(reached.columns)
    found = reached[[f"xi_found[{layer}]" for layer in sweep.layers]].to_numpy()
    assert ((found >= 0) & (found <= 1)).all()  # the share of bootstrap replicates crossing, per layer
    assert np.all(reached["between_lo"] <= reached["between"] + 1e-12)
    assert sweep.layers[0] == "input" and sweep.layers[-1] == EUCLID


def test_lr_sweep_cache_returns_the_same_sweep_for_the_same_settings(tmp_path):
    cfg = _tiny_sweep_config()
    trained = run_lr_sweep(cfg, progress=False, cache_dir=tmp_path)
    read_back = run_lr_sweep(cfg, progress=False, cache_dir=tmp_path)
    assert not trained.from_cache and read_back.from_cache
    pd.testing.assert_frame_equal(trained.rows, read_back.rows)
    assert "read back from the cache" in describe_sweep(read_back) and "cache" not in describe_sweep(trained)
    other_seed = run_lr_sweep(cfg, progress=False, cache_dir=tmp_path, seed=1)
    assert not other_seed.from_cache and set(other_seed.rows["seed"]) == {1}


def test_harmonics_run_one_row_per_degree():
    cfg = HarmonicsConfig(
        dim=3, degrees=(1, 3), n_train=300, n_test=100, n_stiffness=40, lr=1e-3, max_images=640, n_bins=8, n_boot=10
    )
    run = run_harmonics(cfg, progress=False)
    assert run.rows["degree"].tolist() == [1, 3]
    assert set(run.analyses) == {1, 3}
    assert run.rows["val_acc"].between(0, 1).all() and run.rows["found_fraction"].between(0, 1).all()
    for row in run.rows.itertuples():  # each row reads its own degree's analysis, in input space
        crit = run.analyses[row.degree].critical["input"]
        assert (np.isnan(row.xi) if crit.xi is None else row.xi == crit.xi)
        assert (row.xi_lo, row.xi_hi) == tuple(crit.ci) and row.found_fraction == crit.found_fraction
        assert f"degree={row.degree}" in run.data[row.degree]
        oracle = run.oracles[row.degree]  # label agreement of the same set, same bins
        assert (row.oracle_lo, row.oracle_hi, row.oracle_found) == (*oracle.ci, oracle.found_fraction)
        assert np.array_equal(oracle.profile.edges, crit.profile.edges)
    assert run.rows["theory_xi"].tolist() == [0.0, pytest.approx(np.sqrt(3 / 5))]


def test_distance_run_reaches_its_target_loss():
    from repro.experiments.configs import DistanceConfig
    from repro.experiments.distance import run_distance

    cfg = DistanceConfig(
        dataset="spherical_harmonics",
        n_train=320,
        n_stiffness=30,
        lr=1e-2,
        target_loss=0.65,
        max_images=6_400,
        n_bins=8,
        n_boot=10,
    )
    run = run_distance(cfg, progress=False)
    assert run.images_seen is not None and run.train_loss <= 0.66
    assert run.layers[0] == "input" and run.layers[-1] == EUCLID


def test_an_interrupted_sweep_resumes_from_its_finished_groups(tmp_path):
    """Each group (one dataset's runs, trained together) is cached on its own: with the whole-sweep entry lost (a
    crash before the sweep was assembled) the group is read back; with its entry lost too it is trained again, to
    the same rows."""
    cfg = _tiny_sweep_config()
    first = run_lr_sweep(cfg, progress=False, cache_dir=tmp_path)
    assert first.groups_from_cache == 0
    whole = sorted(tmp_path.glob("lr-sweep-[0-9a-f]*.measurement"))
    groups = sorted(tmp_path.glob("lr-sweep-group-*.measurement"))
    assert len(whole) == 1 and len(groups) == len(cfg.datasets)
    whole[0].unlink()
    resumed = run_lr_sweep(cfg, progress=False, cache_dir=tmp_path)
    assert not resumed.from_cache and resumed.groups_from_cache == len(groups)
    told = f"{len(groups)} of its {len(groups)} groups were read back from the per-group cache"
    assert told in describe_sweep(resumed)
    assert group_seconds(resumed) == group_seconds(first)  # the groups' cost, also when read back
    assert 0 < group_seconds(first) <= first.seconds_total  # timed inside the call that trained them
    pd.testing.assert_frame_equal(first.rows, resumed.rows)
    for path in tmp_path.glob("lr-sweep-*.measurement"):
        path.unlink()
    retrained = run_lr_sweep(cfg, progress=False, cache_dir=tmp_path)
    assert retrained.groups_from_cache == 0
    same = [c for c in first.rows.columns if c != "seconds"]
    pd.testing.assert_frame_equal(first.rows[same], retrained.rows[same])
    assert (first.rows["seconds"] > 0).all() and (first.rows["group_runs"] == len(cfg.lrs) * cfg.n_seeds).all()
    assert f"The {len(cfg.lrs) * cfg.n_seeds} runs trained in 1 groups" in describe_sweep(first)


class _Killed(Exception):
    """Stands for a process killed part-way through a group (a lost machine, the end of a session)."""


def test_a_group_killed_part_way_is_taken_up_from_its_checkpoint(tmp_path, monkeypatch):
    """A group saving its checkpoint after every step and killed at its third stop: the next call takes it up
    (measuring only the stops after the last save) and stores the rows and matrices of an uninterrupted group;
    the checkpoint is removed once the group is stored."""
    from repro.experiments import lr_sweep

    cfg = replace(_tiny_sweep_config(), n_seeds=2)
    real_stop_row, calls = lr_sweep.stop_row, []

    def stop_row(*args, **kwargs):
        calls.append(kwargs["seed"])
        if kill and len(calls) == 3:
            raise _Killed
        return real_stop_row(*args, **kwargs)

    monkeypatch.setattr(lr_sweep, "stop_row", stop_row)
    reference, kill = tmp_path / "reference", False
    lr_sweep.train_lr_sweep_group(cfg, "spherical_harmonics", 0, cache_dir=reference)
    stops, calls[:] = len(calls), []
    monkeypatch.setattr(lr_sweep, "CHECKPOINT_SECONDS", 0.0)
    taken_up = tmp_path / "taken-up"
    kill = True
    with pytest.raises(_Killed):
        lr_sweep.train_lr_sweep_group(cfg, "spherical_harmonics", 0, cache_dir=taken_up)
    assert len(list(taken_up.glob("lr-sweep-group-*.ckpt"))) == 1 and not list(taken_up.glob("*.measurement"))
    kill, calls[:] = False, []
    assert not lr_sweep.train_lr_sweep_group(cfg, "spherical_harmonics", 0, cache_dir=taken_up)
    assert 0 < len(calls) < stops  # taken up: the stops measured before the last save are not measured again
    assert not list(taken_up.glob("*.ckpt"))
    [want_rows], [got_rows] = sorted(reference.glob("*.measurement")), sorted(taken_up.glob("*.measurement"))
    assert want_rows.name == got_rows.name  # the same cache entry
    want, got = load(want_rows).value, load(got_rows).value
    pd.testing.assert_frame_equal(pd.DataFrame(want).drop(columns="seconds"), pd.DataFrame(got).drop(columns="seconds"))
    with np.load(want_rows.with_suffix(".npz")) as a, np.load(got_rows.with_suffix(".npz")) as b:
        assert sorted(a.files) == sorted(b.files)
        for name in a.files:
            np.testing.assert_array_equal(a[name], b[name])


def test_a_checkpoint_under_another_key_is_named_not_taken_up(tmp_path):
    """A group that starts afresh names the old checkpoints of other keys, but not one written recently (a group
    of another sweep may be training) nor the checkpoint of another group of its own sweep (trained beside it)."""
    from repro.experiments.lr_sweep import train_lr_sweep_group

    cfg = replace(_tiny_sweep_config(), datasets=("spherical_harmonics", "mnist"))
    root = str(resolve_data_root(None).resolve())
    sibling = lr_sweep_group_files(cfg, "mnist", 0, torch.device("cpu"), root, tmp_path)[0].with_suffix(".ckpt")
    stale, live = tmp_path / "lr-sweep-group-0123456789abcdef.ckpt", tmp_path / "lr-sweep-group-fedcba9876543210.ckpt"
    for path in (stale, live, sibling):
        path.write_bytes(b"written elsewhere")
    an_hour_ago = time.time() - 3600
    for path in (stale, sibling):
        os.utime(path, (an_hour_ago, an_hour_ago))
    with pytest.warns(UserWarning, match="starts afresh") as caught:
        train_lr_sweep_group(cfg, "spherical_harmonics", 0, cache_dir=tmp_path)
    (message,) = [str(w.message) for w in caught if "starts afresh" in str(w.message)]
    assert stale.name in message and live.name not in message and sibling.name not in message
    assert stale.is_file() and live.is_file() and sibling.is_file()  # named, not removed


def test_sweep_groups_trained_on_their_own_are_the_sweeps_groups(tmp_path):
    """``train_lr_sweep_group`` fills the same per-group cache entries as the sweep itself (the cluster runner
    trains each group as a task of its own): the sweep then reads every group back and gets the rows of a sweep
    trained in one go."""
    from repro.experiments.lr_sweep import lr_sweep_groups, train_lr_sweep_group

    cfg = replace(_tiny_sweep_config(), n_seeds=2)
    groups = lr_sweep_groups(cfg)
    assert groups == ["spherical_harmonics"]
    assert [train_lr_sweep_group(cfg, g, 0, cache_dir=tmp_path) for g in groups] == [False]
    assert train_lr_sweep_group(cfg, groups[0], 0, cache_dir=tmp_path)  # now read back
    assembled = run_lr_sweep(cfg, progress=False, cache_dir=tmp_path)
    assert not assembled.from_cache and assembled.groups_from_cache == len(groups)
    in_one_go = run_lr_sweep(cfg, progress=False)
    same = [c for c in in_one_go.rows.columns if c != "seconds"]
    pd.testing.assert_frame_equal(in_one_go.rows[same], assembled.rows[same])
    assert assembled.layers == in_one_go.layers
    pairs = set(zip(assembled.rows["lr"], assembled.rows["seed"], strict=True))
    assert pairs == {(lr, s) for lr in cfg.lrs for s in (0, 1)}


def test_a_run_trained_in_a_group_equals_the_run_trained_alone():
    """The runs of a group train as one stacked network (``train_many``), each as it would alone: a sweep of one
    learning rate gives that rate's rows of the two-rate sweep (the FC network's members do not interact; equal up
    to float rounding)."""
    cfg = _tiny_sweep_config()
    both = run_lr_sweep(cfg, progress=False).rows
    alone = run_lr_sweep(replace(cfg, lrs=cfg.lrs[1:]), progress=False).rows
    mine = both[both["lr"] == cfg.lrs[1]].reset_index(drop=True)
    same = [c for c in mine.columns if c not in ("seconds", "group_runs")]
    pd.testing.assert_frame_equal(mine[same], alone[same], rtol=1e-6, atol=1e-6)
    assert (alone["group_runs"] == 1).all() and (mine["group_runs"] == 2).all()


_MEASURED = ["within", "between", "between_lo", "between_hi"]


@pytest.fixture(scope="module")
def cached_sweep(tmp_path_factory):
    """The tiny sweep with two seeds and a target never reached, trained once into a cache folder: ``(config, sweep,
    cache folder)``."""
    cfg = replace(_tiny_sweep_config(), n_seeds=2, target_losses=(0.65, 0.6, 1e-6))
    cache = tmp_path_factory.mktemp("cache")
    return cfg, run_lr_sweep(cfg, progress=False, cache_dir=cache), cache


def _root() -> str:
    return str(resolve_data_root(None).resolve())


def _measured_columns(sweep) -> list[str]:
    kinds = ("xi", "xi_lo", "xi_hi", "xi_found")
    return _MEASURED + [f"{kind}[{layer}]" for layer in sweep.layers for kind in kinds]


def test_stored_matrices_reanalysed_give_the_cached_rows(cached_sweep):
    cfg, sweep, cache = cached_sweep
    rows = reanalyse_lr_sweep(cfg, cache_dir=cache)
    assert sweep.rows["train_loss_target_reached"].any() and (~sweep.rows["train_loss_target_reached"]).any()
    pd.testing.assert_frame_equal(rows[_measured_columns(sweep)], sweep.rows[_measured_columns(sweep)])
    pd.testing.assert_frame_equal(rows, sweep.rows)


def test_stored_matrices_cover_every_stop_reached(cached_sweep):
    cfg, sweep, cache = cached_sweep
    reached = sweep.rows[sweep.rows["images_seen"].notna()]
    expected = {(r.lr, r.seed, r.rule, float(r.stop)) for r in reached.itertuples()}
    matrices_file = lr_sweep_group_files(cfg, "spherical_harmonics", 0, torch.device("cpu"), _root(), cache)[1]
    stops = stored_stops(matrices_file)
    assert len(stops) == len(set(stops)) and set(stops) == expected


def test_reanalysis_with_other_bins_and_replicates(cached_sweep):
    cfg, sweep, cache = cached_sweep
    rows = reanalyse_lr_sweep(cfg, cache_dir=cache, n_bins=5, n_boot=20)
    reached = rows["train_loss_target_reached"]
    layers = sweep.layers
    xi = rows.loc[reached, [f"xi[{layer}]" for layer in layers]].to_numpy()
    assert not np.allclose(xi, sweep.rows.loc[reached, [f"xi[{layer}]" for layer in layers]], equal_nan=True)
    found = rows.loc[reached, [f"xi_found[{layer}]" for layer in layers]].to_numpy()
    assert ((found >= 0) & (found <= 1)).all()
    assert (rows.loc[reached, "between_lo"] <= rows.loc[reached, "between_hi"]).all()
    pd.testing.assert_series_equal(rows["between"], sweep.rows["between"])  # the point estimate needs no bins
    lo, hi = (rows.loc[reached, [f"{k}[{layer}]" for layer in layers]].to_numpy() for k in ("xi_lo", "xi_hi"))
    assert (lo[np.isfinite(lo)] <= hi[np.isfinite(lo)]).all()


def test_reanalysis_without_stored_matrices_is_a_clear_error(cached_sweep, tmp_path):
    cfg, _, cache = cached_sweep
    with pytest.raises(FileNotFoundError, match="rows of the learning-rate sweep's group 'spherical_harmonics'"):
        reanalyse_lr_sweep(cfg, cache_dir=tmp_path)
    for path in cache.iterdir():
        if path.suffix == ".measurement":
            (tmp_path / path.name).write_bytes(path.read_bytes())
    with pytest.raises(FileNotFoundError, match=r"matrices of .* 'spherical_harmonics' .*\.npz is missing"):
        reanalyse_lr_sweep(cfg, cache_dir=tmp_path)


def test_stop_accuracy_is_read_from_the_logits_stored_at_each_stop(tmp_path):
    """A group file written by hand: 3 of 4 held-out images classified right by the stored logits."""
    cfg = _tiny_sweep_config()
    rows_file, matrices_file = lr_sweep_group_files(
        cfg, "spherical_harmonics", 0, torch.device("cpu"), _root(), tmp_path
    )
    rows_file.write_bytes(b"")  # stop_accuracy needs the group's rows to exist, not to be read
    x, y = torch.randn(4, 3), torch.tensor([0, 1, 1, 0])
    logits = torch.tensor([[2.0, -1.0], [0.0, 3.0], [1.0, 0.5], [0.2, 0.1]])
    matrices = GroupMatrices()
    matrices.add_set(0, x, y)
    matrices.add_stop(stop_key(1e-3, 0, "loss", 0.6), torch.eye(4), {"input": x, "hidden1": x.abs(), "logits": logits})
    matrices.save(matrices_file)
    acc = stop_accuracy(cfg, cache_dir=tmp_path)
    assert acc[["dataset", "lr", "seed", "rule", "stop"]].values.tolist() == [
        ["spherical_harmonics", 1e-3, 0, "loss", 0.6]
    ]
    assert acc["held_out_accuracy"].item() == 0.75
    assert acc["held_out_loss"].item() == pytest.approx(float(torch.nn.functional.cross_entropy(logits.double(), y)))
    assert acc["chance"].item() == 0.5


def test_stop_accuracy_covers_every_stop_reached(cached_sweep):
    cfg, sweep, cache = cached_sweep
    acc = stop_accuracy(cfg, cache_dir=cache)
    reached = sweep.rows[sweep.rows["images_seen"].notna()]
    keys = ["lr", "seed", "rule", "stop"]
    assert sorted(map(tuple, acc[keys].values.tolist())) == sorted(map(tuple, reached[keys].values.tolist()))
    assert acc["held_out_accuracy"].between(0, 1).all() and (acc["held_out_loss"] > 0).all()
    with pytest.raises(FileNotFoundError, match="rows of the learning-rate sweep's group"):
        stop_accuracy(cfg, cache_dir=cache / "elsewhere")


def test_domain_ranges_agree_with_the_rows_about_every_crossing(cached_sweep):
    """The measurable range of every stop reached and distance, read from the stored matrices: the curve crosses
    exactly where the sweep's row has a ξ, and a curve that does not cross reaches no further than its range."""
    cfg, sweep, cache = cached_sweep
    ranges = stop_domain_ranges(cfg, cache_dir=cache)
    reached = sweep.rows[sweep.rows["images_seen"].notna()]
    assert len(ranges) == len(reached) * len(sweep.layers)
    keys = ["dataset", "lr", "seed", "rule", "stop"]
    for layer, g in ranges.groupby("layer"):
        merged = g.merge(reached, on=keys, validate="one_to_one")
        assert (merged["crosses"] == merged[f"xi[{layer}]"].notna()).all(), layer
        crossed = merged[merged["crosses"]]
        if layer == EUCLID:  # a crossing lies inside the measured range
            assert (crossed[f"xi[{layer}]"] <= crossed["range_xi"] + 1e-12).all()
        else:
            assert (crossed[f"xi[{layer}]"] >= crossed["range_xi"] - 1e-12).all()


@pytest.mark.parametrize(
    ("stiffness", "expected"),
    [
        ("near", {"range_xi": 8.5, "starts_positive": True, "crosses": True}),  # positive up to distance 4
        ("positive", {"range_xi": 8.5, "starts_positive": True, "crosses": False}),  # a domain beyond the range
        ("negative", {"range_xi": 8.5, "starts_positive": False, "crosses": False}),
    ],
)
def test_curve_range_on_constructed_curves(stiffness, expected):
    """Twelve points on a line, distance |i − j|; unit bins from 0 to 11: bin k holds the 12 − k pairs at distance k
    (the last bin also the one pair at 11), so with at least 4 pairs a bin the curve is measured out to bin 8."""
    n = 12
    pos = torch.arange(n, dtype=torch.float64)
    D = (pos[:, None] - pos[None, :]).abs()
    S = {"near": torch.where(D <= 4, 1.0, -1.0), "positive": torch.ones(n, n), "negative": -torch.ones(n, n)}
    out = curve_range(S[stiffness].double(), D, np.arange(0.0, 12.0), same_point="low", min_count=4)
    assert out == expected


def test_a_sign_stiffness_matrix_is_stored_losslessly(tmp_path):
    S = torch.tensor([[1.0, -1.0, float("nan")], [-1.0, 1.0, 0.0], [float("nan"), 0.0, 1.0]], dtype=torch.float64)
    reps = {"input": torch.zeros(3, 2), "hidden1": torch.randn(3, 4)}
    x, y = torch.zeros(3, 2), torch.tensor([0, 1, 1])
    group = GroupMatrices()
    group.add_set(0, x, y)
    group.add_stop(stop_key(1e-3, 0, "loss", 0.4), S, reps)
    group.save(tmp_path / "g.npz")
    assert stored_stops(tmp_path / "g.npz") == [(1e-3, 0, "loss", 0.4)]
    with np.load(tmp_path / "g.npz") as npz:
        stop = read_stop(npz, 1e-3, 0, "loss", 0.4, torch.device("cpu"))
    assert torch.equal(stop.S.isnan(), S.isnan()) and torch.equal(stop.S.nan_to_num(), S.nan_to_num())
    assert list(stop.reps) == ["input", "hidden1"] and torch.equal(stop.reps["hidden1"], reps["hidden1"])
    assert torch.equal(stop.y, y)


def test_the_stall_rule_changes_only_runs_that_miss_a_target():
    """With a target no run reaches (1e-6), the stall rule (checked from 2,560 images on, after every other stop; a
    gain of 60 % per doubling, so that these small runs stall) stops runs before their budget and records the target
    as missed at the images seen; every stop a run reached is measured as without the rule (the fixed-budget stop
    included), and the description says how the runs that missed stopped. The group reports where its time went."""
    cfg = replace(_tiny_sweep_config(), target_losses=(0.65, 1e-6), max_images=12_000)
    plain = run_lr_sweep(cfg, progress=False)
    ruled = run_lr_sweep(replace(cfg, stall_min_images=2_560, stall_min_gain=0.6), progress=False)
    reached = [c for c in plain.rows.columns if c not in ("seconds", "status", "missed_at")]
    got = ruled.rows[ruled.rows["train_loss_target_reached"]][reached].reset_index(drop=True)
    expected = plain.rows[plain.rows["train_loss_target_reached"]][reached].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected)
    missed = ruled.rows[~ruled.rows["train_loss_target_reached"]]
    assert (missed["stop"] == 1e-6).all() and (missed["status"] == "stalled").all()
    assert (missed["missed_at"] < cfg.max_images).all() and (missed["missed_at"] >= 2_560).all()
    assert (plain.rows.loc[~plain.rows["train_loss_target_reached"], "missed_at"] == cfg.max_images).all()
    assert "2 runs: 2 stalled at" in describe_sweep(ruled)
    assert "2 runs: 2 with the budget spent at 12,000 images" in describe_sweep(plain)
    [group] = ruled.group_phases.values()
    assert group["read_back"] is False and group["phases"]["counts"]["images_trained"] == missed["missed_at"].sum()
    trained_without = plain.group_phases["spherical_harmonics"]["phases"]["counts"]["images_trained"]
    assert group["phases"]["counts"]["images_trained"] < trained_without == cfg.max_images * len(cfg.lrs)
