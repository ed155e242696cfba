"""The log-mel CNN10 cry detector (``cnn10``): its training recipe. The grouped CV of every
cry detector, per recording, retrains it per fold as a peer
(:mod:`cryvideo.studies.detection_cv`); the compression study trains its teachers and students
with it (:mod:`cryvideo.studies.panns`). The shipped ``saved_models/cry_detector*`` files were
trained with recipe ``v1`` on all the detection data."""

from __future__ import annotations

import numpy as np

from ..audio.windows import sliding_windows
from .clipsets import ClipSet
from .panns import fit_epochs

__all__ = ["WINDOW_FRAMES", "HOP_FRAMES", "RECIPES", "detector_model", "clip_scores",
           "detector_weights", "train_detector", "background_clips", "calibration_set"]

WINDOW_FRAMES = 201   # 2.0 s at hop 160 / 16 kHz
HOP_FRAMES = 50       # 0.5 s



def detector_model(*, width: float, arch: str = "cnn10", pooling: str = "maxavg",
                   n_classes: int = 1, activation: str = "sigmoid"):
    from ..models.panns import build_model

    return build_model(arch, width=width, pooling=pooling, n_classes=n_classes,
                       activation=activation, spec_augment=True, dropout=0.3)


def clip_scores(predict_windows, clips: list) -> np.ndarray:
    """Clip score = max over sliding 2 s windows (hop 0.5 s)."""
    wins, owner = [], []
    for i, x in enumerate(clips):
        w, _ = sliding_windows(x, WINDOW_FRAMES, HOP_FRAMES)
        wins.append(w)
        owner += [i] * len(w)
    p = np.asarray(predict_windows(np.concatenate(wins))).reshape(-1)
    owner = np.asarray(owner)
    return np.array([p[owner == i].max() for i in range(len(clips))])


#: The detector's training recipe: "v1" as shipped (width 1/8, 15 epochs, every Donateacry
#: cry weighted like a detection-set cry), retrained per fold by the grouped detection CV.
RECIPES = {
    "v1": {"width": 0.125, "epochs": 15, "donateacry_weight": "clip", "background_prob": 0.0},
}


def detector_weights(y: np.ndarray, is_extra: np.ndarray, *, extra_weight: str = "clip"):
    """Per-clip weights balancing cry vs not-cry; with ``extra_weight="equal"`` the extra
    positives (``is_extra``: Donateacry) together weigh as much as the other positives."""
    y = np.asarray(y, int)
    is_extra = np.asarray(is_extra, bool)
    if extra_weight not in ("clip", "equal"):
        raise ValueError(extra_weight)
    w = np.ones(len(y), np.float64)
    if extra_weight == "equal" and is_extra.any() and (y[~is_extra] == 1).any():
        w[is_extra] = (y[~is_extra] == 1).sum() / is_extra.sum()
    pos, neg = y == 1, y == 0
    total = float(len(y))  # mean weight 1, as class_weights
    if pos.any():
        w[pos] *= total / (2 * w[pos].sum())
    if neg.any():
        w[neg] *= total / (2 * w[neg].sum())
    return w.astype(np.float32)


def train_detector(clips, clips_bl, y, *, width: float, epochs: int, seed: int,
                   lr: float = 1e-3, arch: str = "cnn10", is_extra=None,
                   donateacry_weight: str = "clip", backgrounds=None,
                   background_prob: float = 0.0):
    """Train a sigmoid detector (CNN10 by default) on 2 s random crops (the band-limited copy
    of each clip is used half the time); see :data:`RECIPES` for the other options."""
    import keras

    keras.utils.set_random_seed(seed)
    model = detector_model(width=width, arch=arch)
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="binary_crossentropy")
    rng = np.random.default_rng(seed)
    extra = np.zeros(len(y), bool) if is_extra is None else np.asarray(is_extra, bool)
    fit_epochs(model, clips, np.asarray(y, np.float32)[:, None], frames=WINDOW_FRAMES,
               epochs=epochs, rng=rng,
               sample_weight=detector_weights(y, extra, extra_weight=donateacry_weight),
               alt_clips=clips_bl, alt_prob=0.5, backgrounds=backgrounds,
               background_prob=background_prob)
    return model


def background_clips(cd: ClipSet, idx) -> list:
    """Log-mels of the not-cry clips among ``idx`` (noise, silence, laughter): backgrounds."""
    return [cd.logmel[i] for i in idx if cd.labels[i] != "cry"]


def calibration_set(clips: list, *, n: int = 200, seed: int = 0) -> np.ndarray:
    """``n`` random training windows for int8 calibration."""
    from .panns import random_crops

    rng = np.random.default_rng(seed)
    pick = rng.choice(len(clips), size=min(n, len(clips)), replace=False)
    return random_crops([clips[i] for i in pick], WINDOW_FRAMES, rng)
