"""Rate-coded classification, shared by N-MNIST and SHD: accuracy, chance level, logistic baseline.

Readout and tie rule: the class is the output neuron with the most spikes over the window; a tie
for the top count (a silent output included) is no decision and counts as wrong
(:func:`~spikebench.workloads.metrics.rate_predictions`). The baseline is a logistic regression on
per-channel input spike counts, fitted on the train split.
"""

from __future__ import annotations

import numpy as np

from .base import Metric, WorkloadBase, WorkloadData, data_note
from .metrics import LinearBaseline, accuracy, chance_level, rate_predictions


class ClassificationWorkload(WorkloadBase):
    """A workload whose outputs are ``n_classes`` neurons and whose label is the class."""

    task = "classification"
    n_classes: int
    baseline_model = "logistic regression on log1p per-channel input spike counts (train split)"

    @property
    def n_outputs(self) -> int:
        return self.n_classes

    def _task_metrics(self, out: np.ndarray, data: WorkloadData) -> list[Metric]:
        pred = rate_predictions(out)
        ties = int(np.sum(pred < 0))
        ch = chance_level(data.labels, n_classes=self.n_classes)
        return [
            Metric(name="accuracy", value=accuracy(pred, data.labels),
                   note=data_note(data, f"rate-coded (most output spikes); {ties} tie(s) for the "
                                        "top count scored as wrong")),
            Metric(name="chance_accuracy", value=ch.majority,
                   note=data_note(data, f"majority class; uniform 1/{ch.n_classes} = {ch.uniform:.3f}")),
        ]

    def _baseline_metric(self, model: LinearBaseline, data: WorkloadData) -> Metric:
        return Metric(name="baseline_accuracy", value=accuracy(model.predict(self.baseline_features(data.spikes)),
                                                               data.labels),
                      note=data_note(data, "logistic regression on per-channel input spike "
                                           "counts, fitted on the train split"))

    def evaluate(self, train_outputs: np.ndarray, test_outputs: np.ndarray, *, train: WorkloadData,
                 test: WorkloadData) -> dict:
        metrics = self._evaluated_metrics(test_outputs, train=train, test=test)
        ch = chance_level(test.labels, n_classes=self.n_classes)
        return {"metric": "accuracy", "value": metrics["accuracy"], "metrics": metrics,
                "ties": int(np.sum(rate_predictions(test_outputs) < 0)),
                "train_metrics": {"accuracy": accuracy(rate_predictions(self._outputs(train_outputs, train)),
                                                       train.labels)},
                "chance": {"majority": ch.majority, "uniform": ch.uniform},
                "baseline": {"accuracy": metrics["baseline_accuracy"], "model": self.baseline_model}}


__all__ = ["ClassificationWorkload"]
