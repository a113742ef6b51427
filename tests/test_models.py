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


def _layers(model: torch.nn.Module) -> list[torch.nn.Module]:
    return [m for m in model.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))]


def _fans(layer: torch.nn.Module) -> tuple[int, int]:
    w = layer.weight
    receptive = w[0, 0].numel()
    return w.shape[1] * receptive, w.shape[0] * receptive


@pytest.mark.parametrize(("arch", "shape"), [("fc", (1, 28, 28)), ("cnn", (3, 32, 32))])
def test_glorot_is_uniform_within_its_bound_with_zero_biases(arch, shape):
    torch.manual_seed(0)
    model = build_model(arch, shape, 10, init="glorot")
    for layer in _layers(model):
        fan_in, fan_out = _fans(layer)
        bound = (6 / (fan_in + fan_out)) ** 0.5
        w = layer.weight.detach()
        assert w.abs().max() <= bound
        assert w.abs().max() > 0.9 * bound  # fills its range (every layer has ≥ 3k weights)
        assert abs(w.var().item() - bound**2 / 3) < 0.1 * bound**2 / 3  # var of U(−b, b) is b²/3
        assert torch.count_nonzero(layer.bias) == 0


@pytest.mark.parametrize(("arch", "shape"), [("fc", (1, 28, 28)), ("cnn", (3, 32, 32))])
def test_he_is_normal_with_variance_two_over_fan_in_and_zero_biases(arch, shape):
    torch.manual_seed(0)
    model = build_model(arch, shape, 10, init="he")
    for layer in _layers(model):
        fan_in, _ = _fans(layer)
        w = layer.weight.detach()
        assert abs(w.var().item() - 2 / fan_in) < 0.1 * 2 / fan_in
        assert w.abs().max() > 2.5 * (2 / fan_in) ** 0.5  # a normal's tails, not a uniform's bounded range
        assert torch.count_nonzero(layer.bias) == 0


@pytest.mark.parametrize(("arch", "shape"), [("fc", (1, 28, 28)), ("cnn", (3, 32, 32))])
def test_torch_init_keeps_the_default_uniform_weights_and_biases(arch, shape):
    torch.manual_seed(0)
    model = build_model(arch, shape, 10, init="torch")
    for layer in _layers(model):
        fan_in, _ = _fans(layer)
        bound = 1 / fan_in**0.5
        assert layer.weight.detach().abs().max() <= bound
        assert layer.bias.detach().abs().max() <= bound
        assert torch.count_nonzero(layer.bias) == layer.bias.numel()


def test_default_init_is_glorot_and_seeded():
    torch.manual_seed(3)
    a = build_model("fc", (784,), 10)
    torch.manual_seed(3)
    b = build_model("fc", (784,), 10, init="glorot")
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert all(torch.count_nonzero(m.bias) == 0 for m in _layers(a))


def test_unknown_init_is_rejected():
    with pytest.raises(ValueError, match="unknown initialisation"):
        build_model("fc", (784,), 10, init="lecun")
