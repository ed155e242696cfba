"""cryvideo: why is the infant crying? Audio + face analysis of videos.

The pipeline, left to right: :mod:`cryvideo.media` (ffmpeg demux) → :mod:`cryvideo.audio`
(preprocessing, MFCC/STFT features) and :mod:`cryvideo.vision` (face crops, backbone) →
:mod:`cryvideo.models` (branches, fusion) → :mod:`cryvideo.pipeline` (``predict``).

The few things a notebook needs are importable from here (:mod:`cryvideo.api`):
``cryvideo.predict``, ``cryvideo.detect``, ``Predictor``, ``PredictSettings``,
``load_detector``, ``DetectSettings``, ``plan_batch``, ``run_batch``, ``ListenSettings``,
``listen``. They load on first use, so ``import cryvideo`` stays light.

>>> import cryvideo
>>> cryvideo.predict("examples/demo.mp4").label        # doctest: +SKIP
'hungry'
"""

from .errors import CryVideoError
from .version import __version__

#: The public API (:mod:`cryvideo.api`), imported on first use.
API = ("predict", "detect", "Predictor", "PredictSettings", "load_detector", "DetectSettings",
       "plan_batch", "run_batch", "ListenSettings", "listen")

__all__ = ["CryVideoError", "__version__", *API]


def __getattr__(name: str):
    if name in API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(API))
