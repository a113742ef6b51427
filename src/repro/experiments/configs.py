"""The settings of each kind of experiment, as frozen dataclasses: everything an experiment takes as a size, a
schedule or a choice (dataset, architecture, initialisation, learning rate, …).

The values for each chapter and profile are in :mod:`repro.book.profiles`; experiments take one of these objects
and nothing else about sizes.
"""

from __future__ import annotations

from dataclasses import dataclass

from repro.models import DEFAULT_INIT, INITS

__all__ = [
    "DefinitionConfig",
    "SetupConfig",
    "ClassStiffnessConfig",
    "LRSweepConfig",
    "DistanceConfig",
    "HarmonicsConfig",
]


@dataclass(frozen=True)
class DefinitionConfig:
    """The ``definition`` chapter: Eqs. 2–5 checked by finite differences on real validation pairs."""

    dataset: str = "mnist"
    arch: str = "fc"
    n_train: int | None = 10_000  # training subset for the briefly trained network
    train_images: int = 6_400  # images seen before the check (a trained-but-early network)
    lr: float = 1e-3
    n_pairs: int = 4  # validation pairs shown
    epsilons: tuple[float, ...] = (1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 3e-6, 1e-6)
    n_stiffness: int = 150  # validation images for the sign-vs-cosine comparison
    init: str = DEFAULT_INIT  # weight initialisation (repro.models.INITS)


@dataclass(frozen=True)
class SetupConfig:
    """The ``setup`` chapter: class stiffness of untrained networks under each initialisation scheme, and the
    quick-profile verdicts of the class-membership chapters re-run under each scheme."""

    models: tuple[tuple[str, str], ...] = (("mnist", "fc"), ("fashion_mnist", "fc"), ("cifar10", "cnn"))
    inits: tuple[str, ...] = INITS  # repro.models.INITS
    n_seeds: int = 5  # networks drawn per (model, scheme): seeds seed, seed + 1, …
    n_stiffness: int = 150  # validation images (class-balanced, from the test split)
    n_boot: int = 200
    compare: tuple[str, ...] = ("fig03", "fig04")  # chapters whose quick-profile verdicts are compared


@dataclass(frozen=True)
class ClassStiffnessConfig:
    """Class stiffness matrices at stages of training (Figures 3–6): one model, one dataset, four snapshots."""

    dataset: str
    arch: str  # "fc" or "cnn"
    n_train: int | None  # training-subset size; None = the full training split
    n_stiffness: int  # held-out "stiffness set" size (class-balanced, from the test split)
    n_val: int  # held-out images for the validation loss (class-balanced, from the test split)
    lr: float  # Adam learning rate (constant)
    max_images: int  # training budget in images seen
    stages: tuple[int, ...]  # images seen at the four snapshots: initialisation, early, two late
    random_labels: bool = False  # train on a seeded permutation of the training labels (Figure 4)
    n_stiffness_train: int = 0  # training images for train–train / train–val pairs (0: validation pairs only)
    n_seeds: int = 1  # independent runs (seeds seed, seed + 1, …) for chapters that report a spread over seeds
    batch_size: int = 32
    n_boot: int = 200  # bootstrap replicates for within/between intervals
    init: str = DEFAULT_INIT  # weight initialisation (repro.models.INITS)
    textbook_numerics: bool = False  # also measure stiffness from textbook float32/float64 gradients (Figure 2)
    n_schedule: int = 0  # log-spaced evaluation points besides the stages (0: the stages only)


@dataclass(frozen=True)
class LRSweepConfig:
    """Learning-rate sweeps (Figures 8 and 10, the critical-length chapter): the FC network trained at several
    constant learning rates, measured when its training loss first reaches each target (the first version's rule)
    and after a fixed number of images seen (a fixed-budget rule)."""

    datasets: tuple[str, ...]
    lrs: tuple[float, ...]  # Adam learning rates
    target_losses: tuple[float, ...]  # training-loss values at which to stop and measure
    fixed_images: int  # the fixed-budget stopping point, the same for every learning rate
    n_train: int | None  # training-subset size (None: the full split)
    n_stiffness: int  # validation images whose pairs are measured
    max_images: int  # cap on training for a run that does not reach its targets
    n_seeds: int = 1
    arch: str = "fc"
    batch_size: int = 32
    check_every: int = 512  # images between checks of the training loss against the targets (at first; see train)
    n_bins: int = 20  # distance bins
    n_boot: int = 100  # bootstrap replicates (class summaries and critical distances)
    init: str = DEFAULT_INIT  # weight initialisation (repro.models.INITS)
    # the stall rule (repro.training.TrainConfig; None: off): a run stops once its best training loss gained less than
    # stall_min_gain over the last half of its images, checked from stall_min_images images seen on
    stall_min_images: int | None = None
    stall_min_gain: float = 0.05


@dataclass(frozen=True)
class DistanceConfig:
    """Stiffness against distance for one trained network (Figure 9)."""

    dataset: str
    n_train: int | None
    n_stiffness: int
    lr: float
    target_loss: float  # train until the training loss first reaches this value
    max_images: int
    arch: str = "fc"
    n_bins: int = 20
    n_boot: int = 200
    init: str = DEFAULT_INIT  # weight initialisation (repro.models.INITS)


@dataclass(frozen=True)
class HarmonicsConfig:
    """The synthetic task: points on the sphere S^(dim−1) labelled by the sign of a random spherical harmonic of
    each degree; a higher degree is a higher-frequency target."""

    dim: int
    degrees: tuple[int, ...]
    n_train: int
    n_test: int
    n_stiffness: int
    lr: float
    max_images: int
    n_bins: int = 20
    n_boot: int = 200
    init: str = DEFAULT_INIT  # weight initialisation (repro.models.INITS)
