"""Benchmark: exact per-example-gradient Gram matrices of the paper's models, ours against today's tools.

Methods (each run in its own process, so that its peak memory is its own):

- ``floor``: one batched forward + backward of the summed loss over the same N examples (parameter gradients);
- ``loop``: a Python loop of per-example ``torch.autograd.grad``, the gradients stacked ``(N, P)``, one GEMM;
- ``vmap``: ``torch.func`` vmap of grad in chunks, stacked ``(N, P)``, one GEMM;
- ``backpack``: BackPACK ``BatchGrad`` (per-sample gradients in one backward), stacked, one GEMM (if installed);
- ``opacus``: Opacus ``GradSampleModule`` per-sample gradients, stacked, one GEMM (if installed);
- ``ours``: :func:`repro.gram.per_example_gram` (default ``method="auto"``).

Float32, random data, ``torch.set_num_threads(threads)``, median of ``repeats`` timed calls after a warm-up on 8
examples. Peak memory is the growth of the process's maximum resident set over its size after the model and data
were made. Prints a Markdown table: model, N, method, median seconds, speed-up against vmap, ratio to the floor, peak
MB, and *others*: how many cores other processes kept busy on average during the timed calls (on a 2-core machine
anything above about 0.1 slows 2-thread runs a lot, the many small parallel regions of the FC net most).

    python benchmarks/gram.py                       # the full table (slow: the loop and vmap at N = 2000)
    python benchmarks/gram.py --models fc --sizes 1000 --methods floor,vmap,ours
    python benchmarks/gram.py --time-cap 60         # skip a method at larger N once it took longer than 60 s
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from machine import describe_machine  # benchmarks/machine.py, beside this script
from torch import nn

MODELS = {  # name: (architecture, input shape, classes)
    "fc": ("fc", (784,), 10),
    "cnn10": ("cnn", (3, 32, 32), 10),
    "cnn100": ("cnn", (3, 32, 32), 100),
}
METHODS = ("floor", "loop", "vmap", "backpack", "opacus", "ours")


def _stack_gram(grads: torch.Tensor) -> torch.Tensor:
    return (grads @ grads.T).to(torch.float64)


def _floor(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> None:
    model.zero_grad(set_to_none=True)
    F.cross_entropy(model(x), y, reduction="sum").backward()


def _loop(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    params = [p for p in model.parameters() if p.requires_grad]
    rows = []
    for i in range(x.shape[0]):
        grads = torch.autograd.grad(F.cross_entropy(model(x[i : i + 1]), y[i : i + 1]), params)
        rows.append(torch.cat([g.flatten() for g in grads]))
    return _stack_gram(torch.stack(rows))


def _vmap(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    from repro.gram import default_chunk_size
    from repro.gram.functorch_path import per_example_gradients

    size = default_chunk_size(model)
    grads = [per_example_gradients(model, x[i : i + size], y[i : i + size]) for i in range(0, x.shape[0], size)]
    return _stack_gram(torch.cat(grads))


def _backpack(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    from backpack import backpack, extend
    from backpack.extensions import BatchGrad

    model.zero_grad(set_to_none=True)
    loss = extend(nn.CrossEntropyLoss(reduction="sum"))(model(x), y)
    with backpack(BatchGrad()):
        loss.backward()
    return _stack_gram(torch.cat([p.grad_batch.flatten(1) for p in model.parameters()], dim=1))


def _opacus(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    model.zero_grad(set_to_none=True)
    F.cross_entropy(model(x), y, reduction="sum").backward()
    return _stack_gram(torch.cat([p.grad_sample.flatten(1) for p in model.parameters()], dim=1))


def _ours(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    from repro.gram import per_example_gram

    return per_example_gram(model, x, y)


RUNNERS: dict[str, Callable[[nn.Module, torch.Tensor, torch.Tensor], object]] = {
    "floor": _floor,
    "loop": _loop,
    "vmap": _vmap,
    "backpack": _backpack,
    "opacus": _opacus,
    "ours": _ours,
}


def _busy_seconds() -> float:
    """CPU seconds all processes of the machine have run so far (``/proc/stat``, not idle or waiting)."""
    with open("/proc/stat") as f:
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in f.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    times = os.times()
    return times.user + times.system


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def worker(model_name: str, n: int, method: str, repeats: int, threads: int) -> dict:
    """Time one method in this process: ``{"times": [s, …], "peak_mb": MB}``."""
    os.environ["OPENBLAS_NUM_THREADS"] = str(threads)  # SciPy's BLAS (used by ours) gets the same threads
    from repro.models import build_model

    torch.set_num_threads(threads)
    arch, shape, classes = MODELS[model_name]
    torch.manual_seed(0)
    model = build_model(arch, shape, classes)
    if method == "backpack":
        from backpack import extend

        model = extend(model)
    if method == "opacus":
        from opacus import GradSampleModule

        model = GradSampleModule(model, loss_reduction="sum")
    x, y = torch.randn(n, *shape), torch.randint(0, classes, (n,))
    run = RUNNERS[method]
    run(model, x[:8], y[:8])  # warm-up: imports, first-call costs
    model.zero_grad(set_to_none=True)
    baseline = _rss_mb()
    times = []
    busy, own, wall = _busy_seconds(), _own_seconds(), time.perf_counter()
    for _ in range(repeats):
        start = time.perf_counter()
        run(model, x, y)
        times.append(time.perf_counter() - start)
        model.zero_grad(set_to_none=True)
    others = (_busy_seconds() - busy - (_own_seconds() - own)) / (time.perf_counter() - wall)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"times": times, "peak_mb": max(0.0, peak - baseline), "others": max(0.0, others)}


def _available(method: str) -> bool:
    module = {"backpack": "backpack", "opacus": "opacus"}.get(method)
    if module is None:
        return True
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def _measure(model_name: str, n: int, method: str, repeats: int, threads: int, timeout: float) -> dict | None:
    cmd = [sys.executable, __file__, "--worker", model_name, str(n), method, str(repeats), str(threads)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"failed: over {timeout:.0f} s"}
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        return {"error": "failed: " + (lines[-1] if lines else f"exit {done.returncode}")}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="fc,cnn10,cnn100")
    parser.add_argument("--sizes", default="150,500,1000,2000")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--time-cap",
        type=float,
        default=float("inf"),
        help="skip a method at larger N once one timed call took longer than this many seconds",
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds one method's process may take")
    args = parser.parse_args(argv)
    methods = [m for m in args.methods.split(",") if _available(m)]
    print(f"Machine: {describe_machine()}; {args.threads} threads, float32, median of {args.repeats}.\n", flush=True)
    print("| model | N | method | median s | speed-up vs vmap | × floor | peak MB | others |")
    print("|---|---:|---|---:|---:|---:|---:|---:|", flush=True)
    for model_name in args.models.split(","):
        capped: set[str] = set()
        for n in (int(s) for s in args.sizes.split(",")):
            results = {}
            for method in methods:
                if method in capped:
                    results[method] = {"error": "skipped (over --time-cap)"}
                    continue
                results[method] = _measure(model_name, n, method, args.repeats, args.threads, args.timeout)
                if "times" in results[method] and min(results[method]["times"]) > args.time_cap:
                    capped.add(method)
            for row in _rows(model_name, n, results):
                print(row, flush=True)


def _rows(model_name: str, n: int, results: dict[str, dict]) -> list[str]:
    """Markdown table rows for one model and N."""
    medians = {m: statistics.median(r["times"]) for m, r in results.items() if "times" in r}
    rows = []
    for method, result in results.items():
        if method not in medians:
            rows.append(f"| {model_name} | {n} | {method} | {result['error'][:80]} | | | | |")
            continue
        median = medians[method]
        speedup = f"{medians['vmap'] / median:.1f}×" if "vmap" in medians else ""
        floor = f"{median / medians['floor']:.1f}" if "floor" in medians else ""
        rows.append(
            f"| {model_name} | {n} | {method} | {median:.3f} | {speedup} | {floor} | {result['peak_mb']:.0f} "
            f"| {result['others']:.2f} |"
        )
    return rows


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        _, _, name, size, meth, reps, threads = sys.argv
        print(json.dumps(worker(name, int(size), meth, int(reps), int(threads))))
    else:
        main()
