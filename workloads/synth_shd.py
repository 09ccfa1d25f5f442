"""Offline SHD-format data: 20 spoken-word-like classes of spectro-temporal spike patterns over 700 channels.

The Spiking Heidelberg Digits (Cramer et al. 2022, IEEE TNNLS 33:2744; ``../shared/reference/datasets.md``
§1.2, §3.3) are spoken digits 0-9 in English and German (20 classes) from 12 speakers, passed through
a cochlea model into 700 spiking channels; speakers 4 and 5 appear only in the test split. No real
SHD data exists offline, so this generator writes the exact real layout (:func:`shd_format.write_shd`:
vlen float16 seconds, vlen uint16 units, labels, ``extra/speaker``, ``extra/keys``,
``extra/meta_info/{gender, age, body_height}``) filled with synthetic "words":

- **Classes.** Words are fixed (version-pinned, independent of ``seed``) sequences of 2-4 phonemes
  drawn from a shared inventory of 12, so classes share channel bands as real words share sounds.
  A vowel-like phoneme carries 2-3 formant tracks: Gaussian bands of channels (width 10-25) whose
  centres sweep linearly or along a bend between two channels in 60-640; a plosive adds a short
  broadband burst before its vowel; a fricative is a wide high-channel band (480-660). Each word
  shifts its phonemes by a few channels (coarticulation) and gives them their own lengths. Three
  class pairs are time-reversed twins (same channels, opposite order), so spike counts per channel
  alone cannot separate them, while spike timing can.
- **Speakers.** 12 numbered speakers with a fixed gender, age and body height (``meta_info``),
  pitch (a voicing band at low channels, 30-110, during voiced phonemes), vocal-tract scaling of
  formant channels (``c -> 350 + (c - 350) * scale + offset``, scale 0.92-1.08, offset 5-45
  channels down for male, up for female speakers), tempo (time stretch 0.85-1.2) and loudness
  (rate x 0.75-1.3).
- **Utterances.** Per sample: tempo jitter (lognormal sigma 0.12), loudness jitter (lognormal 0.2),
  each formant track shifted by N(0, 22) channels, a random monotone time warp (each quarter of the
  utterance covers a lognormal(0.25) share of the word), onset 20-200 ms; the last spike falls at
  0.52 / 0.79 / 1.14 s (5th / 50th / 95th percentile), capped at 1.4 s (real samples last
  ≈0.6-1.1 s, at most ≈1.4 s).
- **Spikes.** Inhomogeneous Poisson on a 1 ms grid (uniform time inside a bin), plus 0.4 Hz per
  channel background; the class template's expected spike count is the same for all classes, so
  the total count of a sample says (almost) nothing about its label. Times are quantised to
  float16 before they are returned, so what the reader gives back equals what was generated; spikes
  are sorted by (time, unit).

Spike counts and rates are **not calibrated to real SHD** (no real file is available offline):
2,400 / 3,300 / 5,000 spikes per sample here (5th / 50th / 95th percentile). Every draw comes from
a PCG64 generator seeded by ``(seed, split, sample index)``; the same seed gives identical bytes.
Accuracy on this data is not comparable to published SHD accuracy (datasets.md §4).

Learnability (seed 0, 2,000 train / 400 test, test speakers 4 and 5 only; sklearn logistic
regression on standardised log(1 + count) features; ``python -m spikebench.workloads.synth_shd``):
per-channel counts (700 features) 0.71 test accuracy (1.00 train; a third of the errors confuse reversed
twins), total spike count alone 0.04 (chance 0.05). With timing, the task is easy for a linear
model: counts in 14 x 100 ms bins x 70 channel groups give 0.99 (0.94 even with formant jitter 40
and warp sigma 0.45); real SHD is very likely harder (feed-forward LIF networks reach only
≈75-80 % on it, datasets.md §4), so do not read accuracy here as a statement about SHD.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from spikebench.core.errors import InvalidSpikesError
from spikebench.core.fileio import atomic_write_text

from .shd_format import N_UNITS, ShdData, write_shd

GENERATOR = "spikebench.synth_shd"
GENERATOR_VERSION = 1

N_CLASSES = 20
N_SPEAKERS = 12
TEST_SPEAKERS = (4, 5)
TRAIN_SPEAKERS = tuple(s for s in range(N_SPEAKERS) if s not in TEST_SPEAKERS)
KEYS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
        "null", "eins", "zwei", "drei", "vier", "fuenf", "sechs", "sieben", "acht", "neun")
#: Class pairs whose template is the time reverse of the other's.
REVERSED_PAIRS = ((3, 13), (6, 16), (9, 19))
DT_S = 1e-3
MAX_DURATION_S = 1.4
#: Expected template spikes per sample at unit loudness (before background).
TEMPLATE_SPIKES = 3500.0
BACKGROUND_HZ = 0.4
#: Per-utterance variation: formant track shift (channels, sigma) and time-warp log-share sigma.
FORMANT_JITTER = 22.0
WARP_SIGMA = 0.25
_DESIGN_SEED = 0x5D0  # fixes the class templates and speakers (part of the generator version)
_SPLIT_CODE = {"train": 1, "test": 2}


# ---- class templates ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Track:
    kind: str            # "formant", "fricative", "burst"
    t0: float            # start, fraction of the word
    t1: float            # end, fraction of the word
    c0: float            # start channel (centre)
    c1: float            # end channel
    bend: float          # mid-point deviation of the sweep (channels)
    width: float         # Gaussian half-width (channels)
    weight: float


@dataclass(frozen=True)
class _Template:
    duration_s: float
    tracks: tuple[_Track, ...]
    voiced: tuple[tuple[float, float], ...]   # voiced intervals (fractions) carrying the pitch band


#: Size of the shared phoneme inventory the 20 words are built from.
N_PHONEMES = 12


def _phoneme(rng: np.random.Generator) -> tuple[float, tuple[_Track, ...], tuple[tuple[float, float], ...]]:
    """One phoneme in local time [0, 1]: (relative length, tracks, voiced intervals)."""
    r = rng.random()
    length = float(rng.uniform(0.6, 1.4))
    tracks: list[_Track] = []
    if r < 0.2:
        tracks.append(_Track("fricative", 0.0, 1.0, float(rng.uniform(480, 600)), float(rng.uniform(520, 660)),
                             0.0, float(rng.uniform(40, 70)), float(rng.uniform(0.6, 1.0))))
        return 0.6 * length, tuple(tracks), ()
    start = 0.0
    if r < 0.4:  # plosive: a broadband burst, then the vowel
        tracks.append(_Track("burst", 0.0, 0.2, float(rng.uniform(250, 450)), float(rng.uniform(250, 450)),
                             0.0, float(rng.uniform(120, 200)), float(rng.uniform(0.5, 0.9))))
        start = 0.15
    for lo in np.sort(rng.uniform(60, 620, int(rng.integers(2, 4)))):
        c1 = float(np.clip(lo + rng.normal(0, 90), 60, 640))
        tracks.append(_Track("formant", start, 1.0, float(lo), c1, float(rng.normal(0, 30)), float(rng.uniform(10, 25)),
                             float(rng.uniform(0.5, 1.0))))
    return length, tuple(tracks), ((start, 1.0),)


def _make_templates(rng: np.random.Generator) -> list[_Template]:
    """Words as sequences of 2-4 phonemes from a shared inventory, so classes share channel bands."""
    inventory = [_phoneme(rng) for _ in range(N_PHONEMES)]
    seen: set[tuple[int, ...]] = set()
    out = []
    while len(out) < N_CLASSES:
        seq = tuple(int(i) for i in rng.choice(N_PHONEMES, int(rng.integers(2, 5)), replace=False))
        if seq in seen or seq[::-1] in seen:
            continue
        seen.add(seq)
        lengths = np.array([inventory[i][0] for i in seq]) * rng.uniform(0.8, 1.25, len(seq))
        bounds = np.concatenate([[0.0], np.cumsum(lengths) / lengths.sum()])
        tracks: list[_Track] = []
        voiced = []
        for k, i in enumerate(seq):
            a, span = float(bounds[k]), float(bounds[k + 1] - bounds[k])
            shift = float(rng.normal(0, 10))  # coarticulation: the phoneme sounds a little different per word
            for tr in inventory[i][1]:
                tracks.append(_Track(tr.kind, a + span * tr.t0, a + span * tr.t1, tr.c0 + shift, tr.c1 + shift,
                                     tr.bend, tr.width, tr.weight))
            voiced += [(a + span * v0, a + span * v1) for v0, v1 in inventory[i][2]]
        duration = float(np.clip(0.22 * lengths.sum() * rng.uniform(0.85, 1.15), 0.45, 0.85))
        out.append(_Template(duration, tuple(tracks), tuple(voiced)))
    return out


def _reverse(t: _Template) -> _Template:
    tracks = tuple(_Track(k.kind, 1.0 - k.t1, 1.0 - k.t0, k.c1, k.c0, k.bend, k.width, k.weight) for k in t.tracks)
    voiced = tuple((1.0 - b, 1.0 - a) for a, b in t.voiced)
    return _Template(t.duration_s, tracks, voiced)


@lru_cache(maxsize=1)
def class_templates() -> tuple[_Template, ...]:
    """The 20 fixed class templates (independent of the data seed)."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([_DESIGN_SEED, 1])))
    out = _make_templates(rng)
    for a, b in REVERSED_PAIRS:
        out[b] = _reverse(out[a])
    return tuple(out)


