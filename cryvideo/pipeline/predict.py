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

__all__ = [
    "Branch",
    "BranchResult",
    "PredictionResult",
    "Predictor",
    "UntrainedBranch",
    "MIN_DURATION",
    "DEFAULT_ANALYSIS_FPS",
]

#: Inputs shorter than this (seconds) are refused: too short to say anything.
MIN_DURATION = 0.5
#: Default analysis frame rate of ``predict`` (the paper's 30 fps is available with ``--fps 30``).
DEFAULT_ANALYSIS_FPS = 30.0


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

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        for b, br in zip(d["branches"], self.branches, strict=True):
            b["label"] = br.label
        return d


def _probs(labels: Sequence[str], p: np.ndarray) -> dict[str, float]:
    p = np.asarray(p, dtype=float).reshape(-1)
    if p.shape[0] != len(labels):
        raise ParameterError(f"branch returned {p.shape[0]} probabilities for {len(labels)} labels")
    return {str(lab): round(float(v), 6) for lab, v in zip(labels, p, strict=True)}


class Predictor:
    """Loads the models once and predicts file after file.

    Parameters
    ----------
    audio_branches : sequence of Branch, optional
        Default: the trained models found by :func:`cryvideo.pipeline.models.default_audio_branches`.
    fps : float
        Analysis frame rate for the face branch.
    max_side : int
        Frames are downscaled by ffmpeg so their longest side is at most this.
    use_face : bool
        Run the face branch on videos.
    progress : callable, optional
        ``progress(stage, done, total)`` callback.
    """

    def __init__(
        self,
        *,
        audio_branches: Sequence[Branch] | None = None,
        fps: float = DEFAULT_ANALYSIS_FPS,
        max_side: int = DEFAULT_MAX_SIDE,
        use_face: bool = True,
        progress: Callable[[str, int, int | None], None] | None = None,
    ) -> None:
        if audio_branches is None:
            from .models import default_audio_branches

            audio_branches = default_audio_branches()
        self.audio_branches = list(audio_branches)
        self.labels = list(self.audio_branches[0].labels) if self.audio_branches else list(
            DONATEACRY_CLASSES)
        self.fps = float(fps)
        self.max_side = int(max_side)
        self.use_face = use_face
        self.progress = progress

    # -- stages ----------------------------------------------------------------------------
    def _audio(self, path, info: MediaInfo, results, notes, timings) -> None:
        if not info.has_audio:
            notes.append("no audio track: audio branches skipped")
            for br in self.audio_branches:
                results.append(BranchResult(br.name, used=False, source=br.source,
                                            note="no audio track"))
            return
        t0 = time.perf_counter()
        cache: dict[int, np.ndarray] = {}
        for br in self.audio_branches:
            if br.sr not in cache:
                cache[br.sr] = load_audio(path, sr=br.sr, info=info)
            p = br.predict_proba(cache[br.sr])
            results.append(BranchResult(br.name, used=True, trained=br.trained,
                                        probabilities=_probs(br.labels, p), source=br.source))
        timings["audio"] = round(time.perf_counter() - t0, 3)

    def _face(self, path, info: MediaInfo, results, notes, timings) -> None:
        from ..vision import detect_face

        if not info.has_video:
            notes.append("no video stream: face branch skipped")
            results.append(BranchResult("face", used=False, note="no video stream"))
            return
        if not self.use_face:
            results.append(BranchResult("face", used=False, note="disabled"))
            return
        t0 = time.perf_counter()
        n = n_face = 0
        total = int(info.duration * self.fps) + 1 if info.duration else None
        for fr in iter_frames(path, fps=self.fps, max_side=self.max_side, info=info):
            n += 1
            if detect_face(fr.image) is not None:
                n_face += 1
            if self.progress:
                self.progress("frames", n, total)
        share = n_face / n if n else 0.0
        details = {"frames": n, "frames_with_face": n_face, "face_share": round(share, 4),
                   "fps": self.fps}
        if n_face == 0:
            notes.append("no face found in any frame: face branch skipped")
            results.append(BranchResult("face", used=False, note="no face found",
                                        details=details))
        else:
            # The face classifier is not trained yet: its output is not a result.
            placeholder = UntrainedBranch("face", labels=self.labels)
            results.append(BranchResult(
                "face", used=True, trained=False,
                probabilities=_probs(self.labels, placeholder.predict_proba(np.zeros(1))),
                source=placeholder.source, details=details))
        timings["face"] = round(time.perf_counter() - t0, 3)

    @staticmethod
    def _fuse(labels, used: list[BranchResult]) -> tuple[np.ndarray, str]:
        """Combine the branches that ran: the mean of the trained ones if any, else of all."""
        trained = [b for b in used if b.trained]
        pool = trained or used
        p = np.mean([[b.probabilities[lab] for lab in labels] for b in pool], axis=0)
        how = "mean of " + ("trained" if trained else "untrained") + " branches: " + \
            ", ".join(b.name for b in pool)
        return p, how

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
        notes: list[str] = []
        results: list[BranchResult] = []
        self._audio(path, info, results, notes, timings)
        self._face(path, info, results, notes, timings)
        used = [b for b in results if b.used]
        if not used:
            raise InputFileError("nothing to analyse: no audio and no face", path=path)
        t0 = time.perf_counter()
        p, how = self._fuse(self.labels, used)
        timings["fusion"] = round(time.perf_counter() - t0, 3)
        timings["total"] = round(time.perf_counter() - t_all, 3)
        trained = any(b.trained for b in used)
        if not trained:
            notes.append("UNTRAINED: no trained model was used; these probabilities mean nothing")
        probs = _probs(self.labels, p)
        return PredictionResult(
            path=os.fspath(path),
            label=max(probs, key=probs.get),
            probabilities=probs,
            trained=trained,
            modalities=[b.name for b in used],
            branches=results,
            fusion=how,
            timings=timings,
            notes=notes,
            media=info.to_dict(),
        )
