"""Pooling a feature matrix (MFCC or STFT, ``(n_coef, n_frames)``) to one fixed-size vector:
the input of the AE+DNN branches, whatever the clip length."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import ParameterError

__all__ = ["PoolSpec", "DEFAULT_POOL", "pool_features"]


@dataclasses.dataclass(frozen=True)
class PoolSpec:
    """How a feature matrix becomes the autoencoder's input vector.

    The matrix ``(n_coef, n_frames)`` is cut into ``coef_bins`` × ``time_bins`` nearly equal
    blocks whose means form a grid; the standard deviation over all frames of each coefficient
    band is appended. The input size is ``coef_bins * (time_bins + 1)``, whatever the clip length.

    Attributes
    ----------
    coef_bins : int
        Bands along the coefficient axis (MFCC: 40 = no pooling; STFT: 32 bands of 8 bins).
    time_bins : int
        Segments along time.
    """

    coef_bins: int
    time_bins: int = 8

    def __post_init__(self) -> None:
        if self.coef_bins < 1 or self.time_bins < 1:
            raise ParameterError(f"pool bins must be >= 1, got {self.coef_bins}/{self.time_bins}")

    @property
    def dim(self) -> int:
        return self.coef_bins * (self.time_bins + 1)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


#: Pooling used by the bundled models (recorded in their cards).
DEFAULT_POOL = {"mfcc": PoolSpec(coef_bins=40, time_bins=8), "stft": PoolSpec(32, 8)}


def _segment_means(a: np.ndarray, bins: int, axis: int) -> np.ndarray:
    parts = np.array_split(a, bins, axis=axis)
    return np.stack([p.mean(axis=axis) for p in parts], axis=axis)


def pool_features(X: np.ndarray, spec: PoolSpec) -> np.ndarray:
    """Pool feature matrices to fixed-size vectors (see :class:`PoolSpec`).

    Parameters
    ----------
    X : np.ndarray [shape=(n, n_coef, n_frames) or (n_coef, n_frames)]
    spec : PoolSpec

    Returns
    -------
    np.ndarray [shape=(n, spec.dim), dtype=float32]
    """
    X = np.asarray(X, dtype=np.float32)
    if X.ndim == 2:
        X = X[None]
    if X.ndim != 3:
        raise ParameterError(f"expected feature matrices (n, n_coef, n_frames), got {X.shape}")
    n, n_coef, n_frames = X.shape
    if n_coef < spec.coef_bins or n_frames < spec.time_bins:
        raise ParameterError(
            f"feature matrix {n_coef}x{n_frames} is smaller than the pooling grid "
            f"{spec.coef_bins}x{spec.time_bins}")
    bands = _segment_means(X, spec.coef_bins, axis=1)             # (n, coef_bins, n_frames)
    grid = _segment_means(bands, spec.time_bins, axis=2)          # (n, coef_bins, time_bins)
    spread = bands.std(axis=2)                                    # (n, coef_bins)
    return np.concatenate([grid.reshape(n, -1), spread], axis=1).astype(np.float32)
