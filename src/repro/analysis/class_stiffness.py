"""Readings of a class-stiffness run (:class:`repro.experiments.class_stiffness.ClassStiffnessRun`) that are not
its measurements: what it used (Markdown), the trajectory sentence, the headline numbers and details a results file
records, and the rounded lines a chapter's regression cell prints. The run does not import this module, so editing a
reading keeps its stored measurement."""

from __future__ import annotations

from repro.experiments.class_stiffness import ClassStiffnessRun
from repro.experiments.numerics import PrecisionCheck
from repro.models import INIT_DESCRIPTIONS
from repro.training import stage_label

__all__ = ["describe_precision", "describe_run", "trajectory", "run_details", "summary_lines", "headline"]


def describe_precision(check: PrecisionCheck) -> str:
    """One Markdown sentence: how far the float32 Gram at the end of training agrees with float64."""
    return (
        f"Precision check at the end of training: the float32 Gram's signs equal a float64 recomputation for "
        f"{100 * check.sign_agreement:.2f}% of the {check.n_pairs:,} pairs (largest cosine gap "
        f"{check.max_cos_gap:.1e}; smallest validation loss {check.min_loss:.1e})."
    )


def describe_run(run: ClassStiffnessRun) -> str:
    """What the run used, read from the data and the run (Markdown): dataset and source, images used, budget,
    and the precision check of the final Gram."""
    cfg = run.config
    labels = " with randomly permuted training labels" if cfg.random_labels else ""
    return (
        f"**Data.** {run.data_description}  \n"
        f"Trained on {run.n_train:,} training images{labels} from {INIT_DESCRIPTIONS[cfg.init]}, Adam with "
        f"learning rate {cfg.lr:g}, batch {cfg.batch_size}, for {cfg.max_images:,} images seen (status "
        f"*{run.status}*). Stiffness measured on "
        f"{run.n_stiffness} validation images ({run.n_stiffness // len(run.class_names)} per class); "
        f"validation loss on {run.n_val:,} other held-out images. Run time {run.seconds_total:.0f} s"
        + (f" for {run.trained_together} networks trained together" if run.trained_together > 1 else "")
        + f", of which {run.seconds_gram:.1f} s computing this network's Gram matrices."
        + (f"  \n{describe_precision(run.precision)}" if run.precision is not None else "")
    )

def trajectory(run: ClassStiffnessRun) -> str:
    """One Markdown sentence with within/between sign stiffness at every stage and the cosine's endpoints."""
    sign = [s.summaries["sign"] for s in run.snapshots]
    stages = ", ".join(
        f"{stage_label(s.images_seen)}: within **{x.within:+.2f}**, between **{x.between:+.2f}**"
        for s, x in zip(run.snapshots, sign, strict=True)
    )
    cos0, cos1 = run.snapshots[0].summaries["cos"], run.snapshots[-1].summaries["cos"]
    return (
        f"In this run, sign stiffness goes {stages}. Cosine stiffness goes from within {cos0.within:+.3f} / "
        f"between {cos0.between:+.3f} to within {cos1.within:+.3f} / between {cos1.between:+.3f}."
    )

def run_details(run: ClassStiffnessRun) -> dict[str, object]:
    """What a results file records about the run besides the headline numbers."""
    return {
        "data": run.data_description,
        "n_train": run.n_train,
        "n_stiffness": run.n_stiffness,
        "n_val": run.n_val,
        "status": run.status,
        "seconds_total": run.seconds_total,
        "seconds_gram": run.seconds_gram,
        "trained_together": run.trained_together,
    }

def summary_lines(run: ClassStiffnessRun) -> list[str]:
    """Rounded within/between per stage: the lines a chapter's regression cell prints."""
    return [
        f"{stage_label(s.images_seen):>24}: within {s.summaries['sign'].within:+.1f}, "
        f"between {s.summaries['sign'].between:+.1f}"
        for s in run.snapshots
    ]

def headline(run: ClassStiffnessRun, metric: str = "sign") -> dict[str, object]:
    """Within/between stiffness (value and interval) at every stage, for a results file."""
    out: dict[str, object] = {}
    for k, snap in enumerate(run.snapshots):
        s = snap.summaries[metric]
        out |= {
            f"stage{k}_images_seen": snap.images_seen,
            f"stage{k}_within": s.within,
            f"stage{k}_between": s.between,
            f"stage{k}_within_ci": list(s.within_ci),
            f"stage{k}_between_ci": list(s.between_ci),
        }
    return out
