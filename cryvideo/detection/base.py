"""The one interface every cry detector has: :class:`Detector`.

``detect``, ``predict``'s cry gate, the batch jobs and ``listen`` ask a detector only for what
this protocol declares, so a new detector (or a wrapper around one, e.g. an audio-visual
verdict that vetoes an audio detector's segments) is one class plus one row of
:data:`cryvideo.detection.backends.BACKENDS`.
"""

from __future__ import annotations

import os
from typing import Protocol, runtime_checkable

import numpy as np

from ..progress import Progress
from .result import DetectionResult

__all__ = ["Detector", "takes_info"]


@runtime_checkable
class Detector(Protocol):
    """A cry detector.

    Attributes
    ----------
    name : str
        The backend name its results carry (``DetectionResult.detector["name"]``).
    threshold : float
        Decision threshold in [0, 1] on the window score.
    streams_files : bool
        True when ``detect(path)`` decodes a file block by block (memory flat in its
        length): callers then hand it the path, never a decoded waveform.
    """

    name: str
    threshold: float
    streams_files: bool

    def detect(self, source: str | os.PathLike | np.ndarray, *, sr: int | None = None,
               progress: Progress | None = None) -> DetectionResult:
        """Detect crying in a media file or a mono waveform at ``sr`` Hz.

        Parameters
        ----------
        source : str, os.PathLike or np.ndarray [shape=(n,)]
            A media file (audio or video), or a mono waveform at ``sr`` Hz.
        sr : int, optional
            Sample rate of a waveform (default 16 kHz); resampled when different.
        progress : callable, optional
            ``progress("audio", done, total)``: seconds of audio scored so far, rounded to
            0.1 s (``total`` None when unknown).

        A detector may also take ``info=``, the file's :class:`~cryvideo.media.MediaInfo` when
        the caller has probed it already (the shipped ones do: :func:`takes_info`), so that
        one file is probed once.

        Raises
        ------
        InputFileError
            Unreadable file, no audio, NaN samples, or too short.
        """
        ...


def takes_info(detector) -> bool:
    """Whether ``detector.detect`` takes ``info=`` (a probe to reuse): the shipped detectors
    do; a :class:`Detector` written elsewhere need not.

    Examples
    --------
    >>> from cryvideo.detection import load_detector
    >>> det = load_detector("yamnet-cry")                           # doctest: +SKIP
    >>> kw = {"info": info} if takes_info(det) else {}              # doctest: +SKIP
    >>> det.detect("clip.mp4", **kw)                                # doctest: +SKIP
    """
    import inspect

    try:
        params = inspect.signature(detector.detect).parameters
    except (TypeError, ValueError):
        return False
    return "info" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())
