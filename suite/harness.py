"""The one loop: workload -> network -> backend -> counted events -> chip estimates -> tidy result rows.

A *cell* is one network on one workload on one backend: the workload's test split is simulated
once with the network (the workload's shipped reference network, or the user's own, see
:mod:`spikebench.models`); the task metrics, the counts, the measured wall time (and NVML energy
on CUDA) and every chip's estimate become rows (see :mod:`spikebench.results`), each carrying the
network's name and content hash. Cells are written whole when they finish, so an interrupted run
resumes cell by cell.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

from .backends import get_backend
from .core.counts import EventCounts
from .core.errors import SpikebenchError, UnknownNameError
from .core.phases import phase
from .models import NetworkChoice, unique_names
from .results import Provenance, ResultsStore, Row, estimate_rows

REFERENCE = NetworkChoice(name="reference")
#: Largest seed: numpy's legacy generators (and the offline data generators seeded from it) take 0..2**32-1.
MAX_SEED = 2**32 - 1
#: Largest steps per sample a run accepts: 10**6 steps is 1000 s at 1 ms, far beyond any workload here
#: (SHD 1 s at 1 ms, ECG 10 s at 360 Hz); more only allocates arrays the machine cannot hold.
MAX_TIMESTEPS = 10**6


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """What a run does. ``networks``: the networks to run on every workload (default: each workload's
    shipped reference); ``timestep_s``/``timesteps``: binning that overrides the networks' and the
    workloads' own."""

    workloads: tuple[str, ...]
    backends: tuple[str, ...]
    chips: tuple[str, ...]
    device: str | None = None
    seed: int = 0
    limit: int | None = None
    data_dir: str | None = None
    require_real: bool = False
    networks: tuple[NetworkChoice, ...] = (REFERENCE,)
    timestep_s: float | None = None
    timesteps: int | None = None
    #: sparse-cpu's threads (None: every core numba sees); not part of the run's identity (results are
    #: identical at any thread count), only of its wall times, whose rows name it
    threads: int | None = None
    #: ``((backend, N), ...)``: that backend's cells use only N test samples (a seed-drawn subset, as
    #: ``limit``; the smaller of the two where both are set): a slow backend checked on a sample while the
    #: others run the whole split. Its rows say how many samples they cover.
    backend_limits: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        # a name given twice would run (and write) its cells twice: keep the first of each, in order
        for name in ("workloads", "backends", "chips"):
            object.__setattr__(self, name, tuple(dict.fromkeys(getattr(self, name))))
        object.__setattr__(self, "backend_limits", tuple(sorted(dict(self.backend_limits).items())))

    def limit_for(self, backend: str) -> int | None:
        """The samples a ``backend`` cell uses: ``limit``, or the backend's own limit where smaller."""
        own = dict(self.backend_limits).get(backend)
        return own if self.limit is None else (self.limit if own is None else min(own, self.limit))

    def to_dict(self) -> dict:
        d = {"workloads": list(self.workloads), "backends": list(self.backends), "chips": list(self.chips),
             "device": self.device, "seed": self.seed, "limit": self.limit, "data_dir": self.data_dir,
             "require_real": self.require_real}
        if tuple(self.networks) != (REFERENCE,) or self.timestep_s is not None or self.timesteps is not None:
            # a run of the shipped networks keeps the configuration of earlier versions (resume across upgrades)
            d.update(networks=[n.to_dict() for n in self.networks], timestep_s=self.timestep_s, timesteps=self.timesteps)
        if self.backend_limits:
            d["backend_limits"] = {b: n for b, n in self.backend_limits}
        return d

    def cells(self) -> list[tuple[str, str, NetworkChoice]]:
        return [(w, b, n) for w in self.workloads for n in self.networks for b in self.backends]

    def binning(self, choice: NetworkChoice) -> dict:
        b = dict(choice.binning)
        if self.timestep_s is not None:
            b["timestep_s"] = self.timestep_s
        if self.timesteps is not None:
            b["timesteps"] = self.timesteps
        return b


