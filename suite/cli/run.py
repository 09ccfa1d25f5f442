"""``spikebench run``: every workload through every backend and chip model into a results store."""

from __future__ import annotations

import signal

from .common import names, positive


def register(sub) -> None:
    p = sub.add_parser(
        "run", help="run workloads on backends and chip models into a results folder",
        description="Simulate each workload's test split with its shipped reference network on each backend, "
                    "score it, count its events, estimate every chip, and store tidy rows (append-only; "
                    "--resume continues an interrupted run).")
    p.add_argument("workloads", nargs="*", default=None, help="workloads (default: all): nmnist shd ecg-anomaly")
    p.add_argument("--backends", default="sparse-cpu,snntorch", help="comma-separated (default: sparse-cpu,snntorch)")
    p.add_argument("--chips", default="all", help="'all' or a comma-separated list of chips")
    p.add_argument("--out", default="results", help="results folder (created if missing; default: results)")
    p.add_argument("--device", default=None, help="device for the snntorch backend (cpu, cuda[:N])")
    p.add_argument("--resume", action="store_true", help="continue the latest run in --out, skipping finished cells")
    p.add_argument("--limit", type=int, default=None, help="use only the first N test samples of each workload")
    p.add_argument("--seed", type=int, default=0, help="seed of the offline data and any sampling (default 0)")
    p.add_argument("--data-dir", default=None, help="folder with real datasets (else $SPIKEBENCH_DATA, else offline data)")
    p.add_argument("--require-real", action="store_true", help="refuse synthetic data")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args) -> int:
    from spikebench.hardware_models import resolve_chips
    from spikebench.harness import RunConfig, run
    from spikebench.workloads import WORKLOADS

    positive(args.limit, "--limit")
    cfg = RunConfig(workloads=tuple(args.workloads or WORKLOADS), backends=names(args.backends),
                    chips=tuple(resolve_chips(args.chips)), device=args.device, seed=args.seed, limit=args.limit,
                    data_dir=args.data_dir, require_real=args.require_real)
    # SIGTERM behaves like Ctrl-C: the cell in progress is dropped, finished cells stay
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        run_id, written = run(cfg, args.out, resume=args.resume, progress=not args.no_progress)
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
