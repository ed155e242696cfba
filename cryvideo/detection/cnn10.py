"""Cry detection with a trained log-mel CNN10: clip probability and time segments of crying.

The detector slides a fixed window (from its card, 2 s by default) with a hop (0.5 s) over the
audio, scores every window, calls the clip "crying" when the highest window probability reaches
the card's threshold, and merges overlapping positive windows into segments.

Use from Python::

    from cryvideo.detection.cnn10 import CNN10Detector
    det = CNN10Detector.load_default()
    res = det.detect("clip.mp4")          # or det.detect(waveform_16k)
    res.crying, res.probability, res.segments
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..audio.logmel import PANNS_16K, LogMelParams, logmel
from ..audio.windows import sliding_windows, window_starts
from ..errors import ModelError, ParameterError
from ..models.store import CNN10_DETECTOR_FILE
from ..progress import Progress
from .decisions import merge_segments
from .patch_detector import detector_info
from .result import DetectionResult, windows_as_audio
from .result import waveform as _waveform_checked
from .zeroshot import YamnetZeroShotDetector

__all__ = ["DEFAULT_DETECTOR", "DetectionResult", "CNN10Detector", "YamnetZeroShotDetector",
           "merge_segments"]

#: Windows per model call (bounds memory on long recordings; one progress step each).
BATCH_WINDOWS = 32

#: File name of the shipped detector inside ``saved_models/``.
DEFAULT_DETECTOR = CNN10_DETECTOR_FILE


class CNN10Detector:
    """A trained cry detector (Keras ``.keras`` or ``.tflite``) and its card: a
    :class:`~cryvideo.detection.base.Detector` (backend ``cnn10``).

    Parameters
    ----------
    model : keras.Model or TFLite interpreter
    card : cryvideo.models.cards.ModelCard
    threshold : float, optional
        Overrides the card's decision threshold.
    hop : float
        Seconds between windows.
    """

    name: str = "cnn10"
    #: ``detect`` decodes the whole waveform first (a caller may hand it one).
    streams_files: bool = False
    #: Decision threshold (the card's unless overridden).
    threshold: float

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
        self.path = None

    @classmethod
    def load(cls, path, **kw) -> CNN10Detector:
        """Load a detector saved with its card (``.keras`` safely, ``.tflite`` hash-checked)."""
        from ..models.cards import load_model_with_card, verify_model_file

        path = Path(path)
        if path.suffix == ".tflite":
            from ..models.export import tflite_interpreter

            card = verify_model_file(path)
            det = cls(tflite_interpreter(path), card, **kw)
            det.path = path
            return det
        from ..models import panns as _models  # noqa: F401  (registers the custom layers)

        model, card = load_model_with_card(path)
        if card.kind != "cry-detector":
            raise ModelError(f"not a cry detector (card kind {card.kind!r})", path=path)
        det = cls(model, card, **kw)
        det.path = path
        return det

    @classmethod
    def load_default(cls, models_dir=None, **kw) -> CNN10Detector:
        """The shipped detector: ``saved_models/cry_detector.keras`` (or ``$CRYVIDEO_MODELS_DIR``
        / ``models_dir``)."""
        from ..models.store import default_models_dir

        d = Path(models_dir) if models_dir is not None else default_models_dir()
        return cls.load(d / DEFAULT_DETECTOR, **kw)

    def window_probabilities(self, feats: np.ndarray, *,
                             progress: Progress | None = None
                             ) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities of every window of a log-mel ``(frames, n_mels)``: (starts_s, probs).

        ``progress("windows", done, total)`` is called after each batch of windows.
        """
        hop_frames = max(1, int(round(self.hop * self.params.sr / self.params.hop)))
        starts = window_starts(len(feats), self.window_frames, hop_frames)
        out = []
        for i in range(0, len(starts), BATCH_WINDOWS):
            chunk = starts[i:i + BATCH_WINDOWS]
            first, last = int(chunk[0]), int(chunk[-1]) + self.window_frames
            batch, _ = sliding_windows(feats[first:last], self.window_frames, hop_frames)
            if self._tflite:
                from ..models.export import run_tflite

                out.append(run_tflite(self.model, batch)[:, 0])
            else:
                out.append(np.asarray(self.model(batch, training=False))[:, 0])
            if progress is not None:
                progress("windows", min(i + BATCH_WINDOWS, len(starts)), len(starts))
        probs = np.concatenate(out) if out else np.zeros(0, np.float32)
        return starts * self.params.hop / self.params.sr, probs.astype(np.float64)

    def detect(self, source, *, sr: int | None = None, info=None,
               progress: Progress | None = None) -> DetectionResult:
        """Detect crying in a file (audio or video) or a waveform, decoded whole: the
        parameters of :meth:`cryvideo.detection.Detector.detect`, and ``info``, the file's
        probe when the caller has one.

        Raises
        ------
        InputFileError
            Unreadable file, no audio stream, or empty audio.
        """
        path, y = _waveform_checked(source, sr=sr, rate=self.params.sr, info=info)
        duration = y.size / self.params.sr
        times, probs = self.window_probabilities(
            logmel(y, self.params), progress=windows_as_audio(progress, duration))
        return DetectionResult.from_windows(
            path, times, probs, window=self.window, threshold=self.threshold,
            duration=duration,
            detector=detector_info(self.name, self.card, self.path))
