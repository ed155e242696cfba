"""The concatenate fusion model: branch probabilities → concatenate → flatten → dense(ReLU) →
softmax.

A branch that did not run (no face, no audio track) enters as a zero vector, which no
probability vector can be; the model is trained with such branch drop-outs so it answers from
the branches that are there.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["build_fusion_model", "train_fusion", "fusion_inputs", "FUSION_FILE"]

FUSION_FILE = "fusion.keras"


def build_fusion_model(branch_sizes: Sequence[int], n_classes: int, *,
                       branch_names: Sequence[str] | None = None, hidden: int = 32,
                       learning_rate: float = 3e-3):
    """Concatenate → flatten → dense(ReLU) → softmax over the branches' probability vectors.

    Parameters
    ----------
    branch_sizes : sequence of int
        Number of classes of each branch (branches may have different label sets).
    n_classes : int
        Output classes.
    branch_names : sequence of str, optional
        Input names (default ``branch0``, …).
    hidden : int
        Units of the ReLU layer.

    Returns
    -------
    keras.Model
        Inputs: one ``(batch, size_i)`` per branch; output ``(batch, n_classes)``.
    """
    import keras
    from keras import layers

    names = list(branch_names or [f"branch{i}" for i in range(len(branch_sizes))])
    inputs = [keras.Input((int(s),), name=n) for s, n in zip(branch_sizes, names, strict=True)]
    x = layers.Concatenate(name="concatenate")(inputs) if len(inputs) > 1 else inputs[0]
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(hidden, activation="relu", name="dense")(x)
    out = layers.Dense(n_classes, activation="softmax", name="softmax")(x)
    model = keras.Model(inputs, out, name="fusion")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def fusion_inputs(branch_probs: Sequence[np.ndarray | None], sizes: Sequence[int],
                  n: int) -> list[np.ndarray]:
    """Stack branch outputs into model inputs; a missing branch (None) becomes zeros.

    Parameters
    ----------
    branch_probs : sequence of (np.ndarray [shape=(n, size_i)] or None)
    sizes : sequence of int
    n : int
        Number of samples.
    """
    out = []
    for p, s in zip(branch_probs, sizes, strict=True):
        out.append(np.zeros((n, s), np.float32) if p is None else
                   np.asarray(p, np.float32).reshape(n, s))
    return out


def train_fusion(branch_probs: Sequence[np.ndarray], present: np.ndarray, y: np.ndarray,
                 n_classes: int, *, branch_names: Sequence[str], epochs: int = 100,
                 hidden: int = 32, drop_rate: float = 0.25, seed: int = 0, verbose: int = 0):
    """Train the fusion model.

    Parameters
    ----------
    branch_probs : sequence of np.ndarray [shape=(n, size_i)]
        Each branch's probabilities per training video (any value where absent).
    present : np.ndarray [shape=(n, n_branches), dtype=bool]
        Whether the branch ran for that video (absent → zeros).
    y : np.ndarray [shape=(n,), dtype=int]
    drop_rate : float
        Each epoch's copy of the data drops each present branch with this probability (never
        all of them), so the model learns to answer when a modality is missing.

    Returns
    -------
    keras.Model
    """
    import keras

    rng = np.random.default_rng(seed)
    keras.utils.set_random_seed(seed)
    sizes = [p.shape[1] for p in branch_probs]
    model = build_fusion_model(sizes, n_classes, branch_names=branch_names, hidden=hidden)
    n = len(y)
    reps = 4
    xs = [[] for _ in sizes]
    for r in range(reps):
        mask = present.copy()
        if r > 0 and drop_rate > 0:
            drop = rng.random(mask.shape) < drop_rate
            keep = mask & ~drop
            empty = ~keep.any(axis=1)
            keep[empty] = mask[empty]  # never drop everything
            mask = keep
        for i, p in enumerate(branch_probs):
            xs[i].append(np.where(mask[:, i : i + 1], p, 0.0).astype(np.float32))
    xs = [np.concatenate(x) for x in xs]
    yy = np.tile(np.asarray(y), reps)
    from .fitting import fit_fast

    fit_fast(model, xs, yy, epochs=epochs, batch_size=max(8, min(64, n)), seed=seed)
    return model
