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
from .nir_neurons import FORMAT_VERSION, META_KEY, NIR_DT, _read_layer, _scalarish  # noqa: F401 - NIR_DT re-exported

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
    if network.integer:
        raise InvalidNetworkError(f"network {network.name!r} is deployed in a chip's integer arithmetic; snnTorch and NIR "
                                  "hold float networks: export the float network it was deployed from")
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
