"""Train/test splits: grouped by recording source (honest) and the paper's random split (leaky)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold, StratifiedShuffleSplit

from ..errors import ParameterError

__all__ = ["grouped_splits", "paper_splits", "leakage", "protocol_splits", "PROTOCOLS"]

#: The evaluation protocols: the paper's random split (leaky: clips of one source on both
#: sides) and splits grouped by recording source (honest).
PROTOCOLS = ("paper", "grouped")


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
        Folds per repeat; reduced to the number of groups if larger.
    n_repeats : int
        Repeats, each with its own shuffle.
    seed : int

    Yields
    ------
    (repeat, train_idx, test_idx)
        ``train_idx`` and ``test_idx`` are int arrays of positions.
    """
    y = np.asarray(y)
    groups = np.asarray(groups)
    if y.shape[0] != groups.shape[0]:
        raise ParameterError(f"y has {y.shape[0]} items but groups has {groups.shape[0]}")
    n_groups = len(np.unique(groups))
    if n_groups < 2:
        raise ParameterError("grouped splits need at least two groups")
    k = min(n_splits, n_groups)
    for r in range(n_repeats):
        cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed + r)
        for tr, te in cv.split(np.zeros(len(y)), y, groups):
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
    """
    y = np.asarray(y)
    for r in range(n_repeats):
        sss = StratifiedShuffleSplit(n_splits=1, test_size=test_size, random_state=seed + r)
        tr, te = next(sss.split(np.zeros(len(y)), y))
        yield r, tr, te


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
