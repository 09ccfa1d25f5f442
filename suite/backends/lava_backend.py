"""Backend ``lava``: a network run by Intel's Lava (lava-nc 0.10), bit-accurate to Loihi 2 when deployed.

Lava supports only Python 3.10 and numpy < 2, so it lives in its own environment (``.venv-lava``,
built by ``make lava-env``) and runs as a subprocess: this module (the suite's Python) checks and
packs the network into an ``.npz`` file, ``_lava_worker.py`` (run by the environment's Python, never
importing spikebench) builds the Lava process graph, runs it and writes every layer's spikes back.

The environment is ``$SPIKEBENCH_LAVA_ENV`` (the path of a virtual environment) or else
``<checkout>/.venv-lava`` next to the package source.

**fixed_pt** (networks whose layers carry :class:`~spikebench.core.fixed_point.IntegerNeurons`: a
deployed Loihi 2 network). Each layer is a Lava ``Dense`` (``Sparse`` for the expanded map of a conv
or sum-pooled layer) with ``weight_exp`` into a ``LIF``, plus a ``Dense`` from the LIF back to itself
(``recurrent_exp``) when recurrent; run with ``Loihi2SimCfg(select_tag="fixed_pt")``, i.e. Lava's
``PyLifModelBitAcc`` and ``PyDenseModelBitAcc``, which compute exactly the step of
:mod:`spikebench.core.fixed_point`. Our parameters map onto Lava's registers as:

* ``du`` (effective, 1..4096) -> Lava ``du = du - 1`` (Lava adds ``ds_offset = 1``);
  ``dv`` (0..4095) -> Lava ``dv = dv`` (``dm_offset = 0``);
* ``vth`` (a multiple of 64) -> Lava ``vth = vth >> 6`` (0..131071; Lava shifts it back by 6 bits);
* ``bias`` -> ``bias_mant << bias_exp`` with a 13-bit signed mantissa and a 3-bit exponent, per neuron;
* weights are passed as they are and must survive Lava's ``clip_weights(num_bits=8)`` and
  ``truncate_weights(num_weight_bits=8)`` unchanged: even integers in [-256, 254] for a mixed-sign
  matrix, 0..255 when no weight is negative, -255..0 when none is positive.

Anything else (``act_shift`` other than 6, ``state_bits`` other than 24, reset ``"subtract"``, max
pooling) is refused with a one-line error. Lava computes the current and voltage in int32; our
definition uses int64. They agree while every step's summed input ``|a|`` stays within ``2**18``
(then ``|u| < 2**25`` always); a network that cannot exceed it by its weights is accepted as it is,
otherwise the inputs that actually arrived are checked after the run and a breach is an error.

Timing: Lava's Dense delivers at the next step, so input spikes at step t reach layer 1 at t+1 and
every layer adds one step: a network of L layers runs ``T + L`` steps per sample (``network.drain_steps``
zero steps appended) and every returned raster has ``T + L`` steps. Samples run one after another in
one Lava runtime, the state (``u``, ``v``, the Dense buffers) set to zero between them.

**floating_pt** (float networks): Lava's float LIF, per step::

    u = u * (1 - du) + a_in            a_in = Dense(spikes of the previous layer one step ago)
    v = v * (1 - dv) + u + bias        (+ the recurrent Dense, also one step late)
    spike = v > vth;  v = 0 where it spiked (at once)

with ``du = 1`` (no current state; ``du = 1 - alpha`` for current-based layers), ``dv = 1 - beta``,
``vth = threshold``, ``bias = bias (+ recurrent_bias)``, float64 throughout. It differs from the
snnTorch semantics the other backends follow: every layer sees its input one step late (``T + L``
steps, as above); the reset is to zero and immediate (snnTorch subtracts ``threshold``, or zeroes,
one step late, from ``mem[t-1] > threshold``), whatever the layer's ``reset`` says; for current-based
layers the bias enters the voltage instead of the current; and float64 instead of float32. No
agreement with ``sparse-cpu`` is claimed in this mode.

Counts follow the one counting rule on the recorded rasters: spikes at a sample's last step never
arrive anywhere, so they count no synaptic events.
"""

from __future__ import annotations

