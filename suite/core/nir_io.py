"""Exchange networks with NIR (the Neuromorphic Intermediate Representation, HDF5 files).

Imported lazily by :class:`~spikebench.core.network.Network` so that nir loads only when used.

**Graph shape.** One layer is a chain of nodes ending at its neurons::

    [SumPool2d | AvgPool2d]  ->  Affine | Linear | Conv2d  ->  [SumPool2d | AvgPool2d]  ->  LIF | IF | CubaLIF
      (pool_in: of spikes)                                      (pool: of conv currents)

with a ``Flatten`` node where a ``(C, H, W)`` output (or a ``pool_in``) meets a dense layer, and a
recurrent ``Affine``/``Linear`` loop on the neuron node for recurrent layers (how snnTorch's exporter
writes ``RLeaky``/``RSynaptic``). The ``Input`` node declares the network's input shape (``(C, H, W)``
for a conv-first network; a ``Conv2d`` node's ``input_shape`` may be missing: shapes are followed
from the ``Input`` node along the chain). Conv layers' neuron parameters are written shaped ``(C, H, W)``.

**Writing.** Neurons: ``CubaLIF`` for current-based layers (``alpha`` set), ``IF`` (``r = 1``,
``v_reset = 0``) when every ``beta`` is 1, ``LIF`` otherwise; time constants follow snnTorch's exporter
(``dt = 1e-4``: ``tau = dt/(1-beta)``, ``r = tau/dt``, CubaLIF ``tau_syn = dt/(1-alpha)``, ``w_in = tau_syn/dt``).
NIR's neurons have no subtract reset and no reset delay, so spikebench writes its own dynamics (exact
float32 ``beta`` and ``alpha``, reset mode, reset delay, weight bits, layer name, and ``bias: 0`` for a
conv layer without bias, which NIR's ``Conv2d`` cannot express) into each neuron node's
``metadata["spikebench"]`` and restores them on import; weights, biases and thresholds are stored as
float32 arrays, so a spikebench -> NIR -> spikebench round trip is bit-exact.
**Max pooling is refused on writing**: NIR 1.0 has no max-pooling node, and a file that hid it in
spikebench-only metadata would read as a different network (or fail) in every other tool; keep such a
network in snnTorch form (``Network.to_snntorch``), or pool with sum/avg. A dense layer feeding a
conv layer is refused too (NIR has no reshape node).

**Foreign files** (no spikebench metadata) are read with these conventions, each recorded in
``network.metadata["assumptions"]``:

* ``LIF``: snnTorch's export convention ``r = tau/dt`` (unit input gain), so ``beta = 1 - 1/r``; where
  ``tau`` and ``r`` are float32 as snnTorch writes them, the float32 ``beta`` that snnTorch's exporter
  maps to exactly that ``tau`` and ``r`` is chosen, preferring the roundest decimal or binary value.
  Reset: the caller's ``reset``, defaulting to snnTorch's subtract-with-delay.
* ``CubaLIF``: snnTorch's convention ``tau_syn = dt/(1-alpha)``, ``tau_mem = dt/(1-beta)``,
  ``r = tau_mem/dt``, ``w_in = tau_syn/dt``, so ``beta = 1 - 1/r`` and ``alpha = 1 - 1/w_in`` (inverted
  exactly like ``LIF``). A node whose ``tau_syn/w_in`` differs from ``tau_mem/r`` has a synaptic input gain
  other than 1 and is refused (spikebench does not fold it into the weights). Reset as ``LIF``.
* ``IF``: ``beta = 1`` and NIR's reset to ``v_reset`` (which must be 0), i.e. reset ``"zero"`` unless the
  caller says otherwise: NIR resets at once, spikebench one step later before adding that step's input,
  and both give the same spikes (a recurrent layer's delayed zero reset follows snnTorch's ``RLeaky``,
  which also drops the input of that step). ``r != 1`` is an input gain: it is folded into the incoming
  weights and biases (recurrent ones too), per output channel for a conv layer.

Every neuron must have ``v_leak = 0`` (``LIF``, ``CubaLIF``) and ``v_reset = 0``.

Every problem with a file or module raises a :class:`~spikebench.core.errors.SpikebenchError`
subclass (``FileFormatError`` for unreadable or unsupported graphs, naming the node, its type and
what to use instead; ``InvalidNetworkError`` for dynamics or parameters spikebench cannot represent),
never a raw h5py/nir/torch exception.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .connectivity import Pool2d, conv_out_hw
from .errors import FileFormatError, InvalidNetworkError, SpikebenchError, UnknownNameError, optional_import
from .network import RESET_MODES, Layer, Network

NIR_DT = 1e-4  # snnTorch's exporter's dt; it only sets the nominal tau written to the file
META_KEY = "spikebench"
FORMAT_VERSION = 1  # additive keys since (alpha, bias) keep the version: older readers refuse the new node types

NEURON_TYPES = ("LIF", "IF", "CubaLIF")
SYNAPSE_TYPES = ("Affine", "Linear", "Conv2d")
POOL_TYPES = ("SumPool2d", "AvgPool2d")
_INSTEAD = {
    "Conv1d": "use a Conv2d node with a (1, k) kernel over a (C, 1, W) input",
    "Threshold": "spikebench's neurons carry their threshold: use LIF, IF or CubaLIF",
    "Delay": "synaptic delays are not supported: remove the Delay node",
    "Scale": "fold the scale into the preceding Affine/Linear/Conv2d weights and bias",
    "LI": "non-spiking neurons (readouts) are not supported: use LIF",
    "CubaLI": "non-spiking neurons (readouts) are not supported: use CubaLIF",
    "I": "non-spiking integrators are not supported: use IF",
    "NIRGraph": "flatten the graph before importing",
}
_SUPPORTED_TEXT = ("spikebench reads chains of [SumPool2d|AvgPool2d] -> Affine|Linear|Conv2d -> [SumPool2d|AvgPool2d] "
                   "-> [Flatten] -> LIF|IF|CubaLIF (with optional recurrent Affine/Linear loops)")


# ---- writing -----------------------------------------------------------------------------------------

def _tau(decay: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.where(decay < 1, NIR_DT / (1.0 - decay.astype(np.float64)), np.inf)


def _pool_node(nir, pool: Pool2d, in_shape, where: str):
    if pool.kind == "max":
        raise InvalidNetworkError(
            f"{where} max-pools its currents, which NIR cannot express (NIR 1.0 has no max-pooling node); "
            "keep the network in snnTorch form (Network.to_snntorch) or use sum/avg pooling to write NIR")
    cls = nir.SumPool2d if pool.kind == "sum" else nir.AvgPool2d
    node = cls(kernel_size=np.array(pool.kernel), stride=np.array(pool.stride), padding=np.array([0, 0]))
    c, h, w = in_shape
    node.input_type = {"input": np.array(in_shape)}
    node.output_type = {"output": np.array((c, *pool.out_hw(h, w, where)))}
    return node


def _flatten_node(nir, shape):
    return nir.Flatten(input_type={"input": np.array(shape)}, start_dim=0, end_dim=-1)


def network_to_nir(network: Network, path) -> None:
    """Write ``network`` to ``path`` as a NIR HDF5 graph (module docstring: node chain, metadata, refusals).

    The file is written to a temporary name beside ``path`` and moved into place, so a failed write
    never leaves a half-written file at ``path``.

    Raises:
        InvalidNetworkError: a layer NIR cannot express (max pooling; a dense layer feeding a conv layer).
        FileFormatError: the destination cannot be written.
    """
    nir = optional_import("nir", "nir")
    path = Path(path)
    if not path.parent.is_dir():
        raise FileFormatError(f"{path}: folder {path.parent} does not exist")
    if path.is_dir():
        raise FileFormatError(f"{path}: is a folder; give a file name such as {path / 'network.nir'}")
    shape = tuple(network.in_shape)
    nodes = {"input": nir.Input(input_type={"input": np.array(shape)})}
    edges = []
    prev = "input"

    def add(name, node):
        nonlocal prev
        nodes[name] = node
        edges.append((prev, name))
        prev = name

    for i, layer in enumerate(network.layers, start=1):
        where = f"layer {layer.name!r}"
        in_shape = tuple(layer.in_shape)
        if len(in_shape) == 3 and len(shape) != 3:
            raise InvalidNetworkError(f"{where} reads the flat output of the layer before it as {in_shape}; NIR has no "
                                      "reshape node to write that: make the earlier layer convolutional")
        if len(in_shape) != 3 and len(shape) == 3:
            add(f"flat{i}", _flatten_node(nir, shape))
        shape = in_shape
        if layer.pool_in is not None:
            add(f"pool_in{i}", _pool_node(nir, layer.pool_in, shape, where))
            shape = (shape[0], *layer.pool_in.out_hw(shape[1], shape[2], where))
        w = np.array(layer.weight, dtype=np.float32)
        if layer.conv:
            bias = (np.array(layer.bias, dtype=np.float32) if layer.bias is not None
                    else np.zeros(w.shape[0], np.float32))
            conv = nir.Conv2d(input_shape=tuple(int(v) for v in shape[1:]), weight=w, stride=tuple(layer.stride),
                              padding=tuple(layer.padding), dilation=tuple(layer.dilation), groups=int(layer.groups),
                              bias=bias)
            add(f"conv{i}", conv)
            shape = tuple(int(v) for v in conv.output_type["output"])
            if layer.pool is not None:
                add(f"pool{i}", _pool_node(nir, layer.pool, shape, where))
        else:
            if len(shape) == 3:
                add(f"flat{i}", _flatten_node(nir, shape))
            add(f"fc{i}", nir.Affine(weight=w, bias=np.array(layer.bias, dtype=np.float32)) if layer.bias is not None
                else nir.Linear(weight=w))
        out = tuple(layer.out_shape)

        beta = np.array(layer.beta, dtype=np.float32)
        meta = {
            "format": FORMAT_VERSION, "beta": beta, "reset": layer.reset, "reset_delay": True,
            "weight_bits": -1 if layer.weight_bits is None else layer.weight_bits, "name": layer.name, "dt": NIR_DT,
        }
        if layer.conv and layer.bias is None:
            meta["bias"] = 0
        zeros = np.zeros(out)
        thr = np.array(layer.threshold, dtype=np.float32).reshape(out)
        if layer.alpha is not None:
            alpha = np.array(layer.alpha, dtype=np.float32)
            meta["alpha"] = alpha
            tau_syn, tau_mem = _tau(alpha).reshape(out), _tau(beta).reshape(out)
            kind, node = "cubalif", nir.CubaLIF(tau_syn=tau_syn, tau_mem=tau_mem, r=tau_mem / NIR_DT, v_leak=zeros,
                                                v_threshold=thr, v_reset=zeros, w_in=tau_syn / NIR_DT,
                                                metadata={META_KEY: meta})
        elif layer.neuron == "if":
            kind, node = "if", nir.IF(r=np.ones(out), v_threshold=thr, v_reset=zeros, metadata={META_KEY: meta})
        else:
            tau = _tau(beta).reshape(out)
            kind, node = "lif", nir.LIF(tau=tau, r=tau / NIR_DT, v_leak=zeros, v_reset=zeros, v_threshold=thr,
                                        metadata={META_KEY: meta})
        neuron = f"{kind}{i}"
        add(neuron, node)
        if layer.recurrent:
            rec = f"rec{i}"
            rw = np.array(layer.recurrent_weight, dtype=np.float32)
            nodes[rec] = (nir.Affine(weight=rw, bias=np.array(layer.recurrent_bias, dtype=np.float32))
                          if layer.recurrent_bias is not None else nir.Linear(weight=rw))
            edges += [(neuron, rec), (rec, neuron)]
        shape = out
    nodes["output"] = nir.Output(output_type={"output": np.array(shape)})
    edges.append((prev, "output"))
    gmeta = {"format": FORMAT_VERSION, "name": network.name}
    binning = network.metadata.get("binning")
    if isinstance(binning, dict) and binning:  # the step length and steps the network was trained with
        gmeta["binning"] = {k: binning[k] for k in ("timestep_s", "timesteps") if binning.get(k) is not None}
    graph = nir.NIRGraph(nodes=nodes, edges=edges, type_check=False, metadata={META_KEY: gmeta})
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        nir.write(str(tmp), graph)
        tmp.replace(path)
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot write the NIR file ({type(exc).__name__}: {exc})") from None
    finally:
        if tmp.exists():
            tmp.unlink()


# ---- reading -----------------------------------------------------------------------------------------

def _scalarish(value) -> object:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _scalarish(value.item())
    if isinstance(value, np.generic):
        return _scalarish(value.item())
    return value


def _unknown_types(nir, path: Path) -> str | None:
    """Why ``nir.read`` failed, when a node's type is one this nir version does not know (it says only
    ``AssertionError``): the first such node, its type and what spikebench reads."""
    try:
        import h5py

        with h5py.File(path, "r") as f:
            def walk(group, prefix):
                nodes = group.get("nodes")
                if nodes is None:
                    return None
                for name in nodes:
                    node = nodes[name]
                    t = _scalarish(node["type"][()]) if "type" in node else None
                    if t == "NIRGraph":
                        found = walk(node, f"{prefix}{name}.")
                        if found:
                            return found
                    elif not (isinstance(t, str) and isinstance(getattr(nir, t, None), type)):
                        return f"{prefix}{name}", t
                return None

            found = walk(f["node"], "")
    except Exception:  # noqa: BLE001 - a diagnosis only; the caller reports the original failure
        return None
    if not found:
        return None
    name, t = found
    hint = "use SumPool2d/AvgPool2d, or pool conv currents in snnTorch" if "max" in str(t).lower() else \
        "use Conv2d for convolutions" if "conv" in str(t).lower() else "remove or replace it"
    return f"node {name!r} has type {t!r}, which NIR {getattr(nir, 'version', '')} does not define; {hint} ({_SUPPORTED_TEXT})"


def network_from_nir(path, *, reset: str | None = None) -> Network:
    """Read a NIR file of layer chains (module docstring): dense, recurrent, conv and pooled layers of
    LIF, IF or CubaLIF neurons.

    Args:
        path: the ``.nir`` (HDF5) file.
        reset: ``"subtract"`` or ``"zero"`` to force every layer's reset mode (recorded in
            ``metadata["assumptions"]``); ``None`` uses the mode spikebench stored in the file, or
            for foreign files snnTorch's ``"subtract"`` (LIF, CubaLIF) and NIR's ``"zero"`` (IF).

    Raises:
        FileFormatError: missing, corrupt or non-NIR file, or a graph that is not such a chain (names
            the node, its type and what to use instead).
        InvalidNetworkError: dynamics or parameters spikebench cannot represent, shapes that do not
            fit, NaN or infinite weights (names the file, the nodes and the layer).
        UnknownNameError: ``reset`` is not a known reset mode.
    """
    nir = optional_import("nir", "nir")
    if reset is not None and reset not in RESET_MODES:
        raise UnknownNameError(f"unknown reset mode {reset!r}; use one of {', '.join(RESET_MODES)}")
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"{path}: no such NIR file")
    try:
        # spikebench checks the structure and the shapes itself (with messages that say what to fix);
        # nir's own type check also rejects older, valid files.
        graph = nir.read(str(path), type_check=False)
    except Exception as exc:  # h5py/nir raise many types on corrupt input; all mean "not a NIR graph"
        why = _unknown_types(nir, path)
        if why:
            raise FileFormatError(f"{path}: {why}") from None
        raise FileFormatError(f"{path}: not a readable NIR graph ({type(exc).__name__}: {exc})") from None
    if not isinstance(graph, nir.NIRGraph):
        raise FileFormatError(f"{path}: the file holds a single {type(graph).__name__} node, not a NIR graph")
    try:
        return _graph_to_network(nir, graph, path, reset)
    except SpikebenchError as exc:
        raise type(exc)(f"{path}: {exc}") from None
    except Exception as exc:  # malformed fields (wrong types, shapes, metadata) in an otherwise readable file
        raise FileFormatError(f"{path}: malformed NIR graph ({type(exc).__name__}: {exc})") from None


def _io_shape(node, attr: str) -> tuple[int, ...] | None:
    types = getattr(node, attr, None)
    if not isinstance(types, dict) or len(types) != 1:
        return None
    shape = next(iter(types.values()))
    if shape is None:
        return None
    shape = tuple(int(v) for v in np.atleast_1d(np.asarray(shape, dtype=np.int64)))
    if len(shape) == 4 and shape[0] == 1:  # a kept batch axis
        shape = shape[1:]
    return shape or None


def _lif_param(value, what: str, lif_name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float32)
    if arr.size == 0:
        raise InvalidNetworkError(f"neuron node {lif_name!r}: {what} is empty")
    if arr.size == 1:
        return arr.reshape(())
    return arr.reshape(-1)  # (1, n) from exporters that keep a batch axis, (C, H, W) for conv layers


def _snntorch_exporter(beta32: np.ndarray):
    """``(tau, r)`` exactly as snnTorch's ``export_to_nir`` computes them from a float32 ``beta``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = NIR_DT / (1 - beta32)
        return tau, tau / NIR_DT


