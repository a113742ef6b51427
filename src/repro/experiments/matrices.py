"""What a re-analysis of a learning-rate sweep group needs, kept beside its cached rows: at every stop the pairs'
sign stiffness and the representations, and per seed the stiffness set, from which
:func:`repro.experiments.distance.critical_distances` and :func:`repro.stiffness.bootstrap_class_summary`
recompute the rows exactly (:mod:`repro.experiments.reanalysis`), with other bins or bootstrap sizes if asked.

One ``.npz`` file per group (:func:`numpy.savez_compressed`), arrays:

- ``x|seed=<s>`` ``(N, ...)`` float32: the stiffness set's inputs as the network took them (the ``"input"``
  representation is ``x`` flattened, :meth:`repro.models.FCNet.representations`, and the Euclidean distances are
  those of ``x``, so neither is stored at each stop); ``y|seed=<s>`` ``(N,)`` int64: their labels;
- ``S|<stop>`` ``(N, N)`` int8: the sign stiffness (−1, 0, 1; :data:`NAN_CODE` where it is NaN, a diverged network)
  — lossless;
- ``rep[<layer>]|<stop>`` ``(N, D_layer)`` float32: every other representation, as the network gave it — lossless
  (the cosines of Eq. 9 recomputed from them are bit for bit those the sweep binned; float32 cosines would not be,
  and nine N×N triangles would be larger than the representations of the FC network, N·1,410 floats);
- ``layers``: the representations' names in the network's order (``"input"`` first).

``<stop>`` is ``lr=<lr>,seed=<s>,rule=<rule>,stop=<stop>`` (:func:`stop_key`; floats as ``repr`` writes them).

Sizes on disk (measured on MNIST, the FC network after 5,000 images): one stop 2.9 MB at N = 1,000 stiffness images
(0.83 MB at N = 300), one seed's stiffness set 0.27 MB (0.08 MB). The paper profile's sweep (30 runs, at most 4
stops each) keeps at most ≈ 350 MB in its two files; the quick profile's (8 runs) ≈ 27 MB.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from repro.files import write_atomic

__all__ = ["NAN_CODE", "stop_key", "parse_stop_key", "StopMatrices", "GroupMatrices", "read_stop", "stored_stops"]

NAN_CODE = -128  # the int8 code of a NaN sign stiffness
_INPUT = "input"
_STOP = re.compile(r"lr=(?P<lr>[^,]+),seed=(?P<seed>-?\d+),rule=(?P<rule>[^,]+),stop=(?P<stop>[^,]+)")


def stop_key(lr: float, seed: int, rule: str, stop: float) -> str:
    """The name of one stop of one run inside a group's file, e.g. ``"lr=0.001,seed=0,rule=loss,stop=0.4"``."""
    return f"lr={float(lr)!r},seed={int(seed)},rule={rule},stop={float(stop)!r}"


def parse_stop_key(key: str) -> tuple[float, int, str, float]:
    """The inverse of :func:`stop_key`: ``(lr, seed, rule, stop)``."""
    m = _STOP.fullmatch(key)
    if m is None:
        raise ValueError(f"{key!r} is not a stop key")
    return float(m["lr"]), int(m["seed"]), m["rule"], float(m["stop"])


@dataclass
class StopMatrices:
    """What one stop measured: ``S (N, N)`` float64 sign stiffness, ``reps[layer] (N, D_layer)`` float32 (``"input"``
    first), the stiffness set ``x (N, ...)`` float32 and its labels ``y (N,)`` int64."""

    S: torch.Tensor
    reps: dict[str, torch.Tensor]
    x: torch.Tensor
    y: torch.Tensor


def _encode_sign(S: torch.Tensor) -> np.ndarray:
    """``S (N, N)`` of values −1, 0, 1 or NaN as int8 (NaN → :data:`NAN_CODE`)."""
    s = S.detach().cpu().numpy()
    finite = np.isfinite(s)
    if not np.isin(s[finite], (-1.0, 0.0, 1.0)).all():
        raise ValueError("only sign stiffness (−1, 0, 1 or NaN) is stored as int8")
    return np.where(finite, s, NAN_CODE).astype(np.int8)


def _decode_sign(codes: np.ndarray, device: torch.device) -> torch.Tensor:
    """The inverse of :func:`_encode_sign`: float64 ``(N, N)`` on ``device``."""
    s = codes.astype(np.float64)
    s[codes == NAN_CODE] = np.nan
    return torch.as_tensor(s, device=device)


class GroupMatrices:
    """The matrices of one sweep group, collected stop by stop while it trains and written in one file."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def add_set(self, seed: int, x: torch.Tensor, y: torch.Tensor) -> None:
        """The stiffness set ``x (N, ...)``, ``y (N,)`` of the runs with seed ``seed``."""
        self.arrays[f"x|seed={seed}"] = x.detach().cpu().numpy()
        self.arrays[f"y|seed={seed}"] = y.detach().cpu().numpy().astype(np.int64)

    def add_stop(self, key: str, S: torch.Tensor, reps: dict[str, torch.Tensor]) -> None:
        """One stop (:func:`stop_key`): its sign stiffness ``S (N, N)`` and representations (``"input"`` first)."""
        self.arrays[f"S|{key}"] = _encode_sign(S)
        for layer, R in reps.items():
            if layer != _INPUT:
                self.arrays[f"rep[{layer}]|{key}"] = R.detach().cpu().numpy()
        self.arrays["layers"] = np.array(list(reps))

    def save(self, path: Path) -> None:
        """Write every array to ``path`` (compressed, atomically)."""
        write_atomic(path, lambda f: np.savez_compressed(f, **self.arrays))


def stored_stops(path: Path) -> list[tuple[float, int, str, float]]:
    """The ``(lr, seed, rule, stop)`` of every stop stored in the group file ``path``."""
    with np.load(path) as npz:
        return [parse_stop_key(name[2:]) for name in npz.files if name.startswith("S|")]


def read_stop(npz, lr: float, seed: int, rule: str, stop: float, device: torch.device) -> StopMatrices:
    """One stop of an open group file (``np.load(path)``), on ``device``; KeyError naming the stop when absent."""
    key = stop_key(lr, seed, rule, stop)
    if f"S|{key}" not in npz.files:
        raise KeyError(f"stop {key} is not stored in this group's file")
    x = torch.as_tensor(npz[f"x|seed={seed}"], device=device)
    reps = {
        layer: x.flatten(1) if layer == _INPUT else torch.as_tensor(npz[f"rep[{layer}]|{key}"], device=device)
        for layer in npz["layers"].tolist()
    }
    y = torch.as_tensor(npz[f"y|seed={seed}"], device=device)
    return StopMatrices(_decode_sign(npz[f"S|{key}"], device), reps, x, y)
