"""The README's Python example runs as written."""

from __future__ import annotations

import re

from conftest import REPO


def test_readme_python_example_runs(tmp_path, monkeypatch):
    text = (REPO / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "README has no python example"
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
    assert (tmp_path / "counts.json").is_file() and (tmp_path / "net.nir").is_file()


def test_readme_names_both_commands():
    text = (REPO / "README.md").read_text()
    assert "make demo" in text and "make test" in text
