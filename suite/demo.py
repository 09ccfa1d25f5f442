"""``make demo``: every workload on both CPU backends and every chip model, then the report.

Runs ``spikebench run`` for N-MNIST, SHD and ECG anomaly detection on ``sparse-cpu`` (the whole test
split) and snnTorch (CPU; a seed-drawn 128 samples of each split, ``--backend-limit``: the dense backend's
timing and its bit-exact agreement check against ``sparse-cpu`` on those samples) with all chip models
into a results folder, then N-MNIST again with the second network
spikebench ships (``nmnist-csnn``, a small convolutional SNN on 10 frames of 30 ms) as a user's own
network would run (``--network``), writes the report (tables, figures, HTML; N-MNIST's two
networks share one accuracy-vs-energy Pareto figure), and
prints a summary: task metric, events per inference, whether both backends counted the same
events, wall time per inference on each backend, and the cheapest feasible chip, then where the
time went (:mod:`spikebench.core.phases`). Offline data is generated on first use (seeded; cached, with
its binned form), and numba compiles the kernels into its on-disk cache, so the first run takes longer.

``--engine`` instead runs the engine comparison of the first release: a seeded N-MNIST-shaped
network on both backends, counts compared side by side, and a timing table.
"""

from __future__ import annotations

import argparse
import sys
import time


def engine_demo(samples: int = 16, seed: int = 0) -> int:
    import numpy as np
    import torch

    import spikebench as sb
    from spikebench.bench import INPUT_DENSITY, SIZES, T, tune_network

    spikes = sb.random_spikes(samples, T, SIZES[0], INPUT_DENSITY, seed=seed + 1)
    net = tune_network(seed, spikes)
    for backend in ("sparse-cpu", "snntorch"):  # load compiled kernels / torch before timing
        sb.simulate(net, spikes.select([0]), backend=backend)
    print(f"{net!r}, {spikes!r}")
    print("data: synthetic (seeded Bernoulli spikes in N-MNIST's shape; not N-MNIST recordings)\n")
    ref = sb.simulate(net, spikes, backend="sparse-cpu", record=True)
    other = sb.simulate(net, spikes, backend="snntorch", batch_size=16, record=True)
    print(f"{'layer':<8}{'quantity':<17}{'sparse-cpu':>14}{'snntorch':>14}  same")
    for a, b in zip(ref.counts.layers, other.counts.layers):
        for q in ("spikes_in", "synaptic_events", "neuron_updates", "spikes_out"):
            va, vb = getattr(a, q), getattr(b, q)
            print(f"{a.name:<8}{q:<17}{va:>14,}{vb:>14,}  {'yes' if va == vb else 'NO'}")
    same = all(np.array_equal(x, y) for x, y in zip(ref.layer_spikes, other.layer_spikes)) and ref.counts == other.counts
    torch.set_num_threads(1)
    runs = {"sparse-cpu (1 thread)": sb.simulate(net, spikes, backend="sparse-cpu", threads=1),
            "snntorch (cpu, batch 16)": sb.simulate(net, spikes, backend="snntorch", batch_size=16)}
    ev = ref.counts.synaptic_events / samples
    base = runs["snntorch (cpu, batch 16)"].wall_time_s / samples
    print(f"\nidentical spikes and counts: {'yes' if same else 'NO'}; {ev / 1e6:.2f} M synaptic events per sample")
    print(f"{'backend':<26}{'ms/sample':>11}{'x vs snntorch':>15}")
    for name, r in runs.items():
        per = r.wall_time_s / samples
        print(f"{name:<26}{per * 1e3:>11.3f}{base / per:>15.1f}")
    return 0 if same else 1


#: test samples per workload of the demo's snnTorch cells (the dense backend's check and timing)
SNNTORCH_SAMPLES = 128


def _headline(task) -> str:
    return "accuracy" if "accuracy" in task else ("auroc" if "auroc" in task else (task.index[0] if len(task) else ""))


def summary(results_dir) -> str:
    from spikebench.core.units import si, text_table
    from spikebench.results import ResultsStore

    df = ResultsStore(results_dir).open(create=False).frame()
    df["chip"] = df["chip"].fillna("")
    header = ["workload", "network", "data", "task metric", "events/inf", "backends agree", "sparse-cpu", "snntorch",
              "cheapest feasible chip (energy/inference, latency, deployed metric)"]
    rows = []
    for (w, net), d in sorted(df.groupby(["workload", "network"]), key=lambda kv: kv[0]):
        flt = d[d.chip == ""]  # the float network as trained
        task = flt[(flt.kind == "task") & (flt.backend == "sparse-cpu")].set_index("metric")["value"]
        head = _headline(task)
        metric = f"{head} {task[head]:.3f}" if head else "-"
        ev = flt[flt.metric == "synaptic_events_per_inference"].set_index("backend")["value"]
        check = flt[flt.metric == "agrees_with_sparse_cpu"]
        if len(check):  # each other backend's own check on its samples
            agree = ("yes" if (check["value"] == 1).all() else "NO") + f" ({int(check['samples'].min())} samples)"
        else:
            agree = "yes" if ev.nunique() == 1 else "NO"
        wall = flt[flt.metric == "wall_time_per_inference_s"].set_index("backend")["value"]
        sp = d[d.backend == "sparse-cpu"]
        e = sp[sp.metric == "energy_j"].set_index("chip")
        feas = sp[sp.metric == "feasible"].set_index("chip")["value"]
        lat = sp[sp.metric == "latency_s"].set_index("chip")["value"]
        dep = sp[(sp.kind == "task") & (sp.metric == head) & (sp.chip != "")].set_index("chip")["value"]
        ok = [c for c in e.index if feas.get(c, 0) == 1 and c not in ("cpu", "gpu")]
        best = min(ok, key=lambda c: e.loc[c, "value"]) if ok else None
        chip = (f"{best} ({si(e.loc[best, 'value'], 'J')}, {si(lat[best], 's')}, {head} {dep[best]:.3f})"
                if best and best in dep else (f"{best} ({si(e.loc[best, 'value'], 'J')})" if best else "none"))
        rows.append([w, net, d["data"].iloc[0], metric, f"{ev.get('sparse-cpu', ev.iloc[0]):.3g}", agree, si(wall.get("sparse-cpu"), "s"),
                     si(wall.get("snntorch"), "s"), chip])
    lines = [text_table(header, rows, left=(0, 1, 2, 3, 5, 8), rule=False)]
    lines += ["", deployment_summary(df)]
    if (df["data"] == "synthetic").any():
        lines.append("\nTask metrics on synthetic data are sanity checks of learnable offline data, not comparable "
                     "to published N-MNIST, SHD or MIT-BIH results.")
    return "\n".join(lines)


