"""Synthetic MIT-BIH-format ECG with labelled anomalous beats: the offline generator of the ECG workload.

SYNTHETIC data: learnable by construction, never comparable to published MIT-BIH results
(``../shared/reference/datasets.md`` §4). Every record is written as a real WFDB triple through
:mod:`spikebench.workloads.wfdb_format` (``.hea`` with checksums, format-212 ``.dat``, MIT ``.atr``),
so the same reader runs on this data and on a real ``mitdb`` copy.

Signal model (per record, i.e. per synthetic "patient")
-------------------------------------------------------
ECGSYN (McSharry, Clifford, Tarassenko & Smith, IEEE TBME 50(3):289-294, 2003) moves a point round
a limit cycle and adds five Gaussian waves P, Q, R, S, T in the phase angle. Its ``z`` equation,
``dz/dt = -sum_i a_i dtheta_i exp(-dtheta_i^2 / 2 b_i^2) - (z - z0)``, integrates to a sum of
Gaussians in the phase; we evaluate that sum in closed form (the "Gaussian kernel" form of Sameni
et al., IEEE TBME 54(12), 2007) with the phase advancing linearly within each beat, which makes each
wave a Gaussian in time centred at a fixed offset from its R peak. This is exact for the model,
vectorised, and lets every beat carry its own morphology (ectopic beats).

- Wave offsets and widths: ECGSYN's angles (-70, -15, 0, 15, 100) deg and widths (0.25, 0.1, 0.1,
  0.1, 0.4) rad at 60 bpm are (-0.194, -0.042, 0, 0.042, 0.278) s and (40, 16, 16, 16, 64) ms.
  We narrow Q/R/S to 8-11 ms (MIT-BIH record 100's median R wave has a full width at half maximum of
  ~20 ms, i.e. sigma ~ 8.5 ms) and bring Q/S to +-25-32 ms; P sits 0.16-0.21 s before R. ECGSYN
  scales every angle with heart rate; we keep P and QRS fixed in time (QRS duration does not
  follow heart rate) and scale the T wave's offset and width with sqrt(preceding RR) (Bazett).
- Amplitudes (mV, before a per-record factor): MLII P 0.15, Q -0.12, R 1.2, S -0.28, T 0.30;
  V5 P 0.10, Q -0.10, R 0.8, S -0.35, T 0.25. Each wave gets a per-record factor in [0.8, 1.2],
  the R waves one in [0.7, 1.3] per lead, and R is modulated +-4 % by respiration.
- RR intervals: ECGSYN's bimodal spectrum, Gaussians at the Mayer wave (f1 in [0.08, 0.12] Hz) and
  the respiratory sinus arrhythmia (f2 = the record's breathing rate, [0.2, 0.33] Hz), both with
  c = 0.01 Hz and LF/HF power ratio in [0.4, 0.7] (ECGSYN default 0.5), synthesised as a sum of
  sinusoids with random phases and scaled to mean 60/HR s and std 60*hr_std/HR^2 s (ECGSYN's
  conversion). HR is drawn per record in [60, 85] bpm and hr_std in [1, 4] bpm.
- Baseline wander: respiration at f2 (0.03-0.10 mV) plus slow drift (sum of five sinusoids in
  0.01-0.1 Hz, 0.05-0.15 mV) plus a DC offset in [-0.3, 0.3] mV; broadband muscle/electrode noise
  (white, sigma 5-15 uV per lead) and 60 Hz mains (0-10 uV).
- Digitisation as MIT-BIH: 360 Hz, 11 bits, gain 200 adu/mV, ADC zero 1024, clipped to [0, 2047].

Injected anomalies (WFDB codes, ``ecgcodes.h``)
------------------------------------------------
- ``V`` premature ventricular contraction: coupling interval 0.55-0.70 x RR, no P wave, wide
  (sigma 28-40 ms) large (1.2-2.0 x |R|) QRS whose main deflection has a per-record random sign per
  lead (unifocal: one shape per record), a smaller opposite notch 40-60 ms later, a broad
  discordant T wave; full compensatory pause (the next sinus beat comes at 2 x RR after the
  preceding one) and the blocked sinus P wave drawn, dissociated, where the sinus node fired.
- ``A`` premature atrial contraction: coupling 0.60-0.80 x RR, an abnormal P (inverted, or
  biphasic) with a shorter PR, normal QRS; the sinus node is reset (non-compensatory pause).
- Noise bursts: ``~`` (NOISE, code 14) annotations mark them in MIT-BIH style: at onset with
  ``subtype`` = bit mask of the affected signals (bit 0 = MLII, bit 1 = V5) and at the end with
  subtype 0. A burst lasts 1-3 s and is either muscle artefact (band-limited Gaussian noise, 0.08-
  0.25 mV) or electrode motion (0.5-4 Hz swings, 0.2-0.6 mV). Beats inside keep their own labels.

``anomaly_rate`` is the expected fraction of beat annotations that are ``V`` or ``A`` (an ectopic
beat is never followed directly by another); ``v_fraction`` of them are ``V``. The first
annotation is a ``+`` rhythm change with aux ``(N`` as in MIT-BIH.

Determinism: record ``i`` of seed ``s`` draws from ``PCG64(SeedSequence(s, spawn_key=(i,)))``, so a
record does not depend on how many others are generated, and all randomness comes from numpy's
seeded generator. Floating-point results are rounded to integer ADC units before writing; the
bytes are identical across runs and machines with the same numpy (a changed numpy random stream
would change them: the golden sha256 in the tests then needs an update together with
``GENERATOR_VERSION``).

Per-beat event windows for the SNN (level-crossing encoding, beat windows, labels) are made from
these files by :mod:`spikebench.workloads.ecg_encoding`, as from a real MIT-BIH copy.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spikebench.core.errors import SpikebenchError, one_line
from spikebench.core.fileio import atomic_write_text

from .ecg_encoding import in_segments
from .wfdb_annotations import ANNOTATION_SYMBOLS, Annotations, write_annotations
from .wfdb_format import make_header, write_record

GENERATOR = "spikebench.workloads.synth_ecg"
GENERATOR_VERSION = "1"
FS_HZ = 360.0
GAIN_ADU_PER_MV = 200.0
ADC_ZERO = 1024
RESOLUTION_BITS = 11
LEADS = ("MLII", "V5")
SPLITS = ("train", "test")

CODE = {sym: code for code, sym in ANNOTATION_SYMBOLS.items()}
N_CODE, V_CODE, A_CODE, NOISE_CODE, RHYTHM_CODE = CODE["N"], CODE["V"], CODE["A"], CODE["~"], CODE["+"]

# Normal-beat waves: name -> (offset from R in s at RR = 1 s, sigma in s, amplitude in mV per lead).
_NORMAL_WAVES = {
    "P": (-0.185, 0.025, (0.15, 0.10)),
    "Q": (-0.028, 0.009, (-0.12, -0.10)),
    "R": (0.0, 0.0095, (1.2, 0.8)),
    "S": (0.028, 0.009, (-0.28, -0.35)),
    "T": (0.29, 0.055, (0.30, 0.25)),
}


class EcgGeneratorError(SpikebenchError):
    """A parameter of the synthetic ECG generator or the beat sampler is unusable."""


def _err(msg: str) -> EcgGeneratorError:
    return EcgGeneratorError(one_line(msg))


# ---- one record in memory ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, eq=False)
class SynthRecord:
    """One generated record before writing.

    ``signals``: ``(n_samples, 2)`` int16 ADC units (as the ``.dat`` holds them); ``clean_mv``:
    the noise-free, wander-free beat signal in mV (for tests); ``annotations``: what the ``.atr``
    holds; ``beat_sample``/``beat_symbol``: the beat annotations; ``noise_segments``: ``(k, 3)``
    int64 rows (start sample, end sample, lead mask); ``params``: the drawn per-record parameters.
    """

    name: str
    signals: np.ndarray
    clean_mv: np.ndarray
    annotations: Annotations
    beat_sample: np.ndarray
    beat_symbol: tuple[str, ...]
    noise_segments: np.ndarray
    params: dict = field(default_factory=dict)


def record_rng(seed: int, index: int) -> np.random.Generator:
    """The generator that draws record ``index`` of ``seed`` (independent of the number of records)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=(int(index),))))


