"""The chooser's three entry points: a counts file, a workload's reference network simulated on its
test split, or the stored rows of a results store. Each ends in :func:`~spikebench.choose.judge.judge`."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

from spikebench.core.counts import EventCounts
from spikebench.core.units import floor_sig, si
from spikebench.results import REFERENCE_BACKEND

from .judge import infeasibility_message, judge, rank, static_power
from .records import Choice, ChooseError, Constraints, NetworkEntry, Stability, TaskScore

DEFAULT_DRAWS = 1000
#: Most stability draws taken (as ``spikebench choose --draws`` allows): 10^5 draws pin a swap frequency
#: to about 0.3 %; more only costs time.
MAX_DRAWS = 100_000
FILL_UNKNOWN_SLACK = 0.05  # results stores: latency over the input duration by <= 5 % may be pipeline fill


@dataclass(frozen=True, kw_only=True)
class OnChip:
    """One chip's deployment of the network (``hardware_models.deploy``), as the chooser uses it.

    ``counts``: the deployed network's counts (the float network's where the chip runs it as is or
    cannot hold it; None from a results store, which keeps estimates); ``task``: its task metric
    (:class:`TaskScore` ``basis``; None when infeasible);
    ``why``: why the chip cannot hold the network (empty when it can); ``notes``: the deployment's
    notes; ``arithmetic``: the chip's numeric format."""

    counts: EventCounts | None = None
    task: TaskScore | None = None
    why: str = ""
    notes: tuple[str, ...] = ()
    arithmetic: str = ""


def choose_from_counts(counts: EventCounts, constraints: Constraints, *, chips: list[str] | None = None,
                       task: TaskScore | None = None, draws: int = DEFAULT_DRAWS, seed: int = 0, source: str = "",
                       strict: bool = True, notes: tuple[str, ...] = (),
                       deployed: dict[str, OnChip] | None = None) -> Choice:
    """Rank ``chips`` (all by default) for ``counts`` under ``constraints``.

    ``counts`` and ``task`` are the float network's. ``deployed[chip]`` (from
    :func:`choose_from_workload`) gives a chip's deployed network: its counts for the estimate, its task
    metric for ``--min-accuracy``, or why the chip's numeric format cannot hold the network (the chip is
    then estimated on ``counts`` and infeasible). Without it (a counts file: no network to deploy) every
    chip is estimated on ``counts`` and judged on ``task`` (basis ``float-fallback``).
    ``draws`` = 0 skips the stability sampling. With ``strict`` (default), no feasible chip raises
    :class:`ChooseError` naming the binding constraint (its ``choice`` attribute holds the evaluation).
    """
    from spikebench.hardware_models import CHIPS, NetworkProfile, get_chip

    _check_draws(draws)
    names = list(chips) if chips else list(CHIPS)
    models = {n: get_chip(n) for n in names}
    deployed = deployed or {}
    own = {n: deployed[n].counts if n in deployed and deployed[n].counts is not None else counts for n in names}
    estimates, fill, statics = [], {}, {}
    for n, m in models.items():
        cc = own[n]
        profile = NetworkProfile.from_counts(cc)
        e = m.estimate(profile, cc)
        if n in deployed and deployed[n].why:
            e = replace(e, feasible=False, reasons=(f"numeric format: {deployed[n].why}", *e.reasons))
        estimates.append(e)
        if getattr(m, "mapping", None) is not None:
            fill[n] = int(m.mapping(profile).extra.get("extra_ticks", 0))
        # static power from the real-time estimate (latency >= D > 0 there, so the ratio is defined even
        # when a silent network makes a chip's as-fast-as-possible latency zero)
        rt = m.estimate(profile, cc, real_time=True)
        statics[n] = static_power(rt.constants_interval("energy_static_j"), rt.constants_interval("latency_s"),
                                  rt.widened)
    D = counts.timesteps * counts.timestep_s
    if deployed:
        chip_tasks = {n: deployed[n].task if n in deployed else _fallback(task) for n in names}
    else:
        chip_tasks = {n: _fallback(task) for n in names} if task is not None else None
    verdicts = judge(estimates, constraints=constraints, input_duration_s=D, task=task, fill_ticks=fill,
                     timesteps={n: own[n].timesteps for n in names}, static_power_w=statics, chip_tasks=chip_tasks)
    verdicts = [_with_deployment(v, deployed.get(v.chip)) for v in verdicts]
    feasible = [v.chip for v in verdicts if v.feasible]
    stab = None
    if draws and feasible:
        stab = Stability.of(_rank_stability(own, {n: models[n] for n in feasible}, draws=draws, seed=seed),
                            "constants")
    choice = Choice(verdicts=tuple(verdicts), constraints=constraints, timesteps=counts.timesteps,
                    timestep_s=counts.timestep_s, input_duration_s=D, source=source, task=task, stability=stab,
                    notes=_task_notes(task) + tuple(notes))
    return _finish(choice, strict)


