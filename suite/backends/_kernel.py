"""The event-driven LIF kernel (numba). Pure functions over flat arrays; no spikebench imports.

Work is done only for spikes that arrive: at each step the weight rows of the presynaptic neurons
that spiked are added to the postsynaptic input accumulator (four rows per pass, so the
accumulator is loaded and stored once per four spikes), then every neuron takes one LIF step in a
branch-free vector loop, and the spiking neurons are compacted into the step's spike list. Layers
run one after another over all steps of a sample (layer k+1 reads layer k's spike list), so each
layer's weights stay hot in cache. Samples run in parallel, one contiguous chunk per thread.

Layers that are not a plain dense matrix (convolutions, pooling) take the scatter path instead:
their synapses are an expanded sparse map (see ``spikebench.core.connectivity``), stored by input
as runs of adjacent targets (a conv layer's targets are kept channel-last, so a run is the
``C_out / groups`` channels one input reaches at one output position; see
``sparse_cpu.channel_last_runs``), and each input spike adds its runs into the accumulator of the
layer's targets, one vector add per run of 8 or 16; events are the stored entries reached. Max-pooled layers accumulate at
their pre-pool positions and each neuron's current is the maximum over its window plus its bias.
Neurons are LIF, or current-based (snnTorch ``Synaptic`` / ``RSynaptic``) with a synaptic state.

Float32 arithmetic follows snnTorch's operation order exactly (see ``spikebench.core.network``);
do not enable ``fastmath``: contracting ``beta*mem + I`` into a fused multiply-add would change
rounding and break bit-identity with snnTorch.
"""

from __future__ import annotations

import numpy as np
from llvmlite import binding as _llvm
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

_OPTS = dict(cache=True, nogil=True, boundscheck=False, error_model="numpy")
# AVX-512 has a compress-store instruction (vpcompressd) that packs the indices of spiking neurons
# 16 at a time; elsewhere LLVM would expand the intrinsic into branches, so use the scalar loop.
HAS_AVX512 = "+avx512f" in _llvm.get_host_cpu_features().flatten().split(",")
BLOCK = 16  # flags are padded with zeros to a multiple of this; spike lists get BLOCK spare slots


@intrinsic
def _compress16(typingctx, flags, j0, out, k):
    """Store those of j0..j0+15 whose ``flags[j0 + i] != 0`` contiguously at ``out[k:]``; return how many.

    One vector compare, one compress into a register, one 16-lane store and one popcount: 16
    neurons per few instructions instead of one per iteration. Reads 16 flags and writes 16 slots
    of ``out`` (those past the count are scratch, overwritten by the next call). The register form
    of ``vpcompressd`` is used because its memory form (``llvm.masked.compressstore``) is
    microcoded on AMD Zen 4: measured 1.04 ns per neuron there against 0.06 for this form.
    """
    sig = types.int64(flags, types.int64, out, types.int64)

    def codegen(context, builder, signature, args):
        fl, j0v, outv, kv = args
        fa = context.make_array(signature.args[0])(context, builder, fl)
        oa = context.make_array(signature.args[2])(context, builder, outv)
        i8x16 = ir.VectorType(ir.IntType(8), 16)
        i32x16 = ir.VectorType(ir.IntType(32), 16)
        i1x16 = ir.VectorType(ir.IntType(1), 16)
        vec = builder.load(builder.bitcast(builder.gep(fa.data, [j0v]), i8x16.as_pointer()), align=1)
        mask = builder.icmp_unsigned("!=", vec, ir.Constant(i8x16, [0] * 16))
        first = builder.insert_element(ir.Constant(i32x16, ir.Undefined), builder.trunc(j0v, ir.IntType(32)),
                                       ir.Constant(ir.IntType(32), 0))
        splat = builder.shuffle_vector(first, ir.Constant(i32x16, ir.Undefined), ir.Constant(i32x16, [0] * 16))
        idx = builder.add(splat, ir.Constant(i32x16, list(range(16))))
        if HAS_AVX512:
            compress = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(i32x16, [i32x16, i32x16, i1x16]), "llvm.x86.avx512.mask.compress.v16i32")
            packed = builder.call(compress, [idx, ir.Constant(i32x16, ir.Undefined), mask])
            builder.store(packed, builder.bitcast(builder.gep(oa.data, [kv]), i32x16.as_pointer()), align=4)
        else:  # never called without AVX-512 (see _compact); the generic intrinsic compiles anywhere
            store = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), [i32x16, ir.IntType(32).as_pointer(), i1x16]),
                "llvm.masked.compressstore.v16i32")
            builder.call(store, [idx, builder.gep(oa.data, [kv]), mask])
        ctpop = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.IntType(16), [ir.IntType(16)]), "llvm.ctpop.i16")
        return builder.zext(builder.call(ctpop, [builder.bitcast(mask, ir.IntType(16))]), ir.IntType(64))

    return sig, codegen


