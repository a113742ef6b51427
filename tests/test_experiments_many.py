"""The experiments that train several networks in one train_many call: each network's results equal those of
training it alone (a stack of one). The networks are the FC network, whose members are bitwise independent of their
co-members on CPU, so the comparisons are exact."""

import dataclasses

import numpy as np
import pandas as pd

from repro.analysis.class_stiffness import describe_run
from repro.experiments import init_study
from repro.experiments.class_stiffness import (
    ClassStiffnessRun,
    run_class_stiffness,
    run_class_stiffness_configs,
    run_class_stiffness_seeds,
    stack_groups,
)
from repro.experiments.configs import ClassStiffnessConfig, HarmonicsConfig
from repro.experiments.harmonics import run_harmonics

CFG = ClassStiffnessConfig(
    dataset="spherical_harmonics", arch="fc", n_train=200, n_stiffness=40, n_val=100, lr=1e-3,
    max_images=640, stages=(0, 64, 320, 640), n_boot=20, n_schedule=4,
)  # fmt: skip


def assert_same_run(a: ClassStiffnessRun, b: ClassStiffnessRun) -> None:
    """Equal histories, statuses, sizes, snapshots (matrices, summaries, Grams) and precision checks."""
    assert a.config == b.config and a.status == b.status
    assert (a.n_train, a.n_stiffness, a.n_val) == (b.n_train, b.n_stiffness, b.n_val)
    pd.testing.assert_frame_equal(a.history, b.history, check_exact=True)
    assert [s.images_seen for s in a.snapshots] == [s.images_seen for s in b.snapshots]
    for sa, sb in zip(a.snapshots, b.snapshots, strict=True):
        np.testing.assert_array_equal(sa.gram, sb.gram)
        for metric in ("sign", "cos"):
            np.testing.assert_array_equal(sa.matrices[metric], sb.matrices[metric])
            assert sa.summaries[metric] == sb.summaries[metric]
    assert a.precision == b.precision


def test_seeds_trained_together_equal_each_seed_alone():
    cfg = dataclasses.replace(CFG, n_seeds=3)
    runs = run_class_stiffness_seeds(cfg, seed=5, progress=False)
    assert len(runs) == 3 and all(r.trained_together == 3 for r in runs)
    assert "3 networks trained together" in describe_run(runs[0])
    for k, run in enumerate(runs):
        alone = run_class_stiffness(cfg, seed=5 + k, progress=False)
        assert alone.trained_together == 1 and "trained together" not in describe_run(alone)
        assert_same_run(run, alone)
    assert not runs[0].history.equals(runs[1].history)  # the seeds are different runs


def test_configs_with_other_data_budgets_and_stages_trained_together_equal_each_alone():
    """Like fig04's two regimes: permuted labels on the whole set, and a small subset trained longer."""
    main = dataclasses.replace(CFG, random_labels=True)
    contrast = dataclasses.replace(CFG, n_train=64, max_images=960, stages=(0, 64, 480, 960), random_labels=True)
    runs = run_class_stiffness_configs((main, contrast), seed=1, progress=False)
    assert [r.config for r in runs] == [main, contrast] and [r.n_train for r in runs] == [200, 64]
    for cfg, run in zip((main, contrast), runs, strict=True):
        assert_same_run(run, run_class_stiffness(cfg, seed=1, progress=False))


def test_runs_are_grouped_by_dataset_architecture_and_batch_size():
    other = [
        dataclasses.replace(CFG, dataset="mnist"),
        dataclasses.replace(CFG, arch="cnn"),
        dataclasses.replace(CFG, batch_size=16),
        dataclasses.replace(CFG, lr=1e-2, init="he", n_train=None),
    ]
    runs = [(CFG, 0), (other[0], 0), (other[1], 0), (CFG, 1), (other[2], 0), (other[3], 2)]
    assert stack_groups(runs) == [[0, 3, 5], [1], [2], [4]]


def test_runs_by_init_equal_each_scheme_alone():
    inits = ("torch", "he")
    configs = {"toy": CFG, "short": dataclasses.replace(CFG, max_images=320, stages=(0, 320))}
    runs = init_study.runs_by_init(configs, inits, seed=0, progress=False)
    assert all(r.trained_together == 4 for by_init in runs.values() for r in by_init.values())
    for chapter, cfg in configs.items():
        for init in inits:
            alone = run_class_stiffness(dataclasses.replace(cfg, init=init, n_schedule=0), seed=0, progress=False)
            assert_same_run(runs[chapter][init], alone)


def test_harmonics_degrees_trained_together_equal_each_degree_alone():
    cfg = HarmonicsConfig(dim=3, degrees=(1, 4), n_train=300, n_test=200, n_stiffness=60, lr=1e-3, max_images=640,
                          n_bins=8, n_boot=20)  # fmt: skip
    together = run_harmonics(cfg, seed=0, progress=False)
    assert list(together.rows["degree"]) == [1, 4]
    for degree in cfg.degrees:
        alone = run_harmonics(dataclasses.replace(cfg, degrees=(degree,)), seed=0, progress=False)
        row = together.rows[together.rows["degree"] == degree].reset_index(drop=True)
        pd.testing.assert_frame_equal(row, alone.rows, check_exact=True)
        assert together.data[degree] == alone.data[degree]
        np.testing.assert_array_equal(
            together.analyses[degree].critical["input"].ci, alone.analyses[degree].critical["input"].ci
        )
