"""Figures of repro.book.figures: what they draw, checked on the matplotlib objects."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection

from repro.book import figures as plotting


def test_lr_effect_draws_each_interval_where_it_lies():
    # seed-averaged values at two learning rates; at lr = 1e-2 the interval lies wholly below the estimate, as a
    # bootstrap interval of a zero crossing can (the paper-profile sweep has such a row)
    rows = pd.DataFrame(
        {
            "dataset": ["mnist"] * 2,
            "rule": ["loss"] * 2,
            "stop": [0.1] * 2,
            "lr": [1e-3, 1e-2],
            "size": [0.50, 1.05],
            "size_lo": [0.40, 0.44],
            "size_hi": [0.60, 1.04],
        }
    )
    fig = plotting.plot_lr_effect(
        rows, "size", "size_lo", "size_hi", ylabel="size", title="interval test", datasets=["mnist"]
    )
    ax = fig.axes[0]
    bars = [c for c in ax.collections if isinstance(c, LineCollection) and len(c.get_segments()) == 2]
    spans = sorted((float(seg[:, 1].min()), float(seg[:, 1].max())) for seg in bars[0].get_segments())
    np.testing.assert_allclose(spans, [(0.40, 0.60), (0.44, 1.04)])
    points = [line for line in ax.get_lines() if line.get_label() == "train loss 0.1"]
    np.testing.assert_allclose(points[0].get_ydata(), [0.50, 1.05])
    plt.close(fig)


def test_lr_effect_gives_a_stop_one_colour_in_every_panel():
    # dataset b lacks loss 0.1 and lists its stops in another order: each stop keeps its colour, and the lines go in
    # one order (falling loss targets, then image budgets)
    rows = pd.DataFrame(
        {"dataset": ["a", "a", "a", "b", "b"], "rule": ["images", "loss", "loss", "images", "loss"],
         "stop": [300_000, 0.1, 0.4, 300_000, 0.4], "lr": 1e-3, "v": 0.1, "lo": 0.0, "hi": 0.2}
    )  # fmt: skip
    fig = plotting.plot_lr_effect(rows, "v", "lo", "hi", ylabel="v", title="t", datasets=["a", "b"])
    colours = [{line.get_label(): line.get_color() for line in ax.get_lines() if line.get_marker() == "o"}
               for ax in fig.axes]  # fmt: skip
    assert list(colours[0]) == ["train loss 0.4", "train loss 0.1", "300,000 images"]
    assert list(colours[1]) == ["train loss 0.4", "300,000 images"]
    assert all(colours[1][k] == colours[0][k] for k in colours[1])
    assert colours[0]["train loss 0.4"] != colours[0]["300,000 images"]
    plt.close(fig)


def _numerics_history(offset: float) -> pd.DataFrame:
    seen = [0, 100, 1000, 10000]
    cols = {"images_seen": seen}
    for suffix in ("", "_textbook32", "_textbook64"):
        cols[f"within_sign{suffix}"] = [1.0, 1.0, 0.9 - offset, 0.5 - offset]
        cols[f"between_sign{suffix}"] = [-0.5, 0.1, 0.2, 0.0]
    cols["textbook32_zero_share"] = [0.0, 0.0, 0.01, 0.05]
    cols["textbook32_flip_share"] = [0.0, 0.0, 0.1, 0.3]
    return pd.DataFrame(cols)


def test_numerics_comparison_draws_three_numerics_per_seed_and_the_onsets():
    fig = plotting.plot_numerics_comparison([_numerics_history(0), _numerics_history(0.1)], [100, None], [0, 1], "t")
    top, middle, bottom = fig.axes
    assert len(fig.axes) == 3
    labels = [line.get_label() for line in top.get_lines()]
    assert "seed 0: textbook, float32" in labels and "seed 1: exact (unit Gram)" in labels
    onsets = [line for line in top.get_lines() if list(line.get_xdata()) == [100, 100]]
    assert len(onsets) == 1  # seed 1 has no onset
    flips = [line for line in bottom.get_lines() if line.get_label() == "seed 0: sign flipped"][0]
    np.testing.assert_allclose(flips.get_ydata(), [0.0, 0.0, 0.1, 0.3])
    assert bottom.get_xscale() == "log"
    plt.close(fig)


def test_random_label_runs_scale_loss_and_entropy_by_log_k():
    from types import SimpleNamespace

    hist = pd.DataFrame({"images_seen": [0, 10, 100], "train_loss": [np.log(10)] * 3,
                         "stiffness_entropy": [np.log(10), np.log(10), 0.5 * np.log(10)],
                         "within_sign": [1.0] * 3, "between_sign": [-0.5, -0.9, -1.0],
                         "between_sign_lo": [-0.6, -1.0, -1.0], "between_sign_hi": [-0.4, -0.8, -0.99]})
    run = SimpleNamespace(history=hist, class_names=tuple("abcdefghij"))
    fig = plotting.plot_random_label_runs([run], ["full"], "t")
    top, bottom = fig.axes
    lines = {line.get_label(): line for line in top.get_lines()}
    np.testing.assert_allclose(lines["full: training loss / ln K"].get_ydata(), [1.0, 1.0, 1.0])
    np.testing.assert_allclose(lines["full: output entropy / ln K"].get_ydata(), [1.0, 1.0, 0.5])
    assert bottom.get_ylim() == (-1.05, 1.05)
    plt.close(fig)
