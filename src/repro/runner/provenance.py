"""Every page built from a published store says where it comes from, and whether it is stale.

:func:`stage_store` stages the site (:func:`repro.runner.site.stage_site`) from a store's notebooks
(:mod:`repro.runner.store`), each with a *provenance box* under its title — a MyST admonition naming the profile,
commit, date, device, threads, the chapter's wall time and, for the measurements it read, when, in how long and at
which commit they were measured — and, when the chapter is stale (:func:`stale_chapters`), a *stale* box saying
what changed since the store was published: the chapter's source ``book/<chapter>.py``, or the code that measured
one of its measurements (so ``make book`` would measure it again). A chapter the store holds no notebook for gets a
page with its title and the reason.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Mapping
from pathlib import Path

from repro.book.toc import read_toc
from repro.claims.verdicts import Check, describe_parts
from repro.runner.fingerprints import SourceTree, code_changes, sha256_file
from repro.runner.site import stage_site
from repro.runner.store import read_manifest

__all__ = [
    "REGENERATE",
    "regenerate_command",
    "stale_chapters",
    "provenance_box",
    "stale_box",
    "annotate",
    "stage_store",
]

REGENERATE = (  # unchanged measurements are read back from the store, the rest measured again, all at one commit
    "make restore-store PROFILE={profile} && make book PROFILE={profile} && make publish-store PROFILE={profile}"
)  # serial: with WORKERS=N the cluster trains the learning-rate sweep's groups into a missing cache first
REGENERATE_PAPER = "make restore-store && make store"  # the paper store also holds the sensitivity table's claims page


def regenerate_command(profile: str) -> str:
    """The command that regenerates the store of ``profile`` from itself (serial: see :data:`REGENERATE`); the
    paper store's goes through ``make store`` (quick run, paper run, sensitivity table, claims page, store)."""
    return REGENERATE_PAPER if profile == "paper" else REGENERATE.format(profile=profile)
PROVENANCE_TAG, STALE_TAG, ANSWER_TAG = "provenance", "stale", "answer"  # inserted cells' tags (ids: repro-<tag>)


