"""The audio-visual cry verdict: the sound finds crying, the infant's face may veto it.

The audio detector's crying segments are the candidates. For each one, the face cue
(:mod:`.face_cue`) reads the faces in the video over that segment, and the rule below decides:

- **veto** — the child's face (and every other persistent face) is *visibly happy through the
  segment*: the segment is dropped, and the output says the face decided and why;
- **audio** — anything else (no face, too few face frames, a face that is not clearly happy):
  the sound decides alone, as it would without a video.

The rule is conservative on purpose: a veto that silences a real cry is the worse error. Its
constants were fixed by principle before any result was seen, are written in the verdict's card
(``saved_models/face_verdict.json``, read by :func:`load_rule`) and are never tuned. Why each
constant has its value is in the card and in docs/face_fusion.md.

The face may also *confirm* a weak audio cry (distress on the face under a window just below the
threshold). That part is not shipped: it can only be measured on labelled infant videos, and we
have none (see the card's ``confirm`` entry).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from ..errors import InputFileError, ModelError, ParameterError
from ..media import Frame, MediaInfo
from ..media.frames import FrameSpan
from ..progress import Progress
from ..vision.expression import distress, happy
from .backends import FACE_MODES, check_face_mode
from .face_cue import ZERO_SHOT_NOTE, FaceCue, SpanFaces, mean_expression
from .result import DetectionResult

__all__ = ["VerdictRule", "SegmentVerdict", "decide", "load_rule", "AudioVisualDetector",
           "load_face_cue", "with_face", "check_face_mode", "face_lines", "FACE_MODES", "RULE_KIND"]

#: ``kind`` of the verdict's card.
RULE_KIND = "cry-verdict/audio-visual-rule"


@dataclasses.dataclass(frozen=True)
class VerdictRule:
    """The constants of the audio-visual verdict (from its card; see docs/face_fusion.md).

    Attributes
    ----------
    fps : float
        Frames sampled per second of a segment.
    margins : tuple of float
        Crop margins the expressions are read under; the veto needs every one.
    smoothing : int
        Rolling-average window, face frames.
    max_side : int
        Longest side of the analysed frames, pixels.
    happy_min : float
        A face frame is happy when its smoothed P(happy) is at least this ...
    happy_over_distress : float
        ... and at least this many times P(angry + disgust + fear + sad).
    min_face_frames : int
        The child's face must be seen in at least this many sampled frames ...
    min_face_share : float
        ... and in at least this share of the segment's sampled frames.
    min_happy_share : float
        Share of the face frames that must be happy, for every persistent face and margin.
    """

    fps: float = 4.0
    margins: tuple = (0.1, 0.25)
    smoothing: int = 4
    max_side: int = 640
    happy_min: float = 0.5
    happy_over_distress: float = 2.0
    min_face_frames: int = 4
    min_face_share: float = 0.5
    min_happy_share: float = 2 / 3

    def __post_init__(self) -> None:
        ints = (self.smoothing, self.min_face_frames, self.max_side)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in ints) or any(
                isinstance(v, bool) for v in (self.fps, self.happy_min, self.min_face_share)):
            raise ParameterError(f"invalid audio-visual verdict rule: {self}")
        ok = (0 < self.fps <= 30 and self.margins and all(0 <= m <= 1 for m in self.margins)
              and self.smoothing >= 1 and self.max_side >= 64 and 0 < self.happy_min <= 1
              and self.happy_over_distress >= 1 and self.min_face_frames >= 1
              and 0 < self.min_face_share <= 1 and 0 < self.min_happy_share <= 1)
        if not ok:
            raise ParameterError(f"invalid audio-visual verdict rule: {self}")

    @classmethod
    def from_dict(cls, d: dict) -> VerdictRule:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ParameterError(f"unknown verdict rule constants: {sorted(unknown)}")
        d = dict(d)
        if "margins" in d:
            d["margins"] = tuple(float(m) for m in d["margins"])
        return cls(**d)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["margins"] = list(self.margins)
        return d


@dataclasses.dataclass(frozen=True)
class SegmentVerdict:
    """How one audio segment was decided.

    Attributes
    ----------
    start, end : float
        The audio segment, seconds.
    decision : {"veto", "audio"}
        ``veto``: the face overruled the sound (the segment is not crying); ``audio``: the
        sound decided alone.
    reason : str
        One sentence: on what evidence.
    frames : int
        Sampled frames of the segment.
    frames_with_face : int
        Those in which the child's face was found.
    faces : int
        Persistent faces in the segment (the child's and any other).
    happy_share : float or None
        Lowest share of happy face frames over persistent faces and crop margins.
    mean_expression : dict or None
        The child's mean smoothed expression (first crop margin).
    """

    start: float
    end: float
    decision: str
    reason: str
    frames: int = 0
    frames_with_face: int = 0
    faces: int = 0
    happy_share: float | None = None
    mean_expression: dict | None = None

    @property
    def decided_by(self) -> str:
        return "face" if self.decision == "veto" else "audio"

    def to_dict(self) -> dict:
        return {"start": round(self.start, 2), "end": round(self.end, 2),
                "decision": self.decision, "decided_by": self.decided_by,
                "reason": self.reason, "frames": self.frames,
                "frames_with_face": self.frames_with_face, "faces": self.faces,
                "happy_share": None if self.happy_share is None else round(self.happy_share, 3),
                "mean_expression": self.mean_expression}


def _happy_share(probs: np.ndarray, rule: VerdictRule) -> float:
    h, d = happy(probs), distress(probs)
    is_happy = (h >= rule.happy_min) & (h >= rule.happy_over_distress * d)
    return float(is_happy.mean()) if len(is_happy) else 0.0


def decide(span: SpanFaces, rule: VerdictRule) -> SegmentVerdict:
    """The verdict on one audio segment from what the faces showed over it (see the module)."""
    base = {"start": span.start, "end": span.end, "frames": span.n_frames,
            "frames_with_face": span.frames_with_face}
    if span.n_frames == 0:
        return SegmentVerdict(**base, decision="audio",
                              reason="no video frame in this segment: the sound decides alone")
    if span.child is None:
        return SegmentVerdict(**base, decision="audio",
                              reason="no face seen: the sound decides alone")
    tracks = [span.child, *span.others]
    child_mean = mean_expression(span.child.probs[rule.margins[0]])
    share = min(_happy_share(t.probs[m], rule) for t in tracks for m in rule.margins)
    base.update(faces=len(tracks), happy_share=share, mean_expression=child_mean)
    seen = span.frames_with_face
    # the segment's frames are those its span holds at the rule's rate, decoded or not (a
    # picture that ends part-way through the segment does not shrink the segment)
    frames = max(span.n_frames, int(round((span.end - span.start) * rule.fps)))
    if seen < rule.min_face_frames or seen < rule.min_face_share * frames:
        return SegmentVerdict(**base, decision="audio", reason=(
            f"face seen in {seen} of {frames} frames, too few to judge: the sound "
            "decides alone"))
    if share >= rule.min_happy_share:
        who = "the face" if len(tracks) == 1 else f"all {len(tracks)} faces"
        return SegmentVerdict(**base, decision="veto", reason=(
            f"{who} visibly happy through the segment (happy in {share:.0%} of face frames, "
            f"P(happy) {child_mean['happy']:.2f}): not crying"))
    return SegmentVerdict(**base, decision="audio", reason=(
        f"face not clearly happy (happy in {share:.0%} of face frames): the sound decides"))


def load_rule(models_dir: str | os.PathLike | None = None) -> tuple[VerdictRule, dict]:
    """The verdict rule and its card, from ``face_verdict.json`` in the models folder (the
    bundled one when the folder has none).

    Raises
    ------
    ModelError
        The card is missing, unreadable, of another kind, or its rule is invalid.
    """
    from ..models.store import FACE_VERDICT_CARD, bundled_models_dir, default_models_dir

    root = Path(models_dir) if models_dir is not None else default_models_dir()
    path = root / FACE_VERDICT_CARD
    if not path.is_file():
        path = bundled_models_dir() / FACE_VERDICT_CARD
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
        if card.get("kind") != RULE_KIND:
            raise ModelError(f"not an audio-visual verdict card (kind {card.get('kind')!r})",
                             path=path)
        return VerdictRule.from_dict(card["rule"]), card
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ModelError(f"audio-visual verdict card unreadable ({exc})", path=path) from None


def load_face_cue(rule: VerdictRule, *, finder: str = "auto",
                  yunet: str | os.PathLike | None = None,
                  expression_model: str | os.PathLike | None = None) -> FaceCue:
    """The face cue the rule asks for: YuNet (else the Haar cascade) and the expression model.

    Raises
    ------
    WeightsNotFoundError
        The expression model (or YuNet, with ``finder="yunet"``) is not found.
    """
    from ..vision.expression import load_expression_model
    from ..vision.face_finders import load_face_finder

    model = load_expression_model(expression_model)
    found, note = load_face_finder(finder, path=yunet)
    return FaceCue(found, model, fps=rule.fps, margins=rule.margins, smoothing=rule.smoothing,
                   max_side=rule.max_side, finder_note=note)


class AudioVisualDetector:
    """An audio detector whose crying segments the infant's face may veto (see the module).

    Implements the :class:`~cryvideo.detection.base.Detector` protocol. It takes files itself
    (``streams_files``): an audio detector that does not stream is given the file's 16 kHz
    waveform. On audio files and videos without a video stream it answers as the audio
    detector does, and says the face was not used.

    Parameters
    ----------
    audio : detector
        Any cry detector (:func:`cryvideo.detection.load_detector`).
    cue : FaceCue
    rule : VerdictRule
    card : dict, optional
        The rule's card (its name travels with every answer).
    """

    def __init__(self, audio, cue: FaceCue | None, rule: VerdictRule, *,
                 card: dict | None = None, unavailable: str | None = None) -> None:
        if cue is None and not unavailable:
            raise ParameterError("an audio-visual detector without a face cue must say why")
        self.audio, self.cue, self.rule = audio, cue, rule
        #: The verdict rule's card (a dict).
        self.rule_card = card or {}
        #: Why the face cannot be used at all (its model was not found), or None.
        self.unavailable = unavailable
        self.name: str = f"{audio.name}+face"
        self.threshold: float = audio.threshold
        self.streams_files: bool = True

    @property
    def card(self):
        """The audio detector's model card (what answered for the sound)."""
        return getattr(self.audio, "card", None)

    @property
    def face_models(self) -> dict[str, str]:
        """``{file name: sha256}`` of the face models loaded (none when unavailable)."""
        if self.cue is None:
            return {}
        from ..weights import KNOWN_WEIGHTS

        names = ["fer_expression"] + (["yunet"] if self.cue.finder_name == "yunet" else [])
        return {KNOWN_WEIGHTS[n]["file"]: KNOWN_WEIGHTS[n]["sha256"] for n in names}

    def describe(self) -> dict:
        """What looks at the faces (the finder, the expression model, the rule)."""
        if self.cue is None:
            return {"rule": self.rule_card.get("name", "face_verdict"), "note": ZERO_SHOT_NOTE}
        return {**self.cue.describe(), "rule": self.rule_card.get("name", "face_verdict")}

    def detect(self, source, *, sr: int | None = None, info: MediaInfo | None = None,
               progress: Progress | None = None) -> DetectionResult:
        """Detect crying (the audio detector), then let the face decide on each segment
        (``info``: the file's probe, when the caller has one; the file is probed once).

        A Ctrl-C during the audio part carries the audio detector's partial result, unjudged
        (``face.used`` False, saying why)."""
        if isinstance(source, str | os.PathLike) and info is None:
            from ..media import probe

            info = probe(source)
        res = self.detect_sound(source, sr=sr, info=info, progress=progress)
        return self.judge(res, source, info=info, progress=progress)

    def detect_sound(self, source, *, sr: int | None = None, info: MediaInfo | None = None,
                     progress: Progress | None = None) -> DetectionResult:
        """The audio detector's answer, not judged yet: the first half of :meth:`detect`
        (:meth:`judge` is the second)."""
        from .base import takes_info

        audio_in, kw = source, {}
        if isinstance(source, str | os.PathLike):
            if not self.audio.streams_files:
                from ..media import load_audio

                audio_in, sr = load_audio(source, sr=16000, info=info), 16000
            elif info is not None and takes_info(self.audio):
                kw["info"] = info
        try:
            res = self.audio.detect(audio_in, sr=sr, progress=progress, **kw)
        except KeyboardInterrupt as exc:
            part = getattr(exc, "partial", None)
            if part is not None:
                exc.partial = dataclasses.replace(part, face={
                    **self.describe(), "used": False,
                    "why": "interrupted before the face was looked at"})
            raise
        if isinstance(source, str | os.PathLike):
            res = dataclasses.replace(res, path=os.fspath(source))
        return res

    def _unused(self, source, info: MediaInfo | None) -> tuple[str | None, MediaInfo | None]:
        """Why the face is not looked at (None when it is), and the file's probe."""
        if self.unavailable:
            return self.unavailable, info
        if not isinstance(source, str | os.PathLike):
            return "a waveform has no video", info
        if info is None:
            from ..media import probe

            info = probe(source)
        if not info.has_video:
            return "no video stream: the sound decides alone", info
        return None, info

    def frame_spans(self, res: DetectionResult, source, *,
                    info: MediaInfo | None = None) -> list[FrameSpan]:
        """What :meth:`judge` decodes of ``source``: one span per segment of the sound's
        result (none when the face is not looked at)."""
        why, _ = self._unused(source, info)
        if why is not None:
            return []
        return [self.cue.frame_span(a, b) for a, b in res.segments]

    def judge(self, res: DetectionResult, source, *, info: MediaInfo | None = None,
              frames: Sequence[Iterable[Frame]] | None = None,
              progress: Progress | None = None) -> DetectionResult:
        """Apply the face verdict to an audio detector's result on ``source``
        (``progress("faces", segments done, segments)``).

        Parameters
        ----------
        info : MediaInfo, optional
            The file's probe, when the caller has one.
        frames : sequence of iterables of Frame, optional
            The frames of each segment, as :meth:`frame_spans` describes them, when the caller
            decodes them (e.g. in one process with the video's other needs); default: decoded
            here, the segments together (:class:`~cryvideo.media.span_frames.SpanFrames`).
        """
        face = self.describe()
        why, info = self._unused(source, info)
        if why is not None:
            face.update(used=False, why=why)
            return dataclasses.replace(res, face=face)
        if frames is None:
            from ..media.span_frames import SpanFrames

            with SpanFrames(source, self.frame_spans(res, source, info=info),
                            info=info) as decoded:
                return self._judged(res, source, info, decoded, face, progress)
        return self._judged(res, source, info, frames, face, progress)

    def _judged(self, res: DetectionResult, source, info: MediaInfo, frames, face: dict,
                progress: Progress | None) -> DetectionResult:
        """The verdict on each segment, from its frames."""
        verdicts, spans = [], []
        for k, (a, b) in enumerate(res.segments):
            try:
                span = self.cue.look(source, a, b, info=info, frames=frames[k])
                verdict = decide(span, self.rule)
            except InputFileError as exc:  # a broken picture never costs the sound's answer
                span = SpanFaces(a, b, np.zeros(0), np.zeros(0, np.int64))
                verdict = SegmentVerdict(a, b, "audio", (
                    f"the video could not be decoded over this segment ({exc.message}): the "
                    "sound decides alone"))
            spans.append(span)
            verdicts.append(verdict)
            if progress is not None:
                progress("faces", k + 1, len(res.segments))
        kept = [(v.start, v.end) for v in verdicts if v.decision != "veto"]
        face.update(used=True, segments=[v.to_dict() for v in verdicts])
        crying = bool(kept) if res.segments else bool(res.crying)
        return dataclasses.replace(res, segments=kept, crying=crying, face=face,
                                   face_verdicts=verdicts, face_spans=spans)


def with_face(detector, mode: str = "auto", *, models_dir: str | os.PathLike | None = None
              ) -> tuple:
    """``detector`` wrapped in the audio-visual verdict as ``mode`` asks, and notes for the
    output.

    Parameters
    ----------
    detector : Detector
        An audio detector.
    mode : {"auto", "on", "off"}
        ``off``: the detector as it is. ``auto``: wrapped when the expression model is found
        (else as it is, with a note). ``on``: wrapped, or WeightsNotFoundError.
    models_dir : path, optional
        Where the verdict's card is looked for first.

    Returns
    -------
    (Detector, list of str)
    """
    from ..errors import WeightsNotFoundError

    if check_face_mode(mode) == "off":
        return detector, []
    rule, card = load_rule(models_dir)
    try:
        cue = load_face_cue(rule)
    except WeightsNotFoundError as exc:
        if mode == "on":
            raise
        why = f"the face-expression model was not found: {exc.message}"
        return (AudioVisualDetector(detector, None, rule, card=card, unavailable=why),
                [f"the face was not used: {exc.message}"])
    notes = [cue.finder_note] if cue.finder_note else []
    return AudioVisualDetector(detector, cue, rule, card=card), notes


def face_lines(face: dict | None, *, shown: int | None = None,
               moment: Callable[[float], str] | None = None) -> list[str]:
    """Text lines (indented two spaces) saying what the face said about each audio segment,
    from a result's ``face`` dict (none with ``--face off`` or without the expression model).

    Parameters
    ----------
    shown : int, optional
        List this many segments, then count the others (default: all).
    moment : callable, optional
        How a moment is written (e.g. :func:`~cryvideo.media.probe.format_clock`); default
        ``12.3`` seconds, the span followed by ``s``.
    """
    if face is None:
        return []
    if not face.get("used"):
        return [] if face.get("why", "").startswith("the face-expression model") else [
            f"  face: not used ({face.get('why', 'no video')})"]
    lines = []
    verdicts = face.get("segments") or []
    for v in verdicts[:shown]:
        who = "vetoed by the face" if v["decision"] == "veto" else "sound decided"
        span = (f"{v['start']:.1f}–{v['end']:.1f} s" if moment is None
                else f"{moment(v['start'])}–{moment(v['end'])}")
        lines.append(f"  face {span}: {who}: {v['reason']}")
    rest = verdicts[len(verdicts[:shown]):]
    if rest:
        vetoed = sum(v["decision"] == "veto" for v in rest)
        lines.append(f"  face: … {len(rest)} more segments ({vetoed} of them vetoed; see --json "
                     "or --csv)")
    lines.append(f"  face: {face['face_finder']} faces, {face['note']}")
    return lines