import functools
import os
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from ..core.counts import EventCounts, count_from_activity, layer_counts
from ..core.errors import (
    BackendUnavailableError,
    InvalidNetworkError,
    InvalidSpikesError,
    SpikebenchError,
    UnknownNameError,
    one_line,
)
from ..core.network import Network
from ..core.spikes import SpikeTrain
from .base import SimulationResult

ENV_VAR = "SPIKEBENCH_LAVA_ENV"
WORKER = Path(__file__).with_name("_lava_worker.py")
MODES = ("fixed_pt", "floating_pt")
#: Largest summed input ``|a|`` (after the weight exponent) for which Lava's int32 arithmetic provably
#: equals the int64 definition: then ``|a << 6| <= 2**24`` and the wrapped current stays below 2**25.
A_LIMIT = 2**18
_MISSING = ("the lava backend needs the Lava environment (lava-nc 0.10, Python 3.10): build it with "
            "`make lava-env` (set SPIKEBENCH_LAVA_PYTHON to a Python 3.10 if none is found), or point "
            f"{ENV_VAR} at a virtual environment with lava-nc installed")


class LavaRunError(SpikebenchError):
    """The Lava worker failed or ran out of time (the message carries its last error line)."""


# ---- the environment -------------------------------------------------------------------------------

def lava_env() -> Path:
    """The Lava virtual environment: ``$SPIKEBENCH_LAVA_ENV``, else ``<checkout>/.venv-lava``."""
    given = os.environ.get(ENV_VAR)
    if given:
        return Path(given).expanduser()
    return Path(__file__).resolve().parents[2] / ".venv-lava"


def _python_of(env: Path) -> Path:
    return env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def lava_python() -> Path:
    """The Lava environment's interpreter; missing, a one-line :class:`BackendUnavailableError`."""
    env = lava_env()
    py = _python_of(env)
    if not py.is_file():
        raise BackendUnavailableError(f"no Lava environment at {env}; {_MISSING}")
    return py


@functools.lru_cache(maxsize=8)
def _imports_lava(py: str) -> bool:
    try:
        done = subprocess.run([py, "-I", "-c", "import lava.magma, lava.proc.lif.process"], capture_output=True,
                              timeout=120, start_new_session=True)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def lava_available() -> bool:
    """True when the Lava environment exists and imports Lava (checked once per interpreter path)."""
    try:
        return _imports_lava(str(lava_python()))
    except BackendUnavailableError:
        return False


# ---- packing a network ----------------------------------------------------------------------------

def _sign_mode_ok(w: np.ndarray) -> str | None:
    """None when Lava's clip_weights(8) + truncate_weights(8) leave ``w`` (integers) unchanged, else why."""
    if w.size == 0:
        return None
    lo, hi = int(w.min()), int(w.max())
    if lo >= 0:
        return None if hi <= 255 else f"excitatory weights must lie in 0..255, got up to {hi}"
    if hi <= 0:
        return None if lo >= -255 else f"inhibitory weights must lie in -255..0, got down to {lo}"
    if lo < -256 or hi > 254:
        return f"mixed-sign weights must lie in -256..254, got {lo}..{hi}"
    odd = int(np.count_nonzero(w % 2))
    if odd:
        return f"mixed-sign weights must be even (Lava drops their lowest bit), got {odd} odd weight(s)"
    return None


def _bias_pairs(bias: np.ndarray, label: str) -> tuple[np.ndarray, np.ndarray]:
    """Per neuron the (13-bit signed mantissa, 3-bit exponent) with ``mant << exp == bias`` exactly."""
    b = np.asarray(bias, np.int64)
    mant = np.zeros_like(b)
    exp = np.full(b.shape, -1, np.int64)
    for e in range(8):
        m = b >> e
        ok = (exp < 0) & (m << e == b) & (m >= -4096) & (m <= 4095)
        mant[ok], exp[ok] = m[ok], e
    if np.any(exp < 0):
        bad = int(b[np.argmax(exp < 0)])
        raise InvalidNetworkError(f"{label}: bias {bad} is not a 13-bit signed mantissa (-4096..4095) shifted left by "
                                  "0..7 bits, as Loihi stores biases")
    return mant, exp


def _shift_bound(x: np.ndarray, e: int) -> np.ndarray:
    """An upper bound of ``|shift(s, e)|`` over integers ``|s| <= x`` (flooring right shifts round away)."""
    x = np.asarray(x, np.int64)
    return x << e if e > 0 else -((-x) >> -e)


