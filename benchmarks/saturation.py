"""Precision check: stiffness from float32 Grams of a network trained far into overfitting.

Trains the paper's FC network on MNIST (Adam, lr 1e-3, batch 32) for ``--images`` images seen, takes the book's
class-balanced stiffness set of ``--n`` validation images, and compares the signs and cosines of their per-example
gradient products computed four ways against a float64 :func:`repro.stiffness.unit_gram` (the reference):

- ``unit_gram`` in float32: what the package does (gradients per unit logit gradient, norms kept as logarithms);
- per-example gradients of :func:`repro.losses.cross_entropy` from an autograd loop, then one GEMM, in float32 and
  in float64: the direct route, exact loss but no rescaling (the package's engine before the unit Gram);
- the same in float32 with ``torch.nn.functional.cross_entropy`` (the textbook ``−log softmax`` form).

Prints the spread of the validation losses, then per method the share of off-diagonal pairs whose sign equals the
reference's, and the share whose cosine is off by more than 0.01.

    REPRO_DATA_ROOT=../shared/data python benchmarks/saturation.py --images 60000
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from repro.data import load_dataset, stiffness_set, train_subset
from repro.losses import cross_entropy
from repro.models import build_model, prepare_inputs
from repro.stiffness import unit_gram
from repro.training import TrainConfig, train

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def loop_gram(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: Loss) -> torch.Tensor:
    """``(n, n)`` Gram of per-example gradients from one backward per example and one GEMM, in ``x``'s dtype."""
    params = [p for p in model.parameters() if p.requires_grad]
    rows = []
    for i in range(x.shape[0]):
        grads = torch.autograd.grad(loss_fn(model(x[i : i + 1]), y[i : i + 1]), params)
        rows.append(torch.cat([g.flatten() for g in grads]))
    grads = torch.stack(rows)
    return grads @ grads.T


def cosines(gram: torch.Tensor) -> torch.Tensor:
    """Cosines of a Gram (NaN where a norm is 0), float64."""
    gram = gram.double()
    return gram / torch.outer(gram.diagonal(), gram.diagonal()).sqrt()


def compare(gram: torch.Tensor, reference: torch.Tensor) -> tuple[float, float]:
    """Share of off-diagonal signs equal to the reference's, and share of cosines off by more than 0.01 (NaN
    counts as off)."""
    off = ~torch.eye(gram.shape[0], dtype=torch.bool)
    agree = float((torch.sign(gram.double()) == torch.sign(reference))[off].double().mean())
    close = (cosines(gram) - cosines(reference)).abs() <= 0.01
    return agree, float((~close)[off].double().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=60_000, help="images seen in training")
    parser.add_argument("--n", type=int, default=150, help="stiffness-set size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-root", default=None)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    ds = load_dataset("mnist", args.data_root)
    x_tr, y_tr, _ = train_subset(ds, None, args.seed)
    x_st, y_st, _ = stiffness_set(ds, args.n, args.seed)
    x_tr, x_st = prepare_inputs(x_tr, "fc", "cpu"), prepare_inputs(x_st, "fc", "cpu")
    model = build_model("fc", ds.input_shape, ds.num_classes)
    train(model, x_tr, y_tr, config=TrainConfig(lr=1e-3, max_images=args.images, seed=args.seed), progress=True)
    model.eval()
    model64 = build_model("fc", ds.input_shape, ds.num_classes).double()
    model64.load_state_dict(model.state_dict())
    model64.eval()
    x64 = x_st.double()

    reference = unit_gram(model64, x64, y_st).unit
    with torch.no_grad():
        losses = cross_entropy(model64(x64), y_st, "none")
    methods = {
        "unit_gram, float32 (the package)": unit_gram(model, x_st, y_st).unit,
        "loop + GEMM, exact loss, float64": loop_gram(model64, x64, y_st, cross_entropy),
        "loop + GEMM, exact loss, float32": loop_gram(model, x_st, y_st, cross_entropy),
        "loop + GEMM, textbook loss, float32": loop_gram(model, x_st, y_st, F.cross_entropy),
    }

    q = losses.quantile(torch.tensor([0.0, 0.5, 1.0], dtype=losses.dtype)).tolist()
    print(f"FC on MNIST after {args.images:,} images seen; {args.n} validation images")
    print(
        f"validation loss: min {q[0]:.1e}, median {q[1]:.1e}, max {q[2]:.1e}; "
        f"below 1e-7 (float32 p_y rounds to 1): {int((losses < 1e-7).sum())} of {args.n}; "
        f"below 1e-20 (a product of two such gradients underflows in float32): {int((losses < 1e-20).sum())}"
    )
    print("| Gram | signs equal to the float64 unit Gram | cosines off by > 0.01 |")
    print("|---|---:|---:|")
    for name, gram in methods.items():
        agree, off = compare(gram, reference)
        print(f"| {name} | {agree:.4f} | {off:.4f} |")


if __name__ == "__main__":
    main()
