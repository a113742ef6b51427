"""Stiffness statistics on hand-built cases whose answers are known."""

import math

import numpy as np
import pytest
import torch

from repro.stiffness import (
    bootstrap_class_summary,
    bootstrap_critical_distance,
    class_stiffness,
    class_summary,
    critical_distance,
    hierarchy_contrast,
    pairwise_cosine,
    stiffness_from_gram,
    stiffness_vs_distance,
)


def gram_of(vectors: list[list[float]]) -> torch.Tensor:
    g = torch.tensor(vectors, dtype=torch.float64)
    return g @ g.T


class TestStiffnessFromGram:
    def test_sign_and_cosine_of_known_vectors(self):
        G = gram_of([[1, 0], [1, 1], [-1, 0], [0, 2]])
        S = stiffness_from_gram(G, "sign")
        assert S[0, 1] == 1 and S[0, 2] == -1 and S[0, 3] == 0
        C = stiffness_from_gram(G, "cos")
        assert C[0, 1] == pytest.approx(1 / math.sqrt(2))
        assert C[0, 2] == pytest.approx(-1.0)
        assert torch.allclose(torch.diagonal(C), torch.ones(4, dtype=torch.float64))

    def test_cosine_of_rectangular_gram_needs_norms(self):
        a = torch.tensor([[3.0, 4.0]], dtype=torch.float64)
        b = torch.tensor([[4.0, 3.0], [0.0, -1.0]], dtype=torch.float64)
        G = a @ b.T
        with pytest.raises(ValueError, match="sq_norms"):
            stiffness_from_gram(G, "cos")
        C = stiffness_from_gram(G, "cos", sq_norms=(a * a).sum(1), sq_norms2=(b * b).sum(1))
        assert C[0, 0] == pytest.approx(24 / 25)
        assert C[0, 1] == pytest.approx(-4 / 5)

    def test_zero_gradient_has_undefined_cosine(self):
        C = stiffness_from_gram(gram_of([[1, 0], [0, 0]]), "cos")
        assert math.isnan(C[0, 1])

    def test_bad_input(self):
        with pytest.raises(ValueError, match="unknown stiffness metric"):
            stiffness_from_gram(torch.eye(2), "l2")
        with pytest.raises(ValueError, match="2-D"):
            stiffness_from_gram(torch.ones(3), "sign")
        with pytest.raises(ValueError, match="do not match"):
            stiffness_from_gram(torch.ones(2, 3), "cos", sq_norms=torch.ones(3), sq_norms2=torch.ones(3))


class TestClassStiffness:
    def test_block_matrix_and_self_pairs_excluded(self):
        labels = torch.tensor([0, 0, 1, 1, 1])
        S = torch.full((5, 5), -1.0, dtype=torch.float64)
        S[:2, :2] = 1.0  # class 0 internally stiff
        S[2:, 2:] = 0.5  # class 1 half
        S.fill_diagonal_(100.0)  # self-pairs must never count
        C = class_stiffness(S, labels)
        assert torch.allclose(C, torch.tensor([[1.0, -1.0], [-1.0, 0.5]], dtype=torch.float64))
        within, between = class_summary(C)
        assert within == pytest.approx(0.75) and between == pytest.approx(-1.0)

    def test_weights_by_pairs_not_examples(self):
        labels = torch.tensor([0, 0, 0])
        S = torch.tensor([[0, 1, 0], [1, 0, -1], [0, -1, 0]], dtype=torch.float64)
        # pairs (0,1)=1, (0,2)=0, (1,2)=-1, each counted twice: mean 0
        assert class_stiffness(S, labels)[0, 0] == pytest.approx(0.0)

    def test_rectangular_counts_every_pair_and_empty_cells_are_nan(self):
        S = torch.tensor([[1.0, -1.0, 0.5]], dtype=torch.float64)
        C = class_stiffness(S, torch.tensor([0]), torch.tensor([0, 1, 1]), num_classes=3)
        assert C[0, 0] == 1.0 and C[0, 1] == pytest.approx(-0.25)
        assert torch.isnan(C[1]).all() and torch.isnan(C[:, 2]).all()

    def test_singleton_class_has_no_within_pairs(self):
        C = class_stiffness(torch.ones(3, 3), torch.tensor([0, 1, 1]))
        assert math.isnan(C[0, 0]) and C[1, 1] == 1.0
        within, _ = class_summary(C)
        assert within == 1.0  # NaN-aware mean over the defined diagonal cells

    def test_bad_input(self):
        with pytest.raises(ValueError, match="distinct examples"):
            class_stiffness(torch.ones(1, 1), torch.tensor([0]))
        with pytest.raises(ValueError, match="shape"):
            class_stiffness(torch.ones(3, 3), torch.tensor([0, 1]))
        with pytest.raises(ValueError, match="labels2"):
            class_stiffness(torch.ones(2, 3), torch.tensor([0, 1]))
        with pytest.raises(ValueError, match="integer"):
            class_stiffness(torch.ones(2, 2), torch.tensor([0.0, 1.0]))
        with pytest.raises(ValueError, match=r"\[0, 2\)"):
            class_stiffness(torch.ones(2, 2), torch.tensor([0, 2]), num_classes=2)
        with pytest.raises(ValueError, match="K ≥ 2"):
            class_summary(torch.ones(1, 1))