@njit(**_OPTS)
def _add_rows(acc, W, base, stride, idx, lo, hi, nz, n):
    """acc[:n] += sum of rows idx[lo:hi] of W (row i at W[base + i*stride :]); returns the events.

    Events are the non-zero weights in those rows. Four rows are summed per pass over the
    accumulator, and the 1-3 rows left over share one last pass. Indices into W are unsigned, so
    numba emits no negative-index wraparound and LLVM vectorises the inner loops (a signed flat
    ``W[a + j]`` index measured ~6x slower); unlike row slices, they cost no array views per row,
    which matters for narrow layers. ``W`` is float32, or int8 holding integer weights (see
    :func:`_run_layer`): the same loops widen each int8 to float32, reading a quarter of the bytes.
    """
    events = 0
    un = np.uint64(n)
    ub = np.uint64(base)
    us = np.uint64(stride)
    k = lo
    while k + 4 <= hi:
        ia, ib, ic, id_ = idx[k], idx[k + 1], idx[k + 2], idx[k + 3]
        a = ub + np.uint64(ia) * us
        b = ub + np.uint64(ib) * us
        c = ub + np.uint64(ic) * us
        d = ub + np.uint64(id_) * us
        events += nz[ia] + nz[ib] + nz[ic] + nz[id_]
        for j in range(un):
            acc[j] += (np.float32(W[a + j]) + np.float32(W[b + j])) + (np.float32(W[c + j]) + np.float32(W[d + j]))
        k += 4
    rest = hi - k
    if rest == 3:
        ia, ib, ic = idx[k], idx[k + 1], idx[k + 2]
        a = ub + np.uint64(ia) * us
        b = ub + np.uint64(ib) * us
        c = ub + np.uint64(ic) * us
        events += nz[ia] + nz[ib] + nz[ic]
        for j in range(un):
            acc[j] += (np.float32(W[a + j]) + np.float32(W[b + j])) + np.float32(W[c + j])
    elif rest == 2:
        ia, ib = idx[k], idx[k + 1]
        a = ub + np.uint64(ia) * us
        b = ub + np.uint64(ib) * us
        events += nz[ia] + nz[ib]
        for j in range(un):
            acc[j] += np.float32(W[a + j]) + np.float32(W[b + j])
    elif rest == 1:
        ia = idx[k]
        a = ub + np.uint64(ia) * us
        events += nz[ia]
        for j in range(un):
            acc[j] += np.float32(W[a + j])
    return events


@njit(**_OPTS)
def _lif_step(mem, acc, rec, beta, thr, flags, n, recurrent, reset_zero, bias, rbias):
    """One LIF step for n neurons, branch-free; flags[j] = 1 where neuron j spikes.

    Consumes the step's input (acc) and recurrent (rec) currents and leaves them at bias / rbias,
    the starting point of the next step (one pass over the accumulators instead of two).
    """
    if not recurrent:
        if not reset_zero:
            for j in range(n):
                m = mem[j]
                r = np.float32(1.0) if m > thr[j] else np.float32(0.0)
                m = (beta[j] * m + acc[j]) - r * thr[j]
                mem[j] = m
                flags[j] = m > thr[j]
                acc[j] = bias[j]
        else:
            for j in range(n):
                m = mem[j]
                r = np.float32(1.0) if m > thr[j] else np.float32(0.0)
                m = beta[j] * ((np.float32(1.0) - r) * m) + acc[j]
                mem[j] = m
                flags[j] = m > thr[j]
                acc[j] = bias[j]
    else:
        if not reset_zero:
            for j in range(n):
                m = mem[j]
                r = np.float32(1.0) if m > thr[j] else np.float32(0.0)
                m = ((beta[j] * m + acc[j]) + rec[j]) - r * thr[j]
                mem[j] = m
                flags[j] = m > thr[j]
                acc[j] = bias[j]
                rec[j] = rbias[j]
        else:
            for j in range(n):
                m = mem[j]
                r = np.float32(1.0) if m > thr[j] else np.float32(0.0)
                b = (beta[j] * m + acc[j]) + rec[j]
                m = b - r * b
                mem[j] = m
                flags[j] = m > thr[j]
                acc[j] = bias[j]
                rec[j] = rbias[j]