def _complexity(v: np.float32) -> float:
    """How "round" a float32 is: significant decimal digits, or significant bits / log2(10) if fewer."""
    if v == 0:
        return 0.0
    digits = len(np.format_float_scientific(v, unique=True).split("e")[0].replace(".", "").lstrip("-"))
    mant, _ = np.frexp(np.float64(v))
    m = int(mant * 2**24)
    bits = 24 - ((m & -m).bit_length() - 1)
    return min(float(digits), bits / np.log2(10))


def _beta_from_tau_r(tau, r, lif_name: str, names: tuple[str, str] = ("tau", "r"),
                     kind: str = "LIF") -> tuple[np.ndarray, bool]:
    """``beta = 1 - 1/r``; float32 ``(tau, r)`` from snnTorch's exporter are inverted exactly.

    Also inverts CubaLIF's synaptic decay: ``alpha`` from ``(tau_syn, w_in)`` (same formulas).
    Returns the float32 decay and whether every value was matched exactly against the exporter.
    """
    r64 = np.asarray(r, dtype=np.float64)
    if r64.size == 0 or not np.all(r64 >= 1):  # also catches NaN
        decay = "beta" if names[1] == "r" else "alpha"
        raise InvalidNetworkError(f"{kind} node {lif_name!r}: {names[1]} < 1 (or NaN) cannot come from a discrete-time "
                                  f"neuron ({decay} = 1 - 1/{names[1]})")
    est64 = 1.0 - 1.0 / r64
    beta = est64.astype(np.float32)
    tau_a, r_a = np.asarray(tau), np.asarray(r)
    if tau_a.dtype != np.float32 or r_a.dtype != np.float32:
        return beta, False
    try:
        tau_b, r_b, est_b = np.broadcast_arrays(tau_a, r_a, est64)
    except ValueError:
        return beta, False
    out = est_b.astype(np.float32).reshape(-1)
    flat_t, flat_r, flat_e = tau_b.reshape(-1), r_b.reshape(-1), est_b.reshape(-1)
    keys = np.stack([flat_t.view(np.uint32), flat_r.view(np.uint32)], axis=1)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    exact = True
    for j, i in enumerate(first):
        e64 = float(flat_e[i])
        cands = {np.float32(e64)}
        lo = hi = np.float32(e64)
        for _ in range(8):
            lo, hi = np.nextafter(lo, np.float32(0)), np.nextafter(hi, np.float32(1))
            cands.update((lo, hi))
        cands.update(np.float32(round(e64, d)) for d in range(1, 10))  # short decimals (0.9, 0.95, ...)
        cands.update(np.float32(np.round(e64 * 2.0**k) / 2.0**k) for k in range(1, 25))  # dyadic values
        arr = np.array(sorted(c for c in cands if 0.0 <= c <= 1.0), dtype=np.float32)
        t_c, r_c = _snntorch_exporter(arr)
        ok = arr[(t_c == flat_t[i]) & (r_c == flat_r[i])]
        if ok.size:
            out[inverse == j] = min(ok, key=lambda v: (_complexity(v), abs(float(v) - e64)))
        else:
            exact = False
    return out.reshape(est_b.shape), exact


