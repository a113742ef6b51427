"""The ``definition`` chapter's measurement (Eqs. 2–5): a briefly trained network, finite differences of the loss on
one example after a step on another, and the exact Gram matrix of the stiffness set.

:func:`run_definition` trains the paper's network for a few thousand images, takes float64 finite differences
(:func:`repro.experiments.numerics.finite_difference_check`) over a few same- and different-class pairs of the
stiffness set, and computes the Gram matrix ``G`` and the unit Gram of the whole set. Everything it returns is data
(:class:`DefinitionRun`); what the chapter reads off it is in :mod:`repro.analysis.definition`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch

from repro.experiments.configs import DefinitionConfig
from repro.experiments.numerics import finite_difference_check
from repro.experiments.setup import new_model, split_for
from repro.stiffness import per_example_gram, unit_gram
from repro.training import TrainConfig, train

__all__ = ["DefinitionRun", "checked_pairs", "run_definition"]


@dataclass(frozen=True)
class DefinitionRun:
    """What :func:`run_definition` measured.

    - ``data``: the dataset in words (:meth:`repro.data.ImageDataset.describe`); ``classes``: its class names;
    - ``n_train``: images in the training subset; ``images_seen``, ``train_loss``, ``status``: how far the network
      was trained, its last training loss (nats) and the run's status (:class:`repro.training.TrainResult`);
    - ``labels`` ``(N,)``: the stiffness set's labels (class indices), on the CPU;
    - ``pairs``: the ``(i, j)`` pairs of the stiffness set checked by finite differences (same class first), and
      ``finite_differences[k]``: pair k's :func:`~repro.experiments.numerics.finite_difference_check` table (one
      row per step ε of ``epsilons``);
    - ``extra_pairs``: two more different-class pairs shown beside ``pairs`` in the Gram table;
    - ``gram`` ``(N, N)``: ``G[i, j] = gᵢ·gⱼ`` (:func:`repro.stiffness.per_example_gram`); ``unit`` ``(N, N)`` and
      ``log_norms`` ``(N,)``: the unit Gram and the logarithms of the logit-gradient norms ``sᵢ``
      (:func:`repro.stiffness.unit_gram`); all on the CPU.
    """

    data: str
    classes: tuple[str, ...]
    n_train: int
    images_seen: int
    train_loss: float
    status: str
    labels: torch.Tensor
    epsilons: tuple[float, ...]
    pairs: list[tuple[int, int]]
    finite_differences: list[pd.DataFrame]
    extra_pairs: list[tuple[int, int]]
    gram: torch.Tensor
    unit: torch.Tensor
    log_norms: torch.Tensor


def checked_pairs(labels: torch.Tensor, n_pairs: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The pairs ``(i, j)``, ``i < j``, of a set with ``labels`` ``(N,)`` that the chapter checks: the first
    ``⌈n_pairs / 2⌉`` same-class pairs then the first ``⌊n_pairs / 2⌋`` different-class pairs (in the order of
    ``i``, then ``j``); and two more different-class pairs, ``n_pairs`` on in that order, for the Gram table."""
    n = len(labels)
    same = [(i, j) for i in range(n) for j in range(i + 1, n) if labels[i] == labels[j]]
    diff = [(i, j) for i in range(n) for j in range(i + 1, n) if labels[i] != labels[j]]
    pairs = (same[: (n_pairs + 1) // 2] + diff[: n_pairs // 2])[:n_pairs]
    return pairs, diff[n_pairs : n_pairs + 2]


def run_definition(
    cfg: DefinitionConfig, *, device: torch.device | str = "cpu", seed: int = 0, data_root=None
) -> DefinitionRun:
    """Train ``cfg.arch`` on ``cfg.dataset`` for ``cfg.train_images`` images (Adam, ``cfg.lr``), then measure on
    its stiffness set of ``cfg.n_stiffness`` held-out images: finite differences at ``cfg.epsilons`` over
    ``cfg.n_pairs`` pairs (:func:`checked_pairs`), the Gram matrix and the unit Gram. Seeded with ``seed``."""
    split = split_for(cfg, seed=seed, device=device, data_root=data_root)
    ds, x_st, y_st = split.dataset, split.x_stiffness, split.y_stiffness
    model = new_model(cfg.arch, ds, init=cfg.init, seed=seed, device=device)
    trained = train(model, split.x_train, split.y_train,
                    config=TrainConfig(lr=cfg.lr, max_images=cfg.train_images, seed=seed),
                    eval_at=[cfg.train_images], progress=False)  # fmt: skip
    pairs, extra_pairs = checked_pairs(y_st, cfg.n_pairs)
    finite_differences = [
        finite_difference_check(model, x_st[i], y_st[i], x_st[j], y_st[j], cfg.epsilons) for i, j in pairs
    ]
    gram = per_example_gram(model, x_st, y_st)
    unit = unit_gram(model, x_st, y_st)
    return DefinitionRun(
        data=ds.describe(),
        classes=tuple(ds.classes),
        n_train=int(split.x_train.shape[0]),
        images_seen=trained.images_seen,
        train_loss=float(trained.records[-1]["train_loss"]),
        status=trained.status,
        labels=y_st.cpu(),
        epsilons=tuple(cfg.epsilons),
        pairs=pairs,
        finite_differences=finite_differences,
        extra_pairs=extra_pairs,
        gram=gram.cpu(),
        unit=unit.unit.cpu(),
        log_norms=unit.log_norms.cpu(),
    )
