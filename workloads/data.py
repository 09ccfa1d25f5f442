"""Where a workload's data comes from, and what it may claim (its provenance tag).

Precedence (``../shared/reference/datasets.md`` §3.4): the ``data_dir`` argument (the CLI's
``--data-dir``), then the environment variable ``SPIKEBENCH_DATA``; without either, the offline
default data, generated once by the workload's seeded generator into a cache folder and reused.
**Nothing is ever downloaded**: :func:`where_to_put` only says where real files go.

Real-data layout. ``DIR`` is the data directory; each workload looks in its sub-folder (or, when
that is absent and ``DIR`` itself holds the files, in ``DIR``):

=============  ===========  ===========================================================================
workload       sub-folder   files
=============  ===========  ===========================================================================
nmnist         ``N-MNIST``  ``Train/<digit>/*.bin`` and ``Test/<digit>/*.bin``, or ``train.zip`` / ``test.zip``
shd            ``SHD``      ``shd_train.h5`` and ``shd_test.h5`` (or ``.h5.gz`` / ``.h5.zip``)
ecg-anomaly    ``mitdb``    WFDB triples ``NNN.hea``, ``NNN.dat``, ``NNN.atr`` (MIT-BIH Arrhythmia, 48 records)
=============  ===========  ===========================================================================

Provenance (§3.5), decided from the files, never from what the user says:

- ``synthetic``: the folder holds a spikebench generator manifest (``spikebench-data.json``, or
  a generator's ``manifest.json``), or (ECG) a header written by the synthetic ECG generator.
- ``real-full``: the complete published dataset. N-MNIST: exactly **60,000** train and
  **10,000** test ``.bin`` files (extracted, or members of the two zips). SHD: both split files present,
  and the loaded split's md5 is the published one or its ``len(labels)`` is a published count
  (train **8,156** or 8,332; test **2,264** or 2,088: the sources disagree, datasets.md §1.2).
  MIT-BIH: all **48** records of the database (names 100-234), every signal's header checksum
  verified by the reader.
- ``real-sample``: anything else in the real format without a generator manifest: a subset of the
  real data. ``details["verified"]`` is True when every file matches a known sha256 (the shared
  fixtures, ``../shared/fixtures/``: one N-MNIST sample, MIT-BIH record 100), False otherwise.

Cache. ``SPIKEBENCH_CACHE`` (default ``~/.cache/spikebench/data``) ``/<workload>/<generator
version>-seed<seed>/<part>/``. A part (a split, or the whole dataset for ECG) is generated into a
temporary sibling folder ``.tmp-<part>-*`` and renamed into place only when complete, so an
interrupted generation never leaves a half dataset: a temporary folder is never read as data, and
the next call generates again. Its ``spikebench-data.json`` records generator, version, seed and
parameters; a part whose parameters differ from the requested ones is regenerated.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spikebench.core.errors import SpikebenchError, one_line

DATA_ENV = "SPIKEBENCH_DATA"
CACHE_ENV = "SPIKEBENCH_CACHE"
MARKER = "spikebench-data.json"
TMP_PREFIX = ".tmp-"

#: Sub-folder of the data directory per workload (datasets.md §3.4).
SUBDIRS = {"nmnist": "N-MNIST", "shd": "SHD", "ecg-anomaly": "mitdb"}

#: sha256 of the shared real fixtures (``../shared/fixtures/README.md``), by file name.
FIXTURE_SHA256 = {
    "sample_nmnist.bin": "3c9159329633efbb6879bba1b430598b78cc06a779a55d1259ec13e203ad00ee",
    "100.hea": "95fbdda0454fffae1a2dab1a5ac53e924ae97691c028cdd3ee82f2446b73c066",
    "100.dat": "b2ea3c250e56e48f4b7b90697832b8ecd1afa1e0bb31f2dcfea4ed6e1075a639",
    "100.atr": "8d8a5349fb16638ebbf649f1779d12e96d91b736b2aafe59db43719ae583d471",
}

#: Full-dataset counts: N-MNIST files per split (Orchard et al. 2015, as MNIST).
NMNIST_FULL_COUNTS = {"train": 60_000, "test": 10_000}
#: SHD samples per split: current compneuro.net page, and the older README / norse docstring.
SHD_FULL_COUNTS = {"train": (8_156, 8_332), "test": (2_264, 2_088)}
#: md5 of the uncompressed SHD files (norse 1.1.0 ``norse/dataset/spiking_heidelberg.py``; datasets.md §1.2).
SHD_MD5 = {"train": "8e9877c85f29a28dd353ea6a54402667", "test": "207ad1295a0ab611e22d1734989c254e"}
#: The 48 records of the MIT-BIH Arrhythmia Database (PhysioNet mitdb 1.0.0).
MITDB_RECORDS = tuple(str(r) for r in (
    100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 111, 112, 113, 114, 115, 116, 117, 118, 119, 121, 122, 123,
    124, 200, 201, 202, 203, 205, 207, 208, 209, 210, 212, 213, 214, 215, 217, 219, 220, 221, 222, 223, 228, 230,
    231, 232, 233, 234))


class DataUnavailableError(SpikebenchError):
    """The requested data is not where it should be, or is not what was required (e.g. real)."""


@dataclass(frozen=True, kw_only=True)
class DataSource:
    """A located dataset: its folder, provenance tag, a one-line description and the evidence."""

    path: Path
    provenance: str
    description: str
    details: dict = field(default_factory=dict)


# ---- locations ------------------------------------------------------------------------------------


def data_root(data_dir: str | Path | None = None) -> Path | None:
    """The real-data directory: ``data_dir`` if given, else ``$SPIKEBENCH_DATA``, else None."""
    if data_dir is not None and str(data_dir) != "":
        return Path(data_dir).expanduser()
    env = os.environ.get(DATA_ENV, "")
    return Path(env).expanduser() if env else None


def cache_root() -> Path:
    """``$SPIKEBENCH_CACHE`` or ``~/.cache/spikebench/data``."""
    env = os.environ.get(CACHE_ENV, "")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "spikebench" / "data"


def where_to_put(workload: str) -> str:
    """One line saying where the real files of ``workload`` go (the only "fetch helper": no download)."""
    sub = SUBDIRS[workload]
    files = {
        "nmnist": "Train/<digit>/*.bin and Test/<digit>/*.bin (or train.zip and test.zip) from the N-MNIST dataset page",
        "shd": "shd_train.h5 and shd_test.h5 (.h5.gz accepted) from the Zenke lab / compneuro.net SHD page",
        "ecg-anomaly": "the 48 MIT-BIH Arrhythmia records NNN.hea/.dat/.atr from PhysioNet (mitdb 1.0.0)",
    }[workload]
    return f"put {files} in DIR/{sub}/ and pass --data-dir DIR (or set {DATA_ENV}=DIR); spikebench never downloads"


def workload_folder(workload: str, root: Path, looks_like: Callable[[Path], bool]) -> Path:
    """``root/<sub-folder>`` if present, else ``root`` itself when it holds the files."""
    if not root.is_dir():
        raise DataUnavailableError(one_line(f"data directory {root} does not exist; {where_to_put(workload)}"))
    sub = root / SUBDIRS[workload]
    if sub.is_dir():
        return sub
    if looks_like(root):
        return root
    raise DataUnavailableError(one_line(f"{root}: no {workload} data (no {SUBDIRS[workload]}/ folder); "
                                        f"{where_to_put(workload)}"))


def require_data_root(workload: str, root: Path | None, require_real: bool) -> None:
    """With ``require_real`` and no data directory, refuse before generating anything."""
    if require_real and root is None:
        raise DataUnavailableError(one_line(
            f"{workload}: real data required but no data directory given (the default is synthetic data); "
            f"{where_to_put(workload)}"))


def refuse_synthetic(workload: str, source: DataSource) -> None:
    """The ``require_real=True`` check: one line naming where the real files go."""
    if source.provenance == "synthetic":
        raise DataUnavailableError(one_line(
            f"{workload}: real data required but {source.path} holds synthetic data ({source.description}); "
            f"{where_to_put(workload)}"))


# ---- checksums ------------------------------------------------------------------------------------


def file_digest(path: Path, algo: str = "sha256") -> str:
    h = hashlib.new(algo)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def generator_manifest(folder: Path) -> dict | None:
    """The generator manifest of a folder (``spikebench-data.json`` or a generator ``manifest.json``), or None."""
    for name in (MARKER, "manifest.json"):
        p = folder / name
        if p.is_file():
            try:
                m = json.loads(p.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(m, dict) and (m.get("provenance") == "synthetic" or "generator" in m):
                return m
    return None


def match_fixtures(paths: Iterable[Path]) -> tuple[int, int]:
    """(files whose sha256 is a known fixture's, files checked)."""
    known = set(FIXTURE_SHA256.values())
    n = hits = 0
    for p in paths:
        n += 1
        if p.stat().st_size <= 4 << 20 and file_digest(p) in known:
            hits += 1
    return hits, n


def _synthetic_source(path: Path, manifest: dict) -> DataSource:
    gen = manifest.get("generator", "?")
    ver = manifest.get("generator_version", manifest.get("version", "?"))
    return DataSource(path=path, provenance="synthetic",
                      description=f"generator {gen} v{ver} seed {manifest.get('seed', '?')}",
                      details={"generator": gen, "version": ver, "seed": manifest.get("seed")})


def _real_sample(path: Path, what: str, files: list[Path], counts: dict) -> DataSource:
    hits, n = match_fixtures(files) if len(files) <= 64 else (0, len(files))
    verified = n > 0 and hits == n
    desc = (f"{what} subset {counts}; " + ("every file matches a known fixture sha256" if verified
                                           else f"{hits} of {n} files match a known fixture sha256"))
    return DataSource(path=path, provenance="real-sample", description=desc,
                      details={"counts": counts, "verified": verified, "fixture_matches": hits})


# ---- per-workload detection (cheap: file counts and hashes, no decoding) --------------------------


def detect_nmnist(folder: Path) -> DataSource:
    """Provenance of an N-MNIST folder (``Train``/``Test`` trees or ``train.zip``/``test.zip``)."""
    m = generator_manifest(folder)
    if m is not None:
        return _synthetic_source(folder, m)
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
        return DataSource(path=folder, provenance="real-full",
                          description=f"N-MNIST, {counts['train']:,} train / {counts['test']:,} test files",
                          details={"counts": counts, "verified": True})
    return _real_sample(folder, "N-MNIST", files, counts)


def shd_file(folder: Path, split: str) -> Path | None:
    for ext in (".h5", ".h5.gz", ".h5.zip"):
        p = folder / f"shd_{split}{ext}"
        if p.is_file():
            return p
    return None


def detect_shd(folder: Path, split: str, n_samples: int | None = None) -> DataSource:
    """Provenance of an SHD folder; ``n_samples`` is ``len(labels)`` of the loaded ``split`` when known."""
    m = generator_manifest(folder)
    if m is not None:
        return _synthetic_source(folder, m)
    files = {s: shd_file(folder, s) for s in ("train", "test")}
    counts = {"present": sorted(s for s, p in files.items() if p is not None)}
    if n_samples is not None:
        counts[split] = int(n_samples)
    p = files.get(split)
    md5_ok = p is not None and p.suffix == ".h5" and file_digest(p, "md5") == SHD_MD5[split]
    count_ok = n_samples is not None and int(n_samples) in SHD_FULL_COUNTS[split]
    if all(files.values()) and (md5_ok or count_ok):
        how = "published md5" if md5_ok else f"published sample count {n_samples:,}"
        return DataSource(path=folder, provenance="real-full", description=f"SHD, {split} split matches the {how}",
                          details={"counts": counts, "verified": True, "md5_match": md5_ok})
    return DataSource(path=folder, provenance="real-sample",
                      description=f"SHD-format files, not the complete published set ({counts})",
                      details={"counts": counts, "verified": False})


def detect_mitdb(folder: Path) -> DataSource:
    """Provenance of a WFDB folder (MIT-BIH records, or the synthetic generator's train/test tree)."""
    m = generator_manifest(folder)
    if m is not None:
        return _synthetic_source(folder, m)
    heads = sorted(folder.glob("*.hea"))
    for h in heads[:3]:
        try:
            if "SYNTHETIC record" in h.read_text(encoding="utf-8", errors="replace")[:4096]:
                return DataSource(path=folder, provenance="synthetic", description="synthetic ECG records (header says so)",
                                  details={"generator": "spikebench.workloads.synth_ecg"})
        except OSError:
            pass
    names = {h.stem for h in heads}
    present = sorted(names & set(MITDB_RECORDS))
    if len(present) == len(MITDB_RECORDS):
        return DataSource(path=folder, provenance="real-full", description="MIT-BIH Arrhythmia, all 48 records",
                          details={"counts": {"records": 48}, "verified": True})
    files = [folder / f"{n}.{e}" for n in sorted(names) for e in ("hea", "dat", "atr") if (folder / f"{n}.{e}").is_file()]
    return _real_sample(folder, "WFDB records", files, {"records": len(names)})


# ---- the synthetic cache --------------------------------------------------------------------------


def synthetic_dir(workload: str, version, seed: int, variant=None) -> Path:
    """``<cache root>/<workload>/v<version>-seed<seed>``; non-default sizes (``variant``, a dict of the
    generator arguments) add ``-<hash>`` so that several configurations can live side by side."""
    tag = ""
    if variant:
        tag = "-" + hashlib.sha256(json.dumps(variant, sort_keys=True, default=str).encode()).hexdigest()[:8]
    return cache_root() / workload / f"v{version}-seed{int(seed)}{tag}"


def synthetic_source(workload: str, part: str, generate: Callable[[Path], dict], *, generator: str, version,
                     seed: int, params: dict, variant, description: str) -> DataSource:
    """Generate ``part`` of a workload's offline data once (atomically, see :func:`ensure_generated`)
    and describe it as a ``synthetic`` :class:`DataSource`."""
    base = synthetic_dir(workload, version, seed, variant=variant)
    folder = ensure_generated(base, part, generate,
                              params={"generator": generator, "version": version, "seed": int(seed), **params})
    return DataSource(path=folder, provenance="synthetic",
                      description=f"generator {generator} v{version} seed {seed}, {description}",
                      details={"generator": generator, "version": version, "seed": int(seed)})


def ensure_generated(base: Path, part: str, generate: Callable[[Path], dict], *, params: dict) -> Path:
    """``base/part``, generating it first (atomically) unless a complete copy with ``params`` exists.

    ``generate(tmp_folder)`` writes the part into an empty temporary folder and returns the
    generator manifest; ``params`` (generator, version, seed, sizes) are stored beside it in
    ``spikebench-data.json``. Only a finished part is renamed into place; a crash leaves a
    ``.tmp-*`` folder that nothing reads. A concurrent generator that finished first wins.
    """
    target = base / part
    marker = target / MARKER
    if marker.is_file():
        try:
            have = json.loads(marker.read_text(encoding="utf-8")).get("params")
        except (OSError, ValueError):
            have = None
        if have == params:
            return target
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataUnavailableError(one_line(f"cannot create the data cache folder {base} ({exc.strerror or exc}); "
                                            f"set {CACHE_ENV} to a writable folder")) from None
    tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{part}-", dir=base))
    try:
        manifest = generate(tmp)
        record = {"provenance": "synthetic", "generator": params.get("generator"),
                  "generator_version": params.get("version"), "seed": params.get("seed"), "params": params,
                  "manifest": manifest}
        (tmp / MARKER).write_text(json.dumps(record, indent=1, sort_keys=True, default=str) + "\n", encoding="utf-8")
        if target.exists():  # stale (other params) or incomplete-marker copy: move aside, then replace
            stale = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}stale-{part}-", dir=base))
            os.replace(target, stale / part)
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.replace(tmp, target)
        except OSError:
            if (target / MARKER).is_file():  # someone else finished first
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


