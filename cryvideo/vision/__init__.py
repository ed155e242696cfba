"""Vision side of the pipeline: face detection and cropping (backbones live in models)."""

from .faces import FaceBox, FaceTracker, crop_face, detect_face

__all__ = ["FaceBox", "FaceTracker", "crop_face", "detect_face"]
