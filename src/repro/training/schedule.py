"""The images-seen clock: where a run evaluates, how often it checks its targets, and how a point on it is named.

Time is counted in *images seen* (optimizer steps × batch size), the unit of the paper's training-dynamics plots.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CHECK_RESOLUTION", "images_seen_schedule", "stage_label"]

CHECK_RESOLUTION = 64  # target checks come at least every 1/64 of the images seen so far


def images_seen_schedule(max_images: int, *, n_log: int = 12, n_regular: int = 8, first: int = 32) -> list[int]:
    """Evaluation points on the images-seen clock: 0, ``n_log`` log-spaced points from ``first`` to ``max_images``
    and ``n_regular`` evenly spaced ones, merged, sorted and rounded to whole batches of 32 where possible."""
    if max_images < 1:
        raise ValueError(f"max_images must be ≥ 1, got {max_images}")
    log_pts = np.geomspace(max(first, 1), max_images, n_log) if n_log > 0 else []
    reg_pts = np.linspace(0, max_images, n_regular + 1)[1:] if n_regular > 0 else []
    pts = {0, max_images}
    pts.update(int(round(p)) for p in (*log_pts, *reg_pts))
    return sorted(p for p in pts if 0 <= p <= max_images)


def stage_label(images_seen: int) -> str:
    """A human label for a point on the images-seen clock, e.g. ``"initialisation"`` or ``"60k images seen"``."""
    if images_seen == 0:
        return "initialisation"
    if images_seen >= 1_000_000:
        return f"{images_seen / 1e6:g}M images seen"
    if images_seen >= 1_000:
        return f"{images_seen / 1e3:g}k images seen"
    return f"{images_seen} images seen"
