"""The three code folders map into the one import root; the explicit package list stays complete.
(The import rule between the packages: tests/test_import_rules.py.)"""

from __future__ import annotations

import importlib
import subprocess
import sys
import tomllib

from conftest import REPO

FOLDERS = {"spikebench": "suite", "spikebench.workloads": "workloads", "spikebench.hardware_models": "hardware_models"}


def test_every_package_folder_is_listed():
    cfg = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert cfg["package-dir"] == FOLDERS
    listed = set(cfg["packages"])
    found = set()
    for root, folder in FOLDERS.items():
        for init in (REPO / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(REPO / folder)
            found.add(".".join([root, *rel.parts]) if rel.parts else root)
    assert found == listed


def test_import_root_and_no_stray_top_level_modules(tmp_path):
    for name in FOLDERS:
        mod = importlib.import_module(name)
        assert mod.__file__ is not None and mod.__file__.endswith("__init__.py")
    # outside the checkout (so the working folder is not on sys.path), only spikebench imports
    code = ("import importlib.util, spikebench; "
            "print([m for m in ('suite', 'workloads', 'hardware_models') if importlib.util.find_spec(m)])")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
