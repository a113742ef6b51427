"""Precision check: the float32 Gram of a trained network, with the textbook and the saturation-proof loss.

Trains the paper's FC network on MNIST (Adam, lr 1e-3, batch 32) for ``--images`` images seen, takes the book's
class-balanced stiffness set of ``--n`` validation images, and computes the exact Gram of per-example gradients
three ways: float64 with :func:`repro.losses.cross_entropy` (the reference), float32 with it (what the package
does), and float32 with ``torch.nn.functional.cross_entropy`` (the textbook ``−log softmax`` form, swapped into
the engine for this comparison only). Prints the spread of the validation losses and, for each float32 Gram, the
share of off-diagonal signs that agree with the reference and quantiles of the entries' relative error.

    REPRO_DATA_ROOT=../shared/data python benchmarks/saturation.py --images 60000
"""

from __future__ import annotations

import argparse
from contextlib import contextmanager

import torch
import torch.nn.functional as F

import repro.gram.capture
import repro.gram.engine
from repro.data import load_dataset, stiffness_set, train_subset
from repro.experiments import prepare_inputs
from repro.losses import cross_entropy
from repro.models import build_model
from repro.stiffness import per_example_gram
from repro.training import TrainConfig, train


@contextmanager
def textbook_loss():
    """Swap the engine's loss for torch's ``F.cross_entropy`` while the block runs."""
    saved = repro.gram.capture.cross_entropy, repro.gram.engine.cross_entropy

    def torch_loss(logits, y, reduction="mean"):
        return F.cross_entropy(logits, y, reduction=reduction)

    repro.gram.capture.cross_entropy = repro.gram.engine.cross_entropy = torch_loss
    try:
        yield
    finally:
        repro.gram.capture.cross_entropy, repro.gram.engine.cross_entropy = saved


def compare(gram: torch.Tensor, reference: torch.Tensor) -> tuple[float, list[float]]:
    """Share of off-diagonal signs equal to the reference's, and the 50/90/99/100% quantiles of relative error."""
    off = ~torch.eye(gram.shape[0], dtype=torch.bool)
    agree = float((torch.sign(gram) == torch.sign(reference))[off].double().mean())
    rel = ((gram - reference).abs() / reference.abs())[off]
    return agree, rel.quantile(torch.tensor([0.5, 0.9, 0.99, 1.0], dtype=rel.dtype)).tolist()


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
    with torch.no_grad():
        losses = cross_entropy(model64(x_st.double()), y_st, "none")
    reference = per_example_gram(model64, x_st.double(), y_st)
    ours = per_example_gram(model, x_st, y_st)
    with textbook_loss():
        textbook = per_example_gram(model, x_st, y_st)

    q = losses.quantile(torch.tensor([0.0, 0.5, 1.0], dtype=losses.dtype)).tolist()
    print(f"FC on MNIST after {args.images:,} images seen; {args.n} validation images")
    print(
        f"validation loss: min {q[0]:.1e}, median {q[1]:.1e}, max {q[2]:.1e}; "
        f"below 1e-7 (float32 p_y rounds to 1): {int((losses < 1e-7).sum())} of {args.n}"
    )
    print("| float32 Gram with | signs equal to float64 | rel. error 50% | 90% | 99% | max |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, gram in (("repro.losses.cross_entropy", ours), ("F.cross_entropy (textbook)", textbook)):
        agree, quantiles = compare(gram, reference)
        print(f"| {name} | {agree:.4f} | " + " | ".join(f"{v:.1e}" for v in quantiles) + " |")


if __name__ == "__main__":
    main()
