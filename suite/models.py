"""Bring your own network: a model in any form a user has, as a spikebench :class:`Network` fitted
to a workload.

Accepted (:func:`as_network`):

* a :class:`~spikebench.core.network.Network`;
* a NIR graph: a path to a ``.nir`` file, or a ``nir.NIRGraph`` object;
* an snnTorch model: an ``nn.Sequential`` is read module by module
  (:func:`spikebench.core.snntorch_io.network_from_snntorch`; this also reads snnTorch's
  ``Conv2d -> MaxPool2d -> Leaky``, which snnTorch's NIR exporter cannot write); any other
  ``nn.Module`` goes through snnTorch's own NIR exporter (``snntorch.export_nir.export_to_nir``,
  which needs ``nirtorch``) with a zero sample of the workload's input shape.

The command line reads only data files (NIR), never code: a Python model is passed through the
Python API (:func:`spikebench.benchmark`).

Binning: a network may state the step length and steps per sample it was trained with, in its
NIR graph's metadata (``metadata["spikebench"]["binning"] = {"timestep_s": .., "timesteps": ..}``)
or in ``Network.metadata["binning"]``; options given by the caller win over both; otherwise the
workload's own binning is used.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .core.errors import FileFormatError, InvalidNetworkError, SpikebenchError, optional_import
from .core.network import Network


@dataclass(frozen=True, kw_only=True, eq=False)
class NetworkChoice:
    """A network to benchmark: its row label, the network (None: the workload's shipped reference),
    where it came from, and the binning it asks for (``timestep_s`` / ``timesteps``, None = workload's)."""

    name: str
    network: Network | None = None
    path: str | None = None
    binning: dict = field(default_factory=dict)

    @property
    def reference(self) -> bool:
        return self.network is None

    def to_dict(self) -> dict:
        return {"name": self.name, "path": self.path, "hash": None if self.network is None else self.network.content_hash(),
                "binning": dict(self.binning)}


def _nir_binning(graph) -> dict:
    meta = getattr(graph, "metadata", None)
    meta = meta.get("spikebench", {}) if isinstance(meta, dict) else {}
    b = meta.get("binning", {}) if isinstance(meta, dict) else {}
    return _clean_binning(b if isinstance(b, dict) else {}, "the NIR graph's metadata")


def _clean_binning(b: dict, where: str) -> dict:
    out = {}
    for key in ("timestep_s", "timesteps"):
        v = b.get(key)
        if v is None:
            continue
        if hasattr(v, "item"):  # numpy scalars from HDF5
            v = v.item()
        if key == "timesteps":
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise FileFormatError(f"{where}: binning timesteps must be a whole number >= 1, got {v!r}")
        elif isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
            raise FileFormatError(f"{where}: binning timestep_s must be a positive number of seconds, got {v!r}")
        out[key] = v
    unknown = sorted(set(b) - {"timestep_s", "timesteps"})
    if unknown:
        raise FileFormatError(f"{where}: unknown binning key(s) {', '.join(unknown)}; use timestep_s and timesteps")
    return out


CODE_SUFFIXES = (".py", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".onnx", ".ipynb")


def read_nir(path) -> tuple[Network, dict]:
    """A NIR file as a Network plus the binning its graph metadata asks for."""
    if Path(path).suffix.lower() in CODE_SUFFIXES:
        raise FileFormatError(f"{path}: spikebench reads network data files (NIR graphs), never code or pickles; "
                              "export the model to NIR (snntorch.export_nir) or pass it to spikebench.benchmark()")
    net = Network.from_nir(path)
    nir = optional_import("nir", "nir")
    try:
        graph = nir.read(str(path), type_check=False)
    except Exception:  # noqa: BLE001 - from_nir has just read it; a failure here only loses the metadata
        return net, {}
    return net, _nir_binning(graph)


def as_network(model, *, in_shape: tuple[int, ...] | None = None) -> tuple[Network, dict, str | None]:
    """``(network, binning asked for, source path)`` of ``model`` (see the module docstring).

    ``in_shape`` is the input shape of the workload, needed for snnTorch modules whose first layer
    is a convolution (the modules do not state their input size).
    """
    if isinstance(model, Network):
        return model, _clean_binning(model.metadata.get("binning", {}) or {}, f"network {model.name!r} metadata"), None
    if isinstance(model, (str, Path)):
        path = Path(model)
        net, binning = read_nir(path)
        return net, binning, str(path)
    nir = _maybe("nir")
    if nir is not None and isinstance(model, nir.NIRGraph):
        with tempfile.TemporaryDirectory() as tmp:
            p = Path(tmp) / "graph.nir"
            try:
                nir.write(str(p), model)
            except Exception as exc:  # noqa: BLE001 - nir raises many types on malformed graphs
                raise FileFormatError(f"the NIR graph cannot be written ({type(exc).__name__}: {exc})") from None
            net = Network.from_nir(p)
        name = net.name if net.name != p.stem else "nir-graph"  # the graph's own name, if it has one
        return Network(layers=net.layers, name=name, metadata={**net.metadata, "source": "NIR graph object"}), \
            _nir_binning(model), None
    torch = _maybe("torch")
    if torch is not None and isinstance(model, torch.nn.Module):
        return _from_torch(model, torch, in_shape), {}, None
    raise InvalidNetworkError(f"cannot benchmark a {type(model).__name__}: give a spikebench Network, a NIR file or "
                              "graph, or an snnTorch nn.Module")


def _maybe(name: str):
    try:
        return __import__(name)
    except ImportError:
        return None


def _from_torch(model, torch, in_shape):
    from .core.snntorch_io import network_from_snntorch

    if isinstance(model, torch.nn.Sequential):
        net = network_from_snntorch(model, in_shape=in_shape)
        name = f"snntorch-{net.content_hash()[:6]}" if net.name == "snntorch" else net.name  # a Sequential has no name
        return Network(layers=net.layers, name=name, metadata={**net.metadata, "source": "snnTorch nn.Sequential"})
    if in_shape is None:
        raise InvalidNetworkError(f"a {type(model).__name__} is exported through snnTorch's NIR exporter, which needs "
                                  "the input shape; benchmark it on a workload (which states it)")
    try:
        from snntorch.export_nir import export_to_nir
    except ImportError as exc:
        raise SpikebenchError(f"exporting a {type(model).__name__} needs snnTorch's NIR exporter and nirtorch ({exc}); "
                              "pip install nirtorch, or pass an nn.Sequential") from None
    try:
        graph = export_to_nir(model, torch.zeros(1, *in_shape), ignore_dims=[0])
    except Exception as exc:  # noqa: BLE001 - the exporter fails with many types; say which model and why
        raise InvalidNetworkError(f"snnTorch's NIR exporter could not export the {type(model).__name__} "
                                  f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); give "
                                  "neurons per-neuron beta/threshold tensors, or pass an nn.Sequential") from None
    net, _, _ = as_network(graph)
    return Network(layers=net.layers, name=type(model).__name__, metadata={**net.metadata,
                                                                        "source": "snnTorch export_to_nir"})


def unique_names(choices: list[NetworkChoice]) -> list[NetworkChoice]:
    """Refuse two networks with one name (rows would mix): say which and how to rename."""
    seen: dict[str, NetworkChoice] = {}
    for c in choices:
        if c.name in seen:
            raise SpikebenchError(f"two networks are named {c.name!r}; give each its own name (--name, or name=)")
        seen[c.name] = c
    return choices


__all__ = ["NetworkChoice", "as_network", "read_nir", "unique_names"]