# ---- speakers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Speaker:
    """One synthetic speaker: identity (meta_info) and the warps applied to every utterance."""

    gender: str
    age: int
    body_height: float     # cm
    pitch_channel: float   # centre of the voicing band
    scale: float           # formant channel scaling about channel 350
    offset: float          # formant channel offset
    tempo: float           # time stretch (> 1 slower)
    loudness: float        # rate multiplier


@lru_cache(maxsize=1)
def speakers() -> tuple[Speaker, ...]:
    """The 12 fixed speakers (independent of the data seed); 4 and 5 are test-only."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([_DESIGN_SEED, 2])))
    out = []
    for i in range(N_SPEAKERS):
        female = bool(i % 2)
        h = float(np.round(rng.normal(167 if female else 180, 6), 1))
        out.append(Speaker(
            gender="female" if female else "male", age=int(rng.integers(20, 60)), body_height=h,
            pitch_channel=float(rng.uniform(70, 110) if female else rng.uniform(30, 65)),
            scale=float(rng.uniform(1.0, 1.08) if female else rng.uniform(0.92, 1.0)),
            offset=float(rng.uniform(5, 45) if female else rng.uniform(-45, -5)),
            tempo=float(rng.uniform(0.85, 1.2)), loudness=float(rng.uniform(0.75, 1.3))))
    return tuple(out)


# ---- one utterance ------------------------------------------------------------------------------


def _rates(tpl: _Template, spk: Speaker, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Rate map (T, 700) in spikes per bin and the word onset (s) for one utterance."""
    tempo = spk.tempo * float(np.exp(rng.normal(0, 0.12)))
    dur = tpl.duration_s * tempo
    onset = float(rng.uniform(0.02, 0.2))
    n_bins = int(np.ceil(min(MAX_DURATION_S, onset + dur + 0.05) / DT_S))
    t = (np.arange(n_bins) + 0.5) * DT_S
    ch = np.arange(N_UNITS, dtype=np.float64)
    # Monotone piecewise-linear time warp of the word: each quarter of the utterance covers a random
    # share of the word, so phoneme boundaries move independently. f is the word fraction in [0, 1].
    share = np.exp(rng.normal(0, WARP_SIGMA, 4))
    knots = np.concatenate([[0.0], np.cumsum(share) / share.sum()])
    u = np.clip((t - onset) / dur, 0.0, 1.0)
    f = np.interp(u, np.linspace(0.0, 1.0, 5), knots)
    inside = (t >= onset) & (t <= onset + dur)
    rate = np.zeros((n_bins, N_UNITS))
    env_edge = 0.03
    for tr in tpl.tracks:
        m = inside & (f >= tr.t0) & (f <= tr.t1)
        if not m.any():
            continue
        span = max(tr.t1 - tr.t0, 1e-6)
        v = (f[m] - tr.t0) / span
        centre = tr.c0 + (tr.c1 - tr.c0) * v + tr.bend * np.sin(np.pi * v)
        width = tr.width
        if tr.kind == "formant":
            centre = 350.0 + (centre - 350.0) * spk.scale + spk.offset + rng.normal(0, FORMANT_JITTER)
            width = width * float(np.exp(rng.normal(0, 0.1)))
        else:
            centre = centre + rng.normal(0, 15)
        # Soft on/offsets so segment boundaries are not hard edges.
        env = np.clip(np.minimum(v, 1 - v) * span / env_edge, 0.0, 1.0) ** 0.5
        band = np.exp(-0.5 * ((ch[None, :] - centre[:, None]) / width) ** 2)
        rate[m] += tr.weight * env[:, None] * band
    for a, b in tpl.voiced:  # voicing band at the speaker's pitch (speaker identity, not class)
        m = inside & (f >= a) & (f <= b)
        pc = spk.pitch_channel + rng.normal(0, 3)
        rate[m] += 0.6 * np.exp(-0.5 * ((ch - pc) / 6.0) ** 2)[None, :]
    total = rate.sum()
    if total > 0:
        loud = spk.loudness * float(np.exp(rng.normal(0, 0.2)))
        rate *= TEMPLATE_SPIKES * loud / total
    rate += BACKGROUND_HZ * DT_S
    return rate, onset


