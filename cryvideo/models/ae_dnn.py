"""The video paper's audio branch: a denoising autoencoder, then a DNN from its bottleneck.

Pipeline for one feature kind (MFCC or STFT)::

    feature matrix (n_coef, n_frames) ─ pool_features ─ vector (d,)
        ─ Normalization (adapted on the training fold)
    autoencoder:
        ─ [GaussianNoise ─ Dense(hidden) ─ Dense(bottleneck)] ─ Dense(hidden) ─ Dense(d)
    classifier:
        ─ encoder (frozen by default) ─ Dropout ─ Dense(head) ─ Dense(n_classes, softmax)

Both networks are trained with RMSProp. The autoencoder learns to reconstruct the clean
(normalized) input from a noisy copy (denoising); its front half then feeds a small DNN.

:class:`AEDNNClassifier` wraps the whole thing as a scikit-learn style estimator over feature
matrices ``X`` of shape ``(n, n_coef, n_frames)``, so it can sit in a benchmark table beside the
scikit-learn baselines.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from ..audio.feature_pooling import DEFAULT_POOL, PoolSpec, pool_features
from ..errors import ParameterError
from ..progress import Progress
from .fitting import balanced_class_weights

__all__ = [
    "PoolSpec",
    "DEFAULT_POOL",
    "pool_features",
    "build_denoising_autoencoder",
    "build_classifier",
    "balanced_class_weights",
    "grouped_validation_split",
    "AEDNNClassifier",
    "plot_training_curves",
]


# --------------------------------------------------------------------------- builders
def build_denoising_autoencoder(
    input_dim: int,
    *,
    hidden: int = 128,
    bottleneck: int = 32,
    noise_std: float = 0.3,
    normalizer=None,
):
    """Dense denoising autoencoder.

    Parameters
    ----------
    input_dim : int
        Size of the (pooled) input vector.
    hidden, bottleneck : int
        Widths of the encoder's two layers (the decoder mirrors them).
    noise_std : float
        Standard deviation of the Gaussian noise added to the (normalized) input while training.
    normalizer : keras.layers.Normalization, optional
        Adapted normalization applied first (its output is the reconstruction target).

    Returns
    -------
    (autoencoder, encoder_layers)
        ``autoencoder`` maps ``(batch, input_dim)`` to its reconstruction ``(batch, input_dim)``
        of the normalized input; ``encoder_layers`` is the list of the encoder's Dense layers.
    """
    import keras
    from keras import layers

    inp = keras.Input((input_dim,), name="features")
    x = normalizer(inp) if normalizer is not None else inp
    x = layers.GaussianNoise(noise_std, name="input_noise")(x)
    enc = [layers.Dense(hidden, activation="relu", name="enc_1"),
           layers.Dense(bottleneck, activation="relu", name="bottleneck")]
    for lay in enc:
        x = lay(x)
    x = layers.Dense(hidden, activation="relu", name="dec_1")(x)
    out = layers.Dense(input_dim, name="reconstruction")(x)
    return keras.Model(inp, out, name="denoising_autoencoder"), enc


def build_classifier(
    input_dim: int,
    encoder_layers: Sequence,
    n_classes: int,
    *,
    normalizer=None,
    head_units: int = 32,
    dropout: float = 0.3,
    fine_tune: bool = False,
):
    """The classifier: (normalization →) trained encoder → DNN head → softmax.

    Parameters
    ----------
    input_dim : int
    encoder_layers : sequence of keras layers
        From :func:`build_denoising_autoencoder` (shared, so the trained weights are reused).
    n_classes : int
    normalizer : keras.layers.Normalization, optional
    head_units : int
        Width of the DNN's hidden layer.
    dropout : float
    fine_tune : bool
        Train the encoder too (default: frozen, the autoencoder acts as a fixed denoiser).

    Returns
    -------
    keras.Model
        ``(batch, input_dim)`` → class probabilities ``(batch, n_classes)``.
    """
    import keras
    from keras import layers

    inp = keras.Input((input_dim,), name="features")
    x = normalizer(inp) if normalizer is not None else inp
    for lay in encoder_layers:
        lay.trainable = fine_tune
        x = lay(x)
    x = layers.Dropout(dropout, name="head_dropout")(x)
    x = layers.Dense(head_units, activation="relu", name="head_1")(x)
    out = layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inp, out, name="ae_dnn_classifier")


# --------------------------------------------------------------------------- training helpers
def grouped_validation_split(
    y: np.ndarray, groups: np.ndarray | None, *, fraction: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Split training items into fit / validation parts, grouped and stratified.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
    groups : np.ndarray [shape=(n,)] or None
        Grouping key (Donateacry UUID); None: every item is its own group.
    fraction : float
        Approximate share held out for validation (``1 / round(1 / fraction)``).

    Returns
    -------
    (fit_idx, val_idx)
    """
    import warnings

    from sklearn.model_selection import StratifiedGroupKFold

    y = np.asarray(y)
    groups = np.arange(len(y)) if groups is None else np.asarray(groups)
    k = max(2, int(round(1.0 / fraction)))
    k = min(k, len(np.unique(groups)))
    cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "least populated class has only N members"
            tr, va = next(cv.split(np.zeros(len(y)), y, groups))
    except ValueError:  # every class smaller than k: a plain grouped split
        from sklearn.model_selection import GroupShuffleSplit

        gss = GroupShuffleSplit(n_splits=1, test_size=1.0 / k, random_state=seed)
        tr, va = next(gss.split(np.zeros(len(y)), y, groups))
    return tr, va


