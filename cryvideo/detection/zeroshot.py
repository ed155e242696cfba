"""YAMNet's own cry classes as a zero-shot detector (no training): the peer to beat."""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError
from ..progress import Progress
from .result import DetectionResult, waveform, windows_as_audio

__all__ = ["YamnetZeroShotDetector", "ZEROSHOT_THRESHOLD"]

#: Default decision threshold (0.4: the value picked on the training folds of the first
#: grouped CV of the cry-detection set; ``cryvideo benchmark detection`` picks its own per fold).
ZEROSHOT_THRESHOLD = 0.4


class YamnetZeroShotDetector:
    """Zero-shot cry detection with YAMNet: the window score is
    max("Baby cry, infant cry", "Crying, sobbing") of each 0.975 s window (hop 0.48 s).

    A :class:`~cryvideo.detection.base.Detector` (backend ``yamnet-zeroshot``), with the same
    result as the trained detectors.

    Parameters
    ----------
    path : str or os.PathLike, optional
        ``yamnet.tflite`` (default: :func:`cryvideo.weights.resolve_weights`).
    threshold : float
    """

    WINDOW = 15600 / 16000
    name: str = "yamnet-zeroshot"
    #: ``detect`` decodes the whole waveform first (a caller may hand it one).
    streams_files: bool = False
    #: Decision threshold on the window score.
    threshold: float

    def __init__(self, path=None, *, threshold: float = ZEROSHOT_THRESHOLD) -> None:
        from .yamnet_tflite import YamNet

        if not 0.0 <= float(threshold) <= 1.0:
            raise ParameterError(f"threshold must be in [0, 1], got {threshold}")
        self.threshold = float(threshold)
        self.yamnet = YamNet(path)

    def detect(self, source, *, sr: int | None = None, info=None,
               progress: Progress | None = None) -> DetectionResult:
        """Detect crying in a file (audio or video) or a 16 kHz waveform (``info``: the file's
        probe, when the caller has one).

        ``progress("audio", done, total)`` follows the seconds of audio scored (rounded to
        0.1 s).
        """
        from .yamnet_tflite import CRY_CLASSES, YAMNET_HOP

        path, y = waveform(source, sr=sr, rate=16000, info=info)
        scores, _ = self.yamnet.frames(y, progress=windows_as_audio(progress, y.size / 16000))
        probs = scores[:, list(CRY_CLASSES)].max(1).astype(np.float64)
        times = np.arange(len(probs)) * YAMNET_HOP / 16000
        return DetectionResult.from_windows(
            path, times, probs, window=self.WINDOW, threshold=self.threshold,
            duration=y.size / 16000,
            detector={"name": self.name, "file": str(self.yamnet.path), "card": None})
