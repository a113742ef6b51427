"""The published paper-profile run (``published/paper/``, the site's source: ``make publish``) is complete,
consistent, within its size budget and not stale. Skipped while the repository holds no store."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from repro.runner.fingerprints import SourceTree
from repro.runner.provenance import regenerate_command, stale_chapters
from repro.runner.store import MAX_FILE_BYTES, MAX_STORE_BYTES, check_store, read_manifest

REPO = Path(__file__).resolve().parents[1]
TOC = Path(os.environ.get("REPRO_TOC") or REPO / "_toc.yml")
STORE = REPO / "published" / "paper"

pytestmark = pytest.mark.skipif(
    not (STORE / "manifest.json").is_file(),
    reason="no published store in published/paper/ yet (make store WORKERS=2)",
)


def test_the_store_is_complete_and_consistent():
    """Every chapter of _toc.yml present or stated absent, every file as the manifest says (SHA-256 and size, none
    unlisted), one commit, and each results file's verdict printed in its notebook."""
    problems = check_store(STORE, TOC)
    assert not problems, "published/paper/:\n" + "\n".join(problems)


def test_the_store_is_within_its_size_budget():
    files = read_manifest(STORE)["files"]
    sizes = {name: (STORE / name).stat().st_size for name in files}
    assert sum(sizes.values()) <= MAX_STORE_BYTES
    assert max(sizes.values()) <= MAX_FILE_BYTES


def test_the_store_records_its_run():
    manifest = read_manifest(STORE)
    assert manifest["profile"] == "paper" and manifest["commit"]
    assert manifest["device"] and manifest["threads"] and manifest["torch"]
    present = {name: e for name, e in manifest["chapters"].items() if e["status"] == "present"}
    assert all(entry["wall_time_s"] is not None for entry in present.values())


def test_no_chapter_is_stale():
    """A chapter whose source, or whose measurements' measuring code, changed since the store was published."""
    manifest = read_manifest(STORE)
    stale = stale_chapters(manifest, SourceTree.checkout(TOC.parent))
    lines = [f"  {name}: {'; '.join(changes)}" for name, changes in sorted(stale.items())]
    assert not stale, (
        f"stale chapters in published/paper/ (published at {manifest['commit']}):\n" + "\n".join(lines)
        + f"\nregenerate: {regenerate_command('paper')}"
    )
