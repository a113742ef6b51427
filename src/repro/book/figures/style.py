"""The book's plotting style and colour scale."""

from __future__ import annotations

import seaborn as sns

__all__ = ["STIFFNESS_CMAP", "set_style"]

STIFFNESS_CMAP = "RdBu_r"  # red = stiff (positive), blue = anti-stiff (negative), white = 0


def set_style() -> None:
    """The book's plotting style (seaborn "whitegrid", readable fonts)."""
    sns.set_theme(style="whitegrid", context="notebook", font_scale=0.95)
