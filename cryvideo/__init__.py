"""cryvideo: why is the infant crying? Audio + face analysis of videos.

The pipeline, left to right: :mod:`cryvideo.media` (ffmpeg demux) → :mod:`cryvideo.audio`
(preprocessing, MFCC/STFT features) and :mod:`cryvideo.vision` (face crops, backbone) →
:mod:`cryvideo.models` (branches, fusion) → :mod:`cryvideo.pipeline` (``predict``).
"""

__version__ = "0.1.0"

from .errors import CryVideoError  # noqa: E402

__all__ = ["CryVideoError", "__version__"]
