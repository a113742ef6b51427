"""Exactness of ``per_example_gram`` (fast engine and general path) against a plain per-example autograd loop.

The reference differentiates each example's own cross-entropy (a batch of one: the sum convention), flattens the
gradients of every trainable parameter and takes dot products, all in float64.
"""

from __future__ import annotations

import os

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from repro.gram import per_example_gram, register_rule, unit_gram
from repro.gram.capture import capture
from repro.gram.engine import FACTORISED, FALLBACK, MATERIALISED, choose_form, compute_gram, plan
from repro.gram.rules import RULES, LinearRule
from repro.models import ConvNet, FCNet

N_CLASSES = 4


pytestmark = pytest.mark.usefixtures("one_thread")


def brute_gradients(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, params: list[nn.Parameter], loss_fn=F.cross_entropy
) -> torch.Tensor:
    """``(n, p)``: row ``i`` is the gradient of example ``i``'s own loss w.r.t. ``params``, flattened."""
    rows = []
    for i in range(x.shape[0]):
        loss = loss_fn(model(x[i : i + 1]), y[i : i + 1])
        grads = torch.autograd.grad(loss, params, allow_unused=True)
        grads = [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads, strict=True)]
        rows.append(torch.cat([g.flatten() for g in grads]))
    return torch.stack(rows)


def brute_gram(model, x, y, x2=None, y2=None, params=None) -> torch.Tensor:
    params = params if params is not None else [p for p in model.parameters() if p.requires_grad]
    a = brute_gradients(model, x, y, params)
    b = a if x2 is None else brute_gradients(model, x2, y2, params)
    return a @ b.T


def assert_gram_close(got: torch.Tensor, ref: torch.Tensor, rtol: float) -> None:
    """Entries agree within ``rtol`` relative to the largest entry of the reference."""
    assert got.dtype == torch.float64 and got.shape == ref.shape
    torch.testing.assert_close(got, ref.to(torch.float64), rtol=rtol, atol=rtol * float(ref.abs().max()))


# --- models -------------------------------------------------------------------------------------------------------


class SequenceNet(nn.Module):
    """A Linear on ``(n, t, d)`` (a token axis), LayerNorm over features, then a classifier."""

    def __init__(self, t: int = 3, d: int = 5, h: int = 6) -> None:
        super().__init__()
        self.embed = nn.Linear(d, h)
        self.norm = nn.LayerNorm(h)
        self.head = nn.Linear(t * h, N_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.norm(torch.tanh(self.embed(x))).flatten(1))


