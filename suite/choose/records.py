"""The chooser's records: the constraints, the task scores (the float network's, and each chip's on
the network as that chip holds it), one verdict per chip (per (network, chip) pair when a results
store holds several networks for the workload, each described by a :class:`NetworkEntry`), the
stability of the ranking, and the answer (:class:`Choice`). Units: energies J per inference, power W,
times s."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from spikebench.core.errors import SpikebenchError
from spikebench.core.units import percent, si
from spikebench.hardware_models import Interval

CHOICE_SCHEMA = "spikebench.choice/1"
NOT_SETTLED_SWAP = 0.2  # top two swap in at least this share of draws -> "not settled"


class ChooseError(SpikebenchError):
    """Constraints that are nonsensical or that no chip can meet (one line; CLI exit 2)."""

    def __init__(self, message: str, choice: Choice | None = None) -> None:
        super().__init__(message)
        self.choice = choice  # the full evaluation, for API users, when there was one


def _real(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v)


def _cli_value(name: str, v):
    """A value in SI units as the CLI option ``name`` states it (``-mw``, ``-ms``: thousandths)."""
    if _real(v) and name.endswith(("-mw", "-ms")):
        return f"{v * 1e3:.4g}"
    return v


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
            parts.append(f"average power <= {si(self.max_power_w, 'W')} at duty cycle {self.duty_cycle:g}")
        else:
            parts.append(f"duty cycle {self.duty_cycle:g} (power unconstrained)")
        if self.max_latency_s is not None:
            parts.append(f"latency <= {si(self.max_latency_s, 's')}")
        if self.min_accuracy is not None:
            parts.append(f"task metric >= {self.min_accuracy:g}")
        return "; ".join(parts)

    def to_dict(self) -> dict:
        return {"max_power_w": self.max_power_w, "max_latency_s": self.max_latency_s,
                "min_accuracy": self.min_accuracy, "duty_cycle": self.duty_cycle}


#: What a task metric was measured on (:attr:`TaskScore.basis`).
BASES = ("float", "deployed", "float-fallback")


@dataclass(frozen=True, kw_only=True)
class TaskScore:
    """A task metric, with the data it was measured on and the network it was measured on.

    ``basis``: ``"float"``, the float network as trained (the network's own metric, and that of a chip
    that runs it as is: cpu, gpu); ``"deployed"``, the network as one chip holds it (its numeric
    format, simulated in its arithmetic; ``float_value`` then holds the float network's value); or
    ``"float-fallback"``, the float network's metric standing in for a chip's where nothing was
    deployed (a counts file, a results store written before chips deployed the network).
    """

    metric: str
    value: float
    data: str = "unknown"  # synthetic / real-sample / real-full / stated (given by the user)
    low: float | None = None
    high: float | None = None
    source: str = ""
    basis: str = "float"
    float_value: float | None = None

    def __post_init__(self) -> None:
        if self.basis not in BASES:
            raise ValueError(f"task basis must be one of {BASES}, got {self.basis!r}")

    @property
    def synthetic(self) -> bool:
        return self.data == "synthetic"

    @property
    def deployed(self) -> bool:
        return self.basis == "deployed"

    def short(self) -> str:
        """``accuracy 0.951 deployed (float 0.969)``, ``accuracy 0.969 (float network)`` or
        ``accuracy 0.969 (float network's; not deployed)``."""
        if self.deployed:
            flt = f" (float {self.float_value:.3g})" if self.float_value is not None else ""
            return f"{self.metric} {self.value:.3g} deployed{flt}"
        if self.basis == "float":
            return f"{self.metric} {self.value:.3g} (float network)"
        return f"{self.metric} {self.value:.3g} (float network's; not deployed)"

    def describe(self) -> str:
        where = {"synthetic": "on synthetic data (not comparable with published numbers)",
                 "stated": "as stated by the user", "real-sample": "on a sample of the real data",
                 "real-full": "on the real test split"}.get(self.data, f"on {self.data} data")
        return f"{self.metric} {self.value:.3g} measured {where}" if self.data != "stated" else \
            f"{self.metric} {self.value:.3g} {where}"

    def to_dict(self) -> dict:
        return {"metric": self.metric, "value": self.value, "low": self.low, "high": self.high, "data": self.data,
                "source": self.source, "basis": self.basis, "float_value": self.float_value}


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
    energy_j: Interval
    energy_dynamic_j: Interval
    energy_static_j: Interval
    latency_s: Interval
    static_power_w: Interval
    power_w: Interval
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
    network: str = ""  # set when several networks are compared: the pair is (network, chip)
    pareto: bool = False  # with several networks: no feasible pair has a higher task metric for less energy
    task: TaskScore | None = None  # the task metric judged for this chip (deployed where it was deployed)
    arithmetic: str = ""  # the chip's numeric format, where the network was deployed on it
    deployment_notes: tuple[str, ...] = ()  # what the deployment changed, one note each

    @property
    def label(self) -> str:
        """``network / chip`` when several networks are compared, else the chip."""
        return f"{self.network} / {self.chip}" if self.network else self.chip

    def to_dict(self) -> dict:
        pair = {"network": self.network, "pareto": self.pareto} if self.network else {}
        return {**pair, "chip": self.chip, "title": self.title, "rank": self.rank, "feasible": self.feasible,
                "reasons": list(self.reasons), "notes": list(self.notes), "requantised": self.requantised,
                "boundary": self.boundary, "cores": self.cores, "core_kind": self.core_kind, "chips": self.chips,
                "energy_j": self.energy_j.to_dict(), "energy_dynamic_j": self.energy_dynamic_j.to_dict(),
                "energy_static_j": self.energy_static_j.to_dict(), "latency_s": self.latency_s.to_dict(),
                "static_power_w": self.static_power_w.to_dict(), "power_w": self.power_w.to_dict(),
                "sustained_s": self.sustained_s, "power_margin_w": self.power_margin_w,
                "latency_margin_s": self.latency_margin_s, "mappable": self.mappable, "keeps_up": self.keeps_up,
                "placeholder": self.placeholder, "task": None if self.task is None else self.task.to_dict(),
                "arithmetic": self.arithmetic, "deployment_notes": list(self.deployment_notes)}


@dataclass(frozen=True, kw_only=True)
class Stability:
    draws: int
    seed: int
    method: str  # "constants" (from counts) or "stored-intervals" (approximation from a results store)
    ranking: tuple[str, ...]
    top_changed: float  # share of draws, 0..1
    ranking_changed: float
    top_two_swap: float | None  # None with fewer than two feasible chips

    @classmethod
    def of(cls, rs, method: str) -> Stability:
        """From a :class:`spikebench.hardware_models.sensitivity.RankStability`."""
        return cls(draws=rs.draws, seed=rs.seed, method=method, ranking=tuple(rs.nominal_ranking),
                   top_changed=float(rs.top_changed), ranking_changed=float(rs.ranking_changed),
                   top_two_swap=float(rs.pair_swaps[0][2]) if rs.pair_swaps else None)

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
                   f"NOT settled: {a} and {b} swap in {percent(self.top_two_swap)} of draws; the constants' "
                   "intervals cannot separate them")
        return (f"over {self.draws} draws (seed {self.seed}) of {how}, the top choice ({top}) changes in "
                f"{percent(self.top_changed)} of draws and the full ranking in {percent(self.ranking_changed)}; "
                f"{a} and {b} swap in {percent(self.top_two_swap)}: {verdict}")

    def to_dict(self) -> dict:
        return {"draws": self.draws, "seed": self.seed, "method": self.method, "ranking": list(self.ranking),
                "top_changed_pct": 100 * self.top_changed, "ranking_changed_pct": 100 * self.ranking_changed,
                "top_two_swap_pct": None if self.top_two_swap is None else 100 * self.top_two_swap,
                "settled": self.settled, "not_settled_threshold_pct": 100 * NOT_SETTLED_SWAP,
                "summary": self.describe()}


@dataclass(frozen=True, kw_only=True)
class NetworkEntry:
    """One of several networks compared on a workload (from a results store): its name (a label of
    :meth:`spikebench.results.ResultsStore.label_networks`), content hash, the backend whose rows were
    read, the duration of one input and its own task metric (the float network's; each pair's verdict
    carries its deployed one)."""

    name: str
    network_hash: str
    backend: str
    input_duration_s: float
    task: TaskScore | None = None

    def to_dict(self) -> dict:
        return {"network": self.name, "network_hash": self.network_hash, "backend": self.backend,
                "input_duration_s": self.input_duration_s, "task": None if self.task is None else self.task.to_dict()}


@dataclass(frozen=True, kw_only=True)
class Choice:
    """The chooser's answer: chips ranked (feasible first, by nominal energy per inference).

    ``task`` is the float network's task metric; each verdict's ``task`` is the one judged for its chip
    (the network deployed in that chip's numeric format, :class:`TaskScore` ``basis``).
    With several networks (``networks`` non-empty) the verdicts are (network, chip) pairs ranked alike
    (equal energies: higher task metric first), each judged with its own task metric (its network
    deployed on its chip) and its network's input duration (``NetworkEntry``); ``task`` is then None.
    """

    verdicts: tuple[ChipVerdict, ...]
    constraints: Constraints
    timesteps: int | None
    timestep_s: float | None
    input_duration_s: float
    source: str
    task: TaskScore | None = None
    stability: Stability | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    networks: tuple[NetworkEntry, ...] = ()

    def network(self, name: str) -> NetworkEntry | None:
        return next((e for e in self.networks if e.name == name), None)

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
        many = {}
        if self.networks:
            many = {"networks": [e.to_dict() for e in self.networks],
                    "choice_network": None if self.best is None else self.best.network,
                    "choice_cited_network": None if self.best_cited is None else self.best_cited.network}
        return {"schema": CHOICE_SCHEMA, "source": self.source, "constraints": self.constraints.to_dict(),
                "timesteps": self.timesteps, "timestep_s": self.timestep_s, "input_duration_s": self.input_duration_s,
                "task": None if self.task is None else self.task.to_dict(),
                "choice": None if self.best is None else self.best.chip,
                "choice_cited": None if self.best_cited is None else self.best_cited.chip,
                "chips": [v.to_dict() for v in self.verdicts],
                "stability": None if self.stability is None else self.stability.to_dict(),
                "notes": list(self.notes), **many}
