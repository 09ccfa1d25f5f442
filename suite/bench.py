"""``make bench``: the event-driven kernel against dense baselines, side by side in one run.

Workload: the N-MNIST-shaped network (2312 -> 500 -> 10, T = 300, feed-forward), Bernoulli input at
0.5 % density, first-layer weight mean tuned so hidden activity is about 7 %. Every method runs on
one thread (numba and torch), on a pool of distinct samples (a repeated sample lets the branch
predictor memorise spikes), in interleaved rounds after warm-up; the table reports medians.
JIT compilation is excluded (the kernels are compiled and cached before timing).

Methods:
  spikebench.simulate b1/b64 (repeated)  the public call a user makes, whole (wall clock around it), on a
                     network already simulated once (prepared, kept with the network)
  spikebench.simulate b1 (first call)    the public call on a network never simulated before (it is prepared)
  sparse-cpu b1      the reference kernel, one sample per call (Python call overhead included)
  sparse-cpu b64     the reference kernel over a batch of 64, one thread (weights on the 2**-8 grid
                     within +-127 steps are streamed as int8: exact, a quarter of the bytes)
  sparse-cpu b64, fp32 path  the same with the int8 path switched off
  snntorch b1 / b64  the snnTorch backend (Linear -> Leaky step loop, inference mode)
  snntorch cuda b1/b64  with --device cuda: snnTorch on the GPU, synchronised (not in "best dense CPU")
  gemm b1 / b64      time-batched dense baseline: one BLAS GEMM per layer over all T steps
                     (torch, MKL/oneDNN), then a compiled LIF scan; valid for feed-forward only
Each method's output spikes are checked against the reference kernel before timing.

A second table gives the single-layer kernel (2312 -> 500) throughput in synaptic events/s over a
density sweep, with the zero-input time (the neuron-update floor) beside it.

A third table times the convolutional path on the shipped N-MNIST CSNN (``nmnist-csnn``) at its
real activity: the offline N-MNIST test samples binned as the network asks (10 frames of 30 ms).
Methods: sparse-cpu b1/b64 (the event-driven scatter over each spike's kernel footprint), snnTorch
b1/b64 (Conv2d -> AvgPool2d -> Leaky step loop), and the best dense path, ``torch conv`` b1/b64:
each layer's convolution over all time-batched frames at once (one ``conv2d`` call per layer), then
the same compiled LIF scan. A breakdown splits the sparse-cpu time into the neuron-update floor
(zero input) and the event propagation.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

SIZES = (2312, 500, 10)
T = 300
INPUT_DENSITY = 0.005
TARGET_HIDDEN = 0.07


def _lif_scan_factory():
    from numba import njit

    @njit(cache=True, boundscheck=False)
    def lif_scan(I, beta, thr, out):  # noqa: E741 - I is the input current (B, T, n)
        """snnTorch Leaky (subtract, delayed reset) over precomputed currents; out gets 0/1 spikes."""
        B, TT, n = I.shape
        mem = np.empty(n, np.float32)
        for b in range(B):
            for j in range(n):
                mem[j] = 0.0
            for t in range(TT):
                cur = I[b, t]
                o = out[b, t]
                for j in range(n):
                    m = mem[j]
                    r = np.float32(1.0) if m > thr[j] else np.float32(0.0)
                    m = (beta[j] * m + cur[j]) - r * thr[j]
                    mem[j] = m
                    o[j] = np.float32(1.0) if m > thr[j] else np.float32(0.0)

    return lif_scan


def tune_network(seed: int, pool, *, target: float = TARGET_HIDDEN):
    """Bisect the first layer's weight mean until hidden activity is within 0.3 % of ``target``."""
    import spikebench as sb

    probe = pool.select(slice(0, 8))
    lo, hi = 0.0, 0.05
    net = None
    for _ in range(20):
        mid = 0.5 * (lo + hi)
        net = sb.Network.random(sizes=SIZES, seed=seed, weight_mean=[mid, 0.0], name="nmnist-shaped")
        act = sb.simulate(net, probe, threads=1).counts.activity()[0]
        if abs(act - target) < 0.003:
            break
        lo, hi = (mid, hi) if act < target else (lo, mid)
    return net


