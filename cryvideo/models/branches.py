"""The reason branches on audio: what ``predict`` needs of a branch (:class:`Branch`), the
labelled placeholder used when no model is trained (:class:`UntrainedBranch`), and loading the
shipped MFCC and STFT branches (:func:`default_audio_branches`)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from ..data.donateacry import DONATEACRY_CLASSES
from .store import AUDIO_MODEL_FILES, find_model, lite_twin

__all__ = ["Branch", "UntrainedBranch", "default_audio_branches"]


class Branch(Protocol):
    """What the pipeline needs of an audio branch."""

    name: str
    labels: Sequence[str]
    trained: bool
    source: str  # card path, or a description of a placeholder
    sr: int

    def predict_proba(self, y: np.ndarray) -> np.ndarray:
        """Class probabilities ``(n_classes,)`` for a raw mono waveform at ``sr``."""


@dataclasses.dataclass
class UntrainedBranch:
    """Placeholder branch: uniform probabilities, always reported as untrained."""

    name: str
    labels: Sequence[str] = DONATEACRY_CLASSES
    sr: int = 8000
    trained: bool = False
    source: str = "untrained placeholder (no model file)"

    def predict_proba(self, y: np.ndarray) -> np.ndarray:
        return np.full(len(self.labels), 1.0 / len(self.labels), dtype=np.float32)


def default_audio_branches(models_dir: str | os.PathLike | None = None, *,
                           bundled_fallback: bool = False,
                           notes: list[str] | None = None) -> list[Branch]:
    """The MFCC and STFT branches: trained models when present, else labelled placeholders.

    Each model is looked up with :func:`~cryvideo.models.store.find_model`: in ``models_dir``,
    then, with ``bundled_fallback`` (what ``predict`` does), in the bundled folder; ``notes``
    receives a sentence for every model taken from there. In a folder, a ``.tflite`` twin
    (``audio_mfcc_float32.tflite``, see :func:`~cryvideo.models.store.lite_twin`) is preferred
    to the ``.keras`` file: same model, no TensorFlow to import. A branch whose model is found
    nowhere is an :class:`UntrainedBranch` (reported as untrained). A file that is present but
    corrupt, fails its card's sha256, or does not fit its card raises
    :class:`~cryvideo.errors.ModelError` naming the file: a broken model is never silently
    replaced.
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