class SharedNet(nn.Module):
    """One Linear called twice (weight sharing) and a parameter of the model itself, next to ruled layers."""

    def __init__(self) -> None:
        super().__init__()
        self.inp = nn.Linear(6, 5)
        self.twice = nn.Linear(5, 5)
        self.scale = nn.Parameter(torch.tensor(1.5))
        self.act = nn.PReLU()
        self.out = nn.Linear(5, N_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.tanh(self.inp(x))
        h = torch.tanh(self.twice(torch.tanh(self.twice(h))))
        return self.out(self.act(h * self.scale))


class LeakyWeightNet(nn.Module):
    """Uses a Linear's weight outside the Linear's forward: the hooks alone would miss that gradient."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(6, 5)
        self.out = nn.Linear(5, N_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.tanh(self.fc(x)) + F.linear(x, self.fc.weight) ** 2)


def conv_variants() -> nn.Module:
    """Convolutions with stride, padding, dilation, groups, no bias, 'same' reflect padding; pools; GroupNorm."""
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, stride=2, padding=2, bias=False),
        nn.ReLU(inplace=True),
        nn.Conv2d(4, 4, 3, dilation=2, padding=1, groups=2),
        nn.Tanh(),
        nn.AvgPool2d(2, ceil_mode=True),
        nn.Conv2d(4, 6, 2, padding="same", padding_mode="reflect"),
        nn.GroupNorm(2, 6),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(6, N_CLASSES, bias=False),
    )


def conv1d_net() -> nn.Module:
    """Conv1d with stride and circular padding, LayerNorm over (channels, length), eval-mode BatchNorm."""
    return nn.Sequential(
        nn.Conv1d(3, 4, 3, stride=2, padding=1, padding_mode="circular"),
        nn.LayerNorm([4, 5]),
        nn.ReLU(),
        nn.BatchNorm1d(4),
        nn.Conv1d(4, 4, 1, groups=4),
        nn.Flatten(),
        nn.Linear(20, N_CLASSES),
    ).eval()


def frozen_parts() -> nn.Module:
    """Only some parameters are trainable: a frozen weight with a trainable bias and vice versa."""
    model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 5), nn.Tanh(), nn.Linear(5, N_CLASSES))
    model[0].weight.requires_grad_(False)
    model[2].bias.requires_grad_(False)
    return model


MODELS = {
    "fc": (lambda: FCNet(in_features=12, num_classes=N_CLASSES, hidden=(10, 8, 8)), (12,)),
    "cnn": (lambda: ConvNet(in_channels=3, image_size=8, num_classes=N_CLASSES, channels=(4, 6)), (3, 8, 8)),
    "conv-variants": (conv_variants, (2, 9, 9)),
    "conv1d-norms": (conv1d_net, (3, 10)),
    "sequence": (SequenceNet, (3, 5)),
    "frozen": (frozen_parts, (6,)),
    "shared-fallback": (SharedNet, (6,)),
}


def make(name: str, seed: int, n: int = 7, dtype: torch.dtype = torch.float64):
    torch.manual_seed(seed)
    factory, shape = MODELS[name]
    model = factory().to(dtype)
    x = torch.randn(n, *shape, dtype=dtype)
    y = torch.randint(0, N_CLASSES, (n,))
    return model, x, y


# --- exactness ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1], ids=["seed0", "seed1"])
@pytest.mark.parametrize("name", list(MODELS))
def test_fast_path_matches_brute_force(name: str, seed: int) -> None:
    model, x, y = make(name, seed)
    assert_gram_close(per_example_gram(model, x, y), brute_gram(model, x, y), rtol=1e-8)


@pytest.mark.parametrize("name", list(MODELS))
def test_cross_gram_matches_brute_force(name: str) -> None:
    model, x, y = make(name, seed=2)
    _, x2, y2 = make(name, seed=3, n=4)
    ref = brute_gram(model, x, y, x2, y2)
    assert_gram_close(per_example_gram(model, x, y, x2, y2), ref, rtol=1e-8)
    assert_gram_close(per_example_gram(model, x, y, x2, y2, chunk_size=3, memory_budget=256), ref, rtol=1e-8)


@pytest.mark.parametrize("name", ["fc", "cnn", "conv-variants", "sequence", "shared-fallback"])
def test_small_chunks_and_budget_give_the_same_answer(name: str) -> None:
    """Chunks of 3 examples for N = 7, and a budget so small that every layer is done in panels of 1-2 examples."""
    model, x, y = make(name, seed=4)
    ref = brute_gram(model, x, y)
    for chunk_size, budget in [(3, 2**30), (3, 256), (1, 1)]:
        got = per_example_gram(model, x, y, chunk_size=chunk_size, memory_budget=budget)
        assert_gram_close(got, ref, rtol=1e-8)
        assert torch.equal(got, got.T)


@pytest.mark.parametrize("name", list(MODELS))
def test_general_path_matches_brute_force(name: str) -> None:
    model, x, y = make(name, seed=5)
    assert_gram_close(per_example_gram(model, x, y, method="vmap", chunk_size=3), brute_gram(model, x, y), rtol=1e-8)


@pytest.mark.parametrize("name", ["fc", "cnn", "conv-variants"])
def test_float32_within_1e_4(name: str) -> None:
    model, x, y = make(name, seed=6, n=9, dtype=torch.float32)
    got = per_example_gram(model, x, y)
    ref = brute_gram(model.double(), x.double(), y)
    assert_gram_close(got, ref, rtol=1e-4)


def test_float32_keeps_confidently_classified_examples_exact() -> None:
    """Logit margins of 20–60: torch's float32 cross-entropy rounds p_y − 1 to 0 and the gradients lose their
    true-class part; the engine's loss (repro.losses) keeps them, so the float32 Gram matches float64 brute force
    on the exact loss entry by entry."""
    from repro.losses import cross_entropy

    model, x, _ = make("fc", seed=7, n=9, dtype=torch.float32)
    with torch.no_grad():
        logits = model(x)
        y = logits.argmax(1)
        top2 = logits.topk(2, dim=1).values
        margins = top2[:, 0] - top2[:, 1]
        scale = 20.0 / float(margins.min())
        model.blocks.logits.weight.mul_(scale)
        model.blocks.logits.bias.mul_(scale)
        assert (F.cross_entropy(model(x), y, reduction="none") < 1e-7).all()  # saturated in float32
    got = per_example_gram(model, x, y)
    model64 = model.double()
    params = [p for p in model64.parameters() if p.requires_grad]
    grads = brute_gradients(model64, x.double(), y, params, loss_fn=cross_entropy)
    ref = grads @ grads.T
    torch.testing.assert_close(got, ref, rtol=1e-3, atol=0.0)  # entry by entry, however small


def _saturate(model: nn.Module, x: torch.Tensor, margin: float, which=torch.max) -> torch.Tensor:
    """Scale the FC net's logit layer so that the largest (``which=torch.max``) or smallest top-1 margin on ``x``
    is ``margin``; return the predicted labels (every example then correctly classified)."""
    with torch.no_grad():
        top2 = model(x).topk(2, dim=1).values
        scale = margin / float(which(top2[:, 0] - top2[:, 1]))
        model.blocks.logits.weight.mul_(scale)
        model.blocks.logits.bias.mul_(scale)
        return model(x).argmax(1)


def test_float32_keeps_gradient_products_far_below_its_range() -> None:
    """Margins up to 90: per-example gradients down to ≈ e⁻⁹⁰ ≈ 1e-39 and their products down to ≈ 1e-78, far
    below float32's smallest number. The engine works per unit logit gradient and multiplies the norms back in
    float64, so the float32 Gram still equals float64 brute force entry by entry."""
    from repro.losses import cross_entropy

    model, x, _ = make("fc", seed=11, n=9, dtype=torch.float32)
    y = _saturate(model, x, 90.0)
    got = per_example_gram(model, x, y)
    model64 = model.double()
    params = [p for p in model64.parameters() if p.requires_grad]
    grads = brute_gradients(model64, x.double(), y, params, loss_fn=cross_entropy)
    ref = grads @ grads.T
    assert float(ref.abs().min()) < 1e-60  # the products the float32 range cannot hold
    torch.testing.assert_close(got, ref, rtol=1e-3, atol=0.0)


def test_unit_gram_keeps_signs_and_cosines_where_float64_underflows() -> None:
    """Margins of 400 and more (losses below e⁻⁴⁰⁰ ≈ 1e-174): every product of the cross-entropy's gradients is
    below float64's range and reads 0, but the unit Gram, computed in float32, has the signs and cosines of the
    per-example gradients of the logits weighted by the unit logit gradient, by brute force in float64."""
    model, x, _ = make("fc", seed=12, n=8, dtype=torch.float32)
    y = _saturate(model, x, 400.0, which=torch.min)
    model64 = make("fc", seed=12, n=8, dtype=torch.float64)[0]
    model64.load_state_dict(model.state_dict())
    gram64 = per_example_gram(model64, x.double(), y)
    assert (gram64 == 0).all()  # what the cross-entropy's Gram alone would give
    got = unit_gram(model, x, y).unit
    params = [p for p in model64.parameters() if p.requires_grad]
    z64 = model64(x.double()).detach()
    margins = z64 - z64.gather(1, y[:, None])
    margins[torch.arange(8), y] = float("-inf")
    direction = torch.exp(margins - margins.max(1, keepdim=True).values)  # ∝ p_k for k ≠ y, 0 at y
    direction[torch.arange(8), y] = -direction.sum(1)  # the true class: −Σ_k p_k
    direction /= direction.norm(dim=1, keepdim=True)
    rows = [
        torch.cat(
            [g.flatten() for g in torch.autograd.grad((model64(x[i : i + 1].double())[0] * direction[i]).sum(), params)]
        )
        for i in range(8)
    ]
    ref = torch.stack(rows) @ torch.stack(rows).T
    assert_gram_close(got, ref, rtol=1e-4)
    off = ~torch.eye(8, dtype=torch.bool)
    clear = off & (ref.abs() > 1e-3 * float(ref.abs().max()))
    assert (torch.sign(got) == torch.sign(ref))[clear].all()
    cos = lambda g: g / torch.outer(g.diagonal(), g.diagonal()).sqrt()  # noqa: E731
    torch.testing.assert_close(cos(got), cos(ref), rtol=0.0, atol=1e-4)


@pytest.mark.parametrize("per_layer", [False, True])
def test_unit_gram_times_its_norms_is_the_gram(per_layer: bool) -> None:
    model, x, y = make("cnn", seed=13)
    x2, y2 = x[:3] * 0.5, y[:3]
    gram = unit_gram(model, x, y, x2, y2, per_layer=per_layer)
    assert gram.unit.shape == (x.shape[0], 3) and gram.log_norms.shape == (x.shape[0],)
    assert gram.log_norms2.shape == (3,)
    assert_gram_close(gram.scaled(), brute_gram(model, x, y, x2, y2), rtol=1e-8)
    if per_layer:
        assert_gram_close(sum(gram.layers.values()), gram.unit, rtol=1e-12)
        expected = per_example_gram(model, x, y, x2, y2, per_layer=True)
        for name, unit in gram.layers.items():
            assert_gram_close(gram.scaled(unit), expected[name], rtol=1e-12)


# --- per layer ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["auto", "vmap"])
@pytest.mark.parametrize("name", ["cnn", "conv1d-norms", "shared-fallback", "frozen"])
def test_per_layer_grams(name: str, method: str) -> None:
    """Keys are the modules owning trainable parameters; each G_l is the Gram of that module's parameters alone;
    they sum to G."""
    model, x, y = make(name, seed=7)
    layers = per_example_gram(model, x, y, per_layer=True, method=method)
    owners = {n.rpartition(".")[0] for n, p in model.named_parameters() if p.requires_grad}
    assert set(layers) == owners
    modules = dict(model.named_modules())
    for layer, gram in layers.items():
        params = [p for p in modules[layer].parameters(recurse=False) if p.requires_grad]
        assert_gram_close(gram, brute_gram(model, x, y, params=params), rtol=1e-8)
    assert_gram_close(sum(layers.values()), per_example_gram(model, x, y), rtol=1e-12)


# --- the engine's choices -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", [FACTORISED, MATERIALISED])
@pytest.mark.parametrize("name", ["cnn", "conv-variants", "conv1d-norms", "sequence", "frozen"])
def test_both_forms_are_exact(name: str, form: str) -> None:
    """Every outer-product layer forced into one form (factorised convolutions have t > 1 and groups), in panels."""
    model, x, y = make(name, seed=12)
    _, x2, y2 = make(name, seed=13, n=4)
    forced = per_example_gram(model, x, y, memory_budget=4096, form=form)
    assert_gram_close(forced, brute_gram(model, x, y), rtol=1e-8)
    assert_gram_close(per_example_gram(model, x, y, x2, y2, form=form), brute_gram(model, x, y, x2, y2), rtol=1e-8)
    forms = compute_gram(
        model, [(x, y)], capture_chunk=64, vmap_chunk=8, memory_budget=2**20, per_layer=False, form=form
    ).forms
    ruled = {n for n, m in model.named_modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv1d, torch.nn.Conv2d))}
    assert {forms[n] for n in ruled if forms.get(n, FALLBACK) != FALLBACK} == {form}  # reached every ruled layer


def test_forms_of_the_paper_models() -> None:
    """For N = 1000 the cost formula factorises every Linear of the FC net and the CNN's classifier, and
    materialises the CNN's convolutions."""
    torch.manual_seed(0)
    fc, cnn = FCNet(), ConvNet(in_channels=3, image_size=32, num_classes=100)
    for model, x, n_classes in [(fc, torch.randn(2, 784), 10), (cnn, torch.randn(2, 3, 32, 32), 100)]:
        layers, fallback = plan(model)
        assert not fallback
        y = torch.randint(0, n_classes, (2,))
        captured = capture(model, {name: layer.module for name, layer in layers.items()}, x, y, chunk_size=2)
        forms = {name: choose_form(layer, captured, 1000, 1000) for name, layer in layers.items()}
        expected = {name: MATERIALISED if "conv" in name else FACTORISED for name in layers}
        assert forms == expected


def test_shared_and_unruled_layers_fall_back_per_layer() -> None:
    model, x, y = make("shared-fallback", seed=8)
    result = compute_gram(model, [(x, y)], capture_chunk=4, vmap_chunk=4, memory_budget=2**20, per_layer=False)
    assert result.forms == {"": FALLBACK, "inp": FACTORISED, "twice": FALLBACK, "act": FALLBACK, "out": FACTORISED}
    with pytest.raises(ValueError, match="no usable rule"):
        per_example_gram(model, x, y, method="fast")


def test_registered_rule_is_used() -> None:
    """A Linear subclass has no rule (its forward may differ) until one is registered."""

    class MyLinear(nn.Linear):
        pass

    model = nn.Sequential(MyLinear(6, 5), nn.Tanh(), nn.Linear(5, N_CLASSES)).double()
    x, y = torch.randn(5, 6, dtype=torch.float64), torch.randint(0, N_CLASSES, (5,))
    run = lambda: compute_gram(model, [(x, y)], capture_chunk=8, vmap_chunk=8, memory_budget=2**20, per_layer=False)  # noqa: E731
    assert run().forms["0"] == FALLBACK
    register_rule(MyLinear, LinearRule())
    try:
        result = run()
    finally:
        del RULES[MyLinear]
    assert result.forms["0"] == FACTORISED
    scales = torch.exp(result.log_norms[0][:, None] + result.log_norms[1][None, :])
    assert_gram_close(result.total * scales, brute_gram(model, x, y), rtol=1e-8)


def test_parameter_used_outside_its_layer_is_detected() -> None:
    torch.manual_seed(9)
    model = LeakyWeightNet().double()
    x, y = torch.randn(5, 6, dtype=torch.float64), torch.randint(0, N_CLASSES, (5,))
    with pytest.warns(UserWarning, match="disagree with autograd"):
        got = per_example_gram(model, x, y)
    assert_gram_close(got, brute_gram(model, x, y), rtol=1e-8)


# --- contract -----------------------------------------------------------------------------------------------------


def test_leaves_grad_mode_and_hooks_as_they_were() -> None:
    model, x, y = make("cnn", seed=10)
    model.train()
    per_example_gram(model, x, y)
    assert model.training
    assert all(p.grad is None for p in model.parameters())
    assert all(not m._forward_hooks and not m._backward_hooks for m in model.modules())
    with torch.no_grad():
        got = per_example_gram(model, x, y)
    assert_gram_close(got, brute_gram(model, x, y), rtol=1e-8)


def test_batch_norm_with_batch_statistics_is_rejected() -> None:
    model = nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.Linear(5, N_CLASSES)).double()
    x, y = torch.randn(5, 6, dtype=torch.float64), torch.randint(0, N_CLASSES, (5,))
    for method in ("auto", "vmap"):
        with pytest.raises(ValueError, match="batch statistics"):
            per_example_gram(model, x, y, method=method)
    model[1].track_running_stats, model[1].running_mean, model[1].running_var = False, None, None
    with pytest.raises(ValueError, match="batch statistics"):
        per_example_gram(model.eval(), x, y)


