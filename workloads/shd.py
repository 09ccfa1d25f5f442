"""Spiking Heidelberg Digits: 20 spoken-digit classes, a recurrent SNN 700 -> 128 (recurrent) -> 20.

Data. Real: ``--data-dir DIR`` with ``DIR/SHD/shd_train.h5`` and ``shd_test.h5`` (``.h5.gz`` /
``.h5.zip`` accepted). Default: the offline generator (:mod:`~spikebench.workloads.synth_shd`:
formant-like spectro-temporal trajectories over 700 channels, 12 speakers, speakers 4 and 5 only
in test), 4,000 train and 1,000 test samples.

Binning. **700 input channels** (the cochlea model's units); **10 ms steps, 140 steps** (1.4 s,
the longest SHD utterance; later spikes are dropped; several spikes of one channel in one step
make one spike). Float16 times are upcast before binning (the reader does it).

Readout and tie rule as N-MNIST: most output spikes wins; a tie for the top count is wrong.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spikebench.core import SpikeTrain

from . import data as D
from .base import ShippedNetworkWorkload, WorkloadData
from .nmnist import ClassificationMixin
from .training import LayerSpec, TrainConfig

DEFAULT_DATA = {"n_train": 4000, "n_test": 1000}


class ShdWorkload(ClassificationMixin, ShippedNetworkWorkload):
    """SHD classification; see the module docstring."""

    name = "shd"
    task = "classification"
    n_classes = 20
    n_channels = 700
    timestep_s = 10e-3
    timesteps = 140
    readout = "20 outputs; class = most output spikes (ties: no decision)"
    default_data = DEFAULT_DATA

    def _file(self, split: str, *, data_dir=None, require_real: bool = False, seed: int = 0) -> tuple[Path, D.DataSource | None]:
        if split not in ("train", "test"):
            raise D.DataUnavailableError(f"unknown split {split!r}; use 'train' or 'test'")
        root = D.data_root(data_dir)
        D.require_data_root(self.name, root, require_real)
        if root is None:
            from .synth_shd import GENERATOR, GENERATOR_VERSION, generate_shd

            n = int(self.data_params[f"n_{split}"])
            src = D.synthetic_source(
                self.name, split, lambda tmp: _generate_split(generate_shd, tmp, split, n, int(seed)),
                generator=GENERATOR, version=GENERATOR_VERSION, seed=seed, params={"split": split, "n": n},
                variant=self.data_params != DEFAULT_DATA and self.data_params, description=f"{n} {split} samples")
            return src.path / f"shd_{split}.h5", src
        folder = D.workload_folder(self.name, root, lambda p: D.shd_file(p, "train") is not None
                                   or D.shd_file(p, "test") is not None)
        path = D.shd_file(folder, split)
        if path is None:
            raise D.DataUnavailableError(f"{folder}: no shd_{split}.h5 (.h5.gz, .h5.zip); {D.where_to_put(self.name)}")
        if require_real and D.generator_manifest(folder) is not None:
            D.refuse_synthetic(self.name, D.detect_shd(folder, split))
        return path, None

    def source(self, split: str, *, data_dir=None, require_real: bool = False, seed: int = 0,
               n_samples: int | None = None) -> D.DataSource:
        path, src = self._file(split, data_dir=data_dir, require_real=require_real, seed=seed)
        if src is None:
            src = D.detect_shd(path.parent, split, n_samples)
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
        from .shd_format import read_shd

        path, src = self._file(split, data_dir=data_dir, require_real=require_real, seed=seed)
        data = read_shd(path)
        if src is None:
            src = D.detect_shd(path.parent, split, len(data))
        if require_real:
            D.refuse_synthetic(self.name, src)
        if len(data) == 0:
            raise D.DataUnavailableError(f"{path}: the SHD {split} split holds no samples")
        idx = D.subset_indices(len(data), limit, seed)
        spikes = SpikeTrain.from_events([(data.times_s(int(i)), data.units_of(int(i))) for i in idx],
                                        n=self.n_channels, timesteps=self.timesteps, timestep_s=self.timestep_s)
        return WorkloadData(spikes=spikes, labels=data.labels[idx].astype(np.int64), provenance=src.provenance,
                            source=f"{src.provenance}: {src.description} at {path} ({split}, {len(idx)} of {len(data)})",
                            extra={"split": split, "speaker": None if data.speaker is None else data.speaker[idx],
                                   "origin": {"data_dir": None if data_dir is None else str(data_dir),
                                              "seed": int(seed), "source_path": str(path.parent)}})

    def train_config(self) -> TrainConfig:
        return TrainConfig(layers=(LayerSpec(n_out=128, recurrent=True, beta=(0.8, 0.98)), LayerSpec(n_out=20, beta=0.9)),
                           epochs=8, batch_size=64, lr=2e-3, init_gain=(1.0, 1.0), surrogate_slope=10.0)


def _generate_split(generate_shd, tmp: Path, split: str, n: int, seed: int) -> dict:
    """Write only ``shd_<split>.h5`` (samples of a split do not depend on the other split's size)."""
    m = generate_shd(tmp, n_train=n if split == "train" else 0, n_test=n if split == "test" else 0, seed=seed)
    other = tmp / f"shd_{'test' if split == 'train' else 'train'}.h5"
    other.unlink(missing_ok=True)
    return m


__all__ = ["ShdWorkload", "DEFAULT_DATA"]