def synth_utterance(label: int, speaker: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(times_s float64 exactly representable in float16, units int64) of one utterance, sorted."""
    tpl = class_templates()[int(label)]
    spk = speakers()[int(speaker)]
    rate, _ = _rates(tpl, spk, rng)
    counts = rng.poisson(rate)
    b, c = np.nonzero(counts)
    k = counts[b, c]
    b = np.repeat(b, k)
    c = np.repeat(c, k)
    t = (b + rng.random(len(b))) * DT_S
    t16 = t.astype(np.float16).astype(np.float64)
    order = np.lexsort((c, t16))
    return t16[order], c[order].astype(np.int64)


# ---- dataset ------------------------------------------------------------------------------------


def _plan(split: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Balanced labels, and speakers of the split's speaker set balanced per label, in a seeded order."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), _SPLIT_CODE[split], 0x9A])))
    spk_set = np.array(TEST_SPEAKERS if split == "test" else TRAIN_SPEAKERS)
    i = np.arange(n)
    labels = i % N_CLASSES
    # Cycle c gives label l to speaker (c + l) mod n_speakers: every (label, speaker) pair recurs evenly.
    spk = spk_set[(i // N_CLASSES + labels) % len(spk_set)]
    order = rng.permutation(n)
    return labels[order], spk[order]


def generate_split(split: str, n: int, *, seed: int) -> ShdData:
    """One split in memory (what :func:`read_shd` returns for the written file)."""
    if split not in _SPLIT_CODE:
        raise InvalidSpikesError(f"split must be 'train' or 'test', got {split!r}")
    if int(n) < 0:
        raise InvalidSpikesError("the number of samples must be >= 0")
    labels, spk = _plan(split, int(n), seed)
    times, units = [], []
    for i in range(int(n)):
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), _SPLIT_CODE[split], i])))
        t, u = synth_utterance(int(labels[i]), int(spk[i]), rng)
        times.append(t)
        units.append(u)
    sp = speakers()
    meta = {"gender": np.array([s.gender for s in sp]), "age": np.array([s.age for s in sp], dtype=np.int64),
            "body_height": np.array([s.body_height for s in sp], dtype=np.float64)}
    return ShdData.from_samples(times, units, labels.astype(np.int64), speaker=spk.astype(np.int64), keys=KEYS,
                                meta_info=meta)


def generate_shd(out_dir: str | Path, *, n_train: int, n_test: int, seed: int) -> dict:
    """Write ``out_dir/shd_train.h5`` and ``out_dir/shd_test.h5`` and return the manifest.

    The manifest holds the generator name and version, seed, counts per split, label and speaker,
    the file sha256s and a combined ``tree_sha256``.
    """
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    manifest: dict = {"generator": GENERATOR, "version": GENERATOR_VERSION, "seed": int(seed),
                      "provenance": "synthetic", "format": "SHD HDF5 (Cramer et al. 2022)",
                      "n_units": N_UNITS, "keys": list(KEYS), "test_speakers": list(TEST_SPEAKERS),
                      "splits": {}, "files": {}}
    h = hashlib.sha256()
    for split, n in (("train", n_train), ("test", n_test)):
        data = generate_split(split, int(n), seed=int(seed))
        name = f"shd_{split}.h5"
        write_shd(root / name, data)
        blob = (root / name).read_bytes()
        sha = hashlib.sha256(blob).hexdigest()
        manifest["files"][name] = {"sha256": sha, "bytes": len(blob)}
        h.update(f"{name}\0{sha}\n".encode())
        manifest["splits"][split] = {
            "n_samples": len(data), "per_label": np.bincount(data.labels, minlength=N_CLASSES).tolist(),
            "speakers": sorted({int(s) for s in data.speaker}),
            "n_spikes": int(data.n_spikes)}
    manifest["tree_sha256"] = h.hexdigest()
    # the manifest beside the data marks the folder as generated (provenance "synthetic") wherever
    # it is later read from, e.g. when passed with --data-dir
    atomic_write_text(root / "manifest.json", json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def count_features(data: ShdData) -> np.ndarray:
    """(n_samples, 700) spike counts per channel (the non-spiking baseline's input)."""
    out = np.zeros((len(data), data.n_units))
    for i in range(len(data)):
        out[i] = np.bincount(data.units_of(i), minlength=data.n_units)
    return out


def _learnability(n_train: int = 2000, n_test: int = 400, seed: int = 0) -> None:  # pragma: no cover
    """Print the logistic-regression baselines quoted in the module docstring."""
    import time

    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    def fit(xtr, ytr, xte, yte, c):
        sc = StandardScaler().fit(xtr)
        clf = LogisticRegression(max_iter=3000, C=c).fit(sc.transform(xtr), ytr)
        return clf.score(sc.transform(xtr), ytr), clf.score(sc.transform(xte), yte), clf.predict(sc.transform(xte))

    def binned(d):
        x = np.zeros((len(d), 14 * 70))
        for i in range(len(d)):
            b = np.minimum((d.times_s(i) / 0.1).astype(np.int64), 13)
            x[i] = np.bincount(b * 70 + d.units_of(i) // 10, minlength=14 * 70)
        return np.log1p(x)

    t0 = time.perf_counter()
    tr, te = generate_split("train", n_train, seed=seed), generate_split("test", n_test, seed=seed)
    print(f"generated {n_train + n_test} samples in {time.perf_counter() - t0:.1f} s")
    a_tr, a_te, pred = fit(np.log1p(count_features(tr)), tr.labels, np.log1p(count_features(te)), te.labels, 0.1)
    twins = {frozenset(p) for p in REVERSED_PAIRS}
    wrong = pred != te.labels
    twin_err = sum(frozenset((int(a), int(b))) in twins for a, b in zip(pred[wrong], te.labels[wrong]))
    print(f"per-channel counts: train {a_tr:.3f} test {a_te:.3f} ({twin_err} of {int(wrong.sum())} errors are twins)")
    tot = lambda d: np.log(np.maximum(np.diff(d.offsets), 1))[:, None]
    print(f"total count only: test {fit(tot(tr), tr.labels, tot(te), te.labels, 1.0)[1]:.3f} (chance {1 / N_CLASSES})")
    print(f"14 x 100 ms x 70 channel groups: test {fit(binned(tr), tr.labels, binned(te), te.labels, 0.05)[1]:.3f}")
    print("spikes/sample p5/50/95", np.percentile(np.diff(tr.offsets), [5, 50, 95]),
          "last spike (s)", np.percentile([tr.times_s(i).max() for i in range(len(tr))], [5, 50, 95]))


if __name__ == "__main__":  # pragma: no cover
    _learnability()

__all__ = ["GENERATOR", "GENERATOR_VERSION", "KEYS", "N_CLASSES", "N_SPEAKERS", "TEST_SPEAKERS", "TRAIN_SPEAKERS",
           "REVERSED_PAIRS", "Speaker", "class_templates", "speakers", "synth_utterance", "generate_split",
           "generate_shd", "count_features"]