def _draw_params(rng: np.random.Generator) -> dict:
    """Per-record ("per-patient") physiological and recording parameters."""
    u = rng.uniform
    p: dict = {
        "hr_bpm": u(60.0, 85.0),
        "hr_std_bpm": u(1.0, 4.0),
        "mayer_hz": u(0.08, 0.12),
        "resp_hz": u(0.2, 0.33),
        "lf_hf_ratio": u(0.4, 0.7),
        "pr_s": u(0.16, 0.21),
        "qs_offset_s": u(0.025, 0.032),
        "qrs_sigma_s": u(0.008, 0.011),
        "t_offset_s": u(0.27, 0.32),
    }
    amp = np.array([w[2] for w in _NORMAL_WAVES.values()], dtype=np.float64)  # (5, 2)
    amp = amp * u(0.8, 1.2, size=(5, 1))
    amp[2] *= u(0.7, 1.3, size=2)
    p["wave_amp_mv"] = amp
    p["resp_mod"] = 0.04
    # unifocal PVC shape
    r_abs = np.abs(amp[2])
    sign = np.where(rng.random(2) < 0.5, -1.0, 1.0)
    p["pvc_main_mv"] = sign * r_abs * u(1.2, 2.0, size=2)
    p["pvc_sigma_s"] = u(0.028, 0.040)
    p["pvc_notch_s"] = u(0.04, 0.06)
    p["pvc_t_mv"] = -0.3 * p["pvc_main_mv"]
    # ectopic atrial focus: inverted or biphasic P, shorter PR
    p["pac_p_kind"] = "inverted" if rng.random() < 0.5 else "biphasic"
    p["pac_p_scale"] = u(0.6, 1.0)
    p["pac_pr_factor"] = u(0.75, 0.95)
    # recording
    p["wander_resp_mv"] = u(0.03, 0.10, size=2)
    p["wander_drift_mv"] = u(0.05, 0.15, size=2)
    p["dc_mv"] = u(-0.3, 0.3, size=2)
    p["noise_sigma_mv"] = u(0.005, 0.015, size=2)
    p["mains_mv"] = u(0.0, 0.01, size=2)
    return p


