"""The report's input: the latest rows of a results store, indexed for the tables and figures."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from spikebench.core.errors import FileFormatError, SpikebenchError, UnknownNameError
from spikebench.results import COLUMNS, FLOAT_NETWORK_SOURCE, REFERENCE_BACKEND, ResultsStore, parse_deployment

HEADLINE_METRICS = ("accuracy", "auroc")
#: :attr:`OnChip.basis` values: what a chip's task metric was measured on.
BASES = ("deployed", "float", "float-fallback", "infeasible")


def _num(v):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def slug(name: str) -> str:
    """A name as it appears in file names and HTML ids."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def metric_label(metric: str) -> str:
    return metric.replace("_", " ")


@dataclass(frozen=True)
class OnChip:
    """One chip's view of a network (its rows on the network's reference backend).

    ``basis``: ``"deployed"`` (task metric and counts of the network deployed in the chip's numeric
    format, simulated in its arithmetic), ``"float"`` (the chip runs the float network as is: cpu,
    gpu), ``"infeasible"`` (the chip's numeric format cannot hold the network: no deployed metric or
    counts; its estimate is on the float counts) or ``"float-fallback"`` (no deployment rows: a store
    written before chips deployed the network; the float network's metric and counts stand in).
    ``row``: the task row of the headline metric judged for the chip (None when infeasible);
    ``float_row``: the float network's. ``events``: synaptic events per inference of the network the
    chip runs (the float network's where ``events_float``). ``changes``, ``arithmetic``, ``notes``:
    the ``deployment_changes`` row (None, "", () without one).
    """

    chip: str
    metric: str | None
    basis: str
    row: dict | None
    float_row: dict | None
    events: float | None
    events_float: bool
    changes: int | None = None
    arithmetic: str = ""
    notes: tuple[str, ...] = ()

    @property
    def value(self):
        return self.row["value"] if self.row else None

    @property
    def float_value(self):
        return self.float_row["value"] if self.float_row else None

    @property
    def change(self):
        """Deployed minus float (0 for a chip running the float network; None where not measured)."""
        if self.basis not in ("deployed", "float") or self.value is None or self.float_value is None:
            return None
        return self.value - self.float_value

    @property
    def plotted(self) -> dict | None:
        """The task row a figure plots: the chip's own, else the float network's (marked as such)."""
        return self.row or self.float_row

    @property
    def on_float(self) -> bool:
        """Whether the plotted metric is the float network's (not measured on a deployed network)."""
        return self.basis != "deployed"


