"""The chapter × profile table: every chapter's experiment settings under two profiles, in one place.

- ``"paper"`` follows the paper's Section 3 set-up (full training sets, ≈150 validation images for 10 classes,
  Adam at a constant learning rate, batch 32) with training long enough for the late stages the figures show.
- ``"quick"`` is a reduced version that keeps the qualitative result and runs on two CPU cores in CI.

Each figure has one base config; the other profile, and a figure that repeats another on other data, are
:func:`dataclasses.replace` of it, so that what differs is the few fields named. A chapter asks for its settings
with :func:`get_config` (the chapter contract, :mod:`repro.book.chapter`, does it); nothing about sizes is typed
in a notebook.
"""

from __future__ import annotations

from dataclasses import asdict, replace

import pandas as pd

from repro.experiments.configs import (
    ClassStiffnessConfig,
    DefinitionConfig,
    DistanceConfig,
    HarmonicsConfig,
    LRSweepConfig,
    SetupConfig,
)

__all__ = ["PROFILES", "get_config", "main_config", "profile_table"]

PROFILES = ("quick", "paper")

# Figure 3, the class-membership base: the FC network on the whole MNIST training split.
_FIG03_QUICK = ClassStiffnessConfig(
    dataset="mnist",
    arch="fc",
    n_train=None,
    n_stiffness=150,
    n_val=2_000,
    lr=1e-3,
    max_images=120_000,
    stages=(0, 3_200, 60_000, 120_000),
)
_FIG03_PAPER = replace(_FIG03_QUICK, n_val=10_000, max_images=1_200_000, stages=(0, 6_400, 600_000, 1_200_000))

# Figure 2: the same network long after it overfits, with textbook numerics beside the exact ones. Quick: a
# 1,000-image training subset makes the network overfit within a CPU budget.
_FIG02_QUICK = replace(
    _FIG03_QUICK, n_train=1_000, max_images=100_000, stages=(0, 3_200, 30_000, 100_000), textbook_numerics=True,
    n_schedule=16,
)  # fmt: skip
_FIG02_PAPER = replace(
    _FIG03_PAPER, max_images=3_000_000, stages=(0, 6_400, 600_000, 3_000_000), n_seeds=3, textbook_numerics=True,
    n_schedule=24,
)  # fmt: skip

# Figure 4, run 1, the paper's set-up: the full training split with permuted labels. Too many random labels to
# memorise, so the network can do no better than a uniform output. Run 2, a contrast: a small subset whose random
# labels the network can memorise within the budget.
_FIG04_QUICK = (
    replace(_FIG03_QUICK, max_images=60_000, stages=(0, 3_200, 30_000, 60_000), random_labels=True, n_schedule=12),
    replace(_FIG02_QUICK, textbook_numerics=False, random_labels=True, n_schedule=12),
)
_FIG04_PAPER = (
    replace(_FIG03_PAPER, max_images=1_000_000, stages=(0, 32_000, 300_000, 1_000_000), random_labels=True,
            n_schedule=12),
    replace(_FIG03_PAPER, n_train=10_000, max_images=2_000_000, stages=(0, 32_000, 1_000_000, 2_000_000),
            random_labels=True, n_schedule=12),
)  # fmt: skip

# Figure 6: the CNN on CIFAR-10, the whole training split available (the offline archive holds a 3,660-image subset).
_FIG06_QUICK = replace(
    _FIG03_QUICK, dataset="cifar10", arch="cnn", n_val=700, max_images=30_000, stages=(0, 1_600, 15_000, 30_000)
)
_FIG06_PAPER = replace(_FIG06_QUICK, n_val=5_000, max_images=500_000, stages=(0, 6_400, 250_000, 500_000))

# Figure 7: CIFAR-100 cannot be had offline; the quick profile reads the two hierarchies that can.
_FIG07_QUICK = (
    replace(_FIG06_QUICK, n_stiffness=300, n_val=500, max_images=12_800, stages=(0, 3_200, 12_800)),
    replace(_FIG06_QUICK, dataset="fashion_mnist", n_stiffness=300, n_val=2_000, max_images=12_800,
            stages=(0, 3_200, 12_800)),
)  # fmt: skip
_FIG07_PAPER = (
    replace(_FIG06_QUICK, dataset="cifar100", n_stiffness=1_000, n_val=5_000, max_images=200_000,
            stages=(0, 25_000, 100_000, 200_000)),
)  # fmt: skip

# The pairs chapter: the CNN on Fashion-MNIST, with training images for train-train and train-val pairs.
_PAIRS_QUICK = replace(_FIG06_QUICK, dataset="fashion_mnist", n_stiffness_train=150, n_val=2_000)
_PAIRS_PAPER = replace(_PAIRS_QUICK, n_val=10_000, max_images=600_000, stages=(0, 6_400, 300_000, 600_000))