def test_int32_labels() -> None:
    model, x, y = make("fc", seed=14)
    assert torch.equal(per_example_gram(model, x, y.int()), per_example_gram(model, x, y))


def test_invalid_arguments() -> None:
    model, x, y = make("fc", seed=11)
    with pytest.raises(ValueError, match="method"):
        per_example_gram(model, x, y, method="fastest")
    with pytest.raises(ValueError, match="chunk_size"):
        per_example_gram(model, x, y, chunk_size=0)
    with pytest.raises(ValueError, match="both x2 and y2"):
        per_example_gram(model, x, y, x2=x)


def test_openblas_threads_sleep_after_a_call_whatever_imports_scipy_first():
    """SciPy's OpenBLAS reads OPENBLAS_THREAD_TIMEOUT only when it loads; without it its threads spin ~0.1 s after
    every ?syrk of the engine and slow the PyTorch work after it. Importing any module of the package sets it
    before the package can load SciPy (repro.models reaches SciPy through repro.data)."""
    import subprocess
    import sys

    code = (
        "import os, sys\n"
        "os.environ.pop('OPENBLAS_THREAD_TIMEOUT', None)\n"
        "import repro.models\n"
        "assert 'scipy' in sys.modules, 'the test needs a module that loads SciPy'\n"
        "print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.strip() == "4"
