"""The ``setup`` chapter's experiments: what untrained networks look like under each initialisation scheme.

- :func:`init_stiffness` — class stiffness of freshly initialised networks, one row per (model, scheme, seed).
- :func:`runs_by_init` — class-stiffness chapters' runs repeated under each scheme, trained together (their table:
  :func:`repro.book.tables.runs_table`).

The paper names neither its framework nor its initialisation; these functions measure how much that choice moves
the numbers the class-membership chapters test. What the chapter reads off them (summaries, texts, verdicts) is in
:mod:`repro.analysis.setup`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm import tqdm

from repro.experiments.class_stiffness import ClassStiffnessRun, run_class_stiffness_many, stiffness_snapshot
from repro.experiments.configs import ClassStiffnessConfig, SetupConfig
from repro.experiments.setup import new_model, prepare_split

__all__ = ["init_stiffness", "runs_by_init"]


def _positive_share(C: np.ndarray) -> float:
    """Share of the off-diagonal cells of a ``(K, K)`` class stiffness matrix that are > 0 (NaN cells count as not
    positive)."""
    off = C[~np.eye(C.shape[0], dtype=bool)]
    return float((off > 0).mean())


@torch.no_grad()
def _output_statistics(model: nn.Module, x: torch.Tensor) -> dict[str, float]:
    """How input-dependent and how confident the untrained network's output is on ``x`` ``(N, ...)``.

    - ``logit_spread``: mean over images of ``‖zᵢ − z̄‖ / ‖z̄‖`` for logits ``zᵢ`` ``(K,)`` and their mean ``z̄``
      over the images: near 0 when the network maps every image to almost the same logits;
    - ``max_prob``: mean largest softmax probability (``1/K``: a uniform output);
    - ``top_class_share``: share of the images whose most probable class is the commonest one.
    """
    z = model(x).double()
    centre = z.mean(0)
    p = z.softmax(1)
    top = p.argmax(1)
    return {
        "logit_spread": float(((z - centre).norm(dim=1) / centre.norm()).mean()),
        "max_prob": float(p.max(1).values.mean()),
        "top_class_share": float(torch.bincount(top).max() / top.numel()),
    }


def init_stiffness(
    cfg: SetupConfig,
    *,
    data_root=None,
    device: torch.device | str = "cpu",
    seed: int = 0,
    progress: bool = True,
) -> pd.DataFrame:
    """Class stiffness of untrained networks: every model of ``cfg.models`` under every scheme of ``cfg.inits``,
    ``cfg.n_seeds`` draws each (seeds ``seed``, ``seed + 1``, …).

    All networks of one model see the same ``cfg.n_stiffness`` class-balanced test images (drawn with ``seed``),
    so that rows differ only by the network. One row per network:

    - ``dataset``, ``arch``, ``init``, ``seed`` (the seed of the weights and of the bootstrap);
    - ``within``, ``between``: within- and between-class *sign* stiffness (Eq. 7), with their 95% bootstrap
      intervals ``within_lo``, ``within_hi``, ``between_lo``, ``between_hi``;
    - ``within_cos``, ``between_cos``: the same for cosine stiffness;
    - ``positive_share``: share (0–1) of the ``K(K−1)`` off-diagonal cells of the sign class stiffness matrix that
      are > 0;
    - ``logit_spread``, ``max_prob``, ``top_class_share``: how input-dependent and how confident the network's
      output is (:func:`_output_statistics`): the mechanism behind the stiffness numbers.
    """
    device = torch.device(device)
    n_networks = len(cfg.models) * len(cfg.inits) * cfg.n_seeds
    bar = tqdm(total=n_networks, unit="net", disable=not progress, desc="untrained networks")
    rows = []
    for dataset, arch in cfg.models:
        split = prepare_split(dataset, arch, n_train=None, n_stiffness=cfg.n_stiffness, seed=seed, device=device,
                              data_root=data_root)  # fmt: skip
        ds, x, y = split.dataset, split.x_stiffness, split.y_stiffness
        for init in cfg.inits:
            for s in range(seed, seed + cfg.n_seeds):
                model = new_model(arch, ds, init=init, seed=s, device=device).eval()
                snap = stiffness_snapshot(model, x, y, ds.num_classes, n_boot=cfg.n_boot, seed=s)
                sign, cos = snap.summaries["sign"], snap.summaries["cos"]
                rows.append(
                    {
                        "dataset": dataset,
                        "arch": arch,
                        "init": init,
                        "seed": s,
                        "within": sign.within,
                        "within_lo": sign.within_ci[0],
                        "within_hi": sign.within_ci[1],
                        "between": sign.between,
                        "between_lo": sign.between_ci[0],
                        "between_hi": sign.between_ci[1],
                        "within_cos": cos.within,
                        "between_cos": cos.between,
                        "positive_share": _positive_share(snap.matrices["sign"]),
                    }
                    | _output_statistics(model, x)
                )
                bar.update()
    bar.close()
    return pd.DataFrame(rows)


def runs_by_init(
    chapter_configs: dict[str, ClassStiffnessConfig],
    inits: tuple[str, ...],
    *,
    data_root=None,
    device: torch.device | str = "cpu",
    seed: int = 0,
    progress: bool = True,
) -> dict[str, dict[str, ClassStiffnessRun]]:
    """Each chapter's run repeated under each scheme: ``{chapter: {init: run}}``.

    Every config is run as given but with ``init`` replaced and its stages only (``n_schedule=0``), through
    :func:`repro.experiments.class_stiffness.run_class_stiffness_many`: the networks of one dataset and
    architecture (all schemes, all chapters) are trained together.
    """
    keys = [(chapter, init) for chapter in chapter_configs for init in inits]
    runs = run_class_stiffness_many(
        [(dataclasses.replace(chapter_configs[chapter], init=init, n_schedule=0), seed) for chapter, init in keys],
        data_root=data_root,
        device=device,
        progress=progress,
    )
    out: dict[str, dict[str, ClassStiffnessRun]] = {chapter: {} for chapter in chapter_configs}
    for (chapter, init), run in zip(keys, runs, strict=True):
        out[chapter][init] = run
    return out
