"""The judgement (pure): each chip estimate against the constraints, the ranking, and the one-line
message that names the constraint ruling every chip out. Definitions: :mod:`spikebench.choose`."""

from __future__ import annotations

import math
from dataclasses import replace

from spikebench.core.units import ceil_sig, floor_sig, si
from spikebench.hardware_models import Interval

from .records import ChipVerdict, ChooseError, Constraints, TaskScore

_REL_TOL = 1e-9  # float slack on comparisons with budgets and the input duration
_REQUANT_MARKERS = ("quantis", "estimated at")  # how the chip models word a weight-precision change


def static_power(energy_static_j: Interval, latency_s: Interval, widened: float = 1.0) -> Interval:
    """``E_static / L`` at each end (0 where a latency is 0); exact over the constants' intervals (pass
    :meth:`Estimate.constants_interval`), because static power and timing depend on different constants in
    every model; then each side widened to at least ``widened`` from nominal (the estimate's interval rule,
    :mod:`spikebench.hardware_models.regime`)."""
    def div(a, b):
        return a / b if b > 0 else 0.0

    nom = div(energy_static_j.nominal, latency_s.nominal)
    lo, hi = div(energy_static_j.low, latency_s.low), div(energy_static_j.high, latency_s.high)
    return Interval(low=min(lo, nom, nom / widened), nominal=nom, high=max(hi, nom, nom * widened))


def _check_budget(what: str, value: Interval, budget: float | None, unit: str, reasons: list,
                  notes: list) -> float | None:
    """Compare an interval quantity with its budget: a reason when the nominal value is over it, a
    note when only the high end is; returns the margin (budget - nominal), or None without a budget."""
    if budget is None:
        return None
    margin = budget - value.nominal
    if value.nominal > budget * (1 + _REL_TOL):
        reasons.append(f"{what} {si(value.nominal, unit)} over budget {si(budget, unit)} by {si(-margin, unit)}")
    elif value.high > budget:
        notes.append(f"{what} could reach {si(value.high, unit)} at the high end of the constants' intervals, "
                     f"over the {si(budget, unit)} budget")
    return margin


