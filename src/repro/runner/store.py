"""The published store of a run: what a build folder's run of one profile produced, kept in the repository so the
site can be built from it without executing anything (``published/<profile>/``)::

    notebooks/<chapter>.ipynb                     the executed notebooks
    results/<chapter>.json                        the results files
    measurements/<chapter>/<experiment>-<key>.measurement   the stored measurements the chapters read
    manifest.json                                 provenance, wall times, fingerprints, every file's SHA-256 and size

:func:`publish_store` writes it from a build folder (into a temporary sibling folder renamed into place at the end,
so a store is replaced only by a complete one); :func:`restore_store` copies its results, measurements and notebooks
back into a build folder, so that ``make book`` reads the measurements back instead of measuring again;
:func:`check_store` lists what is wrong with a store (:mod:`repro.runner.manifest` builds the manifest).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from repro.book.toc import BookError, read_toc
from repro.runner.fingerprints import sha256_file
from repro.runner.manifest import MANIFEST_NAME, build_manifest

__all__ = [
    "MANIFEST_NAME",
    "MAX_STORE_BYTES",
    "MAX_FILE_BYTES",
    "store_dir",
    "read_manifest",
    "publish_store",
    "restore_store",
    "check_store",
]

MAX_STORE_BYTES = 60 * 1024**2  # the whole store: it lives in the git repository
MAX_FILE_BYTES = 20 * 1024**2  # any one file in it


def store_dir(root: Path, profile: str) -> Path:
    """The default place of a profile's store: ``published/<profile>`` in the checkout at ``root``."""
    return root / "published" / profile


def read_manifest(store: Path) -> dict:
    """The manifest of the store at ``store``; :class:`BookError` when it has none."""
    path = Path(store) / MANIFEST_NAME
    if not path.is_file():
        raise BookError(f"{store} is not a published store: no {MANIFEST_NAME} (make publish-store writes one)")
    return json.loads(path.read_text(encoding="utf-8"))


def _mb(size: int) -> str:
    return f"{size / 1024**2:.1f} MB ({size:,} bytes)"


def _size_problems(files: Mapping[str, Mapping[str, object]]) -> list[str]:
    total = sum(int(entry["bytes"]) for entry in files.values())
    problems = [
        f"{name} is {_mb(int(entry['bytes']))}, over the {_mb(MAX_FILE_BYTES)} a file may be"
        for name, entry in sorted(files.items())
        if int(entry["bytes"]) > MAX_FILE_BYTES
    ]
    if total > MAX_STORE_BYTES:
        problems.append(
            f"the store is {_mb(total)}, over its budget of {_mb(MAX_STORE_BYTES)}"
        )
    return problems


def _copy_into(folder: Path, copies: Mapping[str, Path]) -> dict[str, dict[str, object]]:
    """Copy every ``{name in the store: source file}`` into ``folder``; the files' SHA-256 and sizes."""
    files = {}
    for name, source in sorted(copies.items()):
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        files[name] = {"sha256": sha256_file(target), "bytes": target.stat().st_size}
    return files


def _replace(dest: Path, staged: Path) -> None:
    """Put the complete store ``staged`` at ``dest``, replacing what is there only once ``staged`` is in place."""
    old = None
    if dest.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old-", dir=dest.parent))
        os.replace(dest, old / dest.name)
    os.replace(staged, dest)
    if old is not None:
        shutil.rmtree(old)


