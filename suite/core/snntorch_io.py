"""Exchange networks with snnTorch: an ``nn.Sequential`` of torch synapse modules and snnTorch neurons.

What :func:`network_from_snntorch` reads, in order, layer after layer (each layer ends at a neuron):

* synapses: ``nn.Linear`` or ``nn.Conv2d`` (stride, int/tuple padding or ``'valid'``/symmetric
  ``'same'``, dilation, groups, bias; ``padding_mode='zeros'``);
* pooling (``padding=0``, ``ceil_mode=False``): ``nn.AvgPool2d`` (``divisor_override=1`` is sum pooling,
  the sinabs ``SumPool2d``) before the synapses pools the input spikes (``pool_in``); ``nn.AvgPool2d`` or
  ``nn.MaxPool2d`` between an ``nn.Conv2d`` and the neuron pools its currents (``pool``). Max pooling of
  spikes (after a neuron or at the input) is refused: it is not a synaptic operation;
* shape modules: ``nn.Flatten()`` (ignored: spikebench flattens implicitly, in C order like torch),
  ``nn.Unflatten(1, (C, H, W))`` (declares the ``(C, H, W)`` shape of a flat input), ``nn.Identity``;
* neurons: ``snn.Leaky``, ``snn.RLeaky(all_to_all=True, linear_features=n)``, ``snn.Synaptic``,
  ``snn.RSynaptic(all_to_all=True, linear_features=n)`` with scalar, per-neuron (``(n,)`` or
  ``(C, H, W)``) or broadcastable (``(C, 1, 1)``) ``beta``/``alpha``/``threshold``. Biases, including
  the recurrent ``nn.Linear`` bias that ``RLeaky``/``RSynaptic`` have by default, are kept, never dropped.

A convolution's input height and width are not stored in the module: pass ``in_shape=(C, H, W)`` for
a network that starts with ``nn.Conv2d`` or a pooling, or start the ``nn.Sequential`` with
``nn.Unflatten(1, (C, H, W))`` (what :func:`network_to_snntorch` writes).

:func:`network_to_snntorch` writes the same vocabulary back, so a round trip returns every array
bit for bit. Its model takes **flat** input ``(batch, n_in)`` like every spikebench spike train.

Imported lazily by :class:`~spikebench.core.network.Network` so that torch and snnTorch load only
when used. Problems with a module raise :class:`~spikebench.core.errors.InvalidNetworkError` (a
layer spikebench cannot represent) or :class:`~spikebench.core.errors.BackendUnavailableError`
(torch or snnTorch missing).
"""

from __future__ import annotations

import numpy as np

from .connectivity import Pool2d, conv_out_hw
from .errors import InvalidNetworkError, optional_import
from .network import RESET_MODES, Layer, Network

SUPPORTED = ("nn.Linear, nn.Conv2d, nn.AvgPool2d, nn.MaxPool2d (on currents), nn.Flatten, nn.Unflatten, "
             "snn.Leaky, snn.RLeaky, snn.Synaptic, snn.RSynaptic")


# ---- spikebench -> snnTorch --------------------------------------------------------------------------

def _pool_module(nn, pool: Pool2d):
    if pool.kind == "max":
        return nn.MaxPool2d(pool.kernel, pool.stride)
    # sum pooling is an average without the division (F.avg_pool2d(..., divisor_override=1)): exact
    return nn.AvgPool2d(pool.kernel, pool.stride, divisor_override=1 if pool.kind == "sum" else None)


def neuron_classes(snn) -> tuple:
    """The snnTorch neuron classes a spikebench layer maps to (each ends a layer in a Sequential)."""
    return (snn.Leaky, snn.RLeaky, snn.Synaptic, snn.RSynaptic)