def judge(estimates, *, constraints: Constraints, input_duration_s: float, task: TaskScore | None = None,
          fill_ticks: dict[str, int] | None = None, timesteps: int | dict[str, int] | None = None,
          static_power_w: dict[str, Interval] | None = None, fill_unknown_slack: float = 0.0,
          chip_tasks: dict[str, TaskScore | None] | None = None) -> list[ChipVerdict]:
    """Judge each chip estimate (:class:`spikebench.hardware_models.Estimate`) against ``constraints``.

    ``task`` is the float network's task metric; ``chip_tasks[chip]`` (where given) the chip's own, as
    measured on the network deployed in its numeric format (:class:`TaskScore` ``basis``), which
    ``--min-accuracy`` is compared with (``None``: the chip holds no network to score; it is infeasible
    already). A chip without an entry is judged on ``task``.
    ``fill_ticks[chip]`` (pipeline ticks a tick-paced chip adds after the input, with ``timesteps``,
    one number or one per chip) turns latency into sustained time per input; without it the latency is
    used as is (conservative). ``static_power_w[chip]`` overrides the static power otherwise recovered
    as ``E_static / L``. ``fill_unknown_slack`` (results stores, which keep no pipeline fill): a chip over
    the input duration by at most this share gets a note instead of an infeasibility reason.
    Returns verdicts ranked: feasible chips by nominal energy per inference, then infeasible ones.
    """
    if not (math.isfinite(input_duration_s) and input_duration_s > 0):
        raise ChooseError(f"input duration must be > 0 s, got {input_duration_s!r}")
    c = constraints
    D = input_duration_s
    tasks = chip_tasks or {}
    if c.min_accuracy is not None and task is None and not any(t is not None for t in tasks.values()):
        raise ChooseError("--min-accuracy needs the network's task metric: choose with --workload or --results, "
                          "or state it with --accuracy")
    out = []
    for e in estimates:
        Ed, L = e.energy_dynamic_j, e.latency_s
        ps = (static_power_w or {}).get(e.chip) or static_power(e.constants_interval("energy_static_j"),
                                                                 e.constants_interval("latency_s"), e.widened)
        power = Interval(low=c.duty_cycle * Ed.low / D + ps.low, nominal=c.duty_cycle * Ed.nominal / D + ps.nominal,
                         high=c.duty_cycle * Ed.high / D + ps.high)
        fill = (fill_ticks or {}).get(e.chip, 0)
        steps = timesteps.get(e.chip) if isinstance(timesteps, dict) else timesteps
        sustained = L.nominal * steps / (steps + fill) if fill and steps else L.nominal
        t = tasks[e.chip] if e.chip in tasks else task
        requant = any(m in r for r in e.reasons for m in _REQUANT_MARKERS)
        reasons, notes = [], []
        if not e.feasible:
            reasons.append("mapping infeasible: " + "; ".join(e.reasons) if e.reasons else "mapping infeasible")
        else:
            notes.extend(e.reasons)
        placeholders = [a for a in e.assumptions if "placeholder" in a]
        notes.extend(placeholders)
        if e.extrapolated:  # outside the networks the chip's constants came from: intervals widened to x3
            notes.append("estimate extrapolated (its interval widened to x3 each side): " + "; ".join(e.extrapolated))
        keeps_up = sustained <= D * (1 + _REL_TOL)
        if not keeps_up and sustained <= D * (1 + fill_unknown_slack):
            keeps_up = True
            notes.append(f"latency {si(sustained, 's')} exceeds the input duration {si(D, 's')} by "
                         f"{100 * (sustained / D - 1):.2g} %, which may be pipeline fill (not stored): "
                         "counted as keeping up with the stream")
        if not keeps_up:
            reasons.append(f"cannot keep up with the real-time stream: {si(sustained, 's')} per input of "
                           f"{si(D, 's')} ({sustained / D:.3g}x too slow)")
        p_margin = _check_budget("average power", power, c.max_power_w, "W", reasons, notes)
        l_margin = _check_budget("latency", L, c.max_latency_s, "s", reasons, notes)
        if c.min_accuracy is not None and t is not None and t.value < c.min_accuracy:
            reasons.append(f"{_task_words(t)} below {c.min_accuracy:g} by {c.min_accuracy - t.value:.3g}")
        if requant and t is not None and not t.deployed:
            notes.append(f"this chip re-quantises the weights: the {t.metric} ({t.value:.3g}) was measured at "
                         "the network's own precision and may be lower here")
        out.append(ChipVerdict(
            chip=e.chip, title=e.title, boundary=e.boundary, feasible=not reasons, reasons=tuple(reasons),
            notes=tuple(notes), requantised=requant, energy_j=e.energy_j, energy_dynamic_j=Ed,
            energy_static_j=e.energy_static_j, latency_s=L, static_power_w=ps, power_w=power, sustained_s=sustained,
            power_margin_w=p_margin, latency_margin_s=l_margin, cores=e.cores, core_kind=e.core_kind, chips=e.chips,
            mappable=e.feasible, keeps_up=keeps_up, placeholder=bool(placeholders), task=t))
    return rank(out)


def _task_words(t: TaskScore) -> str:
    """``accuracy 0.8 deployed (float 0.95)`` for a deployed metric, ``accuracy 0.9`` otherwise (as before)."""
    return t.short() if t.deployed else f"{t.metric} {t.value:.3g}"


def rank(verdicts, tie=None) -> list[ChipVerdict]:
    """Feasible verdicts first by nominal energy per inference (then ``tie(v)``, lower first, then the
    given order), numbered 1..; infeasible ones after them, unnumbered."""
    out = list(verdicts)
    order = sorted(range(len(out)), key=lambda i: (not out[i].feasible, out[i].energy_j.nominal,
                                                   tie(out[i]) if tie else 0, i))
    ranked, k = [], 0
    for i in order:
        v = out[i]
        if v.feasible:
            k += 1
        ranked.append(replace(v, rank=k if v.feasible else None))
    return ranked


