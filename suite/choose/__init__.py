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
  ``auroc`` for anomaly detection unless ``metric`` names another) of the network *as each chip holds
  it*: deployed in the chip's numeric format (``spikebench.hardware_models.deploy``) and simulated in
  its arithmetic by ``sparse-cpu`` (``--workload`` does this per chip; a results store keeps it as the
  chip's task row). The chip's estimate comes from that network's counts too; a chip whose numeric
  format cannot hold the network is infeasible (``numeric format: ...``). Each verdict carries its
  :class:`TaskScore` (``basis`` ``deployed``, ``float`` for a chip that runs the float network as is,
  ``float-fallback`` where nothing was deployed: a counts file, or a store written before chips
  deployed the network; then a chip that must re-quantise the weights is flagged, its accuracy may be
  lower). Accuracy measured on synthetic data says so.
* **Placeholders**: a chip whose estimate rests on an unverified placeholder constant (the CPU's 0 W
  idle power and its throughput) is ranked like the others but flagged, and the best chip with cited
  constants only is named beside the choice (``Choice.best_cited``).
* **Stability**: :func:`spikebench.hardware_models.sensitivity.rank_stability` samples every constant
  of the feasible chips within its interval (triangular) ``draws`` times and re-ranks by energy (from
  a results store, which keeps no constants, each chip's stored energy interval is sampled instead:
  :func:`~spikebench.hardware_models.sensitivity.interval_stability`); we
  report how often the top choice changes and how often the top two swap. When they swap in at least
  ``NOT_SETTLED_SWAP`` (20 %) of draws the choice is reported as not settled. Stability is computed
  among the chips feasible at nominal constants.

* **Several networks** (a results store where the workload ran with more than one network, e.g.
  ``spikebench run --network my.nir --with-reference``): every (network, chip) pair is judged as above
  with its own task metric (its network deployed on its chip: ``--min-accuracy`` rules out the pairs
  below it) and its network's input duration, and the pairs are ranked together by nominal energy per
  inference (equal energies: higher task metric first). The pairs on the Pareto front of task metric vs energy are
  named, and without ``--min-accuracy`` a note says when a more accurate network is feasible at a
  higher energy. ``network=`` (``--network``) restricts the choice to one network.

Rooms: :mod:`.records` (constraints, verdicts, the choice), :mod:`.judge` (the pure judgement and the
infeasibility message), :mod:`.entry` (from counts, a workload, a results store). The command and its
table output: :mod:`spikebench.cli.choose`.

Impossible or nonsensical constraints raise :class:`ChooseError` (a :class:`SpikebenchError`: one line,
CLI exit 2) that names the constraint ruling every chip out and how far it would need to loosen.
"""

from .entry import (
    DEFAULT_DRAWS,
    FILL_UNKNOWN_SLACK,
    OnChip,
    choose_from_counts,
    choose_from_results,
    choose_from_workload,
    pick_metric,
)
from .judge import infeasibility_message, judge, rank, static_power
from .records import (
    CHOICE_SCHEMA,
    NOT_SETTLED_SWAP,
    ChipVerdict,
    Choice,
    ChooseError,
    Constraints,
    NetworkEntry,
    Stability,
    TaskScore,
)

__all__ = ["CHOICE_SCHEMA", "DEFAULT_DRAWS", "FILL_UNKNOWN_SLACK", "NOT_SETTLED_SWAP", "ChipVerdict", "Choice",
           "ChooseError", "Constraints", "NetworkEntry", "OnChip", "Stability", "TaskScore", "choose_from_counts",
           "choose_from_results", "choose_from_workload", "infeasibility_message", "judge", "pick_metric", "rank",
           "static_power"]
