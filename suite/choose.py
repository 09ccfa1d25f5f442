"""The chip chooser: which chip for this network under a deployment's power, latency and accuracy budget.

Inputs are a network's counted events (a counts file, a workload's reference network simulated on its
test split with ``sparse-cpu``, or the modelled rows of a results store) and the constraints below.
Every chip model is run on the counts (:mod:`spikebench.hardware_models`); each chip is then judged
feasible or not with *every* reason, and the feasible ones are ranked by energy per inference.

Definitions (per chip; E, L are the chip model's per-inference estimates, each low / nominal / high):

* **Input duration** ``D = timesteps x timestep_s``: the real time one input of the stream lasts
  (the counts' ``timestep_s`` is the real time one step stands for).
* **Energy per inference** ``E = E_dyn + E_static``: the chip model's estimate with each step run as
  fast as the chip computes (``spikebench estimate`` without ``--real-time``). The ranking uses its
  nominal value.
* **Latency** ``L``: the modelled time to process one whole input (as fast as the chip computes;
  TrueNorth and SpiNNaker 2 at their 1 ms tick), compared with ``--max-latency-ms``.
* **Static power** ``P_static = E_static / L`` (the chip's static / floor power at its named
  boundary, recovered from the estimate's fields: the models report static energy as static power
  times the inference time). It is taken from the chip's real-time estimate (each step held to
  ``timestep_s``, so ``L >= D > 0`` and the ratio is defined for a silent network too); from a
  results store, from the stored estimate. Its low / high are ``E_static.low / L.low`` and
  ``E_static.high / L.high``, exact because static power and timing depend on different constants
  in every model.
* **Duty cycle** ``d`` in (0, 1]: the fraction of wall-clock time the system is processing its input
  stream. While it is, inputs arrive back to back, one every ``D`` seconds; the rest of the time no
  input arrives. The chip stays powered throughout (no power gating is modelled), so
  **average power** ``P = d x E_dyn / D + P_static``
  ``= d x (E + P_static x (D - L)) / D + (1 - d) x P_static``:
  during processing each input costs its energy per inference plus static power over the slack
  ``D - L`` until the next input; outside it the chip idles at static power. Low / high combine the
  low / high ends of ``E_dyn`` and ``P_static``. It is compared with ``--max-power-mw``.
* **Keeping up with real time**: whatever the duty cycle, while the stream runs the chip must finish
  one input per input duration: a chip whose sustained time per input exceeds ``D`` is infeasible for
  streaming. The sustained time is ``L`` less the pipeline-fill ticks a tick-paced chip adds after the
  input ends (TrueNorth's layer and merge / splitter stages), which delay the answer but not the next
  input. A results store keeps no fill: there a chip at most ``FILL_UNKNOWN_SLACK`` (5 %) over ``D``
  passes with a note.
* **Accuracy** (``--min-accuracy``) is the workload's task metric (``accuracy`` for classification,
  ``auroc`` for anomaly detection unless ``metric`` names another) of the simulated network. A chip model
  does not change it; a chip that must re-quantise the weights is flagged (its accuracy may be lower),
  and accuracy measured on synthetic data says so.
* **Placeholders**: a chip whose estimate rests on an unverified placeholder constant (the CPU's 0 W
  idle power and its throughput) is ranked like the others but flagged, and the best chip with cited
  constants only is named beside the choice (``Choice.best_cited``).
* **Stability**: :func:`spikebench.hardware_models.sensitivity.rank_stability` samples every constant
  of the feasible chips within its interval (triangular) ``draws`` times and re-ranks by energy; we
  report how often the top choice changes and how often the top two swap. When they swap in at least
  ``NOT_SETTLED_SWAP`` (20 %) of draws the choice is reported as not settled. Stability is computed
  among the chips feasible at nominal constants.

Impossible or nonsensical constraints raise :class:`ChooseError` (a :class:`SpikebenchError`: one line,
CLI exit 2) that names the constraint ruling every chip out and how far it would need to loosen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .core.counts import EventCounts
from .core.errors import SpikebenchError, UnknownNameError

CHOICE_SCHEMA = "spikebench.choice/1"
NOT_SETTLED_SWAP = 0.2  # top two swap in at least this share of draws -> "not settled"
DEFAULT_DRAWS = 1000
FILL_UNKNOWN_SLACK = 0.05  # results stores: latency over the input duration by <= 5 % may be pipeline fill
_REL_TOL = 1e-9  # float slack on comparisons with budgets and the input duration
_REQUANT_MARKERS = ("quantis", "estimated at")  # how the chip models word a weight-precision change


class ChooseError(SpikebenchError):
    """Constraints that are nonsensical or that no chip can meet (one line; CLI exit 2)."""

    def __init__(self, message: str, choice: Choice | None = None) -> None:
        super().__init__(message)
        self.choice = choice  # the full evaluation, for API users, when there was one


# ---- records ------------------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class Constraints:
    """A deployment's budget. ``None`` leaves a quantity unconstrained.

    ``max_power_w``: average power in watts; ``max_latency_s``: seconds per input; ``min_accuracy``:
    the task metric, a fraction in [0, 1]; ``duty_cycle``: share of time spent processing, in (0, 1].
    """

    max_power_w: float | None = None
    max_latency_s: float | None = None
    min_accuracy: float | None = None
    duty_cycle: float = 1.0

    def __post_init__(self) -> None:
        def bad(name, v, rule):
            raise ChooseError(f"{name} must be {rule}, got {v}")

        for name, v in (("--max-power-mw", self.max_power_w), ("--max-latency-ms", self.max_latency_s)):
            if v is not None and (not _real(v) or not math.isfinite(v) or v <= 0):
                bad(name, _cli_value(name, v), "a finite number > 0")
        if self.min_accuracy is not None and (not _real(self.min_accuracy) or not 0.0 <= self.min_accuracy <= 1.0):
            bad("--min-accuracy", self.min_accuracy, "in [0, 1] (a fraction, not a percentage)")
        if not _real(self.duty_cycle) or not 0.0 < self.duty_cycle <= 1.0:
            bad("--duty-cycle", self.duty_cycle, "in (0, 1] (the fraction of time spent processing inputs)")

    def describe(self) -> str:
        parts = []
        if self.max_power_w is not None:
            parts.append(f"average power <= {_si(self.max_power_w, 'W')} at duty cycle {self.duty_cycle:g}")
        else:
            parts.append(f"duty cycle {self.duty_cycle:g} (power unconstrained)")
        if self.max_latency_s is not None:
            parts.append(f"latency <= {_si(self.max_latency_s, 's')}")
        if self.min_accuracy is not None:
            parts.append(f"task metric >= {self.min_accuracy:g}")
        return "; ".join(parts)

    def to_dict(self) -> dict:
        return {"max_power_w": self.max_power_w, "max_latency_s": self.max_latency_s,
                "min_accuracy": self.min_accuracy, "duty_cycle": self.duty_cycle}


@dataclass(frozen=True, kw_only=True)
class TaskScore:
    """The network's task metric (chip-independent), with the data it was measured on."""

    metric: str
    value: float
    data: str = "unknown"  # synthetic / real-sample / real-full / stated (given by the user)
    low: float | None = None
    high: float | None = None
    source: str = ""

    @property
    def synthetic(self) -> bool:
        return self.data == "synthetic"

    def describe(self) -> str:
        where = {"synthetic": "on synthetic data (not comparable with published numbers)",
                 "stated": "as stated by the user", "real-sample": "on a sample of the real data",
                 "real-full": "on the real test split"}.get(self.data, f"on {self.data} data")
        return f"{self.metric} {self.value:.3g} measured {where}" if self.data != "stated" else \
            f"{self.metric} {self.value:.3g} {where}"

    def to_dict(self) -> dict:
        return {"metric": self.metric, "value": self.value, "low": self.low, "high": self.high, "data": self.data,
                "source": self.source}