def _shift(x: np.ndarray, e: int) -> np.ndarray:
    x = np.asarray(x, np.int64)
    return np.left_shift(x, e) if e > 0 else np.right_shift(x, -e)


def _store_synapses(layer, fixed: bool, out: dict, key: str):
    """Store the layer's feed-forward synapses under ``key``: the matrix for plain layers, CSC arrays otherwise.

    Returns ``(values, row sums of positive values, row sums of negative values)`` (for the checks)."""
    if layer.plain:
        w = np.asarray(layer.weight, np.float64)
        out[key] = w.astype(np.int64) if fixed else w
        return w, np.where(w > 0, w, 0).sum(axis=1), np.where(w < 0, w, 0).sum(axis=1)
    exp = layer.expansion()
    if exp.pool_index is not None:
        raise InvalidNetworkError(f"lava: layer {layer.name!r}: max pooling is not a synaptic sum and Lava has no process "
                                  "for it here; use sum pooling (or avg pooling in a float network)")
    vals = np.asarray(exp.values, np.float64)
    out[key + "_colptr"] = np.asarray(exp.colptr, np.int64)
    out[key + "_rows"] = np.asarray(exp.rows, np.int64)
    out[key + "_data"] = vals.astype(np.int64) if fixed else vals
    out[key + "_shape"] = np.array([exp.n_targets, layer.n_in], np.int64)
    rows = np.asarray(exp.rows, np.int64)
    pos = np.bincount(rows, weights=np.where(vals > 0, vals, 0), minlength=exp.n_targets)
    neg = np.bincount(rows, weights=np.where(vals < 0, vals, 0), minlength=exp.n_targets)
    return vals, pos, neg


def pack_fixed(network: Network) -> tuple[dict, bool]:
    """The worker's per-layer arrays of a deployed network (see ``_lava_worker``), and whether the
    summed inputs are bounded by ``A_LIMIT`` by the weights alone (else checked after the run)."""
    out: dict = {}
    bounded = True
    for l, layer in enumerate(network.layers):
        it = layer.integer
        label = f"lava: layer {layer.name!r}"
        if it is None:
            raise InvalidNetworkError(f"{label}: fixed_pt needs integer neurons (a deployed network)")
        problems = []
        if it.act_shift != 6:
            problems.append(f"act_shift {it.act_shift} (Loihi's is 6)")
        if it.state_bits != 24:
            problems.append(f"state_bits {it.state_bits} (Loihi's are 24)")
        if it.reset != "zero":
            problems.append(f"reset {it.reset!r} (Loihi's LIF resets to zero)")
        if it.delay != 1:
            problems.append(f"delay {it.delay} (Lava's Dense delays by 1)")
        if problems:
            raise InvalidNetworkError(f"{label}: Lava's bit-accurate LIF cannot run {', '.join(problems)}; deploy the "
                                      f"network for Loihi 2 (arithmetic {it.arithmetic!r} is not Loihi's)")
        du, dv, vth = it.du, it.dv, it.vth
        if du.min() < 1:
            raise InvalidNetworkError(f"{label}: du must be >= 1 (Lava's du register is du - 1), got {int(du.min())}")
        if dv.max() > 4095:
            raise InvalidNetworkError(f"{label}: dv must be <= 4095 (a 12-bit register), got {int(dv.max())}")
        if np.any(vth % 64) or vth.min() < 0 or vth.max() > 131071 * 64:
            raise InvalidNetworkError(f"{label}: vth must be a multiple of 64 in 0..{131071 * 64} (Lava's 17-bit vth "
                                      f"shifted by 6 bits), got {int(vth.min())}..{int(vth.max())}")
        mant, bexp = _bias_pairs(it.bias, label)
        vals, pos, neg = _store_synapses(layer, True, out, f"w_{l}")
        why = _sign_mode_ok(vals)
        if why:
            raise InvalidNetworkError(f"{label}: Lava would clip or truncate the weights: {why}")
        a_pos = _shift_bound(pos, it.weight_exp)
        a_neg = _shift_bound(-neg, it.weight_exp)
        if layer.recurrent:
            r = np.asarray(layer.recurrent_weight, np.float64)
            why = _sign_mode_ok(r)
            if why:
                raise InvalidNetworkError(f"{label}: Lava would clip or truncate the recurrent weights: {why}")
            out[f"r_{l}"] = r.astype(np.int64)
            out[f"rexp_{l}"] = np.int64(it.recurrent_exp)
            a_pos = a_pos + _shift_bound(np.where(r > 0, r, 0).sum(axis=1), it.recurrent_exp)
            a_neg = a_neg + _shift_bound(-np.where(r < 0, r, 0).sum(axis=1), it.recurrent_exp)
        bounded &= bool(max(int(a_pos.max()), int(a_neg.max())) <= A_LIMIT)
        out[f"n_{l}"] = np.int64(layer.n_out)
        out[f"wexp_{l}"] = np.int64(it.weight_exp)
        out[f"du_{l}"] = du - 1
        out[f"dv_{l}"] = dv.copy()
        out[f"vth_{l}"] = vth >> 6
        out[f"bias_{l}"] = mant
        out[f"bexp_{l}"] = bexp
    return out, bounded


