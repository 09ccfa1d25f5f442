"""Sparse spike trains: per sample, the (step, channel) of every spike.

A :class:`SpikeTrain` holds ``samples`` recordings of ``timesteps`` steps over ``n`` channels in
compressed form: ``sample_ptr`` (``samples + 1`` offsets) into flat ``times`` (int32 step) and
``indices`` (int32 channel) arrays, sorted by (sample, step, channel), with no duplicates, since a
binned raster is binary. ``timestep_s`` is the real time one step stands for (seconds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import FileFormatError, InvalidSpikesError

NPZ_KEYS = ("sample_ptr", "times", "indices")
#: Bounds on the scalar fields of a spikes ``.npz`` (sanity, not physics): a file claiming more is refused
#: before anything is allocated. 10^7 steps is 2.8 h at 1 ms per step; 10^8 channels is a hundred times
#: the largest input of the shipped workloads' kind; samples x steps at most 2 x 10^8 keeps the per-step
#: pointers the simulators build (8 bytes per sample and step) under 1.6 GB.
NPZ_MAX_TIMESTEPS = 10**7
NPZ_MAX_CHANNELS = 10**8
NPZ_MAX_SAMPLE_STEPS = 2 * 10**8


@dataclass(frozen=True, kw_only=True, eq=False)
class SpikeTrain:
    """Binned spikes of a batch of samples, stored sparsely (see module docstring)."""

    sample_ptr: np.ndarray
    times: np.ndarray
    indices: np.ndarray
    timesteps: int
    n: int
    timestep_s: float = 1e-3

    def __post_init__(self) -> None:
        ptr = np.asarray(self.sample_ptr)
        times = np.asarray(self.times)
        idx = np.asarray(self.indices)
        for name, arr in (("sample_ptr", ptr), ("times", times), ("indices", idx)):
            if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
                raise InvalidSpikesError(f"SpikeTrain.{name} must be a 1-D integer array, got {arr.dtype} shape {arr.shape}")
        if isinstance(self.timesteps, bool) or int(self.timesteps) < 1:
            raise InvalidSpikesError(f"timesteps must be a positive integer, got {self.timesteps!r}")
        if isinstance(self.n, bool) or int(self.n) < 1:
            raise InvalidSpikesError(f"n (channels) must be a positive integer, got {self.n!r}")
        if not (np.isfinite(self.timestep_s) and self.timestep_s > 0):
            raise InvalidSpikesError(f"timestep_s must be a positive number of seconds, got {self.timestep_s!r}")
        T, n = int(self.timesteps), int(self.n)
        if len(ptr) < 2 or ptr[0] != 0 or np.any(np.diff(ptr) < 0) or ptr[-1] != len(times):
            raise InvalidSpikesError(
                "sample_ptr must start at 0, never decrease and end at the number of spikes "
                f"({len(times)}); got first={ptr[:1]}, last={ptr[-1:]}"
            )
        if len(times) != len(idx):
            raise InvalidSpikesError(f"times ({len(times)}) and indices ({len(idx)}) must have the same length")
        if len(times):
            if times.min() < 0 or times.max() >= T:
                raise InvalidSpikesError(f"spike times must lie in [0, {T}), got {times.min()}..{times.max()}")
            if idx.min() < 0 or idx.max() >= n:
                raise InvalidSpikesError(f"spike channels must lie in [0, {n}), got {idx.min()}..{idx.max()}")
            key = np.repeat(np.arange(len(ptr) - 1, dtype=np.int64), np.diff(ptr)) * T + times.astype(np.int64)
            key = key * n + idx.astype(np.int64)
            if np.any(np.diff(key) <= 0):
                raise InvalidSpikesError(
                    "spikes must be sorted by (sample, step, channel) without duplicates; "
                    "build the train with SpikeTrain.from_events or from_dense"
                )
        for name, arr, dt in (("sample_ptr", ptr, np.int64), ("times", times, np.int32), ("indices", idx, np.int32)):
            arr = np.ascontiguousarray(arr, dtype=dt)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "timesteps", T)
        object.__setattr__(self, "n", n)
        object.__setattr__(self, "timestep_s", float(self.timestep_s))

    # ---- shape facts ----------------------------------------------------------------------------

    @property
    def samples(self) -> int:
        return len(self.sample_ptr) - 1

    @property
    def n_spikes(self) -> int:
        return len(self.times)

    @property
    def density(self) -> float:
        """Fraction of (sample, step, channel) cells holding a spike."""
        return self.n_spikes / (self.samples * self.timesteps * self.n)

    def __len__(self) -> int:
        return self.samples

    def __repr__(self) -> str:
        return (
            f"SpikeTrain(samples={self.samples}, timesteps={self.timesteps}, n={self.n}, "
            f"spikes={self.n_spikes}, density={self.density:.4%}, timestep_s={self.timestep_s:g})"
        )

    def sample(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(times, indices) of sample ``i``."""
        if not -self.samples <= i < self.samples:
            raise IndexError(f"sample {i} out of range for {self.samples} samples")
        i %= self.samples
        a, b = self.sample_ptr[i], self.sample_ptr[i + 1]
        return self.times[a:b], self.indices[a:b]

    def select(self, which) -> SpikeTrain:
        """A new train holding the samples at positions ``which`` (slice or index array)."""
        order = np.arange(self.samples)[which]
        order = np.atleast_1d(order)
        parts_t, parts_i, lens = [], [], []
        for i in order:
            t, c = self.sample(int(i))
            parts_t.append(t)
            parts_i.append(c)
            lens.append(len(t))
        ptr = np.zeros(len(order) + 1, dtype=np.int64)
        np.cumsum(lens, out=ptr[1:])
        cat = (lambda p: np.concatenate(p) if p else np.zeros(0, np.int32))
        return SpikeTrain(sample_ptr=ptr, times=cat(parts_t), indices=cat(parts_i),
                          timesteps=self.timesteps, n=self.n, timestep_s=self.timestep_s)

    def step_pointers(self) -> np.ndarray:
        """int64 ``(samples, timesteps + 1)``: offsets into ``indices`` where each step starts."""
        T = self.timesteps
        sample_of = np.repeat(np.arange(self.samples, dtype=np.int64), np.diff(self.sample_ptr))
        counts = np.bincount(sample_of * T + self.times, minlength=self.samples * T).reshape(self.samples, T)
        ptr = np.empty((self.samples, T + 1), dtype=np.int64)
        ptr[:, 0] = self.sample_ptr[:-1]
        np.cumsum(counts, axis=1, out=ptr[:, 1:])
        ptr[:, 1:] += self.sample_ptr[:-1, None]
        return ptr

    def counts_per_channel(self) -> np.ndarray:
        """int64 ``(n,)``: spikes per channel summed over samples and steps."""
        return np.bincount(self.indices, minlength=self.n).astype(np.int64)

    # ---- conversions ----------------------------------------------------------------------------

    def to_dense(self, dtype=np.uint8, *, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Dense raster ``(samples, timesteps, n)`` of 0/1; ``start``/``stop`` take samples
        ``start..stop-1`` only (a batch of a large train without building the whole raster)."""
        stop = self.samples if stop is None else min(int(stop), self.samples)
        start = min(max(int(start), 0), stop)
        out = np.zeros((stop - start, self.timesteps, self.n), dtype=dtype)
        lo, hi = int(self.sample_ptr[start]), int(self.sample_ptr[stop])
        sample_of = np.repeat(np.arange(stop - start), np.diff(self.sample_ptr[start:stop + 1]))
        out[sample_of, self.times[lo:hi], self.indices[lo:hi]] = 1
        return out

    @classmethod
    def from_dense(cls, raster, *, timestep_s: float = 1e-3) -> SpikeTrain:
        """From a binary raster ``(samples, timesteps, n)`` or ``(timesteps, n)`` (one sample).

        Values must be 0 or 1 (bool, integer or float); anything else is an error, never rounded.
        """
        arr = np.asarray(raster)
        if arr.ndim == 2:
            arr = arr[None]
        if arr.ndim != 3:
            raise InvalidSpikesError(
                f"a spike raster must have shape (samples, timesteps, n) or (timesteps, n), got shape {arr.shape}"
            )
        if 0 in arr.shape:
            raise InvalidSpikesError(f"a spike raster must not have an empty dimension, got shape {arr.shape}")
        if arr.dtype != np.bool_:
            if not (np.issubdtype(arr.dtype, np.number)):
                raise InvalidSpikesError(f"spike raster must be numeric or boolean, got dtype {arr.dtype}")
            bad = ~((arr == 0) | (arr == 1))
            if np.any(bad):
                where = tuple(int(x[0]) for x in np.nonzero(bad))
                raise InvalidSpikesError(
                    f"spikes must be binary (0 or 1); found {int(bad.sum())} other value(s), "
                    f"first {arr[where]!r} at (sample, step, channel) {where}"
                )
        s, t, i = np.nonzero(arr)
        ptr = np.zeros(arr.shape[0] + 1, dtype=np.int64)
        np.cumsum(np.bincount(s, minlength=arr.shape[0]), out=ptr[1:])
        return cls(sample_ptr=ptr, times=t.astype(np.int32), indices=i.astype(np.int32),
                   timesteps=arr.shape[1], n=arr.shape[2], timestep_s=timestep_s)

    @classmethod
    def from_events(cls, events, *, n: int, timesteps: int, timestep_s: float = 1e-3,
                    t_start_s: float = 0.0) -> SpikeTrain:
        """Bin event streams into steps.

        ``events`` is a sequence (one per sample) of ``(times_s, channels)`` array pairs; event
        times are in seconds from ``t_start_s``. An event lands in step ``floor((t - t_start_s) /
        timestep_s)``; events outside ``[0, timesteps)`` are dropped, and several events of one
        channel in one step make one spike (a binned raster is binary).
        """
        all_t, all_c = [], []
        for k, (ts, ch) in enumerate(events):
            ts, ch = np.asarray(ts, dtype=np.float64), np.asarray(ch)
            if ts.shape != ch.shape or ts.ndim != 1:
                raise InvalidSpikesError(f"sample {k}: event times and channels must be 1-D arrays of equal length")
            if len(ch) and not np.issubdtype(ch.dtype, np.integer):
                raise InvalidSpikesError(f"sample {k}: channels must be integers in [0, {n})")
            all_t.append(ts)
            all_c.append(ch.astype(np.int64, copy=False))
        samples = len(all_t)
        lens = np.fromiter((len(t) for t in all_t), dtype=np.int64, count=samples)
        ts = np.concatenate(all_t) if samples else np.zeros(0)
        ch = np.concatenate(all_c) if samples else np.zeros(0, np.int64)
        sample_of = np.repeat(np.arange(samples, dtype=np.int64), lens)
        # checked on all samples at once; the message names the first sample at fault
        for bad, what in (((ch < 0) | (ch >= n), f"channels must be integers in [0, {n})"),
                          (~np.isfinite(ts), "event times contain NaN or infinite values")):
            if bad.any():
                raise InvalidSpikesError(f"sample {int(sample_of[np.argmax(bad)])}: {what}")
        steps = np.floor((ts - t_start_s) / timestep_s)
        keep = (steps >= 0) & (steps < timesteps)
        # one sort over all samples: (sample, step, channel) as one key; duplicates in a step are one spike
        key = np.sort((sample_of[keep] * timesteps + steps[keep].astype(np.int64)) * n + ch[keep])  # np.unique: hashes, 100x slower
        key = key[np.r_[True, key[1:] != key[:-1]]] if len(key) else key
        per_sample = key // (timesteps * n)
        ptr = np.zeros(samples + 1, dtype=np.int64)
        np.cumsum(np.bincount(per_sample, minlength=samples), out=ptr[1:])
        rest = key - per_sample * (timesteps * n)
        return cls(sample_ptr=ptr, times=(rest // n).astype(np.int32), indices=(rest % n).astype(np.int32),
                   timesteps=timesteps, n=n, timestep_s=timestep_s)

    # ---- files ----------------------------------------------------------------------------------

    def save_npz(self, path) -> None:
        """Write as ``.npz`` (keys: sample_ptr, times, indices, timesteps, n, timestep_s), atomically."""
        import io

        from .fileio import atomic_write_bytes

        buf = io.BytesIO()
        np.savez_compressed(buf, sample_ptr=self.sample_ptr, times=self.times, indices=self.indices,
                            timesteps=np.int64(self.timesteps), n=np.int64(self.n),
                            timestep_s=np.float64(self.timestep_s))
        atomic_write_bytes(path, buf.getvalue())

    @classmethod
    def load_npz(cls, path) -> SpikeTrain:
        """Read a train written by :meth:`save_npz`, or a dense raster stored under key ``spikes``
        (shape ``(samples, timesteps, n)``, optional scalar ``timestep_s``)."""
        import zipfile

        try:
            with np.load(path, allow_pickle=False) as z:
                _check_npz_sizes(path, z)  # before decompressing: a small file may claim terabytes
                data = {k: z[k] for k in z.files}
        except FileNotFoundError:
            raise FileFormatError(f"{path}: no such spikes file") from None
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            raise FileFormatError(f"{path}: not a readable .npz spikes file ({exc})") from None
        ts = _npz_scalar(path, data, "timestep_s", float) if "timestep_s" in data else 1e-3
        if not (np.isfinite(ts) and ts > 0):
            raise InvalidSpikesError(f"{path}: field timestep_s must be a positive, finite number of seconds, got {ts!r}")
        if "spikes" in data:
            try:
                return cls.from_dense(data["spikes"], timestep_s=ts)
            except InvalidSpikesError as exc:
                raise InvalidSpikesError(f"{path}: {exc}") from None
        missing = [k for k in (*NPZ_KEYS, "timesteps", "n") if k not in data]
        if missing:
            raise FileFormatError(
                f"{path}: spikes file lacks {', '.join(missing)}; expected either a dense 'spikes' "
                f"array (samples, timesteps, n) or the sparse keys {', '.join(NPZ_KEYS)}, timesteps, n"
            )
        timesteps = _npz_scalar(path, data, "timesteps", int, 1, NPZ_MAX_TIMESTEPS)
        n = _npz_scalar(path, data, "n", int, 1, NPZ_MAX_CHANNELS)
        for k in NPZ_KEYS:
            arr = data[k]
            if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
                raise InvalidSpikesError(f"{path}: field {k} must be a 1-D integer array, got dtype {arr.dtype} "
                                         f"shape {arr.shape}")
        if (len(data["sample_ptr"]) - 1) * timesteps > NPZ_MAX_SAMPLE_STEPS:
            raise InvalidSpikesError(f"{path}: {len(data['sample_ptr']) - 1} samples x {timesteps} timesteps exceeds "
                                     f"{NPZ_MAX_SAMPLE_STEPS:.0e} sample-steps; split the file")
        try:
            return cls(sample_ptr=data["sample_ptr"], times=data["times"], indices=data["indices"],
                       timesteps=timesteps, n=n, timestep_s=ts)
        except (InvalidSpikesError, TypeError, ValueError) as exc:
            raise InvalidSpikesError(f"{path}: {exc}") from None


#: Most bytes the arrays of one spikes ``.npz`` may hold once decompressed (4 GiB).
NPZ_MAX_BYTES = 4 * 2**30


def _check_npz_sizes(path, z) -> None:
    """Refuse (one line naming the field) an ``.npz`` whose arrays, by their headers, would decompress to
    more than :data:`NPZ_MAX_BYTES`; read nothing else."""
    import zipfile

    total = 0
    for key in z.files:
        try:
            with z.zip.open(f"{key}.npy") as fh:
                version = np.lib.format.read_magic(fh)
                read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                shape, _, dtype = read(fh)
        except (KeyError, ValueError, TypeError, OSError, SyntaxError, zipfile.BadZipFile, EOFError):
            continue  # np.load reports what it cannot read
        size = int(np.prod(shape, dtype=object)) * dtype.itemsize
        total += size
        if total > NPZ_MAX_BYTES:
            raise InvalidSpikesError(f"{path}: field {key} (shape {tuple(shape)}, {dtype}) would take {size / 2**30:.3g} "
                                     f"GiB; spikes files are read up to {NPZ_MAX_BYTES / 2**30:g} GiB: split the file")


def _npz_scalar(path, data: dict, key: str, kind: type, low=None, high=None):
    """Field ``key`` of a spikes ``.npz`` as one ``kind`` (float or int) in [``low``, ``high``], else an
    :class:`InvalidSpikesError` naming the field (an array, a string, a bool, a fraction where an
    integer belongs, a value out of range)."""
    arr = data[key]
    if arr.ndim != 0 and arr.size != 1:
        raise InvalidSpikesError(f"{path}: field {key} must be a single number, got an array of shape {arr.shape}")
    want = (np.integer,) if kind is int else (np.integer, np.floating)
    if arr.dtype == np.bool_ or not any(np.issubdtype(arr.dtype, w) for w in want):
        raise InvalidSpikesError(f"{path}: field {key} must be {'an integer' if kind is int else 'a number'}, "
                                 f"got dtype {arr.dtype}")
    value = kind(arr.reshape(()).item())
    if (low is not None and value < low) or (high is not None and value > high):
        raise InvalidSpikesError(f"{path}: field {key} must be in [{low}, {high}], got {value}")
    return value


def random_spikes(samples: int, timesteps: int, n_in: int, density: float, seed: int = 0,
                  *, timestep_s: float = 1e-3) -> SpikeTrain:
    """Bernoulli spikes: every (sample, step, channel) spikes independently with ``density``."""
    if not 0.0 <= density <= 1.0:
        raise InvalidSpikesError(f"density must be in [0, 1], got {density}")
    if samples < 1 or timesteps < 1 or n_in < 1:
        raise InvalidSpikesError(f"samples, timesteps and n_in must be positive, got {samples}, {timesteps}, {n_in}")
    rng = np.random.default_rng(seed)
    ptr = [0]
    ts, ids = [], []
    cells = timesteps * n_in
    for _ in range(samples):
        k = rng.binomial(cells, density)
        flat = np.sort(rng.choice(cells, size=k, replace=False)) if k else np.zeros(0, np.int64)
        ts.append((flat // n_in).astype(np.int32))
        ids.append((flat % n_in).astype(np.int32))
        ptr.append(ptr[-1] + k)
    return SpikeTrain(sample_ptr=np.asarray(ptr, np.int64), times=np.concatenate(ts), indices=np.concatenate(ids),
                      timesteps=timesteps, n=n_in, timestep_s=timestep_s)


def as_spike_train(spikes, *, timestep_s: float | None = None) -> SpikeTrain:
    """Accept a :class:`SpikeTrain` or a binary raster ``(samples, T, n)`` / ``(T, n)``."""
    if isinstance(spikes, SpikeTrain):
        return spikes
    if isinstance(spikes, (str, bytes)) or spikes is None:
        raise InvalidSpikesError(f"expected a SpikeTrain or a binary raster array, got {type(spikes).__name__}")
    return SpikeTrain.from_dense(spikes, timestep_s=1e-3 if timestep_s is None else timestep_s)
