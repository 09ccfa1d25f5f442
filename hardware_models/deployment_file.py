"""Deployment files (``spikebench.deployment/1``): how you placed your network on each chip, where the
chip model's own mapping would not match yours (a vendor mapper's NP choice, a multi-chip spread for speed).

::

    {"schema": "spikebench.deployment/1",
     "deployments": {
       "akida": {"layer_cores": [117], "passes": 4, "source": "Akida MetaTF mapper, Minimal"},
       "loihi": {"chips": 32, "layer_cores": [4096], "source": "Frady et al. 2020, 32-chip k-NN"}}}

Per chip (a name of :data:`~spikebench.hardware_models.CHIPS`), every field optional but one:

* ``chips``: chips the deployment uses (an integer >= 1);
* ``layer_cores``: cores per layer, one integer >= 1 per layer of the counts file (the chip's own unit:
  Loihi neurocores, TrueNorth cores, SpiNNaker 2 PEs, Akida NPs);
* ``passes``: sequential passes over the hardware (Akida: a network larger than the NPs it holds at
  once runs in passes);
* ``source``: where the deployment comes from (free text, shown in the estimate's reasons).

A field left out keeps the chip model's own choice (:class:`~.base.Deployment`). Unknown chips or fields,
wrong types and a ``layer_cores`` whose length is not the network's layer count are one-line errors
naming the file and the field. A deployment beyond a chip's largest real system (``max_chips``) is not an
error: its estimate is marked infeasible, as the model's own mapping would be.
"""

from __future__ import annotations

import json

from spikebench.core.errors import FileFormatError, one_line

from .base import Deployment

SCHEMA = "spikebench.deployment/1"
FIELDS = ("chips", "layer_cores", "passes", "source")
#: a deployment file names a few chips and a few numbers per layer: a megabyte is far beyond any real one
MAX_BYTES = 1 << 20
MAX_LAYERS = 100_000


def read_deployments(path, *, layers: int | None = None) -> dict[str, Deployment]:
    """``{chip: Deployment}`` of a deployment file; ``layers``: the network's layer count to check against."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise FileFormatError(f"{path}: no such deployment file") from None
    except IsADirectoryError:
        raise FileFormatError(f"{path}: is a folder, not a deployment file") from None
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot read the deployment file ({exc.strerror})") from None
    if len(raw) > MAX_BYTES:
        raise FileFormatError(f"{path}: larger than {MAX_BYTES // 1024} KiB; a deployment file holds a few numbers "
                              "per chip and layer")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except RecursionError:
        raise FileFormatError(f"{path}: JSON nested too deeply to be a deployment file") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise FileFormatError(f"{path}: not valid JSON ({one_line(exc)})") from None
    return parse_deployments(data, str(path), layers=layers)


def _no_constant(name: str):
    raise ValueError(f"{name} is not allowed in a deployment file")


def parse_deployments(data, origin: str, *, layers: int | None = None) -> dict[str, Deployment]:
    """Check a parsed deployment document; see the module docstring."""
    from . import CHIPS

    if not isinstance(data, dict):
        raise FileFormatError(f"{origin}: a deployment file is a JSON object with \"schema\" and \"deployments\"")
    if data.get("schema") != SCHEMA:
        raise FileFormatError(f"{origin}: schema must be {SCHEMA!r}, got {_short(data.get('schema'))}")
    unknown = sorted(set(data) - {"schema", "deployments"})
    if unknown:
        raise FileFormatError(f"{origin}: unknown field(s) {', '.join(unknown)}; a deployment file has schema and "
                              "deployments")
    deps = data.get("deployments")
    if not isinstance(deps, dict) or not deps:
        raise FileFormatError(f"{origin}: \"deployments\" must be an object with one entry per chip, e.g. "
                              "{\"akida\": {\"layer_cores\": [34], \"passes\": 2}}")
    out = {}
    for chip, entry in deps.items():
        if chip not in CHIPS:
            raise FileFormatError(f"{origin}: deployments: unknown chip {_short(chip)}; known chips: "
                                  f"{', '.join(CHIPS)}")
        where = f"deployments.{chip}"
        if not isinstance(entry, dict) or not entry:
            raise FileFormatError(f"{origin}: {where} must be an object with some of {', '.join(FIELDS)}")
        bad = sorted(set(entry) - set(FIELDS))
        if bad:
            raise FileFormatError(f"{origin}: {where} has unknown field(s) {', '.join(bad)}; allowed: "
                                  f"{', '.join(FIELDS)}")
        allowed = CHIPS[chip].deployment_fields
        if not allowed:
            raise FileFormatError(f"{origin}: {where}: {chip} is a dense reference row with no placement to state; "
                                  "remove it from the file")
        moot = sorted(set(entry) - {"source", *allowed})
        if moot:
            raise FileFormatError(f"{origin}: {where}.{moot[0]} does not apply to {chip} (its model takes "
                                  f"{', '.join(allowed)})")
        if set(entry) <= {"source"}:
            raise FileFormatError(f"{origin}: {where} states no chips, layer_cores or passes")
        for f in ("chips", "passes"):
            if f in entry and not _count(entry[f]):
                raise FileFormatError(f"{origin}: {where}.{f} must be an integer >= 1, got {_short(entry[f])}")
        cores = entry.get("layer_cores")
        if cores is not None:
            if not isinstance(cores, list) or not cores or len(cores) > MAX_LAYERS or not all(map(_count, cores)):
                raise FileFormatError(f"{origin}: {where}.layer_cores must be a list of integers >= 1, one per "
                                      f"layer, got {_short(cores)}")
            if layers is not None and len(cores) != layers:
                raise FileFormatError(f"{origin}: {where}.layer_cores gives {len(cores)} layer(s); the counts file "
                                      f"has {layers}: give one number of {CHIPS[chip].core_kind} per layer")
        source = entry.get("source", "")
        if not isinstance(source, str):
            raise FileFormatError(f"{origin}: {where}.source must be text, got {_short(source)}")
        out[chip] = Deployment(chips=entry.get("chips"), passes=entry.get("passes"),
                               layer_cores=None if cores is None else tuple(cores),
                               source=source or f"deployment file {origin}")
    return out


def _count(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 2**53


def _short(v) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


__all__ = ["SCHEMA", "parse_deployments", "read_deployments"]