@dataclass(frozen=True, kw_only=True)
class Range:
    """low <= nominal <= high in the unit named by the field holding it."""

    low: float
    nominal: float
    high: float

    def to_dict(self) -> dict:
        return {"low": self.low, "nominal": self.nominal, "high": self.high}


@dataclass(frozen=True, kw_only=True)
class ChipVerdict:
    """One chip judged against the constraints (energies J per inference, power W, times s)."""

    chip: str
    title: str
    boundary: str
    feasible: bool
    reasons: tuple[str, ...]  # every reason it is infeasible (empty when feasible)
    notes: tuple[str, ...]  # what the mapping changed, risks at the ends of the intervals
    requantised: bool
    energy_j: Range
    energy_dynamic_j: Range
    energy_static_j: Range
    latency_s: Range
    static_power_w: Range
    power_w: Range
    sustained_s: float  # time per input in a stream (latency less pipeline fill)
    power_margin_w: float | None  # budget - nominal average power (negative: over budget)
    latency_margin_s: float | None  # budget - nominal latency
    cores: int
    core_kind: str
    chips: int
    mappable: bool
    keeps_up: bool
    placeholder: bool = False  # the estimate rests on an unverified placeholder constant (CPU idle power, ...)
    rank: int | None = None

    def to_dict(self) -> dict:
        return {"chip": self.chip, "title": self.title, "rank": self.rank, "feasible": self.feasible,
                "reasons": list(self.reasons), "notes": list(self.notes), "requantised": self.requantised,
                "boundary": self.boundary, "cores": self.cores, "core_kind": self.core_kind, "chips": self.chips,
                "energy_j": self.energy_j.to_dict(), "energy_dynamic_j": self.energy_dynamic_j.to_dict(),
                "energy_static_j": self.energy_static_j.to_dict(), "latency_s": self.latency_s.to_dict(),
                "static_power_w": self.static_power_w.to_dict(), "power_w": self.power_w.to_dict(),
                "sustained_s": self.sustained_s, "power_margin_w": self.power_margin_w,
                "latency_margin_s": self.latency_margin_s, "mappable": self.mappable, "keeps_up": self.keeps_up,
                "placeholder": self.placeholder}


