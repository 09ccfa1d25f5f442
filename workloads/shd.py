"""Spiking Heidelberg Digits: 20 spoken-digit classes, a recurrent SNN 700 -> 128 (recurrent) -> 20.

Data. Real: ``--data-dir DIR`` with ``DIR/SHD/shd_train.h5`` and ``shd_test.h5`` (``.h5.gz`` /
``.h5.zip`` accepted). Default: the offline generator (:mod:`~spikebench.workloads.synth_shd`:
formant-like spectro-temporal trajectories over 700 channels, 12 speakers, speakers 4 and 5 only
in test), 4,000 train and 1,000 test samples.

Provenance (:func:`detect_shd`): ``real-full`` needs both split files, and the loaded split's md5
is the published one or its ``len(labels)`` is a published count (train **8,156** or 8,332; test
**2,264** or 2,088: the sources disagree, datasets.md §1.2); anything else real is ``real-sample``.
``verified`` is true only when the split's uncompressed ``.h5`` has the published md5 (a count match
alone makes it real-full but not verified). Labels outside the 20 classes (0..19) are refused.

Binning. **700 input channels** (the cochlea model's units); **10 ms steps, 140 steps** (1.4 s,
the longest SHD utterance; later spikes are dropped; several spikes of one channel in one step
make one spike). Float16 times are upcast before binning (the reader does it).

Readout and tie rule as N-MNIST: most output spikes wins; a tie for the top count is wrong.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import data as D
from .base import RawSplit
from .classification import ClassificationWorkload
from .train_config import LayerSpec, TrainConfig

DEFAULT_DATA = {"n_train": 4000, "n_test": 1000}

#: SHD samples per split: current compneuro.net page, and the older README / norse docstring.
SHD_FULL_COUNTS = {"train": (8_156, 8_332), "test": (2_264, 2_088)}
#: md5 of the uncompressed SHD files (norse 1.1.0 ``norse/dataset/spiking_heidelberg.py``; datasets.md §1.2).
SHD_MD5 = {"train": "8e9877c85f29a28dd353ea6a54402667", "test": "207ad1295a0ab611e22d1734989c254e"}


def shd_file(folder: Path, split: str) -> Path | None:
    """``folder/shd_<split>.h5`` (or ``.h5.gz``, ``.h5.zip``), the first that exists, else None."""
    for ext in (".h5", ".h5.gz", ".h5.zip"):
        p = folder / f"shd_{split}{ext}"
        if p.is_file():
            return p
        if p.exists():  # a folder or FIFO under a split file's name: refused, never opened
            D.require_regular_file(p)
    return None


def detect_shd(folder: Path, split: str, n_samples: int | None = None) -> D.DataSource:
    """Provenance of an SHD folder; ``n_samples`` is ``len(labels)`` of the loaded ``split`` when known."""
    m = D.generator_manifest(folder)
    if m is not None:
        return D.manifest_source(folder, m)
    files = {s: shd_file(folder, s) for s in ("train", "test")}
    counts = {"present": sorted(s for s, p in files.items() if p is not None)}
    if n_samples is not None:
        counts[split] = int(n_samples)
    p = files.get(split)
    md5_ok = p is not None and p.suffix == ".h5" and D.cached_file_digest(p, "md5") == SHD_MD5[split]
    count_ok = n_samples is not None and int(n_samples) in SHD_FULL_COUNTS[split]
    # verified = the published md5 of the uncompressed file (the only published checksum spikebench has)
    check = ("verified: matches the published md5" if md5_ok else
             "not verified: the published md5 is of the uncompressed .h5" if p is not None and p.suffix != ".h5" else
             "not verified: does not match the published md5")
    if all(files.values()) and (md5_ok or count_ok):
        how = "published md5" if md5_ok else f"published sample count {n_samples:,}"
        return D.DataSource(path=folder, provenance="real-full",
                            description=f"SHD, {split} split matches the {how}" + ("" if md5_ok else f"; {check}"),
                            details={"counts": counts, "verified": md5_ok, "md5_match": md5_ok})
    return D.DataSource(path=folder, provenance="real-sample",
                        description=f"SHD-format files, not the complete published set ({counts}); {check}",
                        details={"counts": counts, "verified": md5_ok, "md5_match": md5_ok})


class ShdWorkload(ClassificationWorkload):
    """SHD classification; see the module docstring."""

    name = "shd"
    subdir = "SHD"
    where_files = "shd_train.h5 and shd_test.h5 (.h5.gz accepted) from the Zenke lab / compneuro.net SHD page"
    n_classes = 20
    n_channels = 700
    input_shape = (700,)
    timestep_s = 10e-3
    timesteps = 140
    readout = "20 outputs; class = most output spikes (ties: no decision)"
    default_data = DEFAULT_DATA
    generator_module = "synth_shd"

    def _generate(self, tmp: Path, part: str, params: dict, seed: int) -> dict:
        """Write only ``shd_<part>.h5`` (samples of a split do not depend on the other split's size)."""
        from .synth_shd import generate_shd

        n = params["n"]
        m = generate_shd(tmp, n_train=n if part == "train" else 0, n_test=n if part == "test" else 0, seed=seed)
        (tmp / f"shd_{'test' if part == 'train' else 'train'}.h5").unlink(missing_ok=True)
        return m

    def holds_files(self, folder: Path) -> bool:
        return shd_file(folder, "train") is not None or shd_file(folder, "test") is not None

    def detect(self, folder: Path, split: str) -> D.DataSource:
        if shd_file(folder, split) is None:
            raise D.DataUnavailableError(f"{folder}: no shd_{split}.h5 (.h5.gz, .h5.zip); {self.where_to_put()}")
        return detect_shd(folder, split)

    def _read(self, src: D.DataSource, split: str, limit: int | None, seed: int) -> RawSplit:
        from .shd_format import read_shd

        path = shd_file(src.path, split) or src.path / f"shd_{split}.h5"
        data = read_shd(path)
        bad = (data.labels < 0) | (data.labels >= self.n_classes)
        if bad.any():  # a label outside the class set would be scored as an always-wrong class
            from .readall import file_error

            i = int(np.flatnonzero(bad)[0])
            raise file_error(path, f"{int(bad.sum())} label(s) outside the {self.n_classes} SHD classes 0..{self.n_classes - 1} "
                                   f"(first: sample {i}, label {int(data.labels[i])}); this is not SHD data")
        if src.provenance == "real-sample":  # a published len(labels) makes it real-full
            src = detect_shd(src.path, split, len(data))
        idx = D.subset_indices(len(data), limit, seed)
        return RawSplit(events=[(data.times_s(int(i)), data.units_of(int(i))) for i in idx], labels=data.labels[idx],
                        total=len(data), where=path, source=src,
                        extra={"speaker": None if data.speaker is None else data.speaker[idx]})

    def train_config(self, variant: str | None = None) -> TrainConfig:
        self.check_variant(variant)
        return TrainConfig(layers=(LayerSpec(n_out=128, recurrent=True, beta=(0.8, 0.98)), LayerSpec(n_out=20, beta=0.9)),
                           epochs=8, batch_size=64, lr=2e-3, init_gain=(1.0, 1.0), surrogate_slope=10.0)


__all__ = ["ShdWorkload", "DEFAULT_DATA", "SHD_FULL_COUNTS", "SHD_MD5", "shd_file", "detect_shd"]
