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
    # The stall rule (repro.training.run.stalled; None: off): a run with targets left stops, status "stalled", at the
    # first target check from stall_min_images images seen on, with no evaluation point left, at which its best
    # training loss over the last half of the images seen is not below (1 - stall_min_gain) x its best before them.
    stall_min_images: int | None = None
    stall_min_gain: float = 0.05

    def __post_init__(self) -> None:
        if self.stall_min_images is not None and self.stall_min_images < 1:
            raise ValueError(f"stall_min_images must be >= 1 or None, got {self.stall_min_images}")
        if not 0.0 <= self.stall_min_gain < 1.0:
            raise ValueError(f"stall_min_gain must be in [0, 1), got {self.stall_min_gain}")


@dataclass
class TrainResult:
    """What a run recorded: one dict per evaluation point (``images_seen``, losses, accuracies, callback output)."""

    records: list[dict] = field(default_factory=list)
    status: str = "completed"  # "completed" | "reached_targets" | "stalled" | "diverged"
    images_seen: int = 0
    target_hits: dict[float, int] = field(default_factory=dict)  # target loss → images seen when first reached
    checks: list[tuple[int, float]] = field(default_factory=list)  # (images seen, training loss) at target checks

    def column(self, key: str) -> np.ndarray:
        """One recorded quantity across the evaluation points (NaN where a record lacks it)."""
        return np.asarray([r.get(key, np.nan) for r in self.records], dtype=np.float64)
