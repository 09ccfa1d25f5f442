"""``spikebench estimate``, ``spikebench chips list|show`` and ``spikebench validate``: chip cost models.

``estimate --format json`` writes one object (schema ``spikebench.estimates/1``)::

    {"schema": "spikebench.estimates/1", "counts": "<path>", "samples": int, "timesteps": int,
     "timestep_s": float, "real_time": bool,
     "estimates": [{"chip", "title", "kind": "modelled", "per": "inference", "boundary", "feasible",
                    "cores", "core_kind", "chips",
                    "energy_dynamic_j" | "energy_static_j" | "energy_j" | "latency_s":
                        {"low", "nominal", "high"},
                    "reasons": [str], "assumptions": [str]}],
     "sensitivity": {...}   # only with --sensitivity N
    }
"""

from __future__ import annotations

import csv
import json
import sys

ESTIMATES_SCHEMA = "spikebench.estimates/1"
_FORMATS = ("table", "json", "csv")
_PREFIXES = ((1.0, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f"))


def si(x: float, unit: str) -> str:
    """A number with an SI prefix, 3 significant digits: 1.23 mJ."""
    if x == 0:
        return f"0 {unit}"
    for scale, prefix in ((1e3, "k"), *_PREFIXES):
        if abs(x) >= scale:
            return f"{x / scale:.3g} {prefix}{unit}"
    return f"{x:.3g} {unit}"


def register(sub) -> None:
    p = sub.add_parser("estimate", help="estimate energy and latency of a counts file on each chip",
                       description="Read a counts file (schema spikebench.counts/1) and print, per chip, energy per "
                                   "inference (dynamic, static, total; low/nominal/high), latency, cores, chips, "
                                   "feasibility and reasons.")
    p.add_argument("--counts", required=True, help="counts JSON file (spikebench.counts/1)")
    p.add_argument("--chips", default="all", help="'all' (default) or a comma-separated list, e.g. loihi,akida")
    p.add_argument("--format", choices=_FORMATS, default="table")
    p.add_argument("--real-time", action="store_true",
                   help="hold every step to the counts file's timestep_s (real-time operation)")
    p.add_argument("--sensitivity", type=int, default=0, metavar="N",
                   help="also sample the constants N times within their intervals and report how often the "
                        "energy ranking changes")
    p.add_argument("--seed", type=int, default=0, help="seed of the --sensitivity draws (default 0)")
    p.set_defaults(func=run_estimate)

    c = sub.add_parser("chips", help="list the chip models or show one chip's constants and sources")
    csub = c.add_subparsers(dest="chips_command", metavar="{list,show}", parser_class=type(c))
    csub.required = True
    cl = csub.add_parser("list", help="list the chip models")
    cl.add_argument("--format", choices=_FORMATS, default="table")
    cl.set_defaults(func=run_list)
    cs = csub.add_parser("show", help="print a chip's constants with unit, interval, grade and source")
    cs.add_argument("chip")
    cs.add_argument("--format", choices=_FORMATS, default="table")
    cs.set_defaults(func=run_show)

    v = sub.add_parser("validate", help="run the chip models on published measured cases",
                       description="Rebuild published measurements as counts, run the matching chip model and print "
                                   "predicted vs measured with the error and the case's evidence grade.")
    v.add_argument("--format", choices=_FORMATS, default="table")
    v.add_argument("--counts-dir", default=None,
                   help="also write each case's rebuilt counts file (<case>.json) into this existing folder")
    v.set_defaults(func=run_validate)


# ---- estimate ---------------------------------------------------------------------------------------

def _estimate_rows(estimates) -> list[dict]:
    rows = []
    for e in estimates:
        row = {"chip": e.chip, "boundary": e.boundary, "feasible": e.feasible, "cores": e.cores,
               "core_kind": e.core_kind, "chips": e.chips}
        for q in ("energy_dynamic_j", "energy_static_j", "energy_j", "latency_s"):
            iv = getattr(e, q)
            for end in ("low", "nominal", "high"):
                row[f"{q}_{end}"] = getattr(iv, end)
        row["reasons"] = "; ".join(e.reasons)
        row["assumptions"] = "; ".join(e.assumptions)
        rows.append(row)
    return rows


def _write_csv(rows: list[dict]) -> None:
    if not rows:
        return
    w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)


def _table(header: list[str], rows: list[list[str]], left: tuple[int, ...] = (0,)) -> str:
    """Plain-text table; columns in ``left`` are left-aligned, the others right-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = lambda cells: "  ".join(c.ljust(w) if i in left else c.rjust(w)
                                   for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def _print_estimate_table(counts, estimates, real_time: bool) -> None:
    print(f"per inference ({counts.samples} samples x {counts.timesteps} steps of {counts.timestep_s:g} s; "
          f"{'real-time' if real_time else 'as fast as each chip runs'}); energy and latency as nominal [low - high]")
    header = ["chip", "feasible", "cores", "chips", "E dynamic", "E static", "E total", "E total [low - high]",
              "latency", "latency [low - high]"]
    rows = []
    for e in estimates:
        rows.append([
            e.chip, "yes" if e.feasible else "NO", f"{e.cores} {e.core_kind}" if e.core_kind != "-" else "-",
            str(e.chips), si(e.energy_dynamic_j.nominal, "J"), si(e.energy_static_j.nominal, "J"),
            si(e.energy_j.nominal, "J"), f"[{si(e.energy_j.low, 'J')} - {si(e.energy_j.high, 'J')}]",
            si(e.latency_s.nominal, "s"), f"[{si(e.latency_s.low, 's')} - {si(e.latency_s.high, 's')}]",
        ])
    print(_table(header, rows))
    print()
    for e in estimates:
        print(f"{e.chip}: boundary {e.boundary}")
        for r in e.reasons:
            print(f"  - {r}")
    print("(assumptions per chip: --format json)")


def _print_sensitivity(rs) -> None:
    print()
    print(f"rank stability ({rs.draws} draws of the constants within their intervals, seed {rs.seed}):")
    print(f"  nominal energy ranking (cheapest first): {' < '.join(rs.nominal_ranking)}")
    print(f"  ranking changed in {rs.ranking_changed:.1%} of draws; cheapest chip changed in {rs.top_changed:.1%}")
    for a, b, s in rs.pair_swaps:
        print(f"  {a} vs {b}: swapped in {s:.1%}")
    if rs.excluded:
        print(f"  not ranked (infeasible): {', '.join(rs.excluded)}")


def run_estimate(args) -> int:
    from .core import EventCounts
    from .core.errors import SpikebenchError
    from .hardware_models import CHIPS, NetworkProfile, resolve_chips
    from .hardware_models.sensitivity import rank_stability

    names = resolve_chips(args.chips)  # fail on an unknown chip before reading anything
    if args.sensitivity < 0:
        raise SpikebenchError(f"--sensitivity must be a number of draws >= 0, got {args.sensitivity}")
    if args.sensitivity and args.format == "csv":
        raise SpikebenchError("--sensitivity prints with --format table or json, not csv")
    counts = EventCounts.from_json(args.counts)
    profile = NetworkProfile.from_counts(counts)
    estimates = [CHIPS[n].estimate(profile, counts, real_time=args.real_time) for n in names]
    rs = (rank_stability(counts, {n: CHIPS[n] for n in names}, draws=args.sensitivity, seed=args.seed,
                         real_time=args.real_time) if args.sensitivity else None)
    if args.format == "json":
        doc = {"schema": ESTIMATES_SCHEMA, "counts": str(args.counts), "samples": counts.samples,
               "timesteps": counts.timesteps, "timestep_s": counts.timestep_s, "real_time": bool(args.real_time),
               "estimates": [e.to_dict() for e in estimates]}
        if rs is not None:
            doc["sensitivity"] = rs.to_dict()
        json.dump(doc, sys.stdout, indent=2)
        print()
    elif args.format == "csv":
        _write_csv(_estimate_rows(estimates))
    else:
        _print_estimate_table(counts, estimates, args.real_time)
        if rs is not None:
            _print_sensitivity(rs)
    return 0


# ---- chips ------------------------------------------------------------------------------------------

def run_list(args) -> int:
    from .hardware_models import CHIPS

    rows = [{"chip": n, "title": m.sheet.title, "boundary": m.sheet.boundary, "constants": len(m.sheet.params),
             "event_driven": m.event_driven} for n, m in CHIPS.items()]
    if args.format == "json":
        json.dump(rows, sys.stdout, indent=2)
        print()
    elif args.format == "csv":
        _write_csv(rows)
    else:
        print(_table(["chip", "title", "constants", "boundary"],
                     [[r["chip"], r["title"], str(r["constants"]), r["boundary"]] for r in rows], left=(0, 1, 3)))
    return 0


def run_show(args) -> int:
    from .hardware_models import get_chip

    model = get_chip(args.chip)
    sheet = model.sheet
    rows = [{"name": p.name, "value": p.value, "unit": p.unit, "low": p.low, "high": p.high, "grade": p.grade,
             "source": p.source, "note": p.note} for p in sheet.params.values()]
    if args.format == "json":
        json.dump({"chip": sheet.chip, "title": sheet.title, "boundary": sheet.boundary, "notes": list(sheet.notes),
                   "params": rows}, sys.stdout, indent=2)
        print()
    elif args.format == "csv":
        _write_csv(rows)
    else:
        print(f"{sheet.title} ({sheet.chip}); energy boundary: {sheet.boundary}")
        for n in sheet.notes:
            print(f"  * {n}")
        print()
        g = lambda v: f"{v:g}"
        print(_table(["constant", "value", "low", "high", "unit", "grade"],
                     [[r["name"], g(r["value"]), g(r["low"]), g(r["high"]), r["unit"], r["grade"]] for r in rows],
                     left=(0, 4, 5)))
        print()
        for r in rows:
            print(f"{r['name']}: {r['source']}" + (f". {r['note']}" if r["note"] else ""))
    return 0


# ---- validate ---------------------------------------------------------------------------------------

def run_validate(args) -> int:
    from pathlib import Path

    from .core.errors import SpikebenchError
    from .hardware_models.validation import cases, run_cases

    all_cases = cases()
    if args.counts_dir is not None:
        folder = Path(args.counts_dir)
        if not folder.is_dir():
            raise SpikebenchError(f"{folder}: not an existing folder; create it first")
        for case in all_cases:
            name = "".join(ch if ch.isalnum() or ch in "-._" else "_" for ch in case.case_id)
            case.build().to_json(folder / f"{name}.json")
    results = run_cases(all_cases)
    rows = [r.to_dict() for r in results]
    if args.format == "json":
        json.dump(rows, sys.stdout, indent=2)
        print()
    elif args.format == "csv":
        _write_csv(rows)
    else:
        header = ["case", "chip", "quantity", "measured", "predicted [low - high]", "error", "band", "grade",
                  "fit", "in band"]
        table = []
        for r in results:
            u = "J" if r.quantity.startswith("energy") else "s"
            ok = ("yes" if r.within_band else "NO") + ("" if r.enforced else " (not held)")
            table.append([r.case_id, r.chip, r.quantity, si(r.measured, u),
                          f"{si(r.predicted.nominal, u)} [{si(r.predicted.low, u)} - {si(r.predicted.high, u)}]",
                          f"{r.error:+.0%}", f"x{r.band:g}", r.grade, "yes" if r.calibrated else "no", ok])
        print(_table(header, table, left=(0, 1, 2, 7, 8, 9)))
        print()
        print("error = predicted nominal / measured - 1; band: allowed factor by evidence grade; fit = the case was "
              "used to derive the constants checked (not an independent test)")
        seen = set()
        for r in results:
            if r.case_id not in seen:
                seen.add(r.case_id)
                print(f"{r.case_id}: {r.source}. {r.note}")
                if r.deployment:
                    print(f"  deployment (published, used in place of the model's mapping): {r.deployment}")
            elif r.quantity == "latency_s" or not r.enforced:
                print(f"{r.case_id} [{r.quantity}]: {r.note}")
    return 0 if all(r.within_band for r in results if r.enforced) else 1
