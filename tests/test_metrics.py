"""``mean_ci``: the t-interval over folds, and its clipping to a metric's range."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from cryvideo.errors import ParameterError
from cryvideo.evaluation import mean_ci


def test_t_interval_matches_scipy():
    v = [0.2, 0.5, 0.9, 0.4, 0.6]
    m, lo, hi = mean_ci(v)
    ref = stats.t.interval(0.95, len(v) - 1, loc=np.mean(v), scale=stats.sem(v))
    assert m == pytest.approx(np.mean(v)) and (lo, hi) == pytest.approx(ref)


def test_bounds_clip_the_interval_not_the_mean():
    v = [1.0, 1.0, 0.4, 1.0, 1.0]  # spread-out folds of an F1: the raw interval tops 1
    m, lo, hi = mean_ci(v)
    assert hi > 1.0
    mb, lob, hib = mean_ci(v, bounds=(0.0, 1.0))
    assert mb == m and lob == lo and hib == 1.0


def test_single_value_and_empty():
    assert mean_ci([0.3]) == (0.3, 0.3, 0.3)
    with pytest.raises(ParameterError):
        mean_ci([])
