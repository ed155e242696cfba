"""Train/test splits: grouped by recording source (honest) and the paper's random split (leaky)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold, StratifiedShuffleSplit

from ..errors import ParameterError

__all__ = ["grouped_splits", "paper_splits", "leakage", "protocol_splits", "PROTOCOLS"]

#: The evaluation protocols: the paper's random split (leaky: clips of one source on both
#: sides) and splits grouped by recording source (honest).
PROTOCOLS = ("paper", "grouped")


def _class_counts(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Classes, the class code of each item and the items per class."""
    if y.ndim != 1:
        raise ParameterError(f"labels must be 1-D, got shape {y.shape}")
    classes, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
    return classes, codes.ravel(), counts


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}{'es' if word.endswith('s') else 's'}"


def grouped_splits(
    y: Sequence,
    groups: Sequence,
    *,
    n_splits: int = 5,
    n_repeats: int = 1,
    seed: int = 0,
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Repeated ``StratifiedGroupKFold``: no group is ever on both sides of a split.

    Parameters
    ----------
    y : sequence [shape=(n,)]
        Labels.
    groups : sequence [shape=(n,)]
        Group of each item (Donateacry: app-install UUID).
    n_splits : int
        Folds per repeat (at least 2); reduced to the number of groups if larger.
    n_repeats : int
        Repeats (at least 1), each with its own shuffle.
    seed : int

    Yields
    ------
    (repeat, train_idx, test_idx)
        ``train_idx`` and ``test_idx`` are int arrays of positions. In each repeat every item
        is tested exactly once. On very small data ``StratifiedGroupKFold`` can leave a fold
        without any group: that fold is skipped (a repeat then has fewer folds).

    Raises
    ------
    ParameterError
        Data too small to split, naming what is missing: fewer than two groups, or no class
        with as many items as there are folds (a stratified split cannot be made); also
        ``n_splits < 2``, ``n_repeats < 1`` or labels and groups of different lengths.
    """
    y = np.asarray(y)
    groups = np.asarray(groups)
    if int(n_splits) < 2:
        raise ParameterError(f"n_splits must be at least 2, got {n_splits}")
    if int(n_repeats) < 1:
        raise ParameterError(f"n_repeats must be at least 1, got {n_repeats}")
    if y.shape[:1] != groups.shape[:1] or groups.ndim != 1:
        raise ParameterError(f"y has {y.shape[0] if y.ndim else 0} items but groups has "
                             f"shape {groups.shape}")
    classes, codes, counts = _class_counts(y)
    n_groups = len(np.unique(groups))
    if n_groups < 2:
        raise ParameterError(f"grouped splits need at least two groups (recording sources); "
                             f"the {_plural(len(y), 'item')} come from {n_groups}")
    k = min(int(n_splits), n_groups)
    if counts.max() < k:
        big = classes[int(np.argmax(counts))].tolist()
        raise ParameterError(
            f"cannot make {k} stratified grouped folds of {_plural(len(y), 'item')}: no class "
            f"has {k} items (the largest, {big!r}, has {counts.max()}); give more items per "
            f"class or fewer folds")
    for r in range(int(n_repeats)):
        cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed + r)
        try:
            folds = list(cv.split(np.zeros(len(y)), codes, groups))
        except ValueError as exc:  # a case the checks above do not foresee: still one line
            raise ParameterError(f"cannot make {k} stratified grouped folds of "
                                 f"{_plural(len(y), 'item')}: {exc}") from exc
        for tr, te in folds:
            if len(te):
                yield r, tr, te


def paper_splits(
    y: Sequence,
    *,
    test_size: float = 0.3,
    n_repeats: int = 5,
    seed: int = 0,
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """The paper's stratified random 70/30 split, repeated over seeds. **Leaky** on Donateacry:
    clips of one app install land on both sides.

    Yields
    ------
    (repeat, train_idx, test_idx)

    Raises
    ------
    ParameterError
        Data too small to split, naming what is missing: a class with fewer than two items,
        or fewer test (or training) items than classes; also ``test_size`` outside (0, 1) or
        ``n_repeats < 1``.
    """
    y = np.asarray(y)
    if not 0.0 < float(test_size) < 1.0:
        raise ParameterError(f"test_size must be in (0, 1), got {test_size}")
    if int(n_repeats) < 1:
        raise ParameterError(f"n_repeats must be at least 1, got {n_repeats}")
    classes, _, counts = _class_counts(y)
    n = len(y)
    n_test = math.ceil(float(test_size) * n)
    n_train = n - n_test
    what = f"a stratified {_split_name(test_size)} split of {_plural(n, 'item')}"
    if n == 0 or counts.min() < 2:
        small = classes[int(np.argmin(counts))].tolist() if n else None
        raise ParameterError(f"{what} needs at least 2 items of every class"
                             + (f" ({small!r} has {counts.min()})" if n else ""))
    if min(n_test, n_train) < len(classes):
        side = "test" if n_test < len(classes) else "training"
        raise ParameterError(f"{what} needs at least one {side} item per class: "
                             f"{_plural(min(n_test, n_train), side + ' item')} for "
                             f"{_plural(len(classes), 'class')}")
    for r in range(int(n_repeats)):
        sss = StratifiedShuffleSplit(n_splits=1, test_size=test_size, random_state=seed + r)
        try:
            tr, te = next(sss.split(np.zeros(n), y))
        except ValueError as exc:  # a case the checks above do not foresee: still one line
            raise ParameterError(f"{what}: {exc}") from exc
        yield r, tr, te


def _split_name(test_size: float) -> str:
    test = round(100 * float(test_size))
    return f"{100 - test}/{test}"


def leakage(train_idx: np.ndarray, test_idx: np.ndarray, groups: Sequence) -> float:
    """Share of test items whose group also appears in training (0 for a grouped split)."""
    groups = np.asarray(groups)
    if len(test_idx) == 0:
        return 0.0
    seen = set(groups[train_idx].tolist())
    return float(np.mean([g in seen for g in groups[test_idx].tolist()]))


def protocol_splits(protocol: str, y: Sequence, groups: Sequence, *, n_splits: int = 5,
                    grouped_repeats: int = 1, paper_repeats: int = 5, test_size: float = 0.3,
                    seed: int = 0) -> list[tuple[int, int, np.ndarray, np.ndarray]]:
    """The splits of one protocol (see :data:`PROTOCOLS`): every benchmark's one dispatcher.

    Parameters
    ----------
    protocol : {"paper", "grouped"}
        ``paper``: :func:`paper_splits` (``paper_repeats`` × a ``test_size`` random split);
        ``grouped``: :func:`grouped_splits` (``grouped_repeats`` × ``n_splits`` folds).
    y, groups : sequence [shape=(n,)]

    Returns
    -------
    list of (repeat, fold, train_idx, test_idx)

    Raises
    ------
    ParameterError
        An unknown protocol.
    """
    if protocol == "paper":
        return [(r, 0, tr, te) for r, tr, te in
                paper_splits(y, test_size=test_size, n_repeats=paper_repeats, seed=seed)]
    if protocol == "grouped":
        out, fold, last = [], 0, None
        for r, tr, te in grouped_splits(y, groups, n_splits=n_splits,
                                        n_repeats=grouped_repeats, seed=seed):
            fold = fold + 1 if r == last else 0
            last = r
            out.append((r, fold, tr, te))
        return out
    raise ParameterError(f"unknown protocol {protocol!r}; expected one of {PROTOCOLS}")
