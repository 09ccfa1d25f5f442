"""The chooser's three entry points: a counts file, a workload's reference network simulated on its
test split, or the stored rows of a results store. Each ends in :func:`~spikebench.choose.judge.judge`."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

from spikebench.core.counts import EventCounts
from spikebench.core.units import floor_sig, si
from spikebench.results import REFERENCE_BACKEND

from .judge import infeasibility_message, judge, rank, static_power
from .records import Choice, ChooseError, Constraints, NetworkEntry, Stability, TaskScore

DEFAULT_DRAWS = 1000
FILL_UNKNOWN_SLACK = 0.05  # results stores: latency over the input duration by <= 5 % may be pipeline fill


def choose_from_counts(counts: EventCounts, constraints: Constraints, *, chips: list[str] | None = None,
                       task: TaskScore | None = None, draws: int = DEFAULT_DRAWS, seed: int = 0, source: str = "",
                       strict: bool = True, notes: tuple[str, ...] = ()) -> Choice:
    """Rank ``chips`` (all by default) for ``counts`` under ``constraints``.

    ``draws`` = 0 skips the stability sampling. With ``strict`` (default), no feasible chip raises
    :class:`ChooseError` naming the binding constraint (its ``choice`` attribute holds the evaluation).
    """
    from spikebench.hardware_models import CHIPS, NetworkProfile, get_chip
    from spikebench.hardware_models.sensitivity import rank_stability

    _check_draws(draws)
    names = list(chips) if chips else list(CHIPS)
    models = {n: get_chip(n) for n in names}
    profile = NetworkProfile.from_counts(counts)
    estimates = [m.estimate(profile, counts) for m in models.values()]
    fill = {n: int(m.mapping(profile).extra.get("extra_ticks", 0)) for n, m in models.items()
            if getattr(m, "mapping", None) is not None}
    D = counts.timesteps * counts.timestep_s
    # static power from the real-time estimates (latency >= D > 0 there, so the ratio is defined even
    # when a silent network makes a chip's as-fast-as-possible latency zero)
    statics = {e.chip: static_power(e.energy_static_j, e.latency_s)
               for e in (m.estimate(profile, counts, real_time=True) for m in models.values())}
    verdicts = judge(estimates, constraints=constraints, input_duration_s=D, task=task, fill_ticks=fill,
                     timesteps=counts.timesteps, static_power_w=statics)
    feasible = [v.chip for v in verdicts if v.feasible]
    stab = None
    if draws and feasible:
        stab = Stability.of(rank_stability(counts, {n: models[n] for n in feasible}, draws=draws, seed=seed),
                            "constants")
    choice = Choice(verdicts=tuple(verdicts), constraints=constraints, timesteps=counts.timesteps,
                    timestep_s=counts.timestep_s, input_duration_s=D, source=source, task=task, stability=stab,
                    notes=_task_notes(task) + tuple(notes))
    return _finish(choice, strict)


def choose_from_workload(workload, constraints: Constraints, *, chips: list[str] | None = None,
                         limit: int | None = None, seed: int = 0, data_dir: str | Path | None = None,
                         metric: str | None = None, draws: int = DEFAULT_DRAWS, strict: bool = True,
                         backend: str = REFERENCE_BACKEND) -> Choice:
    """Simulate a workload's reference network on its test split and choose for its counts.

    ``workload`` is a registry name or an object following :class:`spikebench.workloads.base.Workload`
    (``load``, ``reference_network``, ``score``). ``seed`` seeds both the data and the stability draws.
    """
    from spikebench import simulate, workloads

    wl = workloads.get_workload(workload) if isinstance(workload, str) else workload
    _check_draws(draws)
    if chips:
        from spikebench.hardware_models import get_chip

        for n in chips:  # named errors before the simulation
            get_chip(n)
    net = wl.reference_network()  # first: a missing network fails before the data is generated or read
    data = wl.load("test", data_dir=Path(data_dir) if data_dir else None, limit=limit, seed=seed)
    result = simulate(net, data.spikes, backend=backend)
    task = pick_metric(wl.score(result.output_spikes, data), task=getattr(wl, "task", ""), metric=metric,
                       data=data.provenance, source=data.source)
    name = getattr(wl, "name", type(wl).__name__)
    src = (f"workload {name}: reference network on {data.spikes.samples} test samples ({data.provenance} data), "
           f"{backend}")
    return choose_from_counts(result.counts, constraints, chips=chips, task=task, draws=draws, seed=seed,
                              source=src, strict=strict)


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
    estimates, task, D, notes = _stored_cell(store, store_dir, workload, rows, chips=chips, metric=metric,
                                             input_duration_s=input_duration_s)
    verdicts = judge(estimates, constraints=constraints, input_duration_s=D, task=task,
                     fill_unknown_slack=FILL_UNKNOWN_SLACK)
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
    """``(estimates, task, input duration, notes)`` of one network's stored rows on one backend."""
    from spikebench import workloads

    estimates = [replace(e, assumptions=_sheet_placeholders(e.chip)) for e in store.estimates(rows, chips)]
    task_rows = rows[rows["kind"] == "task"].to_dict("records")
    task = None
    if task_rows:
        from spikebench.workloads import Metric

        ms = [Metric(name=r["metric"], value=r["value"], low=_opt(r["low"]), high=_opt(r["high"]), note=r["source"])
              for r in task_rows]
        task = pick_metric(ms, task="", metric=metric, data=str(task_rows[0]["data"]), source=f"{store_dir}")
    dur_rows = rows[rows["metric"] == "input_duration_s"]
    notes = []
    if len(dur_rows):
        D = float(dur_rows["value"].iloc[0])
    elif input_duration_s is not None:
        D = float(input_duration_s)
    else:
        one = workloads.get_workload(workload).load("test", limit=1, seed=0).spikes
        D = one.timesteps * one.timestep_s
        notes.append(f"input duration taken from one test sample of {workload}: {one.timesteps} steps x "
                     f"{si(one.timestep_s, 's')}")
    return estimates, task, D, notes


