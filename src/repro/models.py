"""The paper's two architectures (Section 3.1), each able to return every layer's representation.

- :class:`FCNet` — ``784 → 400 → 200×5 → classes`` with ReLU (six hidden layers), as in "X → 400 → 200⁵ → y".
- :class:`ConvNet` — 3×3 convolutions with 32, 64, 128, 256 channels (padding 1), each followed by ReLU and a 2×2
  max-pool, then one dense layer. No batch normalisation anywhere.

Both are plain ``nn.Module`` s built from ``nn.Sequential`` blocks, so hooks see ordinary ``nn.Linear`` and
``nn.Conv2d`` layers. ``representations(x)`` returns ``R⁽⁰⁾ = X, R⁽¹⁾, …, R⁽ᴸ⁾`` of the paper's Eq. 8, flattened to
``(N, features)``, for the distance analysis of Eq. 9.

The paper names neither its framework nor its initialisation, and the choice matters: under PyTorch's default
(weights and biases uniform in ±1/√fan_in) six hidden layers make the untrained FC network an almost
input-independent constant, so every between-class pair starts anti-stiff. :func:`build_model` therefore takes
``init`` (:data:`INITS`); the book's default is ``"glorot"``, the Keras/TensorFlow default.
:func:`prepare_inputs` turns images into what an architecture takes (flattened for ``"fc"``).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from repro.data import flatten_inputs

__all__ = [
    "INITS",
    "INIT_DESCRIPTIONS",
    "DEFAULT_INIT",
    "FCNet",
    "ConvNet",
    "check_init",
    "initialise",
    "build_model",
    "prepare_inputs",
]

INITS = ("torch", "glorot", "he")
INIT_DESCRIPTIONS = {  # how a chapter names each scheme
    "torch": "PyTorch's default initialisation (weights and biases uniform in ±1/√fan_in)",
    "glorot": "Glorot-uniform weights and zero biases (the Keras/TensorFlow default)",
    "he": "He-normal weights and zero biases",
}
DEFAULT_INIT = "glorot"  # Keras / TensorFlow's default: the likeliest for the paper (see the setup chapter)


class _RepresentationNet(nn.Module):
    """Base class: a stack of named blocks; the forward pass is their composition."""

    blocks: nn.ModuleDict

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, classes)`` for inputs ``x``."""
        for block in self.blocks.values():
            x = block(x)
        return x

    def representations(self, x: torch.Tensor) -> OrderedDict[str, torch.Tensor]:
        """Every layer's representation of ``x``, flattened: ``{"input": (N, D₀), <block>: (N, Dₗ), …}``.

        The keys are ``"input"`` followed by the block names in order; the last block's output is the logits.
        """
        reps: OrderedDict[str, torch.Tensor] = OrderedDict(input=x.flatten(1))
        for name, block in self.blocks.items():
            x = block(x)
            reps[name] = x.flatten(1)
        return reps


class FCNet(_RepresentationNet):
    """Fully-connected ReLU network ``in_features → 400 → 200×5 → num_classes`` (paper Section 3.1).

    Args:
        in_features: input dimension (784 for MNIST; inputs of any shape are flattened).
        num_classes: number of output logits.
        hidden: the hidden widths; the paper's default is ``(400, 200, 200, 200, 200, 200)``.
    """

    def __init__(
        self,
        in_features: int = 784,
        num_classes: int = 10,
        hidden: tuple[int, ...] = (400, 200, 200, 200, 200, 200),
    ) -> None:
        super().__init__()
        widths = (in_features, *hidden)
        blocks: OrderedDict[str, nn.Module] = OrderedDict()
        for i, (d_in, d_out) in enumerate(zip(widths[:-1], widths[1:], strict=True), start=1):
            first = [nn.Flatten()] if i == 1 else []
            blocks[f"hidden{i}"] = nn.Sequential(*first, nn.Linear(d_in, d_out), nn.ReLU())
        blocks["logits"] = nn.Linear(widths[-1], num_classes)
        self.blocks = nn.ModuleDict(blocks)