def network_to_snntorch(network: Network, device=None):
    """The network as one ``nn.Sequential`` whose neurons run with ``init_hidden=False`` (state passed explicitly).

    Per layer: ``[nn.Unflatten(1, in_shape)]`` (a flat input read as ``(C, H, W)``: the network's
    input, or a dense layer's output), ``[nn.AvgPool2d]`` (``pool_in``; ``divisor_override=1`` for
    sum), ``[nn.Flatten()]``, ``nn.Linear`` | ``nn.Conv2d``, ``[nn.AvgPool2d | nn.MaxPool2d]`` (``pool``),
    then the neuron: ``snn.Leaky``, ``snn.RLeaky`` (recurrent), ``snn.Synaptic`` (``alpha`` set) or
    ``snn.RSynaptic``; a dense layer after a convolution starts with ``nn.Flatten()``. A dense
    network is exactly ``Linear, neuron, Linear, neuron, ...``. Per-neuron parameters of a conv
    layer are shaped ``(C, H, W)`` like the currents they act on.

    A recurrent layer without ``recurrent_bias`` gets a bias-free recurrent ``nn.Linear`` (snnTorch's
    default has a random bias), so converting back gives ``recurrent_bias=None`` again.
    """
    if network.integer:
        raise InvalidNetworkError(f"network {network.name!r} is deployed in a chip's integer arithmetic; snnTorch and NIR "
                                  "hold float networks: export the float network it was deployed from")
    torch = optional_import("torch", "torch")
    snn = optional_import("snntorch", "snntorch")
    nn = torch.nn

    def tensor(arr, shape=None):
        a = np.array(arr, dtype=np.float32)
        return torch.from_numpy(a.reshape(shape) if shape is not None else a)

    mods = []
    prev_shape: tuple[int, ...] = (network.n_in,)
    for layer in network.layers:
        in_shape = tuple(layer.in_shape)
        spatial = layer.conv or layer.pool_in is not None  # needs its input as (C, H, W)
        if spatial and len(prev_shape) != 3:
            mods.append(nn.Unflatten(1, in_shape))
        elif not spatial and len(prev_shape) == 3:
            mods.append(nn.Flatten())
        if layer.pool_in is not None:
            mods.append(_pool_module(nn, layer.pool_in))
        if layer.conv:
            c_out, cg, kh, kw = layer.weight.shape
            syn = nn.Conv2d(cg * layer.groups, c_out, (kh, kw), stride=layer.stride, padding=layer.padding,
                            dilation=layer.dilation, groups=layer.groups, bias=layer.bias is not None)
        else:
            if layer.pool_in is not None:
                mods.append(nn.Flatten())
            syn = nn.Linear(layer.weight.shape[1], layer.n_out, bias=layer.bias is not None)
        with torch.no_grad():
            syn.weight.copy_(tensor(layer.weight))
            if layer.bias is not None:
                syn.bias.copy_(tensor(layer.bias))
        mods.append(syn)
        if layer.pool is not None:
            mods.append(_pool_module(nn, layer.pool))
        shape = tuple(layer.out_shape)
        kw = dict(beta=tensor(layer.beta, shape), threshold=tensor(layer.threshold, shape),
                  reset_mechanism=layer.reset, init_hidden=False)
        if layer.alpha is not None:
            kw["alpha"] = tensor(layer.alpha, shape)
        if layer.recurrent:
            cls = snn.RSynaptic if layer.alpha is not None else snn.RLeaky
            neuron = cls(all_to_all=True, linear_features=layer.n_out, **kw)
            if layer.recurrent_bias is None:
                neuron.recurrent = nn.Linear(layer.n_out, layer.n_out, bias=False)
            with torch.no_grad():
                neuron.recurrent.weight.copy_(tensor(layer.recurrent_weight))
                if layer.recurrent_bias is not None:
                    neuron.recurrent.bias.copy_(tensor(layer.recurrent_bias))
        else:
            neuron = (snn.Synaptic if layer.alpha is not None else snn.Leaky)(**kw)
        mods.append(neuron)
        prev_shape = shape
    model = nn.Sequential(*mods).eval()
    if device is not None:
        model = model.to(device)
    return model


# ---- snnTorch -> spikebench --------------------------------------------------------------------------

def _numpy(value) -> np.ndarray:
    return np.asarray(value.detach().cpu().numpy() if hasattr(value, "detach") else value, dtype=np.float32)


def _neuron_param(value, shape: tuple[int, ...], what: str, where: str) -> np.ndarray:
    """A neuron parameter as a flat float32 vector over the neuron's ``shape`` (broadcast like torch)."""
    arr = _numpy(value)
    n = int(np.prod(shape))
    if arr.size == 1:
        return np.full(n, arr.reshape(()), np.float32)
    try:
        return np.ascontiguousarray(np.broadcast_to(arr, shape)).reshape(n)
    except ValueError:
        raise InvalidNetworkError(f"{where}: {what} has shape {tuple(arr.shape)}, which does not fit its "
                                  f"{shape} input; use a scalar or one value per neuron shaped {shape}") from None


_STATE_FUNCTIONS = {"_base_sub": "subtract", "_base_zero": "zero", "_base_int": "none"}


