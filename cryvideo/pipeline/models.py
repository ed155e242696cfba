"""Where ``predict`` finds its models: ``saved_models/`` in the repository, or ``--models DIR``."""

from __future__ import annotations

import os
from pathlib import Path

from ..models.store import default_models_dir
from .predict import Branch, UntrainedBranch

__all__ = ["default_models_dir", "default_audio_branches", "AUDIO_MODEL_FILES", "lite_twin"]

#: File of each audio branch inside the models folder (each with a ``.json`` card beside it).
AUDIO_MODEL_FILES = {"mfcc": "audio_mfcc.keras", "stft": "audio_stft.keras"}


def default_audio_branches(models_dir: str | os.PathLike | None = None) -> list[Branch]:
    """The MFCC and STFT branches: trained models when present, else labelled placeholders.

    A ``.tflite`` twin (``audio_mfcc_float32.tflite``, see :func:`lite_twin`) is preferred to
    the ``.keras`` file: same model, no TensorFlow to import.
    A branch whose model file (``audio_mfcc.keras`` / ``audio_stft.keras``) is absent is an
    :class:`UntrainedBranch` (reported as untrained). A file that is present but corrupt, fails
    its card's sha256, or does not fit its card raises :class:`~cryvideo.errors.ModelError`
    naming the file: a broken model is never silently replaced by a placeholder.
    """
    from .audio_branch import AudioBranch

    root = Path(models_dir) if models_dir is not None else default_models_dir()
    out: list[Branch] = []
    for name, fname in AUDIO_MODEL_FILES.items():
        path = root / fname
        twin = lite_twin(path)
        if twin.is_file():          # the same model as TFLite: no TensorFlow to load
            out.append(AudioBranch.load(twin))
        elif path.exists() or path.with_suffix(".json").exists():
            out.append(AudioBranch.load(path))
        else:
            out.append(UntrainedBranch(name))
    return out


def lite_twin(path: str | os.PathLike) -> Path:
    """``x_float32.tflite`` beside ``x.keras``: what ``cryvideo export x.keras`` writes."""
    path = Path(path)
    return path.with_name(f"{path.stem}_float32.tflite")
