"""Benchmark: training E networks one by one (:func:`repro.training.train`) against together (``train_many``).

For the paper's FC network (784 → 400 → 200×5 → 10, MNIST-shaped inputs) and CNN (CIFAR-10-shaped, 3×32×32), batch
32, random data, E members with their own seeds and learning rates, no evaluation points or targets: training
images per second, all members' images over the wall time (each image of each member counts once), trained

- ``one by one``: ``train`` called for each member in turn;
- ``together``: one ``train_many`` call;
- ``floor``: one step's arithmetic (multiply-adds of the forward pass, and of the backward pass: the weight
  gradients of every layer and the input gradients of all but the first) at the rate of a large float32 matrix
  product measured in the same process. It ignores the optimiser, memory traffic and every overhead.
- ``memory floor``: the bytes one step must move for each member, whatever the batching — its parameters read by
  the forward pass and by the backward pass, its gradient written, and Adam's reads of parameters, gradient and
  both moments and writes of parameters and both moments: 10 × 4 bytes per parameter — at the copy bandwidth of a
  large float32 tensor measured in the same process. At batch 32 a member's weights are used by only 32 images per
  step, so on a CPU this floor, not the arithmetic, bounds what training members together can gain.

Everything runs in one process, one measurement after another, so the ratios compare like with like.

    python benchmarks/training.py                          # FC and CNN, E = 1, 5, 15, 30
    python benchmarks/training.py --models fc --members 15 --steps 200
    python benchmarks/training.py --device cuda            # on a GPU (timings end with a synchronisation)
"""

from __future__ import annotations

import argparse
import copy
import time

import torch
from machine import describe_machine  # benchmarks/machine.py, beside this script
from torch import nn

from repro.models import build_model
from repro.training import TrainConfig, train, train_many

MODELS = {"fc": ("fc", (784,)), "cnn": ("cnn", (3, 32, 32))}  # name: (architecture, input shape); 10 classes
BATCH = 32


def _sync(device: torch.device) -> None:
    """Wait for the device's queued work (a no-op on the CPU), so that a wall-clock time covers it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_rate(device: torch.device, size: int = 2048, repeats: int = 5) -> float:
    """FLOP/s of a ``size``³ float32 matrix product on ``device`` (best of ``repeats``)."""
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        a @ b
        _sync(device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def copy_bandwidth(device: torch.device, megabytes: int = 256, repeats: int = 5) -> float:
    """Bytes/s (read + written) of copying a ``megabytes`` float32 tensor on ``device`` (best of ``repeats``)."""
    a = torch.randn(megabytes * 2**20 // 4, device=device)
    b = torch.empty_like(a)
    b.copy_(a)
    best = float("inf")
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        b.copy_(a)
        _sync(device)
        best = min(best, time.perf_counter() - start)
    return 2 * a.numel() * 4 / best


BYTES_PER_PARAMETER_STEP = 10 * 4  # float32: forward read, backward read, gradient write, Adam 4 reads + 3 writes


def flops_per_image(model: nn.Module, shape: tuple[int, ...]) -> float:
    """Forward + backward FLOPs of one training image: 2 per multiply-add, ×3 for forward, weight gradient and input
    gradient, less the input gradient of the first layer (not needed)."""
    macs: list[int] = []

    def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        if isinstance(module, nn.Linear):
            macs.append(module.in_features * module.out_features)
        elif isinstance(module, nn.Conv2d):
            k = module.weight[0].numel()  # C_in/groups · kh · kw
            macs.append(output[0].numel() * k)

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    with torch.no_grad():
        model(torch.zeros(1, *shape))
    for h in handles:
        h.remove()
    return 2.0 * (3 * sum(macs) - macs[0])


def members(arch: str, shape: tuple[int, ...], count: int, device: torch.device) -> list[nn.Module]:
    """``count`` networks on ``device``, member e drawn under ``torch.manual_seed(e)``."""
    out = []
    for e in range(count):
        torch.manual_seed(e)
        out.append(build_model(arch, shape, 10).to(device))
    return out


def configs(count: int, steps: int) -> list[TrainConfig]:
    """Member e: seed e, learning rate cycling through 1e-4, 3e-4, 1e-3; ``steps`` batches of 32."""
    lrs = (1e-4, 3e-4, 1e-3)
    return [TrainConfig(lr=lrs[e % 3], seed=e, max_images=steps * BATCH) for e in range(count)]


def time_one_by_one(models: list[nn.Module], x: torch.Tensor, y: torch.Tensor, cfgs: list[TrainConfig]) -> float:
    """Seconds to train every member with ``train``, one after another."""
    _sync(x.device)
    start = time.perf_counter()
    for model, cfg in zip(models, cfgs, strict=True):
        train(model, x, y, config=cfg, progress=False)
    _sync(x.device)
    return time.perf_counter() - start


def time_together(models: list[nn.Module], x: torch.Tensor, y: torch.Tensor, cfgs: list[TrainConfig]) -> float:
    """Seconds to train every member with one ``train_many`` call."""
    _sync(x.device)
    start = time.perf_counter()
    train_many(models, x, y, configs=cfgs, progress=False)
    _sync(x.device)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="fc,cnn")
    parser.add_argument("--members", default="1,5,15,30")
    parser.add_argument("--steps", type=int, default=0, help="steps per member (default: 150 for fc, 15 for cnn)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--n-train", type=int, default=2048, help="random training images shared by the members")
    parser.add_argument("--device", default="cpu", help="cpu, or cuda (a GPU)")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    torch.set_num_threads(args.threads)
    rate = matmul_rate(device)
    bandwidth = copy_bandwidth(device)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{args.threads} threads"
    print(
        f"Machine: {describe_machine()}; {where}, float32, batch {BATCH}; "
        f"matrix-multiply rate {rate / 1e9:.0f} GFLOP/s; copy bandwidth {bandwidth / 1e9:.1f} GB/s."
    )
    print()
    print(
        "| model | E | steps per member | one by one (img/s) | together (img/s) | together / one by one "
        "| floor (img/s) | together / floor | memory floor (img/s) | together / memory floor |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|", flush=True)
    for name in args.models.split(","):
        arch, shape = MODELS[name]
        steps = args.steps or (150 if arch == "fc" else 15)
        gen = torch.Generator().manual_seed(0)
        x, y = torch.randn(args.n_train, *shape, generator=gen), torch.randint(0, 10, (args.n_train,), generator=gen)
        x, y = x.to(device), y.to(device)
        template = members(arch, shape, 1, torch.device("cpu"))[0]
        floor = rate / flops_per_image(template, shape)
        parameters = sum(p.numel() for p in template.parameters())
        memory_floor = bandwidth / (BYTES_PER_PARAMETER_STEP * parameters) * BATCH
        warm = members(arch, shape, 2, device)
        time_one_by_one(copy.deepcopy(warm), x, y, configs(2, 3))  # first-call costs
        time_together(warm, x, y, configs(2, 3))
        for count in (int(s) for s in args.members.split(",")):
            cfgs = configs(count, steps)
            images = count * steps * BATCH
            one = images / time_one_by_one(members(arch, shape, count, device), x, y, cfgs)
            together = images / time_together(members(arch, shape, count, device), x, y, cfgs)
            print(
                f"| {name} | {count} | {steps} | {one:,.0f} | {together:,.0f} | {together / one:.2f}× "
                f"| {floor:,.0f} | {together / floor:.2f} | {memory_floor:,.0f} | {together / memory_floor:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
