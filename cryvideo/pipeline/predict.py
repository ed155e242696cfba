"""``predict``: one media file in, a cry reason with probabilities out.

The data flow (see the design notes)::

    file ─probe─┬─ audio ─ features ─┬─ MFCC branch ─ p_mfcc ─┐
                │                    └─ STFT branch ─ p_stft ─┼─ fusion ─ label, probabilities
                └─ frames ─ faces ─ backbone ─ head ─ rolling avg ─ p_face ─┘

Each branch is an object with the small interface of :class:`Branch`. Until trained models exist
in ``saved_models/``, a branch is an :class:`UntrainedBranch`: its output is uniform and is labelled
``trained: false`` everywhere it is shown, never passed off as a result.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from ..data.donateacry import DONATEACRY_CLASSES
from ..errors import InputFileError, ParameterError
from ..media import DEFAULT_MAX_SIDE, MediaInfo, iter_frames, load_audio, probe
from ..media.probe import short_decode_note

__all__ = [
    "Branch",
    "BranchResult",
    "NO_FACE_MODEL",
    "PredictionResult",
    "Predictor",
    "UntrainedBranch",
    "MIN_DURATION",
    "DEFAULT_ANALYSIS_FPS",
]

#: Inputs shorter than this (seconds) are refused: too short to say anything.
MIN_DURATION = 0.5
#: Default analysis frame rate of ``predict`` (the paper's 30 fps is available with ``--fps 30``;
#: see docs/face_fusion.md and benchmarks/results/predict.md for why 5 fps is the default).
DEFAULT_ANALYSIS_FPS = 5.0
#: Cry detectors :class:`Predictor` can ask before giving a reason (``cryvideo.detection``).
CRY_DETECTORS = ("yamnet-cry", "cnn10", "yamnet-zeroshot")
#: The CNN10 file ``predict`` prefers for its cry gate (next to ``cry_detector.keras``): the
#: dynamic-range TFLite twin scores like the float model and starts ~40× faster.
GATE_DETECTOR = "cry_detector_dynamic.tflite"
#: What the face branch says when no trained face head is available.
NO_FACE_MODEL = "no trained face model: face branch reports face share only"


class Branch(Protocol):
    """What the pipeline needs of an audio branch."""

    name: str
    labels: Sequence[str]
    trained: bool
    source: str  # card path, or a description of a placeholder
    sr: int

    def predict_proba(self, y: np.ndarray) -> np.ndarray:
        """Class probabilities ``(n_classes,)`` for a raw mono waveform at ``sr``."""


@dataclasses.dataclass
class UntrainedBranch:
    """Placeholder branch: uniform probabilities, always reported as untrained."""

    name: str
    labels: Sequence[str] = DONATEACRY_CLASSES
    sr: int = 8000
    trained: bool = False
    source: str = "untrained placeholder (no model file)"

    def predict_proba(self, y: np.ndarray) -> np.ndarray:
        return np.full(len(self.labels), 1.0 / len(self.labels), dtype=np.float32)


def _held_out(card) -> dict:
    """A branch card's held-out (grouped CV) balanced accuracy, for the output: ``{}`` when
    the card records none."""
    try:
        m = card.metrics["balanced_accuracy"]
        if "estimate" in m:  # pooled out-of-fold estimate with its group-bootstrap interval
            value, ci = m["estimate"], (m["low"], m["high"])
        else:  # mean over folds with its interval (a card from train-audio's own CV)
            value, ci = m["mean"], m["ci95"]
        return {"held_out_balanced_accuracy": round(float(value), 3),
                "held_out_ci95": [round(float(x), 3) for x in ci],
                "held_out_protocol": str(card.metrics.get("protocol", "grouped CV"))}
    except (AttributeError, KeyError, TypeError, ValueError, IndexError):
        return {}


def _trust_note(branches: list, n_classes: int) -> str | None:
    """One line saying how well the answering branches did on held-out data, against chance."""
    known = [b for b in branches if "held_out_balanced_accuracy" in b.details]
    if not known:
        return None
    chance = 1.0 / max(1, n_classes)
    at_chance = all(b.details["held_out_ci95"][0] <= chance for b in known)
    figs = ", ".join(f"{b.name} {b.details['held_out_balanced_accuracy']:.2f}" for b in known)
    return (f"how far to trust the reason: on held-out recordings (grouped CV) these models "
            f"score balanced accuracy {figs}; chance is {chance:.2f}"
            + (" -- no better than chance: a weak hint at best, never a diagnosis"
               if at_chance else ""))


@dataclasses.dataclass
class BranchResult:
    """What one branch said about one file."""

    name: str
    used: bool
    trained: bool = False
    probabilities: dict[str, float] | None = None
    source: str = ""
    note: str = ""
    details: dict = dataclasses.field(default_factory=dict)

    @property
    def label(self) -> str | None:
        if not self.probabilities:
            return None
        return max(self.probabilities, key=self.probabilities.get)


@dataclasses.dataclass
class PredictionResult:
    """The answer for one file.

    Attributes
    ----------
    path : str
    label : str or None
        Most likely reason (None if nothing could be analysed).
    probabilities : dict
        Probability of every class.
    trained : bool
        False when the answer comes only from untrained placeholders: then it is not a result.
    modalities : list of str
        Branches that contributed (``mfcc``, ``stft``, ``face``).
    branches : list of BranchResult
    fusion : str
        How the branch outputs were combined.
    timings : dict
        Seconds per stage.
    notes : list of str
        Things the user should know (no audio track, no face found, …).
    media : dict
        Probe result.
    crying : dict or None
        The cry detector's verdict, asked before any reason is given: ``detected``,
        ``probability``, ``threshold``, ``segments`` (seconds) and ``detector``. ``None`` when the
        gate is off or there is no audio. When ``detected`` is False, ``label`` is None (the
        probabilities are still reported: what the reason branches would say if it were a cry).
    """

    path: str
    label: str | None
    probabilities: dict[str, float]
    trained: bool
    modalities: list[str]
    branches: list[BranchResult]
    fusion: str
    timings: dict[str, float]
    notes: list[str]
    media: dict
    crying: dict | None = None
    #: Arrays kept for reports (waveform, face thumbnails, per-frame predictions); not in JSON.
    artifacts: dict = dataclasses.field(default_factory=dict, repr=False)

    def to_dict(self) -> dict:
        art, self.artifacts = self.artifacts, {}
        try:
            d = dataclasses.asdict(self)
        finally:
            self.artifacts = art
        d.pop("artifacts", None)
        for b, br in zip(d["branches"], self.branches, strict=True):
            b["label"] = br.label
        return d


#: Longest piece of audio decoded at once for the reason branches (seconds): a day-long
#: recording is read span by span, never whole.
SPAN_SECONDS = 600.0
#: Recordings longer than this (seconds) get no waveform in the HTML report.
REPORT_WAVEFORM_MAX_SECONDS = 3600.0


def read_spans(path, spans, *, sr: int, info: MediaInfo,
               max_seconds: float = SPAN_SECONDS):
    """Decode only ``spans`` of a file, each in pieces of at most ``max_seconds``.

    Parameters
    ----------
    spans : sequence of (float, float)
        Start and end, seconds (the end may be ``inf``: to the end of the file).

    Yields
    ------
    np.ndarray [shape=(n,), dtype=float32]
        The samples of each piece, in order. A span ends early where the file does (a damaged
        file, or a header that claims more than it holds).
    """
    for a, b in spans:
        t = float(a)
        while t < b - 1e-6:
            d = min(float(b) - t, max_seconds)
            try:
                y = load_audio(path, sr=sr, offset=t, duration=d, info=info)
            except InputFileError:
                if t > a:          # past the end of what the file really holds
                    break
                raise
            if y.size:
                yield y
            if y.size < (d - 1.0) * sr:   # the file ended inside this piece
                break
            t += d


def _branch_probabilities(br, pieces) -> tuple[np.ndarray, float]:
    """A branch's probabilities over pieces of audio: the mean over all their analysis windows
    (a branch without windows: the mean of its answers, weighted by length). Returns the
    probabilities and the seconds read."""
    windows, weighted, seconds = [], [], 0.0
    for y in pieces:
        seconds += y.size / br.sr
        if hasattr(br, "predict_windows"):
            windows.append(br.predict_windows(y))
        else:
            weighted.append((br.predict_proba(y), y.size))
    if windows:
        p = np.concatenate(windows).mean(axis=0)
    else:
        p = sum(q * n for q, n in weighted) / max(1, sum(n for _, n in weighted))
    p = np.asarray(p, dtype=np.float64)
    return (p / p.sum()).astype(np.float32), seconds


def _probs(labels: Sequence[str], p: np.ndarray) -> dict[str, float]:
    p = np.asarray(p, dtype=float).reshape(-1)
    if p.shape[0] != len(labels):
        raise ParameterError(f"branch returned {p.shape[0]} probabilities for {len(labels)} labels")
    return {str(lab): round(float(v), 6) for lab, v in zip(labels, p, strict=True)}


class Predictor:
    """Loads the models once and predicts file after file.

    Models come from ``models_dir`` (default: :func:`cryvideo.pipeline.models.default_models_dir`,
    i.e. ``$CRYVIDEO_MODELS_DIR`` or ``saved_models/``):

    - ``face_head.keras`` (+ card naming its backbone): the face branch. Without it the face
      branch only reports the share of frames with a face (:data:`NO_FACE_MODEL`); an untrained
      head's output is never shown as a result.
    - ``fusion.keras`` (+ card listing its branches): the concatenate fusion. Its card says which
      audio branches it was trained with (``video_audio_*.keras`` files of the same folder, or
      the default audio branches). Without it, a clearly labelled fallback (mean of the trained
      branches that share one label set) is used.

    Parameters
    ----------
    audio_branches : sequence of Branch, optional
        Default: those the fusion card names, else
        :func:`cryvideo.pipeline.models.default_audio_branches`.
    models_dir : path, optional
    fps : float
        Analysis frame rate for the face branch.
    max_side : int
        Frames are downscaled by ffmpeg so their longest side is at most this.
    use_face : bool
        Run the face branch on videos.
    window : int, optional
        Rolling-average window in frames (default: the face head card's, else 8).
    runtime : {"tflite", "keras"}
        How the frozen backbone runs (TFLite + XNNPACK is about twice as fast on CPUs).
    weights_path : path, optional
        Explicit backbone weights file/folder (else ``$CRYVIDEO_WEIGHTS_DIR``, Keras cache).
    use_fusion_model : bool
        Use ``fusion.keras`` when present (False: always the fallback).
    keep_artifacts : bool
        Keep waveform, face thumbnails and per-frame predictions for reports.
    progress : callable, optional
        ``progress(stage, done, total)`` callback.
    cry_detector : {"yamnet-cry", "cnn10", "yamnet-zeroshot", None} or detector object
        Asked first whether there is crying at all (see :data:`CRY_DETECTORS`); ``None`` turns
        the gate off. ``"yamnet-cry"`` (default) is the shipped YAMNet-based detector (from
        ``models_dir`` when it has one); ``"cnn10"`` the previous log-mel CNN10;
        ``"yamnet-zeroshot"`` YAMNet's own cry classes (needs ``yamnet.tflite``). An object
        needs ``detect(waveform, sr=...)`` returning a
        :class:`cryvideo.detection.DetectionResult`. The reason branches read only the crying
        segments it finds.
    """

    def __init__(
        self,
        *,
        audio_branches: Sequence[Branch] | None = None,
        models_dir: str | os.PathLike | None = None,
        fps: float = DEFAULT_ANALYSIS_FPS,
        max_side: int = DEFAULT_MAX_SIDE,
        use_face: bool = True,
        window: int | None = None,
        runtime: str = "tflite",
        weights_path: str | os.PathLike | None = None,
        use_fusion_model: bool = True,
        keep_artifacts: bool = False,
        progress: Callable[[str, int, int | None], None] | None = None,
        cry_detector: str | object | None = "yamnet-cry",
    ) -> None:
        from pathlib import Path

        from ..models.face_head import FACE_HEAD_FILE, FaceModel
        from ..models.fusion import FUSION_FILE
        from .models import check_models_dir, default_models_dir, find_model

        if fps is None or not 0 < float(fps) <= 240:  # NaN fails too
            raise ParameterError(f"fps must be in (0, 240], got {fps}")
        if window is not None and not int(window) >= 1:
            raise ParameterError(f"rolling-average window must be >= 1 frame, got {window}")
        self.models_dir = check_models_dir(
            Path(models_dir) if models_dir is not None else default_models_dir())
        #: Sentences for the output about models taken from elsewhere than ``models_dir``.
        self.model_notes: list[str] = []
        self.fps = float(fps)
        self.max_side = int(max_side)
        self.use_face = use_face
        self.keep_artifacts = keep_artifacts
        self.progress = progress
        self.cry_detector, self.cry_detector_name = self._load_cry_detector(cry_detector)

        self.face_model = None
        face_path, note = find_model(FACE_HEAD_FILE, self.models_dir)
        if use_face and face_path is not None:
            self.model_notes += [note] if note else []
            # Missing backbone weights raise WeightsNotFoundError (says where to put the file).
            self.face_model = FaceModel.load(face_path, runtime=runtime,
                                             weights_path=weights_path)
        card_window = self.face_model.card.inputs.get("window") if self.face_model else None
        self.window = int(window if window is not None else card_window or 8)

        self.fusion = self.fusion_card = None
        fusion_path, note = find_model(FUSION_FILE, self.models_dir)
        if use_fusion_model and fusion_path is not None:
            from ..models.cards import load_model_with_card

            self.model_notes += [note] if note else []
            self.fusion, self.fusion_card = load_model_with_card(fusion_path)
            self.fusion_source = str(fusion_path)
        if audio_branches is None:
            audio_branches = self._audio_branches_for_fusion()
        self.audio_branches = list(audio_branches)
        if self.fusion is not None:
            self.labels = list(self.fusion_card.labels)
        elif self.face_model is not None and not any(b.trained for b in self.audio_branches):
            self.labels = list(self.face_model.labels)
        elif self.audio_branches:
            self.labels = list(self.audio_branches[0].labels)
        else:
            self.labels = list(DONATEACRY_CLASSES)

    def _load_cry_detector(self, spec) -> tuple[object | None, str]:
        if spec is None:
            return None, ""
        if not isinstance(spec, str):
            return spec, type(spec).__name__
        spec = "yamnet-zeroshot" if spec == "yamnet" else spec
        if spec not in CRY_DETECTORS:
            raise ParameterError(f"cry detector must be one of {', '.join(CRY_DETECTORS)} or "
                                 f"None, got {spec!r}")
        from ..detection import load_detector, shipped_file
        from ..models.store import find_model

        if spec == "yamnet-zeroshot":
            return load_detector(spec), "yamnet-zeroshot"
        # predict prefers CNN10's dynamic-range TFLite twin: it scores like the float model
        # and starts ~40x faster than a Keras model's first call
        names = (GATE_DETECTOR, shipped_file(spec)) if spec == "cnn10" else (shipped_file(spec),)
        path, note = find_model(names, self.models_dir, what="cry detector")
        if note:  # never silently: the output says so
            self.model_notes.append(note)
        if path is None:
            return load_detector(spec), spec  # names the missing file
        return load_detector(spec, model=path), f"{spec} ({path.name})"

    def _cry_gate(self, path, info: MediaInfo, notes, timings) -> tuple[dict | None, float]:
        """The detector's verdict, and the seconds of audio it decoded."""
        if self.cry_detector is None or not info.has_audio:
            return None, 0.0
        t0 = time.perf_counter()
        if getattr(self.cry_detector, "streams_files", False):
            det = self.cry_detector.detect(path)     # decoded block by block: flat memory
        else:
            det = self.cry_detector.detect(load_audio(path, sr=16000, info=info), sr=16000)
        timings["cry_detect"] = round(time.perf_counter() - t0, 3)
        verdict = {"detected": bool(det.crying), "probability": round(float(det.probability), 4),
                   "threshold": round(float(det.threshold), 4),
                   "segments": [[round(a, 2), round(b, 2)] for a, b in det.segments],
                   "detector": self.cry_detector_name}
        if getattr(det, "detector", None):
            verdict["model"] = {k: v for k, v in det.detector.items() if k != "threshold"}
        if not det.crying:
            notes.append(f"no crying detected (p={det.probability:.2f} < threshold "
                         f"{det.threshold:.2f}, {self.cry_detector_name}): no reason given")
        return verdict, float(det.duration)

    def _audio_branches_for_fusion(self) -> list:
        from pathlib import Path

        from .models import default_audio_branches

        if self.fusion_card is None:
            return default_audio_branches(self.models_dir, bundled_fallback=True,
                                          notes=self.model_notes)
        from ..models.audio_summary import SummaryAudioBranch

        out, defaults = [], None
        for spec in self.fusion_card.inputs.get("branches", []):
            if spec["name"] == "face":
                continue
            if spec.get("source") == "file":
                out.append(SummaryAudioBranch.load(Path(self.fusion_source).parent / spec["file"]))
            else:
                defaults = defaults if defaults is not None else {
                    b.name: b for b in default_audio_branches(
                        self.models_dir, bundled_fallback=True, notes=self.model_notes)}
                if spec["name"] in defaults:
                    out.append(defaults[spec["name"]])
        return out

    # -- stages ----------------------------------------------------------------------------
    def _audio(self, path, info: MediaInfo, results, notes, timings, art,
               crying: dict | None) -> float:
        """Run the reason branches on the crying segments (the whole track without a gate),
        reading only those spans. Returns the seconds of audio read."""
        if not info.has_audio:
            notes.append("no audio track: audio branches skipped")
            for br in self.audio_branches:
                results.append(BranchResult(br.name, used=False, source=br.source,
                                            note="no audio track"))
            return 0.0
        if crying is not None and not crying["detected"]:
            for br in self.audio_branches:
                results.append(BranchResult(br.name, used=False, source=br.source,
                                            note="no crying detected"))
            return 0.0
        t0 = time.perf_counter()
        segments = crying["segments"] if crying is not None else None
        spans = segments if segments is not None else [(0.0, info.duration or np.inf)]
        read = 0.0
        for br in self.audio_branches:
            p, seconds = _branch_probabilities(br, read_spans(path, spans, sr=br.sr,
                                                              info=info))
            if seconds == 0:
                raise InputFileError("no audio samples could be decoded", path=path)
            read = max(read, seconds)
            details = _held_out(getattr(br, "card", None))
            details["segments_used"] = ("whole track" if segments is None
                                        else [[a, b] for a, b in segments])
            details["seconds_used"] = round(seconds, 2)
            results.append(BranchResult(br.name, used=True, trained=br.trained,
                                        probabilities=_probs(br.labels, p), source=br.source,
                                        details=details))
        if segments is not None:
            notes.append("the reason branches read the crying only: "
                         + ", ".join(f"{a:.1f}–{b:.1f} s" for a, b in segments))
        timings["audio"] = round(time.perf_counter() - t0, 3)
        return read

    def _waveform_for_report(self, path, info: MediaInfo, notes, art) -> None:
        if not (self.keep_artifacts and info.has_audio):
            return
        if info.duration and info.duration > REPORT_WAVEFORM_MAX_SECONDS:
            notes.append("the report draws no waveform for recordings over an hour")
            return
        art["audio"] = (load_audio(path, sr=16000, info=info), 16000)

    def _face(self, path, info: MediaInfo, results, notes, timings, art) -> None:
        if not info.has_video:
            notes.append("no video stream: face branch skipped")
            results.append(BranchResult("face", used=False, note="no video stream"))
            return
        if not self.use_face:
            results.append(BranchResult("face", used=False, note="face branch switched off"))
            return
        if info.duration and info.duration * self.fps < 0.5:
            # ffmpeg's fps filter samples round(duration × fps) frames: none here. Say so
            # rather than report "no video frames could be decoded" about a good file.
            why = (f"at {self.fps:g} fps no frame falls within this {info.duration:.1f} s video "
                   f"(needs fps >= {0.5 / info.duration:.2g})")
            notes.append(f"{why}: face branch skipped")
            results.append(BranchResult("face", used=False, note=why))
            return
        if self.face_model is None:
            self._face_share_only(path, info, results, notes, timings, art)
            return
        from ..vision.embeddings import embed_video
        from .smoothing import smooth_predictions

        fm = self.face_model
        t0 = time.perf_counter()
        vf = embed_video(path, fm.backbone, fps=self.fps, max_side=self.max_side, info=info,
                         cache=False, progress=self.progress)
        timings["face_detect"] = vf.timings.get("detect", 0.0)
        timings["face_backbone"] = vf.timings.get("backbone", 0.0)
        details = {"frames": vf.n_frames, "frames_with_face": vf.n_faces,
                   "face_share": round(vf.face_share, 4), "fps": self.fps,
                   "backbone": fm.backbone.name, "runtime": fm.backbone.runtime,
                   "window": self.window}
        if self.keep_artifacts:
            art["faces"] = vf
        if vf.n_faces == 0:
            notes.append("no face found in any frame: face branch skipped")
            results.append(BranchResult("face", used=False, note="no face found",
                                        source=fm.source, details=details))
            timings["face"] = round(time.perf_counter() - t0, 3)
            return
        t1 = time.perf_counter()
        p_frames = fm.frame_probabilities(vf.features)
        smoothed, p_video = smooth_predictions(p_frames, self.window)
        timings["face_head"] = round(time.perf_counter() - t1, 3)
        labs = np.asarray(fm.labels)
        details["frame_times"] = [round(float(t), 3) for t in vf.times[vf.has_face]]
        details["smoothed_labels"] = labs[smoothed.argmax(axis=1)].tolist()
        if self.keep_artifacts:
            art["face_probs"] = (p_frames, smoothed, list(fm.labels))
        results.append(BranchResult("face", used=True, trained=fm.trained,
                                    probabilities=_probs(fm.labels, p_video), source=fm.source,
                                    details=details))
        timings["face"] = round(time.perf_counter() - t0, 3)

    def _face_share_only(self, path, info, results, notes, timings, art) -> None:
        from ..vision import FaceTracker

        t0 = time.perf_counter()
        tracker = FaceTracker()
        n = n_face = 0
        total = int(info.duration * self.fps) + 1 if info.duration else None
        for fr in iter_frames(path, fps=self.fps, max_side=self.max_side, info=info):
            n += 1
            if tracker.update(fr.image) is not None:
                n_face += 1
            if self.progress:
                self.progress("frames", n, total)
        share = n_face / n if n else 0.0
        details = {"frames": n, "frames_with_face": n_face, "face_share": round(share, 4),
                   "fps": self.fps}
        notes.append(NO_FACE_MODEL)
        results.append(BranchResult("face", used=False, note=NO_FACE_MODEL, details=details,
                                    source=f"no {self.models_dir / 'face_head.keras'}"))
        timings["face"] = round(time.perf_counter() - t0, 3)

    def _fuse(self, used: list[BranchResult]) -> tuple[np.ndarray, str, list[BranchResult]]:
        """Combine the branches that ran. Returns probabilities, how, and the branches used."""
        if self.fusion is not None:
            specs = self.fusion_card.inputs["branches"]
            by_name = {b.name: b for b in used}
            xs, names = [], []
            for spec in specs:
                b = by_name.get(spec["name"])
                k = len(spec["labels"])
                if b is None:
                    xs.append(np.zeros((1, k), np.float32))
                else:
                    xs.append(np.asarray([[b.probabilities[lab] for lab in spec["labels"]]],
                                         np.float32))
                    names.append(b.name)
            if names:
                p = np.asarray(self.fusion(xs, training=False))[0]
                missing = [s["name"] for s in specs if s["name"] not in names]
                how = "concatenate fusion model over " + ", ".join(names)
                if missing:
                    how += " (missing: " + ", ".join(missing) + " → zero inputs)"
                return p, how, [by_name[n] for n in names]
        trained = [b for b in used if b.trained and list(b.probabilities) == self.labels]
        pool = trained or [b for b in used if list(b.probabilities) == self.labels] or used
        p = np.mean([[b.probabilities.get(lab, 0.0) for lab in self.labels] for b in pool],
                    axis=0)
        how = ("fallback (no trained fusion model): mean of " +
               ("trained" if trained else "UNTRAINED") + " branches: " +
               ", ".join(b.name for b in pool))
        return p, how, pool

    # -- public ----------------------------------------------------------------------------
    def predict(self, path: str | os.PathLike) -> PredictionResult:
        """Analyse one audio or video file.

        Raises
        ------
        InputFileError
            Missing/empty/undecodable file, or shorter than :data:`MIN_DURATION`.
        """
        timings: dict[str, float] = {}
        t_all = time.perf_counter()
        t0 = time.perf_counter()
        info = probe(path)
        timings["probe"] = round(time.perf_counter() - t0, 3)
        if info.duration is not None and info.duration < MIN_DURATION:
            raise InputFileError(
                f"too short ({info.duration:.2f} s; need at least {MIN_DURATION} s)", path=path)
        notes: list[str] = list(self.model_notes)
        results: list[BranchResult] = []
        art: dict = {}
        crying, gate_seconds = self._cry_gate(path, info, notes, timings)
        read = self._audio(path, info, results, notes, timings, art, crying)
        self._waveform_for_report(path, info, notes, art)
        self._face(path, info, results, notes, timings, art)
        decoded = [gate_seconds, read] + [b.details["frames"] / b.details["fps"]
                                          for b in results
                                          if "frames" in b.details and b.details.get("fps")]
        decoded = [x for x in decoded if x]
        short = short_decode_note(max(decoded) if decoded else None, info.duration)
        if short:
            notes.insert(len(self.model_notes), short)
        used = [b for b in results if b.used]
        if not used and crying is not None and not crying["detected"]:
            timings["total"] = round(time.perf_counter() - t_all, 3)
            return PredictionResult(
                path=os.fspath(path), label=None, probabilities={}, trained=False,
                modalities=[], branches=results, fusion="none: no crying detected",
                timings=timings, notes=notes, media=info.to_dict(), crying=crying,
                artifacts=art)
        if not used:
            why = "; ".join(dict.fromkeys(b.note for b in results if b.note)) or "no branch"
            raise InputFileError(f"nothing to analyse ({why})", path=path)
        t0 = time.perf_counter()
        p, how, pool = self._fuse(used)
        timings["fusion"] = round(time.perf_counter() - t0, 3)
        timings["total"] = round(time.perf_counter() - t_all, 3)
        trained = any(b.trained for b in pool)
        if not trained:
            notes.append("UNTRAINED: no trained model was used; these probabilities mean nothing")
        trust = _trust_note([b for b in pool if b.trained], len(self.labels))
        if trust:
            notes.append(trust)
        probs = _probs(self.labels, p)
        return PredictionResult(
            path=os.fspath(path),
            label=(None if crying is not None and not crying["detected"]
                   else max(probs, key=probs.get)),
            probabilities=probs,
            trained=trained,
            modalities=[b.name for b in pool],
            branches=results,
            fusion=how,
            timings=timings,
            notes=notes,
            media=info.to_dict(),
            crying=crying,
            artifacts=art,
        )
