"""What the shipped networks cost and how well they do, per commit: task error, events, spikes, and each
chip's modelled energy and latency per inference (``track_*``, all quantities where up is worse).

Computed once per commit and environment (``setup_cache``) by ``spikebench.benchmark``, the call behind
``spikebench run``: each shipped network on its workload's seeded offline test split (1,000 samples,
synthetic data; never a user's real data directory), the sparse-cpu backend, every chip model (each
chip's rows come from the network deployed in its numeric format). Deterministic: the same commit
gives the same numbers on any machine, so a change in a graph is a change in the code or a network.
"""

from __future__ import annotations

from ._shared import need, synthetic_only

# (row label, workload, shipped network file or None for the workload's reference network)
NETWORKS = {
    "nmnist": ("nmnist", None),
    "nmnist-csnn": ("nmnist", "nmnist-csnn"),
    "shd": ("shd", None),
    "ecg-anomaly": ("ecg-anomaly", None),
}
CHIP_NAMES = ["loihi", "loihi2", "truenorth", "spinnaker2", "akida", "cpu", "gpu"]
# the task metric of each workload, in [0, 1], higher better: its error is 1 - metric
TASK_METRIC = {"nmnist": "accuracy", "shd": "accuracy", "ecg-anomaly": "auroc"}


def _all_rows() -> dict:
    """{(network, chip, metric): value} over every shipped network (chip "" for the float network)."""
    synthetic_only()
    benchmark = need("spikebench", "benchmark")
    networks_dir = need("spikebench.workloads.base", "NETWORKS_DIR")
    rows = {}
    for label, (workload, shipped) in NETWORKS.items():
        model = None if shipped is None else str(networks_dir / f"{shipped}.nir")
        if model is not None and not (networks_dir / f"{shipped}.nir").exists():
            continue
        frame = benchmark(model, workload=workload, chips="all", seed=0)
        frame = frame[frame["backend"] == "sparse-cpu"]
        if "data" in frame and not (frame["data"] == "synthetic").all():
            raise RuntimeError(f"{label}: tracked on non-synthetic data ({sorted(set(frame['data']))})")
        for r in frame.itertuples(index=False):
            rows[(label, r.chip or "", r.metric)] = float(r.value)
    return rows


def _value(rows: dict, network: str, chip: str, metric: str) -> float:
    try:
        return rows[(network, chip, metric)]
    except KeyError:
        raise NotImplementedError(f"no {metric} row for {network} on {chip or 'the float network'}: the chip cannot hold it, or this commit predates the row") from None


class _Shipped:
    """Base of the track classes: one ``setup_cache`` function, so asv computes the rows once per commit
    for all of them (asv keys a cache by the function's source line)."""

    timeout = 900

    def setup_cache(self):
        return _all_rows()


class Task(_Shipped):
    """Per shipped network (float weights, the sparse-cpu reference): task error and activity."""

    params = (list(NETWORKS),)
    param_names = ["network"]
    version = "1"

    def setup(self, rows, network):
        _value(rows, network, "", "synaptic_events_per_inference")

    def track_error(self, rows, network):
        """1 - accuracy (N-MNIST, SHD) or 1 - AUROC (ECG anomaly) on the seeded offline test split."""
        return 1.0 - _value(rows, network, "", TASK_METRIC[NETWORKS[network][0]])

    track_error.unit = "1 - metric"

    def track_synaptic_events(self, rows, network):
        """Synaptic events per inference (spikes arriving on non-zero synapses), mean over the test split."""
        return _value(rows, network, "", "synaptic_events_per_inference")

    track_synaptic_events.unit = "events"

    def track_spikes(self, rows, network):
        """Spikes emitted by the network's neurons per inference (input spikes not included)."""
        return _value(rows, network, "", "spikes_per_inference")

    track_spikes.unit = "spikes"


class Chip(_Shipped):
    """Per shipped network and chip model: nominal modelled energy and latency per inference, from the
    counts of the network deployed in the chip's numeric format (where a chip cannot hold the network,
    the estimate of the float network's counts that ``run`` reports beside the reason)."""

    params = (list(NETWORKS), CHIP_NAMES)
    param_names = ["network", "chip"]
    version = "1"

    def setup(self, rows, network, chip):
        _value(rows, network, chip, "energy_j")

    def track_energy(self, rows, network, chip):
        """Nominal modelled energy per inference at the chip model's stated boundary."""
        return _value(rows, network, chip, "energy_j")

    track_energy.unit = "J"

    def track_latency(self, rows, network, chip):
        """Nominal modelled latency per inference."""
        return _value(rows, network, chip, "latency_s")

    track_latency.unit = "s"


class DeployedTask(_Shipped):
    """Per shipped network and chip model: the task error of the network as deployed in the chip's
    numeric format, as the chip computes it (skipped where the chip cannot hold the network)."""

    params = (list(NETWORKS), CHIP_NAMES)
    param_names = ["network", "chip"]
    version = "1"

    def setup(self, rows, network, chip):
        _value(rows, network, chip, TASK_METRIC[NETWORKS[network][0]])

    def track_deployed_error(self, rows, network, chip):
        """1 - task metric (accuracy or AUROC) of the deployed network on the seeded offline test split."""
        return 1.0 - _value(rows, network, chip, TASK_METRIC[NETWORKS[network][0]])

    track_deployed_error.unit = "1 - metric"