@dataclass(frozen=True, kw_only=True)
class Stability:
    draws: int
    seed: int
    method: str  # "constants" (rank_stability) or "stored-intervals" (approximation from a results store)
    ranking: tuple[str, ...]
    top_changed: float  # share of draws, 0..1
    ranking_changed: float
    top_two_swap: float | None  # None with fewer than two feasible chips

    @property
    def settled(self) -> bool:
        return bool(self.top_two_swap is None or self.top_two_swap < NOT_SETTLED_SWAP)

    def describe(self) -> str:
        if not self.ranking:
            return "no feasible chip to rank"
        top = self.ranking[0]
        if len(self.ranking) == 1:
            return f"{top} is the only feasible chip: nothing to compare"
        how = ("the chips' constants sampled within their intervals" if self.method == "constants" else
               "each chip's stored energy interval sampled (triangular; an approximation: the store keeps no counts)")
        a, b = self.ranking[0], self.ranking[1]
        verdict = ("settled" if self.settled else
                   f"NOT settled: {a} and {b} swap in {_pct(self.top_two_swap)} of draws; the constants' "
                   "intervals cannot separate them")
        return (f"over {self.draws} draws (seed {self.seed}) of {how}, the top choice ({top}) changes in "
                f"{_pct(self.top_changed)} of draws and the full ranking in {_pct(self.ranking_changed)}; "
                f"{a} and {b} swap in {_pct(self.top_two_swap)}: {verdict}")

    def to_dict(self) -> dict:
        return {"draws": self.draws, "seed": self.seed, "method": self.method, "ranking": list(self.ranking),
                "top_changed_pct": 100 * self.top_changed, "ranking_changed_pct": 100 * self.ranking_changed,
                "top_two_swap_pct": None if self.top_two_swap is None else 100 * self.top_two_swap,
                "settled": self.settled, "not_settled_threshold_pct": 100 * NOT_SETTLED_SWAP,
                "summary": self.describe()}


@dataclass(frozen=True, kw_only=True)
class Choice:
    """The chooser's answer: chips ranked (feasible first, by nominal energy per inference)."""

    verdicts: tuple[ChipVerdict, ...]
    constraints: Constraints
    timesteps: int | None
    timestep_s: float | None
    input_duration_s: float
    source: str
    task: TaskScore | None = None
    stability: Stability | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def feasible(self) -> tuple[ChipVerdict, ...]:
        return tuple(v for v in self.verdicts if v.feasible)

    @property
    def best(self) -> ChipVerdict | None:
        f = self.feasible
        return f[0] if f else None

    @property
    def best_cited(self) -> ChipVerdict | None:
        """The best feasible chip whose estimate rests on no placeholder constant."""
        f = [v for v in self.feasible if not v.placeholder]
        return f[0] if f else None

    def to_dict(self) -> dict:
        return {"schema": CHOICE_SCHEMA, "source": self.source, "constraints": self.constraints.to_dict(),
                "timesteps": self.timesteps, "timestep_s": self.timestep_s, "input_duration_s": self.input_duration_s,
                "task": None if self.task is None else self.task.to_dict(),
                "choice": None if self.best is None else self.best.chip,
                "choice_cited": None if self.best_cited is None else self.best_cited.chip,
                "chips": [v.to_dict() for v in self.verdicts],
                "stability": None if self.stability is None else self.stability.to_dict(),
                "notes": list(self.notes)}


# ---- the judgement (pure) -----------------------------------------------------------------------------