def infeasibility_message(verdicts, constraints: Constraints, task: TaskScore | None, input_duration_s: float,
                          *, durations: dict[str, float] | None = None) -> str:
    """One line: which constraint rules every chip out, and how far it would need to loosen.

    Verdicts of (network, chip) pairs name the pair; ``durations`` (network -> input duration) then
    gives each network's input duration, and ``task`` is None (each network's accuracy is judged
    before: :func:`spikebench.choose.entry.choose_from_results`)."""
    c = constraints
    if not verdicts:
        return "no chip to choose from"
    runnable = [v for v in verdicts if v.mappable and v.keeps_up]
    many = any(v.network for v in verdicts)
    if not any(v.mappable for v in verdicts):
        why = "; ".join(f"{v.label}: {v.reasons[0].removeprefix('mapping infeasible: ')}" for v in verdicts)
        return f"no chip can map {'any of the networks' if many else 'this network'} ({why})"
    if not runnable:
        fastest = min((v for v in verdicts if v.mappable), key=lambda v: v.sustained_s)
        D = durations.get(fastest.network, input_duration_s) if durations else input_duration_s
        return (f"no chip keeps up with the real-time stream: an input lasts {si(D, 's')} and the "
                f"fastest mappable {'pair' if many else 'chip'} ({fastest.label}) takes "
                f"{si(fastest.sustained_s, 's')} per input; use a longer timestep_s or a smaller network")
    if c.min_accuracy is not None:
        scored = [v for v in runnable if v.task is not None]
        if task is not None and not scored:
            scored = [replace(v, task=task) for v in runnable]
        accurate = [v for v in scored if v.task.value >= c.min_accuracy]  # as judge() compares
        if scored and not accurate:
            best = max(scored, key=lambda v: v.task.value)
            t = best.task
            data = "synthetic data" if t.synthetic else t.data
            if all(not v.task.deployed for v in scored) and len({v.task.value for v in scored}) == 1:
                what = f"the network's {t.metric} is {t.value:.3g} ({data})"  # one float metric for every chip
            else:
                flt = f", float {t.float_value:.3g}" if t.deployed and t.float_value is not None else ""
                how = "deployed" if t.deployed else ("float network" if t.basis == "float" else "float network's")
                what = (f"the best {t.metric} is {t.value:.3g}, on {best.label} ({how}{flt}; {data}); "
                        f"the {t.metric} of each {'pair' if many else 'chip'} is measured on the network as it "
                        "holds it")
            return (f"--min-accuracy {c.min_accuracy:g} rules out every {'pair' if many else 'chip'}: {what}; "
                    f"loosen --min-accuracy by {c.min_accuracy - t.value:.3g} to {floor_sig(t.value)} or improve "
                    "the network")
        if accurate:
            names = {v.label for v in accurate}
            runnable = [v for v in runnable if v.label in names or v.task is None]

    def needs(v):  # constraint -> value the chip needs (only constraints it violates)
        n = {}
        if c.max_power_w is not None and v.power_w.nominal > c.max_power_w * (1 + _REL_TOL):
            n["power"] = v.power_w.nominal
        if c.max_latency_s is not None and v.latency_s.nominal > c.max_latency_s * (1 + _REL_TOL):
            n["latency"] = v.latency_s.nominal
        return n

    def loosen(what, value, verb=""):
        opt, budget, unit = (("--max-power-mw", c.max_power_w, "W") if what == "power" else
                             ("--max-latency-ms", c.max_latency_s, "s"))
        return f"{opt}{verb} from {budget * 1e3:.4g} to {ceil_sig(value * 1e3)} (by {si(value - budget, unit)})"

    single = {}
    for v in runnable:
        n = needs(v)
        if len(n) == 1:
            (what, value), = n.items()
            if what not in single or value < single[what][1]:
                single[what] = (v.label, value)
    if single:
        parts = []
        for what, (chip, value) in sorted(single.items()):
            opt = "--max-power-mw" if what == "power" else "--max-latency-ms"
            label = "average power" if what == "power" else "latency"
            parts.append(f"{opt} rules out every chip that meets the other constraints: loosen "
                         f"{loosen(what, value)}, the lowest {label} among them ({chip})")
        return "no chip meets the constraints: " + "; or ".join(parts)

    def rel(v):
        n = needs(v)
        return sum((val / (c.max_power_w if w == "power" else c.max_latency_s)) for w, val in n.items())

    closest = min(runnable, key=rel)
    return (f"no chip meets the power and latency constraints together; the closest, {closest.label}, needs "
            + " and ".join(loosen(w, val, " raised") for w, val in sorted(needs(closest).items())))
