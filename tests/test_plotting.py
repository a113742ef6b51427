"""Figures of repro.plotting: what they draw, checked on the matplotlib objects."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402

from repro import plotting  # noqa: E402


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
