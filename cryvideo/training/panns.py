"""Training helpers for the log-mel CNNs (PANNs): random crops, mixup, background mixing, class
weights, distillation, the epoch loop.

Everything works on lists of cached log-mels (``(frames, 64)`` arrays of varying length).
"""

from __future__ import annotations

import numpy as np

from ..audio.windows import crop, sliding_windows
from ..models.fitting import balanced_class_weights

__all__ = [
    "crop",
    "random_crops",
    "sliding_windows",
    "mixup",
    "class_weights",
    "kd_loss",
    "mix_background",
    "fit_epochs",
]


def random_crops(clips: list, frames: int, rng: np.random.Generator) -> np.ndarray:
    """One random ``frames``-long crop of every clip: (n_clips, frames, n_mels)."""
    out = []
    for x in clips:
        start = int(rng.integers(0, max(1, len(x) - frames + 1)))
        out.append(crop(x, start, frames))
    return np.stack(out).astype(np.float32)


def mixup(x: np.ndarray, y: np.ndarray, *, alpha: float, rng: np.random.Generator):
    """Mixup (Zhang et al.): convex mixes of shuffled pairs, λ ~ Beta(α, α).

    Parameters
    ----------
    x : np.ndarray [shape=(n, ...)]
    y : np.ndarray [shape=(n, k)]
        Targets (one-hot or probabilities).
    """
    lam = rng.beta(alpha, alpha, size=len(x)).astype(np.float32)
    perm = rng.permutation(len(x))
    lx = lam.reshape((-1,) + (1,) * (x.ndim - 1))
    ly = lam.reshape((-1,) + (1,) * (y.ndim - 1))
    return lx * x + (1 - lx) * x[perm], ly * y + (1 - ly) * y[perm]


def mix_background(x: np.ndarray, bg: np.ndarray, snr_db: float) -> np.ndarray:
    """Add a background to a log-mel at a signal-to-background ratio, in the power domain.

    Parameters
    ----------
    x, bg : np.ndarray [shape=(frames, n_mels)]
        Log-mels in dB (``10·log10`` of power), e.g. crops of the same length.
    snr_db : float
        Mean power of ``x`` over mean power of the scaled ``bg``, in dB.

    Returns
    -------
    np.ndarray [shape=(frames, n_mels)]
        ``10·log10(P_x + g·P_bg)``: powers add (phase cross-terms average out per mel band).
    """
    px = np.power(10.0, x.astype(np.float64) / 10.0)
    pb = np.power(10.0, bg.astype(np.float64) / 10.0)
    g = 10.0 ** (-float(snr_db) / 10.0) * px.mean() / max(float(pb.mean()), 1e-12)
    return (10.0 * np.log10(np.maximum(px + g * pb, 1e-10))).astype(np.float32)


def class_weights(y: np.ndarray) -> np.ndarray:
    """Per-sample weights that balance the classes of integer labels ``y``."""
    classes, idx = np.unique(np.asarray(y), return_inverse=True)
    return balanced_class_weights(idx, len(classes))[idx].astype(np.float32)


def kd_loss(*, n_classes: int, temperature: float = 4.0, alpha: float = 0.5):
    """Knowledge-distillation loss for a student that outputs **logits**.

    ``y_true`` packs ``[one-hot hard label (n_classes) ; teacher logits (n_classes)]``.
    Loss = (1 − α)·CE(hard, softmax(s)) + α·T²·KL(softmax(t/T) ‖ softmax(s/T)).

    Parameters
    ----------
    n_classes : int
    temperature : float
        T (> 0); softens both distributions.
    alpha : float
        Weight of the distillation term, in [0, 1].
    """
    from keras import ops

    T = float(temperature)
    a = float(alpha)

    def loss(y_true, logits):
        hard = y_true[:, :n_classes]
        teacher = y_true[:, n_classes:]
        ce = -ops.sum(hard * ops.log_softmax(logits, axis=-1), axis=-1)
        pt = ops.softmax(teacher / T, axis=-1)
        kl = ops.sum(pt * (ops.log_softmax(teacher / T, axis=-1)
                           - ops.log_softmax(logits / T, axis=-1)), axis=-1)
        return (1 - a) * ce + a * T * T * kl

    return loss


def fit_epochs(model, clips: list, targets: np.ndarray, *, frames: int, epochs: int,
               rng: np.random.Generator, sample_weight: np.ndarray | None = None,
               batch_size: int = 32, alt_clips: list | None = None, alt_prob: float = 0.5,
               mixup_alpha: float = 0.0, backgrounds: list | None = None,
               background_prob: float = 0.0, snr_db: tuple[float, float] = (0.0, 20.0)) -> None:
    """Train a compiled model for ``epochs``, drawing fresh random crops every epoch.

    Parameters
    ----------
    clips : list of np.ndarray [shape=(frames_i, n_mels)]
    targets : np.ndarray [shape=(n, k)]
    alt_clips : list, optional
        An alternative version of each clip (e.g. band-limited), used with ``alt_prob``.
    mixup_alpha : float
        > 0 turns mixup on (sample weights are then not used).
    backgrounds : list of np.ndarray [shape=(frames_i, n_mels)], optional
        Background log-mels (noise, silence, non-cry sounds). With ``background_prob`` > 0,
        that share of the crops of *every* class gets a random background crop mixed in
        (:func:`mix_background`) at a signal-to-background ratio drawn uniformly from
        ``snr_db``: the label stays the crop's, so a background is evidence for neither class.
    """
    for _ in range(epochs):
        use = clips
        if alt_clips is not None:
            pick = rng.random(len(clips)) < alt_prob
            use = [a if p else c for c, a, p in zip(clips, alt_clips, pick, strict=False)]
        x = random_crops(use, frames, rng)
        if backgrounds and background_prob > 0:
            which = np.flatnonzero(rng.random(len(x)) < background_prob)
            bg = random_crops([backgrounds[j] for j in
                               rng.integers(0, len(backgrounds), size=len(which))], frames, rng)
            for i, b in zip(which, bg, strict=True):
                x[i] = mix_background(x[i], b, rng.uniform(*snr_db))
        y = targets
        sw = sample_weight
        if mixup_alpha > 0:
            x, y = mixup(x, targets, alpha=mixup_alpha, rng=rng)
            sw = None
        model.fit(x, y, sample_weight=sw, batch_size=batch_size, epochs=1, verbose=0,
                  shuffle=True)
