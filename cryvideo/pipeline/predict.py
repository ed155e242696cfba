"""``predict``: one media file in, a cry reason with probabilities out.

The data flow (see the design notes)::

    file ─probe─┬─ audio ─ features ─┬─ MFCC branch ─ p_mfcc ─┐
                │                    └─ STFT branch ─ p_stft ─┼─ fusion ─ label, probabilities
                └─ frames ─ faces ─ backbone ─ head ─ rolling avg ─ p_face ─┘

Each branch is an object with the small interface of :class:`~cryvideo.models.branches.Branch`.
Until trained models exist in ``saved_models/``, a branch is an
:class:`~cryvideo.models.branches.UntrainedBranch`: its output is uniform and is labelled
``trained: false`` everywhere it is shown, never passed off as a result.

This module only runs the stages; the settings are :class:`.settings.PredictSettings`, the models
are loaded by :mod:`.loading`, the cry gate (and the one decode of the video it shares with the
face branch) is :mod:`.gate`, the answer's types are in :mod:`.result`, fusion is
:func:`cryvideo.models.fusion.fuse`.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Sequence

import numpy as np

from ..detection.summary import SHOWN_SEGMENTS
from ..errors import InputFileError
from ..media import MediaInfo, probe
from ..media.probe import short_decode_note
from ..models.branches import Branch
from ..models.fusion import fuse
from ..progress import Progress
from .face import NO_FACE_MODEL, FaceStage
from .gate import cry_gate
from .loading import CRY_DETECTORS, load_models
from .result import (
    BranchResult,
    CryVerdict,
    FileRun,
    PredictionResult,
    held_out,
    probabilities,
    trust,
    trust_note,
)
from .settings import DEFAULT_ANALYSIS_FPS, PredictSettings
from .spans import read_spans, shared_probabilities

__all__ = ["NO_FACE_MODEL", "Predictor", "PredictSettings", "MIN_DURATION",
           "DEFAULT_ANALYSIS_FPS", "CRY_DETECTORS", "WOULD_ANSWER_SECONDS",
           "would_answer_spans", "spans_text"]

#: Inputs shorter than this (seconds) are refused: too short to say anything.
MIN_DURATION = 0.5
#: With no crying, the reason branches say what they would answer if it were a cry from this
#: many seconds around the detector's highest score (their clip length), unless the face vetoed
#: what the sound heard: then from those segments.
WOULD_ANSWER_SECONDS = 7.0


class Predictor:
    """Loads the models once and predicts file after file.

    Models come from the settings' ``models_dir`` (default:
    :func:`cryvideo.models.store.default_models_dir`, i.e. ``$CRYVIDEO_MODELS_DIR`` or
    ``saved_models/``):

    - ``face_head.keras`` (+ card naming its backbone): the face branch. Without it the face
      branch only reports the share of frames with a face (:data:`NO_FACE_MODEL`); an untrained
      head's output is never shown as a result.
    - ``fusion.keras`` (+ card listing its branches): the concatenate fusion. Its card says which
      audio branches it was trained with (``video_audio_*.keras`` files of the same folder, or
      the default audio branches). Without it, a clearly labelled fallback (mean of the trained
      branches that share one label set) is used.

    Parameters
    ----------
    settings : PredictSettings, optional
        Every setting of ``predict`` (default: ``PredictSettings()``).
    audio_branches : sequence of Branch, optional
        Default: those the fusion card names, else
        :func:`cryvideo.models.branches.default_audio_branches`.
    progress : callable, optional
        ``progress(stage, done, total)`` callback.
    **overrides
        Fields of :class:`PredictSettings` to set (``Predictor(fps=10)`` is
        ``Predictor(PredictSettings(fps=10))``).

    Raises
    ------
    ParameterError
        A setting out of its range (see :class:`PredictSettings`).

    Examples
    --------
    >>> from cryvideo.pipeline import Predictor, PredictSettings
    >>> p = Predictor(PredictSettings(fps=10))           # doctest: +SKIP
    >>> p = Predictor(fps=10)          # the same, as keywords  # doctest: +SKIP
    >>> res = p.predict("clip.mp4")                      # doctest: +SKIP
    >>> res.label, res.probabilities                     # doctest: +SKIP
    """

    def __init__(self, settings: PredictSettings | None = None, *,
                 audio_branches: Sequence[Branch] | None = None,
                 progress: Progress | None = None, **overrides) -> None:
        settings = PredictSettings() if settings is None else settings
        self.settings = dataclasses.replace(settings, **overrides) if overrides else settings
        self.progress = progress
        m = load_models(self.settings, audio_branches=audio_branches)
        self.models_dir = m.models_dir
        #: Sentences for the output about models taken from elsewhere than ``models_dir``.
        self.model_notes = m.notes
        self.cry_detector, self.cry_detector_name = m.cry_detector, m.cry_detector_name
        self.face_model, self.window = m.face_model, m.window
        self.fusion, self.fusion_card = m.fusion, m.fusion_card
        self.audio_branches, self.labels = m.audio_branches, m.labels
        self.face_stage = FaceStage(self.face_model, self.settings, window=self.window,
                                    models_dir=self.models_dir, progress=progress)

    @property
    def fps(self) -> float:
        """The face branch's analysis rate (read only: the settings are made once)."""
        return self.settings.fps

    # -- stages: each reads the file's run and adds to it ---------------------------------
    def _audio(self, run: FileRun, crying: CryVerdict | None) -> float:
        """Run the reason branches on the crying segments (the whole track without a gate),
        reading only those spans; with no crying, on what they would answer if it were a cry
        (:func:`would_answer_spans`). Returns the seconds of audio read."""
        if not run.info.has_audio:
            run.notes.append("no audio track: audio branches skipped")
            run.results += [BranchResult(br.name, used=False, source=br.source,
                                         note="no audio track") for br in self.audio_branches]
            return 0.0
        t0 = time.perf_counter()
        if crying is None:
            segments, spans = None, [(0.0, run.info.duration or np.inf)]
        elif crying.detected:
            segments = spans = crying.segments
        else:
            segments = spans = would_answer_spans(crying.result)
        read = 0.0
        for br, (p, seconds) in zip(self.audio_branches, self._read_branches(run, spans),
                                    strict=True):
            if seconds == 0:
                raise InputFileError("no audio samples could be decoded", path=run.path)
            read = max(read, seconds)
            details = held_out(getattr(br, "card", None))
            details["segments_used"] = ("whole track" if segments is None
                                        else [[a, b] for a, b in segments])
            details["seconds_used"] = round(seconds, 2)
            run.results.append(BranchResult(br.name, used=True, trained=br.trained,
                                            probabilities=probabilities(br.labels, p),
                                            source=br.source, details=details))
        if crying is not None and crying.detected:
            run.notes.append("the reason branches read the crying only: "
                             + spans_text(segments))
        elif crying is not None:
            whence = ("the segments the face vetoed" if crying.vetoed else
                      f"the {WOULD_ANSWER_SECONDS:g} s around the highest cry score")
            run.notes.append("no reason given; the probabilities say what the reason branches "
                             f"would answer if it were a cry, from {whence}: "
                             + spans_text(segments))
        run.timings["audio"] = round(time.perf_counter() - t0, 3)
        return read

    def _read_branches(self, run: FileRun, spans) -> list[tuple[np.ndarray, float]]:
        """Every audio branch's probabilities and seconds read over ``spans``: the spans are
        decoded once per sample rate, and the branches of that rate share the pieces."""
        by_rate: dict[int, list[int]] = {}
        for i, br in enumerate(self.audio_branches):
            by_rate.setdefault(br.sr, []).append(i)
        out: list = [None] * len(self.audio_branches)
        for sr, idx in by_rate.items():
            pieces = read_spans(run.path, spans, sr=sr, info=run.info)
            for i, res in zip(idx, shared_probabilities(
                    [self.audio_branches[i] for i in idx], pieces), strict=True):
                out[i] = res
        return out

    def _audio_for_report(self, run: FileRun) -> None:
        """The recording pooled to the width of a page (waveform, spectrogram, MFCCs), read
        block by block: its memory does not grow with the length."""
        if not (self.settings.keep_artifacts and run.info.has_audio):
            return
        from ..audio.overview import OVERVIEW_PARAMS, audio_overview
        from ..media import iter_audio_blocks

        t0 = time.perf_counter()
        run.art["overview"] = audio_overview(iter_audio_blocks(
            run.path, sr=OVERVIEW_PARAMS.sr, block_seconds=60.0, info=run.info))
        run.timings["report_audio"] = round(time.perf_counter() - t0, 3)

    # -- public ----------------------------------------------------------------------------
    def predict(self, path: str | os.PathLike, info: MediaInfo | None = None
                ) -> PredictionResult:
        """Analyse one audio or video file (``info``: its probe, when the caller has one).

        Raises
        ------
        InputFileError
            Missing/empty/undecodable file, or shorter than :data:`MIN_DURATION`.
        """
        t_all = time.perf_counter()
        info = probe(path) if info is None else info
        run = FileRun(path, info, notes=list(self.model_notes),
                   timings={"probe": round(time.perf_counter() - t_all, 3)})
        if info.duration is not None and info.duration < MIN_DURATION:
            raise InputFileError(
                f"too short ({info.duration:.2f} s; need at least {MIN_DURATION} s)", path=path)
        face_run = FileRun(path, info, notes=[], timings={})
        crying, gate_seconds, face = cry_gate(self.cry_detector, self.cry_detector_name, run,
                                              face_stage=self.face_stage, face_run=face_run)
        read = self._audio(run, crying)
        self._audio_for_report(run)
        if face is None:
            self.face_stage(face_run)
        elif face.error is not None:
            raise face.error
        run.add(face_run)
        decoded = [gate_seconds, read] + [b.details["frames"] / b.details["fps"]
                                          for b in run.results
                                          if "frames" in b.details and b.details.get("fps")]
        decoded = [x for x in decoded if x]
        short = short_decode_note(max(decoded) if decoded else None, info.duration)
        if short:
            run.notes.insert(len(self.model_notes), short)
        used = [b for b in run.results if b.used]
        no_cry = crying is not None and not crying.detected
        if not used:
            why = "; ".join(dict.fromkeys(b.note for b in run.results if b.note)) or "no branch"
            raise InputFileError(f"nothing to analyse ({why})", path=path)
        t0 = time.perf_counter()
        p, how, pool = fuse(used, self.labels, model=self.fusion, specs=(
            self.fusion_card.inputs["branches"] if self.fusion is not None else None))
        run.timings["fusion"] = round(time.perf_counter() - t0, 3)
        probs = probabilities(self.labels, p)
        run.timings["total"] = round(time.perf_counter() - t_all, 3)
        trained = any(b.trained for b in pool)
        if not trained:
            run.notes.append("UNTRAINED: no trained model was used; these probabilities mean "
                             "nothing")
        note = trust_note([b for b in pool if b.trained], len(self.labels))
        if note:
            run.notes.append(note)
        return PredictionResult(
            path=os.fspath(path), label=None if no_cry or not probs else max(probs, key=probs.get),
            probabilities=probs, trained=trained, modalities=[b.name for b in pool],
            branches=run.results, fusion=how, timings=run.timings, notes=run.notes,
            media=info.to_dict(), crying=crying, trust=trust(pool, len(self.labels)),
            artifacts=run.art)