def _fallback(task: TaskScore | None) -> TaskScore | None:
    return None if task is None else replace(task, basis="float-fallback")


def _with_deployment(v, on: OnChip | None):
    if on is None:
        return v
    return replace(v, arithmetic=on.arithmetic, deployment_notes=tuple(on.notes))


def _rank_stability(counts: dict[str, EventCounts], models: dict, *, draws: int, seed: int):
    """:func:`spikebench.hardware_models.sensitivity.rank_stability` with each chip on its own counts
    (its deployed network's); the same draws, in the same order, as that function when the counts agree."""
    from spikebench.hardware_models import NetworkProfile
    from spikebench.hardware_models.sensitivity import ranking_stability, triangular

    funcs, excluded = {}, []
    for name, model in models.items():
        placement, f = model.point_formula(NetworkProfile.from_counts(counts[name]), counts[name])
        if placement.feasible:
            funcs[name] = (model, f)
        else:
            excluded.append(name)

    def draw(sheet, rng):
        return {k: triangular(rng, p.si("low"), p.si(), p.si("high")) for k, p in sheet.params.items()}

    nominal = {n: f(m.sheet.nominal_si())["energy_j"] for n, (m, f) in funcs.items()}
    return ranking_stability(nominal, lambda rng: [f(draw(m.sheet, rng))["energy_j"] for m, f in funcs.values()],
                             draws=draws, seed=seed, excluded=excluded)


def choose_from_workload(workload, constraints: Constraints, *, chips: list[str] | None = None,
                         limit: int | None = None, seed: int = 0, data_dir: str | Path | None = None,
                         metric: str | None = None, draws: int = DEFAULT_DRAWS, strict: bool = True,
                         backend: str = REFERENCE_BACKEND) -> Choice:
    """Simulate a workload's reference network on its test split, deploy it on each chip and choose.

    Each chip gets the network in its numeric format (``spikebench.hardware_models.deploy``), simulated
    in its arithmetic by ``sparse-cpu`` on the same test split: the chip's estimate comes from the
    deployed network's counts and ``--min-accuracy`` is compared with its task metric (identical
    deployments are simulated once; a chip that runs the float network as is keeps the float run's).
    A chip whose numeric format cannot hold the network is estimated on the float counts and infeasible.

    ``workload`` is a registry name or an object following :class:`spikebench.workloads.base.Workload`
    (``load``, ``reference_network``, ``score``). ``seed`` seeds both the data and the stability draws.
    """
    from spikebench import simulate, workloads
    from spikebench.hardware_models import CHIPS, deploy, get_chip
    from spikebench.harness import deployed_counts

    wl = workloads.get_workload(workload) if isinstance(workload, str) else workload
    _check_draws(draws)
    names = list(chips) if chips else list(CHIPS)
    for n in names:  # named errors before the simulation
        get_chip(n)
    net = wl.reference_network()  # first: a missing network fails before the data is generated or read
    data = wl.load("test", data_dir=Path(data_dir) if data_dir else None, limit=limit, seed=seed)
    result = simulate(net, data.spikes, backend=backend)
    kind = getattr(wl, "task", "")
    task = pick_metric(wl.score(result.output_spikes, data), task=kind, metric=metric, data=data.provenance,
                       source=data.source)
    on_chip, sims = {}, {}
    for n in names:
        dep = deploy(n, net)
        common = {"notes": tuple(dep.notes), "arithmetic": dep.arithmetic}
        if not dep.feasible:
            on_chip[n] = OnChip(counts=result.counts, task=None, why=dep.why, **common)
            continue
        key = dep.network.content_hash()
        if dep.network is net or key == net.content_hash():
            on_chip[n] = OnChip(counts=result.counts, task=replace(task, basis="float"), **common)
            continue
        if key not in sims:
            sim = simulate(dep.network, data.spikes, backend="sparse-cpu")
            t = pick_metric(wl.score(sim.output_spikes, data), task=kind, metric=task.metric, data=data.provenance,
                            source=f"deployed on {n} ({dep.arithmetic}), simulated by sparse-cpu")
            sims[key] = (sim, replace(t, basis="deployed", float_value=task.value))
        sim, t = sims[key]
        on_chip[n] = OnChip(counts=deployed_counts(result.counts, sim.counts, dep.network), task=t, **common)
    name = getattr(wl, "name", type(wl).__name__)
    src = (f"workload {name}: reference network on {data.spikes.samples} test samples ({data.provenance} data), "
           f"{backend}; each chip on the network as it holds it (sparse-cpu in its arithmetic)")
    return choose_from_counts(result.counts, constraints, chips=names, task=task, draws=draws, seed=seed,
                              source=src, strict=strict, deployed=on_chip)