def _pair_field(value, what: str, name: str) -> tuple[int, int]:
    value = _scalarish(value)
    arr = np.atleast_1d(np.asarray(value)).reshape(-1)
    if arr.size == 1:
        arr = np.repeat(arr, 2)
    if arr.size != 2 or not np.all(np.isfinite(arr.astype(np.float64))) or np.any(arr != np.round(arr)):
        raise InvalidNetworkError(f"node {name!r}: {what} must be an integer or a pair of integers, got {value!r}")
    return int(arr[0]), int(arr[1])


def _read_pool(nir, node, name: str) -> Pool2d:
    if _pair_field(node.padding, "padding", name) != (0, 0):
        raise InvalidNetworkError(f"{type(node).__name__} node {name!r} pads its input; spikebench pools without "
                                  "padding: use padding (0, 0)")
    kind = "sum" if isinstance(node, nir.SumPool2d) else "avg"
    kernel = _pair_field(node.kernel_size, "kernel_size", name)
    stride = node.stride
    stride = kernel if stride is None or np.size(stride) == 0 else _pair_field(stride, "stride", name)
    return Pool2d(kind=kind, kernel=kernel, stride=stride)


def _conv_padding(node, name: str) -> tuple[int, int]:
    pad = _scalarish(node.padding)
    if isinstance(pad, str):
        if pad == "valid":
            return 0, 0
        if pad == "same":
            k = node.weight.shape[2:]
            d = _pair_field(node.dilation, "dilation", name)
            if _pair_field(node.stride, "stride", name) != (1, 1) or any(dd * (kk - 1) % 2 for kk, dd in zip(k, d)):
                raise InvalidNetworkError(f"Conv2d node {name!r}: padding 'same' pads unevenly here (even kernel or "
                                          "stride > 1); spikebench supports symmetric padding: give explicit padding")
            return tuple(dd * (kk - 1) // 2 for kk, dd in zip(k, d))
        raise InvalidNetworkError(f"Conv2d node {name!r}: unknown padding {pad!r}")
    return _pair_field(pad, "padding", name)


def _graph_to_network(nir, graph, path, reset_override):
    nodes, edges = dict(graph.nodes), list(graph.edges)
    succ: dict[str, list[str]] = {k: [] for k in nodes}
    pred: dict[str, list[str]] = {k: [] for k in nodes}
    for edge in edges:
        if len(edge) != 2:
            raise FileFormatError(f"edge {edge!r} does not join two nodes")
        a, b = (_scalarish(x) for x in edge)
        if a not in nodes or b not in nodes:
            missing = a if a not in nodes else b
            raise FileFormatError(f"edge ({a!r}, {b!r}) names node {missing!r}, which does not exist in the graph")
        succ[a].append(b)
        pred[b].append(a)
    known = {"Input", "Output", "Flatten", *NEURON_TYPES, *SYNAPSE_TYPES, *POOL_TYPES}
    for name, node in nodes.items():
        t = type(node).__name__
        if isinstance(node, nir.NIRGraph):
            raise FileFormatError(f"node {name!r} is a nested subgraph (NIRGraph); flatten the graph before importing")
        if t not in known:
            raise FileFormatError(f"node {name!r} is a {t}, which spikebench cannot import; "
                                  f"{_INSTEAD.get(t, 'remove or replace it')} ({_SUPPORTED_TEXT})")
    inputs = [k for k, v in nodes.items() if isinstance(v, nir.Input)]
    if len(inputs) != 1:
        raise FileFormatError(f"expected exactly one Input node, found {len(inputs)}: {inputs}")
    outputs = [k for k, v in nodes.items() if isinstance(v, nir.Output)]
    if len(outputs) != 1:
        raise FileFormatError(f"expected exactly one Output node, found {len(outputs)}: {outputs}")

    def is_neuron(name):
        return type(nodes[name]).__name__ in NEURON_TYPES

    def weights(name):
        node = nodes[name]
        if isinstance(node, nir.Affine):
            return np.asarray(node.weight), np.asarray(node.bias)
        if isinstance(node, nir.Linear):
            return np.asarray(node.weight), None
        raise FileFormatError(f"node {name!r} is a {type(node).__name__} in a recurrent loop; loops must be Affine/Linear")

    # 1. the chain from Input to Output, with each neuron's recurrent loop
    chain: list[str] = []
    loops: dict[str, str] = {}
    cur = inputs[0]
    seen = {cur}
    while True:
        nxt = succ[cur]
        rec_names = [n for n in nxt if is_neuron(cur) and succ.get(n) == [cur]]
        forward = [n for n in nxt if n not in rec_names]
        if len(forward) != 1:
            raise FileFormatError(f"node {cur!r} must lead to exactly one next node, found {forward}; only chains "
                                  "are supported")
        if len(rec_names) > 1:
            raise FileFormatError(f"neuron node {cur!r} has {len(rec_names)} recurrent loops; at most one is supported")
        if rec_names:
            r = rec_names[0]
            if r in seen or len(pred[r]) != 1:
                raise FileFormatError(f"node {r!r} is both in the chain and a recurrent loop of {cur!r}")
            loops[cur] = r
            seen.add(r)
        fc = forward[0]
        if fc in seen:
            raise FileFormatError(f"node {fc!r} is reached twice; cycles other than recurrent loops are not supported")
        expected = [cur]
        if is_neuron(fc):
            loop = [n for n in succ[fc] if succ.get(n) == [fc] and pred[n] == [fc]]
            expected = sorted([cur] + loop)
        if sorted(pred[fc]) != expected:
            raise FileFormatError(f"node {fc!r} has inputs {pred[fc]}; only chains are supported (expected {expected})")
        seen.add(fc)
        if isinstance(nodes[fc], nir.Output):
            break
        chain.append(fc)
        cur = fc
    unused = sorted(set(nodes) - seen)
    if unused:
        raise FileFormatError(f"nodes {unused} are not on the Input -> Output chain; spikebench would silently drop them")

    # 2. the layers, following the shape from the Input node
    in_name = inputs[0]
    shape = _io_shape(nodes[in_name], "input_type")
    from_input = shape is not None
    assumptions: list[str] = []
    layers: list[Layer] = []
    pend: dict = {"names": []}

    def need_3d(name, what):
        node = nodes[name]
        if shape is not None and len(shape) == 3:
            return shape
        declared = getattr(node, "input_shape", None)
        if isinstance(node, nir.Conv2d) and declared is not None:
            hw = _pair_field(declared, "input_shape", name)
            c = int(node.weight.shape[1]) * int(_scalarish(node.groups))
            if shape is None or int(np.prod(shape)) == c * hw[0] * hw[1]:
                return (c, *hw)
        if shape is None:
            raise FileFormatError(f"{what} node {name!r} needs its input's (C, H, W) shape, and neither the Input node "
                                  f"{in_name!r} nor the node declares it: give the Input node an input_type (C, H, W)")
        raise InvalidNetworkError(f"{what} node {name!r} receives a flat input of {int(np.prod(shape))} values; it needs "
                                  "(C, H, W): declare that shape in the Input node or the Conv2d's input_shape")

    for name in chain:
        node = nodes[name]
        t = type(node).__name__
        pend["names"].append(name)
        if t == "Flatten":
            if shape is not None:
                shape = (int(np.prod(shape)),)
            continue
        if t in POOL_TYPES:
            shape = need_3d(name, t)
            pool = _read_pool(nir, node, name)
            if "syn" not in pend:
                if "pool_in" in pend:
                    raise FileFormatError(f"{t} node {name!r} pools spikes that {pend['pool_in_name']!r} already pooled; "
                                          "merge them into one pooling node")
                pend.update(in_shape=shape, pool_in=pool, pool_in_name=name)
            elif not isinstance(pend["syn"], nir.Conv2d):
                raise FileFormatError(f"{t} node {name!r} pools the currents of {type(pend['syn']).__name__} node "
                                      f"{pend['syn_name']!r}; spikebench pools currents after a Conv2d only")
            elif "pool" in pend:
                raise FileFormatError(f"{t} node {name!r} pools currents that were already pooled; merge the poolings")
            else:
                pend["pool"] = pool
            shape = (shape[0], *pool.out_hw(shape[1], shape[2], f"{t} node {name!r}"))
            continue
        if t in SYNAPSE_TYPES:
            if "syn" in pend:
                raise FileFormatError(f"{t} node {name!r} follows {pend['syn_name']!r} without neurons between them; "
                                      f"{_SUPPORTED_TEXT}")
            if t == "Conv2d":
                w = np.asarray(node.weight)
                if w.ndim != 4:
                    raise InvalidNetworkError(f"Conv2d node {name!r}: weight must be 4-D (C_out, C_in/groups, kh, kw), "
                                              f"got shape {w.shape}")
                groups = int(_scalarish(node.groups))
                shape = need_3d(name, t)
                c_in = int(w.shape[1]) * groups
                declared = getattr(node, "input_shape", None)
                src = f"the Input node {in_name!r} declares" if from_input and not layers and "pool_in" not in pend \
                    else "it receives"
                if shape[0] != c_in:
                    raise InvalidNetworkError(f"Conv2d node {name!r} takes {c_in} input channels but {src} "
                                              f"{shape} (C, H, W)")
                if declared is not None and _pair_field(declared, "input_shape", name) != tuple(shape[1:]):
                    raise InvalidNetworkError(f"Conv2d node {name!r} declares input_shape "
                                              f"{_pair_field(declared, 'input_shape', name)} but {src} {shape} (C, H, W)")
                geo = dict(stride=_pair_field(node.stride, "stride", name), padding=_conv_padding(node, name),
                           dilation=_pair_field(node.dilation, "dilation", name), groups=groups)
                pend.setdefault("in_shape", shape)
                pend["geometry"] = geo
                pend["weight"], pend["bias"] = w, np.asarray(node.bias)
                shape = (int(w.shape[0]), *conv_out_hw(shape[1], shape[2], w.shape[2:], geo["stride"], geo["padding"],
                                                       geo["dilation"], f"Conv2d node {name!r}"))
            else:
                w, b = weights(name)
                if w.ndim != 2:
                    raise InvalidNetworkError(f"{t} node {name!r}: weight must be 2-D (n_out, n_in), got shape {w.shape}")
                n = int(np.prod(shape)) if shape is not None else int(w.shape[1])
                if n != w.shape[1]:
                    if from_input and not layers and "pool_in" not in pend:
                        raise InvalidNetworkError(f"Input node {in_name!r} declares {n} values but the first layer "
                                                  f"({t} node {name!r}) takes {w.shape[1]}")
                    raise InvalidNetworkError(f"{t} node {name!r} takes {w.shape[1]} inputs but receives {n} values")
                pend.setdefault("in_shape", shape if shape is not None and "pool_in" in pend else (n,))
                pend["weight"], pend["bias"] = w, b
                shape = (int(w.shape[0]),)
            pend["syn"], pend["syn_name"] = node, name
            continue
        # a neuron node: the layer is complete
        if "syn" not in pend:
            raise FileFormatError(f"{t} node {name!r} has no Affine, Linear or Conv2d node before it ({_SUPPORTED_TEXT})")
        layers.append(_read_layer(nir, node, name, pend, loops.get(name), weights, shape, reset_override,
                                  assumptions))
        shape = tuple(layers[-1].out_shape) if len(shape) == 3 else (layers[-1].n_out,)
        pend = {"names": []}
    if "syn" in pend:
        raise FileFormatError(f"node {pend['syn_name']!r} does not feed a neuron node (LIF, IF or CubaLIF) before the "
                              "Output node")
    if not layers:
        raise FileFormatError(f"the graph has no layer between Input and Output ({_SUPPORTED_TEXT})")
    out_shape = _io_shape(nodes[outputs[0]], "output_type")
    if out_shape is not None and int(np.prod(out_shape)) != layers[-1].n_out:
        raise InvalidNetworkError(f"Output node {outputs[0]!r} declares {int(np.prod(out_shape))} values but the last "
                                  f"layer has {layers[-1].n_out}")
    gmeta = getattr(graph, "metadata", None)
    gmeta = gmeta.get(META_KEY, {}) if isinstance(gmeta, dict) else {}
    name = _scalarish(gmeta.get("name", Path(path).stem)) if isinstance(gmeta, dict) else Path(path).stem
    meta = {"source": str(path), "assumptions": assumptions}
    binning = gmeta.get("binning") if isinstance(gmeta, dict) else None
    if isinstance(binning, dict):  # checked where it is used (spikebench.models)
        meta["binning"] = {str(k): _scalarish(v) for k, v in binning.items()}
    return Network(layers=tuple(layers), name=str(name), metadata=meta)


def _read_layer(nir, node, name, pend, loop, weights, shape, reset_override, assumptions) -> Layer:
    t = type(node).__name__
    label = f"{t} node {name!r}"
    meta = getattr(node, "metadata", None)
    meta = meta.get(META_KEY) if isinstance(meta, dict) else None
    meta = {str(k): _scalarish(v) for k, v in meta.items()} if isinstance(meta, dict) else {}
    if meta:
        fmt = meta.get("format", FORMAT_VERSION)
        if not isinstance(fmt, (int, np.integer)) or int(fmt) > FORMAT_VERSION:
            raise FileFormatError(f"{label}: spikebench metadata format {fmt!r} is newer than this version reads "
                                  f"({FORMAT_VERSION}); upgrade spikebench")
        delay = meta.get("reset_delay", True)
        if not (delay is True or (isinstance(delay, int) and delay == 1)):
            raise InvalidNetworkError(f"{label}: reset_delay={meta.get('reset_delay')!r} is not supported; "
                                      "spikebench follows snnTorch's default delayed reset")
    if t != "IF":
        v_leak = np.asarray(node.v_leak, dtype=np.float64)
        if np.any(v_leak != 0):
            raise InvalidNetworkError(f"{label} has a non-zero v_leak; spikebench's neurons leak to 0")
    v_reset = getattr(node, "v_reset", None)
    v_reset = np.asarray(v_reset if v_reset is not None else 0.0, dtype=np.float64)
    if np.any(v_reset != 0):
        raise InvalidNetworkError(f"{label} has a non-zero v_reset; only reset to 0 or by subtraction is supported")
    n = int(np.prod(shape)) if shape is not None else None
    alpha = None
    w, b = pend["weight"], pend["bias"]
    if meta.get("bias", 1) == 0:
        b = None
    rec = rbias = None
    if loop is not None:
        rec, rbias = weights(loop)
    if t == "LIF":
        if "beta" in meta:
            beta = _lif_param(meta["beta"], "metadata beta", name)
        else:
            beta, exact = _beta_from_tau_r(node.tau, node.r, name)
            assumptions.append(f"{name}: beta = 1 - 1/r (snnTorch export convention r = tau/dt)"
                               + ("; float32 beta matched exactly to snnTorch's exporter" if exact else ""))
    elif t == "CubaLIF":
        if "beta" in meta:
            beta = _lif_param(meta["beta"], "metadata beta", name)
        else:
            beta, exact_b = _beta_from_tau_r(node.tau_mem, node.r, name, ("tau_mem", "r"), "CubaLIF")
        if "alpha" in meta:
            alpha = _lif_param(meta["alpha"], "metadata alpha", name)
        else:
            alpha, exact_a = _beta_from_tau_r(node.tau_syn, node.w_in, name, ("tau_syn", "w_in"), "CubaLIF")
            with np.errstate(divide="ignore", invalid="ignore"):
                dt_syn = np.asarray(node.tau_syn, np.float64) / np.asarray(node.w_in, np.float64)
                dt_mem = np.asarray(node.tau_mem, np.float64) / np.asarray(node.r, np.float64)
                dt_syn, dt_mem = np.broadcast_arrays(dt_syn, dt_mem)
            ok = np.isfinite(dt_syn) & np.isfinite(dt_mem)
            if not np.allclose(dt_syn[ok], dt_mem[ok], rtol=1e-5, atol=0):
                raise InvalidNetworkError(
                    f"{label}: tau_syn/w_in differs from tau_mem/r (up to {np.max(np.abs(dt_syn[ok] / dt_mem[ok] - 1)):.3g} "
                    "relative): its synaptic input gain is not 1, which spikebench cannot represent; write w_in = "
                    "tau_syn/dt and r = tau_mem/dt (snnTorch's convention) or scale the incoming weights instead")
            if "beta" not in meta:
                assumptions.append(f"{name}: beta = 1 - 1/r, alpha = 1 - 1/w_in (snnTorch export convention r = "
                                   "tau_mem/dt, w_in = tau_syn/dt)"
                                   + ("; float32 values matched exactly to snnTorch's exporter" if exact_a and exact_b
                                      else ""))
    else:  # IF: no leak; r is an input gain
        beta = np.float32(1.0) if "beta" not in meta else _lif_param(meta["beta"], "metadata beta", name)
        r = np.asarray(node.r, dtype=np.float64).reshape(-1)
        if r.size == 0 or not np.all(np.isfinite(r)) or np.any(r <= 0):
            raise InvalidNetworkError(f"{label}: r must be finite and > 0 (an input gain), got {r.min()}..{r.max()}")
        if np.any(r != 1):
            w, b, rec, rbias, exact = _fold_gain(r, w, b, rec, rbias, pend, n, label)
            assumptions.append(f"{name}: IF input gain r folded into the incoming weights and biases (v += r*I)"
                               + ("" if exact else "; the products were rounded to float32"))
    stored = meta.get("reset")
    default = "zero" if t == "IF" else "subtract"
    if reset_override is not None:
        layer_reset = reset_override
        if stored is None:
            assumptions.append(f"{name}: reset mode not in file; caller chose {reset_override!r} with one-step delay")
        elif stored != reset_override:
            assumptions.append(f"{name}: file says reset {stored!r}; caller overrode it with {reset_override!r}")
    elif stored is None:
        layer_reset = default
        if t == "IF":
            assumptions.append(f"{name}: IF resets to v_reset = 0 (NIR); read as 'zero' reset with one-step delay, "
                               "which gives the same spikes")
        else:
            assumptions.append(f"{name}: reset mode not in file; assumed 'subtract' with one-step delay (snnTorch default)")
    else:
        layer_reset = stored
    bits = meta.get("weight_bits", -1)
    lname = meta.get("name", name)
    thr = _lif_param(node.v_threshold, "v_threshold", name)
    if n is not None:
        for what, arr in (("v_threshold", thr), ("beta", beta), ("alpha", alpha)):
            if arr is not None and np.size(arr) not in (1, n):
                raise InvalidNetworkError(f"{label}: {what} has {np.size(arr)} values but the node receives {n} "
                                          f"(shape {tuple(shape)})")
    try:
        return Layer(
            weight=w, bias=b, recurrent_weight=rec, recurrent_bias=rbias, beta=beta, alpha=alpha, threshold=thr,
            reset=layer_reset, weight_bits=None if bits is None or int(bits) < 0 else int(bits),
            in_shape=pend.get("in_shape"), pool_in=pend.get("pool_in"), pool=pend.get("pool"),
            **pend.get("geometry", {}),
            name=str(lname) if lname is not None and str(lname) else name,
        )
    except InvalidNetworkError as exc:
        chain = " -> ".join(repr(x) for x in pend["names"])
        raise InvalidNetworkError(f"nodes {chain}: {exc}") from None


def _fold_gain(r, w, b, rec, rbias, pend, n, label):
    """Scale a layer's incoming weights and biases by the IF node's per-neuron gain ``r``."""
    w = np.asarray(w, np.float64)
    if w.ndim == 4:  # a conv layer: one gain per output channel
        c = w.shape[0]
        per = r if r.size == 1 else r.reshape(c, -1)
        if r.size != 1 and not np.all(per == per[:, :1]):
            raise InvalidNetworkError(f"{label}: r varies within an output channel of a conv layer; it can only be "
                                      "folded into the kernel per channel")
        g = np.full(c, float(r[0])) if r.size == 1 else per[:, 0]
        w2 = w * g[:, None, None, None]
    else:
        g = np.full(w.shape[0], float(r[0])) if r.size == 1 else r
        if g.size != w.shape[0]:
            raise InvalidNetworkError(f"{label}: r has {r.size} values for {w.shape[0]} neurons")
        w2 = w * g[:, None]
    b2 = None if b is None else np.asarray(b, np.float64) * g
    gr = None
    if rec is not None:
        gr = np.full(rec.shape[0], float(r[0])) if r.size == 1 else r
        rec = np.asarray(rec, np.float64) * gr[:, None]
        rbias = None if rbias is None else np.asarray(rbias, np.float64) * gr
    arrays = [a for a in (w2, b2, rec, rbias) if a is not None]
    exact = all(np.array_equal(a.astype(np.float32).astype(np.float64), a) for a in arrays)
    return w2, b2, rec, rbias, exact
