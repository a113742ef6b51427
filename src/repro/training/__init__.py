"""Training: one network (:func:`train`), or several of one architecture trained at once as one stacked network
(:func:`train_many`), each exactly as ``train`` trains it alone. One job per module:

- :mod:`~repro.training.schedule` — the images-seen clock: evaluation points, target-check spacing, stage labels;
- :mod:`~repro.training.records` — what a run is given (:class:`TrainConfig`) and what it records
  (:class:`TrainResult`);
- :mod:`~repro.training.run` — one network's side of a run (:class:`RunState`: data order, clock, evaluations,
  targets, stop rule), shared by both loops, and :func:`evaluate`;
- :mod:`~repro.training.loop` — :func:`train`, the loop of one network;
- :mod:`~repro.training.stacked` — the forward pass of E networks from their stacked weights
  (:class:`StackedForward`, :func:`check_stacked`);
- :mod:`~repro.training.member_stack` — the stacked weights and Adam state of the members still training
  (:class:`MemberStack`);
- :mod:`~repro.training.checkpoints` — a :func:`train_many` call's checkpoint file (:class:`Checkpoints`);
- :mod:`~repro.training.many` — :func:`train_many`, the loop of the stack.
"""

from repro.training.checkpoints import Checkpoints
from repro.training.loop import train
from repro.training.many import train_many
from repro.training.member_stack import MemberStack
from repro.training.records import TrainConfig, TrainResult
from repro.training.run import RunState, evaluate
from repro.training.schedule import CHECK_RESOLUTION, images_seen_schedule, stage_label
from repro.training.stacked import RULES, StackedForward, check_stacked

__all__ = [
    "TrainConfig",
    "TrainResult",
    "train",
    "evaluate",
    "images_seen_schedule",
    "stage_label",
    "CHECK_RESOLUTION",
    "RunState",
    "train_many",
    "Checkpoints",
    "MemberStack",
    "StackedForward",
    "check_stacked",
    "RULES",
]
