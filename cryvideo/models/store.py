"""Where the trained models live: ``saved_models/`` beside the package, or a folder of the
user's (``--models DIR`` / ``$CRYVIDEO_MODELS_DIR``)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["default_models_dir", "bundled_models_dir"]


def bundled_models_dir() -> Path:
    """The ``saved_models/`` folder shipped with the project."""
    return Path(__file__).resolve().parents[2] / "saved_models"


def default_models_dir() -> Path:
    """``$CRYVIDEO_MODELS_DIR``, else :func:`bundled_models_dir`."""
    env = os.environ.get("CRYVIDEO_MODELS_DIR")
    return Path(env) if env else bundled_models_dir()
