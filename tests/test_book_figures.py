"""Every figure of repro.book.figures drawn once on a tiny run: it returns a figure with the axes it promises."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib.figure import Figure

from repro.analysis.sweep_domains import domain_table
from repro.book import figures
from repro.experiments.class_stiffness import run_class_stiffness
from repro.experiments.configs import ClassStiffnessConfig, HarmonicsConfig
from repro.experiments.distance import EUCLID, distance_analysis
from repro.experiments.harmonics import run_harmonics
from repro.experiments.numerics import finite_difference_check
from repro.models import FCNet

TINY = ClassStiffnessConfig(
    dataset="spherical_harmonics", arch="fc", n_train=200, n_stiffness=30, n_val=60, lr=1e-3, max_images=320,
    stages=(0, 64, 320), n_boot=10, n_stiffness_train=20, textbook_numerics=True, n_schedule=2,
)  # fmt: skip


@pytest.fixture(scope="module")
def run():
    return run_class_stiffness(TINY, seed=0, progress=False)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _panels(fig: Figure) -> list:
    """The titled axes of a figure: its panels (the shared colour bar has no title)."""
    return [ax for ax in fig.axes if ax.get_title()]


def test_run_stages_one_panel_per_stage(run):
    fig = figures.plot_run_stages(run, "sign", "tiny")
    assert isinstance(fig, Figure) and len(_panels(fig)) == len(run.snapshots) == 3
    assert "within" in _panels(fig)[0].get_title()


def test_class_stiffness_grid_and_stages(run):
    matrices = [s.matrices["cos"] for s in run.snapshots]
    fig = figures.plot_class_stiffness_stages(matrices, ["a", "b", "c"], run.class_names, suptitle="t")
    assert [ax.get_title() for ax in _panels(fig)] == ["a", "b", "c"]
    grid = figures.plot_class_stiffness_grid([matrices[:2], matrices[1:]], [["a", "b"], ["c", "d"]], run.class_names,
                                             suptitle="t", row_labels=["r1", "r2"])  # fmt: skip
    assert len(_panels(grid)) == 4


def test_pair_kinds_one_row_per_kind(run):
    fig = figures.plot_pair_kinds(run, "sign", "tiny")
    assert len(_panels(fig)) == 3 * len(run.snapshots)


def test_hierarchy_matrix_outlines_the_groups(run):
    fig = figures.plot_hierarchy_matrix(
        run.snapshots[1].matrices["sign"], run.class_names, (0, 1), ("first", "second"), title="groups"
    )
    assert _panels(fig)[0].get_title() == "groups"


def test_training_dynamics_three_panels(run):
    fig = figures.plot_training_dynamics([run.history], [64], "tiny")
    loss, within, between = fig.axes
    assert {line.get_label() for line in loss.get_lines()} >= {"training loss", "validation loss"}
    assert between.get_xscale() == "log" and within.get_ylabel() == "within-class stiffness"


def test_numerics_comparison_on_a_run(run):
    fig = figures.plot_numerics_comparison([run.history], [None], [0], "tiny")
    assert len(fig.axes) == 3 and "seed 0: textbook, float64" in [line.get_label() for line in fig.axes[0].get_lines()]


def test_finite_difference_two_panels():
    torch.manual_seed(0)
    model = FCNet(in_features=4, num_classes=2, hidden=(6,))
    x = torch.randn(2, 4)
    df = finite_difference_check(model, x[0], torch.tensor(0), x[1], torch.tensor(1), (1e-1, 1e-2, 1e-3))
    fig = figures.plot_finite_difference([df], ["pair"])
    assert len(fig.axes) == 2 and fig.axes[0].get_xscale() == "log"


def test_distance_profiles_one_panel_per_layer():
    torch.manual_seed(0)
    model = FCNet(in_features=3, num_classes=2, hidden=(8, 8))
    x = torch.nn.functional.normalize(torch.randn(40, 3), dim=1)
    analysis = distance_analysis(model, x, (x[:, 0] > 0).long(), n_bins=6, min_count=2, n_boot=5)
    layers = list(analysis.critical)
    fig = figures.plot_distance_profiles(analysis.critical, layers, title="tiny")
    assert EUCLID in layers and len([ax for ax in fig.axes if ax.has_data()]) == len(layers)


def test_harmonics_profile_and_domain_size():
    cfg = HarmonicsConfig(dim=3, degrees=(1, 2), n_train=100, n_test=60, n_stiffness=30, lr=1e-3, max_images=128,
                          n_bins=6, n_boot=5)  # fmt: skip
    hrun = run_harmonics(cfg, progress=False)
    fig = figures.plot_harmonics(hrun.rows, {k: a.critical["input"] for k, a in hrun.analyses.items()}, title="t")
    profiles, sizes = fig.axes[:2]
    assert len(profiles.get_lines()) >= 2 and sizes.get_xlabel()
    resolved = pd.Series([True, False], index=hrun.rows.index)
    (ax,) = figures.plot_harmonics_resolution(hrun.rows, resolved, title="t").axes
    assert len(ax.patches) == 1 and len(ax.get_legend().get_texts()) == 3  # degree 2 shaded; theory, oracle, trained


def test_domain_vs_lr_one_panel_per_dataset():
    rows = pd.DataFrame(
        {"dataset": ["a", "a", "b", "b"], "lr": [1e-3, 1e-2] * 2, "seed": 0, "rule": "loss", "stop": 0.1,
         "xi[input]": [0.5, 0.2, 0.4, np.nan], "xi_lo[input]": [0.4, 0.1, 0.3, np.nan],
         "xi_hi[input]": [0.6, 0.3, 0.5, np.nan], "xi_found[input]": [1.0, 0.9, 0.8, 0.1]}
    )  # fmt: skip
    sized = domain_table(rows, ["input"])
    np.testing.assert_allclose(sized["size"].iloc[:2], [0.5, 0.8])  # 1 − ξ for the dot-product distance
    fig = figures.plot_domain_vs_lr(sized, ["input"], datasets=["a", "b"], title="t")
    assert len(fig.axes) == 2 and fig.axes[0].get_xscale() == "log"


def test_domain_vs_lr_averages_the_same_seeds_for_point_and_bar():
    # at lr 1e-2 seed 1's curve does not cross (no size) but some of its replicates do (an interval): averaging the
    # interval over both seeds and the size over one put the point below its bar (paper-profile fig10, mnist hidden2)
    sized = pd.DataFrame(
        {"dataset": "a", "layer": "input", "lr": [1e-3, 1e-3, 1e-2, 1e-2], "seed": [0, 1, 0, 1],
         "size": [0.20, 0.22, 0.32, np.nan], "size_lo": [0.18, 0.20, 0.31, 0.34], "size_hi": [0.22, 0.24, 0.33, 0.35]}
    )  # fmt: skip
    fig = figures.plot_domain_vs_lr(sized, ["input"], datasets=["a"], title="t")
    (ax,) = fig.axes
    (points,) = [line for line in ax.get_lines() if line.get_label() == "input"]
    np.testing.assert_allclose(points.get_ydata(), [0.21, 0.32])
    (bars,) = [c for c in ax.collections if len(c.get_segments()) == 2]
    spans = sorted((float(seg[:, 1].min()), float(seg[:, 1].max())) for seg in bars.get_segments())
    np.testing.assert_allclose(spans, [(0.19, 0.23), (0.31, 0.33)])
    plt.close(fig)


def test_a_domain_beyond_the_measured_range_is_drawn_as_an_upward_arrow_at_its_bound():
    sized = pd.DataFrame(
        {"dataset": "a", "layer": "input", "lr": [1e-3, 1e-3, 1e-2, 1e-2], "seed": [0, 1, 0, 1],
         "size": [0.20, 0.22, 0.90, 0.90], "size_lo": [0.18, 0.20, 0.90, 0.90],
         "size_hi": [0.22, 0.24, np.inf, np.inf], "censored": [False, False, True, True]}
    )  # fmt: skip
    fig = figures.plot_domain_vs_lr(sized, ["input"], datasets=["a"], title="t")
    (ax,) = fig.axes
    (points,) = [line for line in ax.get_lines() if line.get_label() == "input"]
    np.testing.assert_allclose(points.get_ydata(), [0.21, 0.90])
    arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
    assert len(arrows) == 1 and arrows[0].xy == pytest.approx((1e-2, 0.90))
    plt.close(fig)


def test_domain_vs_lr_legend_names_every_representation():
    # "hidden1" has a size on dataset a only: the one legend, beside the panels, still names both representations
    sized = pd.DataFrame(
        {"dataset": ["a", "a", "b"], "layer": ["input", "hidden1", "input"], "lr": 1e-3,
         "size": 0.2, "size_lo": 0.1, "size_hi": 0.3}
    )  # fmt: skip
    fig = figures.plot_domain_vs_lr(sized, ["input", "hidden1"], datasets=["a", "b"], title="t")
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["input", "hidden1"]
    assert all(ax.get_legend() is None for ax in fig.axes)
    plt.close(fig)
