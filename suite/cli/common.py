"""What every ``spikebench`` command shares: the ``--format`` option and its writers, name lists,
and the check on a path we are about to write."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from spikebench.core.errors import SpikebenchError
from spikebench.core.fileio import check_writable, json_default
from spikebench.harness import MAX_SEED  # one bound for every --seed (the run's data generators take 0..2**32-1)

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


def check_output_path(path, *, what: str = "output file", inputs=()) -> Path:
    """A path we may write, checked before any work (:func:`spikebench.core.fileio.check_writable`): not a
    folder, its folder exists and is writable, its name fits the file system, and it is none of
    ``inputs`` (the files the command reads, compared after resolving links). A symlink or a device
    (``/dev/null``) is written through, never replaced."""
    return check_writable(path, what=what, inputs=inputs)


def positive(value, flag: str) -> None:
    """``None`` or an integer >= 1, else a one-line error naming ``flag``."""
    if value is not None and value < 1:
        raise SpikebenchError(f"{flag} must be >= 1, got {value}")


#: Largest number of sampling draws (``estimate --sensitivity``, ``choose --draws``): 10^5 draws give
#: a swap frequency to about 0.3 % (1 / sqrt(draws)); more only costs time (each draw re-estimates every chip).
MAX_DRAWS = 100_000
#: Largest number of training epochs (``train --epochs``): the shipped recipes use 30-60.
MAX_EPOCHS = 10_000


def seed(value, flag: str = "--seed") -> None:
    """An integer seed in [0, :data:`MAX_SEED`], else a one-line error naming ``flag``."""
    if value is not None and not 0 <= value <= MAX_SEED:
        raise SpikebenchError(f"{flag} must be an integer in [0, {MAX_SEED}], got {value}")


def at_most(value, flag: str, limit: int, *, low: int = 0) -> None:
    """``None`` or an integer in [``low``, ``limit``], else a one-line error naming ``flag`` and the bound."""
    if value is not None and not low <= value <= limit:
        raise SpikebenchError(f"{flag} must be an integer in [{low}, {limit}], got {value}")
