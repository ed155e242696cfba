"""The project's one interval method and its permutation test.

Interval: a **group (cluster) bootstrap** of a metric over pooled predictions. Whole groups
(Donateacry: app installs; detection: source recordings) are drawn with replacement, every
prediction of a drawn group comes along (all its clips, all repeats or seeds), the metric is
recomputed on each resample, and the interval is the percentile interval of those values. A
metric whose values lie in [0, 1] therefore gives an interval in [0, 1] by construction. The
interval measures how much the figure would move with another sample of *groups* like these;
it does not cover the variation from retraining (seeds) or from the choice of folds, which the
results report separately as a spread over seeds/repeats.

p-value: a **max-statistic permutation test** over several candidates (model/feature pairs).
Each permutation exchanges whole label blocks between groups of equal size, reruns the whole
evaluation for every candidate and keeps the best score; a candidate's family-wise p-value is
the share of permutations whose *best* score reaches its observed score. No Bonferroni needed.

Two cases where the bootstrap gives no interval, and what a report writes instead
(:func:`interval_text`):

* **One group.** Resampling one recording gives the same figure every time: ``[8.3, 8.3]``
  would claim a certainty that one recording cannot give. Written ``8.3 (1 recording: no
  interval)``.
* **No event at all** (a rate of 0: no false positive in any of the category's recordings; or
  1: every one found). Every resample gives 0 again, so the percentile interval is ``[0, 0]``.
  Written with a one-sided exact binomial (Clopper–Pearson) bound over the groups instead:
  ``0.0 (≤ 3.5)`` for 0 events in 83 recordings, ``1 − (1 − level)^(1/n)`` (≈ 3/n at 95 %, the
  "rule of three"; :func:`no_event_bound`). Over recordings as Bernoulli trials it is exact;
  for a mean of per-recording rates in [0, 1] it is conservative (a recording whose rate is p
  has no event with probability at most 1 − p).

Typical use::

    iv = group_bootstrap("balanced_accuracy", y_true, y_pred, uuids,
                         unit="app installs", of="pooled out-of-fold predictions")
    iv.low, iv.high, iv.label

    w = 1 / np.bincount(inv)[inv]            # group-weighted: each recording counts once
    iv = group_bootstrap("f1", y, y_hat, recordings, weights=w, pos_label=1)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

import numpy as np

from ..errors import ParameterError
from ..progress import Progress

__all__ = [
    "CONFUSION_METRICS",
    "Interval",
    "RATE_METRICS",
    "group_bootstrap",
    "confusion_metric",
    "group_label_permutation",
    "interval_text",
    "no_event_bound",
    "max_statistic_permutation_test",
    "seed_spread",
    "summarize_pooled",
]

#: Metrics computed from (weighted) confusion matrices, fast for thousands of resamples.
#: Multi-class: ``accuracy``, ``balanced_accuracy`` (mean recall over the classes present in
#: ``y_true``), ``macro_f1`` (over the classes present in ``y_true``, as
#: :func:`~cryvideo.evaluation.classification_metrics`). Binary (class ``pos_label`` against the
#: rest): ``recall``, ``precision``, ``f1``, ``false_positive_rate``, ``specificity``.
CONFUSION_METRICS = ("accuracy", "balanced_accuracy", "macro_f1", "recall", "precision", "f1",
                     "false_positive_rate", "specificity")
#: Metrics that are a proportion of events (a mean of 0/1 outcomes): at 0 or 1 with no event
#: to resample they get :func:`no_event_bound` instead of a collapsed bootstrap interval.
RATE_METRICS = ("accuracy", "recall", "false_positive_rate", "specificity")


@dataclasses.dataclass(frozen=True)
class Interval:
    """A point estimate and its group-bootstrap interval.

    Attributes
    ----------
    estimate : float
        The metric on the full data (all groups once).
    low, high : float
        Percentile interval of the metric over the resamples.
    level : float
        Coverage level, e.g. 0.95.
    n_boot : int
        Resamples drawn.
    n_groups, n_items : int
        Groups and predictions in the data.
    n_undefined : int
        Resamples on which the metric was undefined (NaN: e.g. no positive in the resample),
        left out of the percentiles.
    metric : str
    label : str
        What the interval covers, in words, for a table footnote.
    method : str
    """

    estimate: float
    low: float
    high: float
    level: float
    n_boot: int
    n_groups: int
    n_items: int
    n_undefined: int
    metric: str
    label: str
    method: str = "group bootstrap, percentile"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def fmt(self, *, scale: float = 100.0, digits: int = 1, unit: str = "group") -> str:
        """``"31.5 [18.2, 47.1]"`` (values times ``scale``), or what stands for an interval
        where there is none (:func:`interval_text`)."""
        return interval_text(self.to_dict(), scale=scale, digits=digits, unit=unit)


def no_event_bound(n: int, *, level: float = 0.95) -> float:
    """One-sided exact (Clopper–Pearson) bound on a rate with no event in ``n`` groups.

    The largest rate ``p`` under which seeing no event in ``n`` independent groups still has
    probability at least ``1 - level``: ``1 - (1 - level) ** (1 / n)`` (≈ 3 / n at 95 %, the
    "rule of three"). For a rate of 1 (an event in every group) the lower bound is one minus it.

    Parameters
    ----------
    n : int
        Groups (recordings) observed, at least 1.
    level : float
        One-sided coverage in (0, 1).
    """
    if int(n) < 1:
        raise ParameterError(f"n must be at least 1, got {n}")
    if not 0.0 < level < 1.0:
        raise ParameterError(f"level must be in (0, 1), got {level}")
    return float(1.0 - (1.0 - level) ** (1.0 / int(n)))


def interval_text(node, *, scale: float = 100.0, digits: int = 1, unit: str = "group",
                  signed: bool = False) -> str:
    """An estimate and its interval as a report writes it.

    Parameters
    ----------
    node : Interval or mapping
        ``estimate``, ``low``, ``high``; with ``n_groups`` (and ``metric``, ``level``) the two
        cases of the module docstring are recognised — without them (older results) the
        interval is written as it is.
    scale, digits : float, int
        Values times ``scale``, with ``digits`` decimals.
    unit : str
        What a group is, singular ("recording").
    signed : bool
        Write a sign on every value (differences).

    Returns
    -------
    str
        ``"31.5 [18.2, 47.1]"``; ``"8.3 (1 recording: no interval)"`` for one group;
        ``"0.0 (≤ 3.5)"`` / ``"100.0 (≥ 96.5)"`` for a rate with no event (or an event in every
        group) in ``n`` groups: the one-sided bound of :func:`no_event_bound` at the node's
        level. An interval of some width that would round to a point gets more decimals
        (``"0.01 [0.00, 0.04]"``).
    """
    if isinstance(node, Interval):
        node = node.to_dict()
    f = f"{{:{'+' if signed else ''}.{digits}f}}"
    est, low, high = (float(node[k]) for k in ("estimate", "low", "high"))
    n = node.get("n_groups")
    if n is not None and int(n) == 1:
        return f"{f.format(est * scale)} (1 {unit}: no interval)"
    if n is not None and node.get("metric") in RATE_METRICS:
        bound = no_event_bound(int(n), level=float(node.get("level", 0.95)))
        flat = math.isclose(low, high, abs_tol=1e-12)
        if flat and math.isclose(est, 0.0, abs_tol=1e-12) and math.isclose(high, 0.0,
                                                                          abs_tol=1e-12):
            return f"{f.format(0.0)} (≤ {f.format(bound * scale)})"
        if flat and math.isclose(est, 1.0, abs_tol=1e-12) and math.isclose(low, 1.0,
                                                                          abs_tol=1e-12):
            return f"{f.format(scale)} (≥ {f.format((1.0 - bound) * scale)})"
    for extra in range(4):  # an interval of some width is never written as a point
        g = f"{{:{'+' if signed else ''}.{digits + extra}f}}"
        if g.format(low * scale) != g.format(high * scale) or math.isclose(low, high,
                                                                           abs_tol=1e-12):
            break
    return f"{g.format(est * scale)} [{g.format(low * scale)}, {g.format(high * scale)}]"


# ---------------------------------------------------------------------------- metrics

def _div(num: np.ndarray, den: np.ndarray, empty: float) -> np.ndarray:
    out = np.full(np.broadcast(num, den).shape, empty, dtype=float)
    np.divide(num, den, out=out, where=den > 0)
    return out


def confusion_metric(name: str, cm: np.ndarray, *, pos: int | None = None) -> np.ndarray:
    """A metric from confusion matrices.

    Parameters
    ----------
    name : str
        One of :data:`CONFUSION_METRICS`.
    cm : np.ndarray [shape=(..., k, k)]
        (Weighted) counts, rows = true class, columns = predicted class.
    pos : int, optional
        Row/column of the positive class (binary metrics).

    Returns
    -------
    np.ndarray [shape=(...)]
        NaN where the metric is undefined (no positives for ``recall``, no negatives for
        ``false_positive_rate``/``specificity``, no item at all).
    """
    cm = np.asarray(cm, dtype=float)
    diag = np.diagonal(cm, axis1=-2, axis2=-1)
    rows, cols = cm.sum(axis=-1), cm.sum(axis=-2)
    total = rows.sum(axis=-1)
    if name == "accuracy":
        return _div(diag.sum(axis=-1), total, np.nan)
    if name in ("balanced_accuracy", "macro_f1"):
        present = rows > 0
        per = (_div(diag, rows, 0.0) if name == "balanced_accuracy"
               else _div(2 * diag, rows + cols, 0.0))
        return _div((per * present).sum(axis=-1), present.sum(axis=-1).astype(float), np.nan)
    if name not in CONFUSION_METRICS:
        raise ParameterError(f"unknown metric {name!r}; expected one of {CONFUSION_METRICS} "
                             "or a callable")
    if pos is None:
        raise ParameterError(f"metric {name!r} needs the positive class")
    tp = diag[..., pos]
    fn, fp = rows[..., pos] - tp, cols[..., pos] - tp
    tn = total - tp - fn - fp
    if name == "recall":
        return _div(tp, tp + fn, np.nan)
    if name == "precision":
        return _div(tp, tp + fp, 0.0)  # nothing predicted positive: 0, as scikit-learn
    if name == "f1":
        return _div(2 * tp, 2 * tp + fp + fn, 0.0)
    if name == "false_positive_rate":
        return _div(fp, fp + tn, np.nan)
    return _div(tn, fp + tn, np.nan)  # specificity


# ---------------------------------------------------------------------------- bootstrap

def _group_codes(groups: Sequence, n: int) -> tuple[np.ndarray, int]:
    groups = np.asarray(groups)
    if groups.shape != (n,):
        raise ParameterError(f"groups has shape {groups.shape}, expected ({n},)")
    _, codes = np.unique(groups, return_inverse=True)
    return codes.ravel(), int(codes.max()) + 1 if n else 0


def _resample_counts(rng: np.random.Generator, n_groups: int, n_boot: int) -> np.ndarray:
    """``(n_boot, n_groups)`` int: how often each group is drawn in each resample."""
    draw = rng.integers(0, n_groups, size=(n_boot, n_groups))
    flat = (draw + n_groups * np.arange(n_boot)[:, None]).ravel()
    return np.bincount(flat, minlength=n_boot * n_groups).reshape(n_boot, n_groups)


def group_bootstrap(
    metric_fn: str | Callable[..., float],
    y_true: Sequence,
    y_pred: Sequence,
    groups: Sequence,
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
    weights: Sequence[float] | None = None,
    pos_label=1,
    labels: Sequence | None = None,
    unit: str = "groups",
    of: str = "pooled predictions",
) -> Interval:
    """Point estimate and percentile interval from resampling whole groups with replacement.

    Parameters
    ----------
    metric_fn : str or callable
        A name from :data:`CONFUSION_METRICS` (vectorised: 2000 resamples of a few thousand
        items take well under a second), or ``metric_fn(y_true, y_pred) -> float`` (called
        with ``sample_weight=`` as a keyword when ``weights`` is given), e.g. a ROC AUC on
        scores; it should return NaN where the metric is undefined.
    y_true : sequence [shape=(n,)]
        True labels of the pooled predictions (one item per prediction: a clip predicted in
        three repeats is three items of the same group).
    y_pred : sequence [shape=(n,)]
        Predicted labels, or scores for a callable metric.
    groups : sequence [shape=(n,)]
        Group of each item (app install, source recording). Groups are the resampled units.
    n_boot : int
        Resamples (at least 100).
    level : float
        Coverage in (0, 1).
    seed : int
        Seed of the resampling: the same seed and groups give the same resamples, so rows of a
        table are resampled alike.
    weights : sequence of float [shape=(n,)], optional
        Weight of each item, e.g. ``1 / (items in its group)`` for group-weighted metrics
        where each recording counts once. Weights travel with their items.
    pos_label : object
        The positive class for the binary metrics.
    labels : sequence, optional
        All classes (default: those in ``y_true`` and ``y_pred``).
    unit : str
        What a group is, plural, for the label ("app installs", "recordings").
    of : str
        What was resampled, for the label ("pooled out-of-fold predictions of 3 repeats").

    Returns
    -------
    Interval
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    n = y_true.shape[0]
    if y_true.ndim != 1 or y_pred.shape[0] != n:
        raise ParameterError(f"y_true and y_pred must be 1-D of the same length, got "
                             f"{y_true.shape} and {y_pred.shape}")
    if n == 0:
        raise ParameterError("no predictions to bootstrap")
    if int(n_boot) < 100:
        raise ParameterError(f"n_boot must be >= 100, got {n_boot}")
    if not 0.0 < level < 1.0:
        raise ParameterError(f"level must be in (0, 1), got {level}")
    codes, n_groups = _group_codes(groups, n)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ParameterError("weights must be finite, non-negative and one per item")
    rng = np.random.default_rng(seed)
    counts = _resample_counts(rng, n_groups, int(n_boot))

    if isinstance(metric_fn, str):
        name = metric_fn
        classes = (np.unique(np.concatenate([y_true, y_pred])) if labels is None
                   else np.asarray(list(labels)))
        k = len(classes)
        ti = np.searchsorted(classes, y_true) if labels is None else _index_of(classes, y_true)
        pi = np.searchsorted(classes, y_pred) if labels is None else _index_of(classes, y_pred)
        pos = None
        if name in CONFUSION_METRICS[3:]:
            hit = np.flatnonzero([c == pos_label for c in classes.tolist()])
            if hit.size == 0:  # the positive class never occurs: add it as an empty class
                classes, k, pos = np.append(classes, pos_label), k + 1, k
            else:
                pos = int(hit[0])
        per_group = np.zeros((n_groups, k * k))
        np.add.at(per_group, (codes, ti * k + pi), w)
        estimate = float(confusion_metric(name, per_group.sum(axis=0).reshape(k, k), pos=pos))
        values = confusion_metric(name, (counts @ per_group).reshape(-1, k, k), pos=pos)
    else:
        name = getattr(metric_fn, "__name__", "metric")
        order = np.argsort(codes, kind="stable")
        starts = np.searchsorted(codes[order], np.arange(n_groups + 1))
        members = [order[starts[g]:starts[g + 1]] for g in range(n_groups)]

        def call(idx: np.ndarray) -> float:
            if weights is None:
                return float(metric_fn(y_true[idx], y_pred[idx]))
            return float(metric_fn(y_true[idx], y_pred[idx], sample_weight=w[idx]))

        estimate = call(np.arange(n))
        values = np.empty(int(n_boot))
        for b in range(int(n_boot)):
            drawn = np.repeat(np.arange(n_groups), counts[b])
            values[b] = call(np.concatenate([members[g] for g in drawn]))
    if not np.isfinite(estimate):
        raise ParameterError(f"metric {name!r} is undefined on the full data")
    ok = np.isfinite(values)
    if not ok.any():
        raise ParameterError(f"metric {name!r} is undefined on every resample")
    low, high = np.quantile(values[ok], [(1 - level) / 2, (1 + level) / 2])
    pct = f"{100 * level:g}"
    label = (f"{pct} % group-bootstrap interval over {n_groups} {unit} "
             f"({int(n_boot)} resamples of {of})")
    return Interval(estimate=estimate, low=float(low), high=float(high), level=float(level),
                    n_boot=int(n_boot), n_groups=n_groups, n_items=int(n),
                    n_undefined=int((~ok).sum()), metric=name, label=label)


