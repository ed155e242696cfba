"""The concatenate fusion model: branch probabilities → concatenate → flatten → dense(ReLU) →
softmax.

A branch that did not run (no face, no audio track) enters as a zero vector, which no
probability vector can be; the model is trained with such branch drop-outs so it answers from
the branches that are there.

:func:`fuse` combines the outputs of the branches that ran for one file: with the trained
model when there is one, else with a clearly labelled fallback (the mean of the trained
branches).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from .store import FUSION_FILE

__all__ = ["build_fusion_model", "train_fusion", "fusion_inputs", "fuse", "BranchOutput",
           "FUSION_FILE"]


class BranchOutput(Protocol):
    """What fusion needs of a branch's answer for one file."""

    name: str
    trained: bool
    probabilities: dict[str, float]


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


def _fuse_with_model(model, specs: Sequence[dict], used: Sequence[BranchOutput]):
    """The fusion model over the branches its card names (a missing one enters as zeros);
    ``None`` when none of them ran."""
    by_name = {b.name: b for b in used}
    xs, names = [], []
    for spec in specs:
        b = by_name.get(spec["name"])
        k = len(spec["labels"])
        if b is None:
            xs.append(np.zeros((1, k), np.float32))
        else:
            xs.append(np.asarray([[b.probabilities[lab] for lab in spec["labels"]]],
                                 np.float32))
            names.append(b.name)
    if not names:
        return None
    p = np.asarray(model(xs, training=False))[0]
    missing = [s["name"] for s in specs if s["name"] not in names]
    how = "concatenate fusion model over " + ", ".join(names)
    if missing:
        how += " (missing: " + ", ".join(missing) + " → zero inputs)"
    return p, how, [by_name[n] for n in names]


def fuse(used: Sequence[BranchOutput], labels: Sequence[str], *, model=None,
         specs: Sequence[dict] | None = None) -> tuple[np.ndarray, str, list[BranchOutput]]:
    """Combine the answers of the branches that ran for one file.

    Parameters
    ----------
    used : sequence of BranchOutput
        The branches that ran (name, trained, probabilities by label).
    labels : sequence of str
        The output classes.
    model : keras.Model, optional
        The trained fusion model; ``specs`` is then its card's ``inputs["branches"]`` (name and
        labels of each input). Without it, or when none of its branches ran: the fallback, the
        mean of the trained branches that share ``labels`` (else of all that share them, else
        of all), labelled as such.

    Returns
    -------
    p : np.ndarray [shape=(n_classes,)]
        Probabilities (in the order of ``labels``).
    how : str
        How they were combined, for the output.
    pool : list of BranchOutput
        The branches that went into them.
    """
    if model is not None:
        fused = _fuse_with_model(model, specs or [], used)
        if fused is not None:
            return fused
    labels = list(labels)
    trained = [b for b in used if b.trained and list(b.probabilities) == labels]
    pool = trained or [b for b in used if list(b.probabilities) == labels] or list(used)
    p = np.mean([[b.probabilities.get(lab, 0.0) for lab in labels] for b in pool], axis=0)
    how = ("fallback (no trained fusion model): mean of " +
           ("trained" if trained else "UNTRAINED") + " branches: " +
           ", ".join(b.name for b in pool))
    return p, how, pool
