"""From patch probabilities to a clip decision and time segments.

Every detector in :mod:`cryvideo.detection` scores 0.96 s patches every 0.48 s. A clip's score
is the highest *moving mean* of ``window`` consecutive patch probabilities (3 patches ≈ 1.9 s of
audio), so one short burst (a laugh, a squeal) weighs less than a sustained cry; the training
loss of the detector sees the same pooling (:func:`cryvideo.models.yamnet_cry.build_mil_trainer`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["moving_mean", "clip_score", "merge_segments"]


def moving_mean(p: np.ndarray, window: int) -> np.ndarray:
    """Mean of every ``window`` consecutive values.

    Parameters
    ----------
    p : np.ndarray [shape=(n,)]
    window : int

    Returns
    -------
    np.ndarray [shape=(max(n - window + 1, 1),)]
        Fewer than ``window`` values give one mean over all of them; none gives ``[0.]``.
    """
    p = np.asarray(p, dtype=np.float64).reshape(-1)
    if p.size == 0:
        return np.zeros(1)
    k = max(1, min(int(window), p.size))
    c = np.concatenate([[0.0], np.cumsum(p)])
    return (c[k:] - c[:-k]) / k


def clip_score(p: np.ndarray, window: int) -> float:
    """The clip's score: the highest :func:`moving_mean` of its patch probabilities."""
    return float(moving_mean(p, window).max())


def merge_segments(starts: np.ndarray, scores: np.ndarray, *, window: float,
                   threshold: float, duration: float) -> list[tuple[float, float]]:
    """Merge windows whose score reaches ``threshold`` into (start, end) segments.

    Parameters
    ----------
    starts : np.ndarray [shape=(n,)]
        Start time of each window, seconds, increasing.
    scores : np.ndarray [shape=(n,)]
    window : float
        Length of one window, seconds.
    threshold : float
    duration : float
        Segments are clipped to it.

    Returns
    -------
    list of (float, float)
    """
    segs: list[list[float]] = []
    for s, p in zip(starts, scores, strict=True):
        if p < threshold:
            continue
        a, b = float(s), min(float(s) + window, duration)
        if segs and a <= segs[-1][1]:
            segs[-1][1] = max(segs[-1][1], b)
        else:
            segs.append([a, b])
    return [(a, b) for a, b in segs]