def _choose_networks(store, store_dir, constraints: Constraints, *, workload: str, rows, nets: list[str], chips,
                     metric, input_duration_s, draws: int, seed: int, strict: bool) -> Choice:
    """Every (network, chip) pair of a workload run with several networks, ranked together."""
    from spikebench.core.errors import SpikebenchError
    from spikebench.hardware_models.sensitivity import interval_stability

    entries, verdicts, notes = [], [], []
    for n in nets:
        sub = rows[rows["network"] == n]
        try:
            estimates, task, D, more = _stored_cell(store, store_dir, workload, sub, chips=chips, metric=metric,
                                                    input_duration_s=input_duration_s)
            judged = judge(estimates, constraints=constraints, input_duration_s=D, task=task,
                           fill_unknown_slack=FILL_UNKNOWN_SLACK)
        except SpikebenchError as exc:
            raise type(exc)(f"network {n}: {exc}") from None
        notes += [m for m in more if m not in notes]
        hashes = [h for h in dict.fromkeys(sub["network_hash"]) if h]
        entries.append(NetworkEntry(name=n, network_hash=hashes[0] if hashes else "",
                                    backend=", ".join(sorted(set(sub["backend"]))), input_duration_s=D, task=task))
        verdicts += [replace(v, network=n) for v in judged]
    tasks = {e.name: e.task for e in entries}
    ranked = rank(verdicts, tie=lambda v: -tasks[v.network].value if tasks[v.network] is not None else 0.0)
    front = _pareto({v.label: v for v in ranked if v.feasible and tasks[v.network] is not None}, tasks)
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
    if constraints.min_accuracy is None and best is not None and tasks[best.network] is not None:
        top = max((v for v in feasible if tasks[v.network] is not None),
                  key=lambda v: (tasks[v.network].value, -v.energy_j.nominal))
        if tasks[top.network].value > tasks[best.network].value:
            m = tasks[best.network].metric
            notes.append(f"no --min-accuracy: pairs are ranked by energy alone; the top pair {best.label} has "
                         f"{m} {tasks[best.network].value:.3g}, the most accurate feasible pair {top.label} "
                         f"{tasks[top.network].value:.3g} at {si(top.energy_j.nominal, 'J')} per inference; "
                         "set --min-accuracy to rule out the less accurate networks")
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


def _pareto(verdicts: dict, tasks: dict) -> set[str]:
    """Labels of the feasible pairs no other feasible pair beats in both task metric (higher) and
    nominal energy per inference (lower)."""
    front, best = set(), -math.inf
    for label, v in sorted(verdicts.items(), key=lambda kv: (kv[1].energy_j.nominal, -tasks[kv[1].network].value)):
        if tasks[v.network].value > best:
            front.add(label)
            best = tasks[v.network].value
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
    """Why no (network, chip) pair is feasible: the accuracy bound when it rules out every network,
    else the binding constraint among the networks accurate enough."""
    c = choice.constraints
    ok = [e for e in choice.networks if c.min_accuracy is None or e.task.value >= c.min_accuracy]
    if not ok:
        top = max(choice.networks, key=lambda e: e.task.value)
        t = top.task
        return (f"--min-accuracy {c.min_accuracy:g} rules out every network: the most accurate, {top.name}, has "
                f"{t.metric} {t.value:.3g} ({'synthetic data' if t.synthetic else t.data}); loosen --min-accuracy "
                f"by {c.min_accuracy - t.value:.3g} to {floor_sig(t.value)} or improve the networks")
    names = {e.name for e in ok}
    return infeasibility_message([v for v in choice.verdicts if v.network in names], c, None, choice.input_duration_s,
                                 durations={e.name: e.input_duration_s for e in ok})


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
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 0:
        raise ChooseError(f"--draws must be an integer >= 0 (0 skips the stability sampling), got {draws!r}")


def _opt(v):
    return None if v is None or (isinstance(v, float) and v != v) else float(v)


__all__ = ["DEFAULT_DRAWS", "FILL_UNKNOWN_SLACK", "choose_from_counts", "choose_from_results", "choose_from_workload",
           "pick_metric"]
