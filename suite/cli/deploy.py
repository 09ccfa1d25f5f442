"""``spikebench deploy NETWORK``: what each chip's numeric format does to a network.

Per chip: whether it can hold the network (else why not), its arithmetic, and one note per change
(weights quantised, decays rounded to 12 bits, reset rule, one-step synaptic delays, ...), from the
pure ``deploy`` functions of :mod:`spikebench.hardware_models`. ``--simulate WORKLOAD`` also runs each
deployed network on that workload's test split in the chip's arithmetic (sparse-cpu, bit-exact) and
prints the task metric beside the float network's.
"""

from __future__ import annotations

from .common import add_format, positive, write_csv, write_json


def register(sub) -> None:
    p = sub.add_parser("deploy", help="each chip's numeric format applied to a network: notes, feasibility, "
                                      "deployed accuracy",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("network", metavar="NETWORK", help="a NIR file, or a network spikebench ships "
                                                      "(nmnist, shd, ecg-anomaly, nmnist-csnn)")
    p.add_argument("--chips", default="all", help="comma-separated chip names or 'all' (default)")
    p.add_argument("--simulate", metavar="WORKLOAD", default=None,
                   help="also score each deployed network on this workload's test split")
    p.add_argument("--limit", type=int, default=None, help="with --simulate: at most this many test samples")
    add_format(p)
    p.set_defaults(func=run)


def deploy_table(net, chips: list[str], *, workload: str | None = None, binning: dict | None = None,
                 limit: int | None = None) -> list[dict]:
    """One dict per chip: chip, feasible, why, arithmetic, notes, and with ``workload`` the metric."""
    from spikebench import simulate
    from spikebench.hardware_models import deploy

    data = wl = float_metric = None
    if workload is not None:
        from spikebench.workloads import get_workload

        wl = get_workload(workload, **(binning or {}))
        data = wl.load("test", limit=limit, seed=0)
        float_metric = wl.score(simulate(net, data.spikes, backend="sparse-cpu").output_spikes, data)[0]
    rows = []
    for chip in chips:
        dep = deploy(chip, net)
        row = {"chip": chip, "feasible": dep.feasible, "why": dep.why, "arithmetic": dep.arithmetic,
               "changes_dynamics": dep.changes_dynamics, "notes": list(dep.notes)}
        if wl is not None:
            row["metric"] = float_metric.name
            row["float_value"] = float(float_metric.value)
            row["deployed_value"] = None
            if dep.feasible:
                out = simulate(dep.network, data.spikes, backend="sparse-cpu").output_spikes
                row["deployed_value"] = float(wl.score(out, data)[0].value)
            row["data"] = data.provenance
        rows.append(row)
    return rows


def run(args) -> int:
    from spikebench.hardware_models import resolve_chips

    from .run import _read_network

    positive(args.limit, "--limit")
    net, binning, _ = _read_network(args.network)
    rows = deploy_table(net, resolve_chips(args.chips), workload=args.simulate, binning=binning, limit=args.limit)
    if args.format == "json":
        write_json({"network": net.name, "network_hash": net.content_hash(), "chips": rows})
        return 0
    if args.format == "csv":
        write_csv({**r, "notes": " | ".join(r["notes"])} for r in rows)
        return 0
    print(f"network {net.name} ({net.content_hash()}): {' -> '.join(map(str, net.sizes))}")
    for r in rows:
        head = f"\n{r['chip']}: {r['arithmetic']}"
        if "metric" in r:
            dv = "n/a" if r["deployed_value"] is None else f"{r['deployed_value']:.4g}"
            head += f"; {r['metric']} {dv} deployed vs {r['float_value']:.4g} float ({r['data']} data)"
        print(head)
        if not r["feasible"]:
            print(f"  infeasible: {r['why']}")
        for note in r["notes"]:
            print(f"  - {note}")
    return 0
