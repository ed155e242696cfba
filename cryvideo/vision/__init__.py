"""Vision side of the pipeline: face detection and cropping (backbones live in models).

The names below are imported on first use (OpenCV loads only then), so that importing a
submodule, e.g. :mod:`.backbones` for its :data:`~.backbones.RUNTIMES`, stays cheap.
"""

from __future__ import annotations

__all__ = ["FaceBox", "FaceTracker", "crop_face", "detect_face"]


def __getattr__(name: str):
    if name in __all__:
        from . import faces

        return getattr(faces, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