def _timeit(fn, per_call_samples: int, *, min_time: float = 0.02) -> float:
    """Seconds per sample: repeat ``fn`` until ``min_time`` has passed (at least once)."""
    n = 0
    t0 = time.perf_counter()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= min_time:
            return elapsed / (n * per_call_samples)


def run_network_benchmark(rounds: int = 5, pool_size: int = 64, seed: int = 0, quick: bool = False,
                          device: str | None = None) -> dict:
    import numba
    import torch

    import spikebench as sb
    from spikebench.backends.snntorch_backend import SnnTorchBackend
    from spikebench.backends.sparse_cpu import PreparedNetwork

    torch.set_num_threads(1)
    numba.set_num_threads(1)
    pool = sb.random_spikes(pool_size, T, SIZES[0], INPUT_DENSITY, seed=seed + 1)
    net = tune_network(seed, pool)
    prepared = PreparedNetwork.build(net)
    prepared_f32 = PreparedNetwork.build(net, int8=False)  # the same weights on the float32 path
    singles = [pool.select([i]) for i in range(pool_size)]
    ref = prepared.run(pool, threads=1)
    events_per_sample = ref.counts.synaptic_events / pool_size
    activity = ref.counts.activity()

    snn = SnnTorchBackend()
    model = snn.prepare(net)
    W = [torch.from_numpy(np.array(layer.weight)) for layer in net.layers]
    betas = [np.array(layer.beta) for layer in net.layers]
    thrs = [np.array(layer.threshold) for layer in net.layers]
    lif_scan = _lif_scan_factory()
    dense_pool = torch.from_numpy(pool.to_dense(np.float32))

    def gemm(x):  # x: (B, T, n_in) float32 tensor
        cur = x
        for l, w in enumerate(W):
            current = (cur.reshape(-1, cur.shape[-1]) @ w.T).reshape(cur.shape[0], cur.shape[1], -1).numpy()
            out = np.empty_like(current)
            lif_scan(current, betas[l], thrs[l], out)
            cur = torch.from_numpy(out)
        return cur.numpy()

    # correctness before timing: every method must reproduce the reference output spikes
    assert np.array_equal(gemm(dense_pool[:8]).astype(np.uint8), ref.output_spikes[:8]), "GEMM baseline disagrees"
    assert np.array_equal(prepared_f32.run(pool.select(slice(0, 8)), threads=1).output_spikes,
                          ref.output_spikes[:8]), "float32 path disagrees with the int8 path"
    chk = snn.simulate(net, pool.select(slice(0, 4)), batch_size=4, prepared=model)
    assert np.array_equal(chk.output_spikes, ref.output_spikes[:4]), "snnTorch disagrees with sparse-cpu"

    cursor = {"i": 0}

    def next_index() -> int:  # rotate over distinct samples for batch-1 methods
        cursor["i"] = (cursor["i"] + 1) % pool_size
        return cursor["i"]

    def next_single():
        return singles[next_index()]

    methods = {
        "spikebench.simulate b1 (repeated)": (lambda: sb.simulate(net, next_single(), threads=1), 1),
        "spikebench.simulate b64 (repeated)": (lambda: sb.simulate(net, pool, threads=1), pool_size),
        "sparse-cpu b1": (lambda: prepared.run(next_single(), threads=1), 1),
        "sparse-cpu b64": (lambda: prepared.run(pool, threads=1), pool_size),
        "sparse-cpu b64, fp32 path": (lambda: prepared_f32.run(pool, threads=1), pool_size),
        "snntorch b1": (lambda: snn.simulate(net, next_single(), batch_size=1, prepared=model), 1),
        "snntorch b64": (lambda: snn.simulate(net, pool, batch_size=64, prepared=model), pool_size),
        "gemm b1": (lambda: gemm(dense_pool[next_index()][None]), 1),
        "gemm b64": (lambda: gemm(dense_pool), pool_size),
    }
    if device and device != "cpu":
        cuda_model = snn.prepare(net, device)
        chk = snn.simulate(net, pool, batch_size=64, prepared=cuda_model)  # contract on the device
        assert np.array_equal(chk.output_spikes, ref.output_spikes), f"snnTorch on {device} disagrees"
        assert chk.counts == ref.counts, f"snnTorch counts on {device} disagree"
        methods[f"snntorch {device} b1"] = (lambda: snn.simulate(net, next_single(), batch_size=1,
                                                                  prepared=cuda_model), 1)
        methods[f"snntorch {device} b64"] = (lambda: snn.simulate(net, pool, batch_size=64, prepared=cuda_model),
                                             pool_size)
    if quick:
        methods.pop("snntorch b64")
    times: dict[str, list[float]] = {k: [] for k in methods}
    for fn, _ in methods.values():  # warm-up
        fn()
    for _ in range(rounds):
        for name, (fn, per) in methods.items():
            fn()  # re-warm caches after the previous method
            times[name].append(_timeit(fn, per, min_time=0.005 if quick else 0.02))
    # the first call on a network a user just built: the public call prepares it (once; later calls reuse it)
    import pickle

    for _ in range(rounds):
        fresh = pickle.loads(pickle.dumps(net))  # the same network, never prepared (the copy carries no cache)
        t0 = time.perf_counter()
        sb.simulate(fresh, next_single(), threads=1)
        times.setdefault("spikebench.simulate b1 (first call)", []).append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    best_dense = min(v for k, v in med.items() if not k.startswith(("sparse", "spikebench")) and "cuda" not in k)
    rows = []
    for name, sec in med.items():
        rows.append({
            "method": name, "ms_per_sample": sec * 1e3, "g_events_per_s": events_per_sample / sec / 1e9,
            "speedup_vs_snntorch_b1": med["snntorch b1"] / sec,
            "spread_pct": 100 * (max(times[name]) - min(times[name])) / sec,
        })
    return {
        "network": {"sizes": list(SIZES), "timesteps": T, "input_density": pool.density, "hidden_activity": activity[0],
                    "output_activity": activity[1], "synaptic_events_per_sample": events_per_sample,
                    "weight_mean_layer1": float(np.mean(net.layers[0].weight))},
        "rows": rows,
        "sparse_vs_snntorch_b1": med["snntorch b1"] / med["sparse-cpu b64"],
        "sparse_b1_vs_snntorch_b1": med["snntorch b1"] / med["sparse-cpu b1"],
        "sparse_vs_best_dense": best_dense / med["sparse-cpu b64"],  # best dense CPU path
        "sparse_b1_vs_best_dense": best_dense / med["sparse-cpu b1"],
        "public_b1_vs_snntorch_b1": med["snntorch b1"] / med["spikebench.simulate b1 (repeated)"],
        "public_b64_vs_snntorch_b1": med["snntorch b1"] / med["spikebench.simulate b64 (repeated)"],
        "public_first_call_ms": med["spikebench.simulate b1 (first call)"] * 1e3,
        "rounds": rounds,
        "threads": 1,
    }