class TestBootstrap:
    def test_constant_matrix_has_zero_spread(self):
        labels = torch.arange(20) % 4
        S = torch.full((20, 20), 0.3, dtype=torch.float64)
        summary = bootstrap_class_summary(S, labels, n_boot=50)
        assert summary.within == pytest.approx(0.3) and summary.between == pytest.approx(0.3)
        assert summary.within_se == pytest.approx(0.0, abs=1e-12)
        assert summary.between_ci == pytest.approx((0.3, 0.3))

    def test_interval_covers_estimate_and_shrinks_with_more_examples(self):
        def summary_for(n: int):
            rng = np.random.default_rng(1)
            labels = torch.as_tensor(np.arange(n) % 2)
            z = torch.as_tensor(rng.normal(size=(n, 3)))
            S = torch.sign(z @ z.T)  # stiffness of random directions: mean ≈ 0
            return bootstrap_class_summary(S, labels, n_boot=200, seed=0)

        small, large = summary_for(30), summary_for(300)
        assert small.between_ci[0] <= small.between <= small.between_ci[1]
        assert large.between_se < small.between_se
        assert abs(large.between) < 4 * large.between_se + 0.05

    def test_seeded(self):
        labels = torch.arange(12) % 3
        S = torch.as_tensor(np.random.default_rng(0).uniform(-1, 1, (12, 12)))
        S = (S + S.T) / 2
        a = bootstrap_class_summary(S, labels, seed=4)
        b = bootstrap_class_summary(S, labels, seed=4)
        c = bootstrap_class_summary(S, labels, seed=5)
        assert a == b and a.within_se != c.within_se


