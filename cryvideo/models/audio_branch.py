"""A trained AE+DNN audio branch (MFCC or STFT) loaded from ``saved_models/`` with its card.

Clips of any length: the waveform is cut into windows of the card's clip duration (7 s) with
50 % overlap; each window gets the training-time preprocessing (centre crop / zero pad,
standardize → min-max) and features; the branch returns the mean of the windows' class
probabilities. A clip shorter than one window is zero-padded, exactly as in training.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..audio import FeatureParams, windows
from ..audio.feature_pooling import PoolSpec, pool_features
from ..audio.features import features_from_waveform
from ..errors import ModelError, ParameterError
from .cards import ModelCard, load_model_with_card

__all__ = ["AudioBranch", "window_starts", "CARD_KIND"]

#: ``kind`` field of the cards of these models.
CARD_KIND = "reason-classifier/ae-dnn"


def window_starts(n: int, win: int, *, overlap: float = 0.5) -> list[int]:
    """Start samples of windows of ``win`` samples covering ``n`` samples.

    One window (start 0) when ``n <= win``; else hops of ``win * (1 - overlap)`` and a last
    window aligned with the end, so every sample is covered
    (:func:`cryvideo.audio.windows.window_starts`).
    """
    if win <= 0:
        raise ParameterError(f"window must be > 0 samples, got {win}")
    hop = max(1, int(round(win * (1.0 - overlap))))
    return [int(s) for s in windows.window_starts(n, win, hop)]


class AudioBranch:
    """One trained audio branch.

    Parameters
    ----------
    model : keras.Model
        Pooled feature vector ``(batch, d)`` → probabilities ``(batch, n_classes)``.
    card : ModelCard
    source : str
        Path of the card (shown in ``predict``'s output).

    Attributes
    ----------
    name : str
        ``"mfcc"`` or ``"stft"``.
    labels : list of str
    trained : bool
        Always True (placeholders are :class:`~cryvideo.models.branches.UntrainedBranch`).
    source : str
    sr : int
    params : FeatureParams
    pool : PoolSpec
    """

    trained = True

    def __init__(self, model, card: ModelCard, *, source: str) -> None:
        from ..tflite import TFLiteModel

        inputs = card.inputs or {}
        try:
            self.name = str(inputs["feature"])
            self.params = FeatureParams.from_dict(inputs["feature_params"])
            self.pool = PoolSpec(**inputs["pool"])
        except (KeyError, TypeError, ParameterError) as exc:
            raise ModelError(f"model card lacks valid input parameters ({exc})",
                             path=source) from None
        if self.params.duration is None:
            raise ModelError("model card must fix a clip duration", path=source)
        self.labels = list(card.labels)
        self.model = model
        self.card = card
        self.source = source
        self.sr = self.params.sr
        self._tflite = isinstance(model, TFLiteModel)
        if self._tflite:
            inp, out = model.shape[-1], int(model.it.get_output_details()[0]["shape"][-1])
        else:
            out = model.outputs[0].shape[-1]
            inp = model.inputs[0].shape[-1]
        if out != len(self.labels) or inp != self.pool.dim:
            raise ModelError(
                f"model does not match its card: {inp} inputs / {out} outputs, card says "
                f"{self.pool.dim} / {len(self.labels)}", path=source)

    @classmethod
    def load(cls, path: str | os.PathLike) -> AudioBranch:
        """Load ``x.keras`` (``safe_mode=True``) or ``x.tflite`` and its card ``x.json`` (sha256
        verified). A ``.tflite`` twin runs without TensorFlow.

        Raises
        ------
        ModelError
            Missing, corrupt, mismatched or unsafe model file, or a card that does not fit.
        """
        path = Path(path)
        if path.suffix == ".tflite":
            from ..models.cards import verify_model_file
            from ..tflite import TFLiteModel

            card = verify_model_file(path)
            model = TFLiteModel(path, batch=8)
        else:
            model, card = load_model_with_card(path)
        if not card.trained:
            raise ModelError("card says this model is untrained", path=path)
        return cls(model, card, source=os.fspath(path.with_suffix(".json")))

    def features(self, y: np.ndarray) -> np.ndarray:
        """Pooled features of every window.

        Parameters
        ----------
        y : np.ndarray [shape=(n,)]
            Raw mono waveform at :attr:`sr`.

        Returns
        -------
        np.ndarray [shape=(n_windows, pool.dim)]
        """
        y = np.asarray(y, dtype=np.float32).reshape(-1)
        if y.size == 0:
            raise ParameterError("empty waveform")
        win = self.params.n_samples
        mats = [features_from_waveform(y[s : s + win], self.params, kinds=(self.name,))[self.name]
                for s in window_starts(y.size, win)]
        return pool_features(np.stack(mats), self.pool)

    def predict_windows(self, y: np.ndarray) -> np.ndarray:
        """Class probabilities per window, shape ``(n_windows, n_classes)``."""
        P = self.features(y)
        if self._tflite:
            return np.asarray(self.model(P), dtype=np.float64)
        return np.asarray(self.model(P, training=False), dtype=np.float64)

    def predict_proba(self, y: np.ndarray) -> np.ndarray:
        """Class probabilities ``(n_classes,)``: the mean over windows."""
        p = self.predict_windows(y).mean(axis=0)
        return (p / p.sum()).astype(np.float32)

    def __repr__(self) -> str:
        return f"AudioBranch({self.name!r}, {self.source!r})"
