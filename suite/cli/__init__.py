"""The ``spikebench`` command line: one entry point, one subcommand per job.

Exit codes: 0 ok, 1 the run itself failed, 2 bad input or usage (a one-line message on stderr).
Every failure a user can cause ends in that one line, never a traceback: a :class:`SpikebenchError`;
an operating-system error (read-only file system, permission denied, name too long, disk full: the
file is named where it is known, :mod:`spikebench.core.fileio`); standard output closed (refused
before any work) or failing (a full disk behind ``>``); an input nested too deeply (RecursionError) or
too large (MemoryError). Output piped into ``head`` and closed early is not an error (exit 0).
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


def _stdout_closed() -> bool:
    """Whether standard output is closed (``spikebench ... >&-``): Python then sets ``sys.stdout`` to None."""
    if sys.stdout is None:
        return True
    try:
        import os

        os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        return not hasattr(sys.stdout, "getvalue")  # an in-memory stdout (tests) has no descriptor
    return False


def _fail(message: str) -> int:
    print(f"spikebench: error: {one_line(message)}", file=sys.stderr)
    return 2


def _quiet_stdout() -> None:
    """Point a broken standard output at /dev/null, so Python's flush at exit does not fail again."""
    import os

    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    """Warnings (a regenerated data cache, a fallback taken) as one line, like our errors."""
    return f"spikebench: warning: {one_line(str(message))}\n"


def main(argv: list[str] | None = None) -> int:
    import warnings

    previous = warnings.formatwarning
    warnings.formatwarning = _one_line_warning  # for this command only (main is called in-process by tests)
    try:
        return _main(argv)
    finally:
        warnings.formatwarning = previous


def _main(argv: list[str] | None) -> int:
    if _stdout_closed():  # before any work: every result would be lost
        return _fail("standard output is closed; redirect it to a file or /dev/null instead of closing it")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args) or 0)
    except BaseException as exc:
        return _handled(exc)
    try:
        sys.stdout.flush()  # a full disk or a closed descriptor behind stdout shows here, not at exit
    except BrokenPipeError:
        _quiet_stdout()
        return code
    except OSError as exc:
        _quiet_stdout()
        return _fail(f"writing the output: {exc.strerror or exc}")
    return code


def _handled(exc: BaseException) -> int:
    """The exit code (and one line on stderr) for what a command raised; re-raises what is not ours."""
    if isinstance(exc, SpikebenchError):
        return _fail(str(exc))
    if isinstance(exc, KeyboardInterrupt):
        print("spikebench: interrupted", file=sys.stderr)
        return 130
    if isinstance(exc, BrokenPipeError):  # output piped into `head` and closed early: not an error of ours
        _quiet_stdout()
        return 0
    if isinstance(exc, OSError):  # last resort: an operating-system error no command caught where it knew the path
        why = exc.strerror or str(exc) or type(exc).__name__
        if exc.filename is not None:
            return _fail(f"{exc.filename}: {why}")
        # no file named: files are written through spikebench.core.fileio, which names them, so this is
        # our printed output (stdout on a full disk, its descriptor closed under us)
        _quiet_stdout()
        return _fail(f"writing the output: {why}")
    if isinstance(exc, RecursionError):  # a hostile input nested too deeply for the parsers (JSON, NIR)
        return _fail("an input file is nested too deeply to read (recursion limit); check the files given")
    if isinstance(exc, MemoryError):
        return _fail("out of memory; an input is too large for this machine (check its sizes, or use --limit)")
    raise exc


__all__ = ["COMMANDS", "build_parser", "check_output_path", "main"]
