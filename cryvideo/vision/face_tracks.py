"""Faces linked over time into tracks, and the rule that picks the child's face.

**The child rule.** A video made to show an infant keeps the infant in frame, so the child's
face is the track seen in the most sampled frames. When other tracks are seen nearly as often
(at least :data:`TIE_SHARE` of that count), the one with the smallest face is taken: at the same
distance from the camera an infant's face is about two thirds the width of an adult's.

The rule can be wrong (an infant much nearer the camera than the adult beside it, or an infant
whose face is turned away while an adult's is not). The face cue therefore never lets one face
speak for the others: the veto of :mod:`cryvideo.detection.audiovisual` also requires every
*persistent* face (seen in at least :data:`PERSISTENT_SHARE` of the child's frames) to agree.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .face_finders import Face

__all__ = ["Track", "link_tracks", "child_track", "persistent_tracks", "TIE_SHARE",
           "PERSISTENT_SHARE"]

#: Tracks seen in at least this share of the most-seen track's frames tie with it, and the
#: smallest face among them is the child's.
TIE_SHARE = 0.8
#: Tracks seen in at least this share of the child track's frames are persistent faces.
PERSISTENT_SHARE = 0.5


@dataclasses.dataclass
class Track:
    """One face followed over sampled frames.

    Attributes
    ----------
    frames : list of int
        Indices of the sampled frames the face is in (increasing).
    faces : list of Face
        The face in each of those frames.
    """

    frames: list = dataclasses.field(default_factory=list)
    faces: list = dataclasses.field(default_factory=list)

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def median_side(self) -> float:
        """Median face size over the track, pixels."""
        return float(np.median([f.side for f in self.faces])) if self.faces else 0.0

    @property
    def last(self) -> Face:
        return self.faces[-1]


def _same_face(track: Track, face: Face, *, min_iou: float) -> float:
    """How well ``face`` continues ``track`` (0: not at all)."""
    prev = track.last
    iou = prev.iou(face)
    if iou >= min_iou:
        return iou
    # fast movement: centres within half a face and sizes within a factor of 1.5
    (ax, ay), (bx, by) = prev.center, face.center
    near = np.hypot(ax - bx, ay - by) <= 0.5 * max(prev.side, face.side)
    similar = max(prev.side, face.side) <= 1.5 * min(prev.side, face.side)
    return min_iou / 2 if near and similar else 0.0


def link_tracks(faces_per_frame: list[list[Face]], *, min_iou: float = 0.3,
                max_gap: int = 4) -> list[Track]:
    """Link the faces of consecutive sampled frames into tracks (greedy, best match first).

    Parameters
    ----------
    faces_per_frame : list of list of Face
        The faces of each sampled frame, in time order.
    min_iou : float
        Boxes overlapping at least this much are the same face.
    max_gap : int
        A track missing from more than this many sampled frames in a row ends.

    Returns
    -------
    list of Track
        Longest first.
    """
    tracks: list[Track] = []
    for i, faces in enumerate(faces_per_frame):
        live = [t for t in tracks if i - t.frames[-1] <= max_gap + 1]
        taken: set[int] = set()
        for face in sorted(faces, key=lambda f: -f.score):
            best, best_score = None, 0.0
            for k, t in enumerate(live):
                if k in taken:
                    continue
                s = _same_face(t, face, min_iou=min_iou)
                if s > best_score:
                    best, best_score = k, s
            if best is None:
                tracks.append(Track([i], [face]))
            else:
                taken.add(best)
                live[best].frames.append(i)
                live[best].faces.append(face)
    return sorted(tracks, key=len, reverse=True)


def child_track(tracks: list[Track], *, tie_share: float = TIE_SHARE) -> Track | None:
    """The child's face by the rule of this module's docstring (None without tracks)."""
    if not tracks:
        return None
    most = max(len(t) for t in tracks)
    tied = [t for t in tracks if len(t) >= tie_share * most]
    return min(tied, key=lambda t: (t.median_side, -len(t)))


def persistent_tracks(tracks: list[Track], child: Track, *,
                      share: float = PERSISTENT_SHARE) -> list[Track]:
    """The child's track and every track seen in at least ``share`` of its frames."""
    return [child] + [t for t in tracks if t is not child and len(t) >= share * len(child)]