class ConvNet(_RepresentationNet):
    """CNN: four ``Conv2d(3×3, padding 1) → ReLU → MaxPool(2)`` blocks (32, 64, 128, 256 channels), then a dense layer.

    Args:
        in_channels: 1 for (Fashion-)MNIST, 3 for CIFAR.
        image_size: input height = width (28 or 32); fixes the dense layer's input size.
        num_classes: number of output logits.
        channels: the four convolutions' output channels.
    """

    def __init__(
        self,
        in_channels: int = 3,
        image_size: int = 32,
        num_classes: int = 10,
        channels: tuple[int, ...] = (32, 64, 128, 256),
    ) -> None:
        super().__init__()
        blocks: OrderedDict[str, nn.Module] = OrderedDict()
        size, c_in = image_size, in_channels
        for i, c_out in enumerate(channels, start=1):
            blocks[f"conv{i}"] = nn.Sequential(
                nn.Conv2d(c_in, c_out, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2)
            )
            size, c_in = size // 2, c_out
        if size < 1:
            raise ValueError(f"image_size={image_size} is too small for {len(channels)} 2×2 max-pools")
        blocks["logits"] = nn.Sequential(nn.Flatten(), nn.Linear(c_in * size * size, num_classes))
        self.blocks = nn.ModuleDict(blocks)


def check_init(init: str) -> str:
    """``init`` if it names a scheme of :data:`INITS`, else ValueError."""
    if init not in INITS:
        raise ValueError(f"unknown initialisation {init!r}; expected one of {INITS}")
    return init


@torch.no_grad()
def initialise(model: nn.Module, init: str) -> nn.Module:
    """Re-initialise every ``nn.Linear`` and ``nn.Conv2d`` of ``model`` in place (and return it).

    - ``"torch"``: leave PyTorch's default (weights and biases uniform in ``±1/√fan_in``);
    - ``"glorot"``: weights uniform in ``±√(6 / (fan_in + fan_out))`` (Glorot/Xavier-uniform), biases 0 — the
      Keras and TensorFlow default;
    - ``"he"``: weights normal with standard deviation ``√(2 / fan_in)`` (He/Kaiming-normal for ReLU), biases 0.

    For a convolution, ``fan_in = C_in·k_h·k_w`` and ``fan_out = C_out·k_h·k_w``. Draws from torch's global RNG.
    """
    check_init(init)
    if init == "torch":
        return model
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            if init == "glorot":
                nn.init.xavier_uniform_(module.weight)
            else:
                nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return model


def build_model(
    arch: str, input_shape: tuple[int, ...], num_classes: int, *, init: str = DEFAULT_INIT
) -> _RepresentationNet:
    """The paper's model by name, initialised by ``init`` (:func:`initialise`); build it under
    ``torch.manual_seed`` for a reproducible draw.

    Args:
        arch: ``"fc"`` or ``"cnn"``.
        input_shape: one example's shape, ``(C, H, W)`` or ``(D,)``.
        num_classes: number of classes.
        init: ``"glorot"`` (default), ``"he"`` or ``"torch"``.
    """
    check_init(init)
    if arch == "fc":
        in_features = 1
        for d in input_shape:
            in_features *= d
        return initialise(FCNet(in_features=in_features, num_classes=num_classes), init)
    if arch == "cnn":
        if len(input_shape) != 3 or input_shape[1] != input_shape[2]:
            raise ValueError(f"the CNN needs square images of shape (C, H, H), got {tuple(input_shape)}")
        net = ConvNet(in_channels=input_shape[0], image_size=input_shape[1], num_classes=num_classes)
        return initialise(net, init)
    raise ValueError(f"unknown architecture {arch!r}; expected 'fc' or 'cnn'")


def prepare_inputs(x: torch.Tensor, arch: str, device: torch.device | str) -> torch.Tensor:
    """Inputs as the architecture takes them: flattened ``(N, C·H·W)`` for ``"fc"``, images for ``"cnn"``."""
    return (flatten_inputs(x) if arch == "fc" else x).to(device)
