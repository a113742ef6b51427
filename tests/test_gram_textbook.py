"""The textbook path (``repro.gram.textbook``): PyTorch's own cross-entropy, per-example gradients and GEMM in a dtype.

It must equal a plain autograd loop in that dtype, and in float32 it must show the two artefacts of naive numerics
derived in :mod:`repro.losses`: ``p_y − 1`` rounding to 0 beyond a logit margin of ≈ 17 (the gradient loses its
true-class component, which flips signs) and every ``p_k`` underflowing beyond ≈ 104 (the gradient is exactly 0).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from repro.gram import sign_disagreement, textbook_gram, unit_gram
from repro.models import ConvNet, FCNet
from repro.stiffness import stiffness_from_gram

N_CLASSES = 4


pytestmark = pytest.mark.usefixtures("one_thread")


def brute_gram(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``(n, n)`` Gram of each example's own ``F.cross_entropy`` gradient (a batch of one), in the model's dtype."""
    params = [p for p in model.parameters() if p.requires_grad]
    rows = []
    for i in range(x.shape[0]):
        grads = torch.autograd.grad(F.cross_entropy(model(x[i : i + 1]), y[i : i + 1]), params)
        rows.append(torch.cat([g.flatten() for g in grads]))
    A = torch.stack(rows)
    return A @ A.T


def make(name: str, seed: int, dtype: torch.dtype, n: int = 7) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    torch.manual_seed(seed)
    if name == "fc":
        model, shape = FCNet(in_features=12, num_classes=N_CLASSES, hidden=(8, 8)), (12,)
    else:
        model, shape = ConvNet(in_channels=1, image_size=8, num_classes=N_CLASSES, channels=(3, 4)), (1, 8, 8)
    return model.to(dtype), torch.randn(n, *shape, dtype=dtype), torch.randint(0, N_CLASSES, (n,))


def assert_gram_close(got: torch.Tensor, ref: torch.Tensor, rtol: float) -> None:
    """Entries agree within ``rtol`` relative to the largest entry of the reference."""
    assert got.dtype == torch.float64 and got.shape == ref.shape
    ref = ref.to(torch.float64)
    torch.testing.assert_close(got, ref, rtol=rtol, atol=rtol * float(ref.abs().max()))


@pytest.mark.parametrize("name", ["fc", "cnn"])
def test_float64_matches_brute_force(name: str) -> None:
    model, x, y = make(name, seed=0, dtype=torch.float64)
    assert_gram_close(textbook_gram(model, x, y, dtype=torch.float64), brute_gram(model, x, y), rtol=1e-10)


@pytest.mark.parametrize("name", ["fc", "cnn"])
def test_float32_matches_float32_brute_force(name: str) -> None:
    """The float64 model is converted on the fly; the reference runs the loop on a float32 model."""
    model, x, y = make(name, seed=1, dtype=torch.float64)
    got = textbook_gram(model, x, y)  # float32 by default
    ref = brute_gram(model.float(), x.float(), y)
    assert ref.dtype == torch.float32
    assert_gram_close(got, ref, rtol=2e-5)
    assert (got.to(torch.float32).to(torch.float64) == got).all()  # the values are float32 numbers


@pytest.mark.parametrize("name", ["fc", "cnn"])
def test_small_chunks_and_panels_give_the_same_answer(name: str) -> None:
    """Chunks of 3 examples, and a budget that holds 2 gradient rows (panels of 1 example, recomputed)."""
    model, x, y = make(name, seed=2, dtype=torch.float64)
    ref = textbook_gram(model, x, y, dtype=torch.float64)
    n_params = sum(p.numel() for p in model.parameters())
    for chunk_size, budget in [(3, None), (3, 2 * 8 * n_params), (1, 1)]:
        got = textbook_gram(model, x, y, dtype=torch.float64, chunk_size=chunk_size, memory_budget=budget)
        assert_gram_close(got, ref, rtol=1e-12)
    got32 = textbook_gram(model, x, y, chunk_size=3, memory_budget=2 * 4 * n_params)
    assert_gram_close(got32, textbook_gram(model, x, y), rtol=1e-6)


def test_caller_model_is_left_unchanged() -> None:
    model, x, y = make("cnn", seed=3, dtype=torch.float32)
    model.blocks["conv1"][0].bias.requires_grad_(False)
    model.eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    G = textbook_gram(model, x, y, dtype=torch.float64)
    assert G.dtype == torch.float64 and G.shape == (7, 7)
    assert all(p.dtype == torch.float32 and p.grad is None for p in model.parameters())
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert not model.training and not model.blocks["conv1"][0].bias.requires_grad
    # the frozen bias is left out of the gradients, as in the exact path
    params = [p for p in model.double().parameters() if p.requires_grad]
    assert sum(p.numel() for p in params) == sum(p.numel() for p in model.parameters()) - 3
    assert_gram_close(G, brute_gram(model, x.double(), y), rtol=1e-10)