def run_layer_benchmark(densities=(0.005, 0.05, 0.2), rounds: int = 5, seed: int = 0) -> list[dict]:
    """Single 2312 -> 500 layer: synaptic events/s of the kernel, and the zero-input floor.

    Two weight paths: ``int8`` (weights on a 2**-8 grid within +-127 steps, streamed as int8 and
    widened: exact) and ``float32`` (the same weights forced onto the float path).
    """
    import spikebench as sb
    from spikebench.backends.sparse_cpu import PreparedNetwork

    net = sb.Network.random(sizes=SIZES[:2], seed=seed, weight_mean=[-0.02], name="layer")  # mostly silent
    preps = {"int8": PreparedNetwork.build(net), "float32": PreparedNetwork.build(net, int8=False)}
    assert preps["int8"].w_scale[0] > 0 and preps["float32"].w_scale[0] == 0
    zero = sb.random_spikes(16, T, SIZES[0], 0.0, seed=seed)
    pools = {d: sb.random_spikes(16, T, SIZES[0], d, seed=seed + 7) for d in densities}
    res = {(w, d): [] for w in preps for d in densities}
    floor = {w: [] for w in preps}
    for prep in preps.values():
        prep.run(zero, threads=1)
    for _ in range(rounds):
        for w, prep in preps.items():
            floor[w].append(_timeit(lambda prep=prep: prep.run(zero, threads=1), 16))
            for d, p in pools.items():
                res[w, d].append(_timeit(lambda prep=prep, p=p: prep.run(p, threads=1), 16))
    rows = []
    for w, prep in preps.items():
        f = statistics.median(floor[w])
        for d, p in pools.items():
            ev = prep.run(p, threads=1).counts.synaptic_events / 16
            sec = statistics.median(res[w, d])
            rows.append({"weights": w, "input_density": d, "events_per_sample": ev, "ms_per_sample": sec * 1e3,
                         "g_events_per_s": ev / sec / 1e9,
                         "g_events_per_s_propagation": ev / max(sec - f, 1e-12) / 1e9, "floor_ms": f * 1e3})
    return rows


