"""The face cue: what the faces in a video show over given spans of time (zero-shot).

For each span (a crying segment the audio detector found) the video is decoded over that span
only, at a modest frame rate; faces are found (YuNet, else the Haar cascade), linked into
tracks, the child's face is picked (:mod:`cryvideo.vision.face_tracks`), and every persistent
face is read by the FER-2013 expression model under each crop margin of the rule. Per-frame
expressions are smoothed by rolling prediction averaging over a deque of the last frames, as the
design card does for the face branch.

The expression model was trained on adults' faces (FER-2013): for an infant it is a zero-shot
cue, never a measured classifier. :data:`ZERO_SHOT_NOTE` says so wherever its output is shown.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterable

import cv2
import numpy as np

from ..media import Frame, MediaInfo, iter_frames
from ..media.frames import FrameSpan
from ..models.smoothing import smooth_predictions
from ..vision.expression import EXPRESSIONS, ExpressionModel, expression_crop
from ..vision.face_tracks import Track, child_track, link_tracks, persistent_tracks

__all__ = ["FaceCue", "SpanFaces", "TrackExpressions", "ZERO_SHOT_NOTE", "THUMB_SIDE"]

#: Shown wherever the face cue's output is shown.
ZERO_SHOT_NOTE = ("face expressions come from a model trained on adults' faces (FER-2013): a "
                  "zero-shot cue for an infant, not a measured infant classifier")
#: Side (pixels) of the face thumbnails kept for reports.
THUMB_SIDE = 64
#: Thumbnails kept per span.
THUMBS_PER_SPAN = 3


@dataclasses.dataclass
class TrackExpressions:
    """One persistent face over a span.

    Attributes
    ----------
    frames : np.ndarray [shape=(n,), dtype=int]
        Sampled-frame indices (within the span) the face is in.
    probs : dict of float → np.ndarray [shape=(n, 7)]
        Per crop margin: smoothed expression probabilities (rolling average over the
        track's last ``smoothing`` face frames), in :data:`EXPRESSIONS` order.
    raw : dict of float → np.ndarray [shape=(n, 7)]
        The same, unsmoothed.
    median_side : float
        Median face size, pixels of the analysed frame.
    """

    frames: np.ndarray
    probs: dict
    raw: dict
    median_side: float


@dataclasses.dataclass
class SpanFaces:
    """What the faces showed over one span of a video.

    Attributes
    ----------
    start, end : float
        The span, seconds.
    times : np.ndarray [shape=(n_frames,)]
        Time of every sampled frame.
    n_faces : np.ndarray [shape=(n_frames,), dtype=int]
        Faces found in each sampled frame.
    child : TrackExpressions or None
        The child's face (:func:`cryvideo.vision.face_tracks.child_track`).
    others : list of TrackExpressions
        The other persistent faces.
    thumbnails : list of (float, np.ndarray [shape=(64, 64, 3), dtype=uint8])
        A few crops of the child's face and their times.
    """

    start: float
    end: float
    times: np.ndarray
    n_faces: np.ndarray
    child: TrackExpressions | None = None
    others: list = dataclasses.field(default_factory=list)
    thumbnails: list = dataclasses.field(default_factory=list)

    @property
    def n_frames(self) -> int:
        return int(len(self.times))

    @property
    def frames_with_face(self) -> int:
        """Sampled frames in which the child's face was found."""
        return 0 if self.child is None else int(len(self.child.frames))


class FaceCue:
    """Faces and their expressions over spans of a video.

    Parameters
    ----------
    finder : callable
        ``finder(rgb_frame) -> list[Face]`` (:func:`cryvideo.vision.face_finders.load_face_finder`).
    model : ExpressionModel
    fps : float
        Frames sampled per second of each span.
    margins : tuple of float
        Crop margins the expressions are read under (see
        :func:`cryvideo.vision.expression.expression_crop`).
    smoothing : int
        Rolling-average window, in face frames.
    max_side : int
        Frames are downscaled by ffmpeg so their longest side is at most this.
    finder_note : str, optional
        Why the finder is not the preferred one (shown in every output).
    """

    def __init__(self, finder, model: ExpressionModel, *, fps: float, margins: tuple,
                 smoothing: int, max_side: int, finder_note: str | None = None) -> None:
        self.finder, self.model = finder, model
        self.fps, self.margins = float(fps), tuple(float(m) for m in margins)
        self.smoothing, self.max_side = int(smoothing), int(max_side)
        self.finder_note = finder_note
        self.seconds = {"decode_detect": 0.0, "expression": 0.0}
        self.frames_seen = 0

    @property
    def finder_name(self) -> str:
        return getattr(self.finder, "name", type(self.finder).__name__)

    def describe(self) -> dict:
        """What looked: the face finder and the expression model, for every output."""
        d = {"face_finder": self.finder_name, "expression_model": self.model.name,
             "fps": self.fps, "margins": list(self.margins), "note": ZERO_SHOT_NOTE}
        if self.finder_note:
            d["finder_note"] = self.finder_note
        return d

    def _expressions(self, grays: list, track: Track) -> TrackExpressions:
        raw, probs = {}, {}
        for m in self.margins:
            crops = np.stack([expression_crop(grays[i], f, margin=m)
                              for i, f in zip(track.frames, track.faces, strict=True)])
            p = self.model(crops)
            raw[m] = p
            probs[m] = smooth_predictions(p, self.smoothing)[0]
        return TrackExpressions(np.asarray(track.frames), probs, raw, track.median_side)

    def frame_span(self, start: float, end: float) -> FrameSpan:
        """What :meth:`look` decodes of ``[start, end)`` seconds: the cue's rate and size."""
        return FrameSpan(fps=self.fps, max_side=self.max_side, start=start,
                         duration=max(end - start, 1.0 / self.fps))

    def look(self, path: str | os.PathLike, start: float, end: float, *,
             info: MediaInfo, frames: Iterable[Frame] | None = None) -> SpanFaces:
        """Faces and expressions over ``[start, end)`` seconds of the video at ``path``.

        ``frames``: that span's frames as :meth:`frame_span` describes them, when the caller
        decodes them (e.g. with other spans, in one process); default: decoded here.
        """
        t0 = time.perf_counter()
        times, faces, grays, rgbs = [], [], [], []
        if frames is None:
            sp = self.frame_span(start, end)
            frames = iter_frames(path, fps=sp.fps, max_side=sp.max_side, info=info,
                                 start=sp.start, duration=sp.duration)
        for fr in frames:
            times.append(fr.time)
            faces.append(self.finder(fr.image))
            grays.append(cv2.cvtColor(fr.image, cv2.COLOR_RGB2GRAY) if faces[-1] else None)
            rgbs.append(fr.image if faces[-1] else None)
        self.frames_seen += len(times)
        t1 = time.perf_counter()
        self.seconds["decode_detect"] += t1 - t0
        out = SpanFaces(start, end, np.asarray(times, np.float64),
                        np.asarray([len(f) for f in faces], np.int64))
        tracks = link_tracks(faces)
        child = child_track(tracks)
        if child is not None:
            out.child = self._expressions(grays, child)
            out.others = [self._expressions(grays, t)
                          for t in persistent_tracks(tracks, child)[1:]]
            out.thumbnails = _thumbnails(rgbs, times, child)
        self.seconds["expression"] += time.perf_counter() - t1
        return out


def _thumbnails(rgbs: list, times: list, track: Track) -> list:
    """A few crops of the track's face, evenly spread over it."""
    picks = np.unique(np.linspace(0, len(track) - 1, THUMBS_PER_SPAN).round().astype(int))
    out = []
    for k in picks:
        i, f = track.frames[k], track.faces[k]
        img = rgbs[i]
        cx, cy = f.center
        half = f.side * 0.7
        y0, y1 = max(0, int(cy - half)), min(img.shape[0], int(cy + half))
        x0, x1 = max(0, int(cx - half)), min(img.shape[1], int(cx + half))
        crop = cv2.resize(img[y0:y1, x0:x1], (THUMB_SIDE, THUMB_SIDE),
                          interpolation=cv2.INTER_AREA)
        out.append((float(times[i]), crop))
    return out


def mean_expression(p: np.ndarray) -> dict:
    """Mean of expression probabilities ``[shape=(n, 7)]`` as ``{label: p}`` (rounded)."""
    m = np.asarray(p).mean(axis=0) if len(p) else np.zeros(len(EXPRESSIONS))
    return {k: round(float(v), 3) for k, v in zip(EXPRESSIONS, m, strict=True)}