def pack_float(network: Network) -> dict:
    """The worker's per-layer arrays of a float network (Lava's float LIF; see the module docstring)."""
    out: dict = {}
    for l, layer in enumerate(network.layers):
        _store_synapses(layer, False, out, f"w_{l}")
        n = layer.n_out
        bias = np.asarray(layer.neuron_bias(), np.float64)
        if layer.recurrent:
            out[f"r_{l}"] = np.asarray(layer.recurrent_weight, np.float64)
            out[f"rexp_{l}"] = np.int64(0)
            if layer.recurrent_bias is not None:
                bias = bias + np.asarray(layer.recurrent_bias, np.float64)
        out[f"n_{l}"] = np.int64(n)
        out[f"wexp_{l}"] = np.int64(0)
        out[f"du_{l}"] = np.ones(n) if layer.alpha is None else 1.0 - np.asarray(layer.alpha, np.float64)
        out[f"dv_{l}"] = 1.0 - np.asarray(layer.beta, np.float64)
        out[f"vth_{l}"] = np.asarray(layer.threshold, np.float64)
        out[f"bias_{l}"] = bias
    return out


def _check_inputs(network: Network, spikes: SpikeTrain, rasters: list[np.ndarray], steps: int) -> None:
    """After the run: every summed input that arrived stays within ``A_LIMIT`` (see the module docstring)."""
    mats = []
    for layer in network.layers:
        if layer.plain:
            w = np.asarray(layer.weight, np.float64)
        else:
            exp = layer.expansion()
            w = np.zeros((exp.n_targets, layer.n_in), np.float64)
            w[exp.rows, np.repeat(np.arange(layer.n_in), np.diff(exp.colptr))] = exp.values
        r = None if not layer.recurrent else np.asarray(layer.recurrent_weight, np.float64)
        mats.append((w.T, r if r is None else r.T))
    for b in range(spikes.samples):
        times, chans = spikes.sample(b)
        prev = np.zeros((steps, network.n_in), np.float64)
        prev[times, chans] = 1
        for layer, (wt, rt), out in zip(network.layers, mats, rasters):
            it = layer.integer
            # the input arriving at step t is what was sent at t - 1; integer sums below 2**53 are exact in float64
            a = _shift(np.rint(prev[:-1] @ wt).astype(np.int64), it.weight_exp)
            own = out[b].astype(np.float64)
            if rt is not None:
                a = a + _shift(np.rint(own[:-1] @ rt).astype(np.int64), it.recurrent_exp)
            peak = int(np.abs(a).max()) if a.size else 0
            if peak > A_LIMIT:
                raise InvalidNetworkError(
                    f"lava: layer {layer.name!r}: a summed input of {peak} arrived (above 2**18 = {A_LIMIT}), where "
                    "Lava's int32 current may overflow and differ from Loihi's arithmetic; lower weight_exp or the "
                    "weights")
            prev = own


