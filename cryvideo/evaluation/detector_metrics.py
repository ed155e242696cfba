"""Per-recording (group-weighted) metrics of a cry detector.

Each clip weighs ``1 / (clips of its group)``, so every recording, speaker or app install counts
once however many clips were cut from it (:func:`group_weights`). On these weights:
F1, precision, recall and ROC AUC of the cry class, the false-positive rate of each negative
category and the recall of each positive source.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["group_weights", "detection_metrics", "weighted_auc", "rate_by"]


def group_weights(groups: Sequence) -> np.ndarray:
    """``1 / (number of items of the same group)`` for each item.

    Returns
    -------
    np.ndarray [shape=(n,), dtype=float64]
        Sums to the number of groups.
    """
    _, inv, counts = np.unique(np.asarray(groups), return_inverse=True, return_counts=True)
    return 1.0 / counts[inv]


def weighted_auc(y: Sequence, score: Sequence, w: Sequence) -> float:
    """ROC AUC with item weights: the weighted probability that a positive outscores a negative
    (ties count one half). NaN when a class is missing."""
    y = np.asarray(y, bool)
    s = np.asarray(score, float)
    w = np.asarray(w, float)
    if y.all() or not y.any():
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    s, y, w = s[order], y[order], w[order]
    # weighted count of negatives strictly below, plus half of those tied
    uniq, start = np.unique(s, return_index=True)
    neg_w = np.where(~y, w, 0.0)
    cum_neg = np.concatenate([[0.0], np.cumsum(neg_w)])
    end = np.append(start[1:], len(s))
    below = cum_neg[start]
    tied = cum_neg[end] - cum_neg[start]
    idx = np.searchsorted(uniq, s)
    credit = below[idx] + 0.5 * tied[idx]
    return float(np.sum(w[y] * credit[y]) / (w[y].sum() * neg_w.sum()))


def detection_metrics(y: Sequence, score: Sequence, threshold: float | Sequence,
                      w: Sequence) -> dict:
    """F1, precision, recall, false-positive rate and ROC AUC, with item weights.

    Parameters
    ----------
    y : sequence of bool [shape=(n,)]
        True for cry.
    score : sequence of float [shape=(n,)]
    threshold : float or sequence [shape=(n,)]
        Decision threshold (one per item when folds chose their own).
    w : sequence of float [shape=(n,)]

    Returns
    -------
    dict
        ``f1``, ``precision``, ``recall``, ``fpr``, ``roc_auc``.
    """
    y = np.asarray(y, bool)
    s = np.asarray(score, float)
    w = np.asarray(w, float)
    pred = s >= np.asarray(threshold, float)
    tp, fp, fn = w[y & pred].sum(), w[~y & pred].sum(), w[y & ~pred].sum()
    tn = w[~y & ~pred].sum()
    return {
        "f1": float(2 * tp / (2 * tp + fp + fn)) if tp + fp + fn else 0.0,
        "precision": float(tp / (tp + fp)) if tp + fp else 0.0,
        "recall": float(tp / (tp + fn)) if tp + fn else 0.0,
        "fpr": float(fp / (fp + tn)) if fp + tn else 0.0,
        "roc_auc": weighted_auc(y, s, w),
    }


def rate_by(keys: Sequence, pred: Sequence, w: Sequence, mask: Sequence | None = None) -> dict:
    """Weighted share of ``pred`` within each key (e.g. false positives per negative category).

    Returns
    -------
    dict
        key → ``{"rate", "clips", "groups_weight"}``.
    """
    keys = np.asarray(keys)
    pred = np.asarray(pred, bool)
    w = np.asarray(w, float)
    m = np.ones(len(keys), bool) if mask is None else np.asarray(mask, bool)
    out = {}
    for k in sorted(set(keys[m].tolist())):
        sel = m & (keys == k)
        out[str(k)] = {"rate": float(np.average(pred[sel], weights=w[sel])),
                       "clips": int(sel.sum()), "groups_weight": float(w[sel].sum())}
    return out
