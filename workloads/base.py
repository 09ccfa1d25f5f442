"""What a workload is to the harness (data in, a reference network, a score out), and the one
skeleton every workload shares.

A workload turns its dataset (real files, or the offline generator's files in the same format)
into binned spikes for one split, ships a trained reference network, and scores a simulation's
output spikes with its task metric. It imports only ``spikebench.core``.

:class:`WorkloadBase` holds the flow that is the same for every workload: where the data comes
from (:meth:`~WorkloadBase.source`: data directory, else the offline generator's cached data;
provenance; ``require_real``), binning the chosen samples into a :class:`WorkloadData`
(:meth:`~WorkloadBase.load`), the shipped reference network, and the logistic-regression
baseline fitted once per train split and cached by the train data's content hash. A workload supplies only what differs: its
sub-folder and "where to put the files" text, its provenance check (``detect``), its generator
(``generator_module``, ``_generate``), its reader (``_read``) and its task metrics (``_task_metrics``,
``_baseline_metric``, ``evaluate``).
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from spikebench.core import InvalidSpikesError, Network, SpikeTrain
from spikebench.core.errors import SpikebenchError, one_line

from . import data as D
from . import metrics as M
from .metrics import LinearBaseline

PROVENANCE_TAGS = ("synthetic", "real-sample", "real-full")
NETWORKS_DIR = Path(__file__).resolve().parent / "networks"
SYNTHETIC_NOTE = ("SYNTHETIC data: results must never be presented as comparable to published numbers "
                  "on the real dataset (datasets reference section 4)")


@dataclass(frozen=True, kw_only=True, eq=False)
class WorkloadData:
    """One split of a workload, ready to simulate.

    Attributes:
        spikes: binned input spikes, one sample per item to score.
        labels: int ``(samples,)``: the class (classification) or 1 = anomalous beat (anomaly).
        provenance: ``synthetic``, ``real-sample`` or ``real-full`` (see datasets reference §3.5).
        source: where the data came from (folder, files, generator and seed).
        extra: task-specific arrays (e.g. beat times for ECG latency).
    """

    spikes: SpikeTrain
    labels: np.ndarray
    provenance: str
    source: str
    extra: dict = field(default_factory=dict)
    #: what scoring derives from this split and nothing else (the baseline's metric on it), kept so that
    #: scoring the float and every deployed network on one split computes it once
    derived: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.provenance not in PROVENANCE_TAGS:
            raise InvalidSpikesError(f"provenance must be one of {PROVENANCE_TAGS}, got {self.provenance!r}")
        if len(self.labels) != self.spikes.samples:
            raise InvalidSpikesError(f"{len(self.labels)} labels for {self.spikes.samples} samples")


@dataclass(frozen=True, kw_only=True)
class Metric:
    """A task metric value with its unit (``"1"`` for fractions) and optional interval."""

    name: str
    value: float
    unit: str = "1"
    low: float | None = None
    high: float | None = None
    note: str = ""


class Workload(Protocol):
    name: str
    task: str  # "classification" or "anomaly"

    def load(self, split: str, *, data_dir: Path | None = None, require_real: bool = False,
             limit: int | None = None, seed: int = 0) -> WorkloadData:
        ...

    def reference_network(self) -> Network:
        ...

    def check_network(self, net: Network, *, label: str = "the network") -> None:
        """Raise a one-line error when ``net`` does not fit the workload (inputs, outputs)."""
        ...

    def score(self, output_spikes: np.ndarray, data: WorkloadData) -> list[Metric]:
        ...


class NetworkMismatchError(SpikebenchError):
    """A network that cannot run on a workload (input geometry, output count, untrained weights)."""


class BinningError(SpikebenchError):
    """An impossible step length or number of steps."""


# ---- notes, shipped networks, cached baselines ---------------------------------------------------


def provenance_note(provenance: str, extra: str = "", *, verified: bool | None = None) -> str:
    """The note every Metric carries: the data provenance first, the synthetic warning when it applies,
    then whether the data's content was checked against checksums (``verified``; None: not known)."""
    parts = [f"data: {provenance}"]
    if provenance == "synthetic":
        parts.append(SYNTHETIC_NOTE)
    elif provenance == "real-sample":
        parts.append("real data, but a subset: not comparable to published full-dataset numbers")
    if verified is True:
        parts.append("data verified against checksums" if provenance != "synthetic"
                     else "data verified against its generator's sha256 manifest")
    elif verified is False:
        parts.append("data NOT verified against published checksums (see the data source line)")
    if extra:
        parts.append(extra)
    return "; ".join(parts)


