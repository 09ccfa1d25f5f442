"""``spikebench validate``: the chip models on published measured cases, predicted vs measured.

``--format md`` writes the validation document (``hardware_models/VALIDATION.md``, and the README's
validation section between its ``validate:begin``/``validate:end`` markers are this output; a test
fails when they drift). Exit code 1 when a case held to its band falls outside it.
"""

from __future__ import annotations

from .common import FORMATS, add_format, write_csv, write_json


def register(sub) -> None:
    v = sub.add_parser("validate", help="run the chip models on published measured cases",
                       description="Rebuild published measurements as counts, run the matching chip model and print "
                                   "predicted vs measured with the error and the case's evidence grade.")
    add_format(v, (*FORMATS, "md"))
    v.add_argument("--counts-dir", default=None,
                   help="also write each case's rebuilt counts file (<case>.json) into this existing folder")
    v.set_defaults(func=run)


def _unit(quantity: str) -> str:
    return "J" if quantity.startswith("energy") else "s"


def format_results(results) -> str:
    """The terminal table, then each case's source, note and deployment."""
    from spikebench.core.bibliography import render_text
    from spikebench.core.units import si, si_interval, text_table

    header = ["case", "chip", "quantity", "measured", "predicted [low - high]", "error", "band", "grade", "fit",
              "in band"]
    rows = [[r.case_id, r.chip, r.quantity, si(r.measured, _unit(r.quantity)), si_interval(r.predicted, _unit(r.quantity)),
             f"{r.error:+.0%}", f"x{r.band:g}", r.grade, "yes" if r.calibrated else "no",
             ("yes" if r.within_band else "NO") + ("" if r.enforced else " (not held)")] for r in results]
    lines = [text_table(header, rows, left=(0, 1, 2, 7, 8, 9)), "",
             "error = predicted nominal / measured - 1; band: allowed factor by evidence grade; fit = the case was "
             "used to derive the constants checked (not an independent test)"]
    seen = set()
    for r in results:
        if r.case_id not in seen:
            seen.add(r.case_id)
            lines.append(f"{r.case_id}: {render_text(r.source)}. {r.note}")
            if r.deployment:
                lines.append(f"  deployment (published, used in place of the model's mapping): {r.deployment}")
        elif r.quantity == "latency_s" or not r.enforced:
            lines.append(f"{r.case_id} [{r.quantity}]: {r.note}")
    return "\n".join(lines)


def run(args) -> int:
    from pathlib import Path

    from spikebench.core.errors import SpikebenchError
    from spikebench.hardware_models.validation import cases, run_cases

    all_cases = cases()
    if args.counts_dir is not None:
        folder = Path(args.counts_dir)
        if not folder.is_dir():
            raise SpikebenchError(f"{folder}: not an existing folder; create it first")
        for case in all_cases:
            name = "".join(ch if ch.isalnum() or ch in "-._" else "_" for ch in case.case_id)
            case.build().to_json(folder / f"{name}.json")
    results = run_cases(all_cases)
    if args.format == "json":
        write_json([r.to_dict() for r in results])
    elif args.format == "csv":
        write_csv([r.to_dict() for r in results])
    elif args.format == "md":
        print(validation_markdown(results), end="")
    else:
        print(format_results(results))
    return 0 if all(r.within_band for r in results if r.enforced) else 1
