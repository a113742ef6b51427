"""Experiment sizes and schedules for every chapter, in one place, for two profiles.

- ``"paper"`` follows the paper's Section 3 set-up (full training sets, ≈150 validation images for 10 classes,
  Adam at a constant learning rate, batch 32) with training long enough for the late stages the figures show.
- ``"quick"`` is a reduced version that keeps the qualitative result and runs on two CPU cores in CI.

A chapter asks for its settings with :func:`get_config`; nothing about sizes is typed in a notebook.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from repro.models import DEFAULT_INIT, INITS

__all__ = [
    "PROFILES",
    "DefinitionConfig",
    "SetupConfig",
    "ClassStiffnessConfig",
    "LRSweepConfig",
    "DistanceConfig",
    "HarmonicsConfig",
    "get_config",
    "profile_table",
]

PROFILES = ("quick", "paper")


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


_CONFIGS: dict[str, dict[str, object]] = {
    "setup": {"quick": SetupConfig(), "paper": SetupConfig(n_seeds=10)},
    "definition": {
        "quick": DefinitionConfig(),
        "paper": DefinitionConfig(n_train=None, train_images=60_000, n_pairs=6, n_stiffness=150),
    },
    "fig03": {
        "quick": ClassStiffnessConfig(
            dataset="mnist",
            arch="fc",
            n_train=None,
            n_stiffness=150,
            n_val=2_000,
            lr=1e-3,
            max_images=120_000,
            stages=(0, 3_200, 60_000, 120_000),
        ),
        "paper": ClassStiffnessConfig(
            dataset="mnist",
            arch="fc",
            n_train=None,
            n_stiffness=150,
            n_val=10_000,
            lr=1e-3,
            max_images=1_200_000,
            stages=(0, 6_400, 600_000, 1_200_000),
        ),
    },
    "fig02": {
        # Quick: a 1,000-image training subset makes the network overfit within a CPU budget.
        "quick": ClassStiffnessConfig(
            dataset="mnist",
            arch="fc",
            n_train=1_000,
            n_stiffness=150,
            n_val=2_000,
            lr=1e-3,
            max_images=100_000,
            stages=(0, 3_200, 30_000, 100_000),
            textbook_numerics=True,
            n_schedule=16,
        ),
        "paper": ClassStiffnessConfig(
            dataset="mnist",
            arch="fc",
            n_train=None,
            n_stiffness=150,
            n_val=10_000,
            lr=1e-3,
            max_images=3_000_000,
            stages=(0, 6_400, 600_000, 3_000_000),
            n_seeds=3,
            textbook_numerics=True,
            n_schedule=24,
        ),
    },
    "fig04": (
        # Run 1, the paper's set-up: the full training split with permuted labels. Too many random labels to
        # memorise, so the network can do no better than a uniform output. Run 2, a contrast: a small subset whose
        # random labels the network can memorise within the budget.
        {
            "quick": (
                ClassStiffnessConfig(
                    dataset="mnist",
                    arch="fc",
                    n_train=None,
                    n_stiffness=150,
                    n_val=2_000,
                    lr=1e-3,
                    max_images=60_000,
                    stages=(0, 3_200, 30_000, 60_000),
                    random_labels=True,
                    n_schedule=12,
                ),
                ClassStiffnessConfig(
                    dataset="mnist",
                    arch="fc",
                    n_train=1_000,
                    n_stiffness=150,
                    n_val=2_000,
                    lr=1e-3,
                    max_images=100_000,
                    stages=(0, 3_200, 30_000, 100_000),
                    random_labels=True,
                    n_schedule=12,
                ),
            ),
            "paper": (
                ClassStiffnessConfig(
                    dataset="mnist",
                    arch="fc",
                    n_train=None,
                    n_stiffness=150,
                    n_val=10_000,
                    lr=1e-3,
                    max_images=1_000_000,
                    stages=(0, 32_000, 300_000, 1_000_000),
                    random_labels=True,
                    n_schedule=12,
                ),
                ClassStiffnessConfig(
                    dataset="mnist",
                    arch="fc",
                    n_train=10_000,
                    n_stiffness=150,
                    n_val=10_000,
                    lr=1e-3,
                    max_images=2_000_000,
                    stages=(0, 32_000, 1_000_000, 2_000_000),
                    random_labels=True,
                    n_schedule=12,
                ),
            ),
        }
    ),
    "fig05": {
        "quick": ClassStiffnessConfig(
            dataset="fashion_mnist",
            arch="fc",
            n_train=None,
            n_stiffness=150,
            n_val=2_000,
            lr=1e-3,
            max_images=120_000,
            stages=(0, 3_200, 60_000, 120_000),
        ),
        "paper": ClassStiffnessConfig(
            dataset="fashion_mnist",
            arch="fc",
            n_train=None,
            n_stiffness=150,
            n_val=10_000,
            lr=1e-3,
            max_images=1_200_000,
            stages=(0, 6_400, 600_000, 1_200_000),
        ),
    },
    "fig06": {
        # CIFAR-10: the whole training split available (the offline archive holds a 3,660-image subset).
        "quick": ClassStiffnessConfig(
            dataset="cifar10",
            arch="cnn",
            n_train=None,
            n_stiffness=150,
            n_val=700,
            lr=1e-3,
            max_images=30_000,
            stages=(0, 1_600, 15_000, 30_000),
        ),
        "paper": ClassStiffnessConfig(
            dataset="cifar10",
            arch="cnn",
            n_train=None,
            n_stiffness=150,
            n_val=5_000,
            lr=1e-3,
            max_images=500_000,
            stages=(0, 6_400, 250_000, 500_000),
        ),
    },
    "fig07": {
        # CIFAR-100 cannot be had offline; the quick profile reads the two hierarchies that can.
        "quick": (
            ClassStiffnessConfig(
                dataset="cifar10",
                arch="cnn",
                n_train=None,
                n_stiffness=300,
                n_val=500,
                lr=1e-3,
                max_images=12_800,
                stages=(0, 3_200, 12_800),
            ),
            ClassStiffnessConfig(
                dataset="fashion_mnist",
                arch="cnn",
                n_train=None,
                n_stiffness=300,
                n_val=2_000,
                lr=1e-3,
                max_images=12_800,
                stages=(0, 3_200, 12_800),
            ),
        ),
        "paper": (
            ClassStiffnessConfig(
                dataset="cifar100",
                arch="cnn",
                n_train=None,
                n_stiffness=1_000,
                n_val=5_000,
                lr=1e-3,
                max_images=200_000,
                stages=(0, 25_000, 100_000, 200_000),
            ),
        ),
    },
    "pairs": {
        "quick": ClassStiffnessConfig(
            dataset="fashion_mnist",
            arch="cnn",
            n_train=None,
            n_stiffness=150,
            n_stiffness_train=150,
            n_val=2_000,
            lr=1e-3,
            max_images=30_000,
            stages=(0, 1_600, 15_000, 30_000),
        ),
        "paper": ClassStiffnessConfig(
            dataset="fashion_mnist",
            arch="cnn",
            n_train=None,
            n_stiffness=150,
            n_stiffness_train=150,
            n_val=10_000,
            lr=1e-3,
            max_images=600_000,
            stages=(0, 6_400, 300_000, 600_000),
        ),
    },
    "fig08": {
        "quick": LRSweepConfig(
            datasets=("mnist", "fashion_mnist"),
            lrs=(1e-4, 3e-4, 1e-3, 3e-3),
            target_losses=(0.6, 0.4, 0.25),
            fixed_images=20_000,
            n_train=5_000,
            n_stiffness=150,
            max_images=60_000,
        ),
        "paper": LRSweepConfig(
            datasets=("mnist", "fashion_mnist"),
            lrs=(1e-4, 3e-4, 1e-3, 3e-3, 1e-2),
            target_losses=(0.4, 0.2, 0.1),
            fixed_images=300_000,
            n_train=None,
            n_stiffness=150,
            max_images=3_000_000,
            n_seeds=3,
            n_boot=200,
        ),
    },
    "fig09": {
        "quick": DistanceConfig(
            dataset="mnist", n_train=10_000, n_stiffness=300, lr=1e-3, target_loss=0.1, max_images=100_000
        ),
        "paper": DistanceConfig(
            dataset="mnist", n_train=None, n_stiffness=1_000, lr=1e-3, target_loss=0.05, max_images=1_000_000
        ),
    },
    "spherical-harmonics": {
        "quick": HarmonicsConfig(
            dim=3, degrees=(1, 2, 4, 8), n_train=2_000, n_test=1_000, n_stiffness=300, lr=1e-3, max_images=40_000
        ),
        "paper": HarmonicsConfig(
            dim=3,
            degrees=(1, 2, 3, 4, 6, 8, 12),
            n_train=20_000,
            n_test=5_000,
            n_stiffness=1_000,
            lr=1e-3,
            max_images=1_000_000,
        ),
    },
}
_CONFIGS["fig10"] = _CONFIGS["fig08"]  # one sweep serves Figures 8 and 10 and the critical-length chapter
_CONFIGS["critical-length"] = _CONFIGS["fig08"]


def get_config(chapter: str, profile: str):
    """The settings of ``chapter`` under ``profile`` ("quick" or "paper"); ValueError for unknown names."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; expected one of {PROFILES}")
    if chapter not in _CONFIGS:
        raise ValueError(f"no experiment settings for chapter {chapter!r}; known: {sorted(_CONFIGS)}")
    return _CONFIGS[chapter][profile]


def profile_table() -> pd.DataFrame:
    """Every chapter's settings under both profiles, one row per (chapter, setting), for the intro page.

    A chapter with several runs (a tuple of settings) gets one block of rows per run, ``"<chapter> run <i>"``;
    a run that a profile does not have shows ``None``.
    """
    rows = []
    for chapter, by_profile in _CONFIGS.items():
        quick, paper = by_profile["quick"], by_profile["paper"]
        quick_runs = quick if isinstance(quick, tuple) else (quick,)
        paper_runs = paper if isinstance(paper, tuple) else (paper,)
        for i in range(max(len(quick_runs), len(paper_runs))):
            q = asdict(quick_runs[i]) if i < len(quick_runs) else {}
            p = asdict(paper_runs[i]) if i < len(paper_runs) else {}
            name = chapter if max(len(quick_runs), len(paper_runs)) == 1 else f"{chapter} run {i + 1}"
            for key in q or p:
                rows.append({"chapter": name, "setting": key, "quick": q.get(key), "paper": p.get(key)})
    return pd.DataFrame(rows).set_index(["chapter", "setting"])