class TestDistance:
    def test_pairwise_cosine(self):
        R = torch.tensor([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0], [0.0, 0.0]])
        D = pairwise_cosine(R)
        assert D[0, 1] == pytest.approx(0.0) and D[0, 2] == pytest.approx(-1.0) and D[1, 1] == 1.0
        assert torch.isnan(D[3]).all()
        assert pairwise_cosine(R[:2], R[2:3]).shape == (2, 1)
        with pytest.raises(ValueError, match="feature sizes"):
            pairwise_cosine(R, torch.ones(2, 3))

    def test_binning_uses_upper_triangle(self):
        D = torch.tensor([[1.0, 0.9, 0.1], [0.9, 1.0, 0.2], [0.1, 0.2, 1.0]])
        S = torch.tensor([[1.0, 1.0, -1.0], [1.0, 1.0, 0.0], [-1.0, 0.0, 1.0]])
        prof = stiffness_vs_distance(S, D, bins=np.array([0.0, 0.5, 1.0]))
        assert prof.count.tolist() == [2, 1]  # (0,2),(1,2) low; (0,1) high; diagonal excluded
        assert prof.mean[0] == pytest.approx(-0.5) and prof.mean[1] == pytest.approx(1.0)
        assert prof.sem[0] == pytest.approx(0.5) and math.isnan(prof.sem[1])

    def test_empty_bins_are_nan(self):
        prof = stiffness_vs_distance(np.ones((2, 3)), np.array([[0.0, 0.1, 0.9]] * 2), bins=np.linspace(0, 1, 5))
        assert prof.count.tolist() == [4, 0, 0, 2]
        assert math.isnan(prof.mean[1])

    @pytest.mark.parametrize("xi", [0.15, 0.4, 0.73])
    def test_critical_distance_of_a_linear_curve(self, xi):
        centers = np.linspace(-1, 1, 41)
        mean = centers - xi  # positive near the same point (cos = 1), zero at xi
        assert critical_distance(centers, mean) == pytest.approx(xi)

    def test_critical_distance_takes_first_crossing_from_same_point_end(self):
        centers = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
        mean = np.array([0.5, -0.2, 0.4, -0.1, 0.8])  # metric distance, same point at 0
        assert critical_distance(centers, mean, same_point="low") == pytest.approx(0.5 / 0.7)
        assert critical_distance(centers, mean, same_point="high") == pytest.approx(4 - 0.8 / 0.9)

    def test_critical_distance_none_and_nan_bins(self):
        assert critical_distance(np.arange(3.0), np.array([0.1, 0.2, 0.3])) is None
        assert critical_distance(np.arange(3.0), np.array([0.1, 0.2, -0.3])) is None  # starts negative
        mean = np.array([-1.0, np.nan, 1.0])
        assert critical_distance(np.array([0.0, 0.5, 1.0]), mean) == pytest.approx(0.5)
        with pytest.raises(ValueError, match="same_point"):
            critical_distance(np.arange(2.0), np.ones(2), same_point="middle")


class TestHierarchyContrast:
    @staticmethod
    def block_stiffness(coarse_of_fine, per_class=6, same=0.6, diff=-0.2, noise=0.0, seed=0):
        labels = torch.arange(len(coarse_of_fine)).repeat_interleave(per_class)
        coarse = torch.tensor(coarse_of_fine)[labels]
        S = torch.where(coarse[:, None] == coarse[None, :], same, diff).to(torch.float64)
        S[labels[:, None] == labels[None, :]] = 1.0
        if noise:
            z = torch.as_tensor(np.random.default_rng(seed).normal(0, noise, S.shape))
            S = S + (z + z.T) / 2
        return S, labels

    def test_known_blocks(self):
        S, labels = self.block_stiffness([0, 0, 1, 1, 1, 2, 2])
        res = hierarchy_contrast(S, labels, [0, 0, 1, 1, 1, 2, 2], n_boot=50, n_perm=500)
        assert res.same_coarse == pytest.approx(0.6) and res.diff_coarse == pytest.approx(-0.2)
        assert res.contrast == pytest.approx(0.8)
        assert res.contrast_ci[0] == pytest.approx(0.8) and res.p_value < 0.01

    def test_no_structure_gives_large_p_value(self):
        S, labels = self.block_stiffness([0, 0, 0, 1, 1, 1], same=0.1, diff=0.1, noise=0.3)
        res = hierarchy_contrast(S, labels, [0, 1, 0, 1, 0, 1], n_boot=50, n_perm=500)
        assert res.contrast_ci[0] < 0 < res.contrast_ci[1] or abs(res.contrast) < 0.1
        assert res.p_value > 0.05

    def test_bad_hierarchy(self):
        S, labels = self.block_stiffness([0, 0, 1])
        with pytest.raises(ValueError, match="hierarchy"):
            hierarchy_contrast(S, labels, [0, 1, 2])
        with pytest.raises(ValueError, match="hierarchy"):
            hierarchy_contrast(S, labels, [0, 0, 0])


def test_nan_pairs_are_left_out_of_class_means():
    S = torch.tensor([[1.0, 0.5, float("nan")], [0.5, 1.0, -1.0], [float("nan"), -1.0, 1.0]], dtype=torch.float64)
    C = class_stiffness(S, torch.tensor([0, 0, 0]))
    assert C[0, 0] == pytest.approx((0.5 - 1.0) / 2)
    summary = bootstrap_class_summary(S, torch.tensor([0, 0, 1]), n_boot=20)
    assert math.isfinite(summary.within)


