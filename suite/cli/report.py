"""``spikebench report RESULTS_DIR --out reports/``: tables, figures and an HTML page from a results store.

The results folder may also be given as ``--results DIR`` (as ``spikebench choose`` takes it).
"""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser(
        "report", help="write tables (Markdown, LaTeX, CSV), figures (PNG, PDF) and an HTML page from a results folder",
        description="Read a results folder written by `spikebench run` (per cell, the latest run) and write "
                    "tables in Markdown, LaTeX (booktabs, with references.bib) and CSV, matplotlib figures as PNG "
                    "and PDF, and one self-contained HTML page (index.html) into --out. Each chip is reported on the "
                    "network as it holds it (deployed in its numeric format): its task metric beside the float "
                    "network's, its events and its energy (deployment_<workload> tables). A workload run with "
                    "several networks is compared: one block per network in its tables, and its accuracy vs "
                    "energy figure and Pareto table span every (network, chip) pair.")
    p.add_argument("results_dir", metavar="RESULTS_DIR", nargs="?", help="results folder written by `spikebench run`")
    p.add_argument("--results", metavar="DIR", default=None, help="the results folder (instead of RESULTS_DIR)")
    p.add_argument("--out", default="reports", help="report folder (created if missing; default: reports)")
    p.add_argument("--run", metavar="RUN_ID", default=None,
                   help="report this run only (its id: a folder name under RESULTS_DIR/runs); default: per cell, the "
                        "latest run that finished it, with a note when those runs differ in seed, limit, data, chips "
                        "or networks")
    p.set_defaults(func=run)


def run(args) -> int:
    from spikebench.core.errors import SpikebenchError
    from spikebench.report import build_report

    given = [d for d in (args.results_dir, args.results) if d is not None]
    if not given:
        raise SpikebenchError("name the results folder: spikebench report RESULTS_DIR (or --results DIR)")
    if len(given) == 2 and given[0] != given[1]:
        raise SpikebenchError(f"two results folders given ({given[0]} and --results {given[1]}); give one")
    written = build_report(given[0], args.out, run_id=args.run)
    for _rel, path in written.items():
        print(path)
    print(f"{len(written)} files written; HTML report: {written['index.html']}")
    return 0
