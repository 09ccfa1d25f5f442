"""``spikebench simulate``: run a NIR network on a spikes file and write the counts file."""

from __future__ import annotations

from .common import FORMATS, add_format, check_output_path, write_csv, write_json


def register(sub) -> None:
    p = sub.add_parser("simulate", help="simulate a network on input spikes and write event counts",
                       description="Simulate a NIR network on spikes from an .npz file; print a summary and "
                                   "optionally write the counts file (schema spikebench.counts/2; /1 files are read too).")
    p.add_argument("--network", required=True, help="network as a NIR file (.nir)")
    p.add_argument("--spikes", required=True,
                   help="input spikes .npz: a dense 'spikes' array (samples, timesteps, n_in) or SpikeTrain.save_npz output")
    p.add_argument("--backend", default="sparse-cpu", help="sparse-cpu (default) or snntorch")
    p.add_argument("--device", default=None, help="cpu (default) or cuda[:N] for the snntorch backend")
    p.add_argument("--timestep-s", type=float, default=None,
                   help="seconds per step, overriding the value stored in the spikes file")
    p.add_argument("--counts-out", default=None, help="write the counts JSON here (atomically)")
    p.add_argument("--outputs-out", default=None, help="write output spikes (samples, timesteps, n_out) as .npz here")
    add_format(p, FORMATS)  # csv: one row per layer
    p.set_defaults(func=run)


def run(args) -> int:
    import dataclasses
    import os

    import numpy as np

    from spikebench import simulate
    from spikebench.backends import get_backend
    from spikebench.core.errors import SpikebenchError
    from spikebench.core.fileio import atomic_write_bytes
    from spikebench.core.network import Network
    from spikebench.core.spikes import SpikeTrain
    from spikebench.core.units import text_table

    get_backend(args.backend)  # fail on an unknown name before reading anything
    inputs = (args.network, args.spikes)  # an output may never replace what we read
    counts_out = check_output_path(args.counts_out, what="counts file", inputs=inputs) if args.counts_out else None
    outputs_out = check_output_path(args.outputs_out, what="outputs file", inputs=inputs) if args.outputs_out else None
    if counts_out and outputs_out and os.path.realpath(counts_out) == os.path.realpath(outputs_out):
        raise SpikebenchError(f"{outputs_out}: --outputs-out and --counts-out name the same file; give two paths")
    net = Network.from_nir(args.network)
    spikes = SpikeTrain.load_npz(args.spikes)
    if args.timestep_s is not None:
        if not args.timestep_s > 0:
            raise SpikebenchError(f"--timestep-s must be a positive number of seconds, got {args.timestep_s}")
        spikes = dataclasses.replace(spikes, timestep_s=args.timestep_s)
    result = simulate(net, spikes, backend=args.backend, device=args.device)
    if counts_out:
        result.counts.to_json(counts_out)
    if outputs_out:
        import io

        buf = io.BytesIO()
        np.savez_compressed(buf, spikes=result.output_spikes, timestep_s=np.float64(spikes.timestep_s))
        atomic_write_bytes(outputs_out, buf.getvalue())
    c = result.counts
    if args.format == "json":
        write_json({"backend": result.backend, "device": result.device, "wall_time_s": result.wall_time_s,
                    "prepare_s": result.prepare_s, "run_s": result.run_s, "counts": c.to_dict()})
        return 0
    rows = [{"layer": layer.name, "kind": layer.kind, "n_in": layer.n_in, "n_out": layer.n_out,
             "spikes_in": layer.spikes_in, "synaptic_events": layer.synaptic_events,
             "neuron_updates": layer.neuron_updates, "spikes_out": layer.spikes_out,
             "activity": layer.spikes_out / layer.neuron_updates} for layer in c.layers]
    if args.format == "csv":
        write_csv(rows)
        return 0
    print(f"network {net.name}: sizes {net.sizes}; {c.samples} samples x {c.timesteps} steps "
          f"({spikes.timestep_s:g} s/step); backend {result.backend} on {result.device}; "
          f"{result.wall_time_s * 1e3:.2f} ms in the call (preparing {result.prepare_s * 1e3:.2f} ms, "
          f"simulating {result.run_s * 1e3:.2f} ms)")
    cols = ("layer", "kind", "spikes_in", "synaptic_events", "neuron_updates", "spikes_out")
    print(text_table([*cols, "activity"], [[str(r[k]) for k in cols] + [f"{r['activity']:.2%}"] for r in rows],
                     left=(0, 1), rule=False))
    if counts_out:
        print(f"counts written to {counts_out}")
    return 0
