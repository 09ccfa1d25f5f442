"""``spikebench choose``: rank the chips for a deployment, with every reason (see :mod:`spikebench.choose`).

``--format table`` (default) prints :func:`format_table`; ``--format csv`` one row per chip (rank,
feasibility, reasons, energies, power, latency as nominal/low/high columns, margins).

``--format json`` writes one object (schema ``spikebench.choice/1``)::

    {"schema": "spikebench.choice/1", "source": str, "constraints": {"max_power_w", "max_latency_s",
     "min_accuracy", "duty_cycle"}, "timesteps", "timestep_s", "input_duration_s",
     "task": {"metric", "value", "low", "high", "data", "source"} | null, "choice": chip | null,
     "chips": [{"chip", "title", "rank", "feasible", "reasons", "notes", "requantised", "boundary", "cores",
                "core_kind", "chips", "energy_j" | "energy_dynamic_j" | "energy_static_j" | "latency_s" |
                "static_power_w" | "power_w": {"low", "nominal", "high"}, "sustained_s", "power_margin_w",
                "latency_margin_s", "mappable", "keeps_up", "placeholder",
                "task": {"metric", "value", "low", "high", "data", "source", "basis", "float_value"} | null,
                "arithmetic", "deployment_notes": [str]}],
     "stability": {"draws", "seed", "method", "ranking", "top_changed_pct", "ranking_changed_pct",
                   "top_two_swap_pct", "settled", "not_settled_threshold_pct", "summary"} | null,
     "notes": [str]}

The top-level ``task`` is the float network's (as trained; ``basis`` ``"float"``). Each chip's ``task``
is the one ``--min-accuracy`` is compared with for that chip: ``basis`` ``"deployed"`` (the network
in the chip's numeric format, simulated in its arithmetic; ``float_value`` is the float network's),
``"float"`` (the chip runs the float network itself: cpu, gpu) or ``"float-fallback"`` (nothing was
deployed: a counts file, a results store written before chips deployed the network; the float
network's metric stands in); null where the chip's numeric format cannot hold the network.
``arithmetic`` and ``deployment_notes`` say how the chip holds the network (empty where nothing was
deployed).

With ``--results`` and a workload run with several networks, each row is a (network, chip) pair:
the table and CSV gain ``network`` (and the pair's task metric, its network deployed on its chip:
table column ``<metric>``, CSV ``network_hash``, ``task_metric``, ``task_value``, ``pareto``) columns, and the JSON object gains
``networks`` (``[{"network", "network_hash", "backend", "input_duration_s", "task"}]``),
``choice_network`` and ``choice_cited_network``, each chip entry ``network`` and ``pareto``
(``task`` is then null: each network has its own). ``--network NAME`` restricts the choice to one.

With one network, the table gains a ``<metric>`` column (each chip's, ``(float)`` where the chip runs
the float network) when some chip's metric was measured on its deployed network; the CSV always ends
with ``task_metric``, ``task_value``, ``task_basis`` and ``float_value`` (each chip's).

Units: energies J per inference, power W, times s. Exit codes: 0 a chip was chosen; 2 bad input or no
feasible chip (one line on stderr naming the constraint that rules everything out).
"""

from __future__ import annotations

import math

from spikebench.core.units import si, si_interval, si_signed, text_table

from .common import FORMATS, MAX_DRAWS, MAX_SEED, add_format, at_most, positive, seed, write_csv, write_json