@dataclass
class ReportData:
    """The latest rows of a store (:meth:`ResultsStore.frame`), indexed for the tables and figures.

    Rows are keyed by (workload, network, backend, chip, metric). ``network`` is the label of
    :meth:`ResultsStore.label_networks` (the name; ``name@hash`` where one name ran with several
    contents). Lookups take ``network=None`` for the workload's first network (its shipped reference
    when present): a workload with one network reads as before networks were chosen.
    """

    frame: object  # pandas.DataFrame
    rows: dict  # (workload, network, backend, chip, metric) -> row dict (value/low/high: finite float or None)
    workloads: list[str]
    chips: list[str]
    backends: dict  # workload -> [backends], the reference backend first
    runs: dict  # run_id -> run.json document
    root: Path
    networks: dict = field(default_factory=dict)  # workload -> [networks], the shipped reference first
    hashes: dict = field(default_factory=dict)  # (workload, network) -> content hash ("" when not stored)
    run_id: str | None = None  # the one run reported (``--run``); None: per cell, the latest run
    mixing: str = ""  # what the runs in the report differ in (:func:`mixing_note`; "" when they do not)

    @classmethod
    def load(cls, results_dir, *, run_id: str | None = None) -> ReportData:
        """Read a store; :class:`SpikebenchError` (one line) for a missing, foreign or empty one, an
        unknown ``run_id`` (then only that run's rows are read) or a physically impossible stored value
        (:func:`check_physical`)."""
        root = Path(results_dir)
        if not root.exists():
            raise FileFormatError(f"{root}: no such results folder; run `spikebench run --out {root}` first")
        store = ResultsStore(root).open(create=False)
        if run_id is None:
            frame = store.frame()
        else:
            known = store.runs()
            if run_id not in known:
                raise UnknownNameError(f"{root}: no run {run_id!r} in this store; its runs: "
                                       + (", ".join(known) or "none"))
            frame = store.frame(latest_only=False)  # a run writes each cell once: its rows are unique
            frame = frame[frame["run_id"] == run_id].reset_index(drop=True)
        missing = [c for c in COLUMNS if c not in frame.columns]
        if missing:
            raise FileFormatError(f"{root}: results rows lack column(s) {', '.join(missing)}")
        if frame.empty:
            if run_id is not None:
                raise SpikebenchError(f"{root}: run {run_id} has no finished cells; "
                                      f"resume it (`spikebench run --out {root} --resume`) or report another run")
            raise SpikebenchError(f"{root}: the results store has no finished cells yet; "
                                  "run `spikebench run` (or --resume) before `spikebench report`")
        frame = ResultsStore.label_networks(frame)
        rows, hashes = {}, {}
        for rec in frame.to_dict("records"):
            for col in ("workload", "backend", "metric", "kind", "data"):
                if not isinstance(rec.get(col), str) or not rec[col]:
                    raise FileFormatError(f"{root}: a row has no {col} (run {rec.get('run_id')!r})")
            check_physical(rec, root)
            rec["chip"] = rec.get("chip") if isinstance(rec.get("chip"), str) else ""
            rec["value"], rec["low"], rec["high"] = _num(rec.get("value")), _num(rec.get("low")), _num(rec.get("high"))
            rec["source"] = rec.get("source") if isinstance(rec.get("source"), str) else ""
            rows[(rec["workload"], rec["network"], rec["backend"], rec["chip"], rec["metric"])] = rec
            if rec["network_hash"] or (rec["workload"], rec["network"]) not in hashes:
                hashes[(rec["workload"], rec["network"])] = rec["network_hash"]
        try:
            from spikebench.workloads import WORKLOADS
            known_wl = list(WORKLOADS)
        except ImportError:  # pragma: no cover - workloads always ship with the suite
            known_wl = []
        from spikebench.hardware_models import CHIPS

        wls = set(frame["workload"])
        workloads = [w for w in known_wl if w in wls] + sorted(wls - set(known_wl))
        chip_set = {c for c in frame["chip"] if isinstance(c, str) and c}
        chips = [c for c in CHIPS if c in chip_set] + sorted(chip_set - set(CHIPS))
        backends = {}
        for w in workloads:
            bs = sorted(set(frame.loc[frame["workload"] == w, "backend"]))
            backends[w] = sorted(bs, key=lambda b: (b != REFERENCE_BACKEND, b))
        networks = {w: ResultsStore.networks_of(frame, w) for w in workloads}
        runs = {}
        for rid in sorted(set(frame["run_id"])):
            try:
                runs[rid] = store.run_config(rid)
            except (OSError, ValueError):
                runs[rid] = {"run_id": rid}
        return cls(frame=frame, rows=rows, workloads=workloads, chips=chips, backends=backends, runs=runs, root=root,
                   networks=networks, hashes=hashes, run_id=run_id, mixing=mixing_note(runs, frame))

    # networks
    def net(self, workload, network=None) -> str:
        """``network``, or the workload's first network (its shipped reference when present)."""
        return network if network is not None else self.networks[workload][0]

    def multi(self, workload) -> bool:
        """Whether the workload ran with several networks (the report then compares them)."""
        return len(self.networks.get(workload, ())) > 1

    @property
    def any_multi(self) -> bool:
        return any(self.multi(w) for w in self.workloads)

    def short_hash(self, workload, network=None) -> str:
        return self.hashes.get((workload, self.net(workload, network)), "")[:8]

    def network_label(self, workload, network=None) -> str:
        """``name (hash8)``, or the name alone when no hash is stored."""
        n, h = self.net(workload, network), self.short_hash(workload, network)
        return f"{n} ({h})" if h and not n.endswith("@" + h) else n

    def backends_of(self, workload, network=None) -> list[str]:
        n = self.net(workload, network)
        have = {b for (w, nn, b, c, m) in self.rows if w == workload and nn == n}
        return [b for b in self.backends[workload] if b in have]

    # lookups
    def get(self, workload, backend, metric, chip="", network=None) -> dict | None:
        return self.rows.get((workload, self.net(workload, network), backend, chip, metric))

    def val(self, workload, backend, metric, chip="", network=None):
        r = self.get(workload, backend, metric, chip, network)
        return r["value"] if r else None

    def ref_backend(self, workload, network=None) -> str:
        """The backend whose counts give a network's chip estimates (sparse-cpu, else the first with chips)."""
        bs = self.backends_of(workload, network)
        for b in bs:
            if any(self.get(workload, b, "energy_j", c, network) for c in self.chips):
                return b
        return bs[0]

    def task_metrics(self, workload, backend, network=None) -> list[str]:
        n = self.net(workload, network)
        return sorted({m for (w, nn, b, c, m), r in self.rows.items()
                       if w == workload and nn == n and b == backend and r["kind"] == "task"})

    def _task_names(self, workload) -> set[str]:
        return {m for n in self.networks[workload] for b in self.backends_of(workload, n)
                for m in self.task_metrics(workload, b, n)}

    def headline(self, workload) -> str | None:
        """The workload's headline task metric: ``accuracy``, else ``auroc``, else the first other one."""
        names = self._task_names(workload)
        for m in HEADLINE_METRICS:
            if m in names:
                return m
        rest = sorted(m for m in names if not m.startswith(("chance", "baseline")))
        return rest[0] if rest else None

    def chance_metric(self, workload) -> str | None:
        """``chance_<headline>``, else ``chance_level``, else the first ``chance*`` metric."""
        names = self._task_names(workload)
        head = self.headline(workload)
        for m in (f"chance_{head}", "chance_level"):
            if m in names:
                return m
        return next((m for m in sorted(names) if m.startswith("chance")), None)

    def baseline_metric(self, workload) -> str | None:
        """``baseline_<headline>``, else the first ``baseline*`` metric."""
        names = self._task_names(workload)
        head = self.headline(workload)
        if head and f"baseline_{head}" in names:
            return f"baseline_{head}"
        return next((m for m in sorted(names) if m.startswith("baseline")), None)

    def data_tags(self, workload, network=None) -> list[str]:
        """The data tags of a workload's rows (of one network's rows when ``network`` is given)."""
        sel = self.frame["workload"] == workload
        if network is not None:
            sel &= self.frame["network"] == network
        return sorted(set(self.frame.loc[sel, "data"]))

    def synthetic_workloads(self) -> list[str]:
        return [w for w in self.workloads if "synthetic" in self.data_tags(w)]

    def chips_of(self, workload, network=None) -> list[str]:
        """The chips with an estimate (energy, latency or feasibility) for a workload's network."""
        b = self.ref_backend(workload, network)
        return [c for c in self.chips
                if any(self.get(workload, b, m, c, network) for m in ("energy_j", "latency_s", "feasible"))]

    def feasible(self, workload, chip, network=None) -> bool | None:
        v = self.val(workload, self.ref_backend(workload, network), "feasible", chip, network)
        return None if v is None else v >= 0.5

    def reason(self, workload, chip, network=None) -> str:
        """Why a mapping is infeasible or approximate ('' when nothing to say)."""
        r = self.get(workload, self.ref_backend(workload, network), "feasible", chip, network)
        return r["source"] if r else ""

    def on_chip(self, workload, chip, network=None) -> OnChip:
        """A chip's deployed network on a workload (see :class:`OnChip`), from the rows of the network's
        reference backend; stores written before chips deployed the network give ``float-fallback``."""
        b = self.ref_backend(workload, network)
        head = self.headline(workload)
        flt = self.get(workload, b, head, network=network) if head else None
        mine = self.get(workload, b, head, chip, network) if head else None
        dep = self.get(workload, b, "deployment_changes", chip, network)
        if mine is not None:
            basis = "float" if mine["source"].startswith(FLOAT_NETWORK_SOURCE) else "deployed"
        else:
            basis = "infeasible" if dep is not None else "float-fallback"
        if basis == "float-fallback":
            mine = flt
        ev = self.get(workload, b, "synaptic_events_per_inference", chip, network)
        ev_float = ev is None
        if ev is None:
            ev = self.get(workload, b, "synaptic_events_per_inference", network=network)
        d = parse_deployment(dep["value"], dep["source"]) if dep else None
        return OnChip(chip=chip, metric=head, basis=basis, row=mine, float_row=flt, events=ev["value"] if ev else None,
                      events_float=ev_float, changes=d["changes"] if d else None,
                      arithmetic=d["arithmetic"] if d else "", notes=tuple(d["notes"]) if d else ())

    def deployed_any(self, workload, network=None) -> bool:
        """Whether the network has deployment rows (the store was written since chips deploy networks)."""
        n = self.net(workload, network)
        b = self.ref_backend(workload, network)
        return any(w == workload and nn == n and bb == b and m == "deployment_changes"
                   for (w, nn, bb, c, m) in self.rows)

    def chip_sources(self, chip: str) -> list[str]:
        """The source texts of a chip's constants (its sheet), else of its energy rows."""
        sheet = _chip_sheet(chip)
        if sheet is not None:
            return list(dict.fromkeys(p.source for p in sheet.params.values()))
        return list(dict.fromkeys(r["source"] for (w, n, b, c, m), r in self.rows.items()
                                  if c == chip and m == "energy_j" and r["source"]))

    def chip_title(self, chip: str) -> str:
        sheet = _chip_sheet(chip)
        return sheet.title if sheet is not None else chip