def _rr_series(rng: np.random.Generator, p: dict, duration_s: float, grid_hz: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """RR interval (s) on a ``grid_hz`` time grid: ECGSYN's bimodal (Mayer + RSA) spectrum as a sum of sinusoids."""
    span = duration_s + 10.0
    df = 1.0 / span
    f = np.arange(1, int(0.5 / df)) * df
    c = 0.01

    def g(f0: float) -> np.ndarray:
        return np.exp(-((f - f0) ** 2) / (2 * c * c)) / np.sqrt(2 * np.pi * c * c)

    power = p["lf_hf_ratio"] * g(p["mayer_hz"]) + g(p["resp_hz"])
    keep = power > power.max() * 1e-6
    f, amp = f[keep], np.sqrt(power[keep] * df)
    phase = rng.uniform(0, 2 * np.pi, size=len(f))
    t = np.arange(0.0, span, 1.0 / grid_hz)
    x = np.zeros_like(t)
    for k0 in range(0, len(f), 64):  # chunks bound the (n_t, 64) temporary
        x += np.cos(2 * np.pi * np.outer(t, f[k0:k0 + 64]) + phase[k0:k0 + 64]) @ amp[k0:k0 + 64]
    x = (x - x.mean()) / (x.std() or 1.0)
    hr = p["hr_bpm"]
    rr_mean, rr_std = 60.0 / hr, 60.0 * p["hr_std_bpm"] / hr ** 2
    return t, rr_mean + rr_std * x


def _beat_schedule(rng: np.random.Generator, p: dict, duration_s: float, anomaly_rate: float,
                   v_fraction: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """R-peak times (s), kinds (0 N, 1 V, 2 A), preceding RR (s) and times of blocked sinus P waves' R slot."""
    tg, rr = _rr_series(rng, p, duration_s)

    def rr_at(t: float) -> float:
        return float(np.interp(t, tg, rr))

    q = anomaly_rate / (1.0 - anomaly_rate)  # an ectopic beat is never followed by another
    times: list[float] = []
    kinds: list[int] = []
    blocked: list[float] = []
    t = float(rng.uniform(0.3, 0.3 + 60.0 / p["hr_bpm"]))
    while t < duration_s:
        times.append(t)
        kinds.append(0)
        r = rr_at(t)
        draw, which, coupling = rng.random(), rng.random(), rng.random()
        if draw < q:
            if which < v_fraction:
                times.append(t + r * (0.55 + 0.15 * coupling))
                kinds.append(1)
                blocked.append(t + r)
                t = t + r + rr_at(t + r)  # full compensatory pause
            else:
                te = t + r * (0.60 + 0.20 * coupling)
                times.append(te)
                kinds.append(2)
                t = te + rr_at(te) * (1.0 + 0.05 * rng.random())  # sinus node reset
        else:
            t = t + r
    times_a = np.array(times)
    kinds_a = np.array(kinds, dtype=np.int8)
    keep = times_a < duration_s
    times_a, kinds_a = times_a[keep], kinds_a[keep]
    prev_rr = np.diff(times_a, prepend=times_a[0] - 60.0 / p["hr_bpm"])
    return times_a, kinds_a, prev_rr, np.array(blocked)


def _gaussians(n: int, fs: float, center_s: np.ndarray, sigma_s: np.ndarray, amp: np.ndarray) -> np.ndarray:
    """Sum of Gaussians ``amp[m] * exp(-(t - c_m)^2 / 2 s_m^2)`` on ``n`` samples; ``amp`` (M, L) -> (n, L)."""
    leads = amp.shape[1]
    out = np.zeros((n, leads))
    if len(center_s) == 0:
        return out
    half = int(np.ceil(5.0 * float(sigma_s.max()) * fs))
    base = np.rint(center_s * fs).astype(np.int64)
    idx = base[:, None] + np.arange(-half, half + 1)[None, :]
    g = np.exp(-0.5 * ((idx / fs - center_s[:, None]) / sigma_s[:, None]) ** 2)
    ok = (idx >= 0) & (idx < n)
    flat_idx = idx[ok]
    for lead in range(leads):
        out[:, lead] = np.bincount(flat_idx, weights=(g * amp[:, lead][:, None])[ok], minlength=n)
    return out


def _beat_waves(p: dict, times: np.ndarray, kinds: np.ndarray, prev_rr: np.ndarray,
                blocked: np.ndarray, resp_phase: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centres (s), sigmas (s) and amplitudes (mV, (M, 2)) of every Gaussian wave of every beat."""
    amp = p["wave_amp_mv"]
    cen, sig, amps = [], [], []

    def add(c, s, a):
        c = np.asarray(c, dtype=np.float64)
        cen.append(c)
        sig.append(np.broadcast_to(np.asarray(s, dtype=np.float64), c.shape))
        amps.append(np.broadcast_to(np.asarray(a, dtype=np.float64), (len(c), 2)))

    n_, v_, a_ = kinds == 0, kinds == 1, kinds == 2
    supra = n_ | a_
    ts, rrs = times[supra], prev_rr[supra]
    qrs_s, qs = p["qrs_sigma_s"], p["qs_offset_s"]
    resp = 1.0 + p["resp_mod"] * np.sin(2 * np.pi * p["resp_hz"] * ts + resp_phase)
    add(ts - qs, qrs_s, amp[1])
    add(ts, qrs_s * 1.05, amp[2][None, :] * resp[:, None])
    add(ts + qs, qrs_s, amp[3])
    bz = np.sqrt(np.clip(rrs, 0.3, 2.0))
    add(ts + p["t_offset_s"] * bz, _NORMAL_WAVES["T"][1] * bz, amp[4])
    # P waves: sinus beats and blocked sinus slots get the normal P; PACs their ectopic P
    sinus_p = np.concatenate([times[n_], blocked]) - p["pr_s"]
    add(sinus_p, _NORMAL_WAVES["P"][1], amp[0])
    tp = times[a_] - p["pr_s"] * p["pac_pr_factor"]
    pa = amp[0] * p["pac_p_scale"]
    if p["pac_p_kind"] == "inverted":
        add(tp, 0.022, -pa)
    else:
        add(tp - 0.012, 0.014, 0.8 * pa)
        add(tp + 0.016, 0.014, -0.8 * pa)
    # PVCs: wide main deflection, opposite notch, discordant broad T
    tv, rrv = times[v_], prev_rr[v_]
    main = p["pvc_main_mv"]
    add(tv, p["pvc_sigma_s"], main)
    add(tv + p["pvc_notch_s"], 0.7 * p["pvc_sigma_s"], -0.35 * main)
    bzv = np.sqrt(np.clip(rrv, 0.3, 2.0))
    add(tv + 1.15 * p["t_offset_s"] * bzv + 0.04, 0.075, p["pvc_t_mv"])
    return np.concatenate(cen), np.concatenate(sig), np.concatenate(amps)


def _noise_bursts(rng: np.random.Generator, n: int, fs: float, rate_per_min: float) -> tuple[np.ndarray, np.ndarray]:
    """``(k, 3)`` (start, end, mask) segments and the ``(n, 2)`` artefact they add (mV)."""
    dur_s = n / fs
    k = int(rng.poisson(rate_per_min * dur_s / 60.0))
    segs: list[tuple[int, int, int]] = []
    add = np.zeros((n, 2))
    for _ in range(k):
        length = rng.uniform(1.0, 3.0)
        start = rng.uniform(0.5, max(0.5, dur_s - length - 0.5))
        s0, s1 = int(round(start * fs)), int(round((start + length) * fs))
        kind, mask_draw = rng.random(), rng.random()
        if s1 > n or any(s0 < b + int(0.5 * fs) and a < s1 + int(0.5 * fs) for a, b, _m in segs):
            continue  # overlapping or off the end: drawn (for determinism) but not used
        mask = 1 if mask_draw < 0.25 else 2 if mask_draw < 0.5 else 3
        m = s1 - s0
        tt = np.arange(m) / fs
        ramp = np.minimum(1.0, np.minimum(tt, tt[::-1]) / 0.1)
        env = 0.5 - 0.5 * np.cos(np.pi * ramp)  # raised-cosine 100 ms edges
        for lead in range(2):
            if not mask & (1 << lead):
                continue
            if kind < 0.5:  # muscle artefact: band-limited (3-tap average) Gaussian noise
                w = rng.standard_normal(m + 2)
                x = (w[:-2] + w[1:-1] + w[2:]) / np.sqrt(3.0) * rng.uniform(0.08, 0.25)
            else:  # electrode motion: a few slow swings
                fr = rng.uniform(0.5, 4.0, size=3)
                ph = rng.uniform(0, 2 * np.pi, size=3)
                x = (np.sin(2 * np.pi * np.outer(tt, fr) + ph) @ rng.uniform(0.2, 0.6, size=3)) / 1.5
            add[s0:s1, lead] += env * x
        segs.append((s0, s1, mask))
    segs.sort()
    return np.array(segs, dtype=np.int64).reshape(-1, 3), add


def synthesize_record(rng: np.random.Generator, *, name: str, duration_s: float, anomaly_rate: float = 0.1,
                      v_fraction: float = 0.5, noise_bursts_per_min: float = 0.5, fs_hz: float = FS_HZ) -> SynthRecord:
    """Draw one two-lead record (see the module docstring for the model and its parameters)."""
    _check_args(duration_s=duration_s, anomaly_rate=anomaly_rate, v_fraction=v_fraction,
                noise_bursts_per_min=noise_bursts_per_min)
    n = int(round(duration_s * fs_hz))
    p = _draw_params(rng)
    times, kinds, prev_rr, blocked = _beat_schedule(rng, p, n / fs_hz, anomaly_rate, v_fraction)
    resp_phase = float(rng.uniform(0, 2 * np.pi))
    cen, sig, amp = _beat_waves(p, times, kinds, prev_rr, blocked, resp_phase)
    clean = _gaussians(n, fs_hz, cen, sig, amp)
    t = np.arange(n) / fs_hz
    # baseline wander: respiration + slow drift + DC
    wander = np.sin(2 * np.pi * p["resp_hz"] * t + resp_phase)[:, None] * p["wander_resp_mv"]
    fd = rng.uniform(0.01, 0.1, size=5)
    phd = rng.uniform(0, 2 * np.pi, size=(5, 2))
    for j in range(5):
        wander += np.sin(2 * np.pi * fd[j] * t[:, None] + phd[j]) * (p["wander_drift_mv"] / np.sqrt(5.0))
    wander += p["dc_mv"]
    mains = np.sin(2 * np.pi * 60.0 * t + rng.uniform(0, 2 * np.pi))[:, None] * p["mains_mv"]
    noise = rng.standard_normal((n, 2)) * p["noise_sigma_mv"]
    segs, bursts = _noise_bursts(rng, n, fs_hz, noise_bursts_per_min)
    mv = clean + wander + mains + noise + bursts
    digital = np.clip(np.rint(mv * GAIN_ADU_PER_MV) + ADC_ZERO, 0, (1 << RESOLUTION_BITS) - 1).astype(np.int16)

    # annotate each beat at its R peak: the largest |deflection| of the clean MLII beat within +-40 ms
    half = int(round(0.04 * fs_hz))
    nominal = np.rint(times * fs_hz).astype(np.int64)
    win = np.clip(nominal[:, None] + np.arange(-half, half + 1)[None, :], 0, n - 1)
    peak = win[np.arange(len(win)), np.argmax(np.abs(clean[win, 0]), axis=1)]
    sym_of = np.array(["N", "V", "A"])
    beat_sym = sym_of[kinds]
    ann = _annotations(peak, beat_sym, segs)
    params = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in p.items()}
    return SynthRecord(name=name, signals=digital, clean_mv=clean, annotations=ann, beat_sample=peak,
                       beat_symbol=tuple(beat_sym.tolist()), noise_segments=segs, params=params)


def _annotations(beat_sample: np.ndarray, beat_sym: np.ndarray, segs: np.ndarray) -> Annotations:
    """MIT annotations: a ``+``/``(N`` rhythm label, the beats, and ``~`` noise onsets (subtype = lead mask) and ends."""
    first = int(min(beat_sample[0], segs[0, 0]) if len(segs) else beat_sample[0]) if len(beat_sample) else 0
    samples = [np.array([max(0, first - 1)]), beat_sample, segs[:, 0], segs[:, 1]]
    codes = [np.array([RHYTHM_CODE]), np.array([CODE[s] for s in beat_sym], dtype=np.int64),
             np.full(len(segs), NOISE_CODE), np.full(len(segs), NOISE_CODE)]
    subs = [np.zeros(1), np.zeros(len(beat_sample)), segs[:, 2], np.zeros(len(segs))]
    order_key = [np.zeros(1), np.ones(len(beat_sample)), np.full(len(segs), 2), np.full(len(segs), 2)]
    s = np.concatenate(samples).astype(np.int64)
    c = np.concatenate(codes).astype(np.uint8)
    sub = np.concatenate(subs).astype(np.int16)
    key = np.concatenate(order_key)
    order = np.lexsort((key, s))
    s, c, sub = s[order], c[order], sub[order]
    aux = [b""] * len(s)
    aux[0] = b"(N\x00"
    z = np.zeros(len(s), dtype=np.int16)
    return Annotations(sample=s, code=c, subtype=sub, chan=z, num=z.copy(), aux=tuple(aux))


# ---- many records on disk ------------------------------------------------------------------------


def _check_args(*, duration_s: float, anomaly_rate: float, v_fraction: float, noise_bursts_per_min: float) -> None:
    if not (np.isfinite(duration_s) and 10.0 <= duration_s <= 86400.0):
        raise _err(f"duration_s must be between 10 s and 24 h, got {duration_s!r}")
    if not (np.isfinite(anomaly_rate) and 0.0 <= anomaly_rate <= 0.4):
        raise _err(f"anomaly_rate (fraction of beats that are V or A) must be in [0, 0.4], got {anomaly_rate!r}")
    if not (np.isfinite(v_fraction) and 0.0 <= v_fraction <= 1.0):
        raise _err(f"v_fraction must be in [0, 1], got {v_fraction!r}")
    if not (np.isfinite(noise_bursts_per_min) and 0.0 <= noise_bursts_per_min <= 10.0):
        raise _err(f"noise_bursts_per_min must be in [0, 10], got {noise_bursts_per_min!r}")


def record_name(index: int) -> str:
    """Synthetic record names ``s000``, ``s001``... (never MIT-BIH's numeric names)."""
    return f"s{index:03d}"


def split_of(n_records: int, test_fraction: float) -> dict[str, list[int]]:
    """Record indices per split: the last ``round(n * test_fraction)`` (>= 1 when n >= 2) are test."""
    n_test = 0 if n_records < 2 or test_fraction <= 0 else min(n_records - 1, max(1, round(n_records * test_fraction)))
    return {"train": list(range(n_records - n_test)), "test": list(range(n_records - n_test, n_records))}


def generate_ecg(out_dir: str | Path, *, n_records: int = 8, duration_s: float = 1800.0, seed: int = 0,
                 anomaly_rate: float = 0.1, v_fraction: float = 0.5, noise_bursts_per_min: float = 0.5,
                 test_fraction: float = 0.25, overwrite: bool = False) -> dict:
    """Write ``n_records`` synthetic two-lead records as WFDB triples, split by record into train/test.

    Layout: ``out_dir/{train,test}/<name>.{hea,dat,atr}`` plus a PhysioNet-style ``RECORDS`` file
    (one name per line) in each split folder and ``out_dir/manifest.json``. Returns the manifest:
    generator, version, seed and arguments, the split record lists, per record its beat counts
    (N, V, A), noise bursts, beats inside noise, drawn parameters and the sha256 of each file, and
    totals per split. Refuses a non-empty ``out_dir`` unless ``overwrite`` (and even then refuses
    to leave record files of another run beside the new ones).
    """
    if isinstance(n_records, bool) or not isinstance(n_records, int | np.integer) or not 1 <= n_records <= 999:
        raise _err(f"n_records must be an integer in [1, 999], got {n_records!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise _err(f"seed must be a non-negative integer, got {seed!r}")
    if not (np.isfinite(test_fraction) and 0.0 <= test_fraction < 1.0):
        raise _err(f"test_fraction must be in [0, 1), got {test_fraction!r}")
    _check_args(duration_s=duration_s, anomaly_rate=anomaly_rate, v_fraction=v_fraction,
                noise_bursts_per_min=noise_bursts_per_min)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise _err(f"{out}: exists and is not a folder")
    if not out.parent.is_dir():
        raise _err(f"{out}: parent folder {out.parent} does not exist")
    splits = split_of(n_records, test_fraction)
    names = {record_name(i) for i in range(n_records)}
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise _err(f"{out}: folder is not empty; pass overwrite=True or choose an empty folder")
        stale = sorted(str(p) for sp in SPLITS for p in (out / sp).glob("*")
                       if p.suffix in (".hea", ".dat", ".atr") and p.stem not in names)
        if stale:
            raise _err(f"{out}: holds record files this run would not rewrite ({', '.join(stale[:5])}"
                       f"{' ...' if len(stale) > 5 else ''}); remove them or choose an empty folder")
    out.mkdir(exist_ok=True)
    manifest: dict = {
        "generator": GENERATOR, "generator_version": GENERATOR_VERSION, "provenance": "synthetic",
        "seed": int(seed), "n_records": int(n_records), "duration_s": float(duration_s), "fs_hz": FS_HZ,
        "leads": list(LEADS), "anomaly_rate": float(anomaly_rate), "v_fraction": float(v_fraction),
        "noise_bursts_per_min": float(noise_bursts_per_min), "test_fraction": float(test_fraction),
        "splits": {}, "records": {}, "beats": {},
    }
    for split in SPLITS:
        folder = out / split
        folder.mkdir(exist_ok=True)
        split_names = [record_name(i) for i in splits[split]]
        manifest["splits"][split] = split_names
        totals = {"N": 0, "V": 0, "A": 0, "noise_bursts": 0, "beats_in_noise": 0}
        for i in splits[split]:
            rec = synthesize_record(record_rng(seed, i), name=record_name(i), duration_s=duration_s,
                                    anomaly_rate=anomaly_rate, v_fraction=v_fraction,
                                    noise_bursts_per_min=noise_bursts_per_min)
            info = write_synth_record(folder, rec, seed=seed, index=i)
            info["split"] = split
            manifest["records"][rec.name] = info
            for k in totals:
                totals[k] += info["beats"][k] if k in ("N", "V", "A") else info[k]
        atomic_write_text(folder / "RECORDS", "".join(f"{nm}\n" for nm in split_names))
        manifest["beats"][split] = totals
    atomic_write_text(out / "manifest.json", json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def write_synth_record(folder: str | Path, rec: SynthRecord, *, seed: int, index: int) -> dict:
    """Write ``rec`` as ``<name>.hea/.dat/.atr`` in ``folder``; returns its manifest entry."""
    folder = Path(folder)
    comments = (f"SYNTHETIC record: {GENERATOR} v{GENERATOR_VERSION} seed={seed} index={index}",
                "not MIT-BIH data; ECGSYN-style model with injected V/A beats and ~ noise bursts",
                f"hr_bpm={rec.params['hr_bpm']:.2f} hr_std_bpm={rec.params['hr_std_bpm']:.2f}")
    header = make_header(rec.name, rec.signals, fs_hz=FS_HZ, gain=GAIN_ADU_PER_MV, resolution=RESOLUTION_BITS,
                         adc_zero=ADC_ZERO, descriptions=LEADS, comments=comments)
    write_record(folder, header, rec.signals)
    write_annotations(folder / f"{rec.name}.atr", rec.annotations)
    files = {}
    for ext in ("hea", "dat", "atr"):
        fname = f"{rec.name}.{ext}"
        files[fname] = hashlib.sha256((folder / fname).read_bytes()).hexdigest()
    sym = np.array(rec.beat_symbol)
    in_noise = in_segments(rec.beat_sample, rec.noise_segments[:, :2])
    return {
        "n_samples": int(len(rec.signals)),
        "beats": {s: int((sym == s).sum()) for s in ("N", "V", "A")},
        "noise_bursts": int(len(rec.noise_segments)),
        "noise_s": float((rec.noise_segments[:, 1] - rec.noise_segments[:, 0]).sum() / FS_HZ),
        "beats_in_noise": int(in_noise.sum()),
        "sha256": files,
        "params": rec.params,
    }


__all__ = [
    "GENERATOR", "GENERATOR_VERSION", "FS_HZ", "LEADS", "SPLITS", "EcgGeneratorError", "SynthRecord",
    "record_rng", "synthesize_record", "generate_ecg", "write_synth_record", "record_name", "split_of",
]
