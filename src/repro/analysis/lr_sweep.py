"""Readings of a learning-rate sweep (:class:`repro.experiments.lr_sweep.LRSweep`) that are not its measurements:
what it used and how it went, and what its groups cost. The sweep does not import this module."""

from __future__ import annotations

from repro.experiments.lr_sweep import LRSweep
from repro.training import CHECK_RESOLUTION

__all__ = ["group_seconds", "describe_sweep", "missed_text"]


def group_seconds(sweep: LRSweep) -> float:
    """Seconds its groups took to train and measure, summed over the groups (a group taken up from its
    checkpoint counts each sitting up to its last save; the steps a kill threw away and were taken again count
    once): the sweep's cost also when this call read the groups back from the cache, where ``seconds_total``
    (this call's own time) is about zero."""
    return float(sweep.rows.groupby("dataset")["seconds"].first().sum())


def missed_text(sweep: LRSweep) -> str:
    """How the runs that missed a target stopped (Markdown, starting with a space; ``""`` when none did), e.g.
    `` (6 runs: 3 with the budget spent at 3,000,000 images, 3 stalled at 601,000–620,000 images)``, then the stall
    rule (:func:`repro.training.run.stalled`) when the sweep set one."""
    cfg = sweep.config
    missed = sweep.rows[(sweep.rows["rule"] == "loss") & ~sweep.rows["train_loss_target_reached"]]
    runs = missed.drop_duplicates(["dataset", "lr", "seed"])
    if runs.empty:
        return ""
    parts = []
    for status, how in (("completed", "with the budget spent"), ("stalled", "stalled"), ("diverged", "diverged")):
        stopped = runs[runs["status"] == status]
        if not stopped.empty:
            at = stopped["missed_at"]
            span = f"{at.min():,.0f}" if at.min() == at.max() else f"{at.min():,.0f}–{at.max():,.0f}"
            parts.append(f"{len(stopped)} {how} at {span} images")
    rule = ""
    if cfg.stall_min_images is not None:
        rule = (
            f". The stall rule, stated before the run: a run with a target left stops at the first check from "
            f"{cfg.stall_min_images:,} images on at which its best training loss over the last half of the images "
            f"it has seen is not {cfg.stall_min_gain:.0%} below its best before them; a target it has not reached is "
            "recorded as missed at the images it had seen"
        )
    noun = "run" if len(runs) == 1 else "runs"
    return f" ({len(runs)} {noun}: " + ", ".join(parts) + ")" + rule


def describe_sweep(sweep: LRSweep) -> str:
    """What the sweep used and how it went (Markdown): data, sizes, learning rates, stopping points, seeds,
    missed targets and run time."""
    cfg = sweep.config
    loss = sweep.rows[sweep.rows["rule"] == "loss"]
    missed = int((~loss["train_loss_target_reached"]).sum())
    per_group = sweep.rows.groupby("dataset")[["seconds", "group_runs"]].first()
    subset = "the full training split" if cfg.n_train is None else f"{cfg.n_train:,} images"
    return (
        "**Data.** " + "  \n".join(sweep.data.values()) + f"  \nTraining subset: {subset}; stiffness set: "
        f"{cfg.n_stiffness} validation images; learning rates {', '.join(f'{lr:g}' for lr in cfg.lrs)}; stopping "
        f"at training losses {', '.join(f'{t:g}' for t in cfg.target_losses)} (first reached; checked every "
        f"{cfg.check_every} images, or every 1/{CHECK_RESOLUTION} of the images seen once that is more) and at "
        f"{cfg.fixed_images:,} images seen; seeds {sweep.seed}–"
        f"{sweep.seed + cfg.n_seeds - 1}; at most {cfg.max_images:,} images per run.  \n"
        f"Target losses missed: {missed} of {len(loss)}{missed_text(sweep)}. Sweep time {sweep.seconds_total:.0f} s"
        + (" (trained by an earlier chapter or build and read back from the cache)" if sweep.from_cache else "")
        + (
            f"; {sweep.groups_from_cache} of its {len(per_group)} groups were read back from the per-group cache "
            "(an interrupted earlier sweep, or groups trained as tasks of their own)"
            if sweep.groups_from_cache
            else ""
        )
        + f". The {int(per_group['group_runs'].sum())} runs trained in {len(per_group)} groups (one per dataset, "
        f"its runs together as one stacked network) that took {group_seconds(sweep):.0f} s in all "
        "(training and measuring)."
    )
