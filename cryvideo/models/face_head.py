"""The face head: backbone features → pooling → flatten → dense → softmax (the paper's head)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import ParameterError
from .store import FACE_HEAD_FILE

__all__ = ["build_face_head", "train_face_head", "FACE_HEAD_FILE"]


def build_face_head(input_shape: Sequence[int], n_classes: int, *, hidden: int = 64,
                    dropout: float = 0.3, learning_rate: float = 1e-3):
    """Input ``(7, 7, C)`` → average pooling → flatten → dense(ReLU) → dropout → softmax.

    Parameters
    ----------
    input_shape : (int, int, int)
        Backbone feature-map shape.
    n_classes : int
    hidden : int
        Units of the dense layer (0: softmax straight after flatten).
    dropout : float
    learning_rate : float
        Adam learning rate.

    Returns
    -------
    keras.Model
        Compiled; input ``(batch, *input_shape)``, output ``(batch, n_classes)``.
    """
    import keras
    from keras import layers

    if n_classes < 2:
        raise ParameterError(f"need at least 2 classes, got {n_classes}")
    inp = keras.Input(tuple(int(d) for d in input_shape), name="features")
    x = layers.AveragePooling2D(pool_size=tuple(int(d) for d in input_shape[:2]),
                                name="pool")(inp)
    x = layers.Flatten(name="flatten")(x)
    if hidden:
        x = layers.Dense(hidden, activation="relu", name="dense")(x)
        if dropout:
            x = layers.Dropout(dropout, name="dropout")(x)
    out = layers.Dense(n_classes, activation="softmax", name="softmax")(x)
    model = keras.Model(inp, out, name="face_head")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train_face_head(features: np.ndarray, y: np.ndarray, n_classes: int, *, epochs: int = 10,
                    batch_size: int = 32, hidden: int = 64, seed: int = 0,
                    sample_weight: np.ndarray | None = None, verbose: int = 0):
    """Train a head on frame features.

    Parameters
    ----------
    features : np.ndarray [shape=(n_frames, 7, 7, C)]
        Backbone features of face frames (all videos of the training split).
    y : np.ndarray [shape=(n_frames,), dtype=int]
        Class index of each frame (its video's label).
    n_classes : int
    epochs, batch_size, hidden, seed : int
    sample_weight : np.ndarray [shape=(n_frames,)], optional
        E.g. ``1 / frames of the video``, so long videos do not dominate.

    Returns
    -------
    keras.Model
    """
    import keras

    keras.utils.set_random_seed(seed)
    model = build_face_head(features.shape[1:], n_classes, hidden=hidden)
    from .fitting import fit_fast

    fit_fast(model, features, y, epochs=epochs, batch_size=batch_size,
             sample_weight=sample_weight, seed=seed)
    return model


class FaceModel:
    """A trained face head plus the backbone it was trained on, loaded from a models folder.

    Parameters
    ----------
    head : keras.Model
    card : ModelCard
        ``card.inputs["backbone"]`` describes the backbone (name, weights id).
    backbone : cryvideo.vision.backbones.Backbone
    source : str
    """

    def __init__(self, head, card, backbone, source: str) -> None:
        self.head = head
        self.card = card
        self.backbone = backbone
        self.labels = list(card.labels)
        self.source = source
        self.trained = bool(card.trained)

    @classmethod
    def load(cls, path, *, runtime: str = "tflite", weights_path=None) -> FaceModel:
        """Load ``face_head.keras`` and resolve its backbone's weights.

        Raises
        ------
        ModelError
            Bad model file or card.
        WeightsNotFoundError
            The backbone's ImageNet weights are not available (the message says where to put
            which file).
        """
        from ..vision.backbones import load_backbone
        from .cards import load_model_with_card

        head, card = load_model_with_card(path)
        backbone = load_backbone(card.inputs.get("backbone", {}), runtime=runtime,
                                 weights_path=weights_path)
        return cls(head, card, backbone, str(path))

    def frame_probabilities(self, features: np.ndarray) -> np.ndarray:
        """Per-frame class probabilities.

        Parameters
        ----------
        features : np.ndarray [shape=(n, 7, 7, C)]

        Returns
        -------
        np.ndarray [shape=(n, n_classes)]
        """
        if len(features) == 0:
            return np.zeros((0, len(self.labels)), np.float32)
        from .fitting import predict_batches

        return predict_batches(self.head, features, batch_size=256)
