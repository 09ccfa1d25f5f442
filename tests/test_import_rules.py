"""The house's import rule (../shared/DESIGN.md §1), checked over the import graph of the source tree.

Every ``import`` and ``from ... import`` statement of every module is read with :mod:`ast` (those inside
functions too: a lazy import is still a dependency), relative imports are resolved against the
module's package, and ``from spikebench import name`` counts as importing ``spikebench.name``.

Rules:
1. ``spikebench.core`` (suite/core) imports nothing else of ours;
2. ``spikebench.workloads`` (workloads/) imports only ``spikebench.core`` (and itself);
3. ``spikebench.hardware_models`` (hardware_models/) imports only ``spikebench.core`` (and itself);
4. ``spikebench.backends`` (suite/backends) imports only ``spikebench.core`` (and itself).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import REPO

#: Source folder -> the package it installs as (pyproject ``package-dir``).
ROOTS = {"suite": "spikebench", "workloads": "spikebench.workloads", "hardware_models": "spikebench.hardware_models"}
#: Package -> the packages of ours it may import (besides itself).
RULES = {
    "spikebench.core": (),
    "spikebench.workloads": ("spikebench.core",),
    "spikebench.hardware_models": ("spikebench.core",),
    "spikebench.backends": ("spikebench.core",),
}


def module_name(path: Path, repo: Path) -> tuple[str, bool]:
    """(dotted module name, is a package __init__) of a source file."""
    rel = path.relative_to(repo)
    parts = list(rel.with_suffix("").parts)
    base = ROOTS[parts[0]].split(".")
    is_pkg = parts[-1] == "__init__"
    inner = parts[1:-1] if is_pkg else parts[1:]
    return ".".join(base + inner), is_pkg


def imports_of(path: Path, repo: Path) -> list[tuple[int, str]]:
    """(line, absolute module) for every import of ours in ``path``."""
    name, is_pkg = module_name(path, repo)
    package = name if is_pkg else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "spikebench" or not node.module and node.level:
                out += [(node.lineno, f"{target}.{a.name}") for a in node.names]  # from pkg import submodule
            else:
                out.append((node.lineno, target))
    return [(line, m) for line, m in out if m == "spikebench" or m.startswith("spikebench.")]


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def violations(repo: Path = REPO) -> list[str]:
    """One line per import that breaks a rule, naming the file, the line, the import and the rule."""
    found = []
    for folder in ROOTS:
        for path in sorted((repo / folder).rglob("*.py")):
            name, _ = module_name(path, repo)
            rule = next((pkg for pkg in RULES if _within(name, pkg)), None)
            if rule is None:
                continue
            allowed = (rule, *RULES[rule])
            for line, mod in imports_of(path, repo):
                if not any(_within(mod, pkg) for pkg in allowed):
                    may = " and ".join(RULES[rule]) or "nothing else of ours"
                    found.append(f"{path.relative_to(repo)}:{line} imports {mod}; {rule} may import only "
                                 f"{may}")
    return found


def test_import_rule_holds():
    bad = violations()
    assert not bad, "import rule broken (../shared/DESIGN.md §1):\n" + "\n".join(bad)


#: Package folders that are not installed: the asv suite imports the installed spikebench from outside.
NOT_INSTALLED = {"benchmarks"}


def test_every_source_folder_is_covered():
    packages = {p.name for p in REPO.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    assert packages - NOT_INSTALLED == set(ROOTS)


def test_the_asv_suite_uses_only_the_installed_package():
    """benchmarks/ runs against older commits' installs: it imports spikebench by its public name (absolute),
    never the source folders, and relative imports stay inside benchmarks/."""
    for path in sorted((REPO / "benchmarks").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                assert (node.module or "").split(".")[0] not in ROOTS, f"{path.name}: imports {node.module}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name.split(".")[0] not in ROOTS, f"{path.name}: imports {alias.name}"
            if isinstance(node, ast.ImportFrom) and node.level > 1:
                raise AssertionError(f"{path.name}: relative import above benchmarks/")


@pytest.mark.parametrize(("where", "code", "needle"), [
    ("workloads/bad.py", "from spikebench import simulate\n", "imports spikebench.simulate"),
    ("workloads/bad.py", "def f():\n    from spikebench.harness import run\n", "imports spikebench.harness"),
    ("workloads/sub/bad.py", "from ...backends import BACKENDS\n", "imports spikebench.backends"),
    ("workloads/bad.py", "from .. import __version__\n", "imports spikebench.__version__"),
    ("hardware_models/bad.py", "import spikebench.workloads.data\n", "imports spikebench.workloads.data"),
    ("suite/core/bad.py", "from ..results import Row\n", "spikebench.core may import only nothing else"),
    ("suite/backends/bad.py", "from ..hardware_models import CHIPS\n", "imports spikebench.hardware_models"),
])
def test_checker_catches_a_wrong_import(tmp_path, where, code, needle):
    for folder in ROOTS:
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "__init__.py").write_text("")
    for folder in ("suite/core", "suite/backends", "workloads/sub"):
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / "__init__.py").write_text("")
    (tmp_path / where).write_text(code)
    ok = tmp_path / "workloads" / "good.py"
    ok.write_text("from spikebench.core import Network\nfrom . import data\nfrom .sub import x\n")
    bad = violations(tmp_path)
    assert len(bad) == 1 and bad[0].startswith(where) and needle in bad[0], bad