def _check_budget(what: str, value, budget: float | None, unit: str, reasons: list, notes: list) -> float | None:
    """Compare an interval quantity with its budget: a reason when the nominal value is over it, a
    note when only the high end is; returns the margin (budget - nominal), or None without a budget."""
    if budget is None:
        return None
    margin = budget - value.nominal
    if value.nominal > budget * (1 + _REL_TOL):
        reasons.append(f"{what} {_si(value.nominal, unit)} over budget {_si(budget, unit)} by {_si(-margin, unit)}")
    elif value.high > budget:
        notes.append(f"{what} could reach {_si(value.high, unit)} at the high end of the constants' intervals, "
                     f"over the {_si(budget, unit)} budget")
    return margin


def judge(estimates, *, constraints: Constraints, input_duration_s: float, task: TaskScore | None = None,
          fill_ticks: dict[str, int] | None = None, timesteps: int | None = None,
          static_power_w: dict[str, Range] | None = None, fill_unknown_slack: float = 0.0) -> list[ChipVerdict]:
    """Judge each chip estimate (:class:`spikebench.hardware_models.Estimate`) against ``constraints``.

    ``fill_ticks[chip]`` (pipeline ticks a tick-paced chip adds after the input, with ``timesteps``)
    turns latency into sustained time per input; without it the latency is used as is (conservative).
    ``static_power_w[chip]`` overrides the static power otherwise recovered as ``E_static / L``.
    ``fill_unknown_slack`` (results stores, which keep no pipeline fill): a chip over the input duration
    by at most this share gets a note instead of an infeasibility reason.
    Returns verdicts ranked: feasible chips by nominal energy per inference, then infeasible ones.
    """
    if not (math.isfinite(input_duration_s) and input_duration_s > 0):
        raise ChooseError(f"input duration must be > 0 s, got {input_duration_s!r}")
    c = constraints
    D = input_duration_s
    if c.min_accuracy is not None and task is None:
        raise ChooseError("--min-accuracy needs the network's task metric: choose with --workload or --results, "
                          "or state it with --accuracy")
    out = []
    for e in estimates:
        E, Ed, Es, L = (_range(e.energy_j), _range(e.energy_dynamic_j), _range(e.energy_static_j),
                        _range(e.latency_s))
        ps = (static_power_w or {}).get(e.chip) or _static_power(Es, L)
        power = Range(low=c.duty_cycle * Ed.low / D + ps.low, nominal=c.duty_cycle * Ed.nominal / D + ps.nominal,
                      high=c.duty_cycle * Ed.high / D + ps.high)
        fill = (fill_ticks or {}).get(e.chip, 0)
        sustained = L.nominal * timesteps / (timesteps + fill) if fill and timesteps else L.nominal
        requant = any(m in r for r in e.reasons for m in _REQUANT_MARKERS)
        reasons, notes = [], []
        if not e.feasible:
            reasons.append("mapping infeasible: " + "; ".join(e.reasons) if e.reasons else "mapping infeasible")
        else:
            notes.extend(e.reasons)
        placeholders = [a for a in getattr(e, "assumptions", ()) if "placeholder" in a]
        notes.extend(placeholders)
        keeps_up = sustained <= D * (1 + _REL_TOL)
        if not keeps_up and sustained <= D * (1 + fill_unknown_slack):
            keeps_up = True
            notes.append(f"latency {_si(sustained, 's')} exceeds the input duration {_si(D, 's')} by "
                         f"{100 * (sustained / D - 1):.2g} %, which may be pipeline fill (not stored): "
                         "counted as keeping up with the stream")
        if not keeps_up:
            reasons.append(f"cannot keep up with the real-time stream: {_si(sustained, 's')} per input of "
                           f"{_si(D, 's')} ({sustained / D:.3g}x too slow)")
        p_margin = _check_budget("average power", power, c.max_power_w, "W", reasons, notes)
        l_margin = _check_budget("latency", L, c.max_latency_s, "s", reasons, notes)
        if c.min_accuracy is not None and task.value < c.min_accuracy:
            reasons.append(f"{task.metric} {task.value:.3g} below {c.min_accuracy:g} by "
                           f"{c.min_accuracy - task.value:.3g}")
        if requant and task is not None:
            notes.append(f"this chip re-quantises the weights: the {task.metric} ({task.value:.3g}) was measured at "
                         "the network's own precision and may be lower here")
        out.append(ChipVerdict(
            chip=e.chip, title=e.title, boundary=e.boundary, feasible=not reasons, reasons=tuple(reasons),
            notes=tuple(notes), requantised=requant, energy_j=E, energy_dynamic_j=Ed, energy_static_j=Es,
            latency_s=L, static_power_w=ps, power_w=power, sustained_s=sustained, power_margin_w=p_margin,
            latency_margin_s=l_margin, cores=e.cores, core_kind=e.core_kind, chips=e.chips, mappable=e.feasible,
            keeps_up=keeps_up, placeholder=bool(placeholders)))
    order = sorted(range(len(out)), key=lambda i: (not out[i].feasible, out[i].energy_j.nominal, i))
    ranked, k = [], 0
    for i in order:
        v = out[i]
        if v.feasible:
            k += 1
            v = replace(v, rank=k)
        ranked.append(v)
    return ranked


