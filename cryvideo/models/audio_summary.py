"""A light audio branch trained by ``cryvideo train`` on the videos' own sound.

MFCC (or STFT) → per-coefficient mean and std over time → standardize → dense(ReLU) → softmax.
It has the interface of :class:`cryvideo.models.branches.Branch` (``name, labels, trained,
source, sr, predict_proba(y)``), so ``predict`` treats it like the default audio branches
(the autoencoder + DNN branches of
:func:`cryvideo.models.branches.default_audio_branches`), which ``cryvideo train --audio
default`` reuses instead.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from ..audio.features import FeatureParams, features_from_waveform, summarize
from .store import VIDEO_AUDIO_FILE

__all__ = ["SummaryAudioBranch", "build_summary_model", "summary_features", "audio_file"]


def audio_file(kind: str) -> str:
    """File name of the trained summary branch of ``kind`` in a models folder."""
    return VIDEO_AUDIO_FILE.format(kind)


def summary_features(y: np.ndarray, params: FeatureParams, kind: str) -> np.ndarray:
    """Mean+std summary of one feature kind of a waveform.

    Returns
    -------
    np.ndarray [shape=(2 * n_coef,), dtype=float32]
    """
    return summarize(features_from_waveform(y, params, kinds=(kind,))[kind])


def build_summary_model(x_train: np.ndarray, n_classes: int, *, hidden: int = 32):
    """Normalization (adapted on ``x_train``) → dense(ReLU) → dropout → softmax.

    Parameters
    ----------
    x_train : np.ndarray [shape=(n, d)]
    n_classes : int
    """
    import keras
    from keras import layers

    norm = layers.Normalization(name="standardize")
    norm.adapt(np.asarray(x_train, np.float32))
    inp = keras.Input((x_train.shape[1],), name="summary")
    x = norm(inp)
    x = layers.Dense(hidden, activation="relu", name="dense")(x)
    x = layers.Dropout(0.3, name="dropout")(x)
    out = layers.Dense(n_classes, activation="softmax", name="softmax")(x)
    model = keras.Model(inp, out, name="audio_summary")
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class SummaryAudioBranch:
    """A trained summary audio branch, loaded from its ``.keras`` file and card."""

    def __init__(self, model, *, name: str, kind: str, labels: Sequence[str],
                 params: FeatureParams, source: str, trained: bool = True) -> None:
        self.model = model
        self.name = name
        self.kind = kind
        self.labels = list(labels)
        self.params = params
        self.sr = params.sr
        self.source = source
        self.trained = trained

    @classmethod
    def load(cls, path: str | os.PathLike) -> SummaryAudioBranch:
        from .cards import load_model_with_card

        model, card = load_model_with_card(path)
        return cls(model, name=card.inputs.get("branch", card.name), kind=card.inputs["kind"],
                   labels=card.labels, params=FeatureParams.from_dict(card.inputs["params"]),
                   source=str(path), trained=card.trained)

    def predict_proba(self, y: np.ndarray) -> np.ndarray:
        """Class probabilities ``(n_classes,)`` of a mono waveform at ``sr``."""
        x = summary_features(y, self.params, self.kind)[None]
        return np.asarray(self.model(x, training=False))[0]