_DESCRIPTION = """\
Rank the chips for a deployment. The network's counts come from --counts FILE, from --results DIR
(a `spikebench run` store), or from simulating the --workload's reference network on its test split
with sparse-cpu. With --workload and --results each chip is judged on the network as it holds it:
deployed in its numeric format and simulated in its arithmetic (its own task metric, for
--min-accuracy, and counts); a counts file holds no network, so there every chip gets the float
network's counts (and --accuracy). Definitions: an input lasts D = timesteps x timestep_s (a real-time stream);
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
    src.add_argument("--counts", help="counts JSON file (spikebench.counts/2; /1 files are read too) of your own network")
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
    add_format(p, FORMATS)
    p.add_argument("--draws", type=int, default=1000,
                   help=f"stability draws of the constants, 0 to {MAX_DRAWS:,} (default 1000; 0 skips)")
    p.add_argument("--seed", type=int, default=0,
                   help=f"seed of the data and of the stability draws, 0 to {MAX_SEED} (default 0)")
    p.add_argument("--limit", type=int, default=None, help="with --workload: simulate at most N test samples")
    p.add_argument("--data-dir", default=None, help="with --workload: dataset folder (default: the workload's own)")
    p.add_argument("--backend", default=None,
                   help="with --results: which backend's rows (default sparse-cpu when present)")
    p.add_argument("--network", default=None,
                   help="with --results: choose for this network only (default: rank every (network, chip) pair "
                        "when the store holds several networks for the workload)")
    p.add_argument("--input-duration-ms", type=float, default=None,
                   help="with --results: the duration of one input, when the store does not record it")
    p.set_defaults(func=run)


def run(args) -> int:
    from spikebench.choose import (
        ChooseError,
        Constraints,
        TaskScore,
        choose_from_counts,
        choose_from_results,
        choose_from_workload,
    )
    from spikebench.core.errors import SpikebenchError
    from spikebench.hardware_models import resolve_chips

    given = [n for n in ("counts", "results") if getattr(args, n)]
    if len(given) > 1:
        raise SpikebenchError("give either --counts or --results, not both")
    if not given and not args.workload:
        raise SpikebenchError("name the network: --workload NAME, --counts FILE or --results DIR")
    if args.accuracy is not None and not args.counts:
        raise SpikebenchError("--accuracy states the task metric of a --counts file; with --workload or --results "
                              "the metric is measured")
    positive(args.limit, "--limit")
    at_most(args.draws, "--draws", MAX_DRAWS)
    seed(args.seed)
    if args.network is not None and not args.results:
        raise SpikebenchError("--network picks one of the networks of a results store: use it with --results DIR")
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
                                    source=label, notes=(COUNTS_NOTE,))
    elif args.results:
        dur = None
        if args.input_duration_ms is not None:
            if not (math.isfinite(args.input_duration_ms) and args.input_duration_ms > 0):
                raise ChooseError(f"--input-duration-ms must be > 0, got {args.input_duration_ms}")
            dur = args.input_duration_ms / 1e3
        choice = choose_from_results(args.results, constraints, workload=args.workload, backend=args.backend,
                                     chips=chips, metric=args.metric, input_duration_s=dur, draws=args.draws,
                                     seed=args.seed, network=args.network)
    else:
        choice = choose_from_workload(args.workload, constraints, chips=chips, limit=args.limit, seed=args.seed,
                                      data_dir=args.data_dir, metric=args.metric, draws=args.draws)
    if args.format == "json":
        write_json(choice.to_dict())
    elif args.format == "csv":
        write_csv(choice_rows(choice))
    else:
        print(format_table(choice))
    return 0


COUNTS_NOTE = ("a counts file holds no network to deploy: every chip is estimated on its counts and judged on "
               "its stated task metric, both the float network's; a chip's numeric format may change both "
               "(choose with --workload or --results for each chip's deployed network)")


def _task_cell(t) -> str:
    """A chip's task metric in a table cell: ``0.951`` (deployed, or standing in), ``0.969 (float)``."""
    if t is None:
        return "-"
    return f"{t.value:.3g}" + (" (float)" if t.basis == "float" else "")


def _task_said(t) -> str:
    """A chip's task metric in a sentence: ``accuracy 0.951 deployed (float 0.969)``."""
    return f"{t.metric} {t.value:.3g}" if t.basis == "float-fallback" else t.short()


def choice_rows(choice) -> list[dict]:
    """One flat row per chip verdict (the CSV)."""
    rows = []
    for v in choice.verdicts:
        pair = {}
        if choice.networks:
            e = choice.network(v.network)
            pair = {"network": v.network, "network_hash": e.network_hash,
                    "task_metric": v.task.metric if v.task else None, "task_value": v.task.value if v.task else None,
                    "pareto": v.pareto}
        row = {"rank": v.rank, **pair, "chip": v.chip, "feasible": v.feasible, "reasons": "; ".join(v.reasons),
               "notes": "; ".join(v.notes), "placeholder": v.placeholder, "requantised": v.requantised}
        for q in ("energy_j", "energy_dynamic_j", "energy_static_j", "static_power_w", "power_w", "latency_s"):
            iv = getattr(v, q)
            row.update({f"{q}_nominal": iv.nominal, f"{q}_low": iv.low, f"{q}_high": iv.high})
        row.update({"sustained_s": v.sustained_s, "power_margin_w": v.power_margin_w,
                    "latency_margin_s": v.latency_margin_s, "cores": v.cores, "core_kind": v.core_kind,
                    "chips": v.chips, "boundary": v.boundary})
        if not choice.networks:
            row.update({"task_metric": v.task.metric if v.task else None,
                        "task_value": v.task.value if v.task else None})
        row.update({"task_basis": v.task.basis if v.task else None,
                    "float_value": (v.task.float_value if v.task.deployed else v.task.value) if v.task else None})
        rows.append(row)
    return rows


