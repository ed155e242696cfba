"""Cry detection with a trained log-mel CNN10: clip probability and time segments of crying.

The detector slides a fixed window (from its card, 2 s by default) with a hop (0.5 s) over the
audio, scores every window, calls the clip "crying" when the highest window probability reaches
the card's threshold, and merges overlapping positive windows into segments.

Use from Python::

    from cryvideo.panns.detector import CryDetector
    det = CryDetector.load_default()
    res = det.detect("clip.mp4")          # or det.detect(waveform_16k)
    res.crying, res.probability, res.segments
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import InputFileError, ModelError, ParameterError
from .frontend import PANNS_16K, LogMelParams, logmel
from .training import sliding_windows, window_starts

__all__ = ["DEFAULT_DETECTOR", "DetectionResult", "CryDetector", "YamnetCryDetector",
           "merge_segments"]

#: Called as ``progress(done, total)`` while windows are scored.
ProgressCallback = Callable[[int, int], None]
#: Windows per model call (bounds memory on long recordings; one progress step each).
BATCH_WINDOWS = 32

#: File name of the shipped detector inside ``saved_models/``.
DEFAULT_DETECTOR = "cry_detector.keras"


@dataclasses.dataclass
class DetectionResult:
    """Output of :meth:`CryDetector.detect`.

    Attributes
    ----------
    path : str or None
    probability : float
        Highest window probability of crying (the clip score).
    crying : bool
        ``probability >= threshold``.
    threshold : float
    segments : list of (float, float)
        Start and end (seconds) of merged crying windows.
    duration : float
        Seconds of audio analysed.
    window_times : np.ndarray [shape=(n,)]
        Start time of every window (seconds).
    window_probs : np.ndarray [shape=(n,)]
    """

    path: str | None
    probability: float
    crying: bool
    threshold: float
    segments: list
    duration: float
    window_times: np.ndarray
    window_probs: np.ndarray

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "crying": bool(self.crying),
            "probability": round(float(self.probability), 4),
            "threshold": self.threshold,
            "segments": [[round(a, 2), round(b, 2)] for a, b in self.segments],
            "duration": round(float(self.duration), 3),
        }


def _waveform(source, *, sr: int | None, rate: int) -> tuple[str | None, np.ndarray]:
    """``(path or None, mono float32 waveform at rate)`` from a file or an array at ``sr``.

    Raises :class:`InputFileError` for an empty waveform or one with NaN / infinite samples.
    """
    path = None
    if isinstance(source, str | os.PathLike):
        from ..media import load_audio

        path = os.fspath(source)
        y = load_audio(path, sr=rate)
    else:
        y = np.asarray(source, dtype=np.float32).reshape(-1)
        if sr is not None and int(sr) != rate:
            import scipy.signal

            y = scipy.signal.resample_poly(y, rate, int(sr)).astype(np.float32)
    if y.size == 0:
        raise InputFileError("has no audio samples", path=path or "<waveform>")
    if not np.all(np.isfinite(y)):
        raise InputFileError("audio contains NaN or infinite samples", path=path or "<waveform>")
    return path, y


def merge_segments(starts: np.ndarray, probs: np.ndarray, *, window: float,
                   threshold: float, duration: float) -> list:
    """Merge positive windows (start times in s) into (start, end) segments clipped to
    ``duration``."""
    segs: list = []
    for s, p in zip(starts, probs, strict=False):
        if p < threshold:
            continue
        a, b = float(s), min(float(s) + window, duration)
        if segs and a <= segs[-1][1]:
            segs[-1][1] = max(segs[-1][1], b)
        else:
            segs.append([a, b])
    return [(a, b) for a, b in segs]


class CryDetector:
    """A trained cry detector (Keras ``.keras`` or ``.tflite``) and its card.

    Parameters
    ----------
    model : keras.Model or TFLite interpreter
    card : cryvideo.models.cards.ModelCard
    threshold : float, optional
        Overrides the card's decision threshold.
    hop : float
        Seconds between windows.
    """

    def __init__(self, model, card, *, threshold: float | None = None, hop: float = 0.5) -> None:
        self.model = model
        self.card = card
        inputs = card.inputs or {}
        self.params = LogMelParams.from_dict(inputs.get("logmel", PANNS_16K.to_dict()))
        self.window_frames = int(inputs.get("window_frames", 201))
        self.window = (self.window_frames - 1) * self.params.hop / self.params.sr
        thr = card.extra.get("threshold", 0.5) if threshold is None else threshold
        if not 0.0 <= float(thr) <= 1.0:
            raise ParameterError(f"threshold must be in [0, 1], got {thr}")
        self.threshold = float(thr)
        if not hop > 0:
            raise ParameterError(f"hop must be > 0 seconds, got {hop}")
        self.hop = float(hop)
        self._tflite = not hasattr(model, "predict")

    @classmethod
    def load(cls, path, **kw) -> CryDetector:
        """Load a detector saved with its card (``.keras`` safely, ``.tflite`` hash-checked)."""
        from ..models.cards import load_model_with_card, verify_model_file

        path = Path(path)
        if path.suffix == ".tflite":
            from .export import tflite_interpreter

            card = verify_model_file(path)
            return cls(tflite_interpreter(path), card, **kw)
        from . import models as _models  # noqa: F401  (registers the custom layers)

        model, card = load_model_with_card(path)
        if card.kind != "cry-detector":
            raise ModelError(f"not a cry detector (card kind {card.kind!r})", path=path)
        return cls(model, card, **kw)

    @classmethod
    def load_default(cls, models_dir=None, **kw) -> CryDetector:
        """The shipped detector: ``saved_models/cry_detector.keras`` (or ``$CRYVIDEO_MODELS_DIR``
        / ``models_dir``)."""
        from ..pipeline.models import default_models_dir

        d = Path(models_dir) if models_dir is not None else default_models_dir()
        return cls.load(d / DEFAULT_DETECTOR, **kw)

    def window_probabilities(self, feats: np.ndarray, *,
                             progress: ProgressCallback | None = None
                             ) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities of every window of a log-mel ``(frames, n_mels)``: (starts_s, probs).

        ``progress(done, total)`` is called after each batch of windows.
        """
        hop_frames = max(1, int(round(self.hop * self.params.sr / self.params.hop)))
        starts = window_starts(len(feats), self.window_frames, hop_frames)
        out = []
        for i in range(0, len(starts), BATCH_WINDOWS):
            chunk = starts[i:i + BATCH_WINDOWS]
            first, last = int(chunk[0]), int(chunk[-1]) + self.window_frames
            batch, _ = sliding_windows(feats[first:last], self.window_frames, hop_frames)
            if self._tflite:
                from .export import run_tflite

                out.append(run_tflite(self.model, batch)[:, 0])
            else:
                out.append(np.asarray(self.model(batch, training=False))[:, 0])
            if progress is not None:
                progress(min(i + BATCH_WINDOWS, len(starts)), len(starts))
        probs = np.concatenate(out) if out else np.zeros(0, np.float32)
        return starts * self.params.hop / self.params.sr, probs.astype(np.float64)

    def detect(self, source, *, sr: int | None = None,
               progress: ProgressCallback | None = None) -> DetectionResult:
        """Detect crying in a file (audio or video) or a waveform.

        Parameters
        ----------
        source : str, os.PathLike or np.ndarray [shape=(n,)]
            A media file, or a mono waveform at ``sr`` Hz.
        sr : int, optional
            Sample rate of a waveform (default 16 kHz); resampled when different.
        progress : callable, optional
            ``progress(done, total)`` with the number of windows scored so far.

        Raises
        ------
        InputFileError
            Unreadable file, no audio stream, or empty audio.
        """
        path, y = _waveform(source, sr=sr, rate=self.params.sr)
        duration = y.size / self.params.sr
        times, probs = self.window_probabilities(logmel(y, self.params), progress=progress)
        p = float(probs.max())
        segs = merge_segments(times, probs, window=self.window, threshold=self.threshold,
                              duration=duration)
        return DetectionResult(path=path, probability=p, crying=p >= self.threshold,
                               threshold=self.threshold, segments=segs, duration=duration,
                               window_times=times, window_probs=probs)