def deployment_summary(df) -> str:
    """Per workload and network: the float metric, then each chip's metric on the network as it holds
    it (deployed, simulated in its arithmetic), its energy per inference and its synaptic events."""
    from spikebench.core.units import si, text_table

    header = ["workload", "network", "chip", "metric (deployed)", "vs float", "energy/inf", "events/inf", "feasible"]
    rows = []
    sp = df[df.backend == "sparse-cpu"]
    for (w, net), d in sorted(sp.groupby(["workload", "network"]), key=lambda kv: kv[0]):
        flt = d[(d.chip == "") & (d.kind == "task")].set_index("metric")["value"]
        head = _headline(flt)
        for chip in dict.fromkeys(c for c in d.chip if c):
            c = d[d.chip == chip]
            val = c[(c.kind == "task") & (c.metric == head)]["value"]
            energy = c[c.metric == "energy_j"]["value"]
            ev = c[c.metric == "synaptic_events_per_inference"]["value"]
            feas = c[c.metric == "feasible"]
            ok = bool(len(feas)) and feas["value"].iloc[0] == 1
            why = "" if ok or not len(feas) else str(feas["source"].iloc[0]).split(";")[0][:60]
            rows.append([w, net, chip, f"{head} {val.iloc[0]:.3f}" if len(val) else "-",
                         f"{val.iloc[0] - flt[head]:+.3f}" if len(val) and head in flt else "-",
                         si(energy.iloc[0], "J") if len(energy) else "-", f"{ev.iloc[0]:.3g}" if len(ev) else "-",
                         "yes" if ok else f"no: {why}"])
    return "each chip on the network as it holds it (numeric format applied, simulated bit-exactly by sparse-cpu):\n" + \
        text_table(header, rows, left=(0, 1, 2, 3, 7), rule=False)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spikebench.demo", description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="results/demo", help="results folder (default results/demo)")
    parser.add_argument("--report", default="reports/example", help="report folder (default reports/example)")
    parser.add_argument("--limit", type=int, default=None, help="test samples per workload (default: all)")
    parser.add_argument("--engine", action="store_true", help="only the engine comparison (no workloads)")
    args = parser.parse_args(argv)
    if args.engine:
        return engine_demo()

    t0 = time.perf_counter()  # before spikebench's own imports: the breakdown's "other" holds them
    from spikebench.cli import main as cli
    from spikebench.core import phases
    from spikebench.report import build_report

    phases.reset()
    # snnTorch (dense, ~100x slower) runs on a seed-drawn 128 of each test split and its cells check that its
    # counts and output spikes equal sparse-cpu's on those samples; sparse-cpu and every chip run the whole split
    argv_run = ["run", "--backends", "sparse-cpu,snntorch", "--backend-limit", f"snntorch={SNNTORCH_SAMPLES}",
                "--chips", "all", "--out", args.out]
    if args.limit:
        argv_run += ["--limit", str(args.limit)]
    rc = cli(argv_run)  # a new run each time; the store keeps earlier runs and the report uses the latest
    if rc:
        return rc
    # the second shipped N-MNIST network, through the bring-your-own-network path
    argv_csnn = ["run", "nmnist", "--network", "nmnist-csnn", "--backends", "sparse-cpu,snntorch", "--backend-limit",
                 f"snntorch={SNNTORCH_SAMPLES}", "--chips", "all", "--out", args.out]
    if args.limit:
        argv_csnn += ["--limit", str(args.limit)]
    rc = cli(argv_csnn)
    if rc:
        return rc
    paths = build_report(args.out, args.report)
    print()
    print(summary(args.out))
    html = paths.get("html") or paths.get("index.html")
    print(f"\nreport: {args.report}/  (HTML: {html})")
    total = time.perf_counter() - t0
    print(f"demo finished in {total:.1f} s; where the time went (wall clock, this process):")
    print(phases.breakdown(total))
    return 0


if __name__ == "__main__":
    sys.exit(main())
