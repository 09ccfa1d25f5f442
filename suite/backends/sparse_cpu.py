"""Backend ``sparse-cpu``: the event-driven reference kernel (numba), ground truth for counts."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np

from ..core.counts import EventCounts, LayerCounts
from ..core.errors import BackendUnavailableError, InvalidNetworkError, InvalidSpikesError
from ..core.network import Network
from ..core.spikes import SpikeTrain
from .base import SimulationResult


def int8_scale(matrix: np.ndarray) -> float:
    """The power of two s such that every weight is k*s with integer |k| <= 127, or 0.0 if none.

    Such a matrix can be stored as int8 (a quarter of the bytes to stream per spike) and give
    exactly the float32 results of the float path whenever those are exact (see _kernel._run_layer).
    The answer is the coarsest such s in 2**24 .. 2**-39 (:func:`_int8_scale_search` is the
    definition). Found in a few vectorised passes, not one pass per candidate: the finest scale the
    bound allows is the least power of two ``s_lo >= max|w| / 127``; if the weights are not all
    integer multiples of it, no scale works; if they are, the coarsest is ``s_lo`` times the largest
    power of two dividing every multiple (the lowest set bit of their bitwise OR).
    """
    w = np.asarray(matrix)
    if w.dtype not in (np.float32, np.float64):
        w = w.astype(np.float64)
    w = w.ravel()
    if not w.size:
        return 0.0
    peak = float(np.max(np.abs(w)))
    if peak == 0.0 or not np.isfinite(peak):
        return 0.0
    j = int(np.ceil(np.log2(peak / 127.0)))
    while 127.0 * 2.0 ** (j - 1) >= peak:  # exact: the least j with 127 * 2**j >= peak
        j -= 1
    while 127.0 * 2.0**j < peak:
        j += 1
    j = max(j, -39)
    if j > 24:
        return 0.0
    k = w * w.dtype.type(2.0**-j)  # exact (a power of two), |k| <= 127
    if not np.array_equal(k, np.round(k)):
        return 0.0
    bits = int(np.bitwise_or.reduce(np.abs(k.astype(np.int64))))  # > 0: peak != 0
    tz = (bits & -bits).bit_length() - 1
    return 2.0 ** min(j + tz, 24)


def _int8_scale_search(matrix: np.ndarray) -> float:
    """:func:`int8_scale` by searching every candidate scale (the definition; tests compare the two)."""
    w = np.asarray(matrix, dtype=np.float64)
    peak = float(np.max(np.abs(w))) if w.size else 0.0
    if peak == 0.0:
        return 0.0
    for e in range(-24, 40):  # scale 2**-e, coarsest first
        k = w * 2.0**e
        if np.max(np.abs(k)) > 127:
            return 0.0
        if np.array_equal(k, np.round(k)):
            return 2.0**-e
    return 0.0


def channel_last_runs(layer, in_order: np.ndarray | None):
    """A non-plain layer's expansion as runs of adjacent targets, targets and neurons channel-last.

    Conv layers store their targets (neurons, or pre-pool positions when max-pooled) in ``(y, x, c)``
    order instead of ``(c, y, x)``, so the connections of one input to the ``C_out / groups``
    channels it reaches at one output position are adjacent targets: a run of ``width`` values
    added as one vector (``_kernel._scatter``). Channels a position does not reach are padded with
    -0.0 (the exact identity of float32 addition); when padding would grow the map by more than
    half, or for layers without channels (dense with input pooling), runs are single entries.
    ``in_order`` is the order of the previous layer's neurons (new input q is old input
    ``in_order[q]``), so the columns are taken in that order.

    Returns ``(order, t_new, width, runptr, run_tgt, run_val)``: ``order`` maps new neuron
    positions to old ones (None: unchanged), ``t_new`` old targets to new ones (None: unchanged);
    input i's runs are ``runptr[i]:runptr[i+1]``, run r starts at target ``run_tgt[r]`` and its
    values are ``run_val[r*width:(r+1)*width]``.
    """
    exp = layer.expansion()
    n_in = exp.colptr.size - 1
    n_tgt = exp.n_targets
    cols = np.repeat(np.arange(n_in, dtype=np.int64), np.diff(exp.colptr))
    if in_order is not None:
        inv_in = np.empty(n_in, np.int64)
        inv_in[in_order] = np.arange(n_in)
        cols = inv_in[cols]
    rows = exp.rows.astype(np.int64)
    order = t_new = None
    width = 1
    if layer.conv:
        c = int(layer.weight.shape[0])
        s_t, s_n = n_tgt // c, layer.n_out // c
        t_new = (np.arange(n_tgt) % s_t) * c + np.arange(n_tgt) // s_t
        order = (np.arange(s_n)[:, None] + np.arange(c)[None, :] * s_n).ravel()
        rows = t_new[rows]
        width = c // int(layer.groups)
    srt = np.argsort(cols * n_tgt + rows, kind="stable")
    cols, rows, vals = cols[srt], rows[srt], exp.values[srt]

    def runs(width):
        grp = rows // width
        start = np.ones(rows.size, np.bool_)
        start[1:] = (cols[1:] != cols[:-1]) | (grp[1:] != grp[:-1])
        gid = np.cumsum(start) - 1
        n_runs = int(start.sum())
        run_val = np.full(n_runs * width, -0.0, np.float32)
        run_val[gid * width + rows % width] = vals
        runptr = np.zeros(n_in + 1, np.int64)
        runptr[1:] = np.cumsum(np.bincount(cols[start], minlength=n_in))
        return runptr, (grp[start] * width).astype(np.int32), run_val

    runptr, run_tgt, run_val = runs(width)
    if width > 1 and run_val.size > 1.5 * max(rows.size, 1):
        width = 1
        runptr, run_tgt, run_val = runs(1)
    return order, t_new, width, runptr, run_tgt, run_val


def _scatter_integer(layer) -> bool:
    """A sparse integer dense layer (a deployed conv layer's expanded map) takes the scatter path: each
    spike adds only its non-zero synapses. Integer sums are exact in any order, so this changes no spike;
    float layers keep the row path, whose summation order the float semantics fix."""
    return layer.integer is not None and np.count_nonzero(layer.weight) < 0.25 * layer.weight.size


def _check_exact(layer) -> None:
    """An integer layer's input sums are accumulated as float32: refuse a layer whose largest
    possible sum per step (every input spiking) is not exact below 2**24."""
    if layer.plain:
        peak = float(np.abs(layer.weight).sum(axis=1).max())
    else:
        exp = layer.expansion()
        peak = float(np.bincount(exp.rows, weights=np.abs(exp.values), minlength=exp.n_targets).max())
    if layer.recurrent_weight is not None:
        peak = max(peak, float(np.abs(layer.recurrent_weight).sum(axis=1).max()))
    if peak >= 2.0**24:
        raise InvalidNetworkError(f"layer {layer.name!r}: its integer input sums can reach {peak:.0f}, beyond the "
                                  "2**24 the kernel sums exactly; use smaller mantissas (a larger weight exponent)")


@dataclass(frozen=True, eq=False)
class PreparedNetwork:
    """A network packed into the kernel's flat arrays (transposed weight rows, expanded maps, offsets).

    Plain dense layers keep their transposed matrix in ``W`` (and ``W8``); the others (``plain`` False:
    conv2d, pooling) keep their expansion (:meth:`spikebench.core.network.Layer.expansion`) as runs
    of ``run_w[l]`` adjacent targets (:func:`channel_last_runs`): ``runptr`` per input (layer l at
    ``c_off[l]``, relative to the layer's runs), run starts ``run_tgt`` (at ``g_off[l]:g_off[l+1]``),
    values ``run_val`` (at ``v_off[l]:v_off[l+1]``) and, when max-pooled, ``pidx`` (``n_out * p_win``
    pre-pool positions at ``p_off``). ``bias`` is every neuron's constant current (``Layer.neuron_bias``).

    Conv layers run with their neurons in channel-last ``(y, x, c)`` order: every per-neuron array
    (bias, beta, thr, alpha, pooling windows) is stored in that order, the next layer's inputs
    (weight columns, non-zero counts, runs) are taken in it, and ``unpermute[l]`` (None: unchanged)
    puts the recorded rasters back into the network's ``(c, y, x)`` order.
    """

    network: Network
    unpermute: tuple
    n_in: np.ndarray
    n_out: np.ndarray
    recurrent: np.ndarray
    reset_zero: np.ndarray
    W: np.ndarray
    W8: np.ndarray
    w_off: np.ndarray
    w_scale: np.ndarray
    R: np.ndarray
    R8: np.ndarray
    r_off: np.ndarray
    r_scale: np.ndarray
    nz: np.ndarray
    nz_in_off: np.ndarray
    nz_rec_off: np.ndarray
    bias: np.ndarray
    rbias: np.ndarray
    beta: np.ndarray
    thr: np.ndarray
    n_off: np.ndarray
    plain: np.ndarray
    cuba: np.ndarray
    alpha: np.ndarray
    n_tgt: np.ndarray
    runptr: np.ndarray
    c_off: np.ndarray
    run_tgt: np.ndarray
    g_off: np.ndarray
    run_val: np.ndarray
    v_off: np.ndarray
    run_w: np.ndarray
    pidx: np.ndarray
    p_off: np.ndarray
    p_win: np.ndarray
    integer: np.ndarray
    w_exp: np.ndarray
    r_exp: np.ndarray
    act_shift: np.ndarray
    half: np.ndarray
    du: np.ndarray
    dv: np.ndarray
    ibias: np.ndarray
    vth: np.ndarray
    rsub: np.ndarray
    profiles: tuple

    @property
    def static_counts(self) -> tuple:
        """Per layer, the fields of ``profiles`` that ``LayerCounts`` takes (computed once)."""
        cached = self.__dict__.get("_static_counts")
        if cached is None:
            accepted = {f.name for f in dataclasses.fields(LayerCounts)}
            cached = tuple({k: v for k, v in prof.items() if k in accepted} for prof in self.profiles)
            object.__setattr__(self, "_static_counts", cached)
        return cached

    @classmethod
    def build(cls, network: Network, *, int8: bool = True) -> PreparedNetwork:
        """Pack ``network``; ``int8=False`` keeps every matrix on the float32 path (benchmarks, tests)."""
        L = len(network.layers)
        W_parts, W8_parts, R_parts, R8_parts, nz_parts = [], [], [], [], []
        bias_parts, rbias_parts, beta_parts, thr_parts, alpha_parts = [], [], [], [], []
        int_parts = {k: [] for k in ("du", "dv", "bias", "vth", "reset_sub")}
        w_exp = np.zeros(L, np.int64)
        r_exp = np.zeros(L, np.int64)
        act_shift = np.zeros(L, np.int64)
        half = np.ones(L, np.int64)
        runptr_parts, tgt_parts, val_parts, pidx_parts = [], [], [], []
        w_off = np.zeros(L, np.int64)
        r_off = np.zeros(L, np.int64)
        w_scale = np.zeros(L, np.float32)
        r_scale = np.zeros(L, np.float32)
        nz_in_off = np.zeros(L, np.int64)
        nz_rec_off = np.zeros(L, np.int64)
        n_off = np.zeros(L, np.int64)
        n_tgt = np.zeros(L, np.int64)
        c_off = np.zeros(L, np.int64)
        g_off = np.zeros(L + 1, np.int64)
        v_off = np.zeros(L + 1, np.int64)
        run_w = np.zeros(L, np.int64)
        p_off = np.zeros(L, np.int64)
        p_win = np.zeros(L, np.int64)
        wpos = rpos = zpos = npos = cpos = gpos = vpos = ppos = 0
        orders = []
        plain_flags = []
        in_order = None  # the previous layer's neuron order: new input q is its old neuron in_order[q]

        def rows_of(matrix):  # transposed so each presynaptic neuron's weights are one contiguous row
            wt = np.ascontiguousarray(matrix.T).ravel()
            scale = int8_scale(wt) if int8 else 0.0
            return wt, (np.round(wt / scale).astype(np.int8) if scale else np.zeros(wt.size, np.int8)), scale

        for l, layer in enumerate(network.layers):
            w_off[l] = wpos
            c_off[l] = cpos
            g_off[l] = gpos
            v_off[l] = vpos
            p_off[l] = ppos
            n_tgt[l] = layer.n_out
            order = None
            rows_path = layer.plain and not _scatter_integer(layer)
            plain_flags.append(rows_path)
            if rows_path:
                wt, w8, w_scale[l] = rows_of(layer.weight if in_order is None else layer.weight[:, in_order])
                W_parts.append(wt)
                W8_parts.append(w8)
                wpos += layer.weight.size
            else:
                exp = layer.expansion()
                n_tgt[l] = exp.n_targets
                order, t_new, run_w[l], runptr, run_tgt, run_val = channel_last_runs(layer, in_order)
                runptr_parts.append(runptr)
                cpos += runptr.size
                tgt_parts.append(run_tgt)
                gpos += run_tgt.size
                val_parts.append(run_val)
                vpos += run_val.size
                if exp.pool_index is not None:
                    pi = exp.pool_index if order is None else t_new[exp.pool_index[order]]
                    p_win[l] = pi.shape[1]
                    pidx_parts.append(pi.ravel())
                    ppos += pi.size
            per_neuron = (lambda a: a) if order is None else (lambda a, order=order: np.asarray(a)[order])
            nz_in_off[l] = zpos
            nz_parts.append(layer.fan_out_nonzero() if in_order is None else layer.fan_out_nonzero()[in_order])
            zpos += layer.n_in
            nz_rec_off[l] = zpos
            nz_parts.append(per_neuron(layer.recurrent_fan_out_nonzero()))
            zpos += layer.n_out
            if layer.recurrent:
                r_off[l] = rpos
                rw = layer.recurrent_weight if order is None else np.asarray(layer.recurrent_weight)[order][:, order]
                rt, r8, r_scale[l] = rows_of(rw)
                R_parts.append(rt)
                R8_parts.append(r8)
                rpos += layer.recurrent_weight.size
            n_off[l] = npos
            bias_parts.append(per_neuron(layer.neuron_bias()))
            rbias_parts.append(per_neuron(layer.recurrent_bias) if layer.recurrent_bias is not None
                               else np.zeros(layer.n_out, np.float32))
            beta_parts.append(per_neuron(layer.beta))
            thr_parts.append(per_neuron(layer.threshold))
            alpha_parts.append(per_neuron(layer.alpha) if layer.alpha is not None
                               else np.zeros(layer.n_out, np.float32))
            it = layer.integer
            for k, parts in int_parts.items():
                parts.append(per_neuron(getattr(it, k)) if it is not None else np.zeros(layer.n_out, np.int64))
            if it is not None:
                w_exp[l], r_exp[l], act_shift[l], half[l] = it.weight_exp, it.recurrent_exp, it.act_shift, \
                    2 ** (it.state_bits - 1)
                _check_exact(layer)
            npos += layer.n_out
            orders.append(order)
            in_order = order
        g_off[L] = gpos
        v_off[L] = vpos
        cat = lambda parts, dt: np.ascontiguousarray(np.concatenate(parts) if parts else np.zeros(1, dt), dtype=dt)
        layers = network.layers
        return cls(
            network=network,
            unpermute=tuple(None if o is None else np.argsort(o) for o in orders),
            n_in=np.array([l.n_in for l in layers], np.int64),
            n_out=np.array([l.n_out for l in layers], np.int64),
            recurrent=np.array([l.recurrent for l in layers], np.bool_),
            reset_zero=np.array([(l.integer.reset if l.integer is not None else l.reset) == "zero" for l in layers],
                                np.bool_),
            W=cat(W_parts, np.float32), W8=cat(W8_parts, np.int8), w_off=w_off, w_scale=w_scale,
            R=cat(R_parts, np.float32), R8=cat(R8_parts, np.int8), r_off=r_off, r_scale=r_scale,
            nz=cat(nz_parts, np.int64), nz_in_off=nz_in_off, nz_rec_off=nz_rec_off,
            bias=cat(bias_parts, np.float32), rbias=cat(rbias_parts, np.float32), beta=cat(beta_parts, np.float32),
            thr=cat(thr_parts, np.float32), n_off=n_off,
            plain=np.array(plain_flags, np.bool_),
            cuba=np.array([l.alpha is not None for l in layers], np.bool_),
            alpha=cat(alpha_parts, np.float32), n_tgt=n_tgt,
            runptr=cat(runptr_parts, np.int64), c_off=c_off, run_tgt=cat(tgt_parts, np.int32), g_off=g_off,
            run_val=cat(val_parts, np.float32), v_off=v_off, run_w=run_w,
            pidx=cat(pidx_parts, np.int32), p_off=p_off, p_win=p_win,
            integer=np.array([l.integer is not None for l in layers], np.bool_), w_exp=w_exp, r_exp=r_exp,
            act_shift=act_shift, half=half, du=cat(int_parts["du"], np.int64), dv=cat(int_parts["dv"], np.int64),
            ibias=cat(int_parts["bias"], np.int64), vth=cat(int_parts["vth"], np.int64),
            rsub=cat(int_parts["reset_sub"], np.int64),
            profiles=tuple(network.profile()),
        )

    def kernel_args(self) -> tuple:
        """The packed network in ``_kernel.simulate_batch``'s argument order (n_in ... p_win)."""
        return (self.n_in, self.n_out, self.recurrent, self.reset_zero, self.W, self.W8, self.w_off, self.w_scale,
                self.R, self.R8, self.r_off, self.r_scale, self.nz, self.nz_in_off, self.nz_rec_off, self.bias,
                self.rbias, self.beta, self.thr, self.n_off, self.plain, self.cuba, self.alpha, self.n_tgt,
                self.runptr, self.c_off, self.run_tgt, self.g_off, self.run_val, self.v_off, self.run_w, self.pidx,
                self.p_off, self.p_win, self.integer, self.w_exp, self.r_exp, self.act_shift, self.half, self.du,
                self.dv, self.ibias, self.vth, self.rsub)

    def run(self, spikes: SpikeTrain, *, record: bool = False, threads: int | None = None) -> SimulationResult:
        """Simulate every sample of ``spikes``; ``threads`` caps numba's threads (default: all)."""
        import numba

        from . import _kernel

        net = self.network
        if spikes.n != net.n_in:
            raise InvalidSpikesError(f"the spikes have {spikes.n} channels but the network takes {net.n_in} inputs")
        _warm_up(self)
        t0 = time.perf_counter()
        B = spikes.samples
        T = spikes.timesteps + net.drain_steps  # integer networks run until the last input reaches the output
        sizes = self.n_out.tolist()  # Layer.n_out recomputes its shape's product on every call
        rec_off = np.full(len(sizes), -1, np.int64)
        if record:
            rec_off[:] = np.concatenate([[0], np.cumsum([T * n for n in sizes[:-1]])])
        else:
            rec_off[-1] = 0
        width = int(sum(T * sizes[l] for l in range(len(sizes)) if rec_off[l] >= 0))
        rec = np.zeros((B, width), np.uint8)
        counts = np.zeros((B, len(sizes), 3), np.int64)
        # the kernel takes writeable arrays (numba types read-only arrays differently)
        sample_ptr = np.array(spikes.sample_ptr)
        in_times = np.array(spikes.times)
        in_idx = np.array(spikes.indices)
        max_threads = numba.config.NUMBA_NUM_THREADS
        n_threads = max_threads if threads is None else max(1, min(int(threads), max_threads))
        previous = numba.get_num_threads()
        if previous != n_threads:
            numba.set_num_threads(n_threads)
        split = B < n_threads and self.splittable(n_threads)
        try:
            if split:  # fewer samples than threads: each dense layer's neurons are split across the threads
                from ._kernel_split import simulate_split

                simulate_split(T, sample_ptr, in_times, in_idx, len(sizes), *self.kernel_args(), rec, rec_off,
                               counts, n_threads)
            else:
                _kernel.simulate_batch(T, sample_ptr, in_times, in_idx, len(sizes), *self.kernel_args(), rec, rec_off,
                                       counts, max(1, min(B, n_threads)))
        finally:
            if previous != n_threads:
                numba.set_num_threads(previous)
        wall = time.perf_counter() - t0
        rasters = [rec[:, rec_off[l]:rec_off[l] + T * n].reshape(B, T, n) if rec_off[l] >= 0 else None
                   for l, n in enumerate(sizes)]
        # channel-last layers ran with their neurons permuted: back to the network's (c, y, x) order
        rasters = [r if (r is None or inv is None) else r[:, :, inv] for r, inv in zip(rasters, self.unpermute)]
        totals = counts.sum(axis=0)
        layers, spikes_in = [], spikes.n_spikes
        for l in range(len(net.layers)):
            counts_fields = dict(self.static_counts[l])  # static: shapes, geometry
            counts_fields.update(spikes_in=int(spikes_in), synaptic_events=int(totals[l, 0]),
                                 neuron_updates=B * T * sizes[l], spikes_out=int(totals[l, 1]))
            layers.append(LayerCounts(**counts_fields))
            # an integer layer's spikes reach the next layer one step later: those of the last step never arrive
            spikes_in = totals[l, 1] - totals[l, 2] if net.integer else totals[l, 1]
        ec = EventCounts(layers=tuple(layers), samples=B, timesteps=T, timestep_s=spikes.timestep_s,
                         source={"simulator": "spikebench", "backend": SparseCPUBackend.name, "network": net.name})
        return SimulationResult(output_spikes=rasters[-1], counts=ec, wall_time_s=wall, run_s=wall,
                                backend=SparseCPUBackend.name,
                                device="cpu", layer_spikes=rasters if record else None,
                                extra={"threads": n_threads, "parallel": "neurons" if split else "samples"})

    def splittable(self, n_threads: int) -> bool:
        """Whether some layer is dense, feed-forward and wide enough to split over ``n_threads`` threads."""
        from ._kernel_split import MIN_SLICE

        return n_threads > 1 and any(bool(p) and not bool(r) and int(n) >= n_threads * MIN_SLICE
                                     for p, r, n in zip(self.plain, self.recurrent, self.n_out))


_WARM = False


def _warm_up(prepared: PreparedNetwork) -> None:
    """Load the compiled kernel and start numba's thread pool once per process, outside any timing."""
    global _WARM
    if _WARM:
        return
    from . import _kernel

    L = len(prepared.n_out)
    rec = np.zeros((1, int(prepared.n_out[-1])), np.uint8)
    rec_off = np.full(L, -1, np.int64)
    rec_off[-1] = 0
    _kernel.simulate_batch(1, np.zeros(2, np.int64), np.zeros(1, np.int32), np.zeros(1, np.int32), L,
                           *prepared.kernel_args(), rec, rec_off, np.zeros((1, L, 3), np.int64), 1)
    _WARM = True


class SparseCPUBackend:
    """Event-driven simulation on the CPU (LIF and current-based neurons; dense, recurrent, conv and
    pooled layers); does work only for spikes that arrive, plus one update per neuron and step."""

    name = "sparse-cpu"

    def prepare(self, network: Network) -> PreparedNetwork:
        """``network`` packed for the kernel, built once per network and kept with it
        (:meth:`~spikebench.core.network.Network.derived`): a loop over samples prepares nothing again."""
        return network.derived("sparse-cpu", lambda: PreparedNetwork.build(network))

    def simulate(self, network: Network, spikes: SpikeTrain, *, device: str | None = None, record: bool = False,
                 threads: int | None = None) -> SimulationResult:
        if device not in (None, "cpu"):
            raise BackendUnavailableError(f"backend 'sparse-cpu' runs on the CPU only, not on device {device!r}; "
                                          "use backend 'snntorch' for CUDA")
        t0 = time.perf_counter()
        prepared = self.prepare(network)
        prepare_s = time.perf_counter() - t0
        result = prepared.run(spikes, record=record, threads=threads)
        return dataclasses.replace(result, wall_time_s=time.perf_counter() - t0, prepare_s=prepare_s)
