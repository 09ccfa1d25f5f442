"""``spikebench choose``: rank the chips for a deployment, with every reason (see :mod:`spikebench.choose`).

``--format json`` writes one object (schema ``spikebench.choice/1``)::

    {"schema": "spikebench.choice/1", "source": str, "constraints": {"max_power_w", "max_latency_s",
     "min_accuracy", "duty_cycle"}, "timesteps", "timestep_s", "input_duration_s",
     "task": {"metric", "value", "low", "high", "data", "source"} | null, "choice": chip | null,
     "chips": [{"chip", "title", "rank", "feasible", "reasons", "notes", "requantised", "boundary", "cores",
                "core_kind", "chips", "energy_j" | "energy_dynamic_j" | "energy_static_j" | "latency_s" |
                "static_power_w" | "power_w": {"low", "nominal", "high"}, "sustained_s", "power_margin_w",
                "latency_margin_s", "mappable", "keeps_up"}],
     "stability": {"draws", "seed", "method", "ranking", "top_changed_pct", "ranking_changed_pct",
                   "top_two_swap_pct", "settled", "not_settled_threshold_pct", "summary"} | null,
     "notes": [str]}

Units: energies J per inference, power W, times s. Exit codes: 0 a chip was chosen; 2 bad input or no
feasible chip (one line on stderr naming the constraint that rules everything out).
"""

from __future__ import annotations

import json
import math

_FORMATS = ("table", "json")

_DESCRIPTION = """\
Rank the chips for a deployment. The network's counts come from --counts FILE, from --results DIR
(a `spikebench run` store), or from simulating the --workload's reference network on its test split
with sparse-cpu. Definitions: an input lasts D = timesteps x timestep_s (a real-time stream);
energy per inference E and latency L are the chip models' estimates, each step as fast as the chip
runs; static power P_static = E_static / L; the duty cycle d is the fraction of time the system is
processing its input stream, and the chip stays powered the rest of the time, so average power
P = d x E_dynamic / D + P_static (= d x (E + P_static x (D - L)) / D + (1 - d) x P_static). A chip
that takes longer than D per input cannot keep up with the stream and is infeasible, whatever the
duty cycle. Feasible chips are ranked by nominal energy per inference; stability samples the
constants within their intervals. No feasible chip exits 2 with the constraint to loosen."""


def register(sub) -> None:
    p = sub.add_parser("choose", help="rank the chips for a deployment under power, latency and accuracy budgets",
                       description=_DESCRIPTION)
    src = p.add_argument_group("the network's counts (one of)")
    src.add_argument("--workload", help="workload name (shd, nmnist, ecg): simulate its reference network on its test "
                                        "split with sparse-cpu; with --results, which workload of the store")
    src.add_argument("--counts", help="counts JSON file (spikebench.counts/1) of your own network")
    src.add_argument("--results", metavar="DIR", help="results store written by `spikebench run --out DIR`")
    con = p.add_argument_group("constraints (each optional)")
    con.add_argument("--max-power-mw", type=float, help="average power budget in mW (see the definition above)")
    con.add_argument("--max-latency-ms", type=float, help="latency budget per input in ms")
    con.add_argument("--min-accuracy", type=float,
                     help="lowest acceptable task metric, a fraction in [0, 1] (accuracy; AUROC for anomaly "
                          "detection; --metric names another)")
    con.add_argument("--duty-cycle", type=float, default=1.0,
                     help="fraction of time in (0, 1] the system processes its input stream (default 1: always)")
    p.add_argument("--accuracy", type=float,
                   help="with --counts: the network's task metric, as you measured it (for --min-accuracy)")
    p.add_argument("--metric", help="task metric compared with --min-accuracy (default: accuracy, or auroc for "
                                    "anomaly detection)")
    p.add_argument("--chips", default="all", help="'all' (default) or a comma-separated list, e.g. loihi2,akida")
    p.add_argument("--format", choices=_FORMATS, default="table")
    p.add_argument("--draws", type=int, default=1000,
                   help="stability draws of the constants (default 1000; 0 skips)")
    p.add_argument("--seed", type=int, default=0, help="seed of the data and of the stability draws (default 0)")
    p.add_argument("--limit", type=int, default=None, help="with --workload: simulate at most N test samples")
    p.add_argument("--data-dir", default=None, help="with --workload: dataset folder (default: the workload's own)")
    p.add_argument("--backend", default=None,
                   help="with --results: which backend's rows (default sparse-cpu when present)")
    p.add_argument("--input-duration-ms", type=float, default=None,
                   help="with --results: the duration of one input, when the store does not record it")
    p.set_defaults(func=run_choose)


def run_choose(args) -> int:
    from spikebench.core.errors import SpikebenchError
    from spikebench.hardware_models import resolve_chips

    from .choose import (
        ChooseError,
        Constraints,
        TaskScore,
        choose_from_counts,
        choose_from_results,
        choose_from_workload,
        format_table,
    )

    given = [n for n in ("counts", "results") if getattr(args, n)]
    if len(given) > 1:
        raise SpikebenchError("give either --counts or --results, not both")
    if not given and not args.workload:
        raise SpikebenchError("name the network: --workload NAME, --counts FILE or --results DIR")
    if args.accuracy is not None and not args.counts:
        raise SpikebenchError("--accuracy states the task metric of a --counts file; with --workload or --results "
                              "the metric is measured")
    if args.limit is not None and args.limit < 1:
        raise SpikebenchError(f"--limit must be >= 1, got {args.limit}")
    constraints = Constraints(
        max_power_w=None if args.max_power_mw is None else args.max_power_mw / 1e3,
        max_latency_s=None if args.max_latency_ms is None else args.max_latency_ms / 1e3,
        min_accuracy=args.min_accuracy, duty_cycle=args.duty_cycle)
    # 'all': every chip model (from a results store: every chip it holds estimates for)
    chips = None if args.chips.strip() == "all" else resolve_chips(args.chips)
    if args.counts:
        from spikebench.core import EventCounts

        counts = EventCounts.from_json(args.counts)
        task = None
        if args.accuracy is not None:
            if not (math.isfinite(args.accuracy) and 0.0 <= args.accuracy <= 1.0):
                raise ChooseError(f"--accuracy must be in [0, 1], got {args.accuracy}")
            task = TaskScore(metric=args.metric or "accuracy", value=args.accuracy, data="stated",
                             source="--accuracy")
        label = f"counts file {args.counts}" + (f" ({args.workload})" if args.workload else "")
        choice = choose_from_counts(counts, constraints, chips=chips, task=task, draws=args.draws, seed=args.seed,
                                    source=label)
    elif args.results:
        dur = None
        if args.input_duration_ms is not None:
            if not (math.isfinite(args.input_duration_ms) and args.input_duration_ms > 0):
                raise ChooseError(f"--input-duration-ms must be > 0, got {args.input_duration_ms}")
            dur = args.input_duration_ms / 1e3
        choice = choose_from_results(args.results, constraints, workload=args.workload, backend=args.backend,
                                     chips=chips, metric=args.metric, input_duration_s=dur, draws=args.draws,
                                     seed=args.seed)
    else:
        choice = choose_from_workload(args.workload, constraints, chips=chips, limit=args.limit, seed=args.seed,
                                      data_dir=args.data_dir, metric=args.metric, draws=args.draws)
    if args.format == "json":
        print(json.dumps(choice.to_dict(), indent=1))
    else:
        print(format_table(choice))
    return 0
