"""Exchange networks with snnTorch: ``nn.Sequential`` of ``nn.Linear`` followed by ``snn.Leaky`` or
``snn.RLeaky(all_to_all=True, linear_features=n)`` (biases, including the recurrent ``nn.Linear`` bias that
``RLeaky`` has by default, are kept, never dropped).

Imported lazily by :class:`~spikebench.core.network.Network` so that torch and snnTorch load only
when used. Problems with a module raise :class:`~spikebench.core.errors.InvalidNetworkError` (a
layer spikebench cannot represent) or :class:`~spikebench.core.errors.BackendUnavailableError`
(torch or snnTorch missing).
"""

from __future__ import annotations

import numpy as np

from .errors import InvalidNetworkError, optional_import
from .network import RESET_MODES, Layer, Network


def network_to_snntorch(network: Network, device=None):
    """``nn.Sequential`` of Linear -> Leaky / RLeaky with ``init_hidden=False`` (state passed explicitly).

    A recurrent layer without ``recurrent_bias`` gets a bias-free ``RLeaky.recurrent`` (snnTorch's
    default ``nn.Linear`` has a random bias), so converting back gives ``recurrent_bias=None`` again.
    """
    torch = optional_import("torch", "torch")
    snn = optional_import("snntorch", "snntorch")
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
            if layer.recurrent_bias is None:
                neuron.recurrent = nn.Linear(layer.n_out, layer.n_out, bias=False)
            with torch.no_grad():
                neuron.recurrent.weight.copy_(torch.from_numpy(np.array(layer.recurrent_weight)))
                if layer.recurrent_bias is not None:
                    neuron.recurrent.bias.copy_(torch.from_numpy(np.array(layer.recurrent_bias)))
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


def network_from_snntorch(module) -> Network:
    """Read an ``nn.Sequential`` of (``nn.Linear``, ``snn.Leaky`` | ``snn.RLeaky``) pairs."""
    torch = optional_import("torch", "torch")
    snn = optional_import("snntorch", "snntorch")
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
        reset = _snntorch_reset(neuron, where)
        if not getattr(neuron, "reset_delay", True):
            raise InvalidNetworkError(f"{where}: reset_delay=False is not supported; spikebench follows snnTorch's default delayed reset")
        if getattr(neuron, "state_quant", False) or getattr(neuron, "inhibition", False):
            raise InvalidNetworkError(f"{where}: state_quant and inhibition are not supported")
        gsf = getattr(neuron, "graded_spikes_factor", 1.0)
        gsf = np.asarray(gsf.detach().cpu().numpy() if hasattr(gsf, "detach") else gsf, dtype=np.float64)
        if not np.all(gsf == 1.0):
            raise InvalidNetworkError(f"{where}: graded spikes are not supported (graded_spikes_factor must be 1)")
        n_out = lin.out_features
        beta = np.clip(_tensor_vector(neuron.beta, n_out, "beta", where), 0.0, 1.0)  # snnTorch clamps at run time
        thr = _tensor_vector(neuron.threshold, n_out, "threshold", where)
        w = lin.weight.detach().cpu().numpy()
        b = lin.bias.detach().cpu().numpy() if lin.bias is not None else None
        rec = rbias = None
        if isinstance(neuron, snn.RLeaky):
            r = getattr(neuron, "recurrent", None)
            if not getattr(neuron, "all_to_all", True) or not isinstance(r, nn.Linear):
                raise InvalidNetworkError(
                    f"{where}: only all-to-all RLeaky (all_to_all=True, linear_features=...) is supported, "
                    f"its recurrent module is a {type(r).__name__}"
                )
            rec = r.weight.detach().cpu().numpy()
            rbias = r.bias.detach().cpu().numpy() if r.bias is not None else None
        layers.append(Layer(weight=w, recurrent_weight=rec, bias=b, recurrent_bias=rbias, beta=beta, threshold=thr,
                            reset=reset, name=f"{'rlif' if rec is not None else 'lif'}{k // 2 + 1}"))
    return Network(layers=tuple(layers), name="snntorch")


# ---- NIR --------------------------------------------------------------------------------------------
