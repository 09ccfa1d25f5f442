"""The event-driven LIF kernel (numba). Pure functions over flat arrays; no spikebench imports.

Work is done only for spikes that arrive: at each step the weight rows of the presynaptic neurons
that spiked are added to the postsynaptic input accumulator (four rows per pass, so the
accumulator is loaded and stored once per four spikes), then every neuron takes one LIF step in a
branch-free vector loop, and the spiking neurons are compacted into the step's spike list. Layers
run one after another over all steps of a sample (layer k+1 reads layer k's spike list), so each
layer's weights stay hot in cache. Samples run in parallel, one contiguous chunk per thread.

Float32 arithmetic follows snnTorch's operation order exactly (see ``spikebench.core.network``);
do not enable ``fastmath``: contracting ``beta*mem + I`` into a fused multiply-add would change
rounding and break bit-identity with snnTorch.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

_OPTS = dict(cache=True, nogil=True, boundscheck=False, error_model="numpy")


@njit(**_OPTS)
def _add_rows(acc, W, base, stride, idx, lo, hi, nz, n):
    """acc[:n] += sum of rows idx[lo:hi] of W (row i at W[base + i*stride :]); returns events."""
    events = 0
    k = lo
    while k + 4 <= hi:
        a = base + idx[k] * stride
        b = base + idx[k + 1] * stride
        c = base + idx[k + 2] * stride
        d = base + idx[k + 3] * stride
        events += nz[idx[k]] + nz[idx[k + 1]] + nz[idx[k + 2]] + nz[idx[k + 3]]
        for j in range(n):
            acc[j] += (W[a + j] + W[b + j]) + (W[c + j] + W[d + j])
        k += 4
    while k < hi:
        a = base + idx[k] * stride
        events += nz[idx[k]]
        for j in range(n):
            acc[j] += W[a + j]
        k += 1
    return events


@njit(**_OPTS)
def _lif_step(mem, acc, rec, beta, thr, flags, n, recurrent, reset_zero):
    """One LIF step for n neurons, branch-free; flags[j] = 1 where neuron j spikes."""
    if not recurrent:
        if not reset_zero:
            for j in range(n):
                m = mem[j]
                r = np.float32(1.0) if m > thr[j] else np.float32(0.0)
                m = (beta[j] * m + acc[j]) - r * thr[j]
                mem[j] = m
                flags[j] = m > thr[j]
        else:
            for j in range(n):
                m = mem[j]
                r = np.float32(1.0) if m > thr[j] else np.float32(0.0)
                m = beta[j] * ((np.float32(1.0) - r) * m) + acc[j]
                mem[j] = m
                flags[j] = m > thr[j]
    else:
        if not reset_zero:
            for j in range(n):
                m = mem[j]
                r = np.float32(1.0) if m > thr[j] else np.float32(0.0)
                m = ((beta[j] * m + acc[j]) + rec[j]) - r * thr[j]
                mem[j] = m
                flags[j] = m > thr[j]
        else:
            for j in range(n):
                m = mem[j]
                r = np.float32(1.0) if m > thr[j] else np.float32(0.0)
                b = (beta[j] * m + acc[j]) + rec[j]
                m = b - r * b
                mem[j] = m
                flags[j] = m > thr[j]


@njit(**_OPTS)
def _compact(flags, n, out_idx, k):
    """Append the indices of set flags to out_idx from position k (branch-free); returns new k."""
    for j in range(n):
        out_idx[k] = j
        k += flags[j]
    return k


@njit(**_OPTS)
def _run_layer(T, in_ptr, in_idx, out_ptr, out_idx, W, w_off, R, r_off, nz_in, nz_rec, bias, rbias, beta, thr,
               n_out, recurrent, reset_zero, has_bias, mem, acc, racc, flags, rec, rec_off):
    """Run one layer over T steps of one sample. Returns (synaptic events, spikes out)."""
    events = 0
    for j in range(n_out):
        mem[j] = 0.0
        racc[j] = 0.0
    k = 0
    out_ptr[0] = 0
    for t in range(T):
        if has_bias:
            for j in range(n_out):
                acc[j] = bias[j]
        else:
            for j in range(n_out):
                acc[j] = 0.0
        events += _add_rows(acc, W, w_off, n_out, in_idx, in_ptr[t], in_ptr[t + 1], nz_in, n_out)
        if recurrent:
            for j in range(n_out):
                racc[j] = rbias[j]
            if t > 0:
                events += _add_rows(racc, R, r_off, n_out, out_idx, out_ptr[t - 1], out_ptr[t], nz_rec, n_out)
        _lif_step(mem, acc, racc, beta, thr, flags, n_out, recurrent, reset_zero)
        k = _compact(flags, n_out, out_idx, k)
        out_ptr[t + 1] = k
        if rec_off >= 0:
            base = rec_off + t * n_out
            for j in range(n_out):
                rec[base + j] = flags[j]
    return events, k


@njit(parallel=True, **_OPTS)
def simulate_batch(T, step_ptr, in_idx, n_layers, n_in, n_out, recurrent, reset_zero, has_bias,
                   W, w_off, R, r_off, nz, nz_in_off, nz_rec_off, bias, rbias, beta, thr, n_off,
                   rec, rec_off, counts, n_chunks):
    """Simulate samples ``0..B-1`` (B = step_ptr.shape[0]).

    step_ptr (B, T+1) int64 offsets into in_idx (int32 input channels). Layer l's transposed weight
    matrix (n_in[l], n_out[l]) starts at W[w_off[l]], its transposed recurrent matrix at R[r_off[l]];
    nz holds non-zero counts per weight row; bias/rbias/beta/thr hold per-neuron values at n_off[l].
    rec (B, ...) uint8 receives spike rasters of layers with rec_off[l] >= 0 (zeros expected).
    counts (B, n_layers, 2) int64 receives (synaptic events, spikes out) per sample and layer.
    """
    B = step_ptr.shape[0]
    max_n = 1
    for l in range(n_layers):
        max_n = max(max_n, n_out[l])
    chunk = (B + n_chunks - 1) // n_chunks
    for c in prange(n_chunks):
        lo = c * chunk
        hi = min(B, lo + chunk)
        if lo >= hi:
            continue
        mem = np.empty(max_n, np.float32)
        acc = np.empty(max_n, np.float32)
        racc = np.empty(max_n, np.float32)
        flags = np.empty(max_n, np.uint8)
        buf_a = np.empty(T * max_n + 1, np.int32)
        buf_b = np.empty(T * max_n + 1, np.int32)
        ptr_a = np.empty(T + 1, np.int64)
        ptr_b = np.empty(T + 1, np.int64)
        for s in range(lo, hi):
            # layer 0 reads the input train directly
            cur_ptr = step_ptr[s]
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
                ev, k = _run_layer(T, cur_ptr, cur_idx, out_ptr, out_idx, W, w_off[l], R, r_off[l],
                                   nz[nz_in_off[l]:nz_in_off[l] + n_in[l]],
                                   nz[nz_rec_off[l]:nz_rec_off[l] + no],
                                   bias[o:o + no], rbias[o:o + no], beta[o:o + no], thr[o:o + no],
                                   no, recurrent[l], reset_zero[l], has_bias[l], mem, acc, racc, flags,
                                   rec[s], ro)
                counts[s, l, 0] = ev
                counts[s, l, 1] = k
                cur_ptr = out_ptr
                cur_idx = out_idx
                use_a = not use_a
