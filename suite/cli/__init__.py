"""The ``spikebench`` command line: one entry point, one subcommand per job.

Exit codes: 0 ok, 1 the run itself failed, 2 bad input or usage (a one-line message on stderr).
One module per command (as asv's ``asv/commands/``), each defining ``register(subparsers)`` that adds
its parser and sets ``func(args) -> int``; the list is literal (:data:`COMMANDS`). Commands whose output
is data take ``--format table|json|csv`` (:mod:`spikebench.cli.common`).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from spikebench.core.errors import SpikebenchError, one_line

from .common import check_output_path

#: Command modules, in the order ``spikebench --help`` lists them.
COMMANDS = ("simulate", "estimate", "chips", "deploy", "validate", "train", "run", "report", "choose")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse prints usage + exits 2; keep it to one line
        self.exit(2, f"spikebench: error: {one_line(message)} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    from spikebench import __version__

    parser = _Parser(prog="spikebench", description="What a spiking network costs on neuromorphic chips, CPUs and GPUs.")
    parser.add_argument("--version", action="version", version=f"spikebench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


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


__all__ = ["COMMANDS", "build_parser", "check_output_path", "main"]
