"""Exchange networks with snnTorch and NIR.

Imported lazily by :class:`~spikebench.core.network.Network` so that torch, snnTorch and nir load
only when used. NIR's LIF has no subtract reset and no reset delay, so spikebench writes its own
dynamics (exact float32 ``beta``, reset mode, reset delay, weight bits, layer name) into each LIF
node's ``metadata["spikebench"]`` and restores them on import. A foreign file without that
metadata is read with snnTorch's export conventions (``r = tau/dt``, so ``beta = 1 - 1/r``) and
the reset mode given by the caller, defaulting to snnTorch's subtract-with-delay; the assumption
is recorded in ``network.metadata["assumptions"]``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import BackendUnavailableError, FileFormatError, InvalidNetworkError
from .network import RESET_MODES, Layer, Network

NIR_DT = 1e-4  # snnTorch's exporter's dt; it only sets the nominal tau written to the file
META_KEY = "spikebench"
FORMAT_VERSION = 1


def _import(name: str, extra: str):
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise BackendUnavailableError(f"{name} is not installed ({exc}); install it with: pip install {extra}") from None


# ---- snnTorch ---------------------------------------------------------------------------------------

def network_to_snntorch(network: Network, device=None):
    """``nn.Sequential`` of Linear -> Leaky / RLeaky with ``init_hidden=False`` (state passed explicitly)."""
    torch = _import("torch", "torch")
    snn = _import("snntorch", "snntorch")
    nn = torch.nn
    mods = []
    for layer in network.layers:
        lin = nn.Linear(layer.n_in, layer.n_out, bias=layer.bias is not None)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.array(layer.weight)))
            if layer.bias is not None:
                lin.bias.copy_(torch.from_numpy(np.array(layer.bias)))
        beta = torch.from_numpy(np.array(layer.beta))
        thr = torch.from_numpy(np.array(layer.threshold))
        if layer.recurrent:
            neuron = snn.RLeaky(beta=beta, threshold=thr, reset_mechanism=layer.reset, all_to_all=True,
                                linear_features=layer.n_out, init_hidden=False)
            with torch.no_grad():
                neuron.recurrent.weight.copy_(torch.from_numpy(np.array(layer.recurrent_weight)))
                rb = layer.recurrent_bias if layer.recurrent_bias is not None else np.zeros(layer.n_out, np.float32)
                neuron.recurrent.bias.copy_(torch.from_numpy(np.array(rb)))
        else:
            neuron = snn.Leaky(beta=beta, threshold=thr, reset_mechanism=layer.reset, init_hidden=False)
        mods += [lin, neuron]
    model = nn.Sequential(*mods).eval()
    if device is not None:
        model = model.to(device)
    return model


def _tensor_vector(value, n: int, what: str, where: str) -> np.ndarray:
    arr = np.asarray(value.detach().cpu().numpy() if hasattr(value, "detach") else value, dtype=np.float32)
    if arr.size == 1:
        return np.full(n, arr.reshape(()), np.float32)
    if arr.shape != (n,):
        raise InvalidNetworkError(f"{where}: {what} has shape {arr.shape}; expected a scalar or ({n},)")
    return arr


def network_from_snntorch(module) -> Network:
    """Read an ``nn.Sequential`` of (``nn.Linear``, ``snn.Leaky`` | ``snn.RLeaky``) pairs."""
    torch = _import("torch", "torch")
    snn = _import("snntorch", "snntorch")
    nn = torch.nn
    if not isinstance(module, nn.Sequential):
        raise InvalidNetworkError(f"from_snntorch expects an nn.Sequential of Linear / Leaky / RLeaky, got {type(module).__name__}")
    children = list(module.named_children())
    if not children or len(children) % 2:
        raise InvalidNetworkError(
            f"from_snntorch expects pairs of (nn.Linear, snn.Leaky | snn.RLeaky); got {len(children)} modules: "
            + ", ".join(type(m).__name__ for _, m in children)
        )
    layers = []
    for k in range(0, len(children), 2):
        (lname, lin), (nname, neuron) = children[k], children[k + 1]
        where = f"module {nname!r}"
        if not isinstance(lin, nn.Linear):
            raise InvalidNetworkError(f"module {lname!r} is a {type(lin).__name__}; expected nn.Linear")
        if type(neuron) not in (snn.Leaky, snn.RLeaky):
            raise InvalidNetworkError(f"{where} is a {type(neuron).__name__}; supported neurons: snn.Leaky, snn.RLeaky")
        reset = getattr(neuron, "reset_mechanism", "subtract")
        if reset not in RESET_MODES:
            raise InvalidNetworkError(f"{where}: reset_mechanism {reset!r} is not supported; use 'subtract' or 'zero'")
        if not getattr(neuron, "reset_delay", True):
            raise InvalidNetworkError(f"{where}: reset_delay=False is not supported; spikebench follows snnTorch's default delayed reset")
        if getattr(neuron, "state_quant", False) or getattr(neuron, "inhibition", False):
            raise InvalidNetworkError(f"{where}: state_quant and inhibition are not supported")
        if float(getattr(neuron, "graded_spikes_factor", 1.0)) != 1.0:
            raise InvalidNetworkError(f"{where}: graded spikes are not supported (graded_spikes_factor must be 1)")
        n_out = lin.out_features
        beta = np.clip(_tensor_vector(neuron.beta, n_out, "beta", where), 0.0, 1.0)  # snnTorch clamps at run time
        thr = _tensor_vector(neuron.threshold, n_out, "threshold", where)
        w = lin.weight.detach().cpu().numpy()
        b = lin.bias.detach().cpu().numpy() if lin.bias is not None else None
        rec = rbias = None
        if isinstance(neuron, snn.RLeaky):
            r = getattr(neuron, "recurrent", None)
            if not isinstance(r, nn.Linear):
                raise InvalidNetworkError(f"{where}: only all-to-all RLeaky (linear_features=...) is supported")
            rec = r.weight.detach().cpu().numpy()
            rbias = r.bias.detach().cpu().numpy() if r.bias is not None else None
        layers.append(Layer(weight=w, recurrent_weight=rec, bias=b, recurrent_bias=rbias, beta=beta, threshold=thr,
                            reset=reset, name=f"{'rlif' if rec is not None else 'lif'}{k // 2 + 1}"))
    return Network(layers=tuple(layers), name="snntorch")


# ---- NIR --------------------------------------------------------------------------------------------

def network_to_nir(network: Network, path) -> None:
    nir = _import("nir", "nir")
    nodes = {"input": nir.Input(input_type={"input": np.array([network.n_in])})}
    edges = []
    prev = "input"
    for i, layer in enumerate(network.layers, start=1):
        fc, lif = f"fc{i}", f"lif{i}"
        w = np.array(layer.weight, dtype=np.float32)
        nodes[fc] = nir.Affine(weight=w, bias=np.array(layer.bias)) if layer.bias is not None else nir.Linear(weight=w)
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
            nodes[rec] = (nir.Affine(weight=rw, bias=np.array(layer.recurrent_bias)) if layer.recurrent_bias is not None
                          else nir.Linear(weight=rw))
            edges += [(lif, rec), (rec, lif)]
        prev = lif
    nodes["output"] = nir.Output(output_type={"output": np.array([network.n_out])})
    edges.append((prev, "output"))
    graph = nir.NIRGraph(nodes=nodes, edges=edges, metadata={META_KEY: {"format": FORMAT_VERSION, "name": network.name}})
    path = Path(path)
    if not path.parent.is_dir():
        raise FileFormatError(f"{path}: folder {path.parent} does not exist")
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        nir.write(str(tmp), graph)
        tmp.replace(path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _scalarish(value) -> object:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return value.item()
    if isinstance(value, np.generic):
        return value.item()
    return value


def network_from_nir(path, *, reset: str | None = None) -> Network:
    """Read a NIR file of Input -> (Affine|Linear -> LIF [<-> Affine|Linear])* -> Output."""
    nir = _import("nir", "nir")
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"{path}: no such NIR file")
    try:
        graph = nir.read(str(path))
    except Exception as exc:  # h5py/nir raise many types on corrupt input; all mean "not a NIR graph"
        raise FileFormatError(f"{path}: not a readable NIR graph ({type(exc).__name__}: {exc})") from None
    try:
        return _graph_to_network(nir, graph, path, reset)
    except (InvalidNetworkError, FileFormatError) as exc:
        raise type(exc)(f"{path}: {exc}") from None


def _graph_to_network(nir, graph, path, reset_override):
    nodes, edges = graph.nodes, list(graph.edges)
    succ: dict[str, list[str]] = {k: [] for k in nodes}
    for a, b in edges:
        if a not in nodes or b not in nodes:
            raise FileFormatError(f"edge ({a!r}, {b!r}) names a node that does not exist")
        succ[a].append(b)
    for name, node in nodes.items():
        if isinstance(node, nir.NIRGraph):
            raise FileFormatError(f"node {name!r} is a nested subgraph; flatten the graph before importing")
    inputs = [k for k, v in nodes.items() if isinstance(v, nir.Input)]
    if len(inputs) != 1:
        raise FileFormatError(f"expected exactly one Input node, found {len(inputs)}")
    assumptions = []
    layers = []
    cur = inputs[0]
    seen = set()

    def weight_node(name):
        node = nodes[name]
        if isinstance(node, nir.Affine):
            return np.asarray(node.weight), np.asarray(node.bias)
        if isinstance(node, nir.Linear):
            return np.asarray(node.weight), None
        raise FileFormatError(
            f"node {name!r} is a {type(node).__name__}; spikebench reads chains of Affine/Linear -> LIF "
            "(with optional recurrent Affine/Linear loops)"
        )

    while True:
        nxt = succ[cur]
        if len(nxt) != 1 and not isinstance(nodes[cur], nir.LIF):
            raise FileFormatError(f"node {cur!r} has {len(nxt)} successors; only chains are supported")
        forward = [n for n in nxt if not (isinstance(nodes[cur], nir.LIF) and succ.get(n) == [cur])]
        if len(forward) != 1:
            raise FileFormatError(f"node {cur!r} must lead to exactly one next node, found {forward}")
        fc = forward[0]
        if isinstance(nodes[fc], nir.Output):
            break
        if fc in seen:
            raise FileFormatError(f"node {fc!r} is reached twice; cycles other than recurrent loops are not supported")
        seen.add(fc)
        w, b = weight_node(fc)
        if len(succ[fc]) != 1 or not isinstance(nodes[succ[fc][0]], nir.LIF):
            raise FileFormatError(f"node {fc!r} must feed exactly one LIF node")
        lif_name = succ[fc][0]
        lif = nodes[lif_name]
        n_out = w.shape[0] if w.ndim == 2 else -1
        rec_names = [n for n in succ[lif_name] if succ.get(n) == [lif_name]]
        rec = rbias = None
        if len(rec_names) > 1:
            raise FileFormatError(f"LIF node {lif_name!r} has {len(rec_names)} recurrent loops; at most one is supported")
        if rec_names:
            rec, rbias = weight_node(rec_names[0])
            seen.add(rec_names[0])
        meta = dict(getattr(lif, "metadata", {}) or {}).get(META_KEY, {})
        meta = {k: _scalarish(v) for k, v in dict(meta).items()} if isinstance(meta, dict) else {}
        v_leak = np.asarray(lif.v_leak, dtype=np.float64)
        if np.any(v_leak != 0):
            raise InvalidNetworkError(f"LIF node {lif_name!r} has a non-zero v_leak; spikebench's LIF leaks to 0")
        v_reset = np.asarray(lif.v_reset if lif.v_reset is not None else 0.0, dtype=np.float64)
        if np.any(v_reset != 0):
            raise InvalidNetworkError(f"LIF node {lif_name!r} has a non-zero v_reset; only reset to 0 or by subtraction is supported")
        if "beta" in meta:
            beta = np.asarray(meta["beta"], dtype=np.float32)
        else:
            r = np.asarray(lif.r, dtype=np.float64)
            if np.any(r < 1):
                raise InvalidNetworkError(f"LIF node {lif_name!r}: r < 1 cannot come from a discrete-time LIF (beta = 1 - 1/r)")
            beta = (1.0 - 1.0 / r).astype(np.float32)
            assumptions.append(f"{lif_name}: beta = 1 - 1/r (snnTorch export convention r = tau/dt)")
        layer_reset = reset_override or meta.get("reset")
        if layer_reset is None:
            layer_reset = "subtract"
            assumptions.append(f"{lif_name}: reset mode not in file; assumed 'subtract' with one-step delay (snnTorch default)")
        bits = meta.get("weight_bits", -1)
        layers.append(Layer(
            weight=w, bias=b, recurrent_weight=rec, recurrent_bias=rbias, beta=beta,
            threshold=np.asarray(lif.v_threshold, dtype=np.float32).reshape(-1) if np.size(lif.v_threshold) > 1
            else float(np.asarray(lif.v_threshold).reshape(-1)[0]) if n_out > 0 else 1.0,
            reset=layer_reset, weight_bits=None if bits is None or int(bits) < 0 else int(bits),
            name=str(meta.get("name", lif_name)),
        ))
        cur = lif_name
    if not layers:
        raise FileFormatError("the graph has no Affine/Linear -> LIF layer between Input and Output")
    gmeta = dict(getattr(graph, "metadata", {}) or {}).get(META_KEY, {})
    name = _scalarish(gmeta.get("name", Path(path).stem)) if isinstance(gmeta, dict) else Path(path).stem
    return Network(layers=tuple(layers), name=str(name), metadata={"source": str(path), "assumptions": assumptions})
