"""The results store: tidy, unit-bearing rows, append-only, written atomically, resumable.

Layout of a store folder (``schema`` ``spikebench.results/1``)::

    results/
      store.json                       {"schema": "spikebench.results/1"}
      runs/<run_id>/run.json           the run's configuration and provenance, written first
      runs/<run_id>/cells/<cell>.json  every row of one finished cell (workload x backend x network)

      .lock                            held (``flock``) by the run writing the store: pid and start time

A cell's rows are written once, when the cell finishes, by an exclusive create (a temporary file,
fsynced, then hard-linked to its name: the link fails if the name exists, so a cell file is never
replaced, not even by a racing writer), so an interrupted run leaves whole cells or none: never a
half-written file. ``--resume`` continues the latest run and skips the cells it already finished.
Nothing is ever rewritten: a new run adds a new folder, and rows are unique by (run_id, workload,
network, backend, chip, metric). Reports use, per cell, the latest run that finished it.

One run writes a store at a time: :meth:`ResultsStore.lock` takes an exclusive ``flock`` on
``.lock`` in the store folder for the whole run, before any work, and a second run on the same store
is refused at once with :class:`StoreInUseError` (or waits, ``wait=True``). The lock goes with the
process (interrupt, SIGTERM, even SIGKILL). Readers (``report``, ``choose``) take no lock: every file
they read is complete the moment it has its name. Operating-system errors on the store (read-only file
system, permission denied, name too long, disk full) and malformed store, run or cell files are one-line
:class:`StoreError`/:class:`~spikebench.core.errors.FileFormatError` naming the file and the fix.

One row per workload x network x backend x chip x metric::

    run_id, workload, network, network_hash, backend, device, chip, metric, value, low, high, unit,
    kind, data, samples, seed, source, spikebench_version, git_commit, machine, timestamp

``network`` names the network that ran (the shipped reference is ``<workload>-reference``) and
``network_hash`` is its :meth:`~spikebench.core.network.Network.content_hash`, so several networks
on one workload coexist in one store (rows written before networks were chosen read as the
reference network).

Chip estimates are stored as rows (``energy_j``, ``energy_dynamic_j``, ``energy_static_j``,
``latency_s`` with low/high, ``cores``, ``chips``, ``feasible`` whose source holds the reasons) and
rebuilt by :meth:`ResultsStore.estimates`.

``kind`` is ``measured`` (wall time, NVML energy), ``modelled`` (chip estimate) or ``task``
(accuracy, AUROC); ``data`` is ``synthetic``, ``real-sample`` or ``real-full``. ``chip`` is empty
for the float network as trained (its task metrics, counts, wall time) and set on chip rows: the
estimates, ``deployment_changes`` (modelled; ``value`` = number of notes, ``source`` =
``"<arithmetic>: note | note"``) and, since chips deploy the network in their numeric format, the
deployed network's task rows and counts rows (same metric names as the float rows; for a chip that
runs the float network itself, cpu and gpu, copies of the float rows whose source starts with
:data:`FLOAT_NETWORK_SOURCE`). Stores written before deployment have no chip-tagged task or counts
rows: readers fall back to the float network's (:meth:`ResultsStore.chip_task_rows`).
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .core.errors import FileFormatError, SpikebenchError
from .core.fileio import atomic_write_text
from .storefiles import (  # noqa: F401  (StoreError, StoreInUseError: re-exported, the errors of this store)
    LOCK_NAME,
    CellExistsError,
    StoreError,
    StoreInUseError,
    StoreLock,
    _read_json,
    exclusive_write_bytes,
    store_os_error,
)

SCHEMA = "spikebench.results/1"
KINDS = ("measured", "modelled", "task")
DATA_TAGS = ("synthetic", "real-sample", "real-full")
COLUMNS = ("run_id", "workload", "network", "network_hash", "backend", "device", "chip", "metric", "value", "low",
           "high", "unit", "kind", "data", "samples", "seed", "source", "spikebench_version", "git_commit", "machine",
           "timestamp")
#: The backend whose counts give a cell's chip estimates when a workload ran on several.
REFERENCE_BACKEND = "sparse-cpu"
#: The metrics of one chip estimate (:func:`estimate_rows`).
ESTIMATE_METRICS = ("energy_j", "energy_dynamic_j", "energy_static_j", "latency_s", "cores", "chips", "feasible",
                    "extrapolated")
#: How the harness starts the source of a chip's task rows when the chip runs the float network itself.
FLOAT_NETWORK_SOURCE = "float32 network as trained"
_CELL_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
@dataclass(frozen=True, kw_only=True)
class Row:
    """One tidy result row (see module docstring); ``value`` in ``unit``, ``low``/``high`` optional."""

    workload: str
    backend: str
    metric: str
    value: float
    unit: str
    kind: str
    data: str
    network: str = ""
    network_hash: str = ""
    chip: str = ""
    device: str = "cpu"
    low: float | None = None
    high: float | None = None
    samples: int | None = None
    seed: int | None = None
    source: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"row kind must be one of {KINDS}, got {self.kind!r}")
        if self.data not in DATA_TAGS:
            raise ValueError(f"row data tag must be one of {DATA_TAGS}, got {self.data!r}")


@dataclass(frozen=True, kw_only=True)
class Provenance:
    """What every row of a run shares: version, commit, packages, machine."""

    spikebench_version: str
    git_commit: str
    machine: str
    packages: dict = field(default_factory=dict)

    @classmethod
    def collect(cls) -> Provenance:
        from importlib import metadata

        from . import __version__

        pkgs = {}
        for name in ("numpy", "numba", "torch", "snntorch", "nir", "h5py", "scikit-learn"):
            try:
                pkgs[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                pkgs[name] = None
        return cls(spikebench_version=__version__, git_commit=_git_commit(), machine=_machine(), packages=pkgs)


def _git_commit() -> str:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        commit = out.stdout.strip() if out.returncode == 0 else "unknown"
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10)
        if commit != "unknown" and dirty.stdout.strip():
            commit += "+dirty"
        return commit
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def estimate_rows(estimates, **common) -> list[Row]:
    """Chip estimates as rows (kind ``modelled``; read back by :meth:`ResultsStore.estimates`):
    each interval quantity with low/high and the boundary as source, ``cores`` (unit: the chip's core
    kind), ``chips``, ``feasible`` (1/0) with the reasons joined by ``"; "`` as source, and ``extrapolated``
    (1/0: the network is outside the range the chip's constants came from, the reasons as source; the
    intervals are then widened to at least x3 each side, see ``hardware_models/regime.py``)."""
    rows = []
    for e in estimates:
        c = {**common, "kind": "modelled", "chip": e.chip}
        for metric, unit in (("energy_j", "J"), ("energy_dynamic_j", "J"), ("energy_static_j", "J"),
                             ("latency_s", "s")):
            iv = getattr(e, metric)
            rows.append(Row(metric=metric, value=iv.nominal, low=iv.low, high=iv.high, unit=unit, source=e.boundary,
                            **c))
        rows.append(Row(metric="cores", value=float(e.cores), unit=e.core_kind, **c))
        rows.append(Row(metric="chips", value=float(e.chips), unit="chips", **c))
        rows.append(Row(metric="feasible", value=1.0 if e.feasible else 0.0, unit="bool", source="; ".join(e.reasons),
                        **c))
        rows.append(Row(metric="extrapolated", value=1.0 if e.extrapolated else 0.0, unit="bool",
                        source="; ".join(e.extrapolated), **c))
    return rows


class ResultsStore:
    """A results folder (see module docstring)."""

    def __init__(self, root) -> None:
        self.root = Path(root)

    # ---- opening ----------------------------------------------------------------------------------

    def _leftovers(self) -> list[Path]:
        """What the folder holds besides what a run makes while creating a store under its lock (the
        lock file, an empty ``runs``, a temporary ``store.json``): a non-empty result means a foreign folder."""
        out = []
        for p in self.root.iterdir():
            if p.name == LOCK_NAME or (p.name.startswith(".store.json.") and p.name.endswith(".tmp")):
                continue
            if p.name == "runs" and p.is_dir() and not any(p.iterdir()):
                continue
            out.append(p)
        return out

    def _check_target(self) -> None:
        """A store, an empty folder, a store being created (its lock file) or a new path; anything else
        is refused before we write into it."""
        try:
            if self.root.exists() and not self.root.is_dir():
                raise SpikebenchError(f"{self.root}: is a file, not a results folder; choose another --out")
            if (self.root.is_dir() and not (self.root / "store.json").is_file()
                    and not (self.root / LOCK_NAME).is_file() and self._leftovers()):
                raise SpikebenchError(f"{self.root}: folder exists, is not empty and is not a results store; "
                                      "choose an empty or new --out folder")
        except OSError as exc:  # a name too long, a folder we may not list
            raise store_os_error(exc, self.root) from None

    def open(self, *, create: bool) -> ResultsStore:
        """Check (or create) the store; a folder of another schema is an error, never overwritten.

        A run creates the store under its lock (:meth:`lock` first): two runs into one new folder
        never both create it. Creating it is the check that the folder is writable, before any work."""
        try:
            return self._open(create)
        except OSError as exc:  # a name too long, a folder we may not read
            raise store_os_error(exc, self.root, action="write" if create else "read") from None

    def _open(self, create: bool) -> ResultsStore:
        meta = self.root / "store.json"
        if self.root.exists() and not self.root.is_dir():
            raise SpikebenchError(f"{self.root}: is a file, not a results folder")
        if meta.is_file():
            doc = _read_json(meta, "results store metadata",
                             "move the folder away and use a new --out folder")
            if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
                found = doc.get("schema") if isinstance(doc, dict) else doc
                if not isinstance(found, (str, int, float, type(None))):
                    found = type(found).__name__
                raise FileFormatError(f"{self.root}: results folder of schema {found!r}; this spikebench reads "
                                      f"{SCHEMA!r} — use a new --out folder")
            return self
        if not create:
            raise FileFormatError(f"{self.root}: not a spikebench results folder (no store.json); "
                                  "run `spikebench run --out DIR` first")
        self._check_target()
        try:
            if self.root.is_dir() and self._leftovers():
                raise SpikebenchError(f"{self.root}: folder exists, is not empty and is not a results store; "
                                      "choose an empty or new --out folder")
            (self.root / "runs").mkdir(parents=True, exist_ok=True)
            atomic_write_text(meta, json.dumps({"schema": SCHEMA}) + "\n")
        except OSError as exc:
            raise store_os_error(exc, meta) from None
        return self

    def lock(self, *, wait: bool = False) -> StoreLock:
        """Take the store's run lock (``flock`` on ``<root>/.lock``, made with the folder if missing) and
        return it, held: use it as a context manager, or ``release()`` it. Another run holding it:
        :class:`StoreInUseError` at once (one line: its pid and start time), or with ``wait`` block
        until it ends. A folder that is neither a store nor empty is refused before ``.lock`` is made
        in it; one that cannot be written is a :class:`StoreError` naming it."""
        self._check_target()
        return StoreLock(self.root).acquire(wait=wait)

    # ---- runs -------------------------------------------------------------------------------------

    def runs(self) -> list[str]:
        d = self.root / "runs"
        return sorted(p.name for p in d.iterdir() if (p / "run.json").is_file()) if d.is_dir() else []

    def run_config(self, run_id: str) -> dict:
        """The run's ``run.json`` document (``config``, ``provenance``, ``started``); one that is not
        JSON, not an object or lacks ``config`` is a one-line :class:`FileFormatError` naming it."""
        path = self.root / "runs" / run_id / "run.json"
        fix = (f"move the run folder {path.parent} out of the store (its cells go with it), "
               "or use a new --out folder")
        doc = _read_json(path, "run file", fix)
        if not isinstance(doc, dict) or not isinstance(doc.get("config"), dict):
            raise FileFormatError(f"{path}: not a {SCHEMA} run file (no 'config' object); {fix}")
        return doc

    def start_run(self, config: dict, provenance: Provenance) -> str:
        run_id = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:6]
        folder = self.root / "runs" / run_id / "cells"
        doc = {"schema": SCHEMA, "run_id": run_id, "config": config, "provenance": asdict(provenance),
               "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        try:
            folder.mkdir(parents=True)
            exclusive_write_bytes(folder.parent / "run.json", (json.dumps(doc, indent=2) + "\n").encode("utf-8"))
        except OSError as exc:
            raise store_os_error(exc, folder.parent) from None
        return run_id

    def finished_cells(self, run_id: str) -> set[str]:
        d = self.root / "runs" / run_id / "cells"
        return {p.stem for p in d.glob("*.json")} if d.is_dir() else set()

    def write_cell(self, run_id: str, cell: str, rows: list[Row], provenance: Provenance) -> Path:
        """Write a finished cell's rows, once: an exclusive create (:func:`exclusive_write_bytes`), so a
        cell file that exists, even one another process made a moment ago, is never replaced
        (:class:`CellExistsError`)."""
        if not _CELL_RE.match(cell):
            raise ValueError(f"bad cell name {cell!r}")
        path = self.root / "runs" / run_id / "cells" / f"{cell}.json"
        if path.exists():  # the early, friendly refusal; the link below is what makes it safe
            raise CellExistsError(f"{path}: cell already finished in run {run_id}; results are append-only")
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        full = []
        keys = set()
        for r in rows:
            key = (r.workload, r.network, r.backend, r.chip, r.metric)
            if key in keys:
                raise ValueError(f"duplicate row {key} in cell {cell}")
            keys.add(key)
            full.append({"run_id": run_id, **asdict(r), "spikebench_version": provenance.spikebench_version,
                         "git_commit": provenance.git_commit, "machine": provenance.machine, "timestamp": stamp})
        text = json.dumps({"schema": SCHEMA, "cell": cell, "rows": full}, indent=1) + "\n"
        exclusive_write_bytes(path, text.encode("utf-8"))
        return path

    # ---- reading ----------------------------------------------------------------------------------

    def rows(self, *, latest_only: bool = True) -> list[dict]:
        """All rows; with ``latest_only``, each cell's rows from the latest run that finished it."""
        by_cell: dict[str, tuple[str, list[dict]]] = {}
        everything = []
        for run_id in self.runs():
            for path in sorted((self.root / "runs" / run_id / "cells").glob("*.json")):
                fix = ("move it out of the store (`spikebench run --resume` reruns the cell when its run is the "
                       "latest) or use a new --out folder")
                doc = _read_json(path, "cell file", fix)
                if (not isinstance(doc, dict) or doc.get("schema") != SCHEMA or not isinstance(doc.get("rows"), list)
                        or not all(isinstance(r, dict) for r in doc["rows"])):
                    raise FileFormatError(f"{path}: not a {SCHEMA} cell file (a list of row objects); {fix}")
                everything.extend(doc["rows"])
                by_cell[path.stem] = (run_id, doc["rows"])  # runs are sorted: later ones win
        if not latest_only:
            return everything
        return [row for _, rows in by_cell.values() for row in rows]

    def frame(self, *, latest_only: bool = True):
        """The rows as a pandas DataFrame with the documented columns."""
        import pandas as pd

        frame = pd.DataFrame(self.rows(latest_only=latest_only), columns=list(COLUMNS))
        # rows written before networks were chosen are the workload's shipped reference network
        missing = frame["network"].isna() | (frame["network"] == "")
        frame.loc[missing, "network"] = frame.loc[missing, "workload"] + "-reference"
        frame["network_hash"] = frame["network_hash"].fillna("")
        return frame

    # ---- one cell's rows, and the chip estimates they hold ----------------------------------------------

    @staticmethod
    def label_networks(frame):
        """``frame`` with networks told apart: where one workload holds rows of one network name under
        several content hashes (the network changed between runs), each becomes ``name@<8 hash digits>``.
        Rows without a hash (written before networks were chosen) keep the plain name."""
        known = frame[frame["network_hash"] != ""]
        counts = known.groupby(["workload", "network"])["network_hash"].nunique()
        clash = counts[counts > 1]
        if clash.empty:
            return frame
        frame = frame.copy()
        for w, n in clash.index:
            m = (frame["workload"] == w) & (frame["network"] == n) & (frame["network_hash"] != "")
            frame.loc[m, "network"] = n + "@" + frame.loc[m, "network_hash"].str[:8]
        return frame

    @staticmethod
    def networks_of(frame, workload: str) -> list[str]:
        """The networks with rows for ``workload``: its shipped reference (``<workload>-reference``)
        first, then the others in name order."""
        names = set(frame.loc[frame["workload"] == workload, "network"])
        return sorted(names, key=lambda n: (n != f"{workload}-reference", n))

    def cell_frame(self, workload: str | None = None, backend: str | None = None, network: str | None = None):
        """``(workload, backend, rows)``: the latest rows of one workload on one backend, of every
        network the store holds for it unless ``network`` names one.

        ``workload`` may be omitted when the store holds one; ``backend`` defaults, per network, to
        ``sparse-cpu`` where that network has rows on it (the reference counts), else its first backend
        in name order (the returned ``backend`` names each backend chosen, comma separated, when they
        differ). Networks are labelled as :meth:`label_networks` does; rows of several networks are told
        apart by their ``network`` column (:meth:`networks_of` gives them in report order).
        """
        from .core.errors import UnknownNameError

        frame = self.frame()
        if frame.empty:
            raise SpikebenchError(f"{self.root}: the results store holds no rows; run `spikebench run --out DIR` first")
        frame = self.label_networks(frame)
        workloads = sorted(set(frame["workload"]))
        if workload is None:
            if len(workloads) != 1:
                raise SpikebenchError(f"{self.root} holds workloads {', '.join(workloads)}; name one with --workload")
            workload = workloads[0]
        elif workload not in workloads:
            raise UnknownNameError(f"workload {workload!r} is not in {self.root}; it holds: {', '.join(workloads)}")
        sub = frame[frame["workload"] == workload]
        networks = self.networks_of(sub, workload)
        if network is not None:
            if network not in networks:
                raise UnknownNameError(f"network {network!r} has no rows for {workload} in {self.root}; it has: "
                                       f"{', '.join(networks)}")
            sub = sub[sub["network"] == network]
            networks = [network]
        backends = sorted(set(sub["backend"]))
        if backend is not None:
            if backend not in backends:
                raise UnknownNameError(f"backend {backend!r} has no rows for {workload} in {self.root}; it has: "
                                       f"{', '.join(backends)}")
            return workload, backend, sub[sub["backend"] == backend]
        chosen = {}
        for n in networks:
            have = sorted(set(sub.loc[sub["network"] == n, "backend"]))
            chosen[n] = REFERENCE_BACKEND if REFERENCE_BACKEND in have else have[0]
        keep = sub["network"].map(chosen) == sub["backend"]
        return workload, ", ".join(dict.fromkeys(chosen[n] for n in networks)), sub[keep]

    def estimates(self, rows, chips=None) -> list:
        """The chip estimates (:class:`spikebench.hardware_models.Estimate`) that ``estimate_rows``
        stored in ``rows`` (one cell's frame: one network on one backend), for ``chips`` (default: every
        chip with modelled rows).

        A stored estimate keeps its intervals, cores, chips, feasibility and reasons; its assumptions
        are not stored (empty here)."""
        from spikebench.hardware_models import Estimate, Interval, get_chip

        from .core.errors import UnknownNameError

        mod = rows[(rows["kind"] == "modelled") & rows["metric"].isin(ESTIMATE_METRICS)]
        if "network" in mod and len(set(zip(mod["network"], mod["backend"]))) > 1:
            raise SpikebenchError(f"{self.root}: estimates of one cell at a time; these rows hold the networks "
                                  f"and backends {sorted(set(zip(mod['network'], mod['backend'])))} (group by network)")
        have = list(dict.fromkeys(mod["chip"]))
        names = list(chips) if chips else have
        where = f"{', '.join(sorted(set(rows['workload'])))} on {', '.join(sorted(set(rows['backend'])))} in {self.root}"
        out = []
        for n in names:
            get_chip(n)  # an unknown name is named as such
            if n not in have:
                raise UnknownNameError(f"chip {n!r} has no estimate for {where}; it has: {', '.join(have)}")
            by = {r["metric"]: r for r in mod[mod["chip"] == n].to_dict("records")}
            try:
                iv = {q: Interval(low=float(by[q]["low"]), nominal=float(by[q]["value"]), high=float(by[q]["high"]))
                      for q in ("energy_j", "energy_dynamic_j", "energy_static_j", "latency_s")}
                out.append(Estimate(
                    chip=n, title=get_chip(n).sheet.title, boundary=str(by["energy_j"]["source"]), **iv,
                    cores=int(by["cores"]["value"]), core_kind=str(by["cores"]["unit"]),
                    chips=int(by["chips"]["value"]), feasible=bool(by["feasible"]["value"]),
                    reasons=tuple(s for s in str(by["feasible"]["source"] or "").split("; ") if s),
                    # stores written before issue 14 have no extrapolated row: inside
                    extrapolated=tuple(s for s in str((by.get("extrapolated") or {}).get("source") or "").split("; ")
                                       if s) if (by.get("extrapolated") or {}).get("value") else ()))
            except (KeyError, TypeError, ValueError) as exc:
                raise FileFormatError(f"{self.root}: incomplete modelled rows for {n} ({where}; {exc})") from None
        return out

    # ---- the float network's rows and each chip's deployed network ------------------------------------

    @staticmethod
    def float_rows(rows):
        """The chip-less rows of ``rows``: the float network as trained (its task metrics and counts)."""
        return rows[rows["chip"].fillna("") == ""]

    @staticmethod
    def chip_task_rows(rows, chip: str) -> tuple[list[dict], str]:
        """``(task rows, basis)`` of ``chip`` in ``rows`` (one cell's frame).

        ``basis``: ``"deployed"`` (measured on the network as the chip holds it, in its arithmetic),
        ``"float"`` (the chip runs the float network itself: its rows are copies of the float ones),
        ``"infeasible"`` (the chip cannot hold the network: no task rows; a ``deployment_changes`` row
        says it was deployed) or ``"float-fallback"`` (no deployment rows: a store written before
        chips deployed the network, or a chip left out; the float network's task rows stand in).
        Reference metrics (``baseline_*``, ``chance_*``) are chip-less and never returned here.
        """
        chip_col = rows["chip"].fillna("")
        mine = rows[(chip_col == chip) & (rows["kind"] == "task")].to_dict("records")
        if mine:
            src = str(mine[0].get("source") or "")
            return mine, "float" if src.startswith(FLOAT_NETWORK_SOURCE) else "deployed"
        if ((chip_col == chip) & (rows["metric"] == "deployment_changes")).any():
            return [], "infeasible"
        flt = rows[(chip_col == "") & (rows["kind"] == "task")]
        return flt[~flt["metric"].str.startswith(("baseline_", "chance_"))].to_dict("records"), "float-fallback"

    @staticmethod
    def deployments(rows) -> dict[str, dict]:
        """``chip -> {"changes": int, "arithmetic": str, "notes": [str]}`` from the ``deployment_changes``
        rows of ``rows`` (empty for a store written before chips deployed the network)."""
        sub = rows[rows["metric"] == "deployment_changes"]
        return {str(r["chip"]): parse_deployment(r["value"], r["source"]) for r in sub.to_dict("records")}


def parse_deployment(value, source) -> dict:
    """A ``deployment_changes`` row's ``value`` and ``source`` (``"<arithmetic>: note | note"``, or the
    arithmetic alone without notes) as ``{"changes", "arithmetic", "notes"}``."""
    src = source if isinstance(source, str) else ""
    try:
        n = int(round(float(value)))
    except (TypeError, ValueError):
        n = 0
    if n <= 0 or ": " not in src:
        return {"changes": max(n, 0), "arithmetic": src, "notes": []}
    arithmetic, rest = src.split(": ", 1)
    notes = rest.split(" | ")
    if len(notes) != n:  # a note holding " | ": keep the text whole rather than cut it wrongly
        notes = [rest]
    return {"changes": n, "arithmetic": arithmetic, "notes": notes}