def run_conv_benchmark(rounds: int = 5, pool_size: int = 64, quick: bool = False, network: str = "nmnist-csnn",
                       seed: int = 0) -> dict:
    """The shipped CSNN on offline N-MNIST test samples: sparse-cpu vs snnTorch vs time-batched torch conv."""
    import numba
    import torch
    import torch.nn.functional as F

    import spikebench as sb
    from spikebench.backends.snntorch_backend import SnnTorchBackend
    from spikebench.backends.sparse_cpu import PreparedNetwork
    from spikebench.workloads import get_workload
    from spikebench.workloads.base import NETWORKS_DIR, load_network

    torch.set_num_threads(1)
    numba.set_num_threads(1)
    net = load_network(NETWORKS_DIR / f"{network}.nir")
    binning = {k: v for k, v in (net.metadata.get("binning") or {}).items() if k in ("timestep_s", "timesteps")}
    wl = get_workload("nmnist", with_baseline=False, **binning)
    pool = wl.load("test", limit=pool_size, seed=seed).spikes
    T = pool.timesteps
    prepared = PreparedNetwork.build(net)
    singles = [pool.select([i]) for i in range(pool_size)]
    ref = prepared.run(pool, threads=1, record=True)
    zero = sb.SpikeTrain.from_events([(np.zeros(0), np.zeros(0, np.int64))] * pool_size, n=pool.n, timesteps=T,
                                     timestep_s=pool.timestep_s)
    events_per_sample = ref.counts.synaptic_events / pool_size
    snn = SnnTorchBackend()
    model = snn.prepare(net)
    lif_scan = _lif_scan_factory()
    dense_pool = torch.from_numpy(pool.to_dense(np.float32))

    def conv_dense(x):  # x: (B, T, n_in): every layer over all B*T frames at once, then the LIF scan
        B = x.shape[0]
        cur = x
        for layer in net.layers:
            if layer.conv:
                frames = cur.reshape(B * T, *layer.in_shape)
                b = None if layer.bias is None else torch.from_numpy(np.array(layer.bias))
                c = F.conv2d(frames, torch.from_numpy(np.array(layer.weight)), b, stride=layer.stride,
                             padding=layer.padding, dilation=layer.dilation, groups=layer.groups)
                if layer.pool is not None:
                    p = layer.pool
                    c = (F.max_pool2d(c, p.kernel, p.stride) if p.kind == "max" else
                         F.avg_pool2d(c, p.kernel, p.stride, divisor_override=1 if p.kind == "sum" else None))
                current = c.reshape(B, T, -1).numpy()
            else:
                w = torch.from_numpy(np.array(layer.weight))
                current = (cur.reshape(B * T, -1) @ w.T).reshape(B, T, -1)
                if layer.bias is not None:
                    current = current + torch.from_numpy(np.array(layer.bias))
                current = current.numpy()
            out = np.empty_like(current)
            lif_scan(np.ascontiguousarray(current), np.array(layer.beta), np.array(layer.threshold), out)
            cur = torch.from_numpy(out)
        return cur.numpy()

    assert np.array_equal(conv_dense(dense_pool[:8]).astype(np.uint8), ref.output_spikes[:8]), \
        "time-batched torch conv disagrees with sparse-cpu"
    chk = snn.simulate(net, pool.select(slice(0, 4)), batch_size=4, prepared=model)
    assert np.array_equal(chk.output_spikes, ref.output_spikes[:4]), "snnTorch disagrees with sparse-cpu"
    cursor = {"i": 0}

    def next_index() -> int:
        cursor["i"] = (cursor["i"] + 1) % pool_size
        return cursor["i"]

    methods = {
        "sparse-cpu b1": (lambda: prepared.run(singles[next_index()], threads=1), 1),
        "sparse-cpu b64": (lambda: prepared.run(pool, threads=1), pool_size),
        "snntorch b1": (lambda: snn.simulate(net, singles[next_index()], batch_size=1, prepared=model), 1),
        "snntorch b64": (lambda: snn.simulate(net, pool, batch_size=64, prepared=model), pool_size),
        "torch conv b1": (lambda: conv_dense(dense_pool[next_index()][None]), 1),
        "torch conv b64": (lambda: conv_dense(dense_pool), pool_size),
        "sparse-cpu b64, zero input (floor)": (lambda: prepared.run(zero, threads=1), pool_size),
    }
    if quick:
        methods.pop("snntorch b64")
    times: dict[str, list[float]] = {k: [] for k in methods}
    for fn, _ in methods.values():
        fn()
    for _ in range(rounds):
        for name, (fn, per) in methods.items():
            fn()
            times[name].append(_timeit(fn, per, min_time=0.005 if quick else 0.02))
    med = {k: statistics.median(v) for k, v in times.items()}
    dense = [k for k in med if k.startswith(("snntorch", "torch conv"))]
    best_dense = min(med[k] for k in dense)
    rows = [{"method": k, "ms_per_sample": v * 1e3,
             "g_events_per_s": 0.0 if "floor" in k else events_per_sample / v / 1e9,
             "speedup_vs_snntorch_b1": med["snntorch b1"] / v,
             "spread_pct": 100 * (max(times[k]) - min(times[k])) / v} for k, v in med.items()]
    floor = med["sparse-cpu b64, zero input (floor)"]
    layers = [{"name": lc.name, "kind": lc.kind, "shape": "x".join(map(str, lc.out_shape or (lc.n_out,))),
               "activity": lc.spikes_out / lc.neuron_updates, "events_per_sample": lc.synaptic_events / pool_size}
              for lc in ref.counts.layers]
    return {
        "network": {"name": network, "timesteps": T, "timestep_s": pool.timestep_s,
                    "input_spikes_per_sample": pool.n_spikes / pool_size,
                    "synaptic_events_per_sample": events_per_sample, "layers": layers,
                    "data": "offline N-MNIST test samples (synthetic data, seed 0)"},
        "rows": rows,
        "sparse_b1_vs_snntorch_b1": med["snntorch b1"] / med["sparse-cpu b1"],
        "sparse_vs_snntorch_b1": med["snntorch b1"] / med["sparse-cpu b64"],
        "sparse_vs_best_dense": best_dense / med["sparse-cpu b64"],
        "best_dense": min(dense, key=med.get),
        "floor_ms": floor * 1e3,
        "propagation_g_events_per_s": events_per_sample / max(med["sparse-cpu b64"] - floor, 1e-12) / 1e9,
        "rounds": rounds, "threads": 1,
    }


