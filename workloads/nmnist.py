"""N-MNIST digit classification: a feed-forward SNN 2312 -> 128 -> 10, rate-coded readout.

Data. Real: ``--data-dir DIR`` with ``DIR/N-MNIST/{Train,Test}/<digit>/*.bin`` or
``DIR/N-MNIST/{train,test}.zip`` (read in place). Default: the offline generator
(:mod:`~spikebench.workloads.synth_nmnist`: scikit-learn's handwritten digits moved along the three
saccades in front of an emulated DVS), 3,000 train and 1,000 test samples from disjoint image
pools (1,500 / 297 images; further samples are jittered re-recordings).

Provenance (:func:`detect_nmnist`): ``real-full`` is exactly **60,000** train and **10,000** test
``.bin`` files (Orchard et al. 2015, as MNIST), extracted or members of the two zips; anything else
real is ``real-sample``, verified when every file is the shared fixture (one real sample). A full
set is verified only as the two zips with their published md5s (tonic 1.7.0; datasets.md §1.1); an
extracted tree has no published per-file checksums and is tagged not verified. Empty ``.bin`` files
(0 events) and folders or FIFOs named ``*.bin`` are refused.

Binning. Events map to ``(p * 34 + y) * 34 + x``: **2,312 input channels**; **1 ms steps, 300
steps** (the three saccades take ~315 ms; events after 300 ms, the tail of the third saccade, are
dropped; several events of one pixel and polarity in one ms make one spike).

Readout and tie rule. The class is the output neuron with the most spikes over the 300 steps; a
tie for the top count (a silent output included) is no decision and counts as wrong.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import data as D
from .base import RawSplit
from .classification import ClassificationWorkload
from .train_config import ConvSpec, LayerSpec, TrainConfig

DEFAULT_DATA = {"n_train": 3000, "n_test": 1000}

#: Full-dataset counts: N-MNIST files per split (Orchard et al. 2015, as MNIST).
NMNIST_FULL_COUNTS = {"train": 60_000, "test": 10_000}
#: sha256 of the shared real fixture (``../shared/fixtures/nmnist/``, from the tonic repository).
NMNIST_FIXTURE_SHA256 = {"sample_nmnist.bin": "3c9159329633efbb6879bba1b430598b78cc06a779a55d1259ec13e203ad00ee"}


#: md5 of the published zips (tonic ``tonic/datasets/nmnist.py``, v1.7.0; datasets.md §1.1).
NMNIST_ZIP_MD5 = {"train": "20959b8e626244a1b502305a9e6e2031", "test": "69ca8762b2fe404d9b9bad1103e97832"}


def detect_nmnist(folder: Path) -> D.DataSource:
    """Provenance of an N-MNIST folder (``Train``/``Test`` trees or ``train.zip``/``test.zip``)."""
    m = D.generator_manifest(folder)
    if m is not None:
        return D.manifest_source(folder, m)
    counts: dict[str, int] = {}
    files: list[Path] = []
    for split, sub in (("train", "Train"), ("test", "Test")):
        tree = folder / sub
        zp = folder / f"{split}.zip"
        if tree.is_dir():
            fs = sorted(tree.rglob("*.bin"))
            counts[split] = len(fs)
            files += fs
        elif zp.is_file():
            import zipfile

            try:
                with zipfile.ZipFile(zp) as zf:
                    counts[split] = sum(1 for n in zf.namelist() if n.lower().endswith(".bin") and "__MACOSX" not in n)
            except (OSError, zipfile.BadZipFile):
                counts[split] = 0
        else:
            counts[split] = 0
    if counts == NMNIST_FULL_COUNTS:
        zips = {s: folder / f"{s}.zip" for s in ("train", "test")}
        if not any((folder / sub).is_dir() for sub in ("Train", "Test")) and all(z.is_file() for z in zips.values()):
            ok = all(D.cached_file_digest(z, "md5") == NMNIST_ZIP_MD5[s] for s, z in zips.items())
            check = ("verified: both zips match the published md5" if ok
                     else "not verified: the zips do not match the published md5")
        else:  # extracted trees: the published checksums are of the zips only
            ok, check = False, "not verified: no published checksums for extracted .bin files (only for the zips)"
        return D.DataSource(path=folder, provenance="real-full",
                            description=f"N-MNIST, {counts['train']:,} train / {counts['test']:,} test files; {check}",
                            details={"counts": counts, "verified": ok})
    return D.real_sample_source(folder, "N-MNIST", files, counts, NMNIST_FIXTURE_SHA256.values())


class NmnistWorkload(ClassificationWorkload):
    """N-MNIST classification; see the module docstring."""

    name = "nmnist"
    subdir = "N-MNIST"
    where_files = "Train/<digit>/*.bin and Test/<digit>/*.bin (or train.zip and test.zip) from the N-MNIST dataset page"
    n_classes = 10
    n_channels = 2312
    input_shape = (2, 34, 34)  # (polarity, y, x): channel (p * 34 + y) * 34 + x, as torch flattens (C, H, W)
    timestep_s = 1e-3
    timesteps = 300
    readout = "10 outputs; class = most output spikes (ties: no decision)"
    default_data = DEFAULT_DATA
    generator_module = "synth_nmnist"

    def _generate(self, tmp: Path, part: str, params: dict, seed: int) -> dict:
        from .synth_nmnist import generate_nmnist

        return generate_nmnist(tmp, seed=seed, **{"n_train": 0, "n_test": 0, f"n_{part}": params["n"]})

    def holds_files(self, folder: Path) -> bool:
        return ((folder / "Train").is_dir() or (folder / "Test").is_dir() or (folder / "train.zip").is_file()
                or (folder / "test.zip").is_file())

    def detect(self, folder: Path, split: str) -> D.DataSource:
        return detect_nmnist(folder)

    def _read(self, src: D.DataSource, split: str, limit: int | None, seed: int) -> RawSplit:
        from . import nmnist_format as F
        from .readall import read_all

        folder = src.path
        tree = folder / F.SPLITS[split]
        if tree.is_dir():
            items = F.list_tree(folder, split)
            idx = D.subset_indices(len(items), limit, seed)

            def read(it):
                if it[1] is None:
                    raise F.file_error(it[0], "not inside a digit folder <0-9>/, so it has no label")
                return F.read_nmnist_file(it[0], sensor_size=F.SENSOR_SIZE), it[1]

            rows = read_all([items[i] for i in idx], read, what=str(tree), name=lambda it: str(it[0]))
            total = len(items)
        else:
            samples = F.read_split(folder, split)
            idx = D.subset_indices(len(samples), limit, seed)
            rows = [(samples[i].events, samples[i].label) for i in idx]
            total = len(samples)
        return RawSplit(events=[F.events_to_channels(ev) for ev, _ in rows],
                        labels=np.array([lab for _, lab in rows], dtype=np.int64), total=total, where=folder)

    variants = ("csnn",)

    def train_config(self, variant: str | None = None) -> TrainConfig:
        """The reference network (dense 2312 -> 128 -> 10 at 1 ms x 300 steps), or variant ``csnn``: a small
        convolutional SNN of the snnTorch tutorial's shape, narrower and with average pooling (8C5-AP2-16C5-AP2-10;
        the NIR paper's N-MNIST CSNN is of this family) on 10 coarse frames of 30 ms (its binning, kept with the
        network), small enough to retrain in the test suite."""
        if variant == "csnn":
            return TrainConfig(layers=(ConvSpec(channels=8, kernel=5, pool=2, beta=0.9),
                                       ConvSpec(channels=16, kernel=5, pool=2, beta=0.9),
                                       LayerSpec(n_out=10, beta=0.9)),
                               epochs=6, batch_size=64, lr=3e-3, init_gain=(4.0, 4.0, 2.0), surrogate_slope=10.0,
                               timestep_s=30e-3, timesteps=10)
        self.check_variant(variant)
        return TrainConfig(layers=(LayerSpec(n_out=128, beta=0.95), LayerSpec(n_out=10, beta=0.9)),
                           epochs=6, batch_size=64, lr=2e-3, init_gain=(1.0, 1.0), surrogate_slope=10.0)


__all__ = ["NmnistWorkload", "DEFAULT_DATA", "NMNIST_FULL_COUNTS", "NMNIST_FIXTURE_SHA256", "NMNIST_ZIP_MD5", "detect_nmnist"]
