"""Where a workload's data comes from, and what it may claim (its provenance tag): the generic part.

Precedence (``../shared/reference/datasets.md`` §3.4): the ``data_dir`` argument (the CLI's
``--data-dir``), then the environment variable ``SPIKEBENCH_DATA``; without either, the offline
default data, generated once by the workload's seeded generator into a cache folder and reused.
**Nothing is ever downloaded**: :func:`where_to_put` only says where real files go.

Real-data layout. ``DIR`` is the data directory; each workload looks in its sub-folder (its
``subdir``: ``N-MNIST``, ``SHD``, ``mitdb``) or, when that is absent and ``DIR`` itself holds the
files, in ``DIR`` (:func:`workload_folder`). Which files go there, their checksums, the published
full-dataset counts and the provenance check live with each workload (``nmnist.py``, ``shd.py``,
``ecg.py``); the rules they share:

- ``synthetic``: the folder holds a spikebench generator manifest (``spikebench-data.json``, or
  a generator's ``manifest.json``): :func:`generator_manifest`, :func:`manifest_source`.
- ``real-full``: the complete published dataset (counts and checksums, per workload).
- ``real-sample``: anything else in the real format without a generator manifest: a subset of the
  real data (:func:`real_sample_source`). ``details["verified"]`` is True when every file matches a
  known sha256 (the shared fixtures, ``../shared/fixtures/``), False otherwise.

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


def where_to_put(subdir: str, files: str) -> str:
    """One line saying where a workload's real ``files`` go (the only "fetch helper": no download)."""
    return f"put {files} in DIR/{subdir}/ and pass --data-dir DIR (or set {DATA_ENV}=DIR); spikebench never downloads"


def workload_folder(root: Path, subdir: str, looks_like: Callable[[Path], bool], *, name: str, where: str) -> Path:
    """``root/<subdir>`` if present, else ``root`` itself when it holds the files (``looks_like``);
    ``name`` (the workload) and ``where`` (:func:`where_to_put`) make the error message."""
    if not root.is_dir():
        raise DataUnavailableError(one_line(f"data directory {root} does not exist; {where}"))
    sub = root / subdir
    if sub.is_dir():
        return sub
    if looks_like(root):
        return root
    raise DataUnavailableError(one_line(f"{root}: no {name} data (no {subdir}/ folder); {where}"))


def require_data_root(name: str, root: Path | None, require_real: bool, where: str) -> None:
    """With ``require_real`` and no data directory, refuse before generating anything."""
    if require_real and root is None:
        raise DataUnavailableError(one_line(
            f"{name}: real data required but no data directory given (the default is synthetic data); {where}"))


def refuse_synthetic(name: str, source: DataSource, where: str) -> None:
    """The ``require_real=True`` check: one line naming where the real files go."""
    if source.provenance == "synthetic":
        raise DataUnavailableError(one_line(
            f"{name}: real data required but {source.path} holds synthetic data ({source.description}); {where}"))


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


def match_fixtures(paths: Iterable[Path], known_sha256: Iterable[str]) -> tuple[int, int]:
    """(files whose sha256 is one of ``known_sha256``, files checked); files over 4 MiB never match."""
    known = set(known_sha256)
    n = hits = 0
    for p in paths:
        n += 1
        if p.stat().st_size <= 4 << 20 and file_digest(p) in known:
            hits += 1
    return hits, n


def manifest_source(path: Path, manifest: dict) -> DataSource:
    """A ``synthetic`` :class:`DataSource` described by a generator manifest found in ``path``."""
    gen = manifest.get("generator", "?")
    ver = manifest.get("generator_version", manifest.get("version", "?"))
    return DataSource(path=path, provenance="synthetic",
                      description=f"generator {gen} v{ver} seed {manifest.get('seed', '?')}",
                      details={"generator": gen, "version": ver, "seed": manifest.get("seed")})


def real_sample_source(path: Path, what: str, files: list[Path], counts: dict, known_sha256: Iterable[str]) -> DataSource:
    """A ``real-sample`` :class:`DataSource`: ``verified`` when each of ``files`` (at most 64 are hashed)
    has one of the ``known_sha256`` (the shared fixtures)."""
    hits, n = match_fixtures(files, known_sha256) if len(files) <= 64 else (0, len(files))
    verified = n > 0 and hits == n
    desc = (f"{what} subset {counts}; " + ("every file matches a known fixture sha256" if verified
                                           else f"{hits} of {n} files match a known fixture sha256"))
    return DataSource(path=path, provenance="real-sample", description=desc,
                      details={"counts": counts, "verified": verified, "fixture_matches": hits})


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


__all__ = [
    "DATA_ENV", "CACHE_ENV", "MARKER", "TMP_PREFIX", "DataUnavailableError", "DataSource", "data_root", "cache_root",
    "where_to_put", "workload_folder", "require_data_root", "refuse_synthetic", "file_digest", "generator_manifest",
    "match_fixtures", "manifest_source", "real_sample_source", "synthetic_dir", "synthetic_source",
    "ensure_generated", "subset_indices", "binned_counts",
]
