"""Per-recording detection metrics: group weights, weighted ROC AUC, rates by category."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from cryvideo.evaluation.detector_metrics import (
    detection_metrics,
    group_weights,
    rate_by,
    weighted_auc,
)


def test_group_weights_count_each_recording_once():
    g = ["a", "a", "a", "b", "c", "c"]
    w = group_weights(g)
    np.testing.assert_allclose(w, [1 / 3] * 3 + [1] + [0.5] * 2)
    assert w.sum() == pytest.approx(3)


@pytest.mark.parametrize("seed", range(4))
def test_weighted_auc_is_sklearns(seed):
    r = np.random.default_rng(seed)
    y = r.random(300) < 0.3
    s = np.round(r.random(300) + 0.4 * y, 1)          # ties on purpose
    w = r.random(300)
    assert weighted_auc(y, s, w) == pytest.approx(roc_auc_score(y, s, sample_weight=w))
    assert np.isnan(weighted_auc(np.ones(5, bool), s[:5], w[:5]))


def test_detection_metrics_weighted_by_recording():
    # recording A: 3 clips of one cry, all found; recording B: one cry, missed;
    # recording C: 4 negative clips, one false alarm
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0], bool)
    s = np.array([.9, .9, .9, .1, .8, .1, .1, .1])
    g = ["A", "A", "A", "B", "C", "C", "C", "C"]
    m = detection_metrics(y, s, 0.5, group_weights(g))
    # per recording: tp 1 (A), fn 1 (B), fp 1/4 (C)
    assert m["recall"] == pytest.approx(0.5)
    assert m["precision"] == pytest.approx(1 / 1.25)
    assert m["f1"] == pytest.approx(2 / (2 + 0.25 + 1))
    assert m["fpr"] == pytest.approx(0.25)
    # per-item thresholds (one per fold) are honoured
    m2 = detection_metrics(y, s, np.where(np.arange(8) == 4, 0.9, 0.5), group_weights(g))
    assert m2["fpr"] == 0.0


def test_rate_by_category():
    cats = ["x", "x", "y", "y", "z"]
    pred = [1, 0, 1, 1, 1]
    out = rate_by(cats, pred, [1, 1, 1, 1, 1], mask=[1, 1, 1, 1, 0])
    assert out == {"x": {"rate": 0.5, "clips": 2, "groups_weight": 2.0},
                   "y": {"rate": 1.0, "clips": 2, "groups_weight": 2.0}}
