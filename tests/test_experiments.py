"""The experiment drivers behind the chapters, on small synthetic data."""

import numpy as np
import pytest
import torch

from repro.analysis.class_stiffness import describe_run
from repro.book.profiles import get_config, profile_table
from repro.experiments.class_stiffness import run_class_stiffness
from repro.experiments.configs import ClassStiffnessConfig
from repro.experiments.numerics import finite_difference_check, precision_check
from repro.models import FCNet


def test_finite_difference_converges_to_minus_gradient_dot_product():
    torch.manual_seed(0)
    model = FCNet(in_features=6, num_classes=3, hidden=(8, 8))
    x = torch.randn(2, 6)
    df = finite_difference_check(model, x[0], torch.tensor(0), x[1], torch.tensor(2), (1e-1, 1e-2, 1e-3, 1e-4))
    assert (df["rel_err_other"].diff().iloc[1:] < 0).all()  # error shrinks with ε
    assert df["rel_err_other"].iloc[-1] < 1e-3 and df["rel_err_self"].iloc[-1] < 1e-3
    assert np.allclose(df["pred_self"], df["pred_self"].iloc[0]) and (df["pred_self"] < 0).all()
    # the model itself is untouched (float32, same weights)
    assert next(model.parameters()).dtype == torch.float32


def test_class_stiffness_run_on_synthetic_data():
    cfg = ClassStiffnessConfig(
        dataset="spherical_harmonics", arch="fc", n_train=200, n_stiffness=40, n_val=100, lr=1e-3,
        max_images=640, stages=(0, 64, 320, 640), n_boot=20, n_stiffness_train=20,
    )
    run = run_class_stiffness(cfg, seed=0, progress=False)
    # 200 training images: epochs end with a batch of 8, so a stage is taken at the first evaluation reaching it
    assert [s.images_seen for s in run.snapshots] == [0, 64, 328, 640]
    assert run.status == "completed" and run.n_train == 200 and run.n_stiffness == 40
    for snap in run.snapshots:
        assert snap.matrices["sign"].shape == (2, 2) and snap.matrices["cos"].shape == (2, 2)
        assert np.all(np.abs(snap.matrices["sign"]) <= 1)
        s = snap.summaries["sign"]
        assert s.within_ci[0] <= s.within <= s.within_ci[1]
        assert set(snap.pairs) == {"train-train", "train-val"}
        assert snap.pairs["train-val"]["cos"][0].shape == (2, 2) and snap.gram.shape == (40, 40)
        assert np.allclose(snap.gram, snap.gram.T)
    hist = run.history
    assert {"images_seen", "train_loss", "val_loss", "within_sign", "between_sign_lo", "between_cos"} <= set(hist)
    assert hist["images_seen"].is_monotonic_increasing
    assert "generated in code" in run.data_description
    assert run.precision is not None and run.precision.n_pairs == 40 * 39
    assert run.precision.sign_agreement == 1.0 and "Precision check" in describe_run(run)


def test_precision_check_on_a_saturated_network():
    """Logit margins of 100 and more: the losses are below 1e-40, yet the float32 unit Gram agrees with float64."""
    torch.manual_seed(3)
    model = FCNet(in_features=6, num_classes=3, hidden=(8, 8))
    x = torch.randn(12, 6)
    with torch.no_grad():
        top2 = model(x).topk(2, dim=1).values
        scale = 100.0 / float((top2[:, 0] - top2[:, 1]).min())
        model.blocks.logits.weight.mul_(scale)
        model.blocks.logits.bias.mul_(scale)
        y = model(x).argmax(1)
    check = precision_check(model, x, y)
    assert check.min_loss < 1e-40 and check.n_pairs == 12 * 11
    assert check.sign_agreement == 1.0 and check.max_cos_gap < 1e-4
    assert next(model.parameters()).dtype == torch.float32 and model.training


def test_profiles_cover_both_profiles():
    from dataclasses import asdict

    from repro.book.profiles import PROFILES, chapters

    for chapter in chapters():
        quick, paper = (get_config(chapter, p) for p in PROFILES)
        assert type(quick) is type(paper), chapter  # the same experiment under both profiles
        for q, p in zip(*((c if isinstance(c, tuple) else (c,)) for c in (quick, paper)), strict=False):
            if hasattr(q, "max_images"):  # the paper trains at least as long as the quick profile
                assert p.max_images >= q.max_images, chapter
    # Figure 5 is Figure 3 on Fashion-MNIST, and nothing else differs
    for profile in PROFILES:
        fig03, fig05 = asdict(get_config("fig03", profile)), asdict(get_config("fig05", profile))
        assert {k for k in fig03 if fig03[k] != fig05[k]} == {"dataset"}
    table = profile_table()
    assert list(table.columns) == ["quick", "paper"]
    assert table.loc[("fig03", "max_images"), "quick"] < table.loc[("fig03", "max_images"), "paper"]
    assert {name.split(" run ")[0] for name in table.index.get_level_values("chapter")} == set(chapters())
    with pytest.raises(ValueError, match="unknown profile"):
        get_config("fig03", "full")


def test_textbook_numerics_are_recorded_beside_the_exact_stiffness():
    cfg = ClassStiffnessConfig(
        dataset="spherical_harmonics", arch="fc", n_train=200, n_stiffness=40, n_val=100, lr=1e-3,
        max_images=640, stages=(0, 640), n_boot=20, textbook_numerics=True, n_schedule=2,
    )
    run = run_class_stiffness(cfg, seed=0, progress=False)
    hist = run.history
    assert hist["images_seen"].tolist() == [0, 32, 640]  # the stages and cfg.n_schedule = 2 log points (32, 640)
    for name in ("textbook32", "textbook64"):
        assert {f"within_sign_{name}", f"between_sign_{name}", f"{name}_zero_share", f"{name}_flip_share"} <= set(hist)
    # an untrained or barely trained network: nothing saturates, so the float64 textbook signs are the exact ones
    assert (hist["textbook64_flip_share"] == 0).all() and (hist["textbook64_zero_share"] == 0).all()
    assert np.allclose(hist["within_sign_textbook64"], hist["within_sign"])
    assert np.allclose(hist["between_sign_textbook64"], hist["between_sign"])
    assert hist["stiffness_entropy"].between(0, np.log(2)).all()


def test_full_split_run_trains_on_every_training_image():
    from repro.data import load_dataset

    cfg = ClassStiffnessConfig(
        dataset="spherical_harmonics", arch="fc", n_train=None, n_stiffness=20, n_val=50, lr=1e-3,
        max_images=64, stages=(0, 64), n_boot=10, random_labels=True,
    )
    run = run_class_stiffness(cfg, seed=0, progress=False)
    assert run.n_train == load_dataset("spherical_harmonics").n_train
    assert "randomly permuted" in describe_run(run) and "Glorot" in describe_run(run)
