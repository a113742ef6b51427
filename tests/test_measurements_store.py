"""Stored measurements (repro.measurements.codec and .store): every kind of value comes back exactly, and a file
that is truncated, corrupt, foreign or of another key is an error naming it, never read silently."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from repro.experiments.class_stiffness import StiffnessSnapshot
from repro.experiments.numerics import PrecisionCheck
from repro.measurements import store
from repro.measurements.codec import decode, encode
from repro.stiffness import ClassSummary

MODULE = "repro.experiments.lr_sweep"


def _snapshot() -> StiffnessSnapshot:
    summary = ClassSummary(0.5, -0.25, 0.05, 0.02, (0.4, 0.6), (-0.3, -0.2), n_boot=200, level=0.95)
    return StiffnessSnapshot(
        images_seen=320,
        matrices={"sign": np.eye(3), "cos": np.full((3, 3), 0.25)},
        summaries={"sign": summary, "cos": summary},
        gram=np.arange(9.0).reshape(3, 3),
        labels=np.array([0, 1, 2]),
        gram_seconds=0.125,
        log_norms=np.array([-1.0, np.nan, np.inf]),
    )


def _value() -> dict:
    frame = pd.DataFrame(
        {"lr": [1e-3, 1e-2], "seed": np.array([0, 1], dtype=np.int64), "rule": ["loss", "images"],
         "stop": [0.1, np.nan], "reached": [True, False], "mixed": [None, 2.5]}
    )  # fmt: skip
    return {
        "snapshot": _snapshot(),
        "precision": PrecisionCheck(1.0, 1e-7, 1e-12, 10),
        "frame": frame,
        "frame_indexed": frame.set_index("rule"),
        "series": pd.Series([1.0, 2.0], index=["a", "b"], name="s"),
        "tensor": torch.arange(6, dtype=torch.float32).reshape(2, 3),
        "bf16": torch.tensor([1.5, -2.0], dtype=torch.bfloat16),
        "long": torch.tensor([3, 4]),
        (1, "x"): (np.float32(0.5), np.int64(7), np.bool_(True)),
        3: [float("nan"), float("inf"), -float("inf"), None, "text", Path("a/b")],
        "device": torch.device("cpu"),
        "empty": pd.DataFrame(),
        "zero_d": (np.array(3.5), torch.tensor(0.5)),
        "objects": pd.DataFrame({"o": pd.Series(["x", "y"], dtype=object)}, index=pd.Index(["a", "b"], dtype=object)),
    }


def _assert_same(a: object, b: object) -> None:
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b)
    elif isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and torch.equal(a, b)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _assert_same(x, y)
    elif hasattr(a, "__dataclass_fields__"):
        for name in a.__dataclass_fields__:
            _assert_same(getattr(a, name), getattr(b, name))
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


def test_every_kind_of_value_comes_back_exactly(tmp_path):
    value = _value()
    _assert_same(value, decode(*encode(value)))
    path = tmp_path / "m.measurement"
    size = store.save(path, value, key="k1", name="test", info={"seconds": 1.5})
    assert size == path.stat().st_size
    stored = store.load(path, key="k1")
    _assert_same(value, stored.value)
    assert stored.header["seconds"] == 1.5 and stored.header["name"] == "test"


@pytest.mark.parametrize("bad", [threading.Lock(), np.array([object()], dtype=object), {"a": {1, 2}}])
def test_a_value_the_codec_cannot_keep_is_a_type_error_and_leaves_no_file(tmp_path, bad):
    path = tmp_path / "m.measurement"
    with pytest.raises(TypeError, match="cannot store"):
        store.save(path, {"ok": 1, "bad": bad}, key="k", name="test")
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def stored_file(tmp_path) -> Path:
    path = tmp_path / "run-0123.measurement"
    store.save(path, _value(), key="0123", name="run")
    return path


def test_a_truncated_file_is_an_error_naming_it(stored_file):
    data = stored_file.read_bytes()
    stored_file.write_bytes(data[: len(data) - 100])
    with pytest.raises(store.MeasurementError, match=rf"{stored_file.name}: truncated"):
        store.load(stored_file)
    stored_file.write_bytes(data[: len(store.MAGIC) + 5])
    with pytest.raises(store.MeasurementError, match="truncated inside its header"):
        store.load(stored_file)


def test_a_corrupt_file_is_an_error_naming_it(stored_file):
    data = bytearray(stored_file.read_bytes())
    data[-50] ^= 0xFF
    stored_file.write_bytes(bytes(data))
    with pytest.raises(store.MeasurementError, match=rf"{stored_file.name}: corrupt"):
        store.load(stored_file)


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 a zip file", b"\x80\x04\x95 a pickle"])
def test_a_foreign_file_is_an_error_naming_it(tmp_path, content):
    path = tmp_path / "x.measurement"
    path.write_bytes(content)
    with pytest.raises(store.MeasurementError, match=r"x\.measurement: not a stored measurement"):
        store.load(path)


def test_a_file_of_another_key_is_an_error(stored_file):
    with pytest.raises(store.MeasurementError, match="stored under key 0123, not the 4567 asked for"):
        store.load(stored_file, key="4567")


def test_a_tree_naming_a_class_outside_the_package_is_refused(tmp_path):
    from repro.measurements.codec import CodecError

    with pytest.raises(CodecError, match="only dataclasses of the repro package"):
        decode({"$dataclass": "subprocess:Popen", "fields": {}}, {})


def test_memoise_computes_once_and_reads_back(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"rows": [1, 2, 3]}

    path = tmp_path / "m.measurement"
    first, header, hit_first = store.memoise(path, "k", compute, name="m")
    second, _, hit_second = store.memoise(path, "k", compute, name="m")
    assert (hit_first, hit_second) == (False, True) and first == second == {"rows": [1, 2, 3]} and len(calls) == 1
    assert header["seconds"] >= 0 and header["key"] == "k"


def test_memoise_never_overwrites_a_damaged_file(stored_file):
    data = stored_file.read_bytes()[:-10]
    stored_file.write_bytes(data)
    with pytest.raises(store.MeasurementError, match="truncated"):
        store.memoise(stored_file, "0123", lambda: 1, name="run")
    assert stored_file.read_bytes() == data  # kept for whoever wants to look at it


def test_cached_entries_are_keyed_by_settings(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return [{"a": 1.0}]

    first, hit_first = store.cached("sweep", ("cfg", 0), compute, tmp_path, module=MODULE)
    second, hit_second = store.cached("sweep", ("cfg", 0), compute, tmp_path, module=MODULE)
    _, hit_other = store.cached("sweep", ("cfg", 1), compute, tmp_path, module=MODULE)
    assert (hit_first, hit_second, hit_other) == (False, True, False) and first == second and len(calls) == 2
    assert len(list(tmp_path.glob("sweep-*.measurement"))) == 2


def test_a_failed_compute_leaves_no_entry(tmp_path):
    def compute():
        raise RuntimeError("diverged")

    with pytest.raises(RuntimeError, match="diverged"):
        store.cached("sweep", "cfg", compute, tmp_path, module=MODULE)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["", "../escape", "a/b", ".hidden"])
def test_rejects_names_that_are_not_plain_labels(tmp_path, name):
    with pytest.raises(ValueError, match="plain file-name label"):
        store.cached(name, "cfg", lambda: 1, tmp_path, module=MODULE)


def test_memoise_returns_what_it_reads_back_also_right_after_measuring(tmp_path):
    """The first execution reads the same object as every later one (and the write is checked)."""
    path = tmp_path / "m.measurement"
    first, _, hit = store.memoise(path, "k", lambda: {"t": torch.tensor([1.0], requires_grad=True)}, name="m")
    again, _, hit_again = store.memoise(path, "k", lambda: None, name="m")
    assert (hit, hit_again) == (False, True)
    assert not first["t"].requires_grad and torch.equal(first["t"], again["t"])


def test_a_value_that_cannot_be_stored_is_returned_with_a_warning(tmp_path):
    path = tmp_path / "m.measurement"
    with pytest.warns(UserWarning, match="not stored"):
        value, header, hit = store.memoise(path, "k", lambda: {"lock": threading.Lock()}, name="m")
    assert isinstance(value["lock"], type(threading.Lock())) and not hit and header["stored"] is False
    assert not path.exists()


def test_the_writers_facts_never_replace_the_checked_fields(tmp_path):
    path = tmp_path / "m.measurement"
    store.save(path, 1, key="k", name="m", info={"key": "other", "sha256": "0", "cpu": "x"})
    stored = store.load(path, key="k")
    assert stored.value == 1 and stored.header["cpu"] == "x"


def test_stored_files_are_readable_as_the_umask_allows(tmp_path):
    import os

    path = tmp_path / "m.measurement"
    umask = os.umask(0o022)
    try:
        store.save(path, 1, key="k", name="m")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_a_stored_class_outside_the_measuring_packages_is_not_imported_to_read_it():
    from repro.measurements.codec import CodecError

    with pytest.raises(CodecError, match="refusing"):
        decode({"$dataclass": "repro.runner.__main__:X", "fields": {}}, {})
    with pytest.raises(CodecError, match="not a measuring module"):
        decode({"$dataclass": "repro.no_such_package.module:X", "fields": {}}, {})
