"""Benchmark: a reduced learning-rate sweep trained as the book trains it (each dataset's runs together, one
stacked network, :func:`repro.experiments.lr_sweep.run_lr_sweep`) against the same runs trained one by one.

"One by one" is the same sweep code given one run at a time (a sweep of one learning rate and one seed, for every
rate and seed in turn), so the two columns differ only in how many runs share a step. Both include measuring
(stiffness and distance analysis at every stop). The sweep is the paper profile's (learning rates, targets, batch,
stiffness-set size and bootstrap) on the first dataset with a smaller image budget, so that both fit in minutes.
Both run in one process, one after the other.

    REPRO_DATA_ROOT=/data python benchmarks/sweep.py --n-stiffness 300   # CPU, 1 thread
    REPRO_DATA_ROOT=/data python benchmarks/sweep.py --device cuda --max-images 300000
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import torch
from machine import describe_machine  # benchmarks/machine.py, beside this script

from repro.book.profiles import get_config
from repro.experiments.lr_sweep import run_lr_sweep


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-images", type=int, default=30_000, help="image budget per run (paper: 3,000,000)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-stiffness", type=int, default=0, help="stiffness images (default: the paper's)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    paper = get_config("fig08", "paper")
    cfg = replace(
        paper,
        datasets=paper.datasets[:1],
        max_images=args.max_images,
        fixed_images=min(paper.fixed_images, args.max_images // 2),
        n_seeds=args.seeds,
        n_stiffness=args.n_stiffness or paper.n_stiffness,
    )
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{args.threads} thread(s)"
    print(f"Machine: {describe_machine()}; {where}.")
    print(
        f"Sweep: {cfg.datasets[0]}, learning rates {', '.join(f'{lr:g}' for lr in cfg.lrs)}, seeds 0–"
        f"{cfg.n_seeds - 1}, targets {cfg.target_losses}, fixed stop {cfg.fixed_images:,}, at most "
        f"{cfg.max_images:,} images per run, {cfg.n_stiffness} stiffness images, {cfg.n_boot} bootstrap replicates."
    )
    run_lr_sweep(replace(cfg, lrs=cfg.lrs[:1], n_seeds=1, max_images=2_000), device=device, progress=False)  # warm-up
    _sync(device)
    start = time.perf_counter()
    together = run_lr_sweep(cfg, device=device, progress=False)
    _sync(device)
    t_together = time.perf_counter() - start
    start = time.perf_counter()
    for seed in range(cfg.n_seeds):
        for lr in cfg.lrs:
            run_lr_sweep(replace(cfg, lrs=(lr,), n_seeds=1), device=device, seed=seed, progress=False)
    _sync(device)
    t_one = time.perf_counter() - start
    runs = len(cfg.lrs) * cfg.n_seeds
    print()
    print("| runs | one by one (s) | together (s) | together / one by one |")
    print("|---:|---:|---:|---:|")
    print(f"| {runs} | {t_one:.1f} | {t_together:.1f} | {t_one / t_together:.2f}× faster |")
    print(f"\nMissed targets (together): {int((~together.rows['train_loss_target_reached']).sum())}.")


if __name__ == "__main__":
    main()
