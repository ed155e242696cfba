"""Waveform preprocessing exactly as in the video paper: standardize, then min-max to [0, 1]."""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError

__all__ = ["standardize_minmax", "fix_length"]


def standardize_minmax(y: np.ndarray, *, eps: float = 1e-8) -> np.ndarray:
    """Standardize a waveform (zero mean, unit variance), then min-max scale it to [0, 1].

    This is the video paper's preprocessing (``StandardScaler`` then ``MinMaxScaler`` over the
    samples of one clip). Note that min-max scaling after an affine standardization gives the same
    result as min-max scaling alone; the two steps are kept for fidelity. The result has a DC
    offset (its mean is not 0), which shows up in the lowest STFT bin.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono waveform.
    eps : float
        Guard against division by zero for constant (silent) input.

    Returns
    -------
    np.ndarray [shape=(n,), dtype=float32]
        Values in [0, 1]; a constant input gives all zeros.
    """
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1:
        raise ParameterError(f"expected a mono waveform of shape (n,), got shape {y.shape}")
    if y.size == 0:
        raise ParameterError("empty waveform")
    if not np.all(np.isfinite(y)):
        raise ParameterError("waveform contains NaN or infinite values")
    z = (y - y.mean()) / max(float(y.std()), eps)
    lo, hi = float(z.min()), float(z.max())
    if hi - lo < eps:
        return np.zeros_like(y, dtype=np.float32)
    return ((z - lo) / (hi - lo)).astype(np.float32)


def fix_length(y: np.ndarray, size: int, *, mode: str = "center") -> np.ndarray:
    """Crop or zero-pad a waveform to exactly ``size`` samples.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono waveform.
    size : int
        Target length in samples.
    mode : {"center", "start"}
        Where to crop / pad: keep the middle, or keep the start and pad at the end.

    Returns
    -------
    np.ndarray [shape=(size,)]
    """
    if size <= 0:
        raise ParameterError(f"size must be > 0, got {size}")
    if mode not in ("center", "start"):
        raise ParameterError(f"mode must be 'center' or 'start', got {mode!r}")
    y = np.asarray(y)
    n = y.shape[0]
    if n == size:
        return y
    if n > size:
        start = (n - size) // 2 if mode == "center" else 0
        return y[start : start + size]
    before = (size - n) // 2 if mode == "center" else 0
    return np.pad(y, (before, size - n - before))