def infeasibility_message(verdicts, constraints: Constraints, task: TaskScore | None, input_duration_s: float) -> str:
    """One line: which constraint rules every chip out, and how far it would need to loosen."""
    c = constraints
    if not verdicts:
        return "no chip to choose from"
    runnable = [v for v in verdicts if v.mappable and v.keeps_up]
    if not any(v.mappable for v in verdicts):
        why = "; ".join(f"{v.chip}: {v.reasons[0].removeprefix('mapping infeasible: ')}" for v in verdicts)
        return f"no chip can map this network ({why})"
    if not runnable:
        fastest = min((v for v in verdicts if v.mappable), key=lambda v: v.sustained_s)
        return (f"no chip keeps up with the real-time stream: an input lasts {_si(input_duration_s, 's')} and the "
                f"fastest mappable chip ({fastest.chip}) takes {_si(fastest.sustained_s, 's')} per input; "
                "use a longer timestep_s or a smaller network")
    if c.min_accuracy is not None and task is not None and task.value < c.min_accuracy:
        return (f"--min-accuracy {c.min_accuracy:g} rules out every chip: the network's {task.metric} is "
                f"{task.value:.3g} ({'synthetic data' if task.synthetic else task.data}); loosen --min-accuracy by "
                f"{c.min_accuracy - task.value:.3g} to {_floor_sig(task.value)} or improve the network")

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
        return f"{opt}{verb} from {_num(budget * 1e3)} to {_ceil_sig(value * 1e3)} (by {_si(value - budget, unit)})"

    single = {}
    for v in runnable:
        n = needs(v)
        if len(n) == 1:
            (what, value), = n.items()
            if what not in single or value < single[what][1]:
                single[what] = (v.chip, value)
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
    return (f"no chip meets the power and latency constraints together; the closest, {closest.chip}, needs "
            + " and ".join(loosen(w, val, " raised") for w, val in sorted(needs(closest).items())))


# ---- entry points -------------------------------------------------------------------------------------

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
    fill = {}
    for n, m in models.items():
        mapping = getattr(m, "mapping", None)
        if mapping is not None:
            fill[n] = int(mapping(profile).extra.get("extra_ticks", 0))
    D = counts.timesteps * counts.timestep_s
    # static power from the real-time estimates (latency >= D > 0 there, so the ratio is defined even
    # when a silent network makes a chip's as-fast-as-possible latency zero)
    statics = {e.chip: _static_power(_range(e.energy_static_j), _range(e.latency_s))
               for e in (m.estimate(profile, counts, real_time=True) for m in models.values())}
    verdicts = judge(estimates, constraints=constraints, input_duration_s=D, task=task, fill_ticks=fill,
                     timesteps=counts.timesteps, static_power_w=statics)
    stab = None
    feasible = [v.chip for v in verdicts if v.feasible]
    if draws and feasible:
        rs = rank_stability(counts, {n: models[n] for n in feasible}, draws=draws, seed=seed)
        stab = Stability(draws=draws, seed=seed, method="constants", ranking=tuple(rs.nominal_ranking),
                         top_changed=float(rs.top_changed), ranking_changed=float(rs.ranking_changed),
                         top_two_swap=float(rs.pair_swaps[0][2]) if rs.pair_swaps else None)
    choice = Choice(verdicts=tuple(verdicts), constraints=constraints, timesteps=counts.timesteps,
                    timestep_s=counts.timestep_s, input_duration_s=D, source=source, task=task, stability=stab,
                    notes=_task_notes(task) + tuple(notes))
    return _finish(choice, strict)