def stale_chapters(manifest: Mapping, tree: SourceTree) -> dict[str, list[str]]:
    """Chapter → what changed in ``tree`` since the store of ``manifest`` was published: its source
    (``book/<chapter>.py``) or the measuring code of its measurements; only the stale chapters."""
    stale = {}
    for name, entry in manifest["chapters"].items():
        changes = []
        source = entry.get("source") or {}
        if source.get("sha256") and sha256_file(tree.book / f"{name}.py") != source["sha256"]:
            changes.append(f"the chapter's source {source['path']} differs from the one published")
        for measurement in entry.get("measurements", []):
            if not measurement.get("module"):
                continue
            changed = code_changes(measurement["code_files"], measurement["module"], tree.package)
            if changed:
                changes.append(
                    f"the code that measured {measurement['experiment']} ({measurement['module']}) changed: "
                    + ", ".join(changed)
                )
        if changes:
            stale[name] = changes
    return stale


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "not recorded"
    seconds = round(float(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h"] * bool(hours) + [f"{minutes} min"] * bool(minutes) + [f"{secs} s"]
    return " ".join(parts)


def _commit(commit: str | None) -> str:
    return f"`{commit[:12]}`" if commit else "an unrecorded commit"


def _measurement_line(measurement: Mapping, commit: str | None) -> str:
    when = (measurement.get("created_utc") or "at an unrecorded time").replace("T", " ").replace("+00:00", " UTC")
    took = _duration(measurement.get("measured_seconds"))
    if measurement.get("read_back"):
        return (
            f"- `{measurement['experiment']}`: read back from the store, measured {when} in {took} by an earlier "
            "execution (the measurement records no commit; its key held, so the code that measured it was the same)"
        )
    return f"- `{measurement['experiment']}`: measured in this run at commit {_commit(commit)}, {when}, in {took}"


def provenance_box(manifest: Mapping, chapter: str) -> str:
    """The provenance box of ``chapter`` (MyST admonition, Markdown)."""
    entry = manifest["chapters"][chapter]
    commit = entry.get("commit") or manifest.get("commit")
    dirty = {True: " (uncommitted changes in the checkout)", False: ""}.get(manifest.get("dirty"), "")
    cpus = ", ".join((manifest.get("machine") or {}).get("cpu") or []) or "CPU not recorded"
    date = (entry.get("timestamp_utc") or manifest.get("date") or "an unrecorded date")[:10]
    spent = entry.get("execution_seconds") or {}
    split = f" (measuring {_duration(spent['measuring'])})" if spent.get("measuring") else ""
    computes = entry.get("device") not in (None, "none")
    device = f"device {entry['device']}" if computes else "no device (it computes nothing)"
    lines = [
        f"```{{admonition}} Published run: profile {manifest['profile']}, commit {(commit or 'unrecorded')[:12]}",
        ":class: note",
        "",
        f"Executed on {date} (UTC) at commit {_commit(commit)}{dirty}, {device} ({cpus}), "
        f"{entry.get('threads') or manifest.get('threads')} CPU thread(s), torch "
        f"{manifest.get('torch') or 'not recorded'}. This chapter's wall time: {_duration(entry.get('wall_time_s'))}"
        f"{split}; all chapters together: {_duration((manifest.get('wall_time_s') or {}).get('chapters'))}.",
    ]
    if entry.get("missing_data"):
        lines += ["", f"Not measured in this run, its data could not be had: {', '.join(entry['missing_data'])}."]
    if entry.get("measurements"):
        lines += ["", "Stored measurements this page reads:", ""]
        lines += [_measurement_line(m, commit) for m in entry["measurements"]]
    return "\n".join([*lines, "```"])


def answer_box(results: Mapping) -> str | None:
    """The chapter's answer, first on its page (MyST admonition, Markdown): the verdict of its results file with the
    counts of its parts and its preconditions that do not hold, pointing to the section that argues it; None for a
    results file without a verdict (a chapter that judges no claim)."""
    if not results.get("verdict"):
        return None
    checks = [Check.from_record(c) for c in results.get("checks", [])]
    failed = [c.claim for c in checks if c.precondition and not c.passed]
    counts = describe_parts(checks)
    because = f" — precondition not met: {'; '.join(failed)}" if failed else ""
    return "\n".join(
        [
            f"```{{admonition}} Verdict: {results['verdict']}",
            ":class: tip",
            "",
            f"**{results['verdict']}**{f' ({counts})' if counts else ''}{because}. The claim, the rule and the "
            "numbers behind each part are in *Paper vs this reproduction* at the end of this page.",
            "```",
        ]
    )


def stale_box(manifest: Mapping, changes: list[str]) -> str:
    """The stale box (MyST admonition, Markdown): what changed, and the command that regenerates the store."""
    command = regenerate_command(manifest["profile"])
    return "\n".join(
        [
            "```{admonition} Stale: the code has changed since this page was published",
            ":class: warning",
            "",
            f"This page is the published run at commit {_commit(manifest.get('commit'))}. Since then:",
            "",
            *[f"- {change}" for change in changes],
            "",
            f"Regenerate the store: `{command}`.",
            "```",
        ]
    )


def _cell(text: str, tag: str, ids: bool) -> dict:
    cell = {"cell_type": "markdown", "metadata": {"tags": [tag]}, "source": text}
    return {"id": f"repro-{tag}", **cell} if ids else cell


def annotate(notebook: dict, boxes: list[tuple[str, str]]) -> dict:
    """``notebook`` (nbformat 4, as JSON) with a Markdown cell for each ``(tag, text)`` of ``boxes`` inserted right
    under its title (the first ``# `` line of the first Markdown cell, split from the prose after it)."""
    cells = list(notebook["cells"])
    ids = any("id" in cell for cell in cells)
    new = [_cell(text, tag, ids) for tag, text in boxes]
    first = next((i for i, c in enumerate(cells) if c["cell_type"] == "markdown"), None)
    source = "" if first is None else "".join(cells[first]["source"])
    if first is None or not source.startswith("# "):
        return {**notebook, "cells": new + cells}
    title, _, rest = source.partition("\n")
    head = {**cells[first], "source": title}
    tail = [{**cells[first], "source": rest.lstrip("\n")}] if rest.strip() else []
    if tail and ids:
        tail[0]["id"] = f"{cells[first].get('id', 'title')}-rest"
    return {**notebook, "cells": cells[:first] + [head, *new, *tail] + cells[first + 1 :]}


def _title(source: Path, fallback: str) -> str:
    text = source.read_text(encoding="utf-8") if source.is_file() else ""
    found = re.search(r"^# # (.+)$", text, flags=re.M)
    return found.group(1).strip() if found else fallback


def _placeholder(manifest: Mapping, chapter, reason: str) -> dict:
    box = "\n".join(
        [
            f"```{{admonition}} Not in the published run of profile {manifest['profile']}",
            ":class: warning",
            "",
            reason,
            "```",
        ]
    )
    cells = [_cell(f"# {_title(chapter.source, chapter.name)}", "title", True), _cell(box, PROVENANCE_TAG, True)]
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def stage_store(
    store: Path, *, toc: Path, dest: Path, config: Path | None = None, tree: SourceTree | None = None
) -> tuple[Path, dict[str, list[str]]]:
    """Stage the site from the store at ``store`` into ``dest`` (:func:`repro.runner.site.stage_site`), every page
    with its provenance box and, when stale against ``tree`` (default: the checkout of ``toc``), its stale box.
    Returns the staged folder and the stale chapters (:func:`stale_chapters`). The annotated notebooks are written
    to ``<dest>-notebooks`` first."""
    store, dest = Path(store), Path(dest)
    manifest = read_manifest(store)
    stale = stale_chapters(manifest, tree or SourceTree.checkout(toc.parent))
    notebooks = dest.with_name(f"{dest.name}-notebooks")
    if notebooks.exists():
        shutil.rmtree(notebooks)
    notebooks.mkdir(parents=True)
    for chapter in read_toc(toc):
        entry = manifest["chapters"].get(chapter.name, {"status": "absent", "reason": "not in the store"})
        if entry["status"] != "present":
            notebook = _placeholder(manifest, chapter, entry.get("reason") or "not in the store")
        else:
            results = json.loads((store / entry["results"]).read_text(encoding="utf-8")) if entry.get("results") else {}
            answer = answer_box(results)
            boxes = [(ANSWER_TAG, answer)] * bool(answer) + [(PROVENANCE_TAG, provenance_box(manifest, chapter.name))]
            if chapter.name in stale:
                boxes.append((STALE_TAG, stale_box(manifest, stale[chapter.name])))
            notebook = annotate(json.loads((store / entry["notebook"]).read_text(encoding="utf-8")), boxes)
        (notebooks / f"{chapter.name}.ipynb").write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return stage_site(notebooks, toc=toc, config=config, dest=dest), stale