class _ProgressCallback:
    """Adapter: Keras epoch end → ``progress(stage, epoch, max_epochs)``."""

    def __new__(cls, progress, stage, total):
        import keras

        class _CB(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                progress(stage, epoch + 1, total)

        return _CB()


# --------------------------------------------------------------------------- estimator
class AEDNNClassifier(ClassifierMixin, BaseEstimator):
    """Denoising autoencoder + DNN as a scikit-learn style classifier over feature matrices.

    The defaults are the hyper-parameters of the shipped branches, fixed up front (never tuned
    on test folds).

    Parameters
    ----------
    pool : PoolSpec
        How ``(n_coef, n_frames)`` matrices become vectors (default: MFCC-sized 40×8).
    hidden, bottleneck, head_units : int
        Layer widths.
    noise_std : float
        Denoising noise (in normalized units).
    dropout : float
    fine_tune : bool
        Also train the encoder with the classifier.
    ae_epochs, clf_epochs : int
        Maximum epochs; both stop early on the grouped validation split.
    patience : int
        Early-stopping patience (epochs).
    batch_size : int
    learning_rate : float
        RMSProp learning rate.
    val_fraction : float
        Share of the training items held out (grouped) for early stopping.
    balanced : bool
        Weight classes inversely to their frequency (loss and validation).
    labels : sequence, optional
        All classes in output order (default: sorted unique ``y``).
    seed : int

    Attributes
    ----------
    classes_ : np.ndarray
    model_ : keras.Model
        The classifier (input: pooled vectors).
    autoencoder_ : keras.Model
    history_ : dict
        ``{"autoencoder": {...}, "classifier": {...}}`` Keras histories.
    """

    def __init__(
        self,
        *,
        pool: PoolSpec = DEFAULT_POOL["mfcc"],
        hidden: int = 128,
        bottleneck: int = 32,
        head_units: int = 32,
        noise_std: float = 0.3,
        dropout: float = 0.3,
        fine_tune: bool = False,
        ae_epochs: int = 40,
        clf_epochs: int = 60,
        patience: int = 6,
        batch_size: int = 64,
        learning_rate: float = 1e-3,
        val_fraction: float = 0.2,
        balanced: bool = True,
        labels: Sequence | None = None,
        seed: int = 0,
    ) -> None:
        self.pool = pool
        self.hidden = hidden
        self.bottleneck = bottleneck
        self.head_units = head_units
        self.noise_std = noise_std
        self.dropout = dropout
        self.fine_tune = fine_tune
        self.ae_epochs = ae_epochs
        self.clf_epochs = clf_epochs
        self.patience = patience
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.val_fraction = val_fraction
        self.balanced = balanced
        self.labels = labels
        self.seed = seed

    # ------------------------------------------------------------------ fitting
    def _split(self, X, y, groups, X_extra, y_extra, extra_source):
        P = pool_features(X, self.pool)
        y = np.asarray(y)
        if P.shape[0] != y.shape[0]:
            raise ParameterError(f"X has {P.shape[0]} items but y has {y.shape[0]}")
        fit_i, val_i = grouped_validation_split(y, groups, fraction=self.val_fraction,
                                                seed=self.seed)
        Pf, yf = [P[fit_i]], [y[fit_i]]
        if X_extra is not None and len(X_extra):
            if extra_source is None or y_extra is None:
                raise ParameterError("X_extra needs y_extra and extra_source")
            keep = np.isin(np.asarray(extra_source), fit_i)  # no augmented copy of a val item
            Pf.append(pool_features(X_extra, self.pool)[keep])
            yf.append(np.asarray(y_extra)[keep])
        return np.concatenate(Pf), np.concatenate(yf), P[val_i], y[val_i]

    def _fit_autoencoder(self, Pf, Pv, progress):
        import keras

        keras.utils.set_random_seed(self.seed)
        self._norm = keras.layers.Normalization(axis=-1, name="normalize")
        self._norm.adapt(Pf)
        ae, enc = build_denoising_autoencoder(
            Pf.shape[1], hidden=self.hidden, bottleneck=self.bottleneck,
            noise_std=self.noise_std, normalizer=self._norm)
        ae.compile(optimizer=keras.optimizers.RMSprop(self.learning_rate), loss="mse")
        Zf = np.asarray(self._norm(Pf))
        Zv = np.asarray(self._norm(Pv))
        cbs = [keras.callbacks.EarlyStopping(patience=self.patience, restore_best_weights=True)]
        if progress:
            cbs.append(_ProgressCallback(progress, "autoencoder", self.ae_epochs))
        h = ae.fit(Pf, Zf, validation_data=(Pv, Zv), epochs=self.ae_epochs,
                   batch_size=self.batch_size, shuffle=True, verbose=0, callbacks=cbs)
        self.autoencoder_ = ae
        self._encoder_layers = enc
        self.history_ = {"autoencoder": {k: [float(v) for v in vs]
                                         for k, vs in h.history.items()}}

    def _fit_head(self, Pf, yf, Pv, yv, progress):
        import keras

        keras.utils.set_random_seed(self.seed + 1)
        idx = {c: i for i, c in enumerate(self.classes_)}
        yf_i = np.array([idx[c] for c in yf])
        yv_i = np.array([idx[c] for c in yv])
        k = len(self.classes_)
        w = balanced_class_weights(yf_i, k) if self.balanced else np.ones(k)
        model = build_classifier(Pf.shape[1], self._encoder_layers, k, normalizer=self._norm,
                                 head_units=self.head_units, dropout=self.dropout,
                                 fine_tune=self.fine_tune)
        model.compile(optimizer=keras.optimizers.RMSprop(self.learning_rate),
                      loss="sparse_categorical_crossentropy", weighted_metrics=["accuracy"])
        sw_v = w[yv_i] if self.balanced else np.ones(len(yv_i))
        sw_v = np.where(sw_v > 0, sw_v, 1.0)  # classes absent from the fit part
        cbs = [keras.callbacks.EarlyStopping(patience=self.patience, restore_best_weights=True)]
        if progress:
            cbs.append(_ProgressCallback(progress, "classifier", self.clf_epochs))
        h = model.fit(Pf, yf_i, sample_weight=w[yf_i], validation_data=(Pv, yv_i, sw_v),
                      epochs=self.clf_epochs, batch_size=self.batch_size, shuffle=True,
                      verbose=0, callbacks=cbs)
        self.model_ = model
        self.history_["classifier"] = {k: [float(v) for v in vs] for k, vs in h.history.items()}

    def fit(
        self,
        X: np.ndarray,
        y: Sequence,
        *,
        groups: Sequence | None = None,
        X_extra: np.ndarray | None = None,
        y_extra: Sequence | None = None,
        extra_source: Sequence[int] | None = None,
        progress: Progress | None = None,
        head_only: bool = False,
    ) -> AEDNNClassifier:
        """Train the autoencoder, then the classifier, with early stopping on a grouped
        validation split of the training items.

        Parameters
        ----------
        X : np.ndarray [shape=(n, n_coef, n_frames)]
        y : sequence [shape=(n,)]
        groups : sequence [shape=(n,)], optional
            Grouping key for the validation split (Donateacry UUID).
        X_extra : np.ndarray [shape=(m, n_coef, n_frames)], optional
            Augmented copies of training items (used for fitting only).
        y_extra : sequence [shape=(m,)], optional
        extra_source : sequence of int [shape=(m,)], optional
            Index into ``X`` of the item each augmented copy was made from; copies of
            validation items are dropped.
        progress : callable, optional
            ``progress(stage, epoch, max_epochs)``.
        head_only : bool
            Retrain only the classifier on new labels, keeping the fitted autoencoder and
            ``classes_`` (needs a fitted estimator with a frozen encoder). The autoencoder
            never sees labels, so this is the same training as a full fit for
            label-permutation tests, at a fraction of the cost.
        """
        y = np.asarray(y)
        if head_only:
            if not hasattr(self, "_encoder_layers"):
                raise ParameterError("head_only needs a fitted estimator")
            if self.fine_tune:
                raise ParameterError("head_only is only valid with a frozen encoder")
        else:
            self.classes_ = np.asarray(sorted(np.unique(y)) if self.labels is None
                                       else list(self.labels))
        unknown = set(np.unique(y)) - set(self.classes_.tolist())
        if unknown:
            raise ParameterError(f"labels not in `labels`: {sorted(unknown)}")
        Pf, yf, Pv, yv = self._split(X, y, groups, X_extra, y_extra, extra_source)
        if not head_only:
            self._fit_autoencoder(Pf, Pv, progress)
        self._fit_head(Pf, yf, Pv, yv, progress)
        return self

    # ------------------------------------------------------------------ inference
    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities.

        Parameters
        ----------
        X : np.ndarray [shape=(n, n_coef, n_frames)]

        Returns
        -------
        np.ndarray [shape=(n, n_classes)], columns in ``classes_`` order
        """
        if not hasattr(self, "model_"):
            raise ParameterError("this AEDNNClassifier is not fitted yet")
        P = pool_features(X, self.pool)
        return np.asarray(self.model_(P, training=False))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most likely class per item, shape ``(n,)``."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def reconstruction_loss(self, X: np.ndarray) -> float:
        """Mean squared reconstruction error (normalized units) of clean inputs."""
        P = pool_features(X, self.pool)
        Z = np.asarray(self._norm(P))
        R = np.asarray(self.autoencoder_(P, training=False))
        return float(np.mean((R - Z) ** 2))

    def config(self) -> dict:
        """Hyper-parameters as JSON-able dict (for model cards)."""
        d = self.get_params()
        d["pool"] = self.pool.to_dict()
        d["labels"] = None if self.labels is None else list(self.labels)
        d["optimizer"] = "RMSprop"
        return d


def plot_training_curves(history: dict, path, *, title: str = "") -> None:
    """Loss curves of the autoencoder and the classifier (train and validation) as a PNG.

    Parameters
    ----------
    history : dict
        :attr:`AEDNNClassifier.history_`, or ``{name: history_}`` for several branches.
    path : str or os.PathLike
        Written atomically.
    """
    from matplotlib.figure import Figure  # no pyplot: leaves the caller's backend alone

    from ..io import atomic_path

    runs = {"": history} if "autoencoder" in history else history
    fig = Figure(figsize=(10, 3.2 * len(runs)))
    axes = fig.subplots(len(runs), 2, squeeze=False)
    for row, (name, h) in zip(axes, runs.items(), strict=True):
        for ax, stage in zip(row, ("autoencoder", "classifier"), strict=True):
            hs = h.get(stage, {})
            for key in ("loss", "val_loss"):
                if key in hs:
                    ax.plot(np.arange(1, len(hs[key]) + 1), hs[key], label=key)
            ax.set_title(f"{name} {stage}".strip())
            ax.set_xlabel("epoch")
            ax.set_ylabel("MSE" if stage == "autoencoder" else "weighted cross-entropy")
            ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