__all__ = [
    "DATA_ENV", "CACHE_ENV", "MARKER", "SUBDIRS", "FIXTURE_SHA256", "NMNIST_FULL_COUNTS", "SHD_FULL_COUNTS",
    "MITDB_RECORDS", "DataUnavailableError", "DataSource", "data_root", "cache_root", "where_to_put",
    "workload_folder", "require_data_root", "synthetic_source", "refuse_synthetic", "file_digest", "generator_manifest", "detect_nmnist", "detect_shd",
    "detect_mitdb", "shd_file", "synthetic_dir", "ensure_generated", "subset_indices", "binned_counts",
]


def subset_indices(n: int, limit: int | None, seed: int) -> np.ndarray:
    """All of ``range(n)``, or a seeded random ``limit`` of them in ascending order (real folders are
    often sorted by class, so the first ``limit`` would not be a fair sample)."""
    if limit is None or int(limit) >= n:
        return np.arange(n)
    if isinstance(limit, bool) or int(limit) < 1:
        raise DataUnavailableError(f"limit must be a positive number of samples, got {limit!r}")
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), 0x11A1])))
    return np.sort(rng.choice(n, size=int(limit), replace=False))


def binned_counts(spikes, n_bins: int = 1) -> np.ndarray:
    """``(samples, n * n_bins)`` spike counts per channel in ``n_bins`` equal sub-windows of the steps:
    the features of the logistic-regression baseline (the same binned input the SNN sees)."""
    t_bin = np.minimum(spikes.times.astype(np.int64) * n_bins // spikes.timesteps, n_bins - 1)
    s = np.repeat(np.arange(spikes.samples, dtype=np.int64), np.diff(spikes.sample_ptr))
    key = (s * spikes.n + spikes.indices.astype(np.int64)) * n_bins + t_bin
    return np.bincount(key, minlength=spikes.samples * spikes.n * n_bins).reshape(spikes.samples, -1)