def _slug(text: str) -> str:
    out = "".join(ch if ch.isalnum() or ch in "-." else "-" for ch in text).strip("-.")
    return out[:40] or "network"


def cell_name(workload: str, backend: str, network: NetworkChoice | None = None) -> str:
    """``<workload>__<backend>`` for the shipped network (as before networks were chosen), else
    ``<workload>__<backend>__<name>-<hash>``: a changed network is a new cell, never a stale one."""
    if network is None or network.reference:
        return f"{workload}__{backend}"
    return f"{workload}__{backend}__{_slug(network.name)}-{network.network.content_hash()[:8]}"


def validate_config(cfg: RunConfig) -> None:
    """Fail on unknown names, networks that do not fit a workload and impossible binning before any work starts."""
    from spikebench.hardware_models import CHIPS
    from spikebench.workloads import WORKLOADS, get_workload

    for w in cfg.workloads:
        if w not in WORKLOADS:
            raise UnknownNameError(f"unknown workload {w!r}; choose from: {', '.join(WORKLOADS)}")
    for b in cfg.backends:
        get_backend(b)
    for c in cfg.chips:
        if c not in CHIPS:
            raise UnknownNameError(f"unknown chip {c!r}; known chips: {', '.join(CHIPS)}")
    if not cfg.workloads or not cfg.backends or not cfg.networks:
        raise SpikebenchError("name at least one workload, one backend and one network")
    if not _int_in(cfg.seed, 0, MAX_SEED):
        raise SpikebenchError(f"--seed must be an integer from 0 to {MAX_SEED}, got {cfg.seed!r}")
    if cfg.limit is not None and not _int_in(cfg.limit, 1, None):
        raise SpikebenchError(f"--limit must be an integer >= 1, got {cfg.limit!r}")
    for b, n in cfg.backend_limits:
        if b not in cfg.backends:
            raise SpikebenchError(f"--backend-limit names backend {b!r}, which this run does not use "
                                  f"(--backends {','.join(cfg.backends)})")
        if not _int_in(n, 1, None):
            raise SpikebenchError(f"--backend-limit {b}=N: N must be an integer >= 1, got {n!r}")
    if cfg.threads is not None and not _int_in(cfg.threads, 1, 1024):
        raise SpikebenchError(f"--threads must be an integer from 1 to 1024, got {cfg.threads!r}")
    if cfg.timesteps is not None and not _int_in(cfg.timesteps, 1, MAX_TIMESTEPS):
        raise SpikebenchError(f"--timesteps must be an integer from 1 to {MAX_TIMESTEPS}, got {cfg.timesteps!r}")
    if cfg.timestep_s is not None and not (isinstance(cfg.timestep_s, (int, float)) and math.isfinite(cfg.timestep_s)
                                           and cfg.timestep_s > 0):
        raise SpikebenchError(f"--timestep-s must be a finite positive number of seconds, got {cfg.timestep_s!r}")
    unique_names(list(cfg.networks))
    for w in cfg.workloads:
        for choice in cfg.networks:
            wl = get_workload(w, **cfg.binning(choice))
            if not choice.reference:
                _check(wl, choice.network, choice)


def _int_in(value, low: int, high: int | None) -> bool:
    """Whether ``value`` is an integer (not a bool) with ``low <= value <= high`` (no ``high``: unbounded)."""
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        return False
    return low <= value and (high is None or value <= high)


def _check(wl, net, choice: NetworkChoice) -> None:
    check = getattr(wl, "check_network", None)  # part of the Workload protocol; a minimal workload may lack it
    if check is not None:
        check(net, label=f"network {choice.name!r}")


def _nvml_energy_j(device: str):
    """Return a function reading the GPU's total-energy counter in joules, or None without NVML."""
    try:
        import pynvml
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
        index = int(device.split(":")[1]) if ":" in device else 0
        handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)  # not every GPU supports it
    except Exception:  # noqa: BLE001 - NVML raises its own error family; no counter means no measurement
        return None
    return lambda: pynvml.nvmlDeviceGetTotalEnergyConsumption(handle) / 1000.0  # mJ -> J


