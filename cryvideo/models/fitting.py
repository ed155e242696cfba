"""Training small Keras models quickly on CPUs, and the one class-weight rule.

Keras spends a fixed time per epoch (callbacks, iterator set-up) that dominates when the models
and data are tiny (heads, fusion). :func:`fit_fast` streams ``epochs`` shuffled passes of the
data through one ``tf.data`` pipeline and a single ``fit`` epoch: the same optimisation steps,
without the per-epoch cost and without copying the data.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fit_fast", "predict_batches", "balanced_class_weights"]


def balanced_class_weights(y_idx: np.ndarray, n_classes: int) -> np.ndarray:
    """``n / (k * count_c)`` per class (0 for absent classes), as scikit-learn's "balanced".

    Returns
    -------
    np.ndarray [shape=(n_classes,)]
    """
    counts = np.bincount(np.asarray(y_idx, dtype=int), minlength=n_classes).astype(float)
    present = counts > 0
    w = np.zeros(n_classes)
    w[present] = counts.sum() / (present.sum() * counts[present])
    return w



def fit_fast(model, x, y, *, epochs: int, batch_size: int = 32,
             sample_weight: np.ndarray | None = None, seed: int = 0):
    """Train ``model`` for ``epochs`` shuffled passes over ``(x, y)``.

    Parameters
    ----------
    model : keras.Model
        Compiled.
    x : np.ndarray or list of np.ndarray [shape=(n, ...)]
    y : np.ndarray [shape=(n,)]
    epochs, batch_size : int
    sample_weight : np.ndarray [shape=(n,)], optional
    seed : int
        Shuffling seed.

    Returns
    -------
    keras.callbacks.History
    """
    import tensorflow as tf

    xs = tuple(np.asarray(a, np.float32) for a in x) if isinstance(x, list | tuple) else \
        np.asarray(x, np.float32)
    parts = (xs, np.asarray(y))
    if sample_weight is not None:
        parts = parts + (np.asarray(sample_weight, np.float32),)
    n = len(np.asarray(y))
    ds = (tf.data.Dataset.from_tensor_slices(parts)
          .shuffle(n, seed=seed, reshuffle_each_iteration=True)
          .repeat(int(epochs))
          .batch(int(batch_size)))
    return model.fit(ds, epochs=1, verbose=0, shuffle=False)


def predict_batches(model, x, *, batch_size: int = 512) -> np.ndarray:
    """``model(x)`` in batches, without ``predict``'s per-call re-tracing for new shapes.

    Parameters
    ----------
    x : np.ndarray or list of np.ndarray [shape=(n, ...)]

    Returns
    -------
    np.ndarray [shape=(n, n_out)]
    """
    multi = isinstance(x, list | tuple)
    n = len(x[0]) if multi else len(x)
    outs = []
    for s in range(0, n, batch_size):
        chunk = [np.asarray(a[s : s + batch_size], np.float32) for a in x] if multi else \
            np.asarray(x[s : s + batch_size], np.float32)
        outs.append(np.asarray(model(chunk, training=False)))
    return np.concatenate(outs) if outs else np.zeros((0, model.output_shape[-1]), np.float32)
