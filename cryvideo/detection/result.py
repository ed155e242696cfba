"""What a cry detector answers for one file or waveform, and how a source becomes a waveform."""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from ..errors import InputFileError
from ..progress import Progress

__all__ = ["DetectionResult", "waveform", "MIN_DETECT_SECONDS", "report_audio",
           "windows_as_audio"]

#: Inputs shorter than this (seconds) are refused: too short to say anything (as ``predict``).
MIN_DETECT_SECONDS = 0.5


def report_audio(progress: Progress | None, done: float, total: float | None) -> None:
    """A detector's progress: ``progress("audio", done, total)`` in seconds of audio, rounded to
    0.1 s (``total`` None when unknown). Nothing when ``progress`` is None."""
    if progress is not None:
        progress("audio", round(done, 1), None if total is None else round(total, 1))


def windows_as_audio(progress: Progress | None, duration: float) -> Progress | None:
    """A :data:`~cryvideo.progress.Progress` for counting scored windows that reports to
    ``progress`` in seconds of audio: ``done / total`` windows of ``duration`` seconds."""
    if progress is None:
        return None
    return lambda _stage, done, total: report_audio(
        progress, duration * done / total if total else duration, duration)


@dataclasses.dataclass
class DetectionResult:
    """Output of a detector's ``detect``.

    Attributes
    ----------
    path : str or None
    probability : float
        The clip score: the highest window score.
    crying : bool
        The verdict: ``probability >= threshold`` for an audio detector; with the face cue
        (:mod:`cryvideo.detection.audiovisual`), False when the face vetoed every segment.
    threshold : float
    segments : list of (float, float)
        Start and end (seconds) of merged windows whose score reaches the threshold.
    duration : float
        Seconds of audio analysed.
    window_times : np.ndarray [shape=(n,)]
        Start time of every scored window (seconds); :attr:`window_centres` are their centres,
        where a window's score belongs on a time axis.
    window_probs : np.ndarray [shape=(n,)]
    detector : dict
        What answered: name, model file, sha256 of its card, threshold.
    complete : bool
        False when the analysis was interrupted: the result covers ``duration`` seconds from
        the start only.
    face : dict or None
        The face cue's evidence (None: the face was not asked, as with ``--face off``): what
        looked, whether it was used, and each audio segment's verdict
        (:meth:`cryvideo.detection.audiovisual.SegmentVerdict.to_dict`).
    face_verdicts : list of SegmentVerdict
        The same verdicts, typed.
    face_spans : list of SpanFaces
        What the faces showed over each audio segment (per-frame expressions, thumbnails).
    window_seconds : float or None
        Seconds of audio one scored window spans (the detector's; every detector sets it).
    """

    path: str | None
    probability: float
    crying: bool
    threshold: float
    segments: list
    duration: float
    window_times: np.ndarray
    window_probs: np.ndarray
    detector: dict = dataclasses.field(default_factory=dict)
    complete: bool = True
    face: dict | None = None
    face_verdicts: list = dataclasses.field(default_factory=list)
    face_spans: list = dataclasses.field(default_factory=list)
    window_seconds: float | None = None

    @property
    def window_centres(self) -> np.ndarray:
        """The centre of every scored window (seconds): of the audio it spans, ``window_times``
        plus :attr:`window_seconds` cut at the recording's end (the window starts when the
        length is unknown)."""
        t = np.asarray(self.window_times, dtype=np.float64)
        if self.window_seconds is None:
            return t
        end = np.minimum(t + float(self.window_seconds), max(float(self.duration), 0.0))
        return (t + np.maximum(end, t)) / 2

    def peak(self, start: float, end: float) -> float | None:
        """The highest score of the windows that start within ``[start, end]``: a segment's
        peak (the windows that make a segment all start inside it). None when no window does.
        """
        t = np.asarray(self.window_times, dtype=np.float64)
        p = np.asarray(self.window_probs, dtype=np.float64)
        inside = (t >= start - 1e-6) & (t <= end + 1e-6)
        return float(p[inside].max()) if inside.any() else None

    @property
    def segment_peaks(self) -> list:
        """The peak score of every segment (:meth:`peak`), in the order of ``segments``."""
        return [self.peak(a, b) for a, b in self.segments]

    @classmethod
    def from_windows(cls, path: str | None, times: np.ndarray, probs: np.ndarray, *,
                     window: float, threshold: float, duration: float,
                     detector: dict) -> DetectionResult:
        """The result of scored windows: the clip probability is the highest window's, and
        windows reaching ``threshold`` merge into segments.

        Parameters
        ----------
        times, probs : np.ndarray [shape=(n,)]
            Start (seconds) and score of every window.
        window : float
            Length of a window, seconds.
        """
        from .decisions import merge_segments

        probs = np.asarray(probs, dtype=np.float64)
        p = float(probs.max()) if probs.size else 0.0
        segs = merge_segments(times, probs, window=window, threshold=threshold,
                              duration=duration)
        return cls(path=path, probability=p, crying=p >= threshold, threshold=threshold,
                   segments=segs, duration=duration, window_times=np.asarray(times),
                   window_probs=probs, detector={**detector, "threshold": threshold},
                   window_seconds=float(window))

    def to_dict(self, *, scores: bool = False) -> dict:
        """The JSON record (fields: docs/json.md).

        Parameters
        ----------
        scores : bool
            Add ``scores``: the window length and every window's centre and score.
        """
        d = {
            "path": self.path,
            "crying": bool(self.crying),
            "probability": round(float(self.probability), 4),
            "threshold": self.threshold,
            "segments": [[round(a, 2), round(b, 2)] for a, b in self.segments],
            "segment_peaks": [None if p is None else round(p, 4) for p in self.segment_peaks],
            "duration": round(float(self.duration), 3),
        }
        if self.detector:
            d["detector"] = dict(self.detector)
        if not self.complete:
            d["complete"] = False
            d["stopped_at"] = round(float(self.duration), 2)
        if self.face is not None:
            d["face"] = dict(self.face)
        if scores:
            d["scores"] = {
                "window_seconds": (None if self.window_seconds is None
                                   else round(float(self.window_seconds), 4)),
                "times": [round(float(t), 3) for t in self.window_centres],
                "values": [round(float(p), 4) for p in self.window_probs]}
        return d


def waveform(source, *, sr: int | None, rate: int, min_seconds: float = MIN_DETECT_SECONDS,
             info=None) -> tuple[str | None, np.ndarray]:
    """``(path or None, mono float32 waveform at rate)`` from a file (``info``: its probe, when
    the caller has one) or an array at ``sr``.

    Raises
    ------
    InputFileError
        An empty waveform, one with NaN / infinite samples, or one shorter than
        ``min_seconds``.
    """
    path = None
    if isinstance(source, str | os.PathLike):
        from ..media import load_audio

        path = os.fspath(source)
        y = load_audio(path, sr=rate, info=info)
    else:
        y = np.asarray(source, dtype=np.float32).reshape(-1)
        if sr is not None and int(sr) != rate:
            import scipy.signal

            y = scipy.signal.resample_poly(y, rate, int(sr)).astype(np.float32)
    name = path or "<waveform>"
    if y.size == 0:
        raise InputFileError("has no audio samples", path=name)
    if not np.all(np.isfinite(y)):
        raise InputFileError("audio contains NaN or infinite samples", path=name)
    if y.size < min_seconds * rate:
        raise InputFileError(f"too short ({y.size / rate:.2f} s of audio; need at least "
                             f"{min_seconds} s)", path=name)
    return path, y