def counts_rows(counts: EventCounts, **common) -> list[Row]:
    """Per-inference counts and per-layer activity (kind measured: exact counts of this simulation)."""
    n = counts.samples
    rows = [
        Row(metric="synaptic_events_per_inference", value=counts.synaptic_events / n, unit="events", **common),
        Row(metric="spikes_per_inference", value=counts.spikes / n, unit="spikes", **common),
        Row(metric="neuron_updates_per_inference", value=counts.neuron_updates / n, unit="updates", **common),
        Row(metric="input_spikes_per_inference", value=counts.layers[0].spikes_in / n, unit="spikes", **common),
    ]
    for k, layer in enumerate(counts.layers, start=1):
        rows.append(Row(metric=f"activity_layer{k}", value=layer.spikes_out / layer.neuron_updates, unit="1",
                        source=f"{layer.name} ({layer.kind}, {layer.n_in}->{layer.n_out})", **common))
    return rows


def network_rows(net, **common) -> list[Row]:
    """What the network is: unique non-zero weights and expanded synapses (kind measured: counted)."""
    layers = ", ".join(f"{layer.name} {layer.kind} {'x'.join(map(str, layer.in_shape))}->{'x'.join(map(str, layer.out_shape))}"
                       for layer in net.layers)
    return [
        Row(metric="network_weights", value=float(sum(layer.weights for layer in net.layers)), unit="weights",
            source=f"unique non-zero weights (a kernel counted once): {layers}", **common),
        Row(metric="network_synapses", value=float(sum(layer.synapses for layer in net.layers)), unit="synapses",
            source="expanded non-zero connections (conv kernels applied at every position)", **common),
    ]


#: batch size of the snnTorch cells of ``run`` (the per-step Python overhead of snnTorch, about 0.1 ms per
#: layer and step, is shared by a batch; 256 was the fastest of 64/256/1024 on N-MNIST here, and keeps one
#: batch's input raster at 177 MB)
SNNTORCH_BATCH = 256


class CellMemo:
    """What the cells of one run share, so that each is computed once per run: the test split loaded
    per (workload, binning), and per deployed network the chip deployment, its bit-exact ``sparse-cpu``
    simulation on that split and its task metrics (the same for every backend's cell, since the
    deployed network always runs on the reference kernel). Lives for one :func:`run`; never on disk."""

    def __init__(self):
        self.data: dict = {}
        self.deployments: dict = {}
        self.deployed: dict = {}

    def load(self, wl, binning: dict, cfg: RunConfig, limit: int | None):
        key = (wl.name, tuple(sorted(binning.items())), limit)
        if key not in self.data:
            self.data[key] = wl.load("test", data_dir=Path(cfg.data_dir) if cfg.data_dir else None,
                                     require_real=cfg.require_real, limit=limit, seed=cfg.seed)
        return self.data[key]

    def deploy(self, chip: str, net):
        from spikebench.hardware_models import deploy

        key = (chip, net.content_hash())
        if key not in self.deployments:
            self.deployments[key] = deploy(chip, net)
        return self.deployments[key]

    def deployed_run(self, dep_net, wl, data):
        """``(SimulationResult, task metrics)`` of a deployed network on ``data`` (simulated once)."""
        from spikebench import simulate

        key = (dep_net.content_hash(), id(data))
        if key not in self.deployed:
            sim = simulate(dep_net, data.spikes, backend="sparse-cpu")
            self.deployed[key] = (sim, wl.score(sim.output_spikes, data), data)  # data: keeps id(data) unique
        return self.deployed[key][:2]