def _index_of(classes: np.ndarray, values: np.ndarray) -> np.ndarray:
    lookup = {c: i for i, c in enumerate(classes.tolist())}
    try:
        return np.array([lookup[v] for v in values.tolist()], dtype=np.int64)
    except KeyError as exc:
        raise ParameterError(f"label {exc.args[0]!r} is not among labels") from None


def summarize_pooled(
    y_true: Sequence,
    y_pred: Sequence,
    groups: Sequence,
    repeats: Sequence[int],
    *,
    metrics: Sequence[str] = ("accuracy", "balanced_accuracy", "macro_f1"),
    labels: Sequence | None = None,
    weights: Sequence[float] | None = None,
    pos_label=1,
    n_boot: int = 2000,
    seed: int = 0,
    unit: str = "groups",
    of: str = "pooled predictions",
) -> dict:
    """The project's summary of a row: each metric on the pooled predictions of all repeats
    (or seeds) with its group-bootstrap interval, and its value on each repeat.

    Parameters
    ----------
    y_true, y_pred, groups : sequence [shape=(n,)]
        One item per prediction (a clip predicted in three repeats is three items).
    repeats : sequence of int [shape=(n,)]
        Repeat (or seed) of each prediction.
    metrics : sequence of str
        Names from :data:`CONFUSION_METRICS`.
    labels, weights, pos_label, n_boot, seed, unit, of
        As :func:`group_bootstrap`.

    Returns
    -------
    dict
        ``{metric: {"estimate", "low", "high", "interval", "n_boot", "n_groups", "metric",
        "level", "per_repeat", "repeat_mean", "repeat_sd"}}`` (a row for
        :func:`interval_text`).
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    groups, repeats = np.asarray(groups), np.asarray(repeats)
    w = None if weights is None else np.asarray(weights, dtype=float)
    out = {}
    for m in metrics:
        iv = group_bootstrap(m, y_true, y_pred, groups, n_boot=n_boot, seed=seed, labels=labels,
                             weights=w, pos_label=pos_label, unit=unit, of=of)
        per = []
        for r in np.unique(repeats):
            sel = repeats == r
            per.append(_point(m, y_true[sel], y_pred[sel], labels=labels,
                              weights=None if w is None else w[sel], pos_label=pos_label))
        spread = seed_spread(per)
        out[m] = {"estimate": iv.estimate, "low": iv.low, "high": iv.high,
                  "interval": iv.label, "n_boot": iv.n_boot, "n_groups": iv.n_groups,
                  "metric": iv.metric, "level": iv.level, "per_repeat": spread["values"],
                  "repeat_mean": spread["mean"], "repeat_sd": spread["sd"]}
    return out


def _point(name: str, y_true: np.ndarray, y_pred: np.ndarray, *, labels, weights,
           pos_label) -> float:
    """A confusion metric on one set of predictions (no resampling)."""
    classes = (np.unique(np.concatenate([y_true, y_pred])) if labels is None
               else np.asarray(list(labels)))
    pos = None
    if name in CONFUSION_METRICS[3:]:
        hit = np.flatnonzero([c == pos_label for c in classes.tolist()])
        if hit.size == 0:
            classes = np.append(classes, pos_label)
            pos = len(classes) - 1
        else:
            pos = int(hit[0])
    k = len(classes)
    ti, pi = _index_of(classes, y_true), _index_of(classes, y_pred)
    cm = np.zeros(k * k)
    np.add.at(cm, ti * k + pi, 1.0 if weights is None else weights)
    return float(confusion_metric(name, cm.reshape(k, k), pos=pos))


# ---------------------------------------------------------------------------- spread over seeds

def seed_spread(values: Sequence[float]) -> dict:
    """Mean and spread of one figure over seeds (or repeats).

    Returns
    -------
    dict
        ``mean``, ``sd`` (sample standard deviation, 0 for one value), ``min``, ``max``,
        ``n``, ``values``.
    """
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        raise ParameterError("no values")
    return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if v.size > 1 else 0.0,
            "min": float(v.min()), "max": float(v.max()), "n": int(v.size),
            "values": [float(x) for x in v]}


# ---------------------------------------------------------------------------- permutation test

def group_label_permutation(y: Sequence, groups: Sequence,
                            rng: np.random.Generator) -> np.ndarray:
    """Labels with whole label blocks exchanged between groups of equal size.

    The labels of a group (its block: one label per item, several distinct labels allowed)
    move together to another group with the same number of items, drawn uniformly among those,
    and are dealt to its items in random order. Class counts, group sizes and the mixture of
    labels inside each group are kept; only which group carries which block changes. Under
    the null hypothesis that a group's audio tells nothing about its labels, every such
    assignment is equally likely, so the permutations are exchangeable. A group whose size no
    other group shares keeps its block (its items are only reshuffled among themselves).

    Parameters
    ----------
    y, groups : sequence [shape=(n,)]
    rng : np.random.Generator

    Returns
    -------
    np.ndarray [shape=(n,)]
    """
    y = np.asarray(y)
    codes, n_groups = _group_codes(groups, y.shape[0])
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(n_groups + 1))
    members = [order[starts[g]:starts[g + 1]] for g in range(n_groups)]
    sizes = np.diff(starts)
    out = y.copy()
    for s in np.unique(sizes):
        same = np.flatnonzero(sizes == s)
        for dst, src in zip(same, rng.permutation(same), strict=True):
            out[members[dst]] = rng.permutation(y[members[src]])
    return out


def _exchangeable(groups: Sequence, n: int) -> tuple[int, int]:
    codes, n_groups = _group_codes(groups, n)
    sizes = np.bincount(codes, minlength=n_groups)
    size_counts = np.bincount(sizes)
    fixed = int(np.sum(size_counts[sizes] == 1))
    return n_groups - fixed, fixed


def max_statistic_permutation_test(
    score_fn: Callable[[np.ndarray], Sequence[float]],
    y: Sequence,
    groups: Sequence,
    *,
    names: Sequence[str] | None = None,
    n_permutations: int = 999,
    seed: int = 0,
    progress: Progress | None = None,
    observed: Sequence[float] | None = None,
) -> dict:
    """Family-wise p-values for several candidates from one set of group permutations.

    Parameters
    ----------
    score_fn : callable
        ``score_fn(labels) -> scores [shape=(m,)]``: reruns the *whole* evaluation of every
        candidate (splits included, if they depend on the labels) with the given labels and
        returns one score per candidate, higher = better.
    y, groups : sequence [shape=(n,)]
        True labels and the group of each item (see :func:`group_label_permutation`).
    names : sequence of str, optional
        Candidate names, for the record.
    n_permutations : int
        With N permutations the smallest possible p is 1 / (N + 1): use at least 199 for a
        p that can fall below 0.01 (fewer only to test plumbing).
    seed : int
    progress : callable, optional
        ``progress("permutations", done, n_permutations)`` after each permutation.
    observed : sequence of float, optional
        The scores on the true labels, when already computed (``score_fn`` is then not called
        on them).

    Returns
    -------
    dict
        ``names``, ``observed`` (m scores), ``pvalue_familywise`` (m: (1 + #{permutation max
        >= observed}) / (1 + N)), ``pvalue_single`` (m: the same against each candidate's own
        permutation scores, not corrected), ``n_permutations``, ``min_pvalue``,
        ``permutation_max`` (N), ``permutation_scores`` (N x m), ``scheme``,
        ``n_groups_exchangeable`` and ``n_groups_fixed``.
    """
    y = np.asarray(y)
    if int(n_permutations) < 1:
        raise ParameterError(f"n_permutations must be >= 1, got {n_permutations}")
    rng = np.random.default_rng(seed)
    observed = np.asarray(score_fn(y) if observed is None else observed, dtype=float).ravel()
    m = observed.size
    names = [f"candidate {i}" for i in range(m)] if names is None else list(names)
    if len(names) != m:
        raise ParameterError(f"{len(names)} names for {m} scores")
    perm = np.empty((int(n_permutations), m))
    for i in range(int(n_permutations)):
        s = np.asarray(score_fn(group_label_permutation(y, groups, rng)), dtype=float).ravel()
        if s.size != m:
            raise ParameterError(f"score_fn returned {s.size} scores, expected {m}")
        perm[i] = s
        if progress is not None:
            progress("permutations", i + 1, int(n_permutations))
    pmax = perm.max(axis=1)
    n_perm = int(n_permutations)
    fw = (1 + (pmax[:, None] >= observed[None, :]).sum(axis=0)) / (1 + n_perm)
    single = (1 + (perm >= observed[None, :]).sum(axis=0)) / (1 + n_perm)
    n_ex, n_fixed = _exchangeable(groups, y.shape[0])
    return {
        "names": names,
        "observed": [float(v) for v in observed],
        "pvalue_familywise": [float(v) for v in fw],
        "pvalue_single": [float(v) for v in single],
        "n_permutations": n_perm,
        "min_pvalue": 1.0 / (1 + n_perm),
        "permutation_max": [float(v) for v in pmax],
        "permutation_scores": perm.tolist(),
        "scheme": ("label blocks of whole groups exchanged between groups of equal size, "
                   "dealt in random order inside the group; max over candidates"),
        "n_groups_exchangeable": n_ex,
        "n_groups_fixed": n_fixed,
    }