def would_answer_spans(det) -> list[list[float]]:
    """Where the reason branches listen when the detector found no crying, to say what they
    would answer if it were a cry: the segments the face vetoed (the sound heard crying there),
    else :data:`WOULD_ANSWER_SECONDS` around the window of highest cry score (the recording's
    most cry-like moment; all of it when shorter)."""
    vetoed = [[round(v.start, 2), round(v.end, 2)] for v in det.face_verdicts
              if v.decision == "veto"]
    if vetoed:
        return vetoed
    duration = float(det.duration)
    if duration <= WOULD_ANSWER_SECONDS or not len(det.window_times):
        return [[0.0, round(duration, 2)]]
    peak = float(det.window_times[int(np.argmax(det.window_probs))])
    start = min(max(0.0, peak - WOULD_ANSWER_SECONDS / 2), duration - WOULD_ANSWER_SECONDS)
    return [[round(start, 2), round(start + WOULD_ANSWER_SECONDS, 2)]]


def spans_text(spans, *, most: int = SHOWN_SEGMENTS) -> str:
    """``0.0–2.9 s, 4.8–7.7 s``: at most ``most`` spans, then how many more and their total."""
    shown = ", ".join(f"{a:.1f}–{b:.1f} s" for a, b in spans[:most])
    if len(spans) <= most:
        return shown or "none"
    rest = spans[most:]
    return (f"{shown} and {len(rest)} more ({sum(b - a for a, b in spans):.0f} s in "
            f"{len(spans)} segments)")
