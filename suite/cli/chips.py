"""``spikebench chips list`` and ``spikebench chips show CHIP``: the chip models and their cited constants.

``show`` prints each constant with unit, interval, evidence grade and source; sources cite entries of
the package bibliography (``spikebench/core/references.bib``) as ``[@key, locator]``: the table output
spells them out ("Davies et al. 2018, Table 2"), JSON and CSV keep the raw text and add the keys.
"""

from __future__ import annotations

from .common import FORMATS, add_format, write_csv, write_json


def register(sub) -> None:
    c = sub.add_parser("chips", help="list the chip models or show one chip's constants and sources")
    csub = c.add_subparsers(dest="chips_command", metavar="{list,show}", parser_class=type(c))
    csub.required = True
    cl = csub.add_parser("list", help="list the chip models")
    add_format(cl, FORMATS)
    cl.set_defaults(func=run_list)
    cs = csub.add_parser("show", help="print a chip's constants with unit, interval, grade and source")
    cs.add_argument("chip")
    cs.add_argument("--operating-point", default=None, metavar="POINT",
                    help="the constants at this published operating point (default: the chip's default)")
    add_format(cs, FORMATS)
    cs.set_defaults(func=run_show)


def run_list(args) -> int:
    from spikebench.core.units import text_table
    from spikebench.hardware_models import CHIPS

    rows = [{"chip": n, "title": m.sheet.title, "boundary": m.sheet.boundary, "constants": len(m.sheet.params),
             "event_driven": m.event_driven} for n, m in CHIPS.items()]
    if args.format == "json":
        write_json(rows)
    elif args.format == "csv":
        write_csv(rows)
    else:
        print(text_table(["chip", "title", "constants", "boundary"],
                         [[r["chip"], r["title"], str(r["constants"]), r["boundary"]] for r in rows], left=(0, 1, 3)))
    return 0


def run_show(args) -> int:
    from spikebench.core.bibliography import cite_keys, render_text
    from spikebench.core.errors import SpikebenchError
    from spikebench.core.units import text_table
    from spikebench.hardware_models import get_chip

    try:
        sheet = get_chip(args.chip).sheet_at(args.operating_point)
    except ValueError as exc:
        raise SpikebenchError(str(exc)) from None
    points = [{"name": op.name, "description": op.description, "source": op.source,
               "constants": sorted(op.overrides), "default": op.name == get_chip(args.chip).sheet.point}
              for op in sheet.operating_points.values()]
    rows = [{"name": p.name, "value": p.value, "unit": p.unit, "low": p.low, "high": p.high, "grade": p.grade,
             "source": p.source, "source_keys": "; ".join(cite_keys([p.source])), "note": p.note}
            for p in sheet.params.values()]
    if args.format == "json":
        write_json({"chip": sheet.chip, "title": sheet.title, "boundary": sheet.boundary, "notes": list(sheet.notes),
                    "operating_point": sheet.point, "operating_points": points, "params": rows})
    elif args.format == "csv":
        write_csv(rows)
    else:
        print(f"{sheet.title} ({sheet.chip}); energy boundary: {sheet.boundary}")
        for n in sheet.notes:
            print(f"  * {render_text(n)}")
        for op in points:
            mark = "this table" if op["name"] == sheet.point else ("default" if op["default"] else "")
            print(f"  operating point {op['name']}{f' ({mark})' if mark else ''}: {op['description']}; sets "
                  f"{', '.join(op['constants'])} [{render_text(op['source'])}]")
        print()
        print(text_table(["constant", "value", "low", "high", "unit", "grade"],
                         [[r["name"], f"{r['value']:g}", f"{r['low']:g}", f"{r['high']:g}", r["unit"], r["grade"]]
                          for r in rows], left=(0, 4, 5)))
        print()
        for r in rows:
            print(f"{r['name']}: {render_text(r['source'])}" + (f". {r['note']}" if r["note"] else ""))
    return 0
