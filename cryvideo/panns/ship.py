"""Training the shipped cry detector on all the detection data and saving it (with its card),
plus its quantized TFLite copies."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..models.cards import ModelCard, save_model_with_card
from ..models.store import CNN10_DETECTOR_FILE, CNN10_QUANTIZED_FILE
from .dataset import ClipSet
from .experiments import (
    WINDOW_FRAMES,
    background_clips,
    calibration_set,
    detector_model,
    train_detector,
)
from .export import to_tflite
from .frontend import PANNS_16K

__all__ = ["train_and_save_detector"]


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