def choose_from_results(store_dir, constraints: Constraints, *, workload: str | None = None,
                        backend: str | None = None, chips: list[str] | None = None, metric: str | None = None,
                        input_duration_s: float | None = None, draws: int = DEFAULT_DRAWS, seed: int = 0,
                        strict: bool = True, network: str | None = None) -> Choice:
    """Choose from the modelled and task rows of a results store (``spikebench run --out DIR``).

    The store keeps estimates, not counts (:meth:`ResultsStore.estimates` rebuilds them): static power
    comes from the stored fields as everywhere, the stream check uses latency as is (pipeline fill
    unknown), and stability samples each chip's stored energy interval
    (:func:`~spikebench.hardware_models.sensitivity.interval_stability`) instead of the constants. The
    input duration is read from an ``input_duration_s`` row when the store has one, else taken from
    ``input_duration_s``, else from one test sample of the workload.

    When the store holds several networks for the workload and ``network`` names none, every
    (network, chip) pair is judged with its own network's task metric (``--min-accuracy``) and input
    duration and the pairs are ranked together (:class:`Choice` ``networks``; verdicts carry their
    ``network``); ``network`` restricts the choice to one (an unknown name lists the known ones).
    """
    from spikebench.hardware_models.sensitivity import interval_stability
    from spikebench.results import ResultsStore

    _check_draws(draws)
    store = ResultsStore(store_dir).open(create=False)
    workload, backend, rows = store.cell_frame(workload, backend, network)
    nets = ResultsStore.networks_of(rows, workload)
    if len(nets) > 1:
        return _choose_networks(store, store_dir, constraints, workload=workload, rows=rows, nets=nets, chips=chips,
                                metric=metric, input_duration_s=input_duration_s, draws=draws, seed=seed,
                                strict=strict)
    estimates, task, D, notes, chip_tasks, deps = _stored_cell(store, store_dir, workload, rows, chips=chips,
                                                               metric=metric, input_duration_s=input_duration_s)
    verdicts = judge(estimates, constraints=constraints, input_duration_s=D, task=task,
                     fill_unknown_slack=FILL_UNKNOWN_SLACK, chip_tasks=chip_tasks)
    verdicts = [_with_deployment(v, deps.get(v.chip)) for v in verdicts]
    feasible = [v for v in verdicts if v.feasible]
    stab = None
    if draws and feasible:
        stab = Stability.of(interval_stability({v.chip: v.energy_j for v in feasible}, draws=draws, seed=seed),
                            "stored-intervals")
    notes.append(_STORE_NOTE)
    choice = Choice(verdicts=tuple(verdicts), constraints=constraints, timesteps=None, timestep_s=None,
                    input_duration_s=D, source=f"results store {store_dir}: {workload}"
                    + (f" (network {network})" if network is not None else "") + f" on {backend}", task=task,
                    stability=stab, notes=_task_notes(task) + tuple(notes))
    return _finish(choice, strict)