@njit(**_OPTS)
def _cuba_step(mem, syn, acc, rec, alpha, beta, thr, flags, n, recurrent, reset_zero, bias, rbias):
    """One current-based LIF step (snnTorch ``Synaptic`` / ``RSynaptic``), branch-free, like :func:`_lif_step`.

    ``syn = alpha*syn + I`` (``+ R`` when recurrent), ``b = beta*mem + syn``, then ``mem = b - r*thr``
    (subtract) or ``b - b*r`` (zero; the synaptic current is not reset), with ``r = mem[t-1] > thr``.
    """
    if not recurrent:
        if not reset_zero:
            for j in range(n):
                m = mem[j]
                r = np.float32(1.0) if m > thr[j] else np.float32(0.0)
                c = alpha[j] * syn[j] + acc[j]
                syn[j] = c
                m = (beta[j] * m + c) - r * thr[j]
                mem[j] = m
                flags[j] = m > thr[j]
                acc[j] = bias[j]
        else:
            for j in range(n):
                m = mem[j]
                r = np.float32(1.0) if m > thr[j] else np.float32(0.0)
                c = alpha[j] * syn[j] + acc[j]
                syn[j] = c
                b = beta[j] * m + c
                m = b - b * r
                mem[j] = m
                flags[j] = m > thr[j]
                acc[j] = bias[j]
    else:
        if not reset_zero:
            for j in range(n):
                m = mem[j]
                r = np.float32(1.0) if m > thr[j] else np.float32(0.0)
                c = (alpha[j] * syn[j] + acc[j]) + rec[j]
                syn[j] = c
                m = (beta[j] * m + c) - r * thr[j]
                mem[j] = m
                flags[j] = m > thr[j]
                acc[j] = bias[j]
                rec[j] = rbias[j]
        else:
            for j in range(n):
                m = mem[j]
                r = np.float32(1.0) if m > thr[j] else np.float32(0.0)
                c = (alpha[j] * syn[j] + acc[j]) + rec[j]
                syn[j] = c
                b = beta[j] * m + c
                m = b - b * r
                mem[j] = m
                flags[j] = m > thr[j]
                acc[j] = bias[j]
                rec[j] = rbias[j]


@njit(**_OPTS)
def _shift(x, e):
    """``x << e`` for e > 0, else the arithmetic (flooring) ``x >> -e`` (int64)."""
    if e > 0:
        return x << e
    return x >> (-e)


@njit(**_OPTS)
def _decay12(x, d):
    """``sign(y) * (|y| >> 12)`` with ``y = x * (4096 - d)``: Lava's sign-magnitude 12-bit decay."""
    y = x * (np.int64(4096) - d)
    if y >= 0:
        return y >> 12
    return -((-y) >> 12)


@njit(**_OPTS)
def _int_step(u, v, acc, racc, w_scale, r_scale, w_exp, r_exp, recurrent, du, dv, ibias, vth, rsub, reset_zero,
              act_shift, half, flags, n):
    """One step of n integer neurons (``spikebench.core.fixed_point``: Lava's bit-accurate CUBA LIF).

    ``acc`` holds the step's summed input mantissas as exact integer-valued float32 (in units of
    ``w_scale``, a power of two: the int8 copy's scale, or 1), ``racc`` the recurrent ones; both are
    consumed (left at 0). The sum is shifted by the weight exponent as an integer, then
    ``u = wrap(decay(u, du) + (a << act_shift))``, ``v = clip(decay(v, dv) + u + bias)``, spike where
    ``v > vth``, and the voltage is reset at once (to 0, or minus ``rsub``).
    """
    two_half = half + half
    lim = half - 1
    for j in range(n):
        a = _shift(np.int64(np.float64(acc[j]) * w_scale), w_exp)
        acc[j] = 0.0
        if recurrent:
            a += _shift(np.int64(np.float64(racc[j]) * r_scale), r_exp)
            racc[j] = 0.0
        un = _decay12(u[j], du[j]) + (a << act_shift)
        w = un - two_half if un > half else un
        if w <= -half:
            w = un + two_half
        u[j] = w
        vn = _decay12(v[j], dv[j]) + w + ibias[j]
        if vn > lim:
            vn = lim
        elif vn < -lim:
            vn = -lim
        s = vn > vth[j]
        if s:
            vn = np.int64(0) if reset_zero else vn - rsub[j]
        v[j] = vn
        flags[j] = s


