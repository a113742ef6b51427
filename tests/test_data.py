"""Tests for :mod:`repro.data` and :mod:`repro.data.harmonics` on fabricated files and, if present, real copies."""

from __future__ import annotations

import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from scipy import special

from repro import data
from repro.data import (
    DATASETS,
    DEFAULT_DATA_ROOT,
    DatasetNotFoundError,
    ImageDataset,
    balanced_indices,
    dataset,
    default_stiffness_size,
    flatten_inputs,
    harmonics,
    hierarchy,
    load_dataset,
    loaders,
    permuted_labels,
    resolve_data_root,
    stiffness_set,
    train_subset,
)

N_TRAIN, N_TEST = 60, 30  # fabricated split sizes: 6 and 3 per class for 10 classes


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with an empty dataset cache and never reaches the network."""
    data.clear_dataset_cache()
    monkeypatch.setenv("REPRO_ALLOW_DOWNLOAD", "0")


# ------------------------------------------------------------------------------------------ fabricated files


def _images(rng: np.random.Generator, n: int, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)


def _labels(n: int, k: int = 10) -> np.ndarray:
    return np.arange(n) % k


def _write_idx(path: Path, array: np.ndarray) -> None:
    """An IDX file: magic ``0x000008NN`` (uint8, NN dims), big-endian int32 dims, then the raw bytes."""
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def _write_mnist_raw(root: Path, folder: str = "MNIST", seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": _images(rng, N_TRAIN, (28, 28)),
        "train-labels-idx1-ubyte": _labels(N_TRAIN),
        "t10k-images-idx3-ubyte": _images(rng, N_TEST, (28, 28)),
        "t10k-labels-idx1-ubyte": _labels(N_TEST),
    }
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        _write_idx(raw / name, array)
    return arrays


def _write_npz(path: Path, seed: int = 0, k: int = 10, coarse: bool = False, shape=(8, 8, 3)) -> dict:
    rng = np.random.default_rng(seed)
    arrays = {
        "x_train": _images(rng, N_TRAIN, shape),
        "y_train": _labels(N_TRAIN, k),
        "x_test": _images(rng, N_TEST, shape),
        "y_test": _labels(N_TEST, k),
        "classes": np.array([f"class {i}" for i in range(k)]),
        "x_train_all": _images(rng, 2, shape),  # an extra key, to be ignored
    }
    if coarse:
        arrays |= {
            "y_train_coarse": arrays["y_train"] // 2,
            "y_test_coarse": arrays["y_test"] // 2,
            "coarse_classes": np.array([f"super {i}" for i in range(k // 2)]),
        }
    np.savez_compressed(path, **arrays)
    return arrays


def _pickle(path: Path, obj: dict) -> None:
    with path.open("wb") as f:
        pickle.dump(obj, f)


def _write_cifar100_pickles(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tiny ``cifar-100-python`` folder (10 fine classes in 5 super-classes); md5 checks switched off."""
    rng = np.random.default_rng(1)
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    for split, n in (("train", N_TRAIN), ("test", N_TEST)):
        fine = _labels(n)
        _pickle(
            folder / split,
            {
                "data": _images(rng, n, (3072,)),
                "fine_labels": fine.tolist(),
                "coarse_labels": (fine // 2).tolist(),
            },
        )
    meta = {
        "fine_label_names": [f"fine {i}" for i in range(10)],
        "coarse_label_names": [f"sc {i}" for i in range(5)],
    }
    _pickle(folder / "meta", meta)
    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", lambda *args, **kwargs: True)


def _write_cifar10_pickles(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tiny ``cifar-10-batches-py`` folder; md5 checks are switched off."""
    rng = np.random.default_rng(2)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for batch in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        _pickle(folder / batch, {"data": _images(rng, 10, (3072,)), "labels": list(range(10))})
    _pickle(folder / "batches.meta", {"label_names": list(data.HIERARCHIES["cifar10"]["vehicles"]) + ["x"] * 6})
    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", lambda *args, **kwargs: True)


def _assert_standardised(ds: ImageDataset) -> None:
    dims = (0, *range(2, ds.x_train.ndim))
    assert torch.allclose(ds.x_train.mean(dim=dims), torch.zeros(ds.input_shape[0]), atol=1e-5)
    assert torch.allclose(ds.x_train.std(dim=dims, unbiased=False), torch.ones(ds.input_shape[0]), atol=1e-4)


# ------------------------------------------------------------------------------------------- roots and names


def test_resolve_data_root_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("REPRO_DATA_ROOT", raising=False)
    assert resolve_data_root() == DEFAULT_DATA_ROOT == Path.home() / ".cache" / "repro" / "data"
    monkeypatch.setenv("REPRO_DATA_ROOT", str(tmp_path / "env"))
    assert resolve_data_root() == tmp_path / "env"
    assert resolve_data_root(tmp_path / "arg") == tmp_path / "arg"
    assert resolve_data_root(str(tmp_path)) == tmp_path


def test_env_root_is_used_by_load_dataset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _write_npz(tmp_path / "cifar10.npz")
    monkeypatch.setenv("REPRO_DATA_ROOT", str(tmp_path))
    assert load_dataset("cifar10").source == "archive cifar10.npz (in the data root)"


@pytest.mark.parametrize("name", ["FASHION-MNIST", "Fashion_MNIST", " fashion-mnist "])
def test_names_are_case_and_dash_insensitive(name: str) -> None:
    assert data.canonical_name(name) == "fashion_mnist"


def test_unknown_name_lists_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="imagenet") as info:
        load_dataset("imagenet", tmp_path)
    assert all(name in str(info.value) for name in DATASETS)


# --------------------------------------------------------------------------------------------------- loading


@pytest.mark.parametrize(("name", "folder"), [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")])
def test_torchvision_raw_layout(tmp_path: Path, name: str, folder: str) -> None:
    arrays = _write_mnist_raw(tmp_path, folder)
    ds = load_dataset(name, tmp_path, download=False)
    assert ds.x_train.shape == (N_TRAIN, 1, 28, 28) and ds.x_test.shape == (N_TEST, 1, 28, 28)
    assert ds.x_train.dtype == torch.float32 and ds.y_train.dtype == torch.int64
    assert ds.input_shape == (1, 28, 28) and (ds.n_train, ds.n_test, ds.num_classes) == (N_TRAIN, N_TEST, 10)
    assert ds.source == f"torchvision raw files in {folder}/raw/ (under the data root)"
    assert ds.describe().startswith(f"{dataset.DISPLAY_NAMES[ds.name]} from torchvision raw files in ")
    assert str(tmp_path) not in ds.describe()  # pages name the folder relative to the data root
    assert f"{N_TRAIN:,} train / {N_TEST:,} test images, 10 classes, 1×28×28" in ds.describe()
    assert ds.y_train.tolist() == arrays["train-labels-idx1-ubyte"].tolist()
    pixels = arrays["train-images-idx3-ubyte"] / 255
    assert ds.mean == pytest.approx((pixels.mean(),)) and ds.std == pytest.approx((pixels.std(),))
    _assert_standardised(ds)
    expected_test = (arrays["t10k-images-idx3-ubyte"] / 255 - pixels.mean()) / pixels.std()
    assert np.allclose(ds.x_test[:, 0].numpy(), expected_test, atol=1e-5)
    expected_classes = dataset.CLASS_NAMES[ds.name]
    assert ds.classes == expected_classes and ds.coarse_train is None


def test_npz_archive(tmp_path: Path) -> None:
    arrays = _write_npz(tmp_path / "cifar10.npz")
    ds = load_dataset("cifar10", tmp_path, download=False)
    assert ds.x_train.shape == (N_TRAIN, 3, 8, 8) and ds.input_shape == (3, 8, 8)
    assert ds.classes == tuple(f"class {i}" for i in range(10))
    assert ds.source == "archive cifar10.npz (in the data root)"
    pixels = arrays["x_train"] / 255
    assert ds.mean == pytest.approx(tuple(pixels.mean(axis=(0, 1, 2))))
    assert ds.std == pytest.approx(tuple(pixels.std(axis=(0, 1, 2))))
    _assert_standardised(ds)
    assert torch.equal(ds.y_test, torch.from_numpy(arrays["y_test"]))
    expected = (arrays["x_test"][..., 1] / 255 - ds.mean[1]) / ds.std[1]
    assert np.allclose(ds.x_test[:, 1].numpy(), expected, atol=1e-5)


def test_npz_grayscale_without_channel_axis(tmp_path: Path) -> None:
    _write_npz(tmp_path / "mnist.npz", shape=(28, 28))
    ds = load_dataset("mnist", tmp_path, download=False)
    assert ds.input_shape == (1, 28, 28)
    _assert_standardised(ds)


def test_npz_missing_keys(tmp_path: Path) -> None:
    np.savez(tmp_path / "cifar10.npz", x_train=np.zeros((2, 4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="lacks the keys"):
        load_dataset("cifar10", tmp_path, download=False)


def test_cifar100_npz_coarse_labels(tmp_path: Path) -> None:
    arrays = _write_npz(tmp_path / "cifar100.npz", coarse=True)
    ds = load_dataset("cifar100", tmp_path, download=False)
    assert torch.equal(ds.coarse_train, torch.from_numpy(arrays["y_train_coarse"]))
    assert torch.equal(ds.coarse_test, torch.from_numpy(arrays["y_test_coarse"]))
    assert ds.coarse_classes == tuple(f"super {i}" for i in range(5))
    assert hierarchy(ds) == ((0, 0, 1, 1, 2, 2, 3, 3, 4, 4), ds.coarse_classes)


def test_cifar100_torchvision_pickles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_cifar100_pickles(tmp_path, monkeypatch)
    ds = load_dataset("cifar100", tmp_path, download=False)
    assert ds.x_train.shape == (N_TRAIN, 3, 32, 32) and ds.x_test.shape == (N_TEST, 3, 32, 32)
    assert ds.classes == tuple(f"fine {i}" for i in range(10))
    assert ds.coarse_classes == tuple(f"sc {i}" for i in range(5))
    assert torch.equal(ds.coarse_train, ds.y_train // 2) and torch.equal(ds.coarse_test, ds.y_test // 2)
    assert ds.source == "torchvision python pickles in cifar-100-python/ (under the data root)"
    _assert_standardised(ds)
    assert hierarchy(ds)[0] == (0, 0, 1, 1, 2, 2, 3, 3, 4, 4)


def test_torchvision_layout_wins_over_npz(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_cifar10_pickles(tmp_path, monkeypatch)
    _write_npz(tmp_path / "cifar10.npz")
    ds = load_dataset("cifar10", tmp_path, download=False)
    assert ds.source.startswith("torchvision python pickles") and ds.n_train == 50 and ds.n_test == 10


def test_loads_are_cached_in_memory(tmp_path: Path) -> None:
    _write_npz(tmp_path / "cifar10.npz")
    first = load_dataset("cifar10", tmp_path)
    assert load_dataset("CIFAR10", str(tmp_path)) is first
    data.clear_dataset_cache()
    assert load_dataset("cifar10", tmp_path) is not first


def test_real_dataset_rejects_synthetic_kwargs(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="no extra arguments"):
        load_dataset("mnist", tmp_path, dim=3)


# ------------------------------------------------------------------------------------ missing data, download


def _assert_helpful(err: DatasetNotFoundError, name: str, root: Path) -> None:
    message = str(err)
    assert isinstance(err, FileNotFoundError)
    for needed in (repr(name), str(root.resolve()), "download", f"{name}.npz", "REPRO_DATA_ROOT", "network"):
        assert needed in message, needed


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist", "cifar10", "cifar100"])
def test_missing_data_without_download(tmp_path: Path, name: str) -> None:
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset(name, tmp_path, download=False)
    _assert_helpful(info.value, name, tmp_path)
    assert "download=False" in str(info.value)


def test_download_disabled_by_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torchvision.datasets.MNIST, "download", pytest.fail)
    with pytest.raises(DatasetNotFoundError, match="REPRO_ALLOW_DOWNLOAD=0") as info:
        load_dataset("mnist", tmp_path, download=True)
    _assert_helpful(info.value, "mnist", tmp_path)


def test_failed_download_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(self: torchvision.datasets.MNIST) -> None:
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: no network")

    monkeypatch.setenv("REPRO_ALLOW_DOWNLOAD", "1")
    monkeypatch.setattr(torchvision.datasets.MNIST, "download", offline)
    with pytest.raises(DatasetNotFoundError, match="no network") as info:
        load_dataset("mnist", tmp_path)
    _assert_helpful(info.value, "mnist", tmp_path)


def test_successful_download_is_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_download(self: torchvision.datasets.MNIST) -> None:
        if not self._check_exists():
            _write_mnist_raw(Path(self.root))

    monkeypatch.setenv("REPRO_ALLOW_DOWNLOAD", "1")
    monkeypatch.setattr(torchvision.datasets.MNIST, "download", fake_download)
    assert load_dataset("mnist", tmp_path).n_train == N_TRAIN


# ----------------------------------------------------------------------------------------------- hierarchies


def test_hierarchies_by_name() -> None:
    cifar10, names = hierarchy("cifar10")
    assert names == ("vehicles", "animals") and cifar10 == (0, 0, 1, 1, 1, 1, 1, 1, 0, 0)
    fashion, names = hierarchy("fashion-mnist")
    assert names == ("tops", "footwear", "rest") and fashion == (0, 2, 0, 0, 0, 1, 0, 1, 2, 1)


def test_hierarchy_from_loaded_dataset_matches_class_names(tmp_path: Path) -> None:
    _write_mnist_raw(tmp_path, "FashionMNIST")
    assert hierarchy(load_dataset("fashion_mnist", tmp_path)) == hierarchy("fashion_mnist")


@pytest.mark.parametrize("name", ["mnist", "cifar100", "spherical_harmonics"])
def test_hierarchy_unknown(name: str) -> None:
    with pytest.raises(ValueError, match="no class hierarchy"):
        hierarchy(name)


def test_hierarchy_rejects_mismatched_classes(tmp_path: Path) -> None:
    _write_npz(tmp_path / "cifar10.npz")  # classes "class 0", … are not CIFAR-10's names
    with pytest.raises(ValueError, match="do not match"):
        hierarchy(load_dataset("cifar10", tmp_path))


# ---------------------------------------------------------------------------------------- subsets and labels


def test_balanced_indices_balance_and_order() -> None:
    labels = torch.arange(200) % 10
    idx = balanced_indices(labels, 25, seed=3)
    assert idx.dtype == torch.int64 and len(idx) == 25 and len(set(idx.tolist())) == 25
    assert torch.equal(idx, idx.sort().values)
    counts = torch.bincount(labels[idx], minlength=10)
    assert counts.sum() == 25 and set(counts.tolist()) == {2, 3} and (counts == 3).sum() == 5


def test_balanced_indices_determinism() -> None:
    labels = torch.arange(1000) % 10
    assert torch.equal(balanced_indices(labels, 100, 0), balanced_indices(labels, 100, 0))
    assert not torch.equal(balanced_indices(labels, 100, 0), balanced_indices(labels, 100, 1))


def test_subsets_do_not_touch_global_rngs() -> None:
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()[1].copy()  # noqa: NPY002
    balanced_indices(torch.arange(100) % 10, 20, 5)
    permuted_labels(torch.arange(100), 5)
    load_dataset("spherical_harmonics", n_train=10, n_test=10)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], numpy_state)  # noqa: NPY002


@pytest.mark.parametrize("size", [0, -1, 101])
def test_balanced_indices_bad_sizes(size: int) -> None:
    with pytest.raises(ValueError, match="subset size"):
        balanced_indices(torch.arange(100) % 10, size, 0)


def test_balanced_indices_class_too_small() -> None:
    labels = torch.tensor([0] * 50 + [1] * 3)
    with pytest.raises(ValueError, match="class 1 has 3 examples"):
        balanced_indices(labels, 20, 0)


def test_default_stiffness_size() -> None:
    assert [default_stiffness_size(k) for k in (2, 10, 100)] == [150, 150, 1000]


def test_stiffness_set_and_train_subset(tmp_path: Path) -> None:
    _write_npz(tmp_path / "cifar10.npz")
    ds = load_dataset("cifar10", tmp_path)
    x, y, idx = stiffness_set(ds, size=20, seed=1)
    assert x.shape == (20, 3, 8, 8) and torch.equal(x, ds.x_test[idx]) and torch.equal(y, ds.y_test[idx])
    assert torch.bincount(y).tolist() == [2] * 10
    with pytest.raises(ValueError):  # the default of 150 exceeds the 30 fabricated test images
        stiffness_set(ds)
    x, y, idx = train_subset(ds, None, seed=0)
    assert x is ds.x_train and y is ds.y_train and torch.equal(idx, torch.arange(N_TRAIN))
    x, y, idx = train_subset(ds, 30, seed=0)
    assert torch.equal(x, ds.x_train[idx]) and torch.bincount(y).tolist() == [3] * 10


def test_permuted_labels() -> None:
    y = torch.arange(500) % 10
    permuted = permuted_labels(y, seed=0)
    assert torch.equal(torch.bincount(permuted), torch.bincount(y))
    assert (permuted != y).float().mean() > 0.5
    assert torch.equal(permuted, permuted_labels(y, seed=0))
    assert not torch.equal(permuted, permuted_labels(y, seed=1))


def test_flatten_inputs() -> None:
    assert flatten_inputs(torch.zeros(4, 3, 8, 8)).shape == (4, 192)


# --------------------------------------------------------------------------------------- spherical harmonics


def test_spherical_harmonics_dataset() -> None:
    ds = load_dataset("spherical_harmonics", dim=3, degree=4, n_train=500, n_test=200, seed=0)
    assert ds.input_shape == (3,) and (ds.n_train, ds.n_test) == (500, 200)
    assert ds.x_train.dtype == torch.float32 and ds.y_train.dtype == torch.int64
    assert torch.allclose(ds.x_train.norm(dim=1), torch.ones(500), atol=1e-6)
    assert ds.classes == ("negative", "positive") and ds.mean == (0.0,) * 3 and ds.std == (1.0,) * 3
    assert "generated in code (dim=3, degree=4" in ds.source
    assert "500 train / 200 test points, 2 classes, input dimension 3" in ds.describe()
    fractions = torch.bincount(ds.y_train, minlength=2) / 500
    assert fractions.min() > 0.25  # a random harmonic of degree ≥ 1 has mean 0 on the sphere


def test_spherical_harmonics_determinism() -> None:
    a = harmonics.sample_spherical_harmonics(seed=5, n_train=300)
    b = harmonics.sample_spherical_harmonics(seed=5, n_train=300)
    c = harmonics.sample_spherical_harmonics(seed=6, n_train=300)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)
    assert not torch.equal(a.x_train, c.x_train)
    more = harmonics.sample_spherical_harmonics(seed=5, n_train=400)
    assert torch.equal(more.x_test, a.x_test) and torch.equal(more.y_test, a.y_test)


def test_spherical_harmonics_degree_relabels_the_same_points() -> None:
    low = load_dataset("spherical_harmonics", degree=1, seed=0)
    high = load_dataset("spherical_harmonics", degree=5, seed=0)
    assert torch.equal(low.x_train, high.x_train)
    assert 0.2 < (low.y_train != high.y_train).float().mean() < 0.8


@pytest.mark.parametrize("dim", [2, 3, 10])
def test_spherical_harmonics_multiclass(dim: int) -> None:
    ds = load_dataset("spherical_harmonics", dim=dim, num_classes=4, n_train=2000, seed=1)
    assert ds.classes == tuple(f"harmonic {i}" for i in range(4)) and ds.input_shape == (dim,)
    assert (torch.bincount(ds.y_train, minlength=4) / 2000).min() > 0.05


def test_zonal_polynomials_are_harmonics() -> None:
    t = np.linspace(-1, 1, 11)
    assert np.allclose(harmonics.zonal_polynomial(t, 3, 4), special.eval_legendre(4, t))  # Legendre for S²
    assert np.allclose(harmonics.zonal_polynomial(np.cos(0.3), 2, 5), np.cos(1.5))  # cos(kθ) on the circle
    # odd degree: f(-x) = -f(x), so antipodal points get opposite signs
    rng = np.random.default_rng(0)
    x = harmonics.uniform_on_sphere(rng, 100, 5)
    directions, coefs = harmonics.uniform_on_sphere(rng, 6, 5).reshape(1, 6, 5), rng.standard_normal((1, 6))
    values = harmonics.harmonic_values(x, directions, coefs, 3)
    assert np.allclose(harmonics.harmonic_values(-x, directions, coefs, 3), -values)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"dim": 1}, "dim >= 2"), ({"degree": 0}, "degree >= 1"), ({"num_classes": 1}, "num_classes"),
     ({"n_train": 0}, "n_train"), ({"radius": 2}, "unknown arguments")],
)  # fmt: skip
def test_spherical_harmonics_bad_parameters(kwargs: dict, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        load_dataset("spherical_harmonics", **kwargs)


# ------------------------------------------------------------------------------------------- the real copies


def _real_root(*relative: str) -> Path:
    """``$REPRO_DATA_ROOT`` if it holds the given files, else skip the test."""
    root = os.environ.get("REPRO_DATA_ROOT")
    if not root:
        pytest.skip("REPRO_DATA_ROOT is not set: no real data to test against")
    missing = [r for r in relative if not (Path(root) / r).exists()]
    if missing:
        pytest.skip(f"real data absent under {root}: {missing}")
    return Path(root)


def test_real_mnist() -> None:
    root = _real_root(*(f"MNIST/raw/{f}" for f in loaders.IDX_FILES))
    ds = load_dataset("mnist", root, download=False)
    assert (ds.n_train, ds.n_test, ds.input_shape) == (60000, 10000, (1, 28, 28))
    assert ds.mean[0] == pytest.approx(0.1307, abs=5e-5) and ds.std[0] == pytest.approx(0.3081, abs=5e-5)
    assert torch.bincount(ds.y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    _assert_standardised(ds)
    assert ds.describe().startswith("MNIST from torchvision raw files in ")


def test_real_fashion_mnist() -> None:
    root = _real_root(*(f"FashionMNIST/raw/{f}" for f in loaders.IDX_FILES))
    ds = load_dataset("fashion-mnist", root, download=False)
    assert (ds.n_train, ds.n_test) == (60000, 10000)
    assert ds.mean[0] == pytest.approx(0.2860, abs=5e-5) and ds.std[0] == pytest.approx(0.3530, abs=5e-5)
    assert torch.bincount(ds.y_test).tolist() == [1000] * 10
    assert hierarchy(ds) == hierarchy("fashion_mnist")


def test_real_cifar10_subset() -> None:
    root = _real_root("cifar10.npz")
    if (root / "cifar-10-batches-py").exists():
        pytest.skip("the full CIFAR-10 is present; the subset's counts do not apply")
    ds = load_dataset("cifar10", root, download=False)
    assert (ds.n_train, ds.n_test, ds.input_shape) == (3660, 860, (3, 32, 32))
    assert ds.mean == pytest.approx((0.4919, 0.4815, 0.4450), abs=5e-5)
    assert ds.std == pytest.approx((0.2474, 0.2444, 0.2624), abs=5e-5)
    assert torch.bincount(ds.y_train).tolist() == [366] * 10 and ds.classes == dataset.CLASS_NAMES["cifar10"]
    assert hierarchy(ds) == ((0, 0, 1, 1, 1, 1, 1, 1, 0, 0), ("vehicles", "animals"))
    x, y, _ = stiffness_set(ds)
    assert x.shape == (150, 3, 32, 32) and torch.bincount(y).tolist() == [15] * 10
