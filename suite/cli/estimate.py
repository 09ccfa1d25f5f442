"""``spikebench estimate``: energy and latency of a counts file on each chip model.

``--format json`` writes one object (schema ``spikebench.estimates/1``)::

    {"schema": "spikebench.estimates/1", "counts": "<path>", "samples": int, "timesteps": int,
     "timestep_s": float, "real_time": bool, "deployment": "<path>" | null,
     "operating_points": {"<chip>": "<point>"},  # those given with --operating-point
     "boundary": "chip" | "board" | "system",  # --boundary (each estimate's own "boundary" says what it holds)
     "batch": int,  # --batch: inputs the CPU/GPU rows run together
     "estimates": [{"chip", "title", "kind": "modelled", "per": "inference", "boundary", "feasible",
                    "cores", "core_kind", "chips",
                    "energy_dynamic_j" | "energy_static_j" | "energy_j" | "latency_s":
                        {"low", "nominal", "high"},
                    "reasons": [str], "assumptions": [str]}],
     "sensitivity": {...}   # only with --sensitivity N
    }

``--format csv``: one row per chip, each interval as ``<quantity>_low|_nominal|_high`` columns.
"""

from __future__ import annotations

from spikebench.core.units import percent, si, si_range, text_table

from .common import MAX_DRAWS, MAX_SEED, add_format, at_most, seed, write_csv, write_json

ESTIMATES_SCHEMA = "spikebench.estimates/1"
QUANTITIES = ("energy_dynamic_j", "energy_static_j", "energy_j", "latency_s")


def register(sub) -> None:
    p = sub.add_parser("estimate", help="estimate energy and latency of a counts file on each chip",
                       description="Read a counts file (schema spikebench.counts/2; /1 files are read too) and print, per chip, energy per "
                                   "inference (dynamic, static, total; low/nominal/high), latency, cores, chips, "
                                   "feasibility and reasons.")
    p.add_argument("--counts", required=True, help="counts JSON file (spikebench.counts/2; /1 files are read too)")
    p.add_argument("--chips", default="all", help="'all' (default) or a comma-separated list, e.g. loihi,akida")
    add_format(p)
    p.add_argument("--real-time", action="store_true",
                   help="hold every step to the counts file's timestep_s (real-time operation)")
    p.add_argument("--sensitivity", type=int, default=0, metavar="N",
                   help="also sample the constants N times within their intervals and report how often the "
                        f"energy ranking changes (0 to {MAX_DRAWS:,}; default 0: none)")
    p.add_argument("--seed", type=int, default=0, help=f"seed of the --sensitivity draws, 0 to {MAX_SEED} (default 0)")
    p.add_argument("--deployment", default=None, metavar="FILE.json",
                   help="your placement per chip (schema spikebench.deployment/1: chips, cores per layer, passes, "
                        "source) used in place of each named chip's own mapping; see the README")
    p.add_argument("--operating-point", action="append", default=None, metavar="CHIP=POINT",
                   help="a chip's published operating point instead of its default (repeat per chip), e.g. "
                        "spinnaker2=0.8V; 'spikebench chips show CHIP' lists them")
    p.add_argument("--boundary", choices=("chip", "board", "system"), default="chip",
                   help="measurement boundary: chip (default, each model's own), board (+ the board's power where "
                        "published) or system (+ host I/O time where published); a chip without a published figure "
                        "stays at its chip boundary and says so")
    p.add_argument("--batch", type=int, default=1, metavar="B",
                   help="inputs the CPU/GPU rows run together (default 1): weight reads, kernel launches and idle "
                        "power are shared by the batch; the neuromorphic chips stream inputs one at a time")
    p.set_defaults(func=run)


def estimate_rows(estimates) -> list[dict]:
    """One flat dict per estimate (the CSV rows)."""
    rows = []
    for e in estimates:
        row = {"chip": e.chip, "boundary": e.boundary, "feasible": e.feasible, "cores": e.cores,
               "core_kind": e.core_kind, "chips": e.chips}
        for q in QUANTITIES:
            iv = getattr(e, q)
            for end in ("low", "nominal", "high"):
                row[f"{q}_{end}"] = getattr(iv, end)
        row["regime"] = "extrapolated" if e.extrapolated else "inside"
        row["extrapolated"] = "; ".join(e.extrapolated)
        row["reasons"] = "; ".join(e.reasons)
        row["assumptions"] = "; ".join(e.assumptions)
        rows.append(row)
    return rows


def format_estimates(counts, estimates, real_time: bool) -> str:
    """The table: one row per chip, then each chip's boundary and reasons."""
    lines = [f"per inference ({counts.samples} samples x {counts.timesteps} steps of {counts.timestep_s:g} s; "
             f"{'real-time' if real_time else 'as fast as each chip runs'}); energy and latency as nominal "
             "[low - high]"]
    header = ["chip", "feasible", "cores", "chips", "E dynamic", "E static", "E total", "E total [low - high]",
              "latency", "latency [low - high]", "regime"]
    rows = [[e.chip, "yes" if e.feasible else "NO", f"{e.cores} {e.core_kind}" if e.core_kind != "-" else "-",
             str(e.chips), si(e.energy_dynamic_j.nominal, "J"), si(e.energy_static_j.nominal, "J"),
             si(e.energy_j.nominal, "J"), si_range(e.energy_j.low, e.energy_j.high, "J"),
             si(e.latency_s.nominal, "s"), si_range(e.latency_s.low, e.latency_s.high, "s"),
             "EXTRAPOLATED" if e.extrapolated else "inside"] for e in estimates]
    lines += [text_table(header, rows), ""]
    for e in estimates:
        lines.append(f"{e.chip}: boundary {e.boundary}")
        lines += [f"  - {r}" for r in e.reasons]
        lines += [f"  - extrapolated: {r}" for r in e.extrapolated]
    lines.append("intervals: the constants' intervals, each side widened to at least x1.5 from nominal inside a "
                 "model's regime and x3 outside it (EXTRAPOLATED; hardware_models/regime.py)")
    lines.append("(assumptions per chip: --format json)")
    return "\n".join(lines)


