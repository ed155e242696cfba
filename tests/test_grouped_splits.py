"""Grouped splits never put one app install on both sides; the paper's random split does."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cryvideo.evaluation import grouped_splits, leakage, paper_splits


@st.composite
def labelled_groups(draw):
    n_groups = draw(st.integers(min_value=2, max_value=25))
    sizes = draw(st.lists(st.integers(1, 8), min_size=n_groups, max_size=n_groups))
    n_classes = draw(st.integers(2, 4))
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


@settings(max_examples=60, deadline=None)
@given(data=labelled_groups(), n_splits=st.integers(2, 6), n_repeats=st.integers(1, 2),
       seed=st.integers(0, 1000))
def test_grouped_split_never_shares_a_group(data, n_splits, n_repeats, seed):
    y, groups = data
    seen = {}
    for r, tr, te in grouped_splits(y, groups, n_splits=n_splits, n_repeats=n_repeats,
                                    seed=seed):
        assert not set(groups[tr]) & set(groups[te])
        assert leakage(tr, te, groups) == 0.0
        assert len(np.intersect1d(tr, te)) == 0
        seen.setdefault(r, []).append(te)
    for tests in seen.values():  # each repeat: every clip tested exactly once
        allte = np.sort(np.concatenate(tests))
        np.testing.assert_array_equal(allte, np.arange(len(y)))


def test_random_split_leaks_on_grouped_data():
    groups = np.repeat([f"g{i}" for i in range(20)], 5)
    y = np.repeat(np.arange(4), 25)
    leaks = [leakage(tr, te, groups) for _, tr, te in paper_splits(y, n_repeats=3)]
    assert min(leaks) > 0.8