_STORE_NOTE = ("from a results store: the real-time check uses the whole latency (pipeline fill is not stored; "
               f"up to {100 * FILL_UNKNOWN_SLACK:g} % over the input duration is let pass with a note)")


def _stored_cell(store, store_dir, workload: str, rows, *, chips, metric, input_duration_s):
    """``(estimates, task, input duration, notes, chip tasks, deployments)`` of one network's stored rows
    on one backend: ``task`` is the float network's (the chip-less task rows), ``chip tasks`` each
    chip's (:meth:`ResultsStore.chip_task_rows`: deployed, float, None where the chip cannot hold the
    network, or the float network's standing in where the store has no deployment rows) and
    ``deployments`` each deployed chip's :class:`OnChip` (notes and arithmetic; counts unused)."""
    from spikebench import workloads
    from spikebench.results import ResultsStore

    estimates = [replace(e, assumptions=_sheet_placeholders(e.chip)) for e in store.estimates(rows, chips)]
    task_rows = ResultsStore.float_rows(rows)
    task_rows = task_rows[task_rows["kind"] == "task"].to_dict("records")
    task = None
    if task_rows:
        task = pick_metric(_metrics(task_rows), task="", metric=metric, data=str(task_rows[0]["data"]),
                           source=f"{store_dir}")
    chip_tasks, deps, stored = {}, {}, ResultsStore.deployments(rows)
    for e in estimates:
        mine, basis = ResultsStore.chip_task_rows(rows, e.chip)
        if e.chip in stored:
            d = stored[e.chip]
            deps[e.chip] = OnChip(notes=tuple(d["notes"]), arithmetic=d["arithmetic"])
        if basis == "infeasible" or task is None:
            chip_tasks[e.chip] = None
            continue
        if basis == "float-fallback":
            chip_tasks[e.chip] = replace(task, basis="float-fallback")
            continue
        try:
            t = pick_metric(_metrics(mine), task="", metric=task.metric, data=str(mine[0]["data"]),
                            source=f"{store_dir}")
        except ChooseError:  # the chip's rows lack the metric: the float network's stands in
            chip_tasks[e.chip] = replace(task, basis="float-fallback")
            continue
        chip_tasks[e.chip] = replace(t, basis=basis, float_value=task.value if basis == "deployed" else None)
    dur_rows = rows[rows["metric"] == "input_duration_s"]
    notes = []
    if not stored and estimates and task is not None:
        notes.append(f"this store holds no deployment rows (written before chips deployed the network): each "
                     f"chip is judged on the float network's {task.metric} and counts")
    if len(dur_rows):
        D = float(dur_rows["value"].iloc[0])
    elif input_duration_s is not None:
        D = float(input_duration_s)
    else:
        one = workloads.get_workload(workload).load("test", limit=1, seed=0).spikes
        D = one.timesteps * one.timestep_s
        notes.append(f"input duration taken from one test sample of {workload}: {one.timesteps} steps x "
                     f"{si(one.timestep_s, 's')}")
    return estimates, task, D, notes, chip_tasks, deps


def _metrics(rows) -> list:
    from spikebench.workloads import Metric

    return [Metric(name=r["metric"], value=r["value"], low=_opt(r["low"]), high=_opt(r["high"]), note=r["source"])
            for r in rows]