def format_sensitivity(rs) -> str:
    lines = ["", f"rank stability ({rs.draws} draws of the constants within their intervals, seed {rs.seed}):",
             f"  nominal energy ranking (cheapest first): {' < '.join(rs.nominal_ranking)}",
             f"  ranking changed in {percent(rs.ranking_changed)} of draws; cheapest chip changed in "
             f"{percent(rs.top_changed)}"]
    lines += [f"  {a} vs {b}: swapped in {percent(s)}" for a, b, s in rs.pair_swaps]
    if rs.excluded:
        lines.append(f"  not ranked (infeasible): {', '.join(rs.excluded)}")
    return "\n".join(lines)


def operating_points(specs, names) -> dict[str, str]:
    """``["spinnaker2=0.8V", ...]`` -> ``{"spinnaker2": "0.8V"}``, each checked against the chip's sheet."""
    from spikebench.core.errors import SpikebenchError
    from spikebench.hardware_models import CHIPS

    out = {}
    for spec in specs or []:
        chip, sep, point = (x.strip() for x in spec.partition("="))
        if not sep or not chip or not point:
            raise SpikebenchError(f"--operating-point {spec!r}: write CHIP=POINT, e.g. spinnaker2=0.8V")
        if chip not in CHIPS:
            raise SpikebenchError(f"--operating-point {spec!r}: unknown chip {chip!r}; known chips: {', '.join(CHIPS)}")
        if chip not in names:
            raise SpikebenchError(f"--operating-point {spec!r}: {chip} is not among --chips")
        if chip in out:
            raise SpikebenchError(f"--operating-point names {chip} twice; give each chip once")
        try:
            CHIPS[chip].sheet_at(point)
        except ValueError as exc:
            raise SpikebenchError(f"--operating-point {spec!r}: {exc}") from None
        out[chip] = point
    return out


def run(args) -> int:
    from spikebench.core import EventCounts
    from spikebench.core.errors import SpikebenchError
    from spikebench.hardware_models import CHIPS, NetworkProfile, resolve_chips
    from spikebench.hardware_models.sensitivity import rank_stability

    names = resolve_chips(args.chips)  # fail on an unknown chip before reading anything
    at_most(args.sensitivity, "--sensitivity", MAX_DRAWS)
    seed(args.seed)
    if args.sensitivity and args.format == "csv":
        raise SpikebenchError("--sensitivity prints with --format table or json, not csv")
    if args.batch < 1 or args.batch > 1_000_000:
        raise SpikebenchError(f"--batch {args.batch}: give 1 to 1,000,000 inputs per batch")
    if args.batch > 1 and args.real_time:
        raise SpikebenchError("--batch with --real-time: a batch waits for all its inputs, so it cannot be paced in "
                              "real time; drop one of them")
    points = operating_points(args.operating_point, names)
    counts = EventCounts.from_json(args.counts)
    deployments = {}
    if args.deployment:
        from spikebench.hardware_models.deployment_file import read_deployments

        deployments = read_deployments(args.deployment, layers=len(counts.layers))
        left_out = [c for c in deployments if c not in names]
        if left_out:
            raise SpikebenchError(f"{args.deployment} places the network on {', '.join(left_out)}, which --chips "
                                  f"leaves out; add {'it' if len(left_out) == 1 else 'them'} to --chips or remove "
                                  "the entry")
    profile = NetworkProfile.from_counts(counts)
    estimates = [CHIPS[n].estimate(profile, counts, real_time=args.real_time, deployment=deployments.get(n),
                                   operating_point=points.get(n), boundary=args.boundary, batch=args.batch)
                 for n in names]
    rs = (rank_stability(counts, {n: CHIPS[n] for n in names}, draws=args.sensitivity, seed=args.seed,
                         real_time=args.real_time, deployments=deployments, operating_points=points,
                         boundary=args.boundary, batch=args.batch)
          if args.sensitivity else None)
    if args.format == "json":
        doc = {"schema": ESTIMATES_SCHEMA, "counts": str(args.counts), "samples": counts.samples,
               "timesteps": counts.timesteps, "timestep_s": counts.timestep_s, "real_time": bool(args.real_time),
               "deployment": args.deployment, "operating_points": points, "boundary": args.boundary,
               "batch": args.batch,
               "estimates": [e.to_dict() for e in estimates]}
        if rs is not None:
            doc["sensitivity"] = rs.to_dict()
        write_json(doc)
    elif args.format == "csv":
        write_csv(estimate_rows(estimates))
    else:
        print(format_estimates(counts, estimates, args.real_time))
        if rs is not None:
            print(format_sensitivity(rs))
    return 0
