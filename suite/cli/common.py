"""What every ``spikebench`` command shares: the ``--format`` option and its writers, name lists,
and the check on a path we are about to write."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from spikebench.core.errors import SpikebenchError
from spikebench.core.fileio import json_default

#: Output formats of a command whose output is data: a human table, one JSON document, CSV rows.
FORMATS = ("table", "json", "csv")


def add_format(parser, formats: tuple[str, ...] = FORMATS) -> None:
    """``--format`` with ``formats`` (the first is the default)."""
    parser.add_argument("--format", choices=formats, default=formats[0],
                        help=f"output format: {', '.join(formats)} (default {formats[0]})")


def write_json(doc) -> None:
    """One JSON document on stdout (numpy scalars and paths become numbers and strings)."""
    json.dump(doc, sys.stdout, indent=2, default=json_default)
    print()


def write_csv(rows: Iterable[Mapping]) -> None:
    """Rows of dicts as CSV on stdout (header from the first row; nothing for no rows)."""
    rows = list(rows)
    if not rows:
        return
    w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)


def names(spec: str) -> tuple[str, ...]:
    """``"a, b,,c"`` -> ``("a", "b", "c")``."""
    return tuple(s.strip() for s in spec.split(",") if s.strip())


def check_output_path(path, *, what: str = "output file") -> Path:
    """A path we may write: its folder must exist and it must not be a folder itself."""
    p = Path(path)
    if p.is_dir():
        raise SpikebenchError(f"{p}: is a folder; give a file path for the {what}")
    if not p.parent.exists() and str(p.parent) not in ("", "."):
        raise SpikebenchError(f"{p}: folder {p.parent} does not exist; create it first")
    return p


def positive(value, flag: str) -> None:
    """``None`` or an integer >= 1, else a one-line error naming ``flag``."""
    if value is not None and value < 1:
        raise SpikebenchError(f"{flag} must be >= 1, got {value}")
