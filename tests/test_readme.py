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