def _snntorch_reset(neuron, where: str) -> str:
    """The reset mode the neuron really runs: snnTorch picks ``state_function`` once, in ``__init__``,
    so setting ``reset_mechanism`` afterwards changes the attribute but not the dynamics."""
    declared = getattr(neuron, "reset_mechanism", "subtract")
    fn = getattr(getattr(neuron, "state_function", None), "__name__", None)
    running = _STATE_FUNCTIONS.get(fn, declared)
    if running != declared:
        raise InvalidNetworkError(
            f"{where}: reset_mechanism says {declared!r} but the neuron runs {running!r} dynamics "
            "(snnTorch fixes the reset when the neuron is built); rebuild the neuron with the reset you want"
        )
    if running not in RESET_MODES:
        raise InvalidNetworkError(f"{where}: reset_mechanism {running!r} is not supported; use 'subtract' or 'zero'")
    return running


def _pair(value) -> tuple[int, int]:
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    a, b = tuple(value)
    return int(a), int(b)


def _read_pool(nn, mod, where: str) -> Pool2d:
    """A torch pooling module as a :class:`Pool2d` (no padding, floor mode)."""
    if isinstance(mod, nn.MaxPool2d):
        kind = "max"
        if _pair(mod.dilation) != (1, 1) or mod.return_indices:
            raise InvalidNetworkError(f"{where}: dilated max pooling or return_indices=True is not supported")
    else:
        k = _pair(mod.kernel_size)
        d = mod.divisor_override
        if d is None or d == k[0] * k[1]:
            kind = "avg"
        elif d == 1:
            kind = "sum"
        else:
            raise InvalidNetworkError(f"{where}: divisor_override={d} is not supported; use None (average) or 1 (sum)")
    if _pair(mod.padding) != (0, 0) or mod.ceil_mode:
        raise InvalidNetworkError(f"{where}: pooling with padding or ceil_mode=True is not supported; "
                                  "use padding=0 and ceil_mode=False")
    stride = mod.stride
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        stride = mod.kernel_size
    return Pool2d(kind=kind, kernel=_pair(mod.kernel_size), stride=_pair(stride))