def run_cell(workload_name: str, backend: str, cfg: RunConfig, choice: NetworkChoice = REFERENCE,
             memo: CellMemo | None = None) -> list[Row]:
    """Simulate one workload's test split with one network on one backend and turn everything into rows
    (``memo``: what earlier cells of the same run already loaded, deployed and simulated)."""
    from spikebench import simulate
    from spikebench.workloads import get_workload

    memo = memo if memo is not None else CellMemo()
    binning = cfg.binning(choice)
    wl = get_workload(workload_name, **binning)
    net = wl.reference_network() if choice.reference else choice.network
    _check(wl, net, choice)
    with phase("data: load and bin the test split"):
        data = memo.load(wl, binning, cfg, cfg.limit_for(backend))
    device = cfg.device if backend == "snntorch" else None
    energy = _nvml_energy_j(device) if device and device.startswith("cuda") else None
    get_backend(backend)  # named errors before timing
    # snnTorch in batches of SNNTORCH_BATCH (its Python loop per step is amortised over the batch)
    opts = ({"threads": cfg.threads} if backend == "sparse-cpu" else
            {"batch_size": SNNTORCH_BATCH} if backend == "snntorch" else {})
    # warm-up: JIT, thread pools, CUDA, and the network's prepared form (kept with it: not timed below)
    with phase(f"first call on {backend} (imports, JIT cache, thread pools)"):
        simulate(net, data.spikes.select([0]), backend=backend, device=device, **opts)
    e0 = energy() if energy else None
    with phase(f"simulation: {backend}"):
        result = simulate(net, data.spikes, backend=backend, device=device, **opts)
    e1 = energy() if energy else None
    n = data.spikes.samples
    common = {"workload": workload_name, "backend": backend, "device": result.device, "data": data.provenance,
              "samples": n, "seed": cfg.seed, "network": net.name if choice.reference else choice.name,
              "network_hash": net.content_hash()}
    with phase("task metrics and baselines"):
        float_task = _task_rows(wl.score(result.output_spikes, data), data, common)
    rows = list(float_task)
    rows.append(Row(metric="input_duration_s", value=data.spikes.timesteps * data.spikes.timestep_s, unit="s",
                    kind="measured", source=f"{data.spikes.timesteps} steps x {data.spikes.timestep_s:g} s per input",
                    **common))
    rows.append(Row(metric="wall_time_per_inference_s", value=result.wall_time_s / n, unit="s", kind="measured",
                    source=f"{backend} on {result.device}"
                           + (f", {result.extra['threads']} thread(s)" if "threads" in result.extra else "")
                           + (f", batch {result.extra['batch_size']}" if "batch_size" in result.extra else "")
                           + f", wall clock of the whole call ({n} samples in one call; {result.timing()})", **common))
    if e0 is not None and e1 is not None and math.isfinite(e1 - e0):
        rows.append(Row(metric="gpu_energy_per_inference_j", value=(e1 - e0) / n, unit="J", kind="measured",
                        source="NVML total-energy counter delta around the synchronised run (whole board)", **common))
    if backend != "sparse-cpu":
        with phase("agreement check on sparse-cpu"):
            rows.append(agreement_row(net, data, result, cfg, common))
    rows += network_rows(net, kind="measured", **common)
    rows += counts_rows(result.counts, kind="measured", **common)
    rows += chip_rows(net, wl, data, list(cfg.chips), result, common, float_task, memo)
    return rows


def agreement_row(net, data, result, cfg: RunConfig, common: dict) -> Row:
    """``agrees_with_sparse_cpu``: 1 when this backend's per-layer counts and output spikes equal the
    reference kernel's on the same samples (run here, untimed), else 0 with the first difference named."""
    import numpy as np

    from spikebench import simulate

    ref = simulate(net, data.spikes, backend="sparse-cpu", threads=cfg.threads)
    diff = ""
    for a, b in zip(ref.counts.layers, result.counts.layers, strict=True):
        for q in ("spikes_in", "synaptic_events", "neuron_updates", "spikes_out"):
            if getattr(a, q) != getattr(b, q):
                diff = diff or f"first difference: layer {a.name} {q} {getattr(b, q)} vs sparse-cpu {getattr(a, q)}"
    if not diff and not np.array_equal(np.asarray(ref.output_spikes), np.asarray(result.output_spikes)):
        diff = "same counts, but the output spikes differ"
    n = data.spikes.samples
    return Row(metric="agrees_with_sparse_cpu", value=0.0 if diff else 1.0, unit="1", kind="measured",
               source=(f"differs from sparse-cpu on the same {n} samples ({diff})" if diff else
                       f"per-layer counts and output spikes identical to sparse-cpu on the same {n} samples"),
               **common)


