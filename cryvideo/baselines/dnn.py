"""A small Keras DNN (multi-layer perceptron) as a scikit-learn classifier.

The network is a Keras model (``Dense`` → ReLU → … → ``Dense`` logits, softmax on output)
trained with Keras's RMSprop (the optimizer of the video paper) on sparse categorical
cross-entropy, optionally class-weighted.

Why the training loop is not ``model.fit``: a benchmark fits this network hundreds of times on a
few hundred clips, and ``model.fit`` re-traces its graph for every new model (≈0.7 s of CPU per
fit here, more than the training itself) and adds ≈40 ms of bookkeeping per epoch. So one Keras
model, optimizer and ``tf.function`` training loop is kept per architecture (input width,
hidden units, number of classes, batch size, optimizer settings); each ``fit`` re-initialises the
weights from its own seed, zeroes the optimizer state and runs the whole training (all epochs,
shuffling included) in one graph call. Fitted weights are copied out as NumPy arrays
(``coefs_``, ``intercepts_``), so a fitted estimator holds no TensorFlow state, pickles
cheaply, and predicts with a NumPy forward pass (float64, identical for any batch split).
:meth:`KerasDNNClassifier.to_keras` rebuilds the Keras model (e.g. to save it with a card).

Training is deterministic for a given ``random_state`` on a given machine (seeded
initialisation, stateless seeded shuffling, no dropout).
"""

from __future__ import annotations

import threading
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ..models.fitting import balanced_class_weights

__all__ = ["KerasDNNClassifier", "build_dnn", "clear_trainer_cache"]

_OPTIMIZERS = ("rmsprop", "adam")


def build_dnn(n_features: int, n_classes: int, *, hidden_units=(64, 32), l2: float = 0.0,
              softmax: bool = False):
    """The Keras network: ``Input(n_features)`` → Dense+ReLU per hidden layer → Dense(n_classes).

    Parameters
    ----------
    n_features : int
        Input width (e.g. 80 for the mean/std summary of 40 MFCCs).
    n_classes : int
    hidden_units : sequence of int
    l2 : float
        L2 penalty on the kernels (``keras.regularizers.L2``); 0 for none.
    softmax : bool
        End with a softmax (probabilities) instead of logits.

    Returns
    -------
    keras.Model
        Input shape ``(None, n_features)``, output shape ``(None, n_classes)``.
    """
    import keras

    reg = keras.regularizers.L2(l2) if l2 > 0 else None
    inp = keras.Input(shape=(int(n_features),), name="features")
    h = inp
    for i, units in enumerate(hidden_units):
        h = keras.layers.Dense(int(units), activation="relu", kernel_regularizer=reg,
                               name=f"hidden_{i}")(h)
    out = keras.layers.Dense(int(n_classes), activation="softmax" if softmax else None,
                             kernel_regularizer=reg, name="output")(h)
    return keras.Model(inp, out, name="cry_dnn")


class _Trainer:
    """One Keras model + optimizer + traced training loop for one architecture."""

    def __init__(self, n_features, n_classes, hidden_units, l2, batch_size, optimizer, lr):
        import keras
        import tensorflow as tf

        self.model = build_dnn(n_features, n_classes, hidden_units=hidden_units, l2=l2)
        if optimizer == "adam":
            self.opt = keras.optimizers.Adam(learning_rate=lr)
        else:
            self.opt = keras.optimizers.RMSprop(learning_rate=lr)
        self.opt.build(self.model.trainable_variables)
        self.lock = threading.Lock()
        model, opt, bs = self.model, self.opt, int(batch_size)

        @tf.function(
            input_signature=[
                tf.TensorSpec([None, int(n_features)], tf.float32),
                tf.TensorSpec([None], tf.int32),
                tf.TensorSpec([None], tf.float32),
                tf.TensorSpec([], tf.int32),
                tf.TensorSpec([2], tf.int32),
            ],
            jit_compile=False,
        )
        def train(x, y, w, epochs, seed):
            n = tf.shape(x)[0]
            n_batches = (n + bs - 1) // bs
            last = tf.constant(0.0)
            for e in tf.range(epochs):
                perm = tf.random.experimental.stateless_shuffle(
                    tf.range(n), seed=seed + tf.stack([tf.constant(0), e]))
                for b in tf.range(n_batches):
                    idx = perm[b * bs: tf.minimum((b + 1) * bs, n)]
                    xb, yb, wb = tf.gather(x, idx), tf.gather(y, idx), tf.gather(w, idx)
                    with tf.GradientTape() as tape:
                        logits = model(xb, training=True)
                        ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=yb,
                                                                            logits=logits)
                        loss = tf.reduce_sum(ce * wb) / tf.maximum(tf.reduce_sum(wb), 1e-12)
                        if model.losses:
                            loss = loss + tf.add_n(model.losses)
                    grads = tape.gradient(loss, model.trainable_variables)
                    opt.apply(grads, model.trainable_variables)
                    last = loss
            return last

        self.train = train

    def reset(self, rng: np.random.Generator) -> None:
        """Glorot-uniform kernels and zero biases from ``rng``; zero optimizer state."""
        weights = []
        for v in self.model.get_weights():
            if v.ndim == 2:
                limit = np.sqrt(6.0 / (v.shape[0] + v.shape[1]))
                weights.append(rng.uniform(-limit, limit, size=v.shape).astype(np.float32))
            else:
                weights.append(np.zeros(v.shape, np.float32))
        self.model.set_weights(weights)
        for v in self.opt.variables:
            if "learning_rate" not in v.path:
                v.assign(np.zeros(v.shape, dtype=v.dtype))


_TRAINERS: dict[tuple, _Trainer] = {}
_TRAINERS_LOCK = threading.Lock()


