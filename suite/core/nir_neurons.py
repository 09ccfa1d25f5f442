"""How NIR neuron nodes (``LIF``, ``IF``, ``CubaLIF``) become spikebench layers: the parameter
conventions of foreign files and of spikebench's own metadata (see :mod:`spikebench.core.nir_io`,
"Foreign files"), the exact inversion of snnTorch's exporter, and the folding of an input gain.

Split from :mod:`spikebench.core.nir_io` (the graph: reading, writing, shapes), which imports it.
"""

from __future__ import annotations

import numpy as np

from .errors import FileFormatError, InvalidNetworkError
from .network import Layer

NIR_DT = 1e-4  # snnTorch's exporter's dt; it only sets the nominal tau written to the file
META_KEY = "spikebench"
FORMAT_VERSION = 1  # additive keys since (alpha, bias) keep the version: older readers refuse the new node types

def _scalarish(value) -> object:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _scalarish(value.item())
    if isinstance(value, np.generic):
        return _scalarish(value.item())
    return value


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
