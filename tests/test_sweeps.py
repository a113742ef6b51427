"""Learning-rate sweeps, distance analysis and the harmonics task, on small synthetic problems."""

import numpy as np
import pandas as pd
import pytest
import torch

from repro.experiments.configs import HarmonicsConfig, LRSweepConfig
from repro.experiments.distance import EUCLID, distance_analysis
from repro.experiments.harmonics import run_harmonics
from repro.experiments.lr_sweep import run_lr_sweep
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
    assert "read back from the cache" in read_back.describe() and "cache" not in trained.describe()
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


def test_an_interrupted_sweep_resumes_from_its_finished_runs(tmp_path):
    """Each run is cached on its own: after losing the whole-sweep entry and one run's entry (as a crash in the
    middle of the sweep would leave things), only that run is trained again, and the rows are the same."""
    cfg = _tiny_sweep_config()
    first = run_lr_sweep(cfg, progress=False, cache_dir=tmp_path)
    assert first.runs_from_cache == 0
    whole, runs = sorted(tmp_path.glob("lr-sweep-[0-9a-f]*.pkl")), sorted(tmp_path.glob("lr-sweep-run-*.pkl"))
    assert len(whole) == 1 and len(runs) == len(cfg.lrs) * len(cfg.datasets) * cfg.n_seeds
    whole[0].unlink()
    runs[0].unlink()
    resumed = run_lr_sweep(cfg, progress=False, cache_dir=tmp_path)
    assert not resumed.from_cache and resumed.runs_from_cache == len(runs) - 1
    assert f"{len(runs) - 1} of its runs were read back from the per-run cache" in resumed.describe()
    same = [c for c in first.rows.columns if c != "seconds"]
    pd.testing.assert_frame_equal(first.rows[same], resumed.rows[same])
    assert (first.rows["seconds"] > 0).all() and "runs took" in first.describe()


def test_sweep_runs_trained_on_their_own_are_the_sweeps_runs(tmp_path):
    """``train_lr_sweep_run`` fills the same per-run cache entries as the sweep itself (the cluster runner trains
    each run as a task of its own): the sweep then reads every run back and gets the rows of a sweep trained in
    one go."""
    from repro.experiments.lr_sweep import lr_sweep_runs, train_lr_sweep_run

    cfg = _tiny_sweep_config()
    runs = lr_sweep_runs(cfg, seed=0)
    assert runs == [("spherical_harmonics", 1e-3, 0), ("spherical_harmonics", 1e-2, 0)]
    assert [train_lr_sweep_run(cfg, *run, cache_dir=tmp_path) for run in runs] == [False, False]
    assert train_lr_sweep_run(cfg, *runs[0], cache_dir=tmp_path)  # now read back
    assembled = run_lr_sweep(cfg, progress=False, cache_dir=tmp_path)
    assert not assembled.from_cache and assembled.runs_from_cache == len(runs)
    in_one_go = run_lr_sweep(cfg, progress=False)
    same = [c for c in in_one_go.rows.columns if c != "seconds"]
    pd.testing.assert_frame_equal(in_one_go.rows[same], assembled.rows[same])
    assert assembled.layers == in_one_go.layers