# ---- what a report may not show: impossible values, and runs that differ -----------------------------

#: Units of the quantities that can be neither negative nor infinite (energy in joules, time in seconds).
PHYSICAL_UNITS = ("J", "s")


def check_physical(rec: dict, root) -> None:
    """Refuse (:class:`FileFormatError`, one line naming the run, the cell and the column) a stored row
    whose value is physically impossible: an energy or a time (unit J or s) that is negative, infinite,
    or (chip estimates and measurements) not a number, or whose low <= value <= high fails; a task
    fraction (unit 1: accuracy, AUROC, ...) outside [0, 1].

    Energies and times go through :class:`spikebench.hardware_models.Interval`, the check
    ``spikebench choose`` applies to the same rows (:meth:`ResultsStore.estimates`). Missing values
    (null; ``low``/``high`` are optional) pass: a store may leave them out."""
    from spikebench.hardware_models import Interval

    unit, kind, metric = rec.get("unit"), rec.get("kind"), rec.get("metric")
    cell = "/".join(str(rec.get(k)) for k in ("workload", "network", "backend") if rec.get(k))
    where = f"{root}: run {rec.get('run_id')}, cell {cell}" + (f", chip {rec['chip']}" if rec.get("chip") else "")

    def bad(col, v, rule):
        raise FileFormatError(f"{where}: {metric} {col} = {v!r} is impossible ({rule}); "
                              f"rerun the cell, or report another run with --run")

    def number(col):
        v = rec.get(col)
        if v is None:
            return None
        try:
            return float(v)
        except (TypeError, ValueError):
            bad(col, v, "not a number")

    vals = {c: number(c) for c in ("value", "low", "high")}
    if unit in PHYSICAL_UNITS:
        for col, v in vals.items():
            if v is None or (math.isnan(v) and (col != "value" or kind == "task")):
                continue  # optional bounds (null reads as NaN), and task times that are undefined (no detection)
            try:
                Interval(low=v, nominal=v, high=v)
            except ValueError:
                bad(col, v, f"{'an energy' if unit == 'J' else 'a time'} must be finite and >= 0 {unit}")
        lo, v, hi = (vals[c] for c in ("low", "value", "high"))
        if all(x is not None and not math.isnan(x) for x in (lo, v, hi)):
            try:
                Interval(low=lo, nominal=v, high=hi)
            except ValueError:
                bad("low/value/high", (lo, v, hi), "low <= value <= high must hold")
    elif unit == "1" and kind == "task":
        for col, v in vals.items():
            if v is not None and not math.isnan(v) and not 0.0 <= v <= 1.0:
                bad(col, v, "a task metric is a fraction in [0, 1]")


