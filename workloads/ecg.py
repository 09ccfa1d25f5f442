"""ECG anomaly detection: one sample per heartbeat, scored by a small recurrent SNN.

Data. Real: a folder of MIT-BIH WFDB records (``--data-dir DIR`` with ``DIR/mitdb/NNN.*``), split
inter-patient as de Chazal, O'Dwyer & Reilly (IEEE TBME 51(7), 2004): train = DS1 (101, 106, 108,
109, 112, 114, 115, 116, 118, 119, 122, 124, 201, 203, 205, 207, 208, 209, 215, 220, 223, 230),
test = DS2 (100, 103, 105, 111, 113, 117, 121, 123, 200, 202, 210, 212, 213, 214, 219, 221, 222,
228, 231, 232, 233, 234); the paced records 102, 104, 107, 217 are left out. A folder with
``train/`` and ``test/`` sub-folders uses those instead; a flat folder of other records puts the
last quarter (sorted names) in test. Provenance (:func:`detect_mitdb`): ``real-full`` is all **48**
records of the database (every signal's header checksum verified by the reader); other real
records are ``real-sample``. ``verified`` (content checked against known sha256) holds only when
every file is a shared fixture (record 100): PhysioNet publishes a ``SHA256SUMS.txt`` for mitdb
1.0.0, but spikebench does not ship it, so a full copy is tagged not verified ("no published
checksums known to spikebench beyond record 100"). A header written by the synthetic generator says so. Default: the synthetic ECG generator
(:mod:`~spikebench.workloads.synth_ecg`), 12 records of 15 min (9 train / 3 test "patients"),
anomaly rate 0.1 (half PVC, half PAC), 0.5 noise bursts per minute.

Encoding and binning (:mod:`~spikebench.workloads.ecg_encoding`). Each record is delta-modulated (threshold 0.05 mV, hysteresis) into UP and
DOWN events per lead: **4 input channels** (MLII up/down, second lead up/down). Leads are matched by
the header's signal names, never by position: MLII first, then V5, V1, V2, V4, II, ...
(:data:`~spikebench.workloads.ecg_encoding.LEAD_PREFERENCE`); a record with fewer than two known
leads is refused in one line naming its signals. Every beat gives a
window from 0.5 s before to 0.25 s after its R peak, binned at **5 ms: 150 steps** (several events
of one channel in one step make one spike). The short window is deliberate: at 60-85 bpm the
preceding normal beat lies 0.7-1.0 s back, outside the window, while the predecessor of a premature
beat (coupling 0.55-0.8 RR) falls inside it, and the next beat cannot reach 0.25 s after the peak;
so the spike *count* of a window already carries prematurity, width and noise. (With a 1.0 s /
0.5 s window, the neighbouring beats confound a count readout: a logistic regression on
per-channel counts reached AUROC 0.82 there against 0.97 here, on the default data, and the SNN
stayed near 0.85.) Label 1 = anomalous beat (any beat symbol other than N, L, R, e, j, or a window
overlapping a ``~`` noise segment).

Readout. Two LIF output neurons; the anomaly score of a beat is ``count(output 1) -
count(output 0)`` over its window (the engine's output spikes give it directly). The decision
threshold (max F1) is chosen on the **train** split and stored in the network metadata. Detection
latency per anomalous beat: the first step at or after the R peak at which the running score
(cumulative spike-count difference) reaches the threshold, within the 0.25 s after the peak.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import data as D
from .base import BinningError, Metric, RawSplit, WorkloadBase, WorkloadData, data_note
from .metrics import LinearBaseline, auprc, auroc, choose_threshold, detection_latency, f1_at
from .train_config import LayerSpec, TrainConfig

DS1 = ("101", "106", "108", "109", "112", "114", "115", "116", "118", "119", "122", "124", "201", "203", "205",
       "207", "208", "209", "215", "220", "223", "230")
DS2 = ("100", "103", "105", "111", "113", "117", "121", "123", "200", "202", "210", "212", "213", "214", "219",
       "221", "222", "228", "231", "232", "233", "234")
#: The 48 records of the MIT-BIH Arrhythmia Database (PhysioNet mitdb 1.0.0).
MITDB_RECORDS = tuple(str(r) for r in (
    100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 111, 112, 113, 114, 115, 116, 117, 118, 119, 121, 122, 123,
    124, 200, 201, 202, 203, 205, 207, 208, 209, 210, 212, 213, 214, 215, 217, 219, 220, 221, 222, 223, 228, 230,
    231, 232, 233, 234))
#: sha256 of the shared real fixture, MIT-BIH record 100 (``../shared/fixtures/mitdb/``, from wfdb-python).
MITDB_FIXTURE_SHA256 = {
    "100.hea": "95fbdda0454fffae1a2dab1a5ac53e924ae97691c028cdd3ee82f2446b73c066",
    "100.dat": "b2ea3c250e56e48f4b7b90697832b8ecd1afa1e0bb31f2dcfea4ed6e1075a639",
    "100.atr": "8d8a5349fb16638ebbf649f1779d12e96d91b736b2aafe59db43719ae583d471",
}

#: Default offline data (generator arguments).
DEFAULT_DATA = {"n_records": 12, "duration_s": 900.0, "anomaly_rate": 0.1, "v_fraction": 0.5,
                "noise_bursts_per_min": 0.5, "test_fraction": 0.25}
BASELINE_BINS = 10


def detect_mitdb(folder: Path) -> D.DataSource:
    """Provenance of a WFDB folder (MIT-BIH records, or the synthetic generator's train/test tree)."""
    m = D.generator_manifest(folder)
    if m is not None:
        return D.manifest_source(folder, m)
    heads = sorted(folder.glob("*.hea"))
    for h in heads[:3]:
        D.require_regular_file(h)  # a folder or FIFO named NNN.hea: refused, never opened (a FIFO blocks)
        try:
            if "SYNTHETIC record" in h.read_text(encoding="utf-8", errors="replace")[:4096]:
                return D.DataSource(path=folder, provenance="synthetic", description="synthetic ECG records (header says so)",
                                    details={"generator": "spikebench.workloads.synth_ecg"})
        except OSError:
            pass
    names = {h.stem for h in heads}
    present = sorted(names & set(MITDB_RECORDS))
    if len(present) == len(MITDB_RECORDS):
        # spikebench knows the sha256 of record 100 only (the shared fixture); PhysioNet publishes a
        # SHA256SUMS.txt for mitdb 1.0.0, but it is not shipped here, so the full set is not verified by content
        hits, n = D.match_fixtures([folder / n for n in MITDB_FIXTURE_SHA256 if (folder / n).is_file()],
                                   MITDB_FIXTURE_SHA256.values())
        return D.DataSource(path=folder, provenance="real-full",
                            description=(f"MIT-BIH Arrhythmia, all 48 records; not verified: no published checksums "
                                         f"known to spikebench beyond record 100 ({hits} of {len(MITDB_FIXTURE_SHA256)} "
                                         "files match), WFDB header checksums checked on read"),
                            details={"counts": {"records": 48}, "verified": False, "fixture_matches": hits})
    files = [folder / f"{n}.{e}" for n in sorted(names) for e in ("hea", "dat", "atr") if (folder / f"{n}.{e}").is_file()]
    return D.real_sample_source(folder, "WFDB records", files, {"records": len(names)}, MITDB_FIXTURE_SHA256.values())


class EcgAnomalyWorkload(WorkloadBase):
    """Per-beat anomaly scoring on (synthetic or MIT-BIH) ECG; see the module docstring."""

    name = "ecg-anomaly"
    task = "anomaly"
    subdir = "mitdb"
    where_files = "the 48 MIT-BIH Arrhythmia records NNN.hea/.dat/.atr from PhysioNet (mitdb 1.0.0)"
    timestep_s = 5e-3
    pre_s = 0.5
    post_s = 0.25
    threshold_mv = 0.05
    n_channels = 4
    input_shape = (4,)
    n_outputs = 2
    readout = "2 outputs; anomaly score = spike count of output 1 minus spike count of output 0"
    default_data = DEFAULT_DATA
    generator_module = "synth_ecg"
    baseline_bins = BASELINE_BINS

    @property
    def timesteps(self) -> int:
        return int(round((self.pre_s + self.post_s) / self.timestep_s))

    def _set_binning(self, timestep_s, timesteps) -> None:
        if timesteps is not None and timestep_s is None:
            raise BinningError(f"{self.name}: its steps follow from the beat window ({self.pre_s + self.post_s:g} s) "
                               "and timestep_s; set timestep_s, not timesteps")
        super()._set_binning(timestep_s, None)
        if timesteps is not None and int(timesteps) != self.timesteps:
            raise BinningError(f"{self.name}: timestep_s {self.timestep_s:g} s gives {self.timesteps} steps per "
                               f"beat window, not {timesteps}")

    # ---- data -------------------------------------------------------------------------------------

    def _synthetic_part(self, split: str) -> tuple[str, dict, str]:
        """One part, ``all``, holds both splits (records are split by patient, :meth:`split_records`)."""
        return "all", dict(self.data_params), (f"{self.data_params['n_records']} records x "
                                               f"{self.data_params['duration_s']:g} s")

    def _generate(self, tmp: Path, part: str, params: dict, seed: int) -> dict:
        from .synth_ecg import generate_ecg

        return generate_ecg(tmp, seed=seed, **params)

    def holds_files(self, folder: Path) -> bool:
        return any(folder.glob("*.hea")) or (folder / "train").is_dir()

    def detect(self, folder: Path, split: str) -> D.DataSource:
        src = detect_mitdb(folder)
        if src.provenance != "synthetic" and (folder / "train").is_dir():  # train/ + test/ layout
            inner = detect_mitdb(folder / "train")
            src = D.DataSource(path=folder, provenance=inner.provenance, description=inner.description,
                               details=inner.details)
        return src

    def split_records(self, folder: Path, split: str) -> tuple[Path, list[str] | None]:
        """(folder, record names) of ``split``; names None = the folder's ``RECORDS`` list / all headers."""
        self.check_split(split)
        if (folder / split).is_dir():
            return folder / split, None
        names = sorted(p.stem for p in folder.glob("*.hea"))
        if not names:
            raise D.DataUnavailableError(f"{folder}: no WFDB records (*.hea); {self.where_to_put()}")
        ds = DS1 if split == "train" else DS2
        if set(names) & set(DS1 + DS2):
            chosen = [n for n in names if n in ds]
            if not chosen:
                raise D.DataUnavailableError(
                    f"{folder}: none of the MIT-BIH {split} records ({'DS1' if split == 'train' else 'DS2'}: "
                    f"{', '.join(ds[:4])}, ...) is present; the folder holds {', '.join(names[:6])}")
            return folder, chosen
        n_test = max(1, round(len(names) * 0.25)) if len(names) > 1 else 0
        chosen = names[len(names) - n_test:] if split == "test" else names[:len(names) - n_test]
        if not chosen:
            raise D.DataUnavailableError(f"{folder}: only {len(names)} record(s), none left for the {split} split")
        return folder, chosen

    def _beats(self, src: D.DataSource, split: str):
        from .ecg_encoding import beat_samples_from_folder

        folder, records = self.split_records(src.path, split)
        bs = beat_samples_from_folder(folder, records=records, pre_s=self.pre_s, post_s=self.post_s,
                                      threshold_mv=self.threshold_mv, leads=2)
        if bs.n_channels != self.n_channels:
            raise D.DataUnavailableError(f"{folder}: records have {bs.n_channels // 2} leads; this workload needs 2")
        return bs

    def beats(self, split: str, *, data_dir=None, require_real: bool = False, seed: int = 0):
        """``(BeatSamples, DataSource)`` of ``split``."""
        src = self.source(split, data_dir=data_dir, require_real=require_real, seed=seed)
        return self._beats(src, split), src

    def _read(self, src: D.DataSource, split: str, limit: int | None, seed: int) -> RawSplit:
        bs = self._beats(src, split)
        idx = D.subset_indices(len(bs), limit, seed)
        return RawSplit(
            events=[bs.events[i] for i in idx], labels=bs.label[idx], total=len(bs), where=src.path, unit=" beats",
            extra={"beat_time_s": bs.beat_time_s[idx], "window_start_s": bs.beat_time_s[idx] - self.pre_s,
                   "pre_s": self.pre_s, "post_s": self.post_s, "symbol": tuple(bs.symbol[i] for i in idx),
                   "record": tuple(bs.record[i] for i in idx), "noisy": bs.noisy[idx]})

    def _binning(self) -> tuple:
        return (self.timestep_s, self.pre_s, self.post_s, self.threshold_mv)

    # ---- scoring ----------------------------------------------------------------------------------

    def decision_threshold(self) -> float:
        meta = self.reference_network().metadata
        if "threshold" not in meta:
            raise D.DataUnavailableError(f"{self.network_path.with_suffix('.json')}: no decision 'threshold' in "
                                         "the metadata; retrain with 'spikebench train ecg-anomaly'")
        return float(meta["threshold"])

    @staticmethod
    def anomaly_scores(output_spikes: np.ndarray) -> np.ndarray:
        c = np.asarray(output_spikes).sum(axis=1, dtype=np.int64)
        return (c[:, 1] - c[:, 0]).astype(np.float64)

    def score(self, output_spikes: np.ndarray, data: WorkloadData, *, threshold: float | None = None) -> list[Metric]:
        """AUROC, AUPRC, F1 at ``threshold`` (default: the network's, chosen on the train split), chance
        levels, detection rate and latency, and the baseline's AUROC."""
        return super().score(output_spikes, data, threshold=threshold)

    def _task_metrics(self, out: np.ndarray, data: WorkloadData, *, threshold: float | None = None) -> list[Metric]:
        thr = self.decision_threshold() if threshold is None else float(threshold)
        s = self.anomaly_scores(out)
        y = np.asarray(data.labels).astype(bool)
        note = data_note(data)
        m = [
            Metric(name="auroc", value=auroc(s, y), note=note),
            Metric(name="auprc", value=auprc(s, y), note=note),
            Metric(name="f1", value=f1_at(s, y, thr),
                   note=data_note(data, f"threshold {thr:g} (spike-count difference) chosen on the train split")),
            Metric(name="chance_auroc", value=0.5, note=note),
            Metric(name="chance_auprc", value=float(y.mean()), note=data_note(data, "anomalous fraction of beats")),
        ]
        cum = np.cumsum(out[:, :, 1].astype(np.int64) - out[:, :, 0].astype(np.int64), axis=1)
        steps = (np.arange(out.shape[1]) + 1) * data.spikes.timestep_s
        t_b = np.asarray(data.extra["beat_time_s"])[y]
        if len(t_b):
            times = (np.asarray(data.extra["window_start_s"])[y])[:, None] + steps[None, :]
            # half a step of slack: the last step ends exactly post_s after the peak, up to rounding
            lat = detection_latency(times, cum[y], t_b, thr, window_s=data.extra["post_s"] + 0.5 * data.spikes.timestep_s)
            lnote = data_note(data, f"{lat.n_detected} of {lat.n_beats} anomalous beats detected "
                                                     f"by the end of the window ({data.extra['post_s']:g} s after the R peak)")
            m.append(Metric(name="detection_rate", value=lat.detection_rate, note=lnote))
            if lat.n_detected:
                m.append(Metric(name="detection_latency_median_s", value=lat.median_s, unit="s", note=lnote))
                m.append(Metric(name="detection_latency_mean_s", value=lat.mean_s, unit="s", note=lnote))
        return m

    def _baseline_metric(self, model: LinearBaseline, data: WorkloadData) -> Metric:
        return Metric(name="baseline_auroc", value=auroc(model.score(self.baseline_features(data.spikes)), data.labels),
                      note=data_note(data, "logistic regression on input spike counts per "
                                           f"channel in {BASELINE_BINS} sub-windows, fitted on the train split"))

    def evaluate(self, train_outputs: np.ndarray, test_outputs: np.ndarray, *, train: WorkloadData,
                 test: WorkloadData) -> dict:
        """Also chooses the decision threshold (max F1 on the train split) stored in the metadata."""
        s_tr = self.anomaly_scores(self._outputs(train_outputs, train))
        thr = choose_threshold(s_tr, train.labels.astype(bool), rule="f1")
        metrics = self._evaluated_metrics(test_outputs, train=train, test=test, threshold=thr)
        return {"threshold": thr, "threshold_rule": "max F1 on the train split", "metric": "auroc",
                "value": metrics["auroc"], "metrics": metrics,
                "train_metrics": {"auroc": auroc(s_tr, train.labels), "f1": f1_at(s_tr, train.labels, thr)},
                "chance": {"auroc": 0.5, "auprc": float(np.mean(test.labels))},
                "baseline": {"auroc": metrics["baseline_auroc"], "model": "logistic regression on log1p input spike "
                             f"counts per channel in {BASELINE_BINS} sub-windows (train split)"}}

    def train_config(self, variant: str | None = None) -> TrainConfig:
        self.check_variant(variant)
        return TrainConfig(layers=(LayerSpec(n_out=64, recurrent=True, beta=(0.9, 0.995)), LayerSpec(n_out=2, beta=0.9)),
                           epochs=10, batch_size=128, lr=3e-3, init_gain=(1.0, 1.0), class_weighted=True,
                           surrogate_slope=10.0)


__all__ = ["EcgAnomalyWorkload", "DS1", "DS2", "MITDB_RECORDS", "MITDB_FIXTURE_SHA256", "DEFAULT_DATA", "detect_mitdb"]
