"""Where ``predict`` finds its models: ``--models DIR`` (or ``$CRYVIDEO_MODELS_DIR``) first, then
the ``saved_models/`` bundled with the repository, and it says so when it takes one from there."""

from __future__ import annotations

import os
from pathlib import Path

from ..models.store import (
    MODEL_SUFFIXES,
    bundled_models_dir,
    check_models_dir,
    default_models_dir,
    find_model,
)
from .predict import Branch, UntrainedBranch

__all__ = ["default_models_dir", "bundled_models_dir", "check_models_dir", "find_model",
           "default_audio_branches", "AUDIO_MODEL_FILES", "MODEL_SUFFIXES", "lite_twin"]

#: File of each audio branch inside the models folder (each with a ``.json`` card beside it).
AUDIO_MODEL_FILES = {"mfcc": "audio_mfcc.keras", "stft": "audio_stft.keras"}


def default_audio_branches(models_dir: str | os.PathLike | None = None, *,
                           bundled_fallback: bool = False,
                           notes: list[str] | None = None) -> list[Branch]:
    """The MFCC and STFT branches: trained models when present, else labelled placeholders.

    Each model is looked up with :func:`find_model`: in ``models_dir``, then, with
    ``bundled_fallback`` (what ``predict`` does), in the bundled folder; ``notes`` receives a
    sentence for every model taken from there. In a folder, a ``.tflite`` twin
    (``audio_mfcc_float32.tflite``, see :func:`lite_twin`) is preferred to the ``.keras`` file:
    same model, no TensorFlow to import. A branch whose model is found nowhere is an
    :class:`UntrainedBranch` (reported as untrained). A file that is present but corrupt, fails
    its card's sha256, or does not fit its card raises :class:`~cryvideo.errors.ModelError`
    naming the file: a broken model is never silently replaced.
    """
    from .audio_branch import AudioBranch

    out: list[Branch] = []
    for name, fname in AUDIO_MODEL_FILES.items():
        path, note = find_model((lite_twin(fname).name, fname), models_dir,
                                bundled_fallback=bundled_fallback, what=fname)
        if path is None:
            out.append(UntrainedBranch(name))
            continue
        out.append(AudioBranch.load(path))
        if note and notes is not None:
            notes.append(note)
    return out


def lite_twin(path: str | os.PathLike) -> Path:
    """``x_float32.tflite`` beside ``x.keras``: what ``cryvideo export x.keras`` writes."""
    path = Path(path)
    return path.with_name(f"{path.stem}_float32.tflite")
