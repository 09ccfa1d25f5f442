"""The ``spikebench`` command line: one entry point, one subcommand per job.

Exit codes: 0 ok, 1 the run itself failed, 2 bad input or usage (a one-line message on stderr).
Subcommands live in their own modules and register through ``register(subparsers)``; the list of
those modules is literal (see ``_COMMAND_MODULES``).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from .core.errors import SpikebenchError, one_line

# Modules that define ``register(subparsers)``; each sets ``func(args) -> int`` on its parser.
_COMMAND_MODULES = (
    "spikebench.cli_simulate",
    "spikebench.cli_chips",
    "spikebench.cli_train",
    "spikebench.cli_run",
    "spikebench.cli_report",
    "spikebench.cli_choose",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse prints usage + exits 2; keep it to one line
        self.exit(2, f"spikebench: error: {one_line(message)} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(prog="spikebench", description="What a spiking network costs on neuromorphic chips, CPUs and GPUs.")
    parser.add_argument("--version", action="version", version=f"spikebench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def check_output_path(path, *, what: str = "output file") -> Path:
    """A path we may write: its folder must exist and it must not be a folder itself."""
    p = Path(path)
    if p.is_dir():
        raise SpikebenchError(f"{p}: is a folder; give a file path for the {what}")
    if not p.parent.exists() and str(p.parent) not in ("", "."):
        raise SpikebenchError(f"{p}: folder {p.parent} does not exist; create it first")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SpikebenchError as exc:
        print(f"spikebench: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("spikebench: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and closed early: not an error of ours
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
