"""Integer neurons: a layer as a chip holds it in fixed point (Loihi / Loihi 2, TrueNorth).

A chip's ``deploy`` (``spikebench.hardware_models``) turns a float layer into one whose ``weight``
(and ``recurrent_weight``) hold integer *mantissas* (exact in float32) and whose ``integer`` field is
an :class:`IntegerNeurons`: the rest of the chip's arithmetic. One step of neuron ``j`` is then, in
exact integers (the current-based neuron of Loihi, as Lava's bit-accurate ``PyLifModelBitAcc`` and
``PyDenseModelBitAcc`` compute it; Davies et al. 2018; lava-nc 0.10 ``lava/proc/lif/models.py``)::

    a     = shift(sum of W[j, i] over inputs i that spiked ``delay`` steps ago, weight_exp)
          + shift(sum of R[j, k] over neurons k that spiked one step ago, recurrent_exp)
    u     = wrap(decay(u, du[j]) + (a << act_shift))                  # synaptic current
    v     = clip(decay(v, dv[j]) + u + bias[j])                       # membrane voltage
    spike = v > vth[j]
    v     = 0 (reset "zero")  or  v - reset_sub[j] (reset "subtract")  where it spiked, this step

* ``shift(x, e)`` is ``x << e`` for ``e > 0`` and the arithmetic (flooring) ``x >> -e`` otherwise,
  applied to the integer sum, as Lava's Dense does;
* ``decay(x, d) = sign(y) * (|y| >> 12)`` with ``y = x * (4096 - d)``: a 12-bit decay constant
  ``d`` in 0..4096 (4096: the state does not persist; 0: no decay);
* ``wrap`` wraps the current into ``state_bits`` bits as Lava does (``u > 2**(b-1)`` becomes
  ``u - 2**b``; then ``u <= -2**(b-1)`` becomes ``u + 2**b``); ``clip`` saturates the voltage to
  ``+-(2**(b-1) - 1)``.

Timing: a spike takes ``delay`` steps (1 on Loihi, whose synapses deliver at the next step) to reach
the next layer, so a network of integer layers runs ``drain_steps`` more steps than its input has
(zeros in), letting the last input reach the output: a network of L layers with delay 1 runs T + L.

Weights are mantissas: the effective weight of a synapse is ``W * 2**weight_exp`` in units of
the voltage's ``2**-act_shift``. Records are frozen; arrays are int64 and read-only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InvalidNetworkError, UnknownNameError

INTEGER_RESETS = ("zero", "subtract")
DECAY_UNITY = 4096  # decays are 12-bit: d / 4096 of the state is lost per step


def _ints(value, n: int, what: str, label: str, lo: int, hi: int) -> np.ndarray:
    arr = np.asarray(value)
    if arr.ndim == 0 or arr.size == 1:
        arr = np.full(n, arr.reshape(()))
    if arr.shape != (n,):
        raise InvalidNetworkError(f"{label}: integer {what} must be a scalar or {n} values, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.isfinite(arr)) or not np.array_equal(arr, np.round(arr)):
            raise InvalidNetworkError(f"{label}: integer {what} must hold integers")
    out = arr.astype(np.int64)
    if out.size and (out.min() < lo or out.max() > hi):
        raise InvalidNetworkError(f"{label}: integer {what} must lie in {lo}..{hi}, got {out.min()}..{out.max()}")
    out.setflags(write=False)
    return out


@dataclass(frozen=True, kw_only=True, eq=False)
class IntegerNeurons:
    """The integer arithmetic of one layer's neurons (see the module docstring for the step).

    Attributes:
        n: number of neurons (the layer's ``n_out``); the arrays below have one value each.
        du, dv: 12-bit decay constants of current and voltage, 0..4096.
        bias: integer added to the voltage every step.
        vth: a neuron spikes when its voltage exceeds ``vth``.
        reset: ``"zero"`` (Loihi) or ``"subtract"`` (the voltage loses ``reset_sub``).
        reset_sub: what a spike subtracts with ``reset="subtract"`` (default: ``vth + 1``).
        weight_exp, recurrent_exp: shifts applied to the summed input and recurrent mantissas.
        act_shift: left shift of the summed input before it enters the current (6 on Loihi).
        state_bits: width of current and voltage (24 on Loihi).
        delay: steps a spike takes to reach this layer (1 on Loihi).
        arithmetic: name of the chip format, e.g. ``"loihi2-fixed"`` (reports and notes).
    """

    n: int
    du: np.ndarray | int
    dv: np.ndarray | int
    bias: np.ndarray | int = 0
    vth: np.ndarray | int = 0
    reset: str = "zero"
    reset_sub: np.ndarray | int | None = None
    weight_exp: int = 0
    recurrent_exp: int = 0
    act_shift: int = 6
    state_bits: int = 24
    delay: int = 1
    arithmetic: str = "loihi-fixed"

    def __post_init__(self) -> None:
        label = f"integer neurons ({self.arithmetic})"
        n = int(self.n)
        if n < 1:
            raise InvalidNetworkError(f"{label}: n must be >= 1, got {self.n}")
        object.__setattr__(self, "n", n)
        for what in ("weight_exp", "recurrent_exp", "act_shift", "state_bits", "delay"):
            v = getattr(self, what)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise InvalidNetworkError(f"{label}: {what} must be an integer, got {v!r}")
            object.__setattr__(self, what, int(v))
        if not -24 <= self.weight_exp <= 24 or not -24 <= self.recurrent_exp <= 24:
            raise InvalidNetworkError(f"{label}: weight exponents must lie in -24..24")
        if not 0 <= self.act_shift <= 16:
            raise InvalidNetworkError(f"{label}: act_shift must lie in 0..16, got {self.act_shift}")
        if not 2 <= self.state_bits <= 32:
            raise InvalidNetworkError(f"{label}: state_bits must lie in 2..32, got {self.state_bits}")
        if self.delay != 1:
            raise InvalidNetworkError(f"{label}: only a delay of 1 step is simulated (Loihi's, TrueNorth's "
                                      f"shortest), got {self.delay}")
        big = 2 ** (self.state_bits - 1) - 1
        object.__setattr__(self, "du", _ints(self.du, n, "du", label, 0, DECAY_UNITY))
        object.__setattr__(self, "dv", _ints(self.dv, n, "dv", label, 0, DECAY_UNITY))
        object.__setattr__(self, "bias", _ints(self.bias, n, "bias", label, -big, big))
        object.__setattr__(self, "vth", _ints(self.vth, n, "vth", label, -big, big))
        if self.reset not in INTEGER_RESETS:
            raise UnknownNameError(f"{label}: unknown reset {self.reset!r}; use one of {', '.join(INTEGER_RESETS)}")
        sub = self.vth + 1 if self.reset_sub is None else self.reset_sub
        object.__setattr__(self, "reset_sub", _ints(sub, n, "reset_sub", label, 0, 2 * big + 1))

    def fingerprint(self) -> bytes:
        """Bytes that fix the arithmetic (for :meth:`Network.content_hash`)."""
        head = repr((self.reset, self.weight_exp, self.recurrent_exp, self.act_shift, self.state_bits, self.delay,
                     self.arithmetic)).encode()
        return head + b"".join(getattr(self, k).tobytes() for k in ("du", "dv", "bias", "vth", "reset_sub"))

    def permuted(self, order: np.ndarray) -> IntegerNeurons:
        """The same neurons in another order (new neuron q is old neuron ``order[q]``)."""
        return IntegerNeurons(n=self.n, du=self.du[order], dv=self.dv[order], bias=self.bias[order],
                              vth=self.vth[order], reset=self.reset, reset_sub=self.reset_sub[order],
                              weight_exp=self.weight_exp, recurrent_exp=self.recurrent_exp, act_shift=self.act_shift,
                              state_bits=self.state_bits, delay=self.delay, arithmetic=self.arithmetic)

    def to_dict(self) -> dict:
        """Scalars and per-neuron ranges (reports, notes)."""
        rng = lambda a: [int(a.min()), int(a.max())]
        return {"arithmetic": self.arithmetic, "reset": self.reset, "weight_exp": self.weight_exp,
                "recurrent_exp": self.recurrent_exp, "act_shift": self.act_shift, "state_bits": self.state_bits,
                "delay": self.delay, "du": rng(self.du), "dv": rng(self.dv), "bias": rng(self.bias),
                "vth": rng(self.vth)}


def decay(x: np.ndarray, d: np.ndarray) -> np.ndarray:
    """``sign(y) * (|y| >> 12)`` with ``y = x * (4096 - d)`` (int64)."""
    y = np.asarray(x, np.int64) * (DECAY_UNITY - np.asarray(d, np.int64))
    return np.sign(y) * (np.abs(y) >> 12)


def shift(x: np.ndarray, e: int) -> np.ndarray:
    """``x << e`` for ``e > 0``, else the flooring ``x >> -e`` (int64)."""
    x = np.asarray(x, np.int64)
    return np.left_shift(x, e) if e > 0 else np.right_shift(x, -e)


def reference_step(neurons: IntegerNeurons, u: np.ndarray, v: np.ndarray, a: np.ndarray):
    """One step in plain numpy (the definition the kernel and Lava are tested against).

    ``a`` is the shifted input of this step (int64, ``shift`` already applied); returns
    ``(u, v, spikes)``, new arrays.
    """
    half = 2 ** (neurons.state_bits - 1)
    u_new = decay(u, neurons.du) + np.left_shift(np.asarray(a, np.int64), neurons.act_shift)
    wrapped = np.where(u_new > half, u_new - 2 * half, u_new)
    wrapped = np.where(wrapped <= -half, u_new + 2 * half, wrapped)
    v_new = np.clip(decay(v, neurons.dv) + wrapped + neurons.bias, -(half - 1), half - 1)
    s = v_new > neurons.vth
    if neurons.reset == "zero":
        v_new = np.where(s, 0, v_new)
    else:
        v_new = np.where(s, v_new - neurons.reset_sub, v_new)
    return wrapped, v_new, s