def _conv_padding(conv, where: str) -> tuple[int, int]:
    if conv.padding_mode != "zeros":
        raise InvalidNetworkError(f"{where}: padding_mode={conv.padding_mode!r} is not supported; use 'zeros'")
    pad = conv.padding
    if pad == "valid":
        return 0, 0
    if pad == "same":
        out = []
        for k, d in zip(conv.kernel_size, conv.dilation):
            total = d * (k - 1)
            if total % 2:
                raise InvalidNetworkError(f"{where}: padding='same' with kernel {tuple(conv.kernel_size)} and dilation "
                                          f"{tuple(conv.dilation)} pads unevenly; spikebench supports symmetric "
                                          "padding only: use an odd kernel or explicit padding")
            out.append(total // 2)
        return out[0], out[1]
    return _pair(pad)


def _children(module, nn, prefix: str = ""):
    for name, child in module.named_children():
        full = f"{prefix}{name}"
        if isinstance(child, nn.Sequential):
            yield from _children(child, nn, full + ".")
        else:
            yield full, child


def network_from_snntorch(module, *, in_shape=None) -> Network:
    """Read an ``nn.Sequential`` of synapses, pooling, shape modules and snnTorch neurons (module docstring).

    Args:
        module: the ``nn.Sequential`` (nested ``nn.Sequential`` are read in order).
        in_shape: the input's ``(C, H, W)`` when the network starts with ``nn.Conv2d`` or pooling (a
            module does not store its input size); ``None`` otherwise, or when the model starts
            with ``nn.Unflatten(1, (C, H, W))``.

    Raises:
        InvalidNetworkError: a module, order or parameter spikebench cannot represent (one line
            naming the module and what to use instead).
    """
    torch = optional_import("torch", "torch")
    snn = optional_import("snntorch", "snntorch")
    nn = torch.nn
    if not isinstance(module, nn.Sequential):
        raise InvalidNetworkError(f"from_snntorch expects an nn.Sequential of {SUPPORTED}; got {type(module).__name__}")
    neurons = neuron_classes(snn)
    shape: tuple[int, ...] | None = None
    if in_shape is not None:
        try:
            shape = tuple(int(v) for v in np.atleast_1d(np.asarray(in_shape)).tolist())
        except (TypeError, ValueError):
            shape = ()
        if len(shape) not in (1, 3) or min(shape) < 1:
            raise InvalidNetworkError(f"in_shape must be (C, H, W) (or (n,)) of positive sizes, got {in_shape!r}")
    layers: list[Layer] = []
    pend: dict = {}  # the layer being read: in_shape, pool_in, syn, pool (and module names)
    children = list(_children(module, nn))
    if not children:
        raise InvalidNetworkError("from_snntorch got an empty nn.Sequential")

    def need_3d(where: str, what: str):
        if shape is None:
            raise InvalidNetworkError(f"{where} ({what}) needs the input's (C, H, W) shape, which a torch module does "
                                      "not store: pass in_shape=(C, H, W) to from_snntorch, or start the "
                                      "nn.Sequential with nn.Unflatten(1, (C, H, W))")
        if len(shape) != 3:
            raise InvalidNetworkError(f"{where} ({what}) receives a flat input of {shape[0]} values; insert "
                                      "nn.Unflatten(1, (C, H, W)) before it to give it a (C, H, W) shape")

    for name, mod in children:
        where = f"module {name!r}"
        kind = type(mod).__name__
        if isinstance(mod, nn.Identity):
            continue
        if isinstance(mod, nn.Flatten):
            if mod.start_dim != 1 or mod.end_dim != -1:
                raise InvalidNetworkError(f"{where}: nn.Flatten(start_dim={mod.start_dim}, end_dim={mod.end_dim}) is "
                                          "not supported; use nn.Flatten() (keeps the batch axis, flattens the rest)")
            if "syn" in pend and not isinstance(pend["syn"], nn.Conv2d):
                continue
            if shape is not None:
                shape = (int(np.prod(shape)),)
            continue
        if isinstance(mod, nn.Unflatten):
            size = tuple(int(v) for v in mod.unflattened_size)
            if mod.dim != 1 or len(size) != 3:
                raise InvalidNetworkError(f"{where}: only nn.Unflatten(1, (C, H, W)) is supported, got "
                                          f"nn.Unflatten({mod.dim}, {size})")
            if "syn" in pend:
                raise InvalidNetworkError(f"{where}: nn.Unflatten between a synapse module and its neuron is not "
                                          "supported; unflatten spikes (before the synapses) only")
            if shape is not None and int(np.prod(shape)) != int(np.prod(size)):
                raise InvalidNetworkError(f"{where}: unflattens {int(np.prod(shape))} values into {size}")
            shape = size
            continue
        if isinstance(mod, (nn.AvgPool2d, nn.MaxPool2d)):
            if "syn" not in pend:  # pools spikes: pool_in of the next synapses
                if isinstance(mod, nn.MaxPool2d):
                    raise InvalidNetworkError(
                        f"{where} (MaxPool2d) max-pools spikes (it follows a neuron or the input), which is not a "
                        "synaptic operation; move it between the nn.Conv2d and the neuron (pooling currents) or use "
                        "nn.AvgPool2d (divisor_override=1 for sum pooling)")
                if "pool_in" in pend:
                    raise InvalidNetworkError(f"{where}: two poolings of the same spikes; merge them into one")
                need_3d(where, kind)
                pool = _read_pool(nn, mod, where)
                pend["in_shape"] = shape
                pend["pool_in"] = pool
                shape = (shape[0], *pool.out_hw(shape[1], shape[2], where))
                continue
            if not isinstance(pend["syn"], nn.Conv2d):
                raise InvalidNetworkError(f"{where}: {kind} after nn.Linear {pend['syn_name']!r} is not supported; pool "
                                          "currents after an nn.Conv2d, or pool spikes before the synapses")
            if "pool" in pend:
                raise InvalidNetworkError(f"{where}: two poolings of the same currents; merge them into one")
            need_3d(where, kind)
            pool = _read_pool(nn, mod, where)
            pend["pool"] = pool
            shape = (shape[0], *pool.out_hw(shape[1], shape[2], where))
            continue
        if isinstance(mod, (nn.Linear, nn.Conv2d)):
            if "syn" in pend:
                raise InvalidNetworkError(f"{where} ({kind}) follows {pend['syn_name']!r} without a neuron between them; "
                                          "spikebench layers are synapses -> neuron")
            if isinstance(mod, nn.Conv2d):
                need_3d(where, kind)
                if shape[0] != mod.in_channels:
                    raise InvalidNetworkError(f"{where} (Conv2d) takes {mod.in_channels} input channels but its input "
                                              f"is shaped {shape}")
                pad = _conv_padding(mod, where)
                pend.setdefault("in_shape", shape)
                shape = (mod.out_channels, *conv_out_hw(shape[1], shape[2], tuple(mod.kernel_size), tuple(mod.stride),
                                                        pad, tuple(mod.dilation), where))
                pend["geometry"] = dict(stride=tuple(mod.stride), padding=pad, dilation=tuple(mod.dilation),
                                        groups=int(mod.groups))
            else:
                n = mod.in_features if shape is None else int(np.prod(shape))
                if n != mod.in_features:
                    hint = ("; put nn.Flatten() before it (torch applies nn.Linear to the last axis only)"
                            if len(shape) == 3 and shape[-1] == mod.in_features else "")
                    raise InvalidNetworkError(f"{where} (Linear) takes {mod.in_features} inputs but receives {n} values "
                                              f"(shape {shape}){hint}")
                # spikes are flat between layers (C order, like nn.Flatten): a (C, H, W) input of the right size
                # is read flattened
                pend.setdefault("in_shape", (n,))
                shape = (mod.out_features,)
            pend["syn"], pend["syn_name"] = mod, name
            continue
        if isinstance(mod, neurons):
            if "syn" not in pend:
                raise InvalidNetworkError(f"{where} ({kind}) has no nn.Linear or nn.Conv2d before it")
            layers.append(_read_layer(nn, snn, mod, where, pend, shape, len(layers) + 1))
            pend = {}
            continue
        hint = " (a neuron spikebench does not model)" if isinstance(mod, snn.SpikingNeuron) else ""
        raise InvalidNetworkError(f"{where} is a {kind}{hint}, which spikebench cannot represent; expected nn.Linear "
                                  f"or one of {SUPPORTED.split(', ', 1)[1]}")
    if pend:
        last = pend.get("syn_name") or "the last pooling"
        raise InvalidNetworkError(f"module {last!r} is not followed by a neuron (snn.Leaky, snn.RLeaky, snn.Synaptic "
                                  "or snn.RSynaptic); every synapse module must feed one")
    if not layers:
        raise InvalidNetworkError(f"from_snntorch found no layer (synapses -> neuron) in the nn.Sequential; expected {SUPPORTED}")
    return Network(layers=tuple(layers), name="snntorch")


def _read_layer(nn, snn, neuron, where: str, pend: dict, shape: tuple[int, ...], index: int) -> Layer:
    reset = _snntorch_reset(neuron, where)
    if not getattr(neuron, "reset_delay", True):
        raise InvalidNetworkError(f"{where}: reset_delay=False is not supported; spikebench follows snnTorch's default delayed reset")
    if getattr(neuron, "state_quant", False) or getattr(neuron, "inhibition", False):
        raise InvalidNetworkError(f"{where}: state_quant and inhibition are not supported")
    gsf = _numpy(getattr(neuron, "graded_spikes_factor", 1.0))
    if not np.all(gsf == 1.0):
        raise InvalidNetworkError(f"{where}: graded spikes are not supported (graded_spikes_factor must be 1)")
    beta = np.clip(_neuron_param(neuron.beta, shape, "beta", where), 0.0, 1.0)  # snnTorch clamps at run time
    thr = _neuron_param(neuron.threshold, shape, "threshold", where)
    alpha = None
    if isinstance(neuron, (snn.Synaptic, snn.RSynaptic)):
        alpha = np.clip(_neuron_param(neuron.alpha, shape, "alpha", where), 0.0, 1.0)
    syn = pend["syn"]
    w = syn.weight.detach().cpu().numpy()
    b = syn.bias.detach().cpu().numpy() if syn.bias is not None else None
    rec = rbias = None
    if isinstance(neuron, (snn.RLeaky, snn.RSynaptic)):
        r = getattr(neuron, "recurrent", None)
        if not getattr(neuron, "all_to_all", True) or not isinstance(r, nn.Linear):
            raise InvalidNetworkError(
                f"{where}: only all-to-all {type(neuron).__name__} (all_to_all=True, linear_features=...) is "
                f"supported, its recurrent module is a {type(r).__name__}"
            )
        rec = r.weight.detach().cpu().numpy()
        rbias = r.bias.detach().cpu().numpy() if r.bias is not None else None
    conv = isinstance(syn, nn.Conv2d)
    prefix = "conv" if conv else ("rlif" if rec is not None else "lif")
    return Layer(weight=w, recurrent_weight=rec, bias=b, recurrent_bias=rbias, beta=beta, alpha=alpha, threshold=thr,
                 reset=reset, in_shape=pend["in_shape"], pool_in=pend.get("pool_in"), pool=pend.get("pool"),
                 **pend.get("geometry", {}), name=f"{prefix}{index}")


__all__ = ["network_from_snntorch", "network_to_snntorch", "neuron_classes"]