def test_bootstrap_critical_distance_recovers_a_planted_length():
    rng = np.random.default_rng(0)
    n = 120
    pos = rng.uniform(0, 10, n)  # points on a line; stiff when closer than 3
    D = torch.as_tensor(np.abs(pos[:, None] - pos[None, :]))
    S = torch.where(D < 3.0, 1.0, -1.0).to(torch.float64)
    res = bootstrap_critical_distance(S, D, np.linspace(0, 10, 21), same_point="low", n_boot=50)
    assert res.xi == pytest.approx(3.0, abs=0.3)
    assert res.ci[0] <= res.xi <= res.ci[1] and res.found_fraction == 1.0
    never = bootstrap_critical_distance(
        torch.ones(n, n, dtype=torch.float64), D, np.linspace(0, 10, 21), same_point="low", n_boot=20
    )
    assert never.xi is None and never.found_fraction == 0.0 and math.isnan(never.ci[0])


def _bootstrap_pair_by_pair(S, D, bins, *, same_point, min_count, n_boot, seed):
    """The bootstrap of ``bootstrap_critical_distance`` written out pair by pair (replicate by replicate, each
    pair weighted wᵢ wⱼ): the reference for its matrix-product form."""
    from repro.stiffness.distance import critical_distance, stiffness_vs_distance, weighted_bin_means

    prof = stiffness_vs_distance(S, D, bins)
    S_np, D_np = S.numpy(), D.numpy()
    n = S_np.shape[0]
    iu = np.triu_indices(n, k=1)
    s, d = S_np[iu], D_np[iu]
    keep = np.isfinite(s) & np.isfinite(d) & (d >= prof.edges[0]) & (d <= prof.edges[-1])
    s, d, ii, jj = s[keep], d[keep], iu[0][keep], iu[1][keep]
    n_bins = prof.edges.size - 1
    idx = np.clip(np.searchsorted(prof.edges, d, side="right") - 1, 0, n_bins - 1)
    n_raw = np.bincount(idx, minlength=n_bins)
    rng = np.random.default_rng(seed)
    found = []
    for _ in range(n_boot):
        w = rng.multinomial(n, np.full(n, 1.0 / n)).astype(np.float64)
        mean = weighted_bin_means(s, idx, w[ii] * w[jj], n_bins, min_count, n_raw)
        rep = critical_distance(prof.centers, mean, same_point=same_point)
        if rep is not None:
            found.append(rep)
    return found


@pytest.mark.parametrize("metric", ["sign", "cosine"])
def test_bootstrap_critical_distance_equals_the_pair_by_pair_bootstrap(metric):
    """The replicates' binned means come from two matrix products per bin; they give the crossings a pair-by-pair
    loop gives: exactly for sign stiffness (integer sums), to rounding for cosine stiffness. Missing pairs (NaN),
    sparse bins (fewer than min_count pairs) and pairs out of range are handled alike."""
    rng = np.random.default_rng(1)
    n = 90
    pos = rng.uniform(0, 10, n)
    D = torch.as_tensor(np.abs(pos[:, None] - pos[None, :]))
    noise = torch.as_tensor(rng.normal(0, 1.5, (n, n)))
    raw = (3.0 - D + noise + noise.T) / 4
    S = torch.sign(raw) if metric == "sign" else torch.tanh(raw)
    S[3, 7] = S[7, 3] = float("nan")
    bins = np.linspace(0, 9, 19)  # pairs beyond 9 are out of range; the far bins are sparse
    kwargs = dict(same_point="low", min_count=10, n_boot=60, seed=3)
    res = bootstrap_critical_distance(S, D, bins, **kwargs)
    found = _bootstrap_pair_by_pair(S, D, bins, **kwargs)
    assert 0 < len(found) and res.found_fraction == len(found) / kwargs["n_boot"]
    expected = np.quantile(found, [0.025, 0.975])
    if metric == "sign":
        assert res.ci == tuple(float(v) for v in expected)
    else:
        np.testing.assert_allclose(res.ci, expected, rtol=1e-9)