# Figure 8's learning-rate sweep, shared with Figure 10 and the critical-length chapter.
_SWEEP_QUICK = LRSweepConfig(
    datasets=("mnist", "fashion_mnist"),
    lrs=(1e-4, 3e-4, 1e-3, 3e-3),
    target_losses=(0.6, 0.4, 0.25),
    fixed_images=20_000,
    n_train=5_000,
    n_stiffness=300,
    max_images=60_000,
)
# 1,000 stiffness images at paper scale (the paper's ≈150 leave most distance bins too sparse to find a crossing).
# The stall rule, set before the paper run from seed 0's training-loss curves of the slow runs (benchmarks/results/
# paper-profile-costs.md): the 1e-2 networks of both datasets collapse to a constant output (loss ln 10) and would
# train on to the budget; every run that reached a target in the earlier paper run still gains ≥ 5 % per doubling.
_SWEEP_PAPER = replace(
    _SWEEP_QUICK, lrs=(1e-4, 3e-4, 1e-3, 3e-3, 1e-2), target_losses=(0.4, 0.2, 0.1), fixed_images=300_000,
    n_train=None, n_stiffness=1_000, max_images=3_000_000, n_seeds=3, n_boot=200, stall_min_images=600_000,
    stall_min_gain=0.05,
)  # fmt: skip

_FIG09_QUICK = DistanceConfig(
    dataset="mnist", n_train=10_000, n_stiffness=300, lr=1e-3, target_loss=0.1, max_images=100_000
)
_FIG09_PAPER = replace(_FIG09_QUICK, n_train=None, n_stiffness=1_000, target_loss=0.05, max_images=1_000_000)

_HARMONICS_QUICK = HarmonicsConfig(
    dim=3, degrees=(1, 2, 4, 8), n_train=2_000, n_test=1_000, n_stiffness=300, lr=1e-3, max_images=40_000
)
_HARMONICS_PAPER = replace(
    _HARMONICS_QUICK, degrees=(1, 2, 3, 4, 6, 8, 12), n_train=20_000, n_test=5_000, n_stiffness=1_000,
    max_images=1_000_000,
)  # fmt: skip

_CONFIGS: dict[str, dict[str, object]] = {
    "setup": {"quick": SetupConfig(), "paper": SetupConfig(n_seeds=10)},
    "definition": {"quick": DefinitionConfig(),
                   "paper": DefinitionConfig(n_train=None, train_images=60_000, n_pairs=6)},
    "fig03": {"quick": _FIG03_QUICK, "paper": _FIG03_PAPER},
    "fig02": {"quick": _FIG02_QUICK, "paper": _FIG02_PAPER},
    "fig04": {"quick": _FIG04_QUICK, "paper": _FIG04_PAPER},
    # Figure 5 is Figure 3 on Fashion-MNIST
    "fig05": {profile: replace(cfg, dataset="fashion_mnist") for profile, cfg in
              (("quick", _FIG03_QUICK), ("paper", _FIG03_PAPER))},
    "fig06": {"quick": _FIG06_QUICK, "paper": _FIG06_PAPER},
    "fig07": {"quick": _FIG07_QUICK, "paper": _FIG07_PAPER},
    "pairs": {"quick": _PAIRS_QUICK, "paper": _PAIRS_PAPER},
    "fig08": {"quick": _SWEEP_QUICK, "paper": _SWEEP_PAPER},
    "fig09": {"quick": _FIG09_QUICK, "paper": _FIG09_PAPER},
    "spherical-harmonics": {"quick": _HARMONICS_QUICK, "paper": _HARMONICS_PAPER},
}  # fmt: skip
_CONFIGS["fig10"] = _CONFIGS["fig08"]  # one sweep serves Figures 8 and 10 and the critical-length chapter
_CONFIGS["critical-length"] = _CONFIGS["fig08"]


def chapters() -> tuple[str, ...]:
    """The chapters that have experiment settings."""
    return tuple(_CONFIGS)


def get_config(chapter: str, profile: str):
    """The settings of ``chapter`` under ``profile`` ("quick" or "paper"); ValueError for unknown names."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; expected one of {PROFILES}")
    if chapter not in _CONFIGS:
        raise ValueError(f"no experiment settings for chapter {chapter!r}; known: {sorted(_CONFIGS)}")
    return _CONFIGS[chapter][profile]


def main_config(chapter: str, profile: str):
    """The settings of ``chapter``'s main run under ``profile``: :func:`get_config`, or its first run where the
    chapter has several (a tuple; Figure 4's first run is the paper's set-up)."""
    config = get_config(chapter, profile)
    return config[0] if isinstance(config, tuple) else config


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
