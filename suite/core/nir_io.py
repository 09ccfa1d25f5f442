"""Exchange networks with NIR (the Neuromorphic Intermediate Representation, HDF5 files).

Imported lazily by :class:`~spikebench.core.network.Network` so that nir loads only when used. NIR's LIF has no subtract reset and no reset delay, so spikebench writes its own
dynamics (exact float32 ``beta``, reset mode, reset delay, weight bits, layer name) into each LIF
node's ``metadata["spikebench"]`` and restores them on import; weights, biases and thresholds are
stored as float32 arrays, so a spikebench -> NIR -> spikebench round trip is bit-exact.

A foreign file without that metadata is read with snnTorch's export conventions (``r = tau/dt``, so
``beta = 1 - 1/r``; where ``tau`` and ``r`` are float32 as snnTorch writes them, the float32 ``beta``
that snnTorch's exporter maps to exactly that ``tau`` and ``r`` is chosen, preferring the roundest
decimal or binary value) and the reset mode given by the caller, defaulting to snnTorch's
subtract-with-delay; each assumption is recorded in ``network.metadata["assumptions"]``. A caller's
``reset`` also overrides the mode stored by spikebench (recorded there too). snnTorch's exporter
writes an ``RLeaky`` as a LIF node with a recurrent Affine loop, which is read as a recurrent layer.

Every problem with a file or module raises a :class:`~spikebench.core.errors.SpikebenchError`
subclass (``FileFormatError`` for unreadable or unsupported graphs, ``InvalidNetworkError`` for
dynamics or parameters spikebench cannot represent), never a raw h5py/nir/torch exception.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import FileFormatError, InvalidNetworkError, SpikebenchError, UnknownNameError, optional_import
from .network import RESET_MODES, Layer, Network

NIR_DT = 1e-4  # snnTorch's exporter's dt; it only sets the nominal tau written to the file
META_KEY = "spikebench"
FORMAT_VERSION = 1


def network_to_nir(network: Network, path) -> None:
    """Write ``network`` to ``path`` as a NIR HDF5 graph Input -> (Affine|Linear -> LIF [<-> Affine|Linear])* -> Output.

    The file is written to a temporary name beside ``path`` and moved into place, so a failed write
    never leaves a half-written file at ``path``.
    """
    nir = optional_import("nir", "nir")
    nodes = {"input": nir.Input(input_type={"input": np.array([network.n_in])})}
    edges = []
    prev = "input"
    for i, layer in enumerate(network.layers, start=1):
        fc, lif = f"fc{i}", f"lif{i}"
        w = np.array(layer.weight, dtype=np.float32)
        nodes[fc] = (nir.Affine(weight=w, bias=np.array(layer.bias, dtype=np.float32)) if layer.bias is not None
                     else nir.Linear(weight=w))
        beta = np.array(layer.beta, dtype=np.float32)
        with np.errstate(divide="ignore"):
            tau = np.where(beta < 1, NIR_DT / (1.0 - beta.astype(np.float64)), np.inf)
        meta = {META_KEY: {
            "format": FORMAT_VERSION, "beta": beta, "reset": layer.reset, "reset_delay": True,
            "weight_bits": -1 if layer.weight_bits is None else layer.weight_bits, "name": layer.name, "dt": NIR_DT,
        }}
        nodes[lif] = nir.LIF(tau=tau, r=tau / NIR_DT, v_leak=np.zeros(layer.n_out), v_reset=np.zeros(layer.n_out),
                             v_threshold=np.array(layer.threshold, dtype=np.float32), metadata=meta)
        edges += [(prev, fc), (fc, lif)]
        if layer.recurrent:
            rec = f"rec{i}"
            rw = np.array(layer.recurrent_weight, dtype=np.float32)
            nodes[rec] = (nir.Affine(weight=rw, bias=np.array(layer.recurrent_bias, dtype=np.float32))
                          if layer.recurrent_bias is not None else nir.Linear(weight=rw))
            edges += [(lif, rec), (rec, lif)]
        prev = lif
    nodes["output"] = nir.Output(output_type={"output": np.array([network.n_out])})
    edges.append((prev, "output"))
    graph = nir.NIRGraph(nodes=nodes, edges=edges, metadata={META_KEY: {"format": FORMAT_VERSION, "name": network.name}})
    path = Path(path)
    if not path.parent.is_dir():
        raise FileFormatError(f"{path}: folder {path.parent} does not exist")
    if path.is_dir():
        raise FileFormatError(f"{path}: is a folder; give a file name such as {path / 'network.nir'}")
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        nir.write(str(tmp), graph)
        tmp.replace(path)
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot write the NIR file ({type(exc).__name__}: {exc})") from None
    finally:
        if tmp.exists():
            tmp.unlink()


def _scalarish(value) -> object:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _scalarish(value.item())
    if isinstance(value, np.generic):
        return _scalarish(value.item())
    return value


def network_from_nir(path, *, reset: str | None = None) -> Network:
    """Read a NIR file of Input -> (Affine|Linear -> LIF [<-> Affine|Linear])* -> Output.

    Args:
        path: the ``.nir`` (HDF5) file.
        reset: ``"subtract"`` or ``"zero"`` to force every layer's reset mode (recorded in
            ``metadata["assumptions"]``); ``None`` uses the mode spikebench stored in the file, or
            snnTorch's ``"subtract"`` for foreign files.

    Raises:
        FileFormatError: missing, corrupt or non-NIR file, or a graph that is not such a chain.
        InvalidNetworkError: LIF dynamics or parameters spikebench cannot represent.
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
        raise FileFormatError(f"{path}: not a readable NIR graph ({type(exc).__name__}: {exc})") from None
    if not isinstance(graph, nir.NIRGraph):
        raise FileFormatError(f"{path}: the file holds a single {type(graph).__name__} node, not a NIR graph")
    try:
        return _graph_to_network(nir, graph, path, reset)
    except SpikebenchError as exc:
        raise type(exc)(f"{path}: {exc}") from None
    except Exception as exc:  # malformed fields (wrong types, shapes, metadata) in an otherwise readable file
        raise FileFormatError(f"{path}: malformed NIR graph ({type(exc).__name__}: {exc})") from None


