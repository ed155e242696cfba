"""The few things a notebook needs, importable from the package itself (``cryvideo.predict``,
``cryvideo.detect``, …), as librosa and openl3 export theirs.

=====================  ======================================================================
``predict``            why is the infant crying? a file → :class:`PredictionResult`
``detect``             is an infant crying, and when? a file or waveform →
                       :class:`DetectionResult`
``Predictor``          loads the models once, then ``.predict(path)`` file after file
``PredictSettings``    every setting of ``predict``, checked once
``load_detector``      a cry detector by backend name (``"yamnet-cry"``, ``"cnn10"``, …)
``DetectSettings``     every setting of ``detect``, checked once
``plan_batch``         plan a batch (inputs, the output file, resume) before any model loads
``run_batch``          run it: serial or on Dask, committed as it goes, resumable
``ListenSettings``     every setting of ``listen``
``listen``             the live loop (a file, a stream or the microphone) → events, recordings
=====================  ======================================================================

Examples
--------
>>> import cryvideo
>>> res = cryvideo.predict("examples/demo.mp4")           # doctest: +SKIP
>>> res.label, res.crying.segments                        # doctest: +SKIP
('hungry', [[0.0, 2.9]])
>>> det = cryvideo.detect("examples/demo.mp4", face="off")  # doctest: +SKIP
>>> det.crying, det.segments                              # doctest: +SKIP
(True, [(0.0, 2.9), (4.8, 7.7)])

Many files, the models loaded once:

>>> p = cryvideo.Predictor(cryvideo.PredictSettings(use_face=False))   # doctest: +SKIP
>>> [p.predict(f).label for f in ["a.mp4", "b.wav"]]                  # doctest: +SKIP

A folder, written to a resumable JSON-lines file, as ``cryvideo detect --out`` does:

>>> from cryvideo.batch import DetectJob
>>> plan = cryvideo.plan_batch(["recordings/"], command="detect", out="cries.jsonl",
...                            resume=True)                           # doctest: +SKIP
>>> report = cryvideo.run_batch(plan, DetectJob(cryvideo.DetectSettings()))  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from .batch import DetectSettings, plan_batch, run_batch
from .detection import load_detector
from .detection.listen_settings import ListenSettings
from .detection.listening import listen
from .detection.result import DetectionResult
from .pipeline import Predictor, PredictSettings
from .pipeline.result import PredictionResult

__all__ = ["predict", "detect", "Predictor", "PredictSettings", "load_detector",
           "DetectSettings", "plan_batch", "run_batch", "ListenSettings", "listen"]


def predict(path: str | os.PathLike, settings: PredictSettings | None = None,
            **options) -> PredictionResult:
    """Why is the infant crying in this file? (``cryvideo predict FILE``.)

    Loads the models, then analyses one file. For many files, make one :class:`Predictor`
    and call its ``predict``: the models load once.

    Parameters
    ----------
    path : str or os.PathLike
        An audio or video file.
    settings : PredictSettings, optional
        Default: ``PredictSettings()`` (the command's defaults).
    **options
        Settings to change, by name (``fps=10``, ``use_face=False``, ``cry_face="off"``, …):
        see :class:`PredictSettings`.

    Returns
    -------
    PredictionResult
        ``label`` (None when no crying was heard), ``probabilities``, ``crying`` (the cry
        gate's verdict), ``branches``, ``notes``, ``trust``; ``to_dict()`` gives the JSON of
        ``predict --json``.

    Raises
    ------
    ParameterError
        A setting out of range (before any model loads).
    InputFileError
        The file is missing, not media, or too short.
    ModelError
        A model file that is missing, corrupt or does not fit its card.

    Examples
    --------
    >>> import cryvideo
    >>> res = cryvideo.predict("examples/demo.mp4", use_face=False)   # doctest: +SKIP
    >>> res.label                                                       # doctest: +SKIP
    'hungry'
    """
    return Predictor(settings, **options).predict(path)


def detect(source: str | os.PathLike | np.ndarray, settings: DetectSettings | None = None, *,
           sr: int | None = None, **options) -> DetectionResult:
    """Is an infant crying, and when? (``cryvideo detect FILE``.)

    Parameters
    ----------
    source : str, os.PathLike or np.ndarray [shape=(n,)]
        A media file, or a mono waveform at ``sr`` Hz.
    settings : DetectSettings, optional
        Default: ``DetectSettings()`` (the shipped YAMNet detector, the face verdict on videos
        when its models are found).
    sr : int, optional
        Sample rate of a waveform (default 16 kHz).
    **options
        Settings to change, by name (``backend="cnn10"``, ``threshold=0.7``, ``face="off"``,
        …): see :class:`DetectSettings`.

    Returns
    -------
    DetectionResult
        ``crying``, ``probability``, ``segments`` (seconds), the window scores; on a video
        with the face verdict, ``face_verdicts``; ``to_dict()`` gives ``detect --json``'s
        record without its file fields.

    Raises
    ------
    ParameterError
        A setting out of range (before any model loads).
    InputFileError
        The file is missing, not media, has no audio, or is too short.

    Examples
    --------
    >>> import numpy as np, cryvideo
    >>> cryvideo.detect(np.zeros(16000 * 5, dtype=np.float32), sr=16000).crying  # doctest: +SKIP
    False
    """
    from .batch import DetectJob

    settings = DetectSettings() if settings is None else settings
    settings = dataclasses.replace(settings, **options) if options else settings
    job = DetectJob(settings)
    if isinstance(source, np.ndarray):
        settings.check_models()
        det, _, _ = job.load()
        return det.detect(np.asarray(source, dtype=np.float32), sr=sr)
    settings.check_models()
    result, _, _ = job.analyse(os.fspath(source))
    return result