def _vadd_factory(width):
    """An intrinsic ``acc[base:base+width] += vals[vb:vb+width]`` as one vector load, add and store.

    The two arrays are distinct but LLVM cannot know it, so a plain loop would not be packed into
    vectors (the store to ``acc`` might feed the next load of ``vals``). The add is an ordinary IEEE
    float32 add per lane (no fast-math flags): the same rounding as the scalar ``acc[j] += v``.
    """

    @intrinsic
    def _vadd(typingctx, acc, base, vals, vb):
        sig = types.void(acc, types.uint64, vals, types.uint64)

        def codegen(context, builder, signature, args):
            av, bv, vv, vbv = args
            aa = context.make_array(signature.args[0])(context, builder, av)
            va = context.make_array(signature.args[2])(context, builder, vv)
            vec = ir.VectorType(ir.FloatType(), width)
            pa = builder.bitcast(builder.gep(aa.data, [bv]), vec.as_pointer())
            pv = builder.bitcast(builder.gep(va.data, [vbv]), vec.as_pointer())
            builder.store(builder.fadd(builder.load(pa, align=4), builder.load(pv, align=4)), pa, align=4)
            return context.get_dummy_value()

        return sig, codegen

    return _vadd


_vadd8 = _vadd_factory(8)
_vadd16 = _vadd_factory(16)


@njit(**_OPTS)
def _scatter(acc, runptr, run_tgt, run_val, width, nz, idx, lo, hi):
    """For each input i in idx[lo:hi], add its runs: acc[run_tgt[r] + c] += run_val[r*width + c], c < width.

    A layer's targets are stored channel-last (see ``sparse_cpu.PreparedNetwork``), so one input's
    connections to the channels of one output position are ``width`` adjacent targets with adjacent
    values: a run, added as one vector operation for widths 8 and 16. Channels a position does not
    reach are padded with -0.0, which leaves every float32 unchanged (``x + -0.0 == x``, sign of
    zero included), so each target gets the same addends in the same spike order as a scalar
    scatter. Returns the events: ``nz[i]`` per spike, the stored (non-padding) entries.
    """
    events = 0
    w = np.uint64(width)
    for q in range(lo, hi):
        i = np.uint64(idx[q])
        events += nz[i]
        a = np.uint64(runptr[i])
        b = np.uint64(runptr[i + np.uint64(1)])
        if width == 16:
            for r in range(a, b):
                _vadd16(acc, np.uint64(np.uint32(run_tgt[r])), run_val, r * w)
        elif width == 8:
            for r in range(a, b):
                _vadd8(acc, np.uint64(np.uint32(run_tgt[r])), run_val, r * w)
        else:
            for r in range(a, b):
                t = np.uint64(np.uint32(run_tgt[r]))
                vb = r * w
                for c in range(w):
                    acc[t + c] += run_val[vb + c]
    return events


@njit(**_OPTS)
def _max_pool(acc, cur, pidx, win, bias, n, n_tgt):
    """cur[j] = max over acc[pidx[j*win : (j+1)*win]] + bias[j] for n neurons; then acc[:n_tgt] = 0."""
    uw = np.uint64(win)
    for j in range(n):
        base = np.uint64(j) * uw
        m = acc[np.uint64(np.uint32(pidx[base]))]
        for k in range(np.uint64(1), uw):
            v = acc[np.uint64(np.uint32(pidx[base + k]))]
            m = v if v > m else m
        cur[j] = m + bias[j]
    for j in range(n_tgt):
        acc[j] = 0.0