def _trainer(key: tuple) -> _Trainer:
    with _TRAINERS_LOCK:
        t = _TRAINERS.get(key)
        if t is None:
            t = _TRAINERS[key] = _Trainer(*key)
        return t


def clear_trainer_cache() -> None:
    """Drop the cached per-architecture Keras models and traced training loops."""
    with _TRAINERS_LOCK:
        _TRAINERS.clear()


class KerasDNNClassifier(ClassifierMixin, BaseEstimator):
    """Small Keras DNN classifier with the scikit-learn estimator API.

    Parameters
    ----------
    hidden_units : tuple of int, default (64, 32)
        Width of each hidden ReLU layer.
    epochs : int, default 60
        Passes over the training data.
    batch_size : int, default 32
    learning_rate : float, default 1e-3
    optimizer : {"rmsprop", "adam"}, default "rmsprop"
    l2 : float, default 1e-4
        L2 penalty on the kernels.
    class_weight : None, "balanced" or dict, default None
        ``"balanced"`` weights each class by ``n / (n_classes * count)``.
    random_state : int, default 0
        Seed of the weight initialisation and of the shuffling.

    Attributes
    ----------
    classes_ : np.ndarray [shape=(n_classes,)]
    n_features_in_ : int
    coefs_ : list of np.ndarray
        Kernels, ``coefs_[i]`` of shape ``(fan_in, fan_out)``.
    intercepts_ : list of np.ndarray
    loss_ : float
        Training loss of the last mini-batch.

    Notes
    -----
    Inputs are used as given: put a ``StandardScaler`` in front (see
    :func:`cryvideo.baselines.classifiers.build_dnn_pipeline`).
    """

    def __init__(self, *, hidden_units=(64, 32), epochs=60, batch_size=32, learning_rate=1e-3,
                 optimizer="rmsprop", l2=1e-4, class_weight=None, random_state=0):
        self.hidden_units = hidden_units
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.l2 = l2
        self.class_weight = class_weight
        self.random_state = random_state

    def _validate_params(self) -> tuple[int, ...]:
        hidden = tuple(self.hidden_units)
        if not hidden or not all(isinstance(u, Integral) and u > 0 for u in hidden):
            raise ValueError(f"hidden_units must be positive integers, got {self.hidden_units!r}")
        for name in ("epochs", "batch_size"):
            v = getattr(self, name)
            if not isinstance(v, Integral) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        if not isinstance(self.learning_rate, Real) or not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate!r}")
        if not isinstance(self.l2, Real) or self.l2 < 0:
            raise ValueError(f"l2 must be >= 0, got {self.l2!r}")
        if self.optimizer not in _OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {_OPTIMIZERS}, got {self.optimizer!r}")
        cw = self.class_weight
        if not (cw is None or cw == "balanced" or isinstance(cw, dict)):
            raise ValueError(f"class_weight must be None, 'balanced' or a dict, got {cw!r}")
        return tuple(int(u) for u in hidden)

    def _sample_weights(self, y_enc: np.ndarray) -> np.ndarray:
        k = len(self.classes_)
        if self.class_weight is None:
            return np.ones(len(y_enc), np.float32)
        if self.class_weight == "balanced":
            per_class = balanced_class_weights(y_enc, k)
        else:
            per_class = np.array([float(self.class_weight.get(c, 1.0)) for c in self.classes_])
        return per_class[y_enc].astype(np.float32)

    def fit(self, X, y):
        """Train on ``X`` [shape=(n, n_features)] and labels ``y`` [shape=(n,)].

        Returns
        -------
        self
        """
        hidden = self._validate_params()
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        enc = LabelEncoder()
        y_enc = enc.fit_transform(y).astype(np.int32)
        self.classes_ = enc.classes_
        w = self._sample_weights(y_enc)
        if isinstance(self.random_state, Integral):
            seed = int(self.random_state)
        else:  # None or a RandomState, as elsewhere in scikit-learn
            seed = int(check_random_state(self.random_state).randint(0, 2**31 - 1))
        key = (X.shape[1], len(self.classes_), hidden, float(self.l2), int(self.batch_size),
               self.optimizer, float(self.learning_rate))
        tr = _trainer(key)
        with tr.lock:
            tr.reset(np.random.default_rng(seed))
            loss = tr.train(np.ascontiguousarray(X, dtype=np.float32), y_enc, w,
                            np.int32(self.epochs), np.array([seed % (2**31 - 1), 1], np.int32))
            weights = tr.model.get_weights()
        self.coefs_ = [np.asarray(a, np.float64) for a in weights[0::2]]
        self.intercepts_ = [np.asarray(a, np.float64) for a in weights[1::2]]
        self.loss_ = float(loss)
        return self

    def _logits(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        h = np.asarray(X, np.float64)
        for i, (W, b) in enumerate(zip(self.coefs_, self.intercepts_, strict=True)):
            h = h @ W + b
            if i < len(self.coefs_) - 1:
                h = np.maximum(h, 0.0)
        return h

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities [shape=(n, n_classes)], columns in ``classes_`` order."""
        z = self._logits(X)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """Most probable class of each row [shape=(n,)]."""
        z = self._logits(X)  # checks fitted first
        return self.classes_[np.argmax(z, axis=1)]

    def to_keras(self):
        """The fitted network as a Keras model with a softmax output (for saving)."""
        check_is_fitted(self)
        model = build_dnn(self.n_features_in_, len(self.classes_),
                          hidden_units=tuple(self.hidden_units), softmax=True)
        weights = []
        for W, b in zip(self.coefs_, self.intercepts_, strict=True):
            weights += [W.astype(np.float32), b.astype(np.float32)]
        model.set_weights(weights)
        return model
