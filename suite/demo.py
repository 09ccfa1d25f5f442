"""``make demo``: a seeded N-MNIST-shaped network on both backends; counts compared, times tabled.

The input is seeded random spikes with N-MNIST's shape (2312 channels, 300 steps of 1 ms, 0.5 %
density) — synthetic data, not N-MNIST recordings; the workload issue brings real-format data.
"""

from __future__ import annotations

import argparse
import sys
import time


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spikebench.demo", description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--counts-out", default=None, help="also write the reference counts file here")
    args = parser.parse_args(argv)

    import numpy as np

    import spikebench as sb
    from spikebench.bench import INPUT_DENSITY, SIZES, T, tune_network

    t_setup = time.perf_counter()
    spikes = sb.random_spikes(args.samples, T, SIZES[0], INPUT_DENSITY, seed=args.seed + 1)
    net = tune_network(args.seed, spikes)
    for backend in ("sparse-cpu", "snntorch"):  # load compiled kernels / torch before timing
        sb.simulate(net, spikes.select([0]), backend=backend)
    print(f"spikebench {sb.__version__} demo: {net!r}, {spikes!r}")
    print("data: synthetic (seeded Bernoulli spikes in N-MNIST's shape; not N-MNIST recordings)\n")

    ref = sb.simulate(net, spikes, backend="sparse-cpu", record=True)
    other = sb.simulate(net, spikes, backend="snntorch", batch_size=16, record=True)

    print("Event counts (totals over all samples)")
    print(f"{'layer':<8}{'quantity':<17}{'sparse-cpu':>14}{'snntorch':>14}  same")
    for a, b in zip(ref.counts.layers, other.counts.layers):
        for q in ("spikes_in", "synaptic_events", "neuron_updates", "spikes_out"):
            va, vb = getattr(a, q), getattr(b, q)
            print(f"{a.name:<8}{q:<17}{va:>14,}{vb:>14,}  {'yes' if va == vb else 'NO'}")
    same_spikes = all(np.array_equal(x, y) for x, y in zip(ref.layer_spikes, other.layer_spikes))
    print(f"identical spikes in every layer: {'yes' if same_spikes else 'NO'}; "
          f"identical counts: {'yes' if ref.counts == other.counts else 'NO'}\n")

    n = spikes.samples
    ev = ref.counts.synaptic_events / n
    import torch

    torch.set_num_threads(1)
    runs = {  # timed without recording hidden layers, one thread each
        "sparse-cpu (1 thread)": sb.simulate(net, spikes, backend="sparse-cpu", threads=1),
        "snntorch (cpu, batch 16)": sb.simulate(net, spikes, backend="snntorch", batch_size=16),
    }
    print(f"Timing (wall clock, one thread, {n} samples, {ev / 1e6:.2f} M synaptic events per sample)")
    print(f"{'backend':<26}{'ms/sample':>11}{'G events/s':>12}{'x vs snntorch':>15}")
    base = runs["snntorch (cpu, batch 16)"].wall_time_s / n
    for name, r in runs.items():
        per = r.wall_time_s / n
        print(f"{name:<26}{per * 1e3:>11.3f}{ev / per / 1e9:>12.3f}{base / per:>15.1f}")
    print("\n(one run each; `make bench` times every method in interleaved rounds with medians)")
    if args.counts_out:
        ref.counts.to_json(args.counts_out)
        print(f"counts written to {args.counts_out}")
    print(f"demo finished in {time.perf_counter() - t_setup:.1f} s")
    return 0 if same_spikes and ref.counts == other.counts else 1


if __name__ == "__main__":
    sys.exit(main())
