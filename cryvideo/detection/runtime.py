"""Running a TFLite patch model (no TensorFlow import): patches in, probabilities out."""

from __future__ import annotations

import numpy as np

from ..tflite import TFLiteModel

__all__ = ["TFLitePatchModel"]


class TFLitePatchModel(TFLiteModel):
    """A ``.tflite`` model mapping ``(batch, 96, 64)`` patches to ``(batch, 1)`` probabilities
    (see :class:`cryvideo.tflite.TFLiteModel` for the parameters)."""

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Probabilities of a stack of patches.

        Parameters
        ----------
        x : np.ndarray [shape=(n, 96, 64)]

        Returns
        -------
        np.ndarray [shape=(n,), dtype=float32]
        """
        out = super().__call__(x)
        return out.reshape(len(out), -1)[:, 0] if len(out) else np.zeros(0, np.float32)