#: Run configuration keys that change a run's numbers (``workloads``, ``backends`` and ``networks`` only
#: say which cells it ran — a network is part of a cell's identity, rows carry its name and content hash —
#: and cells of different runs sit side by side in every report).
MIXING_KEYS = ("seed", "limit", "data_dir", "require_real", "chips", "timestep_s", "timesteps", "device")
#: Keys a configuration written before they existed leaves out: missing means the default (None).
_DEFAULT_WHEN_MISSING = ("timestep_s", "timesteps")


def _run_facts(doc, frame, run_id: str) -> dict:
    """The :data:`MIXING_KEYS` of one run: its configuration's, else (seed) what its rows carry."""
    cfg = doc.get("config") if isinstance(doc, dict) and isinstance(doc.get("config"), dict) else {}
    facts = {}
    for k in MIXING_KEYS:
        if k in cfg:
            facts[k] = cfg[k]
        elif k in _DEFAULT_WHEN_MISSING:
            facts[k] = None
        elif k == "seed" and "seed" in frame:
            seeds = sorted({int(s) for s in frame.loc[frame["run_id"] == run_id, "seed"] if _num(s) is not None})
            facts[k] = seeds[0] if len(seeds) == 1 else (seeds or "not recorded")
        else:
            facts[k] = "not recorded"
    return facts