def deployed_counts(float_counts: EventCounts, deployed_counts: EventCounts, deployed_net) -> EventCounts:
    """The deployed run's activity on the float network's shape: the chip models map the network the
    user trained (conv geometry, kernels shared) and pay for the events, steps and weight widths of the
    network as the chip holds it."""
    import dataclasses

    layers = []
    for f, d, layer in zip(float_counts.layers, deployed_counts.layers, deployed_net.layers, strict=True):
        layers.append(dataclasses.replace(f, spikes_in=d.spikes_in, synaptic_events=d.synaptic_events,
                                          neuron_updates=d.neuron_updates, spikes_out=d.spikes_out,
                                          weight_bits=layer.weight_bits if layer.weight_bits is not None
                                          else f.weight_bits))
    return EventCounts(layers=tuple(layers), samples=deployed_counts.samples, timesteps=deployed_counts.timesteps,
                       timestep_s=deployed_counts.timestep_s, source=dict(deployed_counts.source))


def chip_rows(net, wl, data, chips: list[str], result, common: dict, float_task: list[Row],
              memo: CellMemo | None = None) -> list[Row]:
    """Per chip: the network as the chip holds it (``hardware_models.deploy``), simulated in the chip's
    arithmetic by the reference kernel; its task metrics (``task`` rows with the chip set), its counts
    and the chip's estimate from them, and what the deployment changed (``deployment_changes``: one
    note per change in ``source``). A chip that cannot hold the network is estimated on the float
    network's counts and marked infeasible with the reason. Identical deployments (Loihi and Loihi 2
    often are, and every backend's cell of a run deploys the same) are simulated once (``memo``).
    Reference metrics (``baseline_*``, ``chance_*``) stay chip-less."""
    import dataclasses

    from spikebench.hardware_models import NetworkProfile, get_chip

    memo = memo if memo is not None else CellMemo()
    rows: list[Row] = []
    for chip in chips:
        with phase("chips: deploy in each numeric format"):
            dep = memo.deploy(chip, net)
        c = {**common, "chip": chip}
        identity = dep.feasible and (dep.network is net or dep.network.content_hash() == net.content_hash())
        rows.append(Row(metric="deployment_changes", value=0.0 if identity else float(len(dep.notes)), unit="notes",
                        kind="modelled",
                        source=f"{dep.arithmetic}: " + " | ".join(dep.notes) if dep.notes else dep.arithmetic, **c))
        model = get_chip(chip)
        if not dep.feasible:
            est = model.estimate(NetworkProfile.from_counts(result.counts), result.counts)
            est = dataclasses.replace(est, feasible=False,
                                      reasons=(f"numeric format: {dep.why}", *est.reasons))
            rows += estimate_rows([est], **common)
            continue
        if identity:
            counts, task_rows = result.counts, None
        else:
            with phase("chips: simulate and score deployed networks (sparse-cpu)"):
                sim, metrics = memo.deployed_run(dep.network, wl, data)
            counts = deployed_counts(result.counts, sim.counts, dep.network)
            note = (f"deployed on {chip} ({dep.arithmetic}; {len(dep.notes)} changes), simulated bit-exactly by "
                    f"sparse-cpu over {sim.counts.timesteps} steps")
            task_rows = [dataclasses.replace(r, source=f"{note}; {r.source}")
                         for r in _task_rows(metrics, data, c)]
        if task_rows is None:  # the chip runs the float network itself: the float metrics are its own
            task_rows = [dataclasses.replace(r, chip=chip, source=f"float32 network as trained, on {chip}; {r.source}")
                         for r in float_task]
        rows += [r for r in task_rows if not r.metric.startswith(_REFERENCE_METRICS)]
        rows += counts_rows(counts, kind="measured", chip=chip, **common)
        with phase("chips: energy and latency estimates"):
            rows += estimate_rows([model.estimate(NetworkProfile.from_counts(counts), counts)], **common)
    return rows


