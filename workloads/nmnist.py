"""N-MNIST digit classification: a feed-forward SNN 2312 -> 128 -> 10, rate-coded readout.

Data. Real: ``--data-dir DIR`` with ``DIR/N-MNIST/{Train,Test}/<digit>/*.bin`` or
``DIR/N-MNIST/{train,test}.zip`` (read in place). Default: the offline generator
(:mod:`~spikebench.workloads.synth_nmnist`: scikit-learn's handwritten digits moved along the three
saccades in front of an emulated DVS), 3,000 train and 1,000 test samples from disjoint image
pools (1,500 / 297 images; further samples are jittered re-recordings).

Binning. Events map to ``(p * 34 + y) * 34 + x``: **2,312 input channels**; **1 ms steps, 300
steps** (the three saccades take ~315 ms; events after 300 ms, the tail of the third saccade, are
dropped; several events of one pixel and polarity in one ms make one spike).

Readout and tie rule. The class is the output neuron with the most spikes over the 300 steps; a
tie for the top count (a silent output included) is no decision and counts as wrong.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spikebench.core import Network, SpikeTrain

from . import data as D
from .base import Metric, ShippedNetworkWorkload, WorkloadData
from .metrics import accuracy, chance_level
from .training import (
    LayerSpec,
    TrainConfig,
    cached_baseline,
    fit_baseline,
    load_network,
    provenance_note,
    rate_predictions,
    source_key,
)

DEFAULT_DATA = {"n_train": 3000, "n_test": 1000}


class ClassificationMixin:
    """Scoring shared by the classification workloads (accuracy, chance, logistic baseline)."""

    name: str
    n_classes: int
    network_path: Path
    with_baseline: bool
    _network: Network | None

    def reference_network(self) -> Network:
        if self._network is None:
            self._network = load_network(self.network_path)
        return self._network

    def baseline(self, data: WorkloadData):
        """Logistic regression on per-channel input spike counts, fitted on the full train split (cached)."""
        origin = data.extra.get("origin", {})

        def fit():
            tr = self.load("train", data_dir=origin.get("data_dir"), seed=origin.get("seed", 0))
            return fit_baseline(D.binned_counts(tr.spikes), tr.labels, seed=0)

        key = source_key(self.name, origin.get("source_path"), data.provenance, data.spikes.timesteps,
                         data.spikes.timestep_s, sorted(self.data_params.items()))
        return cached_baseline(D.cache_root() / self.name / "baselines" / f"{key}.npz", fit)

    def score(self, output_spikes: np.ndarray, data: WorkloadData) -> list[Metric]:
        out = np.asarray(output_spikes)
        if out.ndim != 3 or out.shape[0] != data.spikes.samples or out.shape[2] != self.n_classes:
            raise D.DataUnavailableError(f"output spikes must be (samples={data.spikes.samples}, steps, "
                                         f"{self.n_classes}), got {out.shape}")
        pred = rate_predictions(out)
        ties = int(np.sum(pred < 0))
        ch = chance_level(data.labels, n_classes=self.n_classes)
        m = [
            Metric(name="accuracy", value=accuracy(pred, data.labels),
                   note=provenance_note(data.provenance, f"rate-coded (most output spikes); {ties} tie(s) for the "
                                        "top count scored as wrong")),
            Metric(name="chance_accuracy", value=ch.majority,
                   note=provenance_note(data.provenance, f"majority class; uniform 1/{ch.n_classes} = {ch.uniform:.3f}")),
        ]
        if self.with_baseline:
            b = self.baseline(data)
            m.append(Metric(name="baseline_accuracy", value=accuracy(b.predict(D.binned_counts(data.spikes)), data.labels),
                            note=provenance_note(data.provenance, "logistic regression on per-channel input spike "
                                                 "counts, fitted on the train split")))
        return m

    def evaluate_trained(self, net: Network, *, train: WorkloadData, test: WorkloadData, seed: int) -> dict:
        from spikebench import simulate

        out = simulate(net, test.spikes, backend="sparse-cpu").output_spikes
        tr_out = simulate(net, train.spikes, backend="sparse-cpu").output_spikes
        self.with_baseline, keep = False, self.with_baseline
        try:
            metrics = {m.name: m.value for m in self.score(out, test)}
        finally:
            self.with_baseline = keep
        base = fit_baseline(D.binned_counts(train.spikes), train.labels, seed=0)
        metrics["baseline_accuracy"] = accuracy(base.predict(D.binned_counts(test.spikes)), test.labels)
        ch = chance_level(test.labels, n_classes=self.n_classes)
        return {"metric": "accuracy", "value": metrics["accuracy"], "metrics": metrics,
                "ties": int(np.sum(rate_predictions(out) < 0)),
                "train_metrics": {"accuracy": accuracy(rate_predictions(tr_out), train.labels)},
                "chance": {"majority": ch.majority, "uniform": ch.uniform},
                "baseline": {"accuracy": metrics["baseline_accuracy"],
                             "model": "logistic regression on log1p per-channel input spike counts (train split)"}}


class NmnistWorkload(ClassificationMixin, ShippedNetworkWorkload):
    """N-MNIST classification; see the module docstring."""

    name = "nmnist"
    task = "classification"
    n_classes = 10
    n_channels = 2312
    timestep_s = 1e-3
    timesteps = 300
    readout = "10 outputs; class = most output spikes (ties: no decision)"
    default_data = DEFAULT_DATA

    def source(self, split: str, *, data_dir=None, require_real: bool = False, seed: int = 0) -> D.DataSource:
        if split not in ("train", "test"):
            raise D.DataUnavailableError(f"unknown split {split!r}; use 'train' or 'test'")
        root = D.data_root(data_dir)
        D.require_data_root(self.name, root, require_real)
        if root is None:
            from .synth_nmnist import GENERATOR, GENERATOR_VERSION, generate_nmnist

            n = int(self.data_params[f"n_{split}"])
            src = D.synthetic_source(
                self.name, split,
                lambda tmp: generate_nmnist(tmp, seed=int(seed), **{"n_train": 0, "n_test": 0, f"n_{split}": n}),
                generator=GENERATOR, version=GENERATOR_VERSION, seed=seed, params={"split": split, "n": n},
                variant=self.data_params != DEFAULT_DATA and self.data_params, description=f"{n} {split} samples")
        else:
            folder = D.workload_folder(self.name, root, lambda p: (p / "Train").is_dir() or (p / "Test").is_dir()
                                       or (p / "train.zip").is_file() or (p / "test.zip").is_file())
            src = D.detect_nmnist(folder)
        if require_real:
            D.refuse_synthetic(self.name, src)
        return src

    def load(self, split: str, *, data_dir: Path | None = None, require_real: bool = False,
             limit: int | None = None, seed: int = 0) -> WorkloadData:
        """One split as binned spikes, labels and provenance.

        ``data_dir`` (else ``$SPIKEBENCH_DATA``) points at real files; without it the offline data of
        generator seed ``seed`` is used (0: the data the shipped network was trained and scored on;
        another seed generates another data set into the cache). ``limit`` keeps a ``seed``-drawn
        random subset of that many samples, in file order. ``require_real`` refuses synthetic data.
        """
        from . import nmnist_format as F
        from .readall import read_all

        src = self.source(split, data_dir=data_dir, require_real=require_real, seed=seed)
        folder = src.path
        tree = folder / F.SPLITS[split]
        if tree.is_dir():
            items = F.list_tree(folder, split)
            idx = D.subset_indices(len(items), limit, seed)
            chosen = [items[i] for i in idx]

            def read(it):
                if it[1] is None:
                    raise F.file_error(it[0], "not inside a digit folder <0-9>/, so it has no label")
                return F.read_nmnist_file(it[0], sensor_size=F.SENSOR_SIZE), it[1]

            rows = read_all(chosen, read, what=str(tree), name=lambda it: str(it[0]))
            total = len(items)
        else:
            samples = F.read_split(folder, split)
            idx = D.subset_indices(len(samples), limit, seed)
            rows = [(samples[i].events, samples[i].label) for i in idx]
            total = len(samples)
        if not rows:
            raise D.DataUnavailableError(f"{folder}: the N-MNIST {split} split holds no samples")
        spikes = SpikeTrain.from_events([F.events_to_channels(ev) for ev, _ in rows], n=self.n_channels,
                                        timesteps=self.timesteps, timestep_s=self.timestep_s)
        return WorkloadData(spikes=spikes, labels=np.array([lab for _, lab in rows], dtype=np.int64),
                            provenance=src.provenance,
                            source=f"{src.provenance}: {src.description} at {folder} ({split}, {len(rows)} of {total})",
                            extra={"split": split, "origin": {"data_dir": None if data_dir is None else str(data_dir),
                                                              "seed": int(seed), "source_path": str(folder)}})

    def train_config(self) -> TrainConfig:
        return TrainConfig(layers=(LayerSpec(n_out=128, beta=0.95), LayerSpec(n_out=10, beta=0.9)),
                           epochs=6, batch_size=64, lr=2e-3, init_gain=(1.0, 1.0), surrogate_slope=10.0)


__all__ = ["NmnistWorkload", "ClassificationMixin", "DEFAULT_DATA"]
