"""Task metrics: accuracy with chance level and a non-spiking baseline; AUROC, AUPRC, F1, latency.

Numpy, with scikit-learn for the ranking metrics (``roc_auc_score``, ``average_precision_score``)
and the logistic-regression baseline (both imported when called). Every function validates its
inputs and raises :class:`MetricInputError` (a :class:`~spikebench.core.errors.SpikebenchError`)
with a one-line message; an undefined metric is an error, never a silent 0.0.

Conventions: ``scores`` are "higher = more anomalous"; ``labels`` are binary (bool or 0/1, 1 =
positive/anomalous); a beat is predicted positive when ``score >= threshold``.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from spikebench.core.errors import SpikebenchError, one_line


class MetricInputError(SpikebenchError):
    """Inputs to a metric are unusable (shapes, NaN, non-binary or single-class labels)."""


def _err(msg: str) -> MetricInputError:
    return MetricInputError(one_line(msg))


# ---- validation ----------------------------------------------------------------------------------


def _vector(x, name: str, *, finite: bool = True) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 1:
        raise _err(f"{name} must be a 1-D array, got shape {a.shape}")
    if len(a) == 0:
        raise _err(f"{name} is empty")
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise _err(f"{name} must be numeric, got dtype {a.dtype}")
    if finite and np.issubdtype(a.dtype, np.floating) and not np.all(np.isfinite(a)):
        bad = int(np.count_nonzero(~np.isfinite(a)))
        raise _err(f"{name} contains {bad} NaN or infinite value(s)")
    return a


def _same_length(a: np.ndarray, b: np.ndarray, na: str, nb: str) -> None:
    if a.shape != b.shape:
        raise _err(f"{na} has shape {a.shape} but {nb} has shape {b.shape}; they must match")


def _binary(labels, name: str = "labels") -> np.ndarray:
    y = _vector(labels, name)
    if y.dtype == bool:
        return y
    vals = np.unique(y)
    if not np.all(np.isin(vals, (0, 1))):
        shown = ", ".join(str(v) for v in vals[:5]) + (" ..." if len(vals) > 5 else "")
        raise _err(f"{name} must be binary (0/1 or bool), got values {shown}")
    return y == 1


def _scores_labels(scores, labels) -> tuple[np.ndarray, np.ndarray]:
    s = _vector(scores, "scores").astype(np.float64)
    y = _binary(labels)
    _same_length(s, y, "scores", "labels")
    return s, y


def _integer_labels(x, name: str) -> np.ndarray:
    a = _vector(x, name)
    if a.dtype == bool:
        return a.astype(np.int64)
    if np.issubdtype(a.dtype, np.floating):
        if not np.all(a == np.round(a)):
            raise _err(f"{name} must be integer class labels, got non-integer values")
        return a.astype(np.int64)
    return a


# ---- classification ------------------------------------------------------------------------------


def accuracy(predictions, labels) -> float:
    """Fraction of ``predictions`` equal to ``labels`` (integer class labels, same shape)."""
    p = _integer_labels(predictions, "predictions")
    y = _integer_labels(labels, "labels")
    _same_length(p, y, "predictions", "labels")
    return float(np.mean(p == y))


@dataclass(frozen=True, kw_only=True)
class ChanceLevel:
    """Two chance levels: always predicting the majority class, and guessing uniformly among k classes."""

    majority: float
    uniform: float
    majority_class: int
    n_classes: int


def chance_level(labels, n_classes: int | None = None) -> ChanceLevel:
    """Majority-class rate of ``labels`` and uniform ``1 / k`` (k = ``n_classes`` or the classes present)."""
    y = _integer_labels(labels, "labels")
    vals, counts = np.unique(y, return_counts=True)
    k = len(vals) if n_classes is None else int(n_classes)
    if k < len(vals):
        raise _err(f"n_classes={n_classes} but labels hold {len(vals)} distinct classes")
    if k < 1:
        raise _err(f"n_classes must be >= 1, got {n_classes}")
    i = int(np.argmax(counts))  # ties: the smallest class label
    return ChanceLevel(majority=float(counts[i] / len(y)), uniform=1.0 / k, majority_class=int(vals[i]), n_classes=k)


def _counts_matrix(x, name: str) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0:
        raise _err(f"{name} must be a non-empty 2-D array (samples, channels), got shape {a.shape}")
    if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise _err(f"{name} must be numeric, got dtype {a.dtype}")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise _err(f"{name} contains NaN or infinite values")
    if np.any(a < 0):
        raise _err(f"{name} holds negative spike counts")
    return a


@dataclass(frozen=True, kw_only=True, eq=False)
class LinearBaseline:
    """The non-spiking baseline: ``log1p -> standardise -> logistic regression`` on spike counts,
    fitted by :func:`fit_baseline` and kept as plain arrays (saved as ``.npz``, read without pickle).

    ``counts`` are ``(samples, channels)`` spike counts, the features it was fitted on.
    """

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    classes: np.ndarray

    def decision(self, counts) -> np.ndarray:
        """``(samples, 1)`` log-odds of class 1 (two classes) or ``(samples, classes)`` class scores."""
        x = _counts_matrix(counts, "counts")
        if x.shape[1] != len(self.mean):
            raise _err(f"counts have {x.shape[1]} channels, the baseline was fitted on {len(self.mean)}")
        z = (np.log1p(x) - self.mean) / self.scale
        return z @ self.coef.T + self.intercept

    def predict(self, counts) -> np.ndarray:
        """The predicted class of each sample (as scikit-learn's ``LogisticRegression.predict``)."""
        d = self.decision(counts)
        if d.shape[1] == 1:
            return self.classes[(d[:, 0] > 0).astype(np.int64)]
        return self.classes[d.argmax(axis=1)]

    def score(self, counts) -> np.ndarray:
        """Two classes: the log-odds of class 1, a monotone function of its probability (:meth:`proba`)
        that never saturates into ties, so the ranking metrics see every difference."""
        return self.decision(counts)[:, 0]

    def proba(self, counts) -> np.ndarray:
        """Two classes: the probability of class 1 (``predict_proba(...)[:, 1]`` of scikit-learn)."""
        from scipy.special import expit

        return expit(self.score(counts))

    def save(self, path: Path) -> None:
        from spikebench.core.fileio import atomic_write_bytes

        buf = io.BytesIO()
        np.savez(buf, **asdict(self))
        atomic_write_bytes(path, buf.getvalue())

    @classmethod
    def load(cls, path: Path) -> LinearBaseline:
        with np.load(path, allow_pickle=False) as z:
            return cls(**{k: z[k] for k in ("mean", "scale", "coef", "intercept", "classes")})


def fit_baseline(train_counts, train_labels, seed: int = 0) -> LinearBaseline:
    """Fit the baseline on ``(samples, channels)`` spike counts and integer class labels.

    Counts go through ``log1p`` and per-channel standardisation (fitted on these counts), then
    scikit-learn's ``LogisticRegression`` (lbfgs, L2, C = 1, multinomial for k > 2 classes,
    ``random_state=seed``); the fitted arrays are kept, the estimator is not.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    x = _counts_matrix(train_counts, "train_counts")
    y = _integer_labels(train_labels, "train_labels")
    if len(y) != len(x):
        raise _err(f"train_counts has {len(x)} rows but train_labels has {len(y)} entries")
    if len(np.unique(y)) < 2:
        raise _err("train_labels hold a single class; a classifier needs at least two")
    model = make_pipeline(FunctionTransformer(np.log1p), StandardScaler(),
                          LogisticRegression(max_iter=2000, random_state=int(seed)))
    model.fit(x, y)
    scaler, lr = model[1], model[2]
    return LinearBaseline(mean=scaler.mean_.copy(), scale=scaler.scale_.copy(), coef=lr.coef_.copy(),
                          intercept=lr.intercept_.copy(), classes=lr.classes_.copy())


def logistic_baseline(train_counts, train_labels, test_counts, test_labels, seed: int = 0) -> float:
    """Test accuracy of :func:`fit_baseline`'s model (the non-spiking baseline of a classification task)."""
    return accuracy(fit_baseline(train_counts, train_labels, seed).predict(test_counts), test_labels)


def logistic_baseline_scores(train_counts, train_labels, test_counts, seed: int = 0) -> np.ndarray:
    """Binary labels: the test probability of class 1 under :func:`fit_baseline`'s model (for AUROC)."""
    return fit_baseline(train_counts, _binary(train_labels, "train_labels"), seed).proba(test_counts)


def rate_predictions(output_spikes: np.ndarray) -> np.ndarray:
    """Class per sample from ``(samples, T, classes)`` output spikes: the neuron with most spikes.

    Ties (several neurons share the top count, including a silent output) give ``-1``: no decision,
    scored as wrong. (``SimulationResult.predictions`` picks the lowest index instead.)
    """
    out = np.asarray(output_spikes)
    if out.ndim != 3:
        raise _err(f"output spikes must be (samples, timesteps, outputs), got shape {out.shape}")
    counts = out.sum(axis=1, dtype=np.int64)
    best = counts.max(axis=1, keepdims=True)
    winners = (counts == best).sum(axis=1)
    return np.where(winners == 1, counts.argmax(axis=1), -1)


# ---- ranking metrics -----------------------------------------------------------------------------


def auroc(scores, labels) -> float:
    """Area under the ROC curve (``sklearn.metrics.roc_auc_score``): P(score of a random positive >
    score of a random negative) + 0.5 P(equal), the trapezoid area under the ROC curve's distinct
    thresholds, summed in integers (the same value as sklearn, without importing it). Needs both classes."""
    s, y = _scores_labels(scores, labels)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise _err(f"AUROC needs both classes; labels hold {n_pos} positive and {n_neg} negative")
    _, tp, fp = _sorted_curve(s, y)
    tp, fp = np.r_[0, tp].astype(np.int64), np.r_[0, fp].astype(np.int64)
    twice_area = int(np.sum(np.diff(fp) * (tp[1:] + tp[:-1])))  # exact: 2 x area in units of 1 / (n_pos n_neg)
    return twice_area / (2 * n_pos * n_neg)


def _sorted_curve(s: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct thresholds (descending) and cumulative TP, FP at ``score >= threshold``."""
    order = np.argsort(-s, kind="mergesort")
    ss, yy = s[order], y[order]
    last = np.r_[ss[1:] != ss[:-1], True]  # last index of each tie group
    tp = np.cumsum(yy)[last]
    fp = np.cumsum(~yy)[last]
    return ss[last], tp, fp


def auprc(scores, labels) -> float:
    """Average precision (``sklearn.metrics.average_precision_score``): the sum over distinct
    thresholds of (recall step) x precision, the step-wise area under the precision-recall curve
    without interpolation (the same value as sklearn, without importing it). Needs at least one positive."""
    s, y = _scores_labels(scores, labels)
    if not y.any():
        raise _err("AUPRC needs at least one positive label; labels are all negative")
    _, tp, fp = _sorted_curve(s, y)
    precision = tp / (tp + fp)
    recall_step = np.diff(np.r_[0, tp]) / tp[-1]
    return float(np.sum(recall_step * precision))


def _threshold(threshold) -> float:
    try:
        t = float(threshold)
    except (TypeError, ValueError):
        raise _err(f"threshold must be a number, got {threshold!r}") from None
    if not np.isfinite(t):
        raise _err(f"threshold must be finite, got {threshold!r}")
    return t


def f1_at(scores, labels, threshold: float) -> float:
    """F1 = 2 TP / (2 TP + FP + FN) with positives predicted where ``score >= threshold``.

    Undefined (an error) when there are no positive labels and none predicted.
    """
    s, y = _scores_labels(scores, labels)
    t = _threshold(threshold)
    pred = s >= t
    tp = int(np.sum(pred & y))
    fp = int(np.sum(pred & ~y))
    fn = int(np.sum(~pred & y))
    if 2 * tp + fp + fn == 0:
        raise _err("F1 is undefined: no positive labels and no positive predictions")
    return 2 * tp / (2 * tp + fp + fn)


def choose_threshold(scores, labels, rule: str = "f1") -> float:
    """The threshold (one of the scores) that maximises F1 (``rule="f1"``) or Youden's J = TPR - FPR.

    Choose it on training or validation data and apply it to the test set. Ties go to the highest
    such threshold (fewest positive predictions).
    """
    s, y = _scores_labels(scores, labels)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    thr, tp, fp = _sorted_curve(s, y)
    if rule == "f1":
        if n_pos == 0:
            raise _err("choose_threshold(rule='f1') needs at least one positive label")
        obj = 2 * tp / (tp + fp + n_pos)  # 2TP / (2TP + FP + FN), FN = n_pos - TP
    elif rule == "youden":
        if n_pos == 0 or n_neg == 0:
            raise _err(f"choose_threshold(rule='youden') needs both classes; got {n_pos} positive, {n_neg} negative")
        obj = tp / n_pos - fp / n_neg
    else:
        raise _err(f"unknown threshold rule {rule!r}; use 'f1' or 'youden'")
    return float(thr[int(np.argmax(obj))])  # argmax takes the first max = highest threshold


# ---- detection latency ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, eq=False)
class DetectionLatency:
    """Per-beat detection latency (s) from the beat time to the first score >= threshold in the window.

    ``latency_s[b]`` is NaN where beat ``b`` was missed (no score at or above threshold within
    ``[t_b, t_b + window_s]``). ``mean_s``/``median_s``/``p90_s`` summarise the detected beats and
    are NaN only when ``n_detected`` is 0 (reported, not hidden).
    """

    latency_s: np.ndarray
    n_beats: int
    n_detected: int
    n_missed: int
    mean_s: float
    median_s: float
    p90_s: float
    window_s: float

    @property
    def detection_rate(self) -> float:
        return self.n_detected / self.n_beats


def detection_latency(score_times_s, scores, beat_times_s, threshold: float, window_s: float) -> DetectionLatency:
    """Time from each beat (e.g. its R peak) to the first score at or above ``threshold``.

    Two layouts, times in seconds on the same clock as ``beat_times_s`` ``(B,)``:

    - one stream: ``score_times_s`` and ``scores`` ``(M,)`` (times non-decreasing); each beat
      searches the scores with times in ``[t_b, t_b + window_s]``;
    - per-beat traces: ``scores`` ``(B, T)`` with ``score_times_s`` ``(B, T)`` or ``(T,)``
      (e.g. :meth:`~spikebench.workloads.synth_ecg.BeatSamples.step_times_s`); beat ``b``
      searches its own row in the same window.

    Pass only the beats that should be detected (the anomalous ones); a beat with no crossing is
    a miss, counted in ``n_missed`` and NaN in ``latency_s``.
    """
    bt = _vector(beat_times_s, "beat_times_s").astype(np.float64)
    t = _threshold(threshold)
    try:
        w = float(window_s)
    except (TypeError, ValueError):
        raise _err(f"window_s must be a number, got {window_s!r}") from None
    if not (np.isfinite(w) and w >= 0):
        raise _err(f"window_s must be a finite number >= 0, got {window_s!r}")
    sc = np.asarray(scores)
    st = np.asarray(score_times_s)
    for arr, name in ((sc, "scores"), (st, "score_times_s")):
        if not np.issubdtype(arr.dtype, np.number) or arr.size == 0:
            raise _err(f"{name} must be a non-empty numeric array, got dtype {arr.dtype} shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise _err(f"{name} contains NaN or infinite values")
    sc = sc.astype(np.float64)
    st = st.astype(np.float64)
    if sc.ndim == 1:
        if st.shape != sc.shape:
            raise _err(f"score_times_s has shape {st.shape} but scores has shape {sc.shape}; they must match")
        if np.any(np.diff(st) < 0):
            raise _err("score_times_s must be non-decreasing for a single score stream")
        above = np.flatnonzero(sc >= t)
        ta = st[above]
        if len(ta):
            j = np.searchsorted(ta, bt, side="left")  # first crossing at or after each beat
            first = np.where(j < len(ta), ta[np.minimum(j, len(ta) - 1)], np.inf)
        else:
            first = np.full(len(bt), np.inf)
        lat = first - bt
    elif sc.ndim == 2:
        if sc.shape[0] != len(bt):
            raise _err(f"scores has {sc.shape[0]} rows (beats) but beat_times_s has {len(bt)} entries")
        if st.shape == (sc.shape[1],):
            st = np.broadcast_to(st, sc.shape)
        elif st.shape != sc.shape:
            raise _err(f"score_times_s must have shape {sc.shape} or ({sc.shape[1]},), got {st.shape}")
        ok = (sc >= t) & (st >= bt[:, None]) & (st <= bt[:, None] + w)
        first = np.where(ok, st, np.inf).min(axis=1)
        lat = first - bt
    else:
        raise _err(f"scores must be 1-D (one stream) or 2-D (beats, steps), got shape {sc.shape}")
    lat = np.where(np.isfinite(lat) & (lat <= w) & (lat >= 0), lat, np.nan)
    hit = np.isfinite(lat)
    n_det = int(hit.sum())
    d = lat[hit]
    nan = float("nan")
    return DetectionLatency(latency_s=lat, n_beats=len(bt), n_detected=n_det, n_missed=len(bt) - n_det,
                            mean_s=float(d.mean()) if n_det else nan, median_s=float(np.median(d)) if n_det else nan,
                            p90_s=float(np.percentile(d, 90)) if n_det else nan, window_s=w)


__all__ = [
    "MetricInputError", "ChanceLevel", "DetectionLatency", "LinearBaseline", "accuracy", "chance_level",
    "fit_baseline", "logistic_baseline", "logistic_baseline_scores", "rate_predictions", "auroc", "auprc", "f1_at",
    "choose_threshold", "detection_latency",
]