def choose_from_workload(workload, constraints: Constraints, *, chips: list[str] | None = None,
                         limit: int | None = None, seed: int = 0, data_dir: str | Path | None = None,
                         metric: str | None = None, draws: int = DEFAULT_DRAWS, strict: bool = True,
                         backend: str = "sparse-cpu") -> Choice:
    """Simulate a workload's reference network on its test split and choose for its counts.

    ``workload`` is a registry name or an object following :class:`spikebench.workloads.base.Workload`
    (``load``, ``reference_network``, ``score``). ``seed`` seeds both the data and the stability draws.
    """
    from . import simulate

    wl = get_workload(workload) if isinstance(workload, str) else workload
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
                        strict: bool = True) -> Choice:
    """Choose from the modelled and task rows of a results store (``spikebench run --out DIR``).

    The store keeps estimates, not counts: static power comes from the stored fields as everywhere,
    the stream check uses latency as is (pipeline fill unknown), and stability samples each chip's
    stored energy interval (triangular, independent across chips: their constants are) instead of the
    constants. The input duration is read from an ``input_duration_s`` row when the store has one,
    else taken from ``input_duration_s``, else from one test sample of the workload.
    """
    from spikebench.hardware_models import Estimate, Interval, get_chip

    from .results import ResultsStore

    _check_draws(draws)
    frame = ResultsStore(store_dir).open(create=False).frame()
    if frame.empty:
        raise ChooseError(f"{store_dir}: the results store holds no rows; run `spikebench run --out DIR` first")
    workloads = sorted(set(frame["workload"]))
    if workload is None:
        if len(workloads) != 1:
            raise ChooseError(f"{store_dir} holds workloads {', '.join(workloads)}; name one with --workload")
        workload = workloads[0]
    elif workload not in workloads:
        raise UnknownNameError(f"workload {workload!r} is not in {store_dir}; it holds: {', '.join(workloads)}")
    sub = frame[frame["workload"] == workload]
    backends = sorted(set(sub["backend"]))
    if backend is None:
        backend = "sparse-cpu" if "sparse-cpu" in backends else backends[0]
    elif backend not in backends:
        raise UnknownNameError(f"backend {backend!r} has no rows for {workload} in {store_dir}; it has: "
                               f"{', '.join(backends)}")
    sub = sub[sub["backend"] == backend]
    mod = sub[sub["kind"] == "modelled"]
    have = list(dict.fromkeys(mod["chip"]))
    names = list(chips) if chips else have
    for n in names:
        get_chip(n)
        if n not in have:
            raise UnknownNameError(f"chip {n!r} has no estimate for {workload} on {backend} in {store_dir}; "
                                   f"it has: {', '.join(have)}")
    estimates = []
    for n in names:
        rows = {r["metric"]: r for r in mod[mod["chip"] == n].to_dict("records")}
        try:
            iv = {q: Interval(low=float(rows[q]["low"]), nominal=float(rows[q]["value"]), high=float(rows[q]["high"]))
                  for q in ("energy_j", "energy_dynamic_j", "energy_static_j", "latency_s")}
            reasons = tuple(s for s in str(rows["feasible"]["source"] or "").split("; ") if s)
            estimates.append(Estimate(
                chip=n, title=get_chip(n).sheet.title, boundary=str(rows["energy_j"]["source"]), **iv,
                cores=int(rows["cores"]["value"]), core_kind=str(rows["cores"]["unit"]),
                chips=int(rows["chips"]["value"]), feasible=bool(rows["feasible"]["value"]), reasons=reasons,
                assumptions=_sheet_placeholders(n)))
        except (KeyError, TypeError, ValueError) as exc:
            raise ChooseError(f"{store_dir}: incomplete modelled rows for {n} on {workload}/{backend} ({exc})") from None
    task_rows = sub[sub["kind"] == "task"].to_dict("records")
    task = None
    if task_rows:
        ms = [_Metric(r["metric"], r["value"], r["low"], r["high"], r["source"]) for r in task_rows]
        task = pick_metric(ms, task="", metric=metric, data=str(task_rows[0]["data"]), source=f"{store_dir}")
    dur_rows = sub[sub["metric"] == "input_duration_s"]
    notes = []
    if len(dur_rows):
        D = float(dur_rows["value"].iloc[0])
    elif input_duration_s is not None:
        D = float(input_duration_s)
    else:
        one = get_workload(workload).load("test", limit=1, seed=0).spikes
        D = one.timesteps * one.timestep_s
        notes.append(f"input duration taken from one test sample of {workload}: {one.timesteps} steps x "
                     f"{_si(one.timestep_s, 's')}")
    verdicts = judge(estimates, constraints=constraints, input_duration_s=D, task=task,
                     fill_unknown_slack=FILL_UNKNOWN_SLACK)
    feasible = [v for v in verdicts if v.feasible]
    stab = _interval_stability(feasible, draws, seed) if draws and feasible else None
    notes.append("from a results store: the real-time check uses the whole latency (pipeline fill is not stored; "
                 f"up to {100 * FILL_UNKNOWN_SLACK:g} % over the input duration is let pass with a note)")
    choice = Choice(verdicts=tuple(verdicts), constraints=constraints, timesteps=None, timestep_s=None,
                    input_duration_s=D, source=f"results store {store_dir}: {workload} on {backend}", task=task,
                    stability=stab, notes=_task_notes(task) + tuple(notes))
    return _finish(choice, strict)


