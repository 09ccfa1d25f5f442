"""The kernel for batches smaller than the thread count: samples one after another, each dense
feed-forward layer's neurons split across the threads (numba). No spikebench imports.

:func:`simulate_batch` parallelises over samples, so one sample runs on one core however many there
are. Here the samples run in turn and a layer whose neurons do not depend on each other within the
layer (a dense, non-recurrent layer: every neuron's input is the previous layer's spike list, known
for all steps because layers run one after another) is cut into ``n_parts`` contiguous slices of its
neurons, each run over all steps by :func:`_kernel._run_layer` on its own thread (one parallel region
per layer and sample, not per step). The slices' spike lists are then merged step by step; slices are
in neuron order, so the merged list is sorted as the serial one. Every neuron adds the same weight
rows in the same order and takes the same step as in the serial kernel, so spikes and counts are
identical (tests compare them). Recurrent, convolutional and pooled layers, and layers too narrow to
split, run whole.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._kernel import _OPTS, BLOCK, _run_layer, input_pointers, layer_state, widest

#: a layer is split only if each slice keeps at least this many neurons: a slice's cost per step does not
#: shrink with its width below a few hundred neurons (the input spikes are walked by every slice). Measured
#: at batch 1 on 2 threads, 2312 -> n -> 10, 0.5 % input: n = 500 no gain, 2000 1.36x, 8000 1.54x.
MIN_SLICE = 512


@njit(**_OPTS)
def _bounds(no, parts):
    """Slice starts (multiples of BLOCK, so each slice's flags are whole blocks) and the end."""
    b = np.empty(parts + 1, np.int64)
    for p in range(parts):
        b[p] = ((p * no) // parts) // BLOCK * BLOCK
    b[parts] = no
    return b


@njit(parallel=True, **_OPTS)
def simulate_split(T, sample_ptr, in_times, in_idx, n_layers, n_in, n_out, recurrent, reset_zero,
                   W, W8, w_off, w_scale, R, R8, r_off, r_scale, nz, nz_in_off, nz_rec_off, bias, rbias, beta, thr,
                   n_off, plain, cuba, alpha, n_tgt, runptr, c_off, run_tgt, g_off, run_val, v_off, run_w, pidx, p_off,
                   p_win, integer, w_exp, r_exp, act_shift, half, du, dv, ibias, vth, rsub,
                   rec, rec_off, counts, n_parts):
    """Same arguments and results as :func:`_kernel.simulate_batch`, with ``n_parts`` slices per split layer."""
    B = sample_ptr.shape[0] - 1
    max_n, max_t = widest(n_layers, n_out, n_tgt)
    # whole-layer state (layers that are not split) and the merged spike lists
    mem, syn, u, v, acc, cur, racc, flags = layer_state(max_n, max_t)
    zero = np.zeros(max_n, np.float32)
    buf_a = np.empty(T * max_n + BLOCK, np.int32)
    buf_b = np.empty(T * max_n + BLOCK, np.int32)
    ptr_a = np.empty(T + 1, np.int64)
    ptr_b = np.empty(T + 1, np.int64)
    in_ptr = np.empty(T + 1, np.int64)
    # per-slice state and spike lists
    width = (max_n + n_parts - 1) // n_parts + BLOCK
    p_ptr = np.empty((n_parts, T + 1), np.int64)
    p_idx = np.empty((n_parts, T * width + BLOCK), np.int32)
    p_cnt = np.zeros((n_parts, 3), np.int64)
    no_nz = nz * 0  # slices after the first count no events (the first counts each row's whole)
    no_rec = np.zeros((1, 1), np.uint8)
    for s in range(B):
        input_pointers(in_ptr, sample_ptr, in_times, s, T)
        cur_ptr = in_ptr
        cur_idx = in_idx
        use_a = True
        for l in range(n_layers):
            out_ptr = ptr_a if use_a else ptr_b
            out_idx = buf_a if use_a else buf_b
            no = n_out[l]
            o = n_off[l]
            ni = n_in[l]
            nzi = nz[nz_in_off[l]:nz_in_off[l] + ni]
            nzr = nz[nz_rec_off[l]:nz_rec_off[l] + no]
            rp = runptr[c_off[l]:c_off[l] + ni + 1]
            rt = run_tgt[g_off[l]:g_off[l + 1]]
            rv = run_val[v_off[l]:v_off[l + 1]]
            pw = pidx[p_off[l]:p_off[l] + no * p_win[l]]
            if plain[l] and not recurrent[l] and no >= n_parts * MIN_SLICE:
                bounds = _bounds(no, n_parts)
                for p in prange(n_parts):
                    q0 = bounds[p]
                    q1 = bounds[p + 1]
                    n = q1 - q0
                    a, b = o + q0, o + q1
                    m_, sy, uu, vv, ac, cu, ra, fl = layer_state(n, n)
                    pnz = no_nz[:ni]
                    if p == 0:
                        pnz = nzi
                    pev, pk, plast = _run_layer(
                        T, cur_ptr, cur_idx, p_ptr[p], p_idx[p], True, W, W8, w_off[l] + q0, w_scale[l], rp, rt, rv,
                        run_w[l], pw, p_win[l], n, R, R8, r_off[l], r_scale[l], pnz, nzr,
                        bias[a:b], rbias[a:b], zero[:n], beta[a:b], alpha[a:b], cuba[l], thr[a:b], n, False,
                        reset_zero[l], m_, sy, ac, cu, ra, fl, no_rec[0], -1, integer[l], w_exp[l], r_exp[l],
                        act_shift[l], half[l], du[a:b], dv[a:b], ibias[a:b], vth[a:b], rsub[a:b], uu, vv, no)
                    p_cnt[p, 0] = pev
                    p_cnt[p, 1] = pk
                    p_cnt[p, 2] = plast
                k = 0
                out_ptr[0] = 0
                for t in range(T):
                    for p in range(n_parts):
                        j0 = bounds[p]
                        for q in range(p_ptr[p, t], p_ptr[p, t + 1]):
                            out_idx[k] = p_idx[p, q] + j0
                            k += 1
                    out_ptr[t + 1] = k
                ev = 0
                last = 0
                for p in range(n_parts):
                    ev += p_cnt[p, 0]
                    last += p_cnt[p, 2]
                if rec_off[l] >= 0:
                    ro = rec_off[l]
                    for t in range(T):
                        for q in range(out_ptr[t], out_ptr[t + 1]):
                            rec[s, ro + t * no + out_idx[q]] = 1
            else:
                ev, k, last = _run_layer(T, cur_ptr, cur_idx, out_ptr, out_idx, plain[l], W, W8, w_off[l], w_scale[l],
                                         rp, rt, rv, run_w[l], pw, p_win[l], n_tgt[l], R, R8, r_off[l], r_scale[l],
                                         nzi, nzr, bias[o:o + no], rbias[o:o + no], zero[:no], beta[o:o + no],
                                         alpha[o:o + no], cuba[l], thr[o:o + no], no, recurrent[l], reset_zero[l],
                                         mem, syn, acc, cur, racc, flags, rec[s], rec_off[l], integer[l], w_exp[l],
                                         r_exp[l], act_shift[l], half[l], du[o:o + no], dv[o:o + no],
                                         ibias[o:o + no], vth[o:o + no], rsub[o:o + no], u, v, no)
            counts[s, l, 0] = ev
            counts[s, l, 1] = k
            counts[s, l, 2] = last
            cur_ptr = out_ptr
            cur_idx = out_idx
            use_a = not use_a


__all__ = ["MIN_SLICE", "simulate_split"]