def data_note(data: WorkloadData, extra: str = "") -> str:
    """:func:`provenance_note` of ``data``, with its verification tag (``data.extra["verified"]``)."""
    return provenance_note(data.provenance, extra, verified=data.extra.get("verified"))


def shipped_paths(workload: str) -> tuple[Path, Path]:
    """``(<workload>.nir, <workload>.json)`` of the reference network shipped in ``workloads/networks/``."""
    return NETWORKS_DIR / f"{workload}.nir", NETWORKS_DIR / f"{workload}.json"


def load_network(nir_path: str | Path) -> Network:
    """A saved reference network: the NIR graph, with the metadata JSON beside it merged into ``metadata``."""
    nir_path = Path(nir_path)
    meta_path = nir_path.with_suffix(".json")
    if not nir_path.is_file():
        raise SpikebenchError(one_line(f"{nir_path}: reference network not found; train it with "
                                       f"'spikebench train {nir_path.stem}'"))
    net = Network.from_nir(nir_path)
    meta = dict(net.metadata)
    if meta_path.is_file():
        try:
            meta.update(json.loads(meta_path.read_text(encoding="utf-8")))
        except ValueError as exc:
            raise SpikebenchError(one_line(f"{meta_path}: not valid JSON ({exc})")) from None
    return Network(layers=net.layers, name=net.name, metadata=meta)


def source_key(*parts) -> str:
    """A short hash naming a cache entry after everything it depends on."""
    return hashlib.sha256("\0".join(str(p) for p in parts).encode()).hexdigest()[:16]


def cached_baseline(cache_file: Path, fit: Callable[[], LinearBaseline]) -> LinearBaseline:
    """The baseline stored at ``cache_file``, fitting (``fit()``) and storing it the first time."""
    if cache_file.is_file():
        try:
            return LinearBaseline.load(cache_file)
        except (OSError, ValueError, KeyError):
            pass
    model = fit()
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        model.save(cache_file)
    except (OSError, SpikebenchError):
        pass  # a read-only cache only costs a refit next time
    return model


# ---- the shared skeleton -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, eq=False)
class RawSplit:
    """What a workload's reader (``_read``) hands back: the chosen samples of one split.

    ``events``: per sample ``(times_s, channels)``, times from the window start; ``total``: the
    samples of the split before ``limit``; ``where``: the file or folder read (for the source line);
    ``unit``: how a sample is called there (``" beats"``); ``source``: the provenance, when reading
    refined it (SHD: a published ``len(labels)``).
    """

    events: list
    labels: np.ndarray
    total: int
    where: Path
    extra: dict = field(default_factory=dict)
    unit: str = ""
    source: D.DataSource | None = None