def publish_store(
    build_dir: Path,
    *,
    profile: str,
    toc: Path,
    dest: Path | None = None,
    absent: Mapping[str, str] | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    """Publish the run of ``profile`` in ``build_dir`` as a store at ``dest`` (default ``published/<profile>``
    beside ``toc``); returns the manifest. ``absent``: chapter → why it has no executed notebook.

    :class:`BookError` (and no store written) for a chapter without a notebook or a stated reason, results files
    of different commits, a measurement a results file names but the build folder lacks, or a store over its size
    budget (:data:`MAX_STORE_BYTES` in all, :data:`MAX_FILE_BYTES` a file)."""
    build_dir = Path(build_dir)
    dest = Path(dest) if dest else store_dir(toc.parent, profile)
    manifest, copies = build_manifest(build_dir, profile=profile, toc=toc, absent=absent or {})
    dest.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{dest.name}.new-", dir=dest.parent))
    try:
        files = _copy_into(staged, copies)
        problems = _size_problems(files)
        if problems:
            raise BookError("the store would be too large:\n" + "\n".join(f"  {p}" for p in problems))
        manifest["files"] = files
        manifest["store_bytes"] = sum(int(entry["bytes"]) for entry in files.values())
        text = json.dumps(manifest, indent=1, sort_keys=False) + "\n"
        (staged / MANIFEST_NAME).write_text(text, encoding="utf-8")
        _replace(dest, staged)
    finally:
        if staged.exists():
            shutil.rmtree(staged)
    present = sum(1 for entry in manifest["chapters"].values() if entry["status"] == "present")
    log(
        f"published profile {profile} at commit {manifest['commit']}: {present} chapters, "
        f"{len(files)} files, {manifest['store_bytes'] / 1024**2:.1f} MB → {dest}"
    )
    return manifest


def restore_store(
    store: Path, build_dir: Path, *, overwrite: bool = False, log: Callable[[str], None] = print
) -> list[Path]:
    """Copy the store's results files, measurements and notebooks into ``build_dir`` (``results/<profile>/``,
    ``results/measurements/<profile>/<chapter>/``, ``executed/<profile>/``) after checking their checksums; a file
    already there is kept unless ``overwrite``. Returns the files written."""
    store, build_dir = Path(store), Path(build_dir)
    manifest = read_manifest(store)
    bad = [p for p in _file_problems(store, manifest) if "not listed" not in p]
    if bad:
        raise BookError(f"the store {store} does not match its manifest:\n" + "\n".join(f"  {p}" for p in bad))
    profile = manifest["profile"]
    places = {
        "results": build_dir / "results" / profile,
        "measurements": build_dir / "results" / "measurements" / profile,
        "notebooks": build_dir / "executed" / profile,
    }
    written = []
    for name in sorted(manifest["files"]):
        top, _, rest = name.partition("/")
        target = places[top] / rest
        if target.exists() and not overwrite:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(store / name, target)
        written.append(target)
    log(f"restored {len(written)} of {len(manifest['files'])} files of profile {profile} into {build_dir}")
    return written


def _file_problems(store: Path, manifest: Mapping) -> list[str]:
    files = manifest.get("files", {})
    problems = []
    for name, entry in sorted(files.items()):
        path = store / name
        if not path.is_file():
            problems.append(f"{name} is in the manifest but not in the store")
        elif path.stat().st_size != entry["bytes"] or sha256_file(path) != entry["sha256"]:
            problems.append(f"{name} differs from the manifest's size or SHA-256")
    on_disk = {p.relative_to(store).as_posix() for p in store.rglob("*") if p.is_file()} - {MANIFEST_NAME}
    problems += [f"{name} is in the store but not listed in the manifest" for name in sorted(on_disk - set(files))]
    return problems


def _chapter_problems(manifest: Mapping, toc: Path) -> list[str]:
    chapters = manifest.get("chapters", {})
    problems = []
    for chapter in read_toc(toc):
        entry = chapters.get(chapter.name)
        if entry is None:
            problems.append(f"chapter {chapter.name} is neither in the store nor stated absent")
        elif entry["status"] == "absent" and not entry.get("reason"):
            problems.append(f"chapter {chapter.name} is absent without a reason")
        elif entry["status"] == "present" and entry.get("notebook") not in manifest.get("files", {}):
            problems.append(f"chapter {chapter.name}'s notebook is not in the store")
    commits = {entry.get("commit") for entry in chapters.values() if entry.get("commit")}
    if len(commits) > 1:
        problems.append(f"the chapters were run at {len(commits)} commits: {', '.join(sorted(commits))}")
    return problems


def _verdict_problems(store: Path, manifest: Mapping) -> list[str]:
    """A results file's verdict that its notebook's printed outputs do not show (``verdict: <verdict>``)."""
    problems = []
    for name, entry in sorted(manifest.get("chapters", {}).items()):
        if entry["status"] != "present" or not entry.get("results") or not (store / entry["results"]).is_file():
            continue
        verdict = json.loads((store / entry["results"]).read_text(encoding="utf-8")).get("verdict")
        notebook = store / entry["notebook"]
        if verdict is None or not notebook.is_file():
            continue
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        printed = "".join(
            "".join(output.get("text", ""))
            for cell in cells
            for output in cell.get("outputs", [])
            if output.get("output_type") == "stream"
        )
        if f"verdict: {verdict}" not in printed:
            problems.append(f"chapter {name}: its results file says {verdict!r}, its notebook does not print it")
    return problems


def check_store(store: Path, toc: Path) -> list[str]:
    """What is wrong with the store at ``store``: chapters of ``toc`` missing without a reason, files that differ
    from the manifest (or are not in it), more than one commit, a size over budget, a verdict its notebook does not
    show; ``[]`` for a complete, consistent store."""
    manifest = read_manifest(store)
    return (
        _chapter_problems(manifest, toc)
        + _file_problems(Path(store), manifest)
        + _size_problems(manifest.get("files", {}))
        + _verdict_problems(Path(store), manifest)
    )