class YamnetCryDetector:
    """Zero-shot cry detection with YAMNet (no training): the window score is
    max("Baby cry, infant cry", "Crying, sobbing") of each 0.975 s window (hop 0.48 s).

    Same :meth:`detect` interface and result as :class:`CryDetector`.

    Parameters
    ----------
    path : str or os.PathLike, optional
        ``yamnet.tflite`` (default: :func:`cryvideo.weights.resolve_weights`).
    threshold : float
        Decision threshold (0.4: the value picked on the training folds of the grouped CV).
    """

    WINDOW = 15600 / 16000

    def __init__(self, path=None, *, threshold: float = 0.4) -> None:
        from .yamnet import YamNet

        if not 0.0 <= float(threshold) <= 1.0:
            raise ParameterError(f"threshold must be in [0, 1], got {threshold}")
        self.threshold = float(threshold)
        self.yamnet = YamNet(path)

    def detect(self, source, *, sr: int | None = None,
               progress: ProgressCallback | None = None) -> DetectionResult:
        """As :meth:`CryDetector.detect`."""
        from .yamnet import CRY_CLASSES, YAMNET_HOP

        path, y = _waveform(source, sr=sr, rate=16000)
        scores, _ = self.yamnet.frames(y, progress=progress)
        probs = scores[:, list(CRY_CLASSES)].max(1).astype(np.float64)
        times = np.arange(len(probs)) * YAMNET_HOP / 16000
        duration = y.size / 16000
        p = float(probs.max())
        segs = merge_segments(times, probs, window=self.WINDOW, threshold=self.threshold,
                              duration=duration)
        return DetectionResult(path=path, probability=p, crying=p >= self.threshold,
                               threshold=self.threshold, segments=segs, duration=duration,
                               window_times=times, window_probs=probs)
