"""``spikebench run``: every workload through every backend and chip model into a results store."""

from __future__ import annotations

import signal

from .common import MAX_SEED, names, positive, seed


def register(sub) -> None:
    p = sub.add_parser(
        "run", help="run workloads on backends and chip models into a results folder",
        description="Simulate each workload's test split with its shipped reference network (or your own, "
                    "--network FILE.nir) on each backend, score it, count its events, estimate every chip, and store "
                    "tidy rows (append-only; --resume continues an interrupted run). A name given twice (a "
                    "workload, a backend or a chip) runs once, in the order first given. One run writes a results "
                    "folder at a time: a second run on the same --out stops at once (or waits, --wait).")
    p.add_argument("workloads", nargs="*", default=None,
                   help="workloads (default: all): nmnist shd ecg-anomaly; repeats are dropped")
    p.add_argument("--network", action="append", default=None, metavar="FILE.nir",
                   help="your own network as a NIR graph (repeat for several), or the name of a network spikebench "
                        "ships (nmnist-csnn); default: each workload's shipped reference network. spikebench reads "
                        "data files, never code: pass Python models through spikebench.benchmark()")
    p.add_argument("--name", action="append", default=None,
                   help="row label of each --network, in order (default: the graph's name, else the file name)")
    p.add_argument("--with-reference", action="store_true",
                   help="also run each workload's shipped reference network beside the --network ones")
    p.add_argument("--timestep-s", type=float, default=None,
                   help="step length in seconds (overrides the network's metadata and the workload's binning)")
    p.add_argument("--timesteps", type=int, default=None,
                   help="steps per sample, 1 to 1000000 (overrides the network's metadata and the workload's binning)")
    p.add_argument("--backends", default="sparse-cpu,snntorch",
                   help="comma-separated (default: sparse-cpu,snntorch); repeats are dropped")
    p.add_argument("--chips", default="all", help="'all' or a comma-separated list of chips; repeats are dropped")
    p.add_argument("--out", default="results", help="results folder (created if missing; default: results)")
    p.add_argument("--device", default=None, help="device for the snntorch backend (cpu, cuda[:N])")
    p.add_argument("--threads", type=int, default=None,
                   help="threads of the sparse-cpu backend, over samples (default: every core); results are the "
                        "same at any count, only the measured wall time changes")
    p.add_argument("--resume", action="store_true", help="continue the latest run in --out, skipping finished cells")
    p.add_argument("--wait", action="store_true",
                   help="if another run is writing --out, wait for it to end instead of stopping at once")
    p.add_argument("--limit", type=int, default=None, help="use only the first N test samples of each workload")
    p.add_argument("--backend-limit", action="append", default=None, metavar="BACKEND=N",
                   help="that backend's cells use only N test samples (repeat per backend), e.g. snntorch=256: a slow "
                        "backend checked on a sample while the others run the whole split; each cell of a backend "
                        "other than sparse-cpu says whether it agrees with sparse-cpu on its samples")
    p.add_argument("--seed", type=int, default=0,
                   help=f"seed of the offline data and any sampling, 0 to {MAX_SEED} (default 0)")
    p.add_argument("--data-dir", default=None, help="folder with real datasets (else $SPIKEBENCH_DATA, else offline data)")
    p.add_argument("--require-real", action="store_true", help="refuse synthetic data")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def network_choices(paths, labels, with_reference: bool) -> tuple:
    """The --network files (with their --name labels) as NetworkChoice records."""
    from spikebench.core.errors import SpikebenchError
    from spikebench.harness import REFERENCE
    from spikebench.models import NetworkChoice

    paths = list(paths or [])
    labels = list(labels or [])
    if labels and not paths:
        raise SpikebenchError("--name labels a --network file; give --network too")
    if len(labels) > len(paths):
        raise SpikebenchError(f"{len(labels)} --name labels for {len(paths)} --network file(s); give one per file")
    if with_reference and not paths:
        raise SpikebenchError("--with-reference adds the shipped network beside --network files; give --network too")
    out = [REFERENCE] if with_reference or not paths else []
    for k, p in enumerate(paths):
        net, binning, p = _read_network(p)
        from pathlib import Path

        default = net.name if net.name and net.name not in ("network", "snntorch") else Path(p).stem
        out.append(NetworkChoice(name=labels[k] if k < len(labels) else default, network=net, path=str(p),
                                 binning=binning))
    return tuple(out)


def _read_network(arg: str):
    """``(network, binning, path)`` of a --network argument: a NIR file, else a shipped network's name."""
    from pathlib import Path

    from spikebench.core.errors import FileFormatError
    from spikebench.models import read_nir
    from spikebench.workloads.base import NETWORKS_DIR, load_network

    path = Path(arg)
    shipped = NETWORKS_DIR / f"{arg}.nir"
    if not path.exists() and path.suffix == "" and shipped.is_file():
        net = load_network(shipped)  # with the metadata JSON beside it (binning, training record)
        b = net.metadata.get("binning") or {}
        return net, {k: b[k] for k in ("timestep_s", "timesteps") if k in b}, str(shipped)
    if not path.exists():
        names = sorted(p.stem for p in NETWORKS_DIR.glob("*.nir"))
        raise FileFormatError(f"{arg}: no such NIR file, nor a network spikebench ships ({', '.join(names)})")
    net, binning = read_nir(path)
    return net, binning, str(path)


def backend_limits(specs) -> tuple:
    """``["snntorch=256", ...]`` -> ``(("snntorch", 256), ...)``; a malformed one is a one-line error."""
    from spikebench.core.errors import SpikebenchError

    out = {}
    for spec in specs or []:
        name, sep, value = spec.partition("=")
        if not sep or not name.strip() or not value.strip().isdigit() or int(value) < 1:
            raise SpikebenchError(f"--backend-limit {spec!r}: write BACKEND=N with N >= 1, e.g. snntorch=256")
        if name.strip() in out:
            raise SpikebenchError(f"--backend-limit names {name.strip()!r} twice; give each backend once")
        out[name.strip()] = int(value)
    return tuple(out.items())


def run(args) -> int:
    from spikebench.hardware_models import resolve_chips
    from spikebench.harness import RunConfig, run
    from spikebench.workloads import WORKLOADS

    # options first, before any file is read or the store is touched
    positive(args.limit, "--limit")
    positive(args.timesteps, "--timesteps")
    seed(args.seed)  # the rest of the options (--timesteps, --timestep-s bounds) are checked by validate_config
    cfg = RunConfig(workloads=tuple(args.workloads or WORKLOADS), backends=names(args.backends),
                    chips=tuple(resolve_chips(args.chips)), device=args.device, seed=args.seed, limit=args.limit,
                    data_dir=args.data_dir, require_real=args.require_real,
                    networks=network_choices(args.network, args.name, args.with_reference),
                    timestep_s=args.timestep_s, timesteps=args.timesteps, threads=args.threads,
                    backend_limits=backend_limits(args.backend_limit))
    # SIGTERM behaves like Ctrl-C: the cell in progress is dropped, finished cells stay
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        run_id, written = run(cfg, args.out, resume=args.resume, progress=not args.no_progress, wait=args.wait)
    except KeyboardInterrupt:
        print(f"spikebench: interrupted; finished cells are saved in {args.out}; continue with the same "
              "command and --resume")
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(f"run {run_id}: {written} cell(s) written to {args.out} "
          f"({len(cfg.cells()) - written} already finished)" if args.resume else
          f"run {run_id}: {written} cell(s) written to {args.out}")
    return 0
