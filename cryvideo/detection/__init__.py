"""Cry detection at run time: is an infant crying, and when? (TFLite only: no TensorFlow.)

- :mod:`.frontend` — YAMNet's log-mel front end and 0.96 s patches, in NumPy;
- :mod:`.runtime` — a TFLite patch model;
- :mod:`.decisions` — patch probabilities → window scores, clip score, segments;
- :mod:`.patch_detector` — the shipped detector (:class:`PatchDetector`) and its card;
- :mod:`.zeroshot` — YAMNet's own cry classes, zero-shot (the peer to beat);
- :mod:`.base` — :class:`Detector`, the interface every detector has;
- :mod:`.backends` — :data:`BACKENDS`, the table of backends (name, aliases, shipped files,
  loader): the one place that lists them;
- :mod:`.result` — :class:`DetectionResult`, the answer of every detector;
- :mod:`.face_cue`, :mod:`.audiovisual` — the audio-visual verdict: an audio detector whose
  crying segments the infant's face may veto (:func:`.audiovisual.with_face` wraps any
  wrappable backend).
- :mod:`.live` — the live state machine (:class:`~.live.LiveDetector`: samples in, ``cry
  started`` / ``cry stopped`` out); :mod:`.alerts` — the ``--on-cry`` command;
- :mod:`.listen_settings`, :mod:`.listening`, :mod:`.listen_reports` — what ``cryvideo
  listen`` runs: its settings (one frozen dataclass), the loop (source → detector → alerts
  → recordings, stopped cleanly by Ctrl-C / SIGTERM) and what the loop reports.

:func:`load_detector` picks a detector by name, as ``cryvideo detect --backend`` does.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ParameterError
from .backends import BACKENDS, BackendSpec, backend_spec, hop_refusal
from .base import Detector
from .result import DetectionResult

__all__ = ["BACKENDS", "BackendSpec", "Detector", "DetectionResult", "backend_spec",
           "load_detector", "shipped_file"]


def shipped_file(backend: str) -> str:
    """File name of the backend's shipped model in a models folder (none for zero-shot).

    Raises
    ------
    ParameterError
        Unknown backend, or one that takes no model file.
    """
    return backend_spec(backend).shipped_file


def load_detector(backend: str = "yamnet-cry", *, model: str | os.PathLike | None = None,
                  models_dir: str | os.PathLike | None = None, threshold: float | None = None,
                  hop: float | None = None) -> Detector:
    """The :class:`Detector` of a backend of :data:`BACKENDS` (``progress`` of its ``detect``
    is called as ``progress("audio", seconds_done, seconds_total)``).

    A wrapping detector (e.g. an audio-visual verdict) is applied to what this returns, when
    the backend's row says ``wrappable``.

    Parameters
    ----------
    backend : str
        A name or alias of :data:`BACKENDS`: ``"yamnet-cry"`` (default), ``"cnn10"``,
        ``"yamnet-zeroshot"`` (alias ``"yamnet"``).
    model : path, optional
        A model file to use instead of the shipped one (``.tflite`` with its card; ``cnn10``
        also takes ``.keras``), for a backend that ``takes_model_file``.
    models_dir : path, optional
        Folder of the shipped models (default: ``$CRYVIDEO_MODELS_DIR`` or ``saved_models/``).
    threshold : float, optional
        Overrides the card's threshold.
    hop : float, optional
        Seconds between windows, for a backend that ``takes_hop`` (``cnn10``; the YAMNet
        detectors hop 0.48 s).

    Raises
    ------
    ParameterError
        Unknown backend, or an option the backend does not take.
    ModelError
        Missing or corrupt model file.

    Examples
    --------
    >>> from cryvideo.detection import load_detector
    >>> det = load_detector("yamnet-cry", threshold=0.6)        # doctest: +SKIP
    >>> res = det.detect("night.wav")                           # doctest: +SKIP
    >>> res.crying, res.segments                                # doctest: +SKIP
    (True, [(12.5, 40.3)])
    >>> load_detector("cnn10", hop=0.5).detect(waveform, sr=8000)  # doctest: +SKIP
    """
    spec = backend_spec(backend)
    if threshold is not None and not 0.0 <= float(threshold) <= 1.0:
        raise ParameterError(f"threshold must be in [0, 1], got {threshold}")
    if hop is not None and not spec.takes_hop:
        raise ParameterError(hop_refusal(spec.name, option="detector"))
    kw = {"threshold": threshold, **({} if hop is None else {"hop": hop})}
    if not spec.takes_model_file:
        return spec.loader(model, **kw)   # the loader says why a model file does not apply
    from ..models.store import default_models_dir

    root = Path(models_dir) if models_dir is not None else default_models_dir()
    return spec.loader(Path(model) if model is not None else root / spec.shipped_file, **kw)