def get_workload(name: str):
    """The workload registry entry ``name`` (a named error when unknown)."""
    from spikebench import workloads as registry

    getter = getattr(registry, "get_workload", None)
    try:
        if getter is not None:
            return getter(name)
        table = getattr(registry, "WORKLOADS", {})
        if name not in table:
            raise KeyError(name)
        entry = table[name]
        return entry() if isinstance(entry, type) else entry
    except KeyError:
        known = ", ".join(getattr(registry, "WORKLOADS", {})) or "none registered yet"
        raise UnknownNameError(f"unknown workload {name!r}; known workloads: {known}") from None


@dataclass(frozen=True)
class _Metric:
    name: str
    value: float
    low: float | None = None
    high: float | None = None
    note: str = ""


def pick_metric(metrics, *, task: str = "", metric: str | None = None, data: str = "unknown",
                source: str = "") -> TaskScore:
    """The task metric compared with ``--min-accuracy``: ``metric`` if named; else ``accuracy`` for
    classification and ``auroc`` for anomaly detection, else whichever of the two is present."""
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
                             source=getattr(m, "note", "") or source)
    raise ChooseError(f"the workload reports no task metric named {' or '.join(order)}; it has: "
                      f"{', '.join(by) or 'none'}")


# ---- output -------------------------------------------------------------------------------------------

def format_table(choice: Choice) -> str:
    """Human-readable answer: header, one row per chip, reasons and notes, stability, the choice."""
    c = choice.constraints
    lines = [f"spikebench choose: {choice.source}" if choice.source else "spikebench choose"]
    if choice.timesteps is not None:
        lines.append(f"input: {choice.timesteps} steps x {_si(choice.timestep_s, 's')} = "
                     f"{_si(choice.input_duration_s, 's')} per input (real-time stream)")
    else:
        lines.append(f"input: {_si(choice.input_duration_s, 's')} per input (real-time stream)")
    lines.append(f"constraints: {c.describe()}")
    if choice.task is not None:
        lines.append(f"task: {choice.task.describe()}")
    head = ("rank", "chip", "feasible", "E/inference [low - high]", "avg power [low - high]", "power margin",
            "latency [low - high]", "latency margin")
    rows = []
    for v in choice.verdicts:
        rows.append((str(v.rank) if v.rank else "-", v.chip, "yes" if v.feasible else "no",
                     _rng(v.energy_j, "J"), _rng(v.power_w, "W"),
                     "-" if v.power_margin_w is None else _signed(v.power_margin_w, "W"),
                     _rng(v.latency_s, "s"),
                     "-" if v.latency_margin_s is None else _signed(v.latency_margin_s, "s")))
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    right = {0, 3, 4, 5, 6, 7}

    def fmt(r):
        return "  ".join(x.rjust(w) if i in right else x.ljust(w) for i, (x, w) in enumerate(zip(r, widths))).rstrip()

    lines += ["", fmt(head), fmt(tuple("-" * w for w in widths))] + [fmt(r) for r in rows]
    lines.append("")
    for v in choice.verdicts:
        for r in v.reasons:
            lines.append(f"{v.chip}: infeasible: {r}")
    for v in choice.verdicts:
        if v.feasible:
            for n in v.notes:
                lines.append(f"{v.chip}: note: {n}")
    for n in choice.notes:
        lines.append(f"note: {n}")
    if choice.stability is not None:
        lines.append(f"stability: {choice.stability.describe()}")
    best, cited = choice.best, choice.best_cited

    def said(v):
        return (f"{v.chip} ({v.title}): {_si(v.energy_j.nominal, 'J')} per inference, {_si(v.power_w.nominal, 'W')} "
                f"average, {_si(v.latency_s.nominal, 's')} latency")

    if best is not None:
        lines.append(f"choice: {said(best)}")
        if best.placeholder:
            lines.append(f"warning: {best.chip}'s estimate rests on unverified placeholder constants (see its notes); "
                         + (f"the best chip with cited constants: {said(cited)}" if cited else
                            "no feasible chip has only cited constants"))
    lines.append("(energy per inference as fast as each chip runs; average power = duty x E_dynamic / input duration"
                 " + static power; margins = budget - nominal)")
    return "\n".join(lines)