@njit(**_OPTS)
def _compact(flags, n, out_idx, k):
    """Append the indices of set flags to out_idx from position k; returns the new k.

    With AVX-512: 16 flags per compress (:func:`_compress16`; measured 5x faster than the scalar
    loop on 2704 neurons, AMD Zen 4). Otherwise branch-free scalar: every index is written and the write position
    advances by the flag, so spike patterns cannot mispredict branches (skipping all-zero words
    measured 2x slower at 7-11 % activity because of mispredictions).
    """
    if HAS_AVX512:
        for j0 in range(0, n, BLOCK):
            k += _compress16(flags, j0, out_idx, k)
    else:
        for j in range(n):
            out_idx[k] = j
            k += flags[j]
    return k


@njit(**_OPTS)
def _run_layer(T, in_ptr, in_idx, out_ptr, out_idx, plain, W, W8, w_off, w_scale, runptr, run_tgt, run_val, run_w,
               pidx, win,
               n_tgt, R, R8, r_off, r_scale, nz_in, nz_rec, bias, rbias, zero, beta, alpha, cuba, thr, n_out,
               recurrent, reset_zero, mem, syn, acc, cur, racc, flags, rec, rec_off,
               integer, w_exp, r_exp, act_shift, half, du, dv, ibias, vth, rsub, u, v, w_stride):
    """Run one layer over T steps of one sample. Returns (synaptic events, spikes out, spikes at the last step).

    ``integer`` layers run in a chip's fixed-point arithmetic (:func:`_int_step`): their weights are
    integer mantissas, their input arrives one step late (step t adds the input spikes of step
    t - 1, as Lava's Dense delivers them) and their state is ``u``/``v`` (int64).

    ``plain`` layers add dense weight rows (:func:`_add_rows`); the others scatter their runs
    ``runptr``/``run_tgt``/``run_val`` of width ``run_w`` (:func:`_scatter`) into ``acc`` (``n_tgt`` targets), and
    with ``win > 0`` max-pool them into ``cur`` through ``pidx`` (``n_out`` windows of ``win``).
    ``cuba`` selects the current-based neuron (``alpha``, state ``syn``).

    Integer path (plain layers): when every weight of a matrix is an integer k times a power of two
    ``scale`` with |k| <= 127 (``w_scale > 0``), rows are read from the int8 copy ``W8`` (a quarter
    of the bytes), summed as integer-valued float32 (exact below 2**24) and turned into the current
    once per step: ``I = bias + acc * scale``. That equals the float path exactly whenever the float
    sums are exact (the regime in which backends agree at all), since multiplying by a power of two
    is exact.

    ``w_stride`` is the length of a weight row (``n_out``, or the whole layer's width when this call runs
    a slice of a dense layer's neurons starting at ``w_off``: see ``_kernel_split``).
    """
    events = 0
    maxpool = (not plain) and win > 0
    a_init = zero if (w_scale > 0 or maxpool or integer) else bias
    r_init = zero if (r_scale > 0 or integer) else rbias
    ws = np.float64(w_scale) if w_scale > 0 else np.float64(1.0)
    rs = np.float64(r_scale) if r_scale > 0 else np.float64(1.0)
    for j in range(n_out):
        mem[j] = 0.0
        syn[j] = 0.0
        u[j] = 0
        v[j] = 0
        acc[j] = a_init[j]
        racc[j] = r_init[j]
    if maxpool:
        for j in range(n_tgt):
            acc[j] = 0.0
    for j in range(n_out, min(flags.shape[0], ((n_out + BLOCK - 1) // BLOCK) * BLOCK)):
        flags[j] = 0  # _compact reads whole blocks; a wider layer may have left flags here
    k = 0
    out_ptr[0] = 0
    for t in range(T):
        # acc and racc hold a_init and r_init here (set above, then left so by each neuron step)
        inp = acc
        lo = in_ptr[t]
        hi = in_ptr[t + 1]
        if integer:  # the input of step t - 1 arrives now
            lo = in_ptr[t - 1] if t > 0 else in_ptr[0]
            hi = in_ptr[t] if t > 0 else in_ptr[0]
        if plain:
            if w_scale > 0:
                events += _add_rows(acc, W8, w_off, w_stride, in_idx, lo, hi, nz_in, n_out)
                if not integer:
                    for j in range(n_out):
                        acc[j] = bias[j] + acc[j] * w_scale
            else:
                events += _add_rows(acc, W, w_off, w_stride, in_idx, lo, hi, nz_in, n_out)
        else:
            events += _scatter(acc, runptr, run_tgt, run_val, run_w, nz_in, in_idx, lo, hi)
            if maxpool:
                _max_pool(acc, cur, pidx, win, bias, n_out, n_tgt)
                inp = cur
        if recurrent:
            if t > 0:
                if r_scale > 0:
                    events += _add_rows(racc, R8, r_off, n_out, out_idx, out_ptr[t - 1], out_ptr[t], nz_rec, n_out)
                else:
                    events += _add_rows(racc, R, r_off, n_out, out_idx, out_ptr[t - 1], out_ptr[t], nz_rec, n_out)
            if r_scale > 0 and not integer:
                for j in range(n_out):
                    racc[j] = rbias[j] + racc[j] * r_scale
        if integer:
            _int_step(u, v, inp, racc, ws, rs, w_exp, r_exp, recurrent, du, dv, ibias, vth, rsub, reset_zero,
                      act_shift, half, flags, n_out)
        elif cuba:
            _cuba_step(mem, syn, inp, racc, alpha, beta, thr, flags, n_out, recurrent, reset_zero, a_init, r_init)
        else:
            _lif_step(mem, inp, racc, beta, thr, flags, n_out, recurrent, reset_zero, a_init, r_init)
        k = _compact(flags, n_out, out_idx, k)
        out_ptr[t + 1] = k
        if rec_off >= 0:
            row = rec[rec_off + t * n_out: rec_off + (t + 1) * n_out]
            for j in range(n_out):
                row[j] = flags[j]
    last = k - out_ptr[T - 1] if T > 0 else 0
    return events, k, last


@njit(**_OPTS)
def widest(n_layers, n_out, n_tgt):
    """``(max neurons, max accumulator targets)`` over the layers (at least 1; targets at least the neurons)."""
    max_n = 1
    max_t = 1
    for l in range(n_layers):
        max_n = max(max_n, n_out[l])
        max_t = max(max_t, n_tgt[l])
    return max_n, max(max_t, max_n)


@njit(**_OPTS)
def layer_state(n, n_tgt):
    """A layer's working state for ``n`` neurons and ``n_tgt`` accumulator targets: mem, syn, u, v, acc,
    cur, racc and the spike flags (zero-padded to whole blocks, which :func:`_compact` reads)."""
    return (np.empty(n, np.float32), np.empty(n, np.float32), np.zeros(n, np.int64), np.zeros(n, np.int64),
            np.empty(n_tgt, np.float32), np.empty(n, np.float32), np.empty(n, np.float32),
            np.zeros(((n + BLOCK - 1) // BLOCK) * BLOCK, np.uint8))


@njit(**_OPTS)
def input_pointers(in_ptr, sample_ptr, in_times, s, T):
    """``in_ptr[t]:in_ptr[t + 1]``: sample ``s``'s input spikes at step ``t``, as offsets into the whole train."""
    for t in range(T + 1):
        in_ptr[t] = 0
    for q in range(sample_ptr[s], sample_ptr[s + 1]):
        in_ptr[in_times[q] + 1] += 1
    in_ptr[0] = sample_ptr[s]
    for t in range(T):
        in_ptr[t + 1] += in_ptr[t]


@njit(parallel=True, **_OPTS)
def simulate_batch(T, sample_ptr, in_times, in_idx, n_layers, n_in, n_out, recurrent, reset_zero,
                   W, W8, w_off, w_scale, R, R8, r_off, r_scale, nz, nz_in_off, nz_rec_off, bias, rbias, beta, thr,
                   n_off, plain, cuba, alpha, n_tgt, runptr, c_off, run_tgt, g_off, run_val, v_off, run_w, pidx, p_off,
                   p_win, integer, w_exp, r_exp, act_shift, half, du, dv, ibias, vth, rsub,
                   rec, rec_off, counts, n_chunks):
    """Simulate samples ``0..B-1`` (B = step_ptr.shape[0]) for T steps (the input's steps plus, for
    integer networks, the drain steps: input spikes have times below the input's own length).

    Sample s's input spikes are in_times/in_idx[sample_ptr[s]:sample_ptr[s+1]] (int32 steps and
    channels, sorted by step). Layer l's transposed weight
    matrix (n_in[l], n_out[l]) starts at W[w_off[l]], its transposed recurrent matrix at R[r_off[l]];
    W8/R8 hold int8 copies (same offsets) of the matrices whose w_scale/r_scale is > 0 (integer path);
    nz holds non-zero counts per weight row; bias/rbias/beta/thr/alpha hold per-neuron values at n_off[l]
    (bias: the neuron's constant current, pooling included). A layer with plain[l] False has no
    rows in W: its expanded synapses are runs of run_w[l] adjacent targets, input i's at
    runptr[c_off[l] + i] .. runptr[c_off[l] + i + 1] (relative to the layer's runs: starting targets
    run_tgt[g_off[l]:g_off[l+1]], values run_val[v_off[l]:v_off[l+1]], run r's at r*run_w[l]) onto
    n_tgt[l] targets, and with p_win[l] > 0
    its max-pooling windows are pidx[p_off[l]:p_off[l]+n_out[l]*p_win[l]] (pre-pool positions).
    cuba[l] selects current-based neurons with decay alpha. integer[l] selects the fixed-point neuron
    (:func:`_int_step`) with shifts w_exp/r_exp/act_shift, state limit half = 2**(state_bits-1) and
    per-neuron int64 du/dv/ibias/vth/rsub at n_off[l].
    rec (B, ...) uint8 receives spike rasters of layers with rec_off[l] >= 0 (zeros expected).
    counts (B, n_layers, 3) int64 receives (synaptic events, spikes out, spikes out at the last step)
    per sample and layer.
    """
    B = sample_ptr.shape[0] - 1
    max_n, max_t = widest(n_layers, n_out, n_tgt)
    chunk = (B + n_chunks - 1) // n_chunks
    for c in prange(n_chunks):
        lo = c * chunk
        hi = min(B, lo + chunk)
        if lo >= hi:
            continue
        mem, syn, u, v, acc, cur, racc, flags = layer_state(max_n, max_t)
        zero = np.zeros(max_n, np.float32)
        buf_a = np.empty(T * max_n + BLOCK, np.int32)
        buf_b = np.empty(T * max_n + BLOCK, np.int32)
        ptr_a = np.empty(T + 1, np.int64)
        ptr_b = np.empty(T + 1, np.int64)
        in_ptr = np.empty(T + 1, np.int64)
        for s in range(lo, hi):
            input_pointers(in_ptr, sample_ptr, in_times, s, T)  # layer 0 reads the input train in place
            cur_ptr = in_ptr
            cur_idx = in_idx
            use_a = True
            for l in range(n_layers):
                out_ptr = ptr_a if use_a else ptr_b
                out_idx = buf_a if use_a else buf_b
                no = n_out[l]
                ro = -1
                if rec_off[l] >= 0:
                    ro = rec_off[l]
                o = n_off[l]
                ev, k, last = _run_layer(T, cur_ptr, cur_idx, out_ptr, out_idx, plain[l], W, W8, w_off[l], w_scale[l],
                                   runptr[c_off[l]:c_off[l] + n_in[l] + 1], run_tgt[g_off[l]:g_off[l + 1]],
                                   run_val[v_off[l]:v_off[l + 1]], run_w[l], pidx[p_off[l]:p_off[l] + no * p_win[l]],
                                   p_win[l],
                                   n_tgt[l], R, R8, r_off[l], r_scale[l],
                                   nz[nz_in_off[l]:nz_in_off[l] + n_in[l]],
                                   nz[nz_rec_off[l]:nz_rec_off[l] + no],
                                   bias[o:o + no], rbias[o:o + no], zero[:no], beta[o:o + no], alpha[o:o + no],
                                   cuba[l], thr[o:o + no], no, recurrent[l], reset_zero[l], mem, syn, acc, cur, racc,
                                   flags, rec[s], ro, integer[l], w_exp[l], r_exp[l], act_shift[l], half[l],
                                   du[o:o + no], dv[o:o + no], ibias[o:o + no], vth[o:o + no], rsub[o:o + no], u, v,
                                   no)
                counts[s, l, 0] = ev
                counts[s, l, 1] = k
                counts[s, l, 2] = last
                cur_ptr = out_ptr
                cur_idx = out_idx
                use_a = not use_a
