"""The binned test and train splits, cached on disk by content: reading and binning a split (N-MNIST:
1,000 files, 4.5 M events) costs about a second; reading the binned arrays back costs milliseconds.

A cached split is keyed by everything it is computed from: the sha256 digest of the data's verified
manifest (so only data with a spikebench manifest is cached: the offline data, or a folder carrying
one), the workload and its binning and data parameters, the split, ``limit`` and ``seed``, and a digest
of the code that reads and bins (this package and ``spikebench.core.spikes``), so a changed reader never
serves old arrays. Files are written atomically; a file that does not read back as a valid split
(truncated, edited, another format) is ignored and rewritten. Nothing here ever changes the data.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from functools import lru_cache
from pathlib import Path

import numpy as np

from spikebench.core.fileio import atomic_write_bytes
from spikebench.core.spikes import SpikeTrain

FORMAT = 1
#: binned splits kept per workload; the least recently used beyond this are removed (an N-MNIST test
#: split is ~36 MB binned, so a sweep over many seeds or limits must not fill the disk)
KEEP = 8


@lru_cache(maxsize=1)
def code_digest() -> str:
    """sha256 over the source of the readers and the binning (this package's modules and core/spikes.py)."""
    from spikebench.core import spikes

    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")) + [Path(spikes.__file__)]:
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def cache_key(*parts) -> str:
    return hashlib.sha256(repr((FORMAT, code_digest(), *parts)).encode()).hexdigest()[:32]


def cache_path(folder: Path, key: str) -> Path:
    """``folder/<reader code digest>/<key>.npz``: the entries of one version of the readers together, so
    that writing one removes those of every other version (:func:`save`)."""
    return folder / code_digest()[:16] / f"{key}.npz"


def save(path: Path, spikes: SpikeTrain, labels: np.ndarray, fields: dict) -> None:
    """``fields``: the split's text fields and its ``extra`` (arrays, numbers, strings, tuples of strings)."""
    arrays, plain, tuples = {}, {}, []
    for k, v in fields.items():
        if isinstance(v, np.ndarray):
            arrays[f"x_{k}"] = v
        else:
            if isinstance(v, tuple):
                tuples.append(k)
            plain[k] = v
    meta = json.dumps({"format": FORMAT, "fields": plain, "tuples": tuples})
    buf = io.BytesIO()
    np.savez(buf, sample_ptr=spikes.sample_ptr, times=spikes.times, indices=spikes.indices,
             shape=np.array([spikes.timesteps, spikes.n], dtype=np.int64), timestep_s=np.float64(spikes.timestep_s),
             labels=np.asarray(labels), meta=np.array(meta), **arrays)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue())
    prune(path.parent, keep=path)
    for other in path.parent.parent.iterdir():  # entries written by other versions of the readers
        if other.is_dir() and other != path.parent and len(other.name) == 16:
            shutil.rmtree(other, ignore_errors=True)


def prune(folder: Path, *, keep: Path | None = None, limit: int | None = None) -> None:
    """Remove all but the ``limit`` (default :data:`KEEP`) most recently used ``*.npz`` of ``folder``
    (``keep`` always stays). A file another process removes meanwhile is skipped."""
    limit = KEEP if limit is None else limit
    entries = []
    for p in folder.glob("*.npz"):
        try:
            entries.append((p.stat().st_mtime_ns, p))
        except OSError:
            continue
    entries.sort(reverse=True)
    for _, p in entries[limit:]:
        if keep is not None and p == keep:
            continue
        try:
            p.unlink()
        except OSError:
            pass


def touch(path: Path) -> None:
    """Mark a cache file as just used (its mtime), for :func:`prune`."""
    try:
        os.utime(path)
    except OSError:
        pass


def load(path: Path):
    """``(spikes, labels, fields)`` from :func:`save`, or None when the file is missing or not valid."""
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta.get("format") != FORMAT:
                return None
            timesteps, n = (int(v) for v in z["shape"])
            spikes = SpikeTrain(sample_ptr=z["sample_ptr"], times=z["times"], indices=z["indices"],
                                timesteps=timesteps, n=n, timestep_s=float(z["timestep_s"]))  # validates
            labels = z["labels"]
            fields = dict(meta["fields"])
            for k in meta["tuples"]:
                fields[k] = tuple(fields[k])
            for k in z.files:
                if k.startswith("x_"):
                    fields[k[2:]] = z[k]
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 - any unreadable or invalid cache file is recomputed, never trusted
        return None
    if len(labels) != spikes.samples:
        return None
    return spikes, labels, fields


__all__ = ["KEEP", "cache_key", "cache_path", "code_digest", "load", "prune", "save", "touch"]
