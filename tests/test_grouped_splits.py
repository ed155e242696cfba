"""Grouped splits never put one app install on both sides; the paper's random split does.

Data too small to split (one group, one clip per class, fewer test clips than classes …) is
refused with one :class:`~cryvideo.errors.ParameterError` naming what is missing, never a raw
scikit-learn error: the strategies below draw such data on purpose.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cryvideo.errors import ParameterError
from cryvideo.evaluation import grouped_splits, leakage, paper_splits, protocol_splits


@st.composite
def labelled_groups(draw, *, min_groups: int = 1, max_groups: int = 25):
    """Labels and groups, down to one group, one class and one clip."""
    n_groups = draw(st.integers(min_value=min_groups, max_value=max_groups))
    sizes = draw(st.lists(st.integers(1, 8), min_size=n_groups, max_size=n_groups))
    n_classes = draw(st.integers(1, 4))
    labels = []
    groups = []
    for g, size in enumerate(sizes):
        # most installs give one reason, some several
        mixed = draw(st.booleans())
        base = draw(st.integers(0, n_classes - 1))
        for _ in range(size):
            labels.append(draw(st.integers(0, n_classes - 1)) if mixed else base)
            groups.append(f"uuid-{g:03d}")
    return np.array(labels), np.array(groups)


@settings(max_examples=80, deadline=None)
@given(data=labelled_groups(), n_splits=st.integers(2, 6), n_repeats=st.integers(1, 2),
       seed=st.integers(0, 1000))
@example(data=(np.array([0, 1]), np.array(["a", "b"])), n_splits=2, n_repeats=1, seed=0)
def test_grouped_split_never_shares_a_group(data, n_splits, n_repeats, seed):
    y, groups = data
    n_groups = len(set(groups.tolist()))
    k = min(n_splits, n_groups)
    largest = np.bincount(y).max()
    if n_groups < 2 or largest < k:  # too small: one clear error naming what is missing
        with pytest.raises(ParameterError) as err:
            list(grouped_splits(y, groups, n_splits=n_splits, n_repeats=n_repeats, seed=seed))
        assert ("at least two groups" if n_groups < 2 else f"no class has {k} items") in str(
            err.value)
        return
    seen = {}
    for r, tr, te in grouped_splits(y, groups, n_splits=n_splits, n_repeats=n_repeats,
                                    seed=seed):
        assert len(tr) and len(te)
        assert not set(groups[tr]) & set(groups[te])
        assert leakage(tr, te, groups) == 0.0
        assert len(np.intersect1d(tr, te)) == 0
        np.testing.assert_array_equal(np.sort(np.concatenate([tr, te])), np.arange(len(y)))
        seen.setdefault(r, []).append(te)
    assert sorted(seen) == list(range(n_repeats))
    for tests in seen.values():  # each repeat: every clip tested exactly once
        allte = np.sort(np.concatenate(tests))
        np.testing.assert_array_equal(allte, np.arange(len(y)))


@settings(max_examples=80, deadline=None)
@given(data=labelled_groups(max_groups=8), test_size=st.sampled_from([0.2, 0.3, 0.5]),
       seed=st.integers(0, 1000))
@example(data=(np.array([0, 1, 1]), np.array(["a", "b", "c"])), test_size=0.3, seed=0)
@example(data=(np.array([0, 0, 1, 1, 2, 2]), np.array(list("abcdef"))), test_size=0.2, seed=0)
def test_paper_split_is_stratified_or_refused(data, test_size, seed):
    y, groups = data
    counts = np.bincount(y)[np.unique(y)]
    n_test = math.ceil(test_size * len(y))
    if counts.min() < 2 or min(n_test, len(y) - n_test) < len(counts):
        with pytest.raises(ParameterError, match="stratified .* split of"):
            list(paper_splits(y, test_size=test_size, n_repeats=2, seed=seed))
        return
    for _, tr, te in paper_splits(y, test_size=test_size, n_repeats=2, seed=seed):
        assert len(te) == n_test and len(np.intersect1d(tr, te)) == 0
        # stratified: each class's test count is its share of the test size, rounded
        share = n_test * np.bincount(y) / len(y)
        assert np.all(np.abs(np.bincount(y[te], minlength=len(share)) - share) < 1)


@pytest.mark.parametrize("protocol", ["paper", "grouped"])
def test_protocol_splits_refuse_one_clip_per_class(protocol):
    with pytest.raises(ParameterError):
        protocol_splits(protocol, [0, 1, 2], ["a", "b", "c"], n_splits=3)


@pytest.mark.parametrize("kwargs,match", [({"n_splits": 1}, "n_splits must be at least 2"),
                                          ({"n_repeats": 0}, "n_repeats must be at least 1")])
def test_grouped_split_parameters(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        list(grouped_splits([0, 1] * 4, list("aabbccdd"), **kwargs))


def test_random_split_leaks_on_grouped_data():
    groups = np.repeat([f"g{i}" for i in range(20)], 5)
    y = np.repeat(np.arange(4), 25)
    leaks = [leakage(tr, te, groups) for _, tr, te in paper_splits(y, n_repeats=3)]
    assert min(leaks) > 0.8