def _choose_networks(store, store_dir, constraints: Constraints, *, workload: str, rows, nets: list[str], chips,
                     metric, input_duration_s, draws: int, seed: int, strict: bool) -> Choice:
    """Every (network, chip) pair of a workload run with several networks, ranked together."""
    from spikebench.core.errors import SpikebenchError
    from spikebench.hardware_models.sensitivity import interval_stability

    entries, verdicts, notes = [], [], []
    for n in nets:
        sub = rows[rows["network"] == n]
        try:
            estimates, task, D, more, chip_tasks, deps = _stored_cell(store, store_dir, workload, sub, chips=chips,
                                                                      metric=metric, input_duration_s=input_duration_s)
            judged = judge(estimates, constraints=constraints, input_duration_s=D, task=task,
                           fill_unknown_slack=FILL_UNKNOWN_SLACK, chip_tasks=chip_tasks)
        except SpikebenchError as exc:
            raise type(exc)(f"network {n}: {exc}") from None
        notes += [m for m in more if m not in notes]
        hashes = [h for h in dict.fromkeys(sub["network_hash"]) if h]
        entries.append(NetworkEntry(name=n, network_hash=hashes[0] if hashes else "",
                                    backend=", ".join(sorted(set(sub["backend"]))), input_duration_s=D, task=task))
        verdicts += [replace(_with_deployment(v, deps.get(v.chip)), network=n) for v in judged]
    # each pair with its own task metric: its network deployed on its chip (the float network's where nothing was)
    ranked = rank(verdicts, tie=lambda v: -v.task.value if v.task is not None else 0.0)
    front = _pareto({v.label: v for v in ranked if v.feasible and v.task is not None})
    ranked = [replace(v, pareto=v.label in front) for v in ranked]
    feasible = [v for v in ranked if v.feasible]
    stab = None
    if draws and feasible:
        stab = Stability.of(interval_stability({v.label: v.energy_j for v in feasible}, draws=draws, seed=seed),
                            "stored-intervals")
    synthetic = [e for e in entries if e.task is not None and e.task.synthetic]
    if synthetic:
        notes.insert(0, f"the {synthetic[0].task.metric} is measured on synthetic data: not comparable with "
                        "published numbers")
    best = feasible[0] if feasible else None
    if constraints.min_accuracy is None and best is not None and best.task is not None:
        top = max((v for v in feasible if v.task is not None), key=lambda v: (v.task.value, -v.energy_j.nominal))
        if top.task.value > best.task.value:
            m = best.task.metric
            notes.append(f"no --min-accuracy: pairs are ranked by energy alone; the top pair {best.label} has "
                         f"{m} {best.task.value:.3g}, the most accurate feasible pair {top.label} "
                         f"{top.task.value:.3g} at {si(top.energy_j.nominal, 'J')} per inference; "
                         "set --min-accuracy to rule out the less accurate pairs")
    if front:
        notes.append("Pareto-optimal pairs (highest task metric for the least energy per inference, feasible): "
                     + ", ".join(v.label for v in feasible if v.label in front))
    notes.append(_STORE_NOTE)
    D = entries[0].input_duration_s
    backends = ", ".join(dict.fromkeys(e.backend for e in entries))
    choice = Choice(verdicts=tuple(ranked), constraints=constraints, timesteps=None, timestep_s=None,
                    input_duration_s=D, source=f"results store {store_dir}: {workload}, {len(entries)} networks "
                    f"on {backends}", task=None, stability=stab, notes=tuple(notes), networks=tuple(entries))
    return _finish(choice, strict)


def _pareto(verdicts: dict) -> set[str]:
    """Labels of the feasible pairs no other feasible pair beats in both task metric (higher: each
    pair's own, :attr:`ChipVerdict.task`) and nominal energy per inference (lower)."""
    front, best = set(), -math.inf
    for label, v in sorted(verdicts.items(), key=lambda kv: (kv[1].energy_j.nominal, -kv[1].task.value)):
        if v.task.value > best:
            front.add(label)
            best = v.task.value
    return front