def format_table(choice) -> str:
    """Human-readable answer: header, one row per chip, reasons and notes, stability, the choice."""
    c = choice.constraints
    lines = [f"spikebench choose: {choice.source}" if choice.source else "spikebench choose"]
    nets = choice.networks
    durations = {e.input_duration_s for e in nets}
    if choice.timesteps is not None:
        lines.append(f"input: {choice.timesteps} steps x {si(choice.timestep_s, 's')} = "
                     f"{si(choice.input_duration_s, 's')} per input (real-time stream)")
    elif len(durations) > 1:
        lines.append("input: each network's own duration per input (real-time stream; below)")
    else:
        lines.append(f"input: {si(choice.input_duration_s, 's')} per input (real-time stream)")
    lines.append(f"constraints: {c.describe()}")
    if choice.task is not None:
        lines.append(f"task: {choice.task.describe()}")
    for e in nets:
        h = f" ({e.network_hash[:8]})" if e.network_hash and not e.name.endswith("@" + e.network_hash[:8]) else ""
        dur = f"; {si(e.input_duration_s, 's')} per input" if len(durations) > 1 else ""
        lines.append(f"network {e.name}{h} on {e.backend}: "
                     + (e.task.describe() if e.task is not None else "no task metric stored") + dur)
    metric = next((t.metric for t in [*(e.task for e in nets), *(v.task for v in choice.verdicts)]
                   if t is not None), "task metric")
    # one network: a metric column only when the chips' metrics differ by deployment (else the task line says it)
    scores = bool(nets) or any(v.task is not None and v.task.deployed for v in choice.verdicts)

    def score(v) -> str:
        return _task_cell(v.task) + (" *" if v.pareto else "")

    head = ("rank", *(("network",) if nets else ()), "chip", "feasible", *((metric,) if scores else ()),
            "E/inference [low - high]", "avg power [low - high]", "power margin", "latency [low - high]",
            "latency margin")
    rows = [(str(v.rank) if v.rank else "-", *((v.network,) if nets else ()), v.chip, "yes" if v.feasible else "no",
             *((score(v),) if scores else ()), si_interval(v.energy_j, "J"),
             si_interval(v.power_w, "W"), "-" if v.power_margin_w is None else si_signed(v.power_margin_w, "W"),
             si_interval(v.latency_s, "s"),
             "-" if v.latency_margin_s is None else si_signed(v.latency_margin_s, "s")) for v in choice.verdicts]
    lines += ["", text_table(head, rows, left=(1, 2, 3) if nets else (1, 2)), ""]
    if scores:
        lines.append(f"({metric} of each {'pair' if nets else 'chip'} on the network as the chip holds it (deployed "
                     "in its numeric format, simulated in its arithmetic); (float): the chip runs the float network"
                     + ("; * on the Pareto front of it vs energy per inference among the feasible pairs)" if nets
                        else ")"))
    deployed = [v for v in choice.verdicts if v.arithmetic]
    if deployed:
        lines.append("deployed: " + ", ".join(
            f"{v.label} ({v.arithmetic}, {len(v.deployment_notes)} note{'s' if len(v.deployment_notes) != 1 else ''})"
            for v in deployed) + "; --format json lists the notes")
    lines += [f"{v.label}: infeasible: {r}" for v in choice.verdicts for r in v.reasons]
    lines += [f"{v.label}: note: {n}" for v in choice.verdicts if v.feasible for n in v.notes]
    lines += [f"note: {n}" for n in choice.notes]
    if choice.stability is not None:
        lines.append(f"stability: {choice.stability.describe()}")
    best, cited = choice.best, choice.best_cited

    def said(v):
        acc = f"{_task_said(v.task)}, " if v.task is not None else ""
        return (f"{v.label} ({v.title}): {acc}{si(v.energy_j.nominal, 'J')} per inference, "
                f"{si(v.power_w.nominal, 'W')} average, {si(v.latency_s.nominal, 's')} latency")

    if best is not None:
        lines.append(f"choice: {said(best)}")
        if best.placeholder:
            what = "pair" if nets else "chip"
            lines.append(f"warning: {best.label}'s estimate rests on unverified placeholder constants (see its notes); "
                         + (f"the best {what} with cited constants: {said(cited)}" if cited else
                            f"no feasible {what} has only cited constants"))
    lines.append("(energy per inference as fast as each chip runs; average power = duty x E_dynamic / input duration"
                 " + static power; margins = budget - nominal)")
    return "\n".join(lines)
