"""``predict``'s cry gate: the detector's verdict on one file, from one probe and as few decodes
as it needs.

With the audio-visual verdict (:class:`~cryvideo.detection.audiovisual.AudioVisualDetector`) on a
video, the sound is detected first; then one ffmpeg process decodes the video for both the
face verdict (each crying segment at the rule's rate) and the face branch (the whole video at
the analysis rate). The face branch runs in the calling thread (its progress and a Ctrl-C stay
where they were), the verdict in a second thread. The verdict is the one
:meth:`AudioVisualDetector.detect` gives: the same code, fed the same frames.
"""

from __future__ import annotations

import threading
import time

from ..detection.audiovisual import AudioVisualDetector
from ..detection.base import takes_info
from ..detection.result import DetectionResult
from ..media import load_audio
from ..media.span_frames import SpanFrames
from .face import FaceStage
from .result import CryVerdict, FileRun

__all__ = ["cry_gate", "FaceOutcome"]


class FaceOutcome:
    """The face stage, when :func:`cry_gate` ran it (on the frames it shared with the face
    verdict): its results are in the ``face_run`` it was given; :attr:`error` is what it
    raised, for the caller to raise once the stages before it in the output have run.
    """

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error


def cry_gate(detector, name: str, run: FileRun, *, face_stage: FaceStage,
             face_run: FileRun) -> tuple[CryVerdict | None, float, FaceOutcome | None]:
    """Ask ``detector`` (named ``name`` in the output) about ``run``'s file.

    Parameters
    ----------
    detector : Detector or None
        None: no gate.
    run : FileRun
        The file's run: its notes and timings get the gate's.
    face_stage : FaceStage
        Run on ``face_run`` alongside the face verdict when both decode the video.
    face_run : FileRun

    Returns
    -------
    verdict : CryVerdict or None
        None without a gate or without audio.
    seconds : float
        Seconds of audio the detector decoded.
    face : FaceOutcome or None
        The face stage, when it ran alongside the verdict (else the caller runs it).

    Examples
    --------
    >>> p = Predictor()                                             # doctest: +SKIP
    >>> run = FileRun(path, info, notes=[], timings={})             # doctest: +SKIP
    >>> face_run = FileRun(path, info, notes=[], timings={})        # doctest: +SKIP
    >>> verdict, seconds, face = cry_gate(                          # doctest: +SKIP
    ...     p.cry_detector, p.cry_detector_name, run, face_stage=p.face_stage,
    ...     face_run=face_run)
    """
    if detector is None or not run.info.has_audio:
        return None, 0.0, None
    t0 = time.perf_counter()
    face = None
    if isinstance(detector, AudioVisualDetector):
        det, face = _audio_visual(detector, run, face_stage, face_run)
    elif detector.streams_files:       # decoded block by block: flat memory
        det = detector.detect(run.path, **({"info": run.info} if takes_info(detector) else {}))
    else:
        det = detector.detect(load_audio(run.path, sr=16000, info=run.info), sr=16000)
    run.timings["cry_detect"] = round(time.perf_counter() - t0, 3)
    if not det.crying and any(v.decision == "veto" for v in det.face_verdicts):
        run.notes.append(f"the sound found crying (score {det.probability:.2f} >= threshold "
                         f"{det.threshold:.2f}, {name}) but the face vetoed every segment "
                         "(visibly happy): no reason given")
    elif not det.crying:
        run.notes.append(f"no crying detected (score {det.probability:.2f} < threshold "
                         f"{det.threshold:.2f}, {name}): no reason given")
    return CryVerdict(det, name), float(det.duration), face


def _audio_visual(detector: AudioVisualDetector, run: FileRun, face_stage: FaceStage,
                  face_run: FileRun) -> tuple[DetectionResult, FaceOutcome | None]:
    """The audio-visual verdict, with the face stage reading the same decode of the video."""
    res = detector.detect_sound(run.path, info=run.info)
    spans = detector.frame_spans(res, run.path, info=run.info)
    whole = face_stage.frame_span(run.info)
    if not spans or whole is None:   # one of them needs no frames: nothing to share
        return detector.judge(res, run.path, info=run.info), None
    with SpanFrames(run.path, spans, info=run.info, alongside=whole) as frames:
        verdict = _Thread(detector.judge, res, run.path, info=run.info, frames=frames)
        try:
            face = FaceOutcome()
            try:
                face_stage(face_run, frames.alongside)
            except Exception as exc:  # noqa: BLE001 - raised by the caller, in its turn
                face.error = exc
            finally:
                frames.alongside.close()     # what is left is not wanted: the verdict goes on
            return verdict.result(), face
        except BaseException:
            frames.close()           # the verdict stops at once (Ctrl-C, a model error)
            verdict.join()
            raise


class _Thread:
    """``fn(*args, **kw)`` run in a thread; :meth:`result` waits and returns or raises."""

    def __init__(self, fn, *args, **kw) -> None:
        self._out: tuple = (None, None)
        self._thread = threading.Thread(target=self._run, args=(fn, args, kw),
                                        name="cryvideo-verdict", daemon=True)
        self._thread.start()

    def _run(self, fn, args, kw) -> None:
        try:
            self._out = (fn(*args, **kw), None)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            self._out = (None, exc)

    def join(self) -> None:
        self._thread.join()

    def result(self):
        self.join()
        value, error = self._out
        if error is not None:
            raise error
        return value
