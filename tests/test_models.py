"""The paper's architectures: sizes, parameter counts, representations."""

import pytest
import torch

from repro.models import ConvNet, FCNet, build_model


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_fc_matches_paper_layout():
    model = FCNet(784, 10)
    widths = [m.out_features for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert widths == [400, 200, 200, 200, 200, 200, 10]
    assert n_params(model) == 557_010


def test_cnn_matches_paper_layout():
    model = ConvNet(in_channels=3, image_size=32, num_classes=100)
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [32, 64, 128, 256]
    assert all(c.kernel_size == (3, 3) for c in convs)
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in model.modules())
    assert n_params(model) == 490_916


@pytest.mark.parametrize(
    ("arch", "shape", "expected_keys"),
    [
        (
            "fc",
            (1, 28, 28),
            ["input", "hidden1", "hidden2", "hidden3", "hidden4", "hidden5", "hidden6", "logits"],
        ),
        ("cnn", (1, 28, 28), ["input", "conv1", "conv2", "conv3", "conv4", "logits"]),
    ],
)
def test_representations_end_in_logits(arch, shape, expected_keys):
    torch.manual_seed(0)
    model = build_model(arch, shape, 10)
    x = torch.randn(5, *shape)
    reps = model.representations(x)
    assert list(reps) == expected_keys
    assert all(r.shape[0] == 5 and r.ndim == 2 for r in reps.values())
    assert torch.allclose(reps["logits"], model(x))
    assert torch.equal(reps["input"], x.flatten(1))


def test_build_model_errors():
    with pytest.raises(ValueError, match="unknown architecture"):
        build_model("resnet", (1, 28, 28), 10)
    with pytest.raises(ValueError, match="square images"):
        build_model("cnn", (784,), 10)
    with pytest.raises(ValueError, match="too small"):
        ConvNet(image_size=8)
