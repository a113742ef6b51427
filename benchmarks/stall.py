"""Training-loss curves of the learning-rate sweep's slow runs at paper scale, and where the stall rule would stop them.

The sweep's paper profile trains 3 seeds × 5 rates per dataset up to 3,000,000 images; runs that never reach their
next target loss train on to that budget. This script trains seed 0's runs of the given rates (the full training
split, the sweep's initialisation, Adam, batch 32), all of one dataset together (``repro.training.train_many``),
records the training loss (the sweep's 10,000-image subset) at 120 log-spaced points, and prints, for each rule
setting, the images at which the rule (``repro.training.run.stalled``) would first stop the run — on these points,
which are sparser than the sweep's target checks (every 1/64 of the images seen). The sparse points are not a
bound on the real rule: with dense, noisy checks the best loss of the first half is lower, and the rule stops
sooner (the paper run stopped Fashion-MNIST's 3e-3 runs at 0.6–1.8 million images, which these points never do).

    .venv/bin/python benchmarks/stall.py fashion_mnist 1e-3,3e-3,1e-2 2500000 --out fmnist.json
    .venv/bin/python benchmarks/stall.py --read fmnist.json      # the table again, from the stored curves
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

GAINS = (0.02, 0.05, 0.1)
MINIMA = (300_000, 600_000, 1_000_000)


def curves(dataset: str, lrs: list[float], max_images: int, data_root: str | None) -> dict:
    """``{"dataset", "seconds", "curves": {lr: [(images seen, training loss), ...]}}`` of seed 0's runs."""
    from repro.book.profiles import get_config
    from repro.data import load_dataset
    from repro.experiments.lr_sweep import _run_inputs
    from repro.experiments.setup import new_model
    from repro.training import TrainConfig, train_many

    cfg = get_config("fig08", "paper")
    ds = load_dataset(dataset, data_root)
    (x, y), _, _ = _run_inputs(cfg, ds, 0, torch.device("cpu"))
    models = [new_model(cfg.arch, ds, init=cfg.init, seed=0, device=torch.device("cpu")) for _ in lrs]
    points = sorted({int(p) // 32 * 32 for p in np.geomspace(8_192, max_images, 120)})
    start = time.perf_counter()
    configs = [TrainConfig(lr=lr, max_images=max_images, seed=0) for lr in lrs]
    results = train_many(models, x, y, configs=configs, eval_at=points, progress=True)
    out = {
        str(lr): [(r["images_seen"], r["train_loss"]) for r in res.records]
        for lr, res in zip(lrs, results, strict=True)
    }
    return {"dataset": dataset, "seconds": time.perf_counter() - start, "curves": out}


def report(data: dict) -> None:
    """The loss at a few points, the first point at or below each target, and the rule's stop per setting."""
    from repro.training.run import stalled

    print(f"## {data['dataset']} (trained in {data['seconds']:.0f} s)")
    for lr, curve in data["curves"].items():
        c = np.asarray(curve)
        shown = [c[np.argmin(abs(c[:, 0] - p))] for p in (3e4, 3e5, 6e5, 1e6, 2e6, c[-1, 0])]
        print(f"- rate {lr}: " + ", ".join(f"{s / 1e3:,.0f}k {loss:.3f}" for s, loss in shown))
        hits = {t: next((int(s) for s, loss in c if loss <= t), None) for t in (0.4, 0.2, 0.1)}
        print(f"  first at or below 0.4 / 0.2 / 0.1: {hits[0.4]} / {hits[0.2]} / {hits[0.1]}")
        for gain in GAINS:
            stops = []
            checks = [tuple(p) for p in c]
            for minimum in MINIMA:
                due = (int(s) for i, (s, _) in enumerate(c) if s >= minimum and stalled(checks[: i + 1], gain))
                at = next(due, None)
                stops.append("never" if at is None else f"{at:,}")
            shown = ", ".join(f"{s} (from {m:,})" for s, m in zip(stops, MINIMA, strict=True))
            print(f"  gain {gain:.0%}: stops at {shown}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", nargs="?")
    parser.add_argument("lrs", nargs="?", help="comma-separated learning rates")
    parser.add_argument("max_images", nargs="?", type=int)
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--out", default=None, help="store the curves here (JSON)")
    parser.add_argument("--read", default=None, help="report stored curves instead of training")
    args = parser.parse_args()
    if args.read:
        data = json.loads(open(args.read).read())
    else:
        torch.set_num_threads(1)
        data = curves(args.dataset, [float(v) for v in args.lrs.split(",")], args.max_images, args.data_root)
        if args.out:
            with open(args.out, "w") as f:
                json.dump(data, f)
    report(data)


if __name__ == "__main__":
    main()