class WorkloadBase:
    """The skeleton of a workload: data flow, shipped network, cached baseline, score.

    Constructor: ``network_path`` defaults to the network shipped in ``workloads/networks/<name>.nir``;
    ``data_params`` override the generator sizes in ``default_data`` (another cache folder);
    ``with_baseline`` turns the logistic-regression baseline on or off in ``score``.

    Class attributes a workload sets: ``name``, ``task``, ``subdir`` (its sub-folder of the data
    directory), ``where_files`` (which files go there, from where), ``n_channels`` and
    ``input_shape`` (the input geometry a network must take, e.g. N-MNIST ``(2, 34, 34)``),
    ``timestep_s``, ``timesteps``, ``n_outputs``, ``readout``, ``default_data``, ``generator_module``
    (the offline generator, a module of this package), ``baseline_bins`` (sub-windows of the
    baseline's spike-count features).

    Binning: ``timestep_s`` and ``timesteps`` given to the constructor override the workload's
    (many published N-MNIST networks use a few coarse frames: ``timestep_s=0.03, timesteps=10``
    covers the same 300 ms in 10 steps; several events of one channel in one step make one spike).
    """

    name: str
    task: str
    subdir: str
    where_files: str
    n_channels: int
    input_shape: tuple[int, ...]
    timestep_s: float
    timesteps: int
    n_outputs: int
    readout: str
    generator_module: str
    default_data: dict = {}
    baseline_bins: int = 1
    splits: tuple[str, ...] = ("train", "test")

    def __init__(self, *, network_path: str | Path | None = None, data_params: dict | None = None,
                 with_baseline: bool = True, timestep_s: float | None = None, timesteps: int | None = None) -> None:
        self.network_path = Path(network_path) if network_path else shipped_paths(self.name)[0]
        self.data_params = {**self.default_data, **(data_params or {})}
        self.with_baseline = with_baseline
        self._network: Network | None = None
        self._set_binning(timestep_s, timesteps)

    def _set_binning(self, timestep_s, timesteps) -> None:
        """Override the step length and the number of steps (checked; None keeps the workload's)."""
        if timestep_s is not None:
            if isinstance(timestep_s, bool) or not isinstance(timestep_s, (int, float)) or not 0 < timestep_s < 10:
                raise BinningError(f"{self.name}: timestep_s must be a number of seconds in (0, 10), got {timestep_s!r}")
            self.timestep_s = float(timestep_s)
        if timesteps is not None:
            if isinstance(timesteps, bool) or not isinstance(timesteps, (int, np.integer)) or not 1 <= timesteps <= 1_000_000:
                raise BinningError(f"{self.name}: timesteps must be a whole number >= 1, got {timesteps!r}")
            self.timesteps = int(timesteps)

    @property
    def binning(self) -> dict:
        """The step length and steps per sample this instance bins its data with."""
        return {"timestep_s": float(self.timestep_s), "timesteps": int(self.timesteps)}

    def geometry(self) -> str:
        """One line: input shape, binning and outputs (what a network must fit)."""
        shape = "x".join(str(n) for n in self.input_shape)
        return (f"{self.name}: input {shape} ({self.n_channels} channels), {self.timesteps} steps of "
                f"{self.timestep_s * 1e3:g} ms; {self.readout}")

    def check_network(self, net: Network, *, label: str = "the network") -> None:
        """One-line errors when ``net`` cannot run on this workload: input size or shape, output count."""
        shape = "x".join(str(n) for n in self.input_shape)
        if net.n_in != self.n_channels:
            raise NetworkMismatchError(
                f"{label} takes {net.n_in} inputs ({'x'.join(map(str, net.in_shape))}) but {self.name} gives "
                f"{self.n_channels} ({shape}); build it for a {shape} input")
        if len(net.in_shape) == len(self.input_shape) == 3 and tuple(net.in_shape) != tuple(self.input_shape):
            raise NetworkMismatchError(
                f"{label} reads its input as {'x'.join(map(str, net.in_shape))} but {self.name} gives {shape} "
                "(same size, different layout); build it for the workload's layout")
        if len(net.in_shape) == 3 and len(self.input_shape) != 3:
            raise NetworkMismatchError(f"{label} is convolutional over {'x'.join(map(str, net.in_shape))} but "
                                       f"{self.name}'s input is {shape} channels without a 2-D layout")
        if net.n_out != self.n_outputs:
            what = "classes" if self.task == "classification" else "outputs"
            raise NetworkMismatchError(f"{label} has {net.n_out} outputs but {self.name} has {self.n_outputs} {what} "
                                       f"({self.readout})")
        dead = [layer.name for layer in net.layers if not np.any(layer.weight)]
        if dead:
            raise NetworkMismatchError(f"{label}: layer(s) {', '.join(dead)} have only zero weights (untrained?); "
                                       "train the network or check the export")

    def reference_network(self) -> Network:
        if self._network is None:
            self._network = load_network(self.network_path)
        return self._network

    #: other networks this workload ships and can train (``spikebench train <name> --variant V``),
    #: saved as ``workloads/networks/<name>-<V>.nir``
    variants: tuple[str, ...] = ()

    def check_variant(self, variant: str | None) -> None:
        if variant is not None and variant not in self.variants:
            have = ", ".join(self.variants) if self.variants else "none"
            raise SpikebenchError(f"{self.name} has no network variant {variant!r}; its variants: {have}")

    def train_config(self, variant: str | None = None):
        """The training recipe of the reference network (or of a shipped ``variant``)."""
        raise NotImplementedError

    # ---- data ---------------------------------------------------------------------------------

    def where_to_put(self) -> str:
        """One line saying where this workload's real files go (nothing is ever downloaded)."""
        return D.where_to_put(self.subdir, self.where_files)

    def check_split(self, split: str) -> None:
        if split not in self.splits:
            raise D.DataUnavailableError(one_line(
                f"unknown split {split!r}; use {' or '.join(repr(s) for s in self.splits)}"))

    def source(self, split: str, *, data_dir=None, require_real: bool = False, seed: int = 0) -> D.DataSource:
        """Where ``split`` comes from and what it may claim: the data directory (``data_dir``, else
        ``$SPIKEBENCH_DATA``) checked by the workload's ``detect``, else the offline data of generator
        seed ``seed`` (generated once into the cache). ``require_real`` refuses synthetic data."""
        self.check_split(split)
        root = D.data_root(data_dir)
        D.require_data_root(self.name, root, require_real, self.where_to_put())
        if root is None:
            src = self._synthetic(split, int(seed))
        else:
            folder = D.workload_folder(root, self.subdir, self.holds_files, name=self.name, where=self.where_to_put())
            src = self.detect(folder, split)
        if require_real:
            D.refuse_synthetic(self.name, src, self.where_to_put())
        return src

    def load(self, split: str, *, data_dir: Path | None = None, require_real: bool = False,
             limit: int | None = None, seed: int = 0) -> WorkloadData:
        """One split as binned spikes, labels and provenance.

        ``data_dir`` (else ``$SPIKEBENCH_DATA``) points at real files; without it the offline data of
        generator seed ``seed`` is used (0: the data the shipped network was trained and scored on;
        another seed generates another data set into the cache). ``limit`` keeps a ``seed``-drawn
        random subset of that many samples, in file order. ``require_real`` refuses synthetic data.
        """
        src = self.source(split, data_dir=data_dir, require_real=require_real, seed=seed)
        origin = {"data_dir": None if data_dir is None else str(data_dir), "seed": int(seed),
                  "source_path": str(src.path)}
        digest = src.details.get("content_sha256") if src.details.get("verified") else None
        cached = None
        if digest:  # data with a verified manifest: its binned form is cached by content (binned.py)
            from . import binned

            key = binned.cache_key(self.name, digest, split, limit, int(seed), self.n_channels, self.timesteps,
                                   self.timestep_s, self._binning(), sorted(self.data_params.items()))
            cached = binned.cache_path(D.cache_root() / self.name / "binned", key)
            hit = binned.load(cached)
            if hit is not None:
                binned.touch(cached)
                spikes, labels, fields = hit
                provenance, source = fields.pop("_provenance"), fields.pop("_source")
                return WorkloadData(spikes=spikes, labels=labels.astype(np.int64), provenance=provenance,
                                    source=source, extra={**fields, "origin": origin})
        raw = self._read(src, split, limit, int(seed))
        src = raw.source or src
        if raw.total == 0:
            raise D.DataUnavailableError(f"{raw.where}: the {self.name} {split} split holds no samples")
        spikes = SpikeTrain.from_events(raw.events, n=self.n_channels, timesteps=self.timesteps,
                                        timestep_s=self.timestep_s)
        n = len(raw.labels)
        data = WorkloadData(
            spikes=spikes, labels=np.asarray(raw.labels).astype(np.int64), provenance=src.provenance,
            source=f"{src.provenance}: {src.description} at {raw.where} ({split}, {n} of {raw.total}{raw.unit})",
            extra={**raw.extra, "split": split, "verified": bool(src.details.get("verified", False)), "origin": origin})
        if cached is not None:
            fields = {k: v for k, v in data.extra.items() if k != "origin"}
            try:
                binned.save(cached, spikes, data.labels,
                            {**fields, "_provenance": data.provenance, "_source": data.source})
            except (OSError, SpikebenchError, TypeError, ValueError):  # a cache not written only costs time
                pass
        return data

    def _synthetic(self, split: str, seed: int) -> D.DataSource:
        generator, version = self._generator()
        part, params, description = self._synthetic_part(split)
        return D.synthetic_source(
            self.name, part, lambda tmp: self._generate(tmp, part, params, seed), generator=generator,
            version=version, seed=seed, params=params,
            variant=self.data_params if self.data_params != self.default_data else None, description=description)

    def _synthetic_part(self, split: str) -> tuple[str, dict, str]:
        """``(part, params, description)`` of the offline data holding ``split``: by default one part per
        split, of ``data_params["n_<split>"]`` samples (samples of a split do not depend on the other's size)."""
        n = int(self.data_params[f"n_{split}"])
        return split, {"split": split, "n": n}, f"{n} {split} samples"

    def _generator(self) -> tuple[str, object]:
        """``(GENERATOR, GENERATOR_VERSION)`` of the offline generator module (imported when first needed)."""
        module = importlib.import_module(f"{__package__}.{self.generator_module}")
        return module.GENERATOR, module.GENERATOR_VERSION

    # hooks a workload implements

    def _generate(self, tmp: Path, part: str, params: dict, seed: int) -> dict:
        """Write ``part`` of the offline data into the empty folder ``tmp``; returns the generator manifest."""
        raise NotImplementedError

    def holds_files(self, folder: Path) -> bool:
        """Whether ``folder`` itself holds this workload's files (a data directory without the sub-folder)."""
        raise NotImplementedError

    def detect(self, folder: Path, split: str) -> D.DataSource:
        """Provenance of a real-data folder (cheap: file counts and checksums, no decoding)."""
        raise NotImplementedError

    def _read(self, src: D.DataSource, split: str, limit: int | None, seed: int) -> RawSplit:
        """Read ``split`` of ``src`` through the format reader, keeping ``D.subset_indices(total, limit, seed)``."""
        raise NotImplementedError

    # ---- baseline -----------------------------------------------------------------------------

    def baseline_features(self, spikes: SpikeTrain) -> np.ndarray:
        """The baseline's features: spike counts per channel in ``baseline_bins`` sub-windows."""
        return D.binned_counts(spikes, self.baseline_bins)

    def fit_baseline(self, train: WorkloadData) -> LinearBaseline:
        """The baseline fitted on ``train`` (:func:`~spikebench.workloads.metrics.fit_baseline`, seed 0)."""
        return M.fit_baseline(self.baseline_features(train.spikes), train.labels, seed=0)

    def _binning(self) -> tuple:
        """What the binned spikes depend on besides the data (part of the baseline's cache key)."""
        return (self.timesteps, self.timestep_s)

    def baseline(self, data: WorkloadData) -> LinearBaseline:
        """The baseline fitted on the full train split of ``data``'s source (cached).

        The cache is keyed by the **content** of the train data (:meth:`train_content_key`), never by its
        path: new files behind the same ``--data-dir`` (or another folder) give another key, so a baseline
        fitted on old data is never reused."""
        origin = data.extra.get("origin", {})
        content = self.train_content_key(data_dir=origin.get("data_dir"), seed=origin.get("seed", 0))
        key = source_key(self.name, content, data.provenance, self.baseline_bins, *self._binning(),
                         sorted(self.data_params.items()))
        return cached_baseline(
            D.cache_root() / self.name / "baselines" / f"{key}.npz",
            lambda: self.fit_baseline(self.load("train", data_dir=origin.get("data_dir"), seed=origin.get("seed", 0))))

    def train_content_key(self, *, data_dir=None, seed: int = 0) -> str:
        """sha256 of the files the train split is read from: the verified manifest digest of spikebench
        data, else the content of every file of the workload's data folder (:func:`~.data.content_digest`,
        hashed once per process)."""
        src = self.source("train", data_dir=data_dir, seed=seed)
        return str(src.details.get("content_sha256") or D.content_digest(src.path))

    # ---- scoring ------------------------------------------------------------------------------

    def _outputs(self, output_spikes: np.ndarray, data: WorkloadData) -> np.ndarray:
        out = np.asarray(output_spikes)
        if out.ndim != 3 or out.shape[0] != data.spikes.samples or out.shape[2] != self.n_outputs:
            raise InvalidSpikesError(f"{self.name}: output spikes must be (samples={data.spikes.samples}, steps, "
                                     f"{self.n_outputs}), got shape {out.shape}")
        return out

    def score(self, output_spikes: np.ndarray, data: WorkloadData, **options) -> list[Metric]:
        """The task metrics of ``(samples, steps, outputs)`` output spikes on ``data`` (and the baseline's
        headline metric unless ``with_baseline`` is off); ``options`` go to the task metrics."""
        out = self._outputs(output_spikes, data)
        metrics = self._task_metrics(out, data, **options)
        if self.with_baseline:
            key = repr(("baseline_metric", self.name, self.baseline_bins, self._binning(),
                        sorted(self.data_params.items())))
            if key not in data.derived:
                data.derived[key] = self._baseline_metric(self.baseline(data), data)
            metrics.append(data.derived[key])
        return metrics

    def _evaluated_metrics(self, test_outputs: np.ndarray, *, train: WorkloadData, test: WorkloadData,
                           **options) -> dict:
        """``{name: value}`` of the task metrics on ``test`` plus the baseline fitted on ``train``."""
        metrics = {m.name: m.value for m in self._task_metrics(self._outputs(test_outputs, test), test, **options)}
        b = self._baseline_metric(self.fit_baseline(train), test)
        metrics[b.name] = b.value
        return metrics

    def _task_metrics(self, out: np.ndarray, data: WorkloadData, **options) -> list[Metric]:
        raise NotImplementedError

    def _baseline_metric(self, model: LinearBaseline, data: WorkloadData) -> Metric:
        raise NotImplementedError

    def evaluate(self, train_outputs: np.ndarray, test_outputs: np.ndarray, *, train: WorkloadData,
                 test: WorkloadData) -> dict:
        """The held-out evaluation of a trained network from its output spikes on both splits: headline
        ``metric``/``value``, all ``metrics``, train metrics, chance and baseline (the network metadata)."""
        raise NotImplementedError

__all__ = ["PROVENANCE_TAGS", "NETWORKS_DIR", "SYNTHETIC_NOTE", "WorkloadData", "Metric", "Workload", "RawSplit",
           "NetworkMismatchError", "BinningError",
           "WorkloadBase", "provenance_note", "data_note", "shipped_paths", "load_network",
           "source_key", "cached_baseline"]
