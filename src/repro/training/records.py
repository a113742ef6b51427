"""What one training run is given and what it records: :class:`TrainConfig` (the optimisation settings and the
images-seen budget) and :class:`TrainResult` (one record per evaluation point, the status, the targets hit)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["TrainConfig", "TrainResult"]


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings; the defaults are the paper's."""

    lr: float = 1e-3  # Adam's constant learning rate
    batch_size: int = 32  # the paper's default batch size
    max_images: int = 60_000  # training budget in images seen
    seed: int = 0  # seeds the initialisation (when the caller builds the model under it) and the shuffling
    eval_batch_size: int = 1024  # for no-grad evaluation passes only
    train_eval_size: int | None = 10_000  # training loss measured on a fixed seeded subset of this size (None: all)


@dataclass
class TrainResult:
    """What a run recorded: one dict per evaluation point (``images_seen``, losses, accuracies, callback output)."""

    records: list[dict] = field(default_factory=list)
    status: str = "completed"  # "completed" | "reached_targets" | "diverged"
    images_seen: int = 0
    target_hits: dict[float, int] = field(default_factory=dict)  # target loss → images seen when first reached

    def column(self, key: str) -> np.ndarray:
        """One recorded quantity across the evaluation points (NaN where a record lacks it)."""
        return np.asarray([r.get(key, np.nan) for r in self.records], dtype=np.float64)
