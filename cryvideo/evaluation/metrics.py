"""Metrics reported beside every accuracy: balanced accuracy, macro-F1, baselines."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    recall_score,
)

from ..errors import ParameterError

__all__ = [
    "classification_metrics",
    "majority_baseline",
    "mean_ci",
]


def classification_metrics(y_true: Sequence, y_pred: Sequence, labels: Sequence) -> dict:
    """Accuracy, balanced accuracy, macro-F1, per-class recall and the confusion matrix.

    Parameters
    ----------
    y_true, y_pred : sequence [shape=(n,)]
    labels : sequence
        All class labels, in display order.

    Returns
    -------
    dict
        ``accuracy``, ``balanced_accuracy``, ``macro_f1``, ``recall`` (dict label → recall),
        ``confusion`` (list of lists, rows = true), ``n``.
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    labels = list(labels)
    present = [lab for lab in labels if np.any(y_true == lab)]
    rec = recall_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    return {
        "n": int(len(y_true)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        # balanced accuracy = mean recall over the classes present in y_true
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=present, average="macro",
                                   zero_division=0)),
        "recall": {str(lab): float(r) for lab, r in zip(labels, rec, strict=True)},
        "confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def majority_baseline(y_train: Sequence, y_test: Sequence, labels: Sequence) -> dict:
    """Metrics of always predicting the most frequent training class."""
    vals, counts = np.unique(np.asarray(y_train), return_counts=True)
    major = vals[np.argmax(counts)]
    return classification_metrics(y_test, np.full(len(y_test), major), labels)


def mean_ci(values: Sequence[float], *, level: float = 0.95,
            bounds: tuple[float, float] | None = None) -> tuple[float, float, float]:
    """Mean and a t-based confidence interval over repeats/folds.

    Parameters
    ----------
    values : sequence of float
    level : float
    bounds : (float, float), optional
        Range of the metric (e.g. ``(0, 1)`` for F1): the interval is clipped to it, so a
        few spread-out folds cannot give an interval above 100 %.

    Returns
    -------
    (mean, low, high)
        ``low == high == mean`` for a single value.
    """
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        raise ParameterError("no values")
    m = float(v.mean())
    if v.size < 2:
        return m, m, m
    half = float(stats.t.ppf(0.5 + level / 2, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size))
    if bounds is not None:
        return m, max(bounds[0], m - half), min(bounds[1], m + half)
    return m, m - half, m + half
