"""Rolling prediction averaging (the video paper's deque of past frame predictions)."""

from __future__ import annotations

from collections import deque

import numpy as np

from ..errors import ParameterError

__all__ = ["RollingAverage", "smooth_predictions", "DEFAULT_WINDOW"]

#: Frame predictions averaged by default.
DEFAULT_WINDOW = 8


class RollingAverage:
    """Mean of the last ``k`` frame predictions, kept in a deque.

    Parameters
    ----------
    k : int
        Window length in frames (1 = no smoothing).
    """

    def __init__(self, k: int = DEFAULT_WINDOW) -> None:
        if int(k) < 1:
            raise ParameterError(f"smoothing window must be >= 1 frame, got {k}")
        self.k = int(k)
        self.queue: deque[np.ndarray] = deque(maxlen=self.k)

    def update(self, p: np.ndarray) -> np.ndarray:
        """Add one frame's probabilities ``(n_classes,)``; return the rolling mean."""
        self.queue.append(np.asarray(p, dtype=np.float64))
        return np.mean(self.queue, axis=0)


def smooth_predictions(probs: np.ndarray, k: int = DEFAULT_WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """Rolling-average a sequence of frame predictions.

    Parameters
    ----------
    probs : np.ndarray [shape=(n_frames, n_classes)]
        Per-frame class probabilities (frames with a face, in time order).
    k : int
        Window length.

    Returns
    -------
    smoothed : np.ndarray [shape=(n_frames, n_classes)]
        ``smoothed[i]`` is the mean of frames ``max(0, i-k+1) … i``.
    video : np.ndarray [shape=(n_classes,)]
        Per-video probabilities: the mean over all frames (NaN-free; empty input → uniform
        is NOT returned: an empty input raises).
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or len(probs) == 0:
        raise ParameterError(f"need (n_frames >= 1, n_classes) predictions, got {probs.shape}")
    ra = RollingAverage(k)
    smoothed = np.stack([ra.update(p) for p in probs])
    return smoothed, probs.mean(axis=0)