_REFERENCE_METRICS = ("baseline_", "chance_")


def _task_rows(metrics, data, common) -> list[Row]:
    return [Row(metric=m.name, value=float(m.value), low=m.low, high=m.high, unit=m.unit, kind="task",
                source=m.note or data.source, **common) for m in metrics]


def run(cfg: RunConfig, out, *, resume: bool = False, progress: bool = True, on_cell=None,
        wait: bool = False) -> tuple[str, int]:
    """Run every cell of ``cfg`` into the store at ``out``; returns (run_id, cells written now).

    With ``resume``, continue the latest run of this store (its configuration must match) and skip
    the cells it finished; without, start a new run. ``on_cell(cell)`` is called after each cell
    is written (tests use it to interrupt).

    The run holds the store's lock (:meth:`ResultsStore.lock`) from before it creates or reads the
    store until it returns or is interrupted: a second run on the same store stops at once with
    :class:`~spikebench.results.StoreInUseError` (``wait``: waits for the first), before loading any
    data. Creating the store and the run file under the lock is also the check that ``out`` is
    writable, before the first cell is simulated.
    """
    validate_config(cfg)
    if "snntorch" in cfg.backends:
        _prefetch("snntorch")
    store = ResultsStore(out)
    lock = store.lock(wait=wait)
    try:
        return _run_locked(cfg, store, resume=resume, progress=progress, on_cell=on_cell)
    finally:
        lock.release()


def _prefetch(module: str) -> None:
    """Import ``module`` (snnTorch and torch: about 1.5 s) on a daemon thread while the first cells work;
    the cell that needs it waits on Python's import lock. A failed import is left for that cell to report."""
    import importlib
    import sys
    import threading

    if module not in sys.modules:
        threading.Thread(target=lambda: _quiet_import(importlib, module), name=f"import {module}",
                         daemon=True).start()


def _quiet_import(importlib, module: str) -> None:
    try:
        importlib.import_module(module)
    except Exception:  # noqa: BLE001 - the backend raises its own one-line error when it is used
        pass


def _run_locked(cfg: RunConfig, store: ResultsStore, *, resume: bool, progress: bool, on_cell) -> tuple[str, int]:
    out = store.root
    store.open(create=True)
    prov = Provenance.collect()
    run_id = None
    if resume:
        runs = store.runs()
        if runs:
            last = runs[-1]
            old = store.run_config(last)["config"]
            if old != cfg.to_dict():
                raise SpikebenchError(f"--resume: the latest run in {out} ({last}) was started with another "
                                      f"configuration ({old}); rerun with the same arguments or without --resume")
            run_id = last
    if run_id is None:
        run_id = store.start_run(cfg.to_dict(), prov)
    done = store.finished_cells(run_id)
    todo = [c for c in cfg.cells() if cell_name(*c) not in done]
    many = len(cfg.networks) > 1 or not cfg.networks[0].reference
    bar = None
    if progress and todo:
        from tqdm import tqdm

        bar = tqdm(total=len(todo), desc="spikebench run", unit="cell", leave=False, disable=None)  # no bar off a TTY
    written = 0
    memo = CellMemo()
    try:
        for workload_name, backend, choice in todo:
            what = f"{workload_name} ({choice.name}) on {backend}" if many else f"{workload_name} on {backend}"
            if bar:
                bar.set_postfix_str(what)
            t0 = time.perf_counter()
            rows = run_cell(workload_name, backend, cfg, choice, memo)
            with phase("results store: write cells"):
                store.write_cell(run_id, cell_name(workload_name, backend, choice), rows, prov)
            written += 1
            if bar:
                bar.update(1)
                bar.write(f"  {what}: {len(rows)} rows in {time.perf_counter() - t0:.1f} s")
            if on_cell:
                on_cell(cell_name(workload_name, backend, choice))
    finally:
        if bar:
            bar.close()
    return run_id, written
