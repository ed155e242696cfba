"""Exporting a trained cry detector (patch model) to TFLite: float32 and int8."""

from __future__ import annotations

import numpy as np

from ..detection.runtime import TFLitePatchModel

__all__ = ["to_tflite", "TFLitePatchModel"]


def to_tflite(model, *, quantize: str | None = None,
              representative: np.ndarray | None = None) -> bytes:
    """A patch model (``(batch, 96, 64)`` → ``(batch, 1)``) as a TFLite flatbuffer with a
    dynamic batch size.

    Parameters
    ----------
    model : keras.Model
        :func:`cryvideo.models.yamnet_cry.build_patch_detector`.
    quantize : {None, "dynamic", "int8"}
        None: float32; "dynamic": int8 weights; "int8": int8 weights and activations
        (calibrated on ``representative``), float32 input and output.
    representative : np.ndarray [shape=(n, 96, 64)], optional
        Real patches for the int8 calibration.
    """
    from ..models.export import to_tflite as _convert

    frames = int(model.inputs[0].shape[1])
    return _convert(model, frames=frames, quantize=quantize, batch=None,
                    representative=None if representative is None
                    else np.asarray(representative, np.float32)[:400])
