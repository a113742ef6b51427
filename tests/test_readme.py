"""The README's example runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_stiffness_example_runs(capsys):
    text = README.read_text(encoding="utf-8")
    section = text.split("## Measuring stiffness on your own model", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1
    exec(compile(blocks[0], "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert re.fullmatch(r"within-class [+-]\d\.\d{3}, between-class [+-]\d\.\d{3}\n", out)


def test_readme_is_a_guide_not_a_lab_notebook():
    """At most 250 lines, and no commit hashes or dates in its prose (those live in benchmarks/ and docs/)."""
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    assert not re.findall(r"`[0-9a-f]{7,40}`", text), "commit hashes belong in benchmarks/ or docs/"
    assert not re.findall(r"\b20\d\d-\d\d-\d\d\b", text), "dates belong in benchmarks/ or docs/"
