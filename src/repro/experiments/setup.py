"""The one set-up every experiment starts from: load → subset → prepare → seed → build.

:func:`prepare_split` loads a dataset (or takes one already loaded), draws the seeded class-balanced training subset
(:func:`repro.data.train_subset`, optionally with permuted labels) and stiffness set (:func:`repro.data.stiffness_set`),
and moves both, shaped for the architecture (:func:`repro.models.prepare_inputs`), to the device. :func:`new_model`
seeds torch's global generator with the run's seed and builds the network on the device, so that two runs with the same
seed start from the same weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from repro.data import ImageDataset, load_dataset, permuted_labels, stiffness_set, train_subset
from repro.models import build_model, prepare_inputs
from repro.phases import phase

__all__ = ["Split", "prepare_split", "split_for", "new_model"]


@dataclass(frozen=True)
class Split:
    """A run's data on its device: the training subset ``(T, ...)``, ``(T,)`` and the stiffness set ``(N, ...)``,
    ``(N,)``, shaped for ``arch``; ``stiffness_index`` ``(N,)`` locates the stiffness set in the test split."""

    dataset: ImageDataset
    arch: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_stiffness: torch.Tensor
    y_stiffness: torch.Tensor
    stiffness_index: torch.Tensor

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """More inputs of the same dataset, shaped for ``arch`` and on the split's device."""
        return prepare_inputs(x, self.arch, self.x_train.device)


@phase("data")
def prepare_split(
    dataset: str | ImageDataset,
    arch: str,
    *,
    n_train: int | None,
    n_stiffness: int | None,
    seed: int,
    device: torch.device | str,
    data_root=None,
    random_labels: bool = False,
) -> Split:
    """Load ``dataset`` (a name, read from ``data_root``, or a loaded :class:`~repro.data.ImageDataset`), draw its
    training subset of ``n_train`` images (``None``: the whole split; labels permuted with ``seed`` when
    ``random_labels``) and its stiffness set of ``n_stiffness`` test images, both seeded with ``seed``, and put them on
    ``device`` as ``arch`` takes them."""
    ds = load_dataset(dataset, data_root) if isinstance(dataset, str) else dataset
    x_tr, y_tr, _ = train_subset(ds, n_train, seed)
    if random_labels:
        y_tr = permuted_labels(y_tr, seed)
    x_st, y_st, st_idx = stiffness_set(ds, n_stiffness, seed)
    return Split(
        dataset=ds,
        arch=arch,
        x_train=prepare_inputs(x_tr, arch, device),
        y_train=y_tr.to(device),
        x_stiffness=prepare_inputs(x_st, arch, device),
        y_stiffness=y_st.to(device),
        stiffness_index=st_idx,
    )


def split_for(cfg, *, seed: int, device: torch.device | str, data_root=None) -> Split:
    """:func:`prepare_split` with the dataset, architecture and sizes of a config (``dataset``, ``arch``, ``n_train``,
    ``n_stiffness`` and, where it has one, ``random_labels``)."""
    return prepare_split(
        cfg.dataset,
        cfg.arch,
        n_train=cfg.n_train,
        n_stiffness=cfg.n_stiffness,
        seed=seed,
        device=device,
        data_root=data_root,
        random_labels=getattr(cfg, "random_labels", False),
    )


def new_model(arch: str, ds: ImageDataset, *, init: str, seed: int, device: torch.device | str) -> nn.Module:
    """The network ``arch`` for ``ds``'s inputs and classes, initialised by ``init`` under ``torch.manual_seed(seed)``
    and moved to ``device``."""
    torch.manual_seed(seed)
    return build_model(arch, tuple(ds.input_shape), ds.num_classes, init=init).to(device)
