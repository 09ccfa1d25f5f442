"""Task metrics: hand-computed cases, scikit-learn cross-checks and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from spikebench.core.errors import SpikebenchError
from spikebench.workloads import metrics as M

# ---- hand-computed -----------------------------------------------------------------------------


def test_accuracy_and_chance_level():
    assert M.accuracy([0, 1, 2, 2], [0, 1, 1, 2]) == 0.75
    assert M.accuracy(np.array([1.0, 0.0]), np.array([True, False])) == 1.0
    c = M.chance_level([0, 0, 0, 1, 2, 2])
    assert (c.majority, c.uniform, c.majority_class, c.n_classes) == (0.5, 1 / 3, 0, 3)
    c10 = M.chance_level([3, 3, 7], n_classes=10)
    assert c10.majority == pytest.approx(2 / 3) and c10.uniform == 0.1 and c10.majority_class == 3


def test_auroc_auprc_hand():
    s = [0.1, 0.4, 0.35, 0.8]
    y = [0, 0, 1, 1]
    # pairs (pos, neg): (0.35 > 0.1), (0.35 < 0.4), (0.8 > 0.1), (0.8 > 0.4) -> 3/4
    assert M.auroc(s, y) == 0.75
    # descending: 0.8 (+) P=1 R=.5; 0.4 (-) P=.5; 0.35 (+) P=2/3 R=1 -> .5*1 + .5*2/3
    assert M.auprc(s, y) == pytest.approx(0.5 + 0.5 * 2 / 3)
    # ties count one half
    assert M.auroc([0.5, 0.5], [0, 1]) == 0.5
    assert M.auroc([1, 2, 2, 3], [0, 0, 1, 1]) == pytest.approx((1 + 0.5 + 1 + 1) / 4)
    # a tie group is one threshold: at score 2, 1 TP + 1 FP -> P = 1/2 for the whole recall step
    assert M.auprc([2, 2, 1], [1, 0, 0]) == 0.5
    assert M.auroc([3, 2, 1], [True, False, False]) == 1.0 and M.auroc([1, 2, 3], [1, 0, 0]) == 0.0


def test_f1_and_threshold_choice_hand():
    s = np.array([0.9, 0.8, 0.7, 0.6, 0.2])
    y = np.array([1, 0, 1, 0, 0])
    # threshold 0.7: TP 2, FP 1, FN 0 -> 4/5
    assert M.f1_at(s, y, 0.7) == pytest.approx(0.8)
    # threshold 0.9: TP 1, FP 0, FN 1 -> 2/3
    assert M.f1_at(s, y, 0.9) == pytest.approx(2 / 3)
    assert M.f1_at(s, y, 5.0) == 0.0  # positives exist, none predicted: F1 = 0 is defined
    assert M.choose_threshold(s, y, "f1") == 0.7
    # Youden J: t=.9 -> .5-0; t=.8 -> .5-1/3; t=.7 -> 1-1/3; t=.6 -> 1-2/3 ... best .7
    assert M.choose_threshold(s, y, "youden") == 0.7
    # ties of the objective go to the highest threshold
    assert M.choose_threshold([3, 2, 1], [1, 0, 1], "youden") == 3.0


def test_choose_threshold_matches_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(20):
        y = rng.random(60) < 0.3
        if not y.any() or y.all():
            continue
        s = np.round(rng.normal(size=60) + y, 1)
        best = max(np.unique(s), key=lambda t: (M.f1_at(s, y, t), t))
        assert M.choose_threshold(s, y, "f1") == best
        youden = {t: np.mean(s[y] >= t) - np.mean(s[~y] >= t) for t in np.unique(s)}
        top = max(youden.values())
        assert M.choose_threshold(s, y, "youden") == max(t for t, v in youden.items() if np.isclose(v, top))


def test_detection_latency_stream_and_traces():
    times = np.arange(0.0, 10.0, 0.1)
    scores = np.zeros_like(times)
    scores[[13, 52, 90]] = 1.0  # crossings at 1.3, 5.2, 9.0 s
    beats = np.array([1.0, 5.0, 7.0, 8.95])
    r = M.detection_latency(times, scores, beats, threshold=0.5, window_s=0.4)
    assert r.latency_s == pytest.approx([0.3, 0.2, np.nan, 0.05], nan_ok=True)  # 7.0: next crossing 2 s later
    assert (r.n_beats, r.n_detected, r.n_missed) == (4, 3, 1)
    assert r.mean_s == pytest.approx(0.55 / 3) and r.median_s == pytest.approx(0.2) and r.detection_rate == 0.75


def test_detection_latency_edge_and_per_beat_rows():
    times = np.array([0.0, 1.0, 2.0])
    r = M.detection_latency(times, [0.0, 1.0, 0.0], [0.5, 1.0, 0.2], threshold=1.0, window_s=0.5)
    assert r.latency_s == pytest.approx([0.5, 0.0, np.nan], nan_ok=True)  # window is closed at both ends
    # per-beat traces: (B, T) scores, (T,) absolute times shared, beat 1 never crosses
    st = np.array([[0.1, 0.2, 0.3], [0.1, 0.2, 0.3]])
    sc = np.array([[0.0, 0.9, 0.95], [0.1, 0.2, 0.3]])
    r2 = M.detection_latency(st, sc, [0.05, 0.05], threshold=0.9, window_s=1.0)
    assert r2.latency_s == pytest.approx([0.15, np.nan], nan_ok=True)
    r3 = M.detection_latency(st[0], sc, [0.05, 0.05], threshold=0.9, window_s=1.0)
    assert np.array_equal(r2.latency_s, r3.latency_s, equal_nan=True)
    none = M.detection_latency(st, sc, [0.05, 0.05], threshold=2.0, window_s=1.0)
    assert none.n_detected == 0 and np.isnan(none.median_s) and none.n_missed == 2


def test_logistic_baseline_separable_and_multiclass():
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(3), 40)
    counts = rng.poisson(2.0, size=(120, 6))
    counts[np.arange(120), 2 * y] += 20  # class k fires channel 2k
    acc = M.logistic_baseline(counts[::2], y[::2], counts[1::2], y[1::2], seed=0)
    assert acc == 1.0
    yb = (y == 1)
    p = M.logistic_baseline_scores(counts[::2], yb[::2], counts[1::2], seed=0)
    assert p.shape == (60,) and M.auroc(p, yb[1::2]) == 1.0


def test_one_baseline_record_matches_the_sklearn_pipeline_and_survives_npz(tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    rng = np.random.default_rng(3)
    y = (rng.random(200) < 0.3).astype(np.int64)
    counts = rng.poisson(3.0, size=(200, 8)) + 4 * y[:, None] * (np.arange(8) < 2)
    b = M.fit_baseline(counts[:150], y[:150], seed=0)
    ref = make_pipeline(FunctionTransformer(np.log1p), StandardScaler(), LogisticRegression(max_iter=2000, random_state=0))
    ref.fit(counts[:150].astype(np.float64), y[:150])
    assert np.array_equal(b.predict(counts[150:]), ref.predict(counts[150:].astype(np.float64)))
    assert np.array_equal(b.proba(counts[150:]), ref.predict_proba(counts[150:].astype(np.float64))[:, 1])
    assert np.array_equal(np.argsort(b.score(counts[150:]), kind="stable"),
                          np.argsort(ref.decision_function(counts[150:].astype(np.float64)), kind="stable"))
    assert np.array_equal(M.logistic_baseline_scores(counts[:150], y[:150], counts[150:]), b.proba(counts[150:]))
    b.save(tmp_path / "b.npz")
    again = M.LinearBaseline.load(tmp_path / "b.npz")
    assert np.array_equal(again.score(counts), b.score(counts)) and np.array_equal(again.classes, b.classes)
    with pytest.raises(M.MetricInputError, match="channels"):
        b.predict(counts[:, :3])


# ---- scikit-learn cross-checks -----------------------------------------------------------------


@pytest.mark.parametrize("seed", range(25))
def test_auroc_auprc_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 400))
    y = rng.random(n) < rng.uniform(0.05, 0.6)
    y[0], y[1] = True, False
    s = rng.normal(size=n) + y * rng.uniform(0, 2)
    if seed % 2:
        s = np.round(s, 1)  # many ties
    assert M.auroc(s, y) == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)
    assert M.auprc(s, y) == pytest.approx(skm.average_precision_score(y, s), abs=1e-12)
    t = float(np.median(s))
    assert M.f1_at(s, y, t) == pytest.approx(skm.f1_score(y, s >= t), abs=1e-12)


# ---- bad input ---------------------------------------------------------------------------------


BAD = [
    (lambda: M.auroc([0.1, 0.2], [0, 1, 1]), "shape"),
    (lambda: M.auroc([0.1, np.nan], [0, 1]), "NaN"),
    (lambda: M.auroc([0.1, 0.2, 0.3], [0, 1, 2]), "binary"),
    (lambda: M.auroc([0.1, 0.2], [1, 1]), "both classes"),
    (lambda: M.auroc([], []), "empty"),
    (lambda: M.auroc([[0.1, 0.2]], [[0, 1]]), "1-D"),
    (lambda: M.auroc(["a", "b"], [0, 1]), "numeric"),
    (lambda: M.auprc([0.1, 0.2], [0, 0]), "at least one positive"),
    (lambda: M.f1_at([0.1, 0.2], [0, 0], 0.5), "undefined"),
    (lambda: M.f1_at([0.1, 0.2], [0, 1], np.nan), "finite"),
    (lambda: M.choose_threshold([0.1, 0.2], [0, 1], "best"), "unknown threshold rule"),
    (lambda: M.choose_threshold([0.1, 0.2], [1, 1], "youden"), "both classes"),
    (lambda: M.accuracy([0, 1], [0, 1, 1]), "shape"),
    (lambda: M.accuracy([0.5, 1], [0, 1]), "integer"),
    (lambda: M.chance_level([0, 1, 2], n_classes=2), "n_classes"),
    (lambda: M.logistic_baseline([[1, 2], [3, 4]], [0, 0], [[1, 2]], [0]), "single class"),
    (lambda: M.logistic_baseline([[1, 2], [3, 4]], [0, 1], [[1, 2, 3]], [0]), "channels"),
    (lambda: M.logistic_baseline([[1, 2], [3, 4]], [0, 1, 1], [[1, 2]], [0]), "rows"),
    (lambda: M.logistic_baseline([[1, -2], [3, 4]], [0, 1], [[1, 2]], [0]), "negative"),
    (lambda: M.logistic_baseline([1, 2], [0, 1], [[1, 2]], [0]), "2-D"),
    (lambda: M.detection_latency([0.0, 1.0], [0.0], [0.5], 0.5, 1.0), "shape"),
    (lambda: M.detection_latency([1.0, 0.0], [0.0, 1.0], [0.5], 0.5, 1.0), "non-decreasing"),
    (lambda: M.detection_latency([0.0, 1.0], [0.0, np.nan], [0.5], 0.5, 1.0), "NaN"),
    (lambda: M.detection_latency([0.0, 1.0], [0.0, 1.0], [0.5], 0.5, -1.0), "window_s"),
    (lambda: M.detection_latency([[0.0, 1.0]], [[0.0, 1.0]], [0.5, 0.6], 0.5, 1.0), "rows"),
]


@pytest.mark.parametrize("call, words", BAD, ids=[w for _, w in BAD])
def test_bad_input_is_one_line_spikebench_error(call, words):
    with pytest.raises(M.MetricInputError, match=words) as info:
        call()
    assert isinstance(info.value, SpikebenchError)
    assert "\n" not in str(info.value)
