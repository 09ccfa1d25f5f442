"""``spikebench report RESULTS_DIR --out reports/``: tables, figures and an HTML page from a results store."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser(
        "report", help="write tables (Markdown, LaTeX, CSV), figures (PNG, PDF) and an HTML page from a results folder",
        description="Read a results folder written by `spikebench run` (per cell, the latest run) and write "
                    "tables in Markdown, LaTeX (booktabs, with references.bib) and CSV, matplotlib figures as PNG "
                    "and PDF, and one self-contained HTML page (index.html) into --out.")
    p.add_argument("results_dir", metavar="RESULTS_DIR", help="results folder written by `spikebench run`")
    p.add_argument("--out", default="reports", help="report folder (created if missing; default: reports)")
    p.set_defaults(func=run)


def run(args) -> int:
    from spikebench.report import build_report

    written = build_report(args.results_dir, args.out)
    for _rel, path in written.items():
        print(path)
    print(f"{len(written)} files written; HTML report: {written['index.html']}")
    return 0