def test_saturated_fcnet_has_exactly_zero_float32_gradients() -> None:
    """Last layer scaled so that every float32 margin exceeds 150: every ``p_k`` underflows, ``G ≡ 0``."""
    model, x, y = make("fc", seed=4, dtype=torch.float32, n=8)
    with torch.no_grad():
        logits = model(x).double()
        top2 = logits.topk(2, dim=1).values
        scale = 200.0 / float((top2[:, 0] - top2[:, 1]).min())
        model.blocks["logits"].weight.mul_(scale)
        model.blocks["logits"].bias.mul_(scale)
        y = model(x).argmax(1)
        z = model(x)
        margins = (z.gather(1, y[:, None]) - z).masked_fill(F.one_hot(y, N_CLASSES).bool(), float("inf"))
    assert float(margins.min()) > 150  # far beyond exp's float32 underflow at ≈ 104
    G = textbook_gram(model, x, y)
    assert torch.equal(G, torch.zeros(8, 8, dtype=torch.float64))
    unit = unit_gram(model, x, y).unit
    assert (unit[~torch.eye(8, dtype=torch.bool)] != 0).all()  # the exact signs survive
    assert sign_disagreement(G, unit) == (1.0, 1.0, 0.0)
    assert (stiffness_from_gram(G, "sign") == 0).all()
    assert stiffness_from_gram(G, "cos").isnan().all()  # zero norms: cosine undefined, as documented


def margin_model() -> tuple[nn.Module, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``f(x) = x`` on 3 classes (a Linear with identity weight, zero bias) and ``xᵢ = Mᵢ e_{yᵢ}``: example ``i``'s
    logits have margin ``Mᵢ`` to both other classes. Classes 0, 1, 2 with ``M = 2``, then 25, then 200.

    Its gradient is ``vᵢ xᵢᵀ`` (weight) and ``vᵢ`` (bias), ``vᵢ = softmax − e_y``, so
    ``G[i, j] = (vᵢ·vⱼ)(MᵢMⱼ[yᵢ = yⱼ] + 1)`` has the sign of ``vᵢ·vⱼ``. Exactly ``vᵢ = p(1, 1, −2)`` (in class
    order, true class last): ``vᵢ·vⱼ = 6pq`` for one class, ``−3pq`` for two. Float32 textbook: at M = 25
    ``p_y − 1`` rounds to 0, ``v' = p(1, 1, 0)``, and ``v'ᵢ·v'ⱼ = +pq`` for two classes (a flip) while against an
    exact ``v`` (M = 2) it stays ``−pq``; at M = 200 ``v' = 0``.
    """
    model = nn.Linear(3, 3)
    with torch.no_grad():
        model.weight.copy_(torch.eye(3))
        model.bias.zero_()
    y = torch.tensor([0, 1, 2] * 3)
    margins = torch.tensor([2.0] * 3 + [25.0] * 3 + [200.0] * 3)
    return model, F.one_hot(y, 3).float() * margins[:, None], y, margins


def test_float32_rounding_flips_and_zeros_signs_as_derived() -> None:
    model, x, y, margins = margin_model()
    same_class = y[:, None] == y[None, :]
    exact_sign = torch.where(same_class, 1.0, -1.0).double()
    unit = unit_gram(model, x, y).unit
    assert torch.equal(torch.sign(unit), exact_sign)

    G = textbook_gram(model, x, y)
    saturated = margins == 200
    rounded = margins == 25
    expected = exact_sign.clone()
    expected[rounded[:, None] & rounded[None, :] & ~same_class] = 1.0  # the flip: +pq instead of −3pq
    expected[saturated[:, None] | saturated[None, :]] = 0.0
    assert torch.equal(torch.sign(G), expected)
    # 9·8 = 72 ordered pairs: 72 − 6·5 = 42 touch a saturated example; 3·2 = 6 flip among the M = 25 examples
    assert sign_disagreement(G, unit) == pytest.approx((42 / 72, (42 + 6) / 72, 6 / 72), abs=1e-15)

    # float64 keeps every p_k (no zeros), but p_y − 1 rounds to 0 at M = 200: the same flip moves there
    G64 = textbook_gram(model, x, y, dtype=torch.float64)
    assert sign_disagreement(G64, unit) == pytest.approx((0.0, 6 / 72, 6 / 72), abs=1e-15)
    flipped = torch.sign(G64) != exact_sign
    assert torch.equal(flipped, saturated[:, None] & saturated[None, :] & ~same_class)


def test_sign_disagreement_rejects_mismatched_grams() -> None:
    with pytest.raises(ValueError):
        sign_disagreement(torch.zeros(3, 3), torch.zeros(3, 2))
    with pytest.raises(ValueError):
        sign_disagreement(torch.zeros(1, 1), torch.zeros(1, 1))