def pick_metric(metrics, *, task: str = "", metric: str | None = None, data: str = "unknown",
                source: str = "") -> TaskScore:
    """The task metric (:class:`spikebench.workloads.Metric` list) compared with ``--min-accuracy``:
    ``metric`` if named; else ``accuracy`` for classification and ``auroc`` for anomaly detection,
    else whichever of the two is present."""
    by = {m.name: m for m in metrics}
    if metric is not None:
        order = [metric]
    elif task == "anomaly":
        order = ["auroc", "accuracy"]
    else:
        order = ["accuracy", "auroc"]
    for name in order:
        if name in by:
            m = by[name]
            return TaskScore(metric=name, value=float(m.value), data=data, low=_opt(m.low), high=_opt(m.high),
                             source=m.note or source)
    raise ChooseError(f"the workload reports no task metric named {' or '.join(order)}; it has: "
                      f"{', '.join(by) or 'none'}")


def _finish(choice: Choice, strict: bool) -> Choice:
    feas = choice.feasible
    if len(feas) > 1:
        low = min(feas, key=lambda v: v.power_w.nominal)
        if low is not feas[0]:
            choice = replace(choice, notes=(*choice.notes, (
                f"ranked by energy per inference; by average power at duty cycle {choice.constraints.duty_cycle:g} "
                f"{low.label} ({si(low.power_w.nominal, 'W')}) comes before {feas[0].label} "
                f"({si(feas[0].power_w.nominal, 'W')}): static power dominates")))
    if strict and not choice.feasible:
        raise ChooseError(_no_pair_message(choice) if choice.networks else
                          infeasibility_message(choice.verdicts, choice.constraints, choice.task,
                                                choice.input_duration_s), choice)
    return choice


def _no_pair_message(choice: Choice) -> str:
    """Why no (network, chip) pair is feasible: the accuracy bound when it rules out every pair (each
    with its own task metric: its network deployed on its chip), else the binding constraint among the
    pairs accurate enough."""
    c = choice.constraints
    scored = [v for v in choice.verdicts if v.task is not None]
    if c.min_accuracy is not None and scored and all(v.task.value < c.min_accuracy for v in scored):
        top = max(scored, key=lambda v: v.task.value)
        t = top.task
        data = "synthetic data" if t.synthetic else t.data
        if any(v.task.deployed for v in scored):
            return (f"--min-accuracy {c.min_accuracy:g} rules out every (network, chip) pair: the most accurate, "
                    f"{top.label}, has {t.short()} ({data}); loosen --min-accuracy by "
                    f"{c.min_accuracy - t.value:.3g} to {floor_sig(t.value)} or improve the networks")
        return (f"--min-accuracy {c.min_accuracy:g} rules out every network: the most accurate, {top.network}, has "
                f"{t.metric} {t.value:.3g} ({data}); loosen --min-accuracy "
                f"by {c.min_accuracy - t.value:.3g} to {floor_sig(t.value)} or improve the networks")
    ok = [v for v in choice.verdicts if c.min_accuracy is None or v.task is None or v.task.value >= c.min_accuracy]
    names = {v.network for v in ok}
    return infeasibility_message(ok, c, None, choice.input_duration_s,
                                 durations={e.name: e.input_duration_s for e in choice.networks if e.name in names})


def _sheet_placeholders(chip: str) -> tuple[str, ...]:
    """Placeholder constants of a chip's sheet, worded as the estimates' assumptions name them."""
    from spikebench.hardware_models import get_chip

    sheet = get_chip(chip).sheet
    return tuple(f"{p.name} ({p.value:g} {p.unit}, grade {p.grade}) is a {p.source}"
                 for p in sheet.params.values() if p.source.startswith("placeholder"))


def _task_notes(task: TaskScore | None) -> tuple[str, ...]:
    if task is not None and task.synthetic:
        return (f"the {task.metric} is measured on synthetic data: not comparable with published numbers",)
    return ()


def _check_draws(draws) -> None:
    if isinstance(draws, bool) or not isinstance(draws, int) or not 0 <= draws <= MAX_DRAWS:
        raise ChooseError(f"--draws must be an integer in [0, {MAX_DRAWS}] (0 skips the stability sampling), "
                          f"got {draws!r}")


def _opt(v):
    return None if v is None or (isinstance(v, float) and v != v) else float(v)


__all__ = ["DEFAULT_DRAWS", "FILL_UNKNOWN_SLACK", "OnChip", "choose_from_counts", "choose_from_results", "choose_from_workload",
           "pick_metric"]
