"""The log-mel CNN10 cry detector (``cnn10``): its training recipe, and training the shipped
model on all the detection data and saving it (with its card), plus its quantized TFLite
copies. The grouped-CV study of the recipe is :func:`cryvideo.studies.panns.detection_cv`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..audio.logmel import PANNS_16K
from ..audio.windows import sliding_windows
from ..models.cards import ModelCard, save_model_with_card
from ..models.export import to_tflite
from ..models.store import CNN10_DETECTOR_FILE, CNN10_QUANTIZED_FILE
from .clipsets import ClipSet
from .panns import fit_epochs

__all__ = ["WINDOW_FRAMES", "HOP_FRAMES", "RECIPES", "detector_model", "clip_scores",
           "detector_weights", "train_detector", "background_clips", "calibration_set",
           "train_and_save_detector"]

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


#: The detector's training recipe (``detection_cv``, ``train_and_save_detector``): "v1" as
#: shipped first (width 1/8, 15 epochs, every Donateacry cry weighted like a detection-set
#: cry); "v2" = width 1/4, 30 epochs, the Donateacry cries together weighted like the
#: detection set's cries (they are 8 kHz phone recordings of one app: a different domain), and
#: half of all crops mixed with a background (noise / silence / laughter of the training folds)
#: at 0–20 dB, so that a background is evidence for neither class.
RECIPES = {
    "v1": {"width": 0.125, "epochs": 15, "donateacry_weight": "clip", "background_prob": 0.0},
    "v2": {"width": 0.25, "epochs": 30, "donateacry_weight": "equal", "background_prob": 0.5},
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



def train_and_save_detector(cd: ClipSet, da: ClipSet, out_dir, *, width: float = 0.125,
                            epochs: int = 15, seed: int = 0, cv: dict | None = None,
                            recipe: str = "custom", donateacry_weight: str = "clip",
                            background_prob: float = 0.0) -> dict:
    """Train on every clip (detection set + Donateacry cries) and write
    ``cry_detector.keras``, ``cry_detector_dynamic.tflite`` and ``cry_detector_int8.tflite``
    (each with its JSON card) into ``out_dir``.

    Returns
    -------
    dict
        File name → size in bytes.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    y = np.array([lab == "cry" for lab in cd.labels] + [True] * len(da), int)
    clips = list(cd.logmel) + list(da.logmel)
    clips_bl = list(cd.logmel_bl) + list(da.logmel)
    extra = np.array([False] * len(cd) + [True] * len(da))
    trained = train_detector(clips, clips_bl, y, width=width, epochs=epochs, seed=seed,
                             is_extra=extra, donateacry_weight=donateacry_weight,
                             backgrounds=background_clips(cd, range(len(cd))),
                             background_prob=background_prob)
    model = detector_model(width=width)           # uncompiled copy: no optimizer state saved
    model.set_weights(trained.get_weights())
    summary = (cv or {}).get("summary", {})
    card = ModelCard(
        name="cry_detector",
        kind="cry-detector",
        labels=["cry"],
        inputs={"logmel": PANNS_16K.to_dict(), "window_frames": WINDOW_FRAMES,
                "window_seconds": 2.0, "hop_seconds": 0.5,
                "input": "log-mel (frames, 64) of 16 kHz mono audio"},
        training={"data": ["cry_detection (all 432 clips, 113 groups)",
                           f"donateacry cries as positives ({len(da)} clips)"],
                  "architecture": f"CNN10 (PANNs), width {width:g} "
                  f"(channels {[int(round(c * width)) for c in (64, 128, 256, 512)]}), "
                  "max+avg pooling, SpecAugment, class-weighted BCE",
                  "epochs": epochs, "seed": seed, "recipe": recipe,
                  "donateacry_weight": ("all Donateacry cries together weigh as much as the "
                                        "detection set's cries" if donateacry_weight == "equal"
                                        else "every clip weighs the same (per class)"),
                  "augmentation": "random 2 s crops; 8 kHz band-limited copy half the time"
                  + (f"; {background_prob:.0%} of crops mixed with a not-cry background "
                     "(noise / silence / laughter) at 0-20 dB" if background_prob else "")},
        metrics={"protocol": f"{(cv or {}).get('n_splits', '?')}-fold CV grouped by source "
                 "recording (manifest 'group'); clip = max over windows; threshold 0.5",
                 **{k: v for k, v in summary.items()}},
        extra={"threshold": 0.5,
               "note": "clip probability = highest 2 s window probability"},
    )
    sizes = {}
    save_model_with_card(model, out_dir / CNN10_DETECTOR_FILE, card)
    sizes[CNN10_DETECTOR_FILE] = (out_dir / CNN10_DETECTOR_FILE).stat().st_size
    calib = calibration_set(clips, n=300, seed=seed)
    for q in ("dynamic", "int8"):
        blob = to_tflite(model, frames=WINDOW_FRAMES, quantize=q,
                         representative=calib if q == "int8" else None)
        qcard = ModelCard.from_dict(card.to_dict())
        qcard.name = f"cry_detector_{q}"
        qcard.extra = {**card.extra, "format": "tflite", "quantization": q,
                       "exported_from": CNN10_DETECTOR_FILE}
        save_model_with_card(blob, out_dir / CNN10_QUANTIZED_FILE.format(q), qcard)
        sizes[CNN10_QUANTIZED_FILE.format(q)] = len(blob)
    sizes["float32.tflite (not shipped)"] = len(to_tflite(model, frames=WINDOW_FRAMES))
    return sizes