# ---- helpers ------------------------------------------------------------------------------------------

def _finish(choice: Choice, strict: bool) -> Choice:
    feas = choice.feasible
    if len(feas) > 1:
        low = min(feas, key=lambda v: v.power_w.nominal)
        if low is not feas[0]:
            choice = replace(choice, notes=(*choice.notes, (
                f"ranked by energy per inference; by average power at duty cycle {choice.constraints.duty_cycle:g} "
                f"{low.chip} ({_si(low.power_w.nominal, 'W')}) comes before {feas[0].chip} "
                f"({_si(feas[0].power_w.nominal, 'W')}): static power dominates")))
    if strict and not choice.feasible:
        raise ChooseError(infeasibility_message(choice.verdicts, choice.constraints, choice.task,
                                                choice.input_duration_s), choice)
    return choice


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


def _interval_stability(feasible: list[ChipVerdict], draws: int, seed: int) -> Stability:
    rng = np.random.default_rng(seed)
    names = [v.chip for v in feasible]
    nominal = np.array([v.energy_j.nominal for v in feasible])
    order = tuple(names[i] for i in np.argsort(nominal, kind="stable"))
    pos = {n: i for i, n in enumerate(names)}
    changed = top = swap = 0
    for _ in range(draws):
        e = np.array([rng.triangular(v.energy_j.low, v.energy_j.nominal, v.energy_j.high)
                      if v.energy_j.high > v.energy_j.low else v.energy_j.nominal for v in feasible])
        ranking = tuple(names[i] for i in np.argsort(e, kind="stable"))
        changed += ranking != order
        top += ranking[0] != order[0]
        if len(order) > 1:
            swap += e[pos[order[0]]] > e[pos[order[1]]]
    return Stability(draws=draws, seed=seed, method="stored-intervals", ranking=order, top_changed=float(top / draws),
                     ranking_changed=float(changed / draws),
                     top_two_swap=float(swap / draws) if len(order) > 1 else None)


def _static_power(Es: Range, L: Range) -> Range:
    def div(a, b):
        return a / b if b > 0 else 0.0

    nom = div(Es.nominal, L.nominal)
    lo, hi = div(Es.low, L.low), div(Es.high, L.high)
    return Range(low=min(lo, nom), nominal=nom, high=max(hi, nom))


def _range(iv) -> Range:
    return Range(low=float(iv.low), nominal=float(iv.nominal), high=float(iv.high))


def _check_draws(draws) -> None:
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 0:
        raise ChooseError(f"--draws must be an integer >= 0 (0 skips the stability sampling), got {draws!r}")


def _real(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v)


def _opt(v):
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def _cli_value(name: str, v):
    """A value in SI units as the CLI option ``name`` states it (``-mw``, ``-ms``: thousandths)."""
    if _real(v) and name.endswith(("-mw", "-ms")):
        return _num(v * 1e3)
    return v


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.1f} %"


def _num(x: float) -> str:
    return f"{x:.4g}"


def _ceil_sig(x: float, digits: int = 3) -> str:
    """x rounded *up* to ``digits`` significant digits (a budget that is then sure to be enough)."""
    if x <= 0:
        return "0"
    scale = 10 ** (math.floor(math.log10(x)) - digits + 1)
    return f"{math.ceil(x / scale - 1e-9) * scale:.{digits}g}"


def _floor_sig(x: float, digits: int = 3) -> str:
    if x <= 0:
        return "0"
    scale = 10 ** (math.floor(math.log10(x)) - digits + 1)
    return f"{math.floor(x / scale + 1e-9) * scale:.{digits}g}"


_PREFIXES = ((1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f"))


def _si(x: float, unit: str) -> str:
    if x == 0:
        return f"0 {unit}"
    for scale, prefix in _PREFIXES:
        if abs(x) >= scale:
            return f"{x / scale:.3g} {prefix}{unit}"
    return f"{x:.3g} {unit}"


def _signed(x: float, unit: str) -> str:
    return ("+" if x >= 0 else "-") + _si(abs(x), unit)


def _rng(r: Range, unit: str) -> str:
    return f"{_si(r.nominal, unit)} [{_si(r.low, unit)} - {_si(r.high, unit)}]"


__all__ = ["CHOICE_SCHEMA", "NOT_SETTLED_SWAP", "ChipVerdict", "Choice", "ChooseError", "Constraints", "Range",
           "Stability", "TaskScore", "choose_from_counts", "choose_from_results", "choose_from_workload",
           "format_table", "get_workload", "infeasibility_message", "judge", "pick_metric"]
