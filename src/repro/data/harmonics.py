"""Synthetic classification data from random spherical harmonics (the paper's "spherical harmonics" set).

Points are drawn uniformly on the unit sphere ``S^{d-1} ⊂ R^d`` and labelled by random spherical harmonics of
a fixed degree ``k``. A random degree-``k`` harmonic is a sum of zonal harmonics,

    f(x) = Σⱼ cⱼ · P_k(⟨x, uⱼ⟩),   cⱼ ~ N(0, 1),   uⱼ uniform on the sphere,

where ``P_k`` is the Gegenbauer polynomial ``C_k^{(α)}`` with ``α = d/2 − 1`` (the Legendre polynomial for
``d = 3``) and, for the circle ``d = 2``, the Chebyshev polynomial ``T_k`` (each term is ``cos(k(θ − φⱼ))``).
Each such ``x ↦ P_k(⟨x, u⟩)`` is a harmonic of exact degree ``k`` in dimension ``d``, hence so is the sum.

With two classes the label is ``f(x) > 0``; with ``K > 2`` classes, ``K`` independent random harmonics are
drawn and the label is the index of the largest; each harmonic is first scaled to unit root-mean-square over
the sphere (estimated on 4,096 points) so that none dominates the arg-max. Everything is deterministic given
``seed``: the harmonic(s), the training points and the test points come from three independent streams spawned
from it, so changing the degree relabels the *same* points and changing ``n_train`` keeps the test points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import special

__all__ = ["HarmonicSample", "sample_spherical_harmonics"]

_REFERENCE_POINTS = 4096  # points used to scale each harmonic to unit RMS, so no class dominates the arg-max


@dataclass(frozen=True)
class HarmonicSample:
    """Generated points and labels: ``x_*`` are ``(N, dim)`` float32 unit vectors, ``y_*`` ``(N,)`` int64."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    classes: tuple[str, ...]


def zonal_polynomial(t: np.ndarray, dim: int, degree: int) -> np.ndarray:
    """The degree-``degree`` zonal polynomial for dimension ``dim`` evaluated at cosines ``t`` in [-1, 1]."""
    if dim == 2:
        return special.eval_chebyt(degree, t)
    return special.eval_gegenbauer(degree, dim / 2 - 1, t)


def uniform_on_sphere(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    """``n`` points uniform on the unit sphere in ``R^dim``, shape ``(n, dim)``, float64."""
    g = rng.standard_normal((n, dim))
    return g / np.linalg.norm(g, axis=1, keepdims=True)


def harmonic_values(x: np.ndarray, directions: np.ndarray, coefs: np.ndarray, degree: int) -> np.ndarray:
    """Values ``(n, H)`` at ``x (n, d)`` of harmonics with ``directions (H, T, d)`` and ``coefs (H, T)``."""
    cosines = np.clip(np.einsum("nd,htd->nht", x, directions), -1.0, 1.0)
    return np.einsum("nht,ht->nh", zonal_polynomial(cosines, x.shape[1], degree), coefs)


def _labels(x: np.ndarray, directions: np.ndarray, coefs: np.ndarray, degree: int) -> np.ndarray:
    """Labels ``(n,)``: the sign of the single harmonic, or the index of the largest of several."""
    values = harmonic_values(x, directions, coefs, degree)
    if values.shape[1] == 1:
        return (values[:, 0] > 0).astype(np.int64)
    return values.argmax(axis=1).astype(np.int64)


def _check_params(dim: int, degree: int, num_classes: int, n_train: int, n_test: int, n_terms: int) -> None:
    """Raise ``ValueError`` for parameters that do not define a non-trivial labelling."""
    if dim < 2:
        raise ValueError(f"spherical_harmonics needs dim >= 2 (points on S^(dim-1) in R^dim), got dim={dim}")
    if degree < 1:
        raise ValueError(f"spherical_harmonics needs degree >= 1 (degree 0 is constant), got degree={degree}")
    if num_classes < 2:
        raise ValueError(f"spherical_harmonics needs num_classes >= 2, got {num_classes}")
    if min(n_train, n_test, n_terms) < 1:
        raise ValueError(f"n_train, n_test and n_terms must be >= 1, got {n_train}, {n_test}, {n_terms}")


def sample_spherical_harmonics(
    dim: int = 3,
    degree: int = 4,
    num_classes: int = 2,
    n_train: int = 1000,
    n_test: int = 1000,
    seed: int = 0,
    n_terms: int = 10,
) -> HarmonicSample:
    """Sample the synthetic set: points uniform on ``S^{dim-1}``, labelled by random harmonics of ``degree``.

    ``n_terms`` is the number of zonal terms per random harmonic. Classes are ``("negative", "positive")`` for
    ``num_classes == 2`` and ``("harmonic 0", …)`` otherwise. Raises ``ValueError`` for ``dim < 2``,
    ``degree < 1``, ``num_classes < 2`` or non-positive sizes.
    """
    _check_params(dim, degree, num_classes, n_train, n_test, n_terms)
    fn_seq, train_seq, test_seq = np.random.SeedSequence(seed).spawn(3)
    fn_rng = np.random.default_rng(fn_seq)
    n_harmonics = 1 if num_classes == 2 else num_classes
    directions = uniform_on_sphere(fn_rng, n_harmonics * n_terms, dim).reshape(n_harmonics, n_terms, dim)
    coefs = fn_rng.standard_normal((n_harmonics, n_terms))
    reference = uniform_on_sphere(fn_rng, _REFERENCE_POINTS, dim)
    coefs /= np.sqrt((harmonic_values(reference, directions, coefs, degree) ** 2).mean(axis=0))[:, None]
    splits = []
    for seq, n in ((train_seq, n_train), (test_seq, n_test)):
        x = uniform_on_sphere(np.random.default_rng(seq), n, dim)
        y = _labels(x, directions, coefs, degree)
        splits.append((torch.from_numpy(x).to(torch.float32), torch.from_numpy(y)))
    names = ("negative", "positive") if num_classes == 2 else tuple(f"harmonic {i}" for i in range(num_classes))
    (x_train, y_train), (x_test, y_test) = splits
    return HarmonicSample(x_train, y_train, x_test, y_test, names)