def format_conv_table(res: dict) -> str:
    n = res["network"]
    lines = [
        f"Shipped CSNN {n['name']} on {n['data']}: {n['timesteps']} steps of {n['timestep_s'] * 1e3:g} ms, "
        f"{n['input_spikes_per_sample']:.0f} input spikes and {n['synaptic_events_per_sample'] / 1e6:.3f} M synaptic "
        f"events per sample; 1 thread; medians of {res['rounds']} interleaved rounds",
        "",
        "| layer | kind | shape | activity | events/sample |",
        "|---|---|---|---:|---:|",
    ]
    for lay in n["layers"]:
        lines.append(f"| {lay['name']} | {lay['kind']} | {lay['shape']} | {lay['activity']:.2%} | "
                     f"{lay['events_per_sample']:,.0f} |")
    lines += ["", "| method | ms/sample | G synaptic events/s | x vs snnTorch b1 | spread |", "|---|---:|---:|---:|---:|"]
    for r in res["rows"]:
        ev = "-" if "floor" in r["method"] else f"{r['g_events_per_s']:.3f}"
        lines.append(f"| {r['method']} | {r['ms_per_sample']:.4f} | {ev} | {r['speedup_vs_snntorch_b1']:.1f} | "
                     f"{r['spread_pct']:.0f} % |")
    lines += [
        "",
        f"conv path: sparse-cpu b1 calls vs snnTorch b1: {res['sparse_b1_vs_snntorch_b1']:.0f}x (target >= 100x); "
        f"sparse-cpu b64 vs snnTorch b1: {res['sparse_vs_snntorch_b1']:.0f}x; vs best dense path "
        f"({res['best_dense']}): {res['sparse_vs_best_dense']:.1f}x (target > 1x)",
        f"where the time goes (b64): neuron-update floor {res['floor_ms']:.4f} ms/sample, event propagation at "
        f"{res['propagation_g_events_per_s']:.2f} G events/s",
    ]
    return "\n".join(lines)