def _counts_delayed(network: Network, input_per_channel: np.ndarray, rasters: list[np.ndarray], *, samples: int,
                    timesteps: int, timestep_s: float, source: dict) -> EventCounts:
    """The counting rule when every layer's spikes arrive one step later (Lava's float mode): spikes of a
    sample's last step never arrive (``count_from_activity`` does this for integer layers)."""
    layers = []
    pre = np.asarray(input_per_channel, np.int64)
    for layer, r in zip(network.layers, rasters):
        out = r.sum(axis=(0, 1), dtype=np.int64)
        sent = out - r[:, -1, :].sum(axis=0, dtype=np.int64)
        syn = int(pre @ layer.fan_out_nonzero())
        if layer.recurrent:
            syn += int(sent @ layer.recurrent_fan_out_nonzero())
        layers.append(layer_counts(layer, spikes_in=int(pre.sum()), synaptic_events=syn,
                                   neuron_updates=samples * timesteps * layer.n_out, spikes_out=int(out.sum())))
        pre = sent
    return EventCounts(layers=tuple(layers), samples=samples, timesteps=timesteps, timestep_s=timestep_s,
                       source=dict(source))


# ---- running the worker ---------------------------------------------------------------------------

_ERROR_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b")


def _last_error_line(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if _ERROR_LINE.match(ln)]
    return errors[-1] if errors else (lines[-1] if lines else "no error output")


def _end_group(proc: subprocess.Popen, *, wait_s: float = 0.0) -> None:
    """End the worker's process group and reap the worker: SIGTERM (Python's multiprocessing resource
    tracker ignores it, outlives the Lava processes and unlinks the shared memory they leave), then, when
    ``wait_s`` > 0, SIGKILL whatever of the group is still there after ``wait_s`` (exited members not yet
    reaped by their new parent count as there, so this is for the failure paths only)."""
    pgid = proc.pid
    try:
        os.killpg(pgid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        proc.communicate()
        return
    proc.communicate()
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.02)
    if wait_s > 0:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def run_worker(payload: dict, *, timeout_s: float) -> dict:
    """Write ``payload`` to a file, run the worker on it in a new session, return its output arrays.

    The worker and the OS processes Lava starts form one process group, ended on a timeout, on an
    interrupt, and after the worker exits (Lava processes it may have left behind)."""
    py = lava_python()
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    with tempfile.TemporaryDirectory(prefix="spikebench-lava-") as tmp:
        src, dst = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        np.savez(src, **payload)
        try:
            proc = subprocess.Popen([str(py), "-I", str(WORKER), str(src), str(dst)], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, start_new_session=True, env=env, cwd=tmp)
        except OSError as exc:
            raise BackendUnavailableError(f"cannot start the Lava environment's Python {py} ({exc}); {_MISSING}") from None
        try:
            _, err = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _end_group(proc, wait_s=2.0)
            raise LavaRunError(f"the Lava worker ran past its timeout of {timeout_s:g} s and was stopped (Lava waits "
                               "forever when one of its processes fails); pass timeout_s= for a longer run") from None
        except BaseException:
            _end_group(proc, wait_s=2.0)
            raise
        _end_group(proc)  # Lava processes it may have left behind
        if proc.returncode != 0 or not dst.is_file():
            why = one_line(_last_error_line(err.decode("utf-8", "replace")))
            if "No module named 'lava" in why:
                raise BackendUnavailableError(f"the environment of {py} does not have Lava ({why}); {_MISSING}")
            raise LavaRunError(f"the Lava worker failed (exit code {proc.returncode}): {why}")
        with np.load(dst, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}


def _default_timeout(network: Network, samples: int, steps: int) -> float:
    """Generous: Lava's Python models run some 500-1000 steps/s on small dense networks, far fewer on
    expanded conv maps (``Sparse``), and ``Var.set`` moves one value per message between samples."""
    neurons = sum(layer.n_out for layer in network.layers)
    synapses = sum(layer.synapses for layer in network.layers)
    per_step = 0.02 * len(network.layers) + 1e-7 * synapses + 1e-6 * neurons
    return 60.0 + samples * steps * per_step + samples * neurons * 5e-4


