"""The group bootstrap and the max-statistic group permutation test."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

from cryvideo.errors import ParameterError
from cryvideo.evaluation import (
    CONFUSION_METRICS,
    classification_metrics,
    group_bootstrap,
    group_label_permutation,
    interval_text,
    max_statistic_permutation_test,
    no_event_bound,
    seed_spread,
    summarize_pooled,
)

CLASSES = np.array(["a", "b", "c", "d"])


def _clustered(seed: int = 0, n_groups: int = 60):
    """Groups of 1-6 items; each group is mostly right or mostly wrong as a whole."""
    rng = np.random.default_rng(seed)
    y, pred, groups = [], [], []
    for g in range(n_groups):
        size = int(rng.integers(1, 7))
        good = rng.random() < 0.5
        for _ in range(size):
            t = rng.choice(CLASSES)
            p = t if (good and rng.random() < 0.9) else rng.choice(CLASSES)
            y.append(t)
            pred.append(p)
            groups.append(f"g{g}")
    return np.array(y), np.array(pred), np.array(groups)


def test_estimates_match_classification_metrics():
    y, pred, groups = _clustered()
    ref = classification_metrics(y, pred, CLASSES)
    for name in ("accuracy", "balanced_accuracy", "macro_f1"):
        iv = group_bootstrap(name, y, pred, groups, n_boot=200)
        assert iv.estimate == pytest.approx(ref[name])
        assert 0.0 <= iv.low <= iv.estimate <= iv.high <= 1.0


@pytest.mark.parametrize("name,fn", [("f1", f1_score), ("precision", precision_score),
                                     ("recall", recall_score)])
def test_weighted_binary_metrics_match_sklearn(name, fn):
    rng = np.random.default_rng(1)
    groups = rng.integers(0, 30, size=300)
    y = (rng.random(300) < 0.4).astype(int)
    pred = np.where(rng.random(300) < 0.7, y, 1 - y)
    w = 1.0 / np.bincount(groups)[groups]  # each group counts once
    iv = group_bootstrap(name, y, pred, groups, weights=w, n_boot=200)
    assert iv.estimate == pytest.approx(fn(y, pred, sample_weight=w, zero_division=0))
    assert iv.estimate != pytest.approx(fn(y, pred))  # the weights did something


def test_fast_path_equals_callable_path_resample_by_resample():
    """The vectorised confusion path and a plain loop see the same resamples and agree."""
    y, pred, groups = _clustered(seed=2)

    def bal(yt, yp):
        return classification_metrics(yt, yp, CLASSES)["balanced_accuracy"]

    fast = group_bootstrap("balanced_accuracy", y, pred, groups, n_boot=300, seed=5)
    slow = group_bootstrap(bal, y, pred, groups, n_boot=300, seed=5)
    assert (fast.estimate, fast.low, fast.high) == pytest.approx(
        (slow.estimate, slow.low, slow.high))


def test_whole_groups_give_wider_intervals_than_items():
    y, pred, groups = _clustered(seed=3, n_groups=80)
    by_group = group_bootstrap("accuracy", y, pred, groups, n_boot=1000)
    by_item = group_bootstrap("accuracy", y, pred, np.arange(len(y)), n_boot=1000)
    assert by_group.estimate == by_item.estimate
    assert (by_group.high - by_group.low) > 1.3 * (by_item.high - by_item.low)


def test_interval_stays_in_range_where_a_t_interval_would_not():
    # an F1 near 1 on a few recordings: every resample value is a real F1, so high <= 1
    y = np.array([1] * 20 + [0] * 20)
    pred = y.copy()
    pred[[0, 1, 2]] = 0
    groups = np.repeat(np.arange(8), 5)
    iv = group_bootstrap("f1", y, pred, groups, n_boot=500)
    assert iv.high <= 1.0 and iv.low < iv.estimate
    assert "95 % group-bootstrap interval over 8 recordings" in group_bootstrap(
        "f1", y, pred, groups, n_boot=100, unit="recordings").label


def test_coverage_of_a_known_accuracy():
    """Clustered Bernoulli data with true accuracy 0.7: the 90 % interval covers it often."""
    rng = np.random.default_rng(7)
    hits = 0
    for _ in range(200):
        n_groups = 50
        p_group = np.clip(rng.normal(0.7, 0.15, n_groups), 0, 1)  # mean 0.7 by design
        sizes = rng.integers(1, 6, n_groups)
        groups = np.repeat(np.arange(n_groups), sizes)
        correct = rng.random(len(groups)) < p_group[groups]
        y = np.ones(len(groups), int)
        iv = group_bootstrap("accuracy", y, np.where(correct, 1, 0), groups, n_boot=400,
                             level=0.9, seed=int(rng.integers(1 << 30)))
        hits += iv.low <= 0.7 <= iv.high
    assert 0.8 <= hits / 200 <= 0.97


def test_callable_with_weights_and_undefined_resamples():
    rng = np.random.default_rng(4)
    groups = np.repeat(np.arange(12), 4)
    y = np.repeat(rng.integers(0, 2, 12), 4)  # one class per group: some resamples lack one
    y[:4], y[4:8] = 0, 1
    score = y + rng.normal(0, 0.8, len(y))

    def auc(yt, s, sample_weight=None):
        if len(np.unique(yt)) < 2:
            return float("nan")
        return roc_auc_score(yt, s, sample_weight=sample_weight)

    iv = group_bootstrap(auc, y, score, groups, n_boot=400, weights=np.full(len(y), 0.25))
    assert iv.estimate == pytest.approx(roc_auc_score(y, score))
    assert 0 <= iv.low <= iv.high <= 1 and iv.n_undefined >= 0
    d = iv.to_dict()
    assert d["metric"] == "auc" and d["n_groups"] == 12 and d["n_boot"] == 400


@pytest.mark.parametrize("kwargs", [dict(n_boot=10), dict(level=1.0), dict(weights=[-1.0] * 6)])
def test_bad_parameters(kwargs):
    with pytest.raises(ParameterError):
        group_bootstrap("accuracy", [1, 0, 1, 0, 1, 1], [1, 1, 1, 0, 0, 1], [0, 0, 1, 1, 2, 2],
                        **kwargs)


def test_bad_metric_and_shapes():
    with pytest.raises(ParameterError):
        group_bootstrap("auc", [1, 0], [1, 0], [0, 1])
    with pytest.raises(ParameterError):
        group_bootstrap("accuracy", [1, 0, 1], [1, 0], [0, 1, 2])
    with pytest.raises(ParameterError):
        group_bootstrap("recall", [0, 0, 0], [1, 0, 1], [0, 1, 2])  # no positive at all
    assert set(CONFUSION_METRICS) >= {"accuracy", "balanced_accuracy", "macro_f1", "f1"}


def test_vectorised_speed_is_not_a_loop():
    """2000 resamples of 1500 items on 221 groups: the confusion path never calls Python per
    resample (checked by counting, not timing)."""
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 221, 1500)
    y = rng.integers(0, 5, 1500)
    pred = rng.integers(0, 5, 1500)
    iv = group_bootstrap("macro_f1", y, pred, groups, n_boot=2000)
    assert iv.n_boot == 2000 and iv.n_groups == 221 and iv.n_items == 1500


# ---------------------------------------------------------------------------- permutations

def _blocks(y, groups):
    out = {}
    for g in np.unique(groups):
        out[g] = sorted(y[groups == g].tolist())
    return out


def test_group_permutation_moves_whole_blocks_between_equal_sizes():
    rng = np.random.default_rng(0)
    sizes = [1, 1, 1, 2, 2, 2, 3, 3, 7]
    groups = np.repeat(np.arange(len(sizes)), sizes)
    y = rng.choice(["x", "y", "z"], size=len(groups))
    before = _blocks(y, groups)
    moved = False
    for _ in range(30):
        yp = group_label_permutation(y, groups, rng)
        after = _blocks(yp, groups)
        assert sorted(yp.tolist()) == sorted(y.tolist())
        for blk in after.values():  # each block came whole from a group of the same size
            same = [h for h in before if len(before[h]) == len(blk)]
            assert blk in [before[h] for h in same]
        assert after[8] == before[8]  # the only group of 7 keeps its block
        moved |= after != before
    assert moved


def test_max_statistic_finds_signal_and_controls_family():
    rng = np.random.default_rng(1)
    groups = np.repeat(np.arange(40), 3)
    y = np.repeat(rng.integers(0, 2, 40), 3)
    x_signal = y + rng.normal(0, 0.5, len(y))
    noise = rng.normal(size=(5, len(y)))

    def score(labels):
        # candidate 0 reads the signal; candidates 1-5 are pure noise
        cols = [x_signal, *noise]
        return [abs(np.corrcoef(c, labels)[0, 1]) for c in cols]

    res = max_statistic_permutation_test(score, y, groups, n_permutations=199, seed=0,
                                         names=[f"m{i}" for i in range(6)])
    assert res["n_permutations"] == 199 and res["min_pvalue"] == 0.005
    assert res["pvalue_familywise"][0] == pytest.approx(0.005)
    assert all(p > 0.05 for p in res["pvalue_familywise"][1:])
    assert all(f >= s for f, s in zip(res["pvalue_familywise"], res["pvalue_single"],
                                      strict=True))
    assert res["n_groups_exchangeable"] == 40 and res["n_groups_fixed"] == 0
    with pytest.raises(ParameterError):
        max_statistic_permutation_test(score, y, groups, n_permutations=0)


def test_seed_spread():
    s = seed_spread([0.6, 0.7, 0.8])
    assert s["mean"] == pytest.approx(0.7) and s["sd"] == pytest.approx(0.1) and s["n"] == 3
    assert seed_spread([0.5])["sd"] == 0.0
    with pytest.raises(ParameterError):
        seed_spread([])


def test_summarize_pooled_gives_estimate_interval_and_repeats():
    y, pred, groups = _clustered(seed=5)
    reps = np.arange(len(y)) % 3
    s = summarize_pooled(y, pred, groups, reps, labels=CLASSES, n_boot=300,
                         unit="app installs", of="3 repeats")
    for m in ("accuracy", "balanced_accuracy", "macro_f1"):
        row = s[m]
        assert row["estimate"] == pytest.approx(classification_metrics(y, pred, CLASSES)[m])
        assert row["per_repeat"] == pytest.approx(
            [classification_metrics(y[reps == r], pred[reps == r], CLASSES)[m]
             for r in range(3)])
        assert row["repeat_sd"] == pytest.approx(np.std(row["per_repeat"], ddof=1))
        assert 0 <= row["low"] <= row["high"] <= 1 and "app installs" in row["interval"]
    yb = (y == "a").astype(int)
    pb = (pred == "a").astype(int)
    w = 1.0 / np.unique(groups, return_counts=True)[1][np.unique(groups,
                                                                 return_inverse=True)[1]]
    sb = summarize_pooled(yb, pb, groups, reps, metrics=("f1", "recall"), weights=w,
                          n_boot=200)
    assert sb["f1"]["estimate"] == pytest.approx(f1_score(yb, pb, sample_weight=w))
    assert sb["recall"]["per_repeat"][1] == pytest.approx(
        recall_score(yb[reps == 1], pb[reps == 1], sample_weight=w[reps == 1]))


# ---------------------------------------------------------------- where there is no interval

def test_one_group_gives_no_interval():
    """One recording: every resample is that recording, so [8.3, 8.3] would be no interval."""
    y_pred = [1] + [0] * 11
    iv = group_bootstrap("false_positive_rate", [0] * 12, y_pred, ["rec"] * 12, n_boot=200)
    assert iv.n_groups == 1 and iv.low == iv.high == iv.estimate  # the bootstrap collapses
    assert iv.fmt(unit="recording") == "8.3 (1 recording: no interval)"
    assert "[" not in interval_text(iv.to_dict() | {"metric": "f1"})  # any metric


def test_no_event_gets_a_one_sided_exact_bound():
    """No false positive in 83 recordings: not [0.0, 0.0] but the Clopper–Pearson bound."""
    groups = np.repeat(np.arange(83), 2)
    y = np.zeros(groups.size, int)
    iv = group_bootstrap("false_positive_rate", y, y, groups, n_boot=200)
    assert (iv.estimate, iv.low, iv.high) == (0.0, 0.0, 0.0)
    b = no_event_bound(83)
    assert (1 - b) ** 83 == pytest.approx(0.05)  # at the bound, no event has chance 5 %
    assert iv.fmt(unit="recording") == "0.0 (≤ 3.5)"
    # every one found: the lower bound
    hit = group_bootstrap("recall", np.ones(groups.size, int), np.ones(groups.size, int),
                          groups, n_boot=200)
    assert hit.fmt() == f"100.0 (≥ {100 * (1 - b):.1f})" == "100.0 (≥ 96.5)"


@pytest.mark.parametrize("n", [1, 10, 100, 1000])
def test_no_event_bound_is_the_rule_of_three_for_large_n(n):
    b = no_event_bound(n)
    assert (1 - b) ** n == pytest.approx(0.05)
    if n >= 100:
        assert b == pytest.approx(3 / n, rel=0.02)
    assert no_event_bound(n, level=0.99) > b


def test_no_event_bound_refuses_nonsense():
    with pytest.raises(ParameterError):
        no_event_bound(0)
    with pytest.raises(ParameterError):
        no_event_bound(5, level=1.0)


def test_interval_text_keeps_real_intervals():
    node = {"estimate": 0.315, "low": 0.207, "high": 0.426, "n_groups": 40,
            "metric": "balanced_accuracy", "level": 0.95}
    assert interval_text(node) == "31.5 [20.7, 42.6]"
    # a constant that is no rate (the majority baseline's balanced accuracy) stays as it is
    flat = dict(node, estimate=0.2, low=0.2, high=0.2)
    assert interval_text(flat) == "20.0 [20.0, 20.0]"
    # results written before n_groups was recorded: as they are
    assert interval_text({"estimate": 0.0, "low": 0.0, "high": 0.0}) == "0.0 [0.0, 0.0]"
    # a difference, signed
    assert interval_text({"estimate": 0.002, "low": -0.0004, "high": 0.005},
                         signed=True) == "+0.2 [-0.0, +0.5]"


def test_an_interval_of_some_width_is_never_written_as_a_point():
    node = {"estimate": 0.00013, "low": 0.0, "high": 0.0004, "n_groups": 105,
            "metric": "false_positive_rate", "level": 0.95}
    assert interval_text(node) == "0.01 [0.00, 0.04]"


def test_summarize_pooled_rows_carry_what_interval_text_needs():
    groups = np.repeat(np.arange(30), 2)
    y = np.zeros(groups.size, int)
    row = summarize_pooled(y, y, groups, np.zeros(groups.size, int), metrics=("recall",),
                           labels=[0, 1], pos_label=0, n_boot=200)["recall"]
    assert row["n_groups"] == 30 and row["metric"] == "recall" and row["level"] == 0.95
    assert interval_text(row) == f"100.0 (≥ {100 * (1 - no_event_bound(30)):.1f})"
