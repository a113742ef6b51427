"""The on-disk memo shared by chapters (repro.cache)."""

from __future__ import annotations

import threading

import pytest

from repro import cache


def test_memoise_computes_once_and_reads_back(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"rows": [1, 2, 3]}

    first, hit_first = cache.memoise("sweep", ("cfg", 0), compute, tmp_path)
    second, hit_second = cache.memoise("sweep", ("cfg", 0), compute, tmp_path)
    assert (hit_first, hit_second) == (False, True)
    assert first == second == {"rows": [1, 2, 3]} and len(calls) == 1
    other, hit_other = cache.memoise("sweep", ("cfg", 1), compute, tmp_path)  # another seed: another entry
    assert not hit_other and len(calls) == 2
    assert len(list(tmp_path.glob("sweep-*.pkl"))) == 2


def test_key_changes_with_the_package_source(monkeypatch):
    before = cache.cache_key(("cfg", 0))
    monkeypatch.setattr(cache, "source_digest", lambda: "0123456789abcdef")
    assert cache.cache_key(("cfg", 0)) != before


def test_failed_compute_leaves_no_entry(tmp_path):
    def compute():
        raise RuntimeError("diverged")

    with pytest.raises(RuntimeError, match="diverged"):
        cache.memoise("sweep", "cfg", compute, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_unpicklable_value_leaves_no_partial_file(tmp_path):
    with pytest.raises(TypeError, match="pickle"):
        cache.memoise("sweep", "cfg", threading.Lock, tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["", "../escape", "a/b", ".hidden"])
def test_rejects_names_that_are_not_plain_labels(tmp_path, name):
    with pytest.raises(ValueError, match="plain file-name label"):
        cache.memoise(name, "cfg", lambda: 1, tmp_path)
