"""The shipped cry detector: YAMNet + a trained cry head, run as TFLite (no TensorFlow import).

The model file maps log-mel patches to a cry probability per 0.96 s patch (every 0.48 s);
:mod:`cryvideo.detection.decisions` turns them into window scores (moving mean of ``window``
patches, from the card), a clip score (the highest window) and segments.

Use from Python::

    from cryvideo.detection import load_detector
    det = load_detector()                  # the default of `cryvideo detect`
    res = det.detect("clip.mp4")           # or det.detect(waveform, sr=16000)
    res.crying, res.probability, res.segments
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import ModelError, ParameterError
from ..media.probe import MediaInfo
from ..models.store import DEFAULT_DETECTOR_FILE, FLOAT_DETECTOR_FILE
from ..progress import Progress
from .frontend import YamnetFrontend, log_mel, pad_waveform, patches
from .result import DetectionResult, report_audio, waveform

__all__ = ["PatchDetector", "CARD_KIND", "DEFAULT_DETECTOR_FILE", "FLOAT_DETECTOR_FILE",
           "detector_info", "BATCH_PATCHES"]

#: ``kind`` of the card of a patch detector.
CARD_KIND = "cry-detector/yamnet-patch"
#: Patches per model call.
BATCH_PATCHES = 64
#: Seconds of audio decoded and scored at a time by :meth:`PatchDetector.detect`.
BLOCK_SECONDS = 60.0


def detector_info(name: str, card, path) -> dict:
    """What answered, for every output record: name, model file, card sha256, card name."""
    return {"name": name, "file": None if path is None else os.fspath(path),
            "card": getattr(card, "name", None), "sha256": getattr(card, "sha256", None)}


class PatchDetector:
    """A trained patch detector (``.tflite``) and its card: a
    :class:`~cryvideo.detection.base.Detector` (backend ``yamnet-cry``).

    Parameters
    ----------
    path : str or os.PathLike
        The ``.tflite`` file; its card (``.json``) is beside it.
    threshold : float, optional
        Overrides the card's decision threshold.
    num_threads : int
        TFLite threads.
    batch : int
        Patches per model call (a shorter call is zero-padded to it): 64 for files; 1 for live
        audio, which comes one patch per hop (:mod:`cryvideo.detection.live`).

    Raises
    ------
    ModelError
        Missing file or card, sha256 mismatch, a card of another kind, or a file TFLite cannot
        run.
    """

    name: str = "yamnet-cry"
    #: ``detect(path)`` decodes a file block by block (memory flat in its length).
    streams_files: bool = True
    #: Decision threshold (the card's unless overridden).
    threshold: float
    #: Threshold of ``listen``'s onset rule (one patch alone starts an episode; see
    #: :class:`~cryvideo.detection.live.LiveDetector`): the card's ``onset_threshold``, None
    #: when the card has none (the rule is off).
    onset_threshold: float | None

    def __init__(self, path: str | os.PathLike, *, threshold: float | None = None,
                 num_threads: int = 1, batch: int = BATCH_PATCHES) -> None:
        from ..models.cards import verify_model_file
        from .runtime import TFLitePatchModel

        self.path = Path(path)
        if self.path.suffix != ".tflite":
            raise ModelError("a patch detector is a .tflite file", path=self.path)
        self.card = verify_model_file(self.path)
        if self.card.kind != CARD_KIND:
            raise ModelError(f"not a YAMNet cry detector (card kind {self.card.kind!r})",
                             path=self.path)
        inputs = self.card.inputs or {}
        try:
            self.frontend = YamnetFrontend.from_dict(inputs["frontend"])
            self.window = int(inputs["window_patches"])
            thr = float(self.card.extra["threshold"]) if threshold is None else float(threshold)
            onset = self.card.extra.get("onset_threshold")
            onset = None if onset is None else float(onset)
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"model card lacks valid detector parameters ({exc})",
                             path=self.path) from None
        if not 0.0 <= thr <= 1.0:
            raise ParameterError(f"threshold must be in [0, 1], got {thr}")
        if onset is not None and not 0.0 <= onset <= 1.0:
            raise ModelError(f"model card's onset_threshold must be in [0, 1], got {onset:g}",
                             path=self.path)
        self.threshold = thr
        self.onset_threshold = onset
        self.model = TFLitePatchModel(self.path, num_threads=num_threads, batch=batch)

    @property
    def window_seconds(self) -> float:
        """Audio spanned by one scored window (``window`` patches)."""
        f = self.frontend
        return (self.window - 1) * f.hop_seconds + f.patch_seconds

    def patch_probabilities(self, y: np.ndarray, *,
                            progress: Progress | None = None) -> np.ndarray:
        """Cry probability of every patch of a 16 kHz waveform (padded as YAMNet pads).

        ``progress("patches", done, total)`` is called after each model call.

        Returns
        -------
        np.ndarray [shape=(n_patches,)]
            Patch ``i`` starts at ``i * hop_seconds``.
        """
        pats = patches(log_mel(pad_waveform(y, self.frontend), self.frontend), self.frontend)
        out = np.empty(len(pats), np.float32)
        step = BATCH_PATCHES * 8
        for a in range(0, len(pats), step):
            out[a:a + step] = self.model(pats[a:a + step])
            if progress is not None:
                progress("patches", min(a + step, len(pats)), len(pats))
        return out

    def detect(self, source, *, sr: int | None = None, info: MediaInfo | None = None,
               progress: Progress | None = None,
               block_seconds: float = BLOCK_SECONDS) -> DetectionResult:
        """Detect crying in a file (audio or video) or a waveform.

        A file is decoded and scored block by block (:mod:`cryvideo.detection.stream`): memory
        stays flat however long the recording, and the answer is the one the whole waveform
        gives (up to float noise, which the int8-weight file's run-time activation
        quantization can turn into a quantization step of one window's probability).

        Parameters
        ----------
        source, sr, progress
            As in :meth:`cryvideo.detection.Detector.detect`.
        info : MediaInfo, optional
            The file's probe, when the caller has one (else the file is probed here).
        block_seconds : float
            Seconds decoded and scored at a time.

        Raises
        ------
        InputFileError
            Unreadable file, no audio stream, empty, NaN samples, or shorter than 0.5 s.
        """
        from .stream import PatchStream, WindowStream, iter_blocks

        f = self.frontend
        step = max(1, int(round(block_seconds * f.sr)))
        if isinstance(source, str | os.PathLike):
            from ..media import iter_audio_blocks, probe

            path = os.fspath(source)
            info = probe(path) if info is None else info
            total = info.duration
            blocks = iter_audio_blocks(path, sr=f.sr, block_seconds=block_seconds, info=info)
        else:
            path, y = waveform(source, sr=sr, rate=f.sr)
            total = y.size / f.sr
            blocks = iter_blocks(y, step)
        ps = PatchStream(f)
        ws = WindowStream(window=self.window, threshold=self.threshold, frontend=f)
        starts, scores, segs = [], [], []

        def feed(pats) -> None:
            if len(pats):
                st, sc, closed = ws.push(self.model(pats))
                starts.append(st)
                scores.append(sc)
                segs.extend(closed)

        try:
            for block in blocks:
                feed(ps.push(block))
                report_audio(progress, ps.seconds_in, total)
        except KeyboardInterrupt as exc:
            # Ctrl-C on a long recording: what was found so far travels with the interrupt
            if ps.seconds_in > 0:
                exc.partial = self._result(path, ps, ws, starts, scores, segs, complete=False)
            raise
        return self._result(path, ps, ws, starts, scores, segs, complete=True)

    def _result(self, path, ps, ws, starts, scores, segs, *, complete: bool) -> DetectionResult:
        from ..errors import InputFileError
        from .result import MIN_DETECT_SECONDS

        duration = ps.seconds_in
        name = path or "<waveform>"
        if duration == 0:
            raise InputFileError("has no audio samples", path=name)
        if duration < MIN_DETECT_SECONDS and complete:
            raise InputFileError(f"too short ({duration:.2f} s of audio; need at least "
                                 f"{MIN_DETECT_SECONDS} s)", path=name)
        if complete:
            pats = ps.finish()
            if len(pats):
                st, sc, closed = ws.push(self.model(pats))
                starts.append(st)
                scores.append(sc)
                segs.extend(closed)
        st, sc, closed = ws.finish(duration)
        starts.append(st)
        scores.append(sc)
        segs.extend(closed)
        times = np.concatenate(starts)
        probs = np.concatenate(scores)
        segs = [(a, min(b, duration)) for a, b in segs if a < duration]
        best = float(ws.best)
        return DetectionResult(path=path, probability=best, crying=best >= self.threshold,
                               threshold=self.threshold, segments=segs, duration=duration,
                               window_times=times, window_probs=probs,
                               detector={**detector_info(self.name, self.card, self.path),
                                         "threshold": self.threshold}, complete=complete,
                               window_seconds=self.window_seconds)