def _io_size(node, attr: str) -> int | None:
    types = getattr(node, attr, None)
    if not isinstance(types, dict) or len(types) != 1:
        return None
    shape = next(iter(types.values()))
    if shape is None:
        return None
    return int(np.prod(np.asarray(shape, dtype=np.int64)))


def _lif_param(value, what: str, lif_name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float32)
    if arr.size == 0:
        raise InvalidNetworkError(f"LIF node {lif_name!r}: {what} is empty")
    if arr.size == 1:
        return arr.reshape(())
    return np.squeeze(arr) if arr.ndim > 1 else arr  # (1, n) from exporters that keep a batch axis


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


def _beta_from_tau_r(tau, r, lif_name: str) -> tuple[np.ndarray, bool]:
    """``beta = 1 - 1/r``; float32 ``(tau, r)`` from snnTorch's exporter are inverted exactly.

    Returns the float32 beta and whether every value was matched exactly against the exporter.
    """
    r64 = np.asarray(r, dtype=np.float64)
    if r64.size == 0 or not np.all(r64 >= 1):  # also catches NaN
        raise InvalidNetworkError(f"LIF node {lif_name!r}: r < 1 (or NaN) cannot come from a discrete-time LIF (beta = 1 - 1/r)")
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
    for name, node in nodes.items():
        if isinstance(node, nir.NIRGraph):
            raise FileFormatError(f"node {name!r} is a nested subgraph; flatten the graph before importing")
    inputs = [k for k, v in nodes.items() if isinstance(v, nir.Input)]
    if len(inputs) != 1:
        raise FileFormatError(f"expected exactly one Input node, found {len(inputs)}: {inputs}")
    outputs = [k for k, v in nodes.items() if isinstance(v, nir.Output)]
    if len(outputs) != 1:
        raise FileFormatError(f"expected exactly one Output node, found {len(outputs)}: {outputs}")
    assumptions = []
    layers = []
    cur = inputs[0]
    seen = {cur}

    def weight_node(name):
        node = nodes[name]
        if isinstance(node, nir.Affine):
            return np.asarray(node.weight), np.asarray(node.bias)
        if isinstance(node, nir.Linear):
            return np.asarray(node.weight), None
        raise FileFormatError(
            f"node {name!r} is a {type(node).__name__}, which spikebench cannot import; it reads chains of "
            "Affine/Linear -> LIF (with optional recurrent Affine/Linear loops)"
        )

    while True:
        nxt = succ[cur]
        if len(nxt) != 1 and not isinstance(nodes[cur], nir.LIF):
            raise FileFormatError(f"node {cur!r} has {len(nxt)} successors; only chains are supported")
        forward = [n for n in nxt if not (isinstance(nodes[cur], nir.LIF) and succ.get(n) == [cur])]
        if len(forward) != 1:
            raise FileFormatError(f"node {cur!r} must lead to exactly one next node, found {forward}")
        fc = forward[0]
        if fc in seen:
            raise FileFormatError(f"node {fc!r} is reached twice; cycles other than recurrent loops are not supported")
        if len(pred[fc]) != 1:
            raise FileFormatError(f"node {fc!r} has {len(pred[fc])} inputs; only chains are supported")
        seen.add(fc)
        if isinstance(nodes[fc], nir.Output):
            break
        w, b = weight_node(fc)
        if len(succ[fc]) != 1 or not isinstance(nodes[succ[fc][0]], nir.LIF):
            found = ", ".join(f"{n!r} ({type(nodes[n]).__name__})" for n in succ[fc]) or "nothing"
            raise FileFormatError(f"node {fc!r} must feed exactly one LIF node, found {found}")
        lif_name = succ[fc][0]
        if lif_name in seen:
            raise FileFormatError(f"node {lif_name!r} is reached twice; cycles other than recurrent loops are not supported")
        seen.add(lif_name)
        lif = nodes[lif_name]
        rec_names = [n for n in succ[lif_name] if succ.get(n) == [lif_name]]
        rec = rbias = None
        if len(rec_names) > 1:
            raise FileFormatError(f"LIF node {lif_name!r} has {len(rec_names)} recurrent loops; at most one is supported")
        if rec_names:
            if rec_names[0] in seen or len(pred[rec_names[0]]) != 1:
                raise FileFormatError(f"node {rec_names[0]!r} is both in the chain and a recurrent loop of {lif_name!r}")
            rec, rbias = weight_node(rec_names[0])
            seen.add(rec_names[0])
        if sorted(pred[lif_name]) != sorted([fc] + rec_names):
            raise FileFormatError(f"LIF node {lif_name!r} has inputs {pred[lif_name]}; expected {[fc] + rec_names}")
        meta = getattr(lif, "metadata", None)
        meta = meta.get(META_KEY) if isinstance(meta, dict) else None
        meta = {str(k): _scalarish(v) for k, v in meta.items()} if isinstance(meta, dict) else {}
        if meta:
            fmt = meta.get("format", FORMAT_VERSION)
            if not isinstance(fmt, (int, np.integer)) or int(fmt) > FORMAT_VERSION:
                raise FileFormatError(
                    f"LIF node {lif_name!r}: spikebench metadata format {fmt!r} is newer than this version reads "
                    f"({FORMAT_VERSION}); upgrade spikebench"
                )
            delay = meta.get("reset_delay", True)
            if not (delay is True or (isinstance(delay, int) and delay == 1)):
                raise InvalidNetworkError(f"LIF node {lif_name!r}: reset_delay={meta.get('reset_delay')!r} is not supported; "
                                          "spikebench follows snnTorch's default delayed reset")
        v_leak = np.asarray(lif.v_leak, dtype=np.float64)
        if np.any(v_leak != 0):
            raise InvalidNetworkError(f"LIF node {lif_name!r} has a non-zero v_leak; spikebench's LIF leaks to 0")
        v_reset = getattr(lif, "v_reset", None)
        v_reset = np.asarray(v_reset if v_reset is not None else 0.0, dtype=np.float64)
        if np.any(v_reset != 0):
            raise InvalidNetworkError(f"LIF node {lif_name!r} has a non-zero v_reset; only reset to 0 or by subtraction is supported")
        if "beta" in meta:
            beta = _lif_param(meta["beta"], "metadata beta", lif_name)
        else:
            beta, exact = _beta_from_tau_r(lif.tau, lif.r, lif_name)
            assumptions.append(
                f"{lif_name}: beta = 1 - 1/r (snnTorch export convention r = tau/dt)"
                + ("; float32 beta matched exactly to snnTorch's exporter" if exact else "")
            )
        stored = meta.get("reset")
        if reset_override is not None:
            layer_reset = reset_override
            if stored is None:
                assumptions.append(f"{lif_name}: reset mode not in file; caller chose {reset_override!r} with one-step delay")
            elif stored != reset_override:
                assumptions.append(f"{lif_name}: file says reset {stored!r}; caller overrode it with {reset_override!r}")
        elif stored is None:
            layer_reset = "subtract"
            assumptions.append(f"{lif_name}: reset mode not in file; assumed 'subtract' with one-step delay (snnTorch default)")
        else:
            layer_reset = stored
        bits = meta.get("weight_bits", -1)
        name = meta.get("name", lif_name)
        layers.append(Layer(
            weight=w, bias=b, recurrent_weight=rec, recurrent_bias=rbias, beta=beta,
            threshold=_lif_param(lif.v_threshold, "v_threshold", lif_name),
            reset=layer_reset, weight_bits=None if bits is None or int(bits) < 0 else int(bits),
            name=str(name) if name is not None and str(name) else lif_name,
        ))
        cur = lif_name
    if not layers:
        raise FileFormatError("the graph has no Affine/Linear -> LIF layer between Input and Output")
    unused = sorted(set(nodes) - seen)
    if unused:
        raise FileFormatError(f"nodes {unused} are not on the Input -> Output chain; spikebench would silently drop them")
    n_in = _io_size(nodes[inputs[0]], "input_type")
    if n_in is not None and n_in != layers[0].n_in:
        raise InvalidNetworkError(f"Input node {inputs[0]!r} declares {n_in} values but the first layer takes {layers[0].n_in}")
    n_out = _io_size(nodes[outputs[0]], "output_type")
    if n_out is not None and n_out != layers[-1].n_out:
        raise InvalidNetworkError(f"Output node {outputs[0]!r} declares {n_out} values but the last layer has {layers[-1].n_out}")
    gmeta = getattr(graph, "metadata", None)
    gmeta = gmeta.get(META_KEY, {}) if isinstance(gmeta, dict) else {}
    name = _scalarish(gmeta.get("name", Path(path).stem)) if isinstance(gmeta, dict) else Path(path).stem
    return Network(layers=tuple(layers), name=str(name), metadata={"source": str(path), "assumptions": assumptions})
