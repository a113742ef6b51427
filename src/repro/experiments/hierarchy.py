"""Class stiffness read through a class hierarchy (Figure 7): is a fine class stiffer with the other fine classes of its
coarse class than with the rest?"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from repro.data import hierarchy, load_dataset
from repro.experiments.class_stiffness import ClassStiffnessRun, run_class_stiffness
from repro.experiments.configs import ClassStiffnessConfig
from repro.experiments.history import METRICS
from repro.stiffness import HierarchyContrast, hierarchy_contrast, stiffness_from_gram

__all__ = ["HierarchyRun", "run_hierarchy"]


@dataclass
class HierarchyRun:
    """A class-stiffness run read through a class hierarchy (Figure 7): per stage and metric, the contrast between
    pairs of fine classes in the same coarse class and pairs in different ones."""

    run: ClassStiffnessRun
    coarse_of_fine: tuple[int, ...]
    coarse_names: tuple[str, ...]
    contrasts: list[dict[str, HierarchyContrast]]  # one dict per stage snapshot, keyed by metric


def run_hierarchy(
    cfg: ClassStiffnessConfig,
    *,
    data_root=None,
    device: torch.device | str = "cpu",
    seed: int = 0,
    n_perm: int = 2000,
    progress: bool = True,
) -> HierarchyRun:
    """Train as :func:`run_class_stiffness` and measure the block structure of every stage's class stiffness under
    the dataset's hierarchy (:func:`repro.data.hierarchy`: CIFAR-100's super-classes, CIFAR-10's vehicles vs
    animals, Fashion-MNIST's tops / footwear / the rest)."""
    run = run_class_stiffness(cfg, data_root=data_root, device=device, seed=seed, progress=progress)
    coarse_of_fine, coarse_names = hierarchy(load_dataset(cfg.dataset, data_root))
    contrasts = []
    for snap in run.snapshots:
        G, labels = torch.as_tensor(snap.gram), torch.as_tensor(snap.labels)
        contrasts.append(
            {
                metric: hierarchy_contrast(
                    stiffness_from_gram(G, metric), labels, coarse_of_fine, n_boot=cfg.n_boot, n_perm=n_perm, seed=seed
                )
                for metric in METRICS
            }
        )
    return HierarchyRun(run, tuple(coarse_of_fine), tuple(coarse_names), contrasts)
