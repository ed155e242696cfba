"""Cry detection at run time: is an infant crying, and when? (TFLite only: no TensorFlow.)

- :mod:`.frontend` — YAMNet's log-mel front end and 0.96 s patches, in NumPy;
- :mod:`.runtime` — a TFLite patch model;
- :mod:`.pooling` — patch probabilities → window scores, clip score, segments;
- :mod:`.detector` — the shipped detector (:class:`PatchDetector`) and its card;
- :mod:`.zeroshot` — YAMNet's own cry classes, zero-shot (the peer to beat);
- :mod:`.result` — :class:`DetectionResult`, the answer of every detector.

:func:`load_detector` picks a detector by name, as ``cryvideo detect --backend`` does.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ModelError, ParameterError
from .result import DetectionResult

__all__ = ["BACKENDS", "DetectionResult", "load_detector", "shipped_file"]

#: Detector names: the shipped YAMNet-based detector (default), the previous log-mel CNN10, and
#: YAMNet's own cry classes used zero-shot.
BACKENDS = ("yamnet-cry", "cnn10", "yamnet-zeroshot")


def shipped_file(backend: str) -> str:
    """File name of the backend's shipped model in a models folder (none for zero-shot)."""
    from ..models.store import CNN10_DETECTOR_FILE, DEFAULT_DETECTOR_FILE

    if backend == "cnn10":
        return CNN10_DETECTOR_FILE
    if backend == "yamnet-cry":
        return DEFAULT_DETECTOR_FILE
    raise ParameterError(f"the {backend} detector has no model file")


def load_detector(backend: str = "yamnet-cry", *, model: str | os.PathLike | None = None,
                  models_dir: str | os.PathLike | None = None, threshold: float | None = None,
                  hop: float | None = None):
    """A detector with a ``detect(source, sr=None, progress=None)`` method (``progress`` is
    called as ``progress("audio", seconds_done, seconds_total)``).

    Parameters
    ----------
    backend : {"yamnet-cry", "cnn10", "yamnet-zeroshot"}
    model : path, optional
        A model file to use instead of the shipped one (``.tflite`` with its card; ``cnn10``
        also takes ``.keras``).
    models_dir : path, optional
        Folder of the shipped models (default: ``$CRYVIDEO_MODELS_DIR`` or ``saved_models/``).
    threshold : float, optional
        Overrides the card's threshold.
    hop : float, optional
        Seconds between windows (``cnn10`` only; the YAMNet detectors hop 0.48 s).

    Raises
    ------
    ParameterError
        Unknown backend, or an option the backend does not take.
    ModelError
        Missing or corrupt model file.
    """
    if backend == "yamnet":  # the old name of the zero-shot backend
        backend = "yamnet-zeroshot"
    if backend not in BACKENDS:
        raise ParameterError(f"unknown detector {backend!r}; choose one of {', '.join(BACKENDS)}")
    if threshold is not None and not 0.0 <= float(threshold) <= 1.0:
        raise ParameterError(f"threshold must be in [0, 1], got {threshold}")
    if hop is not None and backend != "cnn10":
        raise ParameterError(f"--hop applies to the cnn10 detector only ({backend} hops 0.48 s)")
    if backend == "yamnet-zeroshot":
        if model is not None:
            raise ParameterError("the zero-shot detector takes yamnet.tflite from "
                                 "$CRYVIDEO_WEIGHTS_DIR, not a model file")
        from .zeroshot import ZEROSHOT_THRESHOLD, YamnetCryDetector

        return YamnetCryDetector(threshold=ZEROSHOT_THRESHOLD if threshold is None
                                 else threshold)
    from ..models.store import CNN10_DETECTOR_FILE, DEFAULT_DETECTOR_FILE, default_models_dir

    root = Path(models_dir) if models_dir is not None else default_models_dir()
    if backend == "cnn10":
        from .cnn10 import CryDetector

        kw = {"threshold": threshold, **({} if hop is None else {"hop": hop})}
        return CryDetector.load(model if model is not None else root / CNN10_DETECTOR_FILE,
                                **kw)
    from .detector import PatchDetector

    path = Path(model) if model is not None else root / DEFAULT_DETECTOR_FILE
    if not path.is_file():
        raise ModelError("cry detector not found", path=path)
    return PatchDetector(path, threshold=threshold)
