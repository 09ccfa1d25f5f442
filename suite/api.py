"""The Python entry point: ``spikebench.simulate``."""

from __future__ import annotations

from .backends import SimulationResult, get_backend
from .core.errors import InvalidNetworkError
from .core.network import Network
from .core.spikes import as_spike_train


def simulate(network: Network, spikes, backend: str = "sparse-cpu", device: str | None = None, *,
             record: bool = False, timestep_s: float | None = None, **options) -> SimulationResult:
    """Simulate ``network`` on ``spikes`` with the named backend.

    Args:
        network: a :class:`~spikebench.Network`.
        spikes: a :class:`~spikebench.SpikeTrain`, or a binary raster ``(samples, T, n_in)`` / ``(T, n_in)``.
        backend: ``"sparse-cpu"`` (event-driven reference) or ``"snntorch"``.
        device: ``None``/``"cpu"``, or a CUDA device such as ``"cuda"`` (snnTorch only).
        record: also return every layer's spike raster in ``result.layer_spikes``.
        timestep_s: seconds one step stands for, when ``spikes`` is a raster (default 1 ms).
        options: backend options (``threads`` for sparse-cpu; ``batch_size`` for snntorch).
    """
    if not isinstance(network, Network):
        raise InvalidNetworkError(f"expected a spikebench Network, got {type(network).__name__}")
    impl = get_backend(backend)
    train = as_spike_train(spikes, timestep_s=timestep_s)
    return impl.simulate(network, train, device=device, record=record, **options)


def benchmark(model=None, workload: str = "nmnist", *, backends=("sparse-cpu",), chips="all", out=None,
              name: str | None = None, timestep_s: float | None = None, timesteps: int | None = None,
              with_reference: bool = False, limit: int | None = None, seed: int = 0, data_dir=None,
              require_real: bool = False, device: str | None = None, progress: bool = False):
    """Put your own network through a standard workload, every backend and every chip model.

    Args:
        model: a :class:`~spikebench.Network`; a NIR graph (path to a ``.nir`` file, or a
            ``nir.NIRGraph``); an snnTorch ``nn.Module`` (an ``nn.Sequential`` is read module by
            module, any other module through snnTorch's NIR exporter); a list of these (several
            networks on one workload); or ``None`` for the workload's shipped reference network.
        workload: ``"nmnist"``, ``"shd"`` or ``"ecg-anomaly"`` (or a list of them).
        backends: simulators to run on (``"sparse-cpu"``, ``"snntorch"``).
        chips: ``"all"`` or a list of chip names.
        out: a results folder to append to (kept; ``spikebench report`` reads it); default a
            temporary folder, removed afterwards.
        name: row label (or one per model); default the network's name.
        timestep_s, timesteps: binning, overriding the network's metadata and the workload's own.
        with_reference: also run the workload's shipped reference network, for comparison.
        limit, seed, data_dir, require_real, device: as ``spikebench run``.

    Returns:
        The tidy results frame of this run (one row per workload x network x backend x chip x
        metric; columns as :data:`spikebench.results.COLUMNS`).

    Shape or class-count mismatches, unsupported layers and untrained (NaN, all-zero) weights are
    one-line :class:`~spikebench.SpikebenchError` subclasses raised before any work starts.
    """
    import tempfile

    from .core.errors import SpikebenchError
    from .hardware_models import resolve_chips
    from .harness import REFERENCE, RunConfig, run
    from .models import NetworkChoice, as_network
    from .results import ResultsStore
    from .workloads import get_workload

    workloads = (workload,) if isinstance(workload, str) else tuple(workload)
    if not workloads:
        raise SpikebenchError("name at least one workload")
    models = [] if model is None else (list(model) if isinstance(model, (list, tuple)) else [model])
    names = [] if name is None else ([name] if isinstance(name, str) else list(name))
    if len(names) > max(len(models), 1) or (names and not models):
        raise SpikebenchError(f"{len(names)} name(s) for {len(models)} model(s); give one name per model")
    in_shape = tuple(get_workload(workloads[0]).input_shape)
    choices = [REFERENCE] if with_reference or not models else []
    for k, m in enumerate(models):
        net, binning, path = as_network(m, in_shape=in_shape)
        choices.append(NetworkChoice(name=names[k] if k < len(names) else net.name, network=net, path=path,
                                     binning=binning))
    backends = (backends,) if isinstance(backends, str) else tuple(backends)
    chip_names = tuple(resolve_chips(chips if isinstance(chips, str) else ",".join(chips)))
    cfg = RunConfig(workloads=workloads, backends=backends, chips=chip_names, device=device, seed=seed, limit=limit,
                    data_dir=None if data_dir is None else str(data_dir), require_real=require_real,
                    networks=tuple(choices), timestep_s=timestep_s, timesteps=timesteps)
    with tempfile.TemporaryDirectory(prefix="spikebench-") as tmp:
        folder = out if out is not None else f"{tmp}/results"
        run_id, _ = run(cfg, folder, progress=progress)
        frame = ResultsStore(folder).open(create=False).frame(latest_only=False)
        return frame[frame["run_id"] == run_id].reset_index(drop=True)