def format_tables(net_res: dict, layer_rows: list[dict]) -> str:
    n = net_res["network"]
    lines = [
        f"N-MNIST-shaped net {n['sizes']}, T = {n['timesteps']}, input density {n['input_density']:.3%}, "
        f"hidden activity {n['hidden_activity']:.2%}, {n['synaptic_events_per_sample'] / 1e6:.2f} M synaptic "
        f"events/sample; 1 thread; medians of {net_res['rounds']} interleaved rounds",
        "",
        "| method | ms/sample | G synaptic events/s | x vs snnTorch b1 | spread |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in net_res["rows"]:
        lines.append(f"| {r['method']} | {r['ms_per_sample']:.3f} | {r['g_events_per_s']:.3f} | "
                     f"{r['speedup_vs_snntorch_b1']:.1f} | {r['spread_pct']:.0f} % |")
    lines += [
        "",
        f"kernel, sparse-cpu (b64) vs snnTorch b1: {net_res['sparse_vs_snntorch_b1']:.0f}x (target >= 500x); "
        f"vs best dense path: {net_res['sparse_vs_best_dense']:.1f}x (target >= 50x)",
        f"kernel, sparse-cpu (b1 calls) vs snnTorch b1: {net_res['sparse_b1_vs_snntorch_b1']:.0f}x; "
        f"vs best dense path: {net_res['sparse_b1_vs_best_dense']:.1f}x",
        f"public call, spikebench.simulate b1 repeated vs snnTorch b1: {net_res['public_b1_vs_snntorch_b1']:.0f}x "
        f"(target >= 300x); b64: {net_res['public_b64_vs_snntorch_b1']:.0f}x; the first call on a new network "
        f"(prepares it): {net_res['public_first_call_ms']:.1f} ms",
        "(spikebench.simulate rows: the whole public call, what a user waits for; preparation when not yet "
        "prepared, input packing, the kernel, counting. sparse-cpu rows: a prepared network's run)",
        "",
        "Single layer 2312 -> 500 (1 thread): kernel throughput (target >= 12 G events/s per core; fp32 read bound ~20-25)",
        "",
        "| weights | input density | M events/sample | ms/sample | G events/s | G events/s (propagation, floor removed) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in layer_rows:
        lines.append(f"| {r['weights']} | {r['input_density']:.1%} | {r['events_per_sample'] / 1e6:.2f} | "
                     f"{r['ms_per_sample']:.3f} | {r['g_events_per_s']:.1f} | {r['g_events_per_s_propagation']:.1f} |")
    lines.append(f"\nneuron-update floor (zero input, 500 neurons x 300 steps): {layer_rows[0]['floor_ms']:.3f} ms/sample")
    return "\n".join(lines)


LAVA_NETWORKS = ("nmnist", "shd", "ecg-anomaly", "nmnist-csnn")


def run_lava_benchmark(samples: int = 8, networks=LAVA_NETWORKS, reps: int = 20) -> list[dict]:
    """Per shipped network deployed on Loihi 2: sparse-cpu in the chip's arithmetic (one sample per call,
    median over the samples) against Lava's bit-accurate ``fixed_pt`` simulation of the same deployed
    network, both given the same samples in one call (Lava runs them one after another, resetting the
    state between them). Both exclude building the network (sparse-cpu's is prepared once; Lava's
    start-up is reported apart); sparse-cpu runs on one thread, ``reps`` times (median). Spikes and
    counts are checked equal first. Returns [] without a Lava environment."""
    from spikebench import simulate
    from spikebench.backends.lava_backend import lava_available
    from spikebench.backends.sparse_cpu import SparseCPUBackend
    from spikebench.hardware_models import deploy
    from spikebench.models import read_nir
    from spikebench.workloads import get_workload
    from spikebench.workloads.base import NETWORKS_DIR

    if not lava_available():
        return []
    rows = []
    for name in networks:
        net, binning = read_nir(NETWORKS_DIR / f"{name}.nir")
        wl = get_workload(name.split("-csnn")[0], **binning)
        dep = deploy("loihi2", net)
        data = wl.load("test", limit=samples, seed=0)
        lava = simulate(dep.network, data.spikes, backend="lava")
        ref = simulate(dep.network, data.spikes, backend="sparse-cpu")
        if not (np.array_equal(lava.output_spikes, ref.output_spikes) and lava.counts == ref.counts):
            raise AssertionError(f"{name}: Lava fixed_pt and sparse-cpu disagree on the deployed network")
        prepared = SparseCPUBackend().prepare(dep.network)  # once, as for Lava (its start-up is outside run_s)
        prepared.run(data.spikes, threads=1)
        per = []
        for _ in range(reps):
            t0 = time.perf_counter()
            prepared.run(data.spikes, threads=1)
            per.append((time.perf_counter() - t0) / data.spikes.samples)
        sparse = statistics.median(per)
        lava_per = lava.run_s / data.spikes.samples  # the simulation inside the worker
        rows.append({"network": name, "sizes": "-".join(map(str, net.sizes)), "steps": ref.counts.timesteps,
                     "samples": data.spikes.samples, "sparse_ms": sparse * 1e3, "lava_ms": lava_per * 1e3,
                     "lava_startup_s": float(lava.extra.get("startup_s", float("nan"))), "ratio": lava_per / sparse})
    return rows


def format_lava_table(rows: list[dict]) -> str:
    if not rows:
        return "Loihi 2 deployed: no Lava environment (make lava-env); the sparse-cpu vs Lava table is skipped"
    lines = ["Loihi 2 deployed networks: sparse-cpu (chip arithmetic, prepared once, 1 thread) vs Lava 0.10 "
             "fixed_pt (bit-accurate; same spikes and counts checked; start-up apart); the same samples in one call "
             "each, time per sample",
             "", "| network | sizes | steps | samples | sparse-cpu ms/sample | Lava ms/sample | Lava / sparse-cpu | "
                 "Lava start-up s |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['network']} | {r['sizes']} | {r['steps']} | {r['samples']} | {r['sparse_ms']:.3f} | "
                     f"{r['lava_ms']:.0f} | {r['ratio']:.0f}x | {r['lava_startup_s']:.1f} |")
    return "\n".join(lines)


def run_threads_benchmark(widths=(500, 2000, 8000), rounds: int = 5, pool_size: int = 16, seed: int = 0) -> list[dict]:
    """1 vs 2+ threads on 2312 -> n -> 10 (0.5 % input, T = 300): at batch 1 the second thread takes
    half of each wide dense layer's neurons (``_kernel_split``), at batch ``pool_size`` half the samples."""
    import itertools

    import numba

    import spikebench as sb
    from spikebench.backends import get_backend

    threads = numba.config.NUMBA_NUM_THREADS
    if threads < 2:
        return []
    pool = sb.random_spikes(pool_size, T, SIZES[0], INPUT_DENSITY, seed=seed + 1)
    singles = [pool.select([i]) for i in range(pool_size)]
    rows = []
    for n in widths:
        net = sb.Network.random(sizes=[SIZES[0], n, 10], recurrent=[False, False], seed=seed)
        prepared = get_backend("sparse-cpu").prepare(net)
        cycle = itertools.cycle(singles)
        assert prepared.run(singles[0], threads=threads).counts == prepared.run(singles[0], threads=1).counts
        times: dict[tuple, list] = {}
        for _ in range(rounds):
            for th in (1, threads):
                times.setdefault(("b1", th), []).append(
                    _timeit(lambda th=th, p=prepared, c=cycle: p.run(next(c), threads=th), 1))
                times.setdefault(("batch", th), []).append(
                    _timeit(lambda th=th, p=prepared: p.run(pool, threads=th), pool_size))
        med = {k: float(np.median(v)) for k, v in times.items()}
        rows.append({"width": n, "threads": threads, "pool": pool_size,
                     **{f"{k}_{th}_ms": med[k, th] * 1e3 for k, th in med},
                     "split": prepared.run(singles[0], threads=threads).extra["parallel"]})
    return rows


def format_threads_table(rows: list[dict]) -> str:
    if not rows:
        return "threads: numba sees one thread here; nothing to compare"
    th, pool = rows[0]["threads"], rows[0]["pool"]
    lines = [f"sparse-cpu, 1 vs {th} threads (2312 -> n -> 10, 0.5 % input, T = 300; medians, ms/sample):",
             f"| n | b1, 1 thread | b1, {th} threads | speed-up (efficiency) | b1 parallel over | "
             f"b{pool}, 1 thread | b{pool}, {th} threads | speed-up (efficiency) |",
             "|---:|---:|---:|---:|---|---:|---:|---:|"]
    for r in rows:
        s1 = r["b1_1_ms"] / r[f"b1_{th}_ms"]
        s2 = r["batch_1_ms"] / r[f"batch_{th}_ms"]
        lines.append(f"| {r['width']} | {r['b1_1_ms']:.3f} | {r[f'b1_{th}_ms']:.3f} | {s1:.2f}x ({s1 / th:.0%}) | "
                     f"{r['split']} | {r['batch_1_ms']:.3f} | {r[f'batch_{th}_ms']:.3f} | {s2:.2f}x ({s2 / th:.0%}) |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spikebench.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds and no snnTorch b64 (smoke test)")
    parser.add_argument("--json", default=None, help="also write the raw results here")
    parser.add_argument("--device", default=None,
                        help="also time snnTorch on this device (e.g. cuda), after checking its spikes and counts")
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else args.rounds
    net_res = run_network_benchmark(rounds=rounds, pool_size=16 if args.quick else 64, quick=args.quick,
                                    device=args.device)
    layer_rows = run_layer_benchmark(rounds=rounds, densities=(0.05,) if args.quick else (0.005, 0.05, 0.2))
    print(format_tables(net_res, layer_rows))
    conv_res = run_conv_benchmark(rounds=rounds, pool_size=16 if args.quick else 64, quick=args.quick)
    print()
    print(format_conv_table(conv_res))
    thread_rows = run_threads_benchmark(rounds=rounds, widths=(2000,) if args.quick else (500, 2000, 8000))
    print()
    print(format_threads_table(thread_rows))
    lava_rows = run_lava_benchmark(samples=2 if args.quick else 8, reps=3 if args.quick else 20)
    print()
    print(format_lava_table(lava_rows))
    if args.json:
        from spikebench.core.fileio import atomic_write_text

        atomic_write_text(args.json, json.dumps({"network": net_res, "layer": layer_rows, "conv": conv_res,
                                                       "lava": lava_rows, "threads": thread_rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
