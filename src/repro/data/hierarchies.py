"""Class hierarchies (super-classes) of the datasets, for the block structure of Figure 7."""

from __future__ import annotations

import torch

from repro.data.dataset import CLASS_NAMES, ImageDataset, canonical_name

__all__ = ["HIERARCHIES", "hierarchy"]

#: Coarse groupings of the fine classes used for block-structure analysis: ``{dataset: {coarse: (fine, …)}}``.
#: CIFAR-100's 20 super-classes come from the data itself (see :func:`hierarchy`).
HIERARCHIES: dict[str, dict[str, tuple[str, ...]]] = {
    "cifar10": {
        "vehicles": ("airplane", "automobile", "ship", "truck"),
        "animals": ("bird", "cat", "deer", "dog", "frog", "horse"),
    },
    "fashion_mnist": {
        "tops": ("T-shirt/top", "Pullover", "Dress", "Coat", "Shirt"),
        "footwear": ("Sandal", "Sneaker", "Ankle boot"),
        "rest": ("Trouser", "Bag"),
    },
}


def hierarchy(ds: ImageDataset | str) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Super-classes of a dataset: ``(coarse_of_fine, coarse_names)``; ``coarse_of_fine[k]`` is class k's.

    Uses the coarse labels shipped with a loaded dataset (CIFAR-100) when present, else :data:`HIERARCHIES`
    (matched on class names; a name string uses the standard class order). ``ValueError`` when none is known.
    """
    if isinstance(ds, ImageDataset) and ds.coarse_train is not None and ds.coarse_classes is not None:
        return _hierarchy_from_labels(ds), ds.coarse_classes
    name = canonical_name(ds if isinstance(ds, str) else ds.name)
    if name not in HIERARCHIES:
        hint = " (CIFAR-100's comes from a loaded dataset with coarse labels)" if name == "cifar100" else ""
        raise ValueError(f"no class hierarchy is known for {name!r}{hint}; known: {', '.join(HIERARCHIES)}")
    fine_names = ds.classes if isinstance(ds, ImageDataset) else CLASS_NAMES[name]
    groups = HIERARCHIES[name]
    coarse_of = {fine: i for i, members in enumerate(groups.values()) for fine in members}
    if set(coarse_of) != set(fine_names):
        raise ValueError(f"the classes {fine_names} do not match the hierarchy of {name!r}")
    return tuple(coarse_of[c] for c in fine_names), tuple(groups)


def _hierarchy_from_labels(ds: ImageDataset) -> tuple[int, ...]:
    """``coarse_of_fine`` read off paired fine/coarse training labels; ``ValueError`` if inconsistent."""
    pairs = torch.unique(torch.stack([ds.y_train, ds.coarse_train], dim=1), dim=0)
    if len(pairs) != ds.num_classes or not torch.equal(pairs[:, 0], torch.arange(ds.num_classes)):
        raise ValueError(f"{ds.name}'s coarse labels do not assign exactly one super-class to each class")
    return tuple(int(c) for c in pairs[:, 1])
