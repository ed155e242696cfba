"""Metrics reported beside every accuracy: balanced accuracy, macro-F1, baselines, p-values."""

from __future__ import annotations

from collections.abc import Callable, Sequence

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
    "permutation_pvalue",
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


def permutation_pvalue(
    score_fn: Callable[[np.ndarray], float],
    y: Sequence,
    *,
    n_permutations: int = 100,
    seed: int = 0,
) -> tuple[float, float, np.ndarray]:
    """Permutation test: how often does a model trained on shuffled labels score as well?

    Parameters
    ----------
    score_fn : callable
        ``score_fn(labels) -> float``: runs the *whole* evaluation (same grouped splits) with
        the given labels and returns the score (e.g. mean balanced accuracy).
    y : sequence [shape=(n,)]
        True labels.
    n_permutations : int
    seed : int

    Returns
    -------
    (score, pvalue, permutation_scores)
        ``pvalue = (1 + #{perm >= score}) / (1 + n_permutations)``.
    """
    rng = np.random.default_rng(seed)
    y = np.asarray(y)
    score = float(score_fn(y))
    perm_scores = np.empty(n_permutations)
    for i in range(n_permutations):
        perm_scores[i] = score_fn(rng.permutation(y))
    pvalue = (1.0 + np.sum(perm_scores >= score)) / (1.0 + n_permutations)
    return score, float(pvalue), perm_scores