def _show(v) -> str:
    import json

    if v is None:
        return "default"
    return v if isinstance(v, str) else json.dumps(v, sort_keys=True)


def run_differences(runs: dict, frame) -> dict[str, dict[str, str]]:
    """``{key: {run_id: value}}`` for each :data:`MIXING_KEYS` key on which the runs disagree."""
    facts = {r: _run_facts(doc, frame, r) for r, doc in runs.items()}
    out = {}
    for k in MIXING_KEYS:
        shown = {r: _show(f[k]) for r, f in facts.items()}
        if len(set(shown.values())) > 1:
            out[k] = shown
    return out


def mixing_note(runs: dict, frame) -> str:
    """One sentence saying which runs the report mixes and what differs, "" when the runs agree (or one run)."""
    if len(runs) < 2:
        return ""
    diff = run_differences(runs, frame)
    if not diff:
        return ""
    parts = [f"{k} differs (" + "; ".join(f"run {r}: {v}" for r, v in by.items()) + ")" for k, by in diff.items()]
    return (f"This store mixes runs: {', '.join(runs)}; " + "; ".join(parts) + ". Each cell's rows come from the "
            "latest run that finished it, so cells side by side were not run alike; `spikebench report --run RUN_ID` "
            "reports one run.")


def _chip_sheet(chip):
    from spikebench.hardware_models import CHIPS

    return CHIPS[chip].sheet if chip in CHIPS else None


__all__ = ["BASES", "HEADLINE_METRICS", "MIXING_KEYS", "REFERENCE_BACKEND", "OnChip", "ReportData", "check_physical",
           "metric_label", "mixing_note", "run_differences", "slug"]