class LavaBackend:
    """Lava (lava-nc 0.10) in its own environment: bit-accurate Loihi 2 for deployed networks
    (``fixed_pt``), Lava's float LIF for float networks (``floating_pt``); CPU only. See the module
    docstring for the semantics, the timing (``T + L`` steps) and what is refused."""

    name = "lava"
    #: Float networks run Lava's own LIF (see the module docstring), not snnTorch's semantics, so the float
    #: contract tests (same spikes as sparse-cpu on float networks) do not apply; deployed networks do.
    float_semantics = "lava"

    def simulate(self, network: Network, spikes: SpikeTrain, *, device: str | None = None, record: bool = False,
                 mode: str | None = None, timeout_s: float | None = None) -> SimulationResult:
        """Run every sample of ``spikes``; returns rasters of ``T + len(network.layers)`` steps.

        Args:
            mode: ``None`` (``"fixed_pt"`` for a deployed network, ``"floating_pt"`` for a float one), or
                the matching name.
            timeout_s: wall-clock limit of the worker (default: a generous estimate from the run's size).
        """
        t_call = time.perf_counter()
        if device not in (None, "cpu"):
            raise BackendUnavailableError(f"backend 'lava' simulates on the CPU only, not on device {device!r}")
        if not isinstance(network, Network):
            raise InvalidNetworkError(f"expected a spikebench Network, got {type(network).__name__}")
        if spikes.n != network.n_in:
            raise InvalidSpikesError(f"the spikes have {spikes.n} channels but the network takes {network.n_in} inputs")
        fixed = network.integer
        if mode is not None and mode not in MODES:
            raise UnknownNameError(f"unknown Lava mode {mode!r}; use one of {', '.join(MODES)} (or None)")
        want = "fixed_pt" if fixed else "floating_pt"
        if mode is not None and mode != want:
            raise InvalidNetworkError(f"lava: mode {mode!r} does not fit a {'deployed (integer)' if fixed else 'float'} "
                                      f"network; it runs in {want!r}")
        if fixed:
            payload, bounded = pack_fixed(network)
        else:
            payload, bounded = pack_float(network), True
        lava_python()  # a missing environment is reported before any work
        L = len(network.layers)
        B, T = spikes.samples, spikes.timesteps
        steps = T + L  # network.drain_steps for deployed networks; Lava's float Dense delays as well
        glob = np.repeat(np.arange(B, dtype=np.int64), np.diff(spikes.sample_ptr)) * steps + spikes.times
        in_ptr = np.zeros(B * steps + 1, np.int64)
        np.cumsum(np.bincount(glob, minlength=B * steps), out=in_ptr[1:])
        payload.update(mode=np.array(want), samples=np.int64(B), steps=np.int64(steps), n_in=np.int64(network.n_in),
                       n_layers=np.int64(L), in_ptr=in_ptr, in_idx=np.asarray(spikes.indices, np.int32))
        timeout = _default_timeout(network, B, steps) if timeout_s is None else float(timeout_s)
        t0 = time.perf_counter()
        got = run_worker(payload, timeout_s=timeout)
        process_s = time.perf_counter() - t0
        rasters = []
        for l, layer in enumerate(network.layers):
            ptr, idx = got[f"ptr_{l}"], got[f"idx_{l}"]
            r = np.zeros((B * steps, layer.n_out), np.uint8)
            r[np.repeat(np.arange(B * steps), np.diff(ptr)), idx] = 1
            rasters.append(r.reshape(B, steps, layer.n_out))
        if fixed and not bounded:
            _check_inputs(network, spikes, rasters, steps)
        version = str(got["lava_version"])
        source = {"simulator": "lava", "backend": self.name, "network": network.name, "mode": want,
                  "lava": version}
        out_per = [r.sum(axis=(0, 1), dtype=np.int64) for r in rasters]
        if fixed:
            counts = count_from_activity(network, spikes.counts_per_channel(), out_per,
                                         [r[:, -1, :].sum(axis=0, dtype=np.int64) for r in rasters], samples=B,
                                         timesteps=steps, timestep_s=spikes.timestep_s, source=source)
        else:
            counts = _counts_delayed(network, spikes.counts_per_channel(), rasters, samples=B, timesteps=steps,
                                     timestep_s=spikes.timestep_s, source=source)
        # run_s: the simulation inside the worker; prepare_s: the worker's start-up (Python 3.10, Lava, the
        # process graph and its compilation); wall_time_s: the whole call, subprocess and files included
        return SimulationResult(output_spikes=rasters[-1], counts=counts, run_s=float(got["sim_s"]),
                                prepare_s=float(got["startup_s"]), wall_time_s=time.perf_counter() - t_call,
                                backend=self.name, device="cpu", layer_spikes=rasters if record else None,
                                extra={"startup_s": float(got["startup_s"]), "mode": want, "steps": steps,
                                       "process_s": process_s, "lava_version": version})
