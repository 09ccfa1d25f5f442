"""The one error family of spikebench.

Every problem caused by what a user handed us (a file, a shape, a name, a constraint) raises a
subclass of :class:`SpikebenchError` whose message is one line saying what is wrong and how to fix
it. The CLI prints that line and exits with code 2; anything else escaping is a bug.
"""

from __future__ import annotations


class SpikebenchError(Exception):
    """Base class: a user-facing problem, reported as one line (CLI exit code 2)."""


class InvalidNetworkError(SpikebenchError):
    """A network's layers, weights or neuron parameters are unusable."""


class InvalidSpikesError(SpikebenchError):
    """Input spikes have the wrong shape, values or ranges."""


class UnknownNameError(SpikebenchError):
    """A name (backend, workload, chip, reset mode...) is not one we know."""


class FileFormatError(SpikebenchError):
    """A file we were asked to read is missing, truncated, corrupt or of another schema."""


class BackendUnavailableError(SpikebenchError):
    """A backend needs an extra package or a device that is not present."""


def one_line(message: str) -> str:
    """Collapse whitespace so a message prints as a single line."""
    return " ".join(str(message).split())


def optional_import(name: str, extra: str):
    """Import an optional heavy dependency (torch, snntorch, nir) where it is needed; missing, it is a
    :class:`BackendUnavailableError` naming the package to install."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise BackendUnavailableError(f"{name} is not installed ({exc}); install it with: pip install {extra}") from None
