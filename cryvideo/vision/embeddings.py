"""Face crops of a video and their backbone features, computed once and cached on disk.

``embed_video`` streams frames at the analysis rate, detects faces (:class:`FaceTracker`),
crops them (margin, 224×224), runs the frozen backbone in batches and returns a
:class:`VideoFaces`. Results are cached in ``$CRYVIDEO_CACHE_DIR/faces`` keyed by the video's
sha256, the backbone and its weights, and the detection settings, so training a head never
re-runs the backbone.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from ..media import DEFAULT_MAX_SIDE, Frame, MediaInfo, iter_frames, probe
from .faces import FaceTracker, crop_face

__all__ = ["VideoFaces", "embed_video", "face_cache_dir", "THUMB_SIZE"]

#: Side of the small face thumbnails kept for reports.
THUMB_SIZE = 64
CACHE_VERSION = 1


@dataclasses.dataclass
class VideoFaces:
    """Faces found in one video.

    Attributes
    ----------
    times : np.ndarray [shape=(n_frames,)]
        Time of every analysed frame (seconds).
    has_face : np.ndarray [shape=(n_frames,), dtype=bool]
        Whether a face was found in that frame (frames without are recorded, not guessed).
    boxes : np.ndarray [shape=(n_frames, 4), dtype=int32]
        ``x, y, w, h`` of the face (``-1`` where none).
    features : np.ndarray [shape=(n_faces, 7, 7, C), dtype=float16 or float32]
        Backbone features of the face frames, in frame order.
    thumbs : np.ndarray [shape=(n_faces, THUMB_SIZE, THUMB_SIZE, 3), dtype=uint8]
        Small face crops (for reports).
    fps : float
    timings : dict
        Seconds spent decoding+detecting and in the backbone (zeros when read from cache).
    cached : bool
    """

    times: np.ndarray
    has_face: np.ndarray
    boxes: np.ndarray
    features: np.ndarray
    thumbs: np.ndarray
    fps: float
    timings: dict = dataclasses.field(default_factory=dict)
    cached: bool = False

    @property
    def n_frames(self) -> int:
        return int(len(self.times))

    @property
    def n_faces(self) -> int:
        return int(self.has_face.sum())

    @property
    def face_share(self) -> float:
        return float(self.has_face.mean()) if len(self.has_face) else 0.0


def face_cache_dir() -> Path:
    """Where face embeddings are kept: ``faces/`` in the one cache root
    (:func:`cryvideo.environment.cache_dir`)."""
    from .. import environment

    return environment.cache_dir() / "faces"


def _cache_key(path, backbone, fps: float, max_side: int, margin: float) -> str:
    from ..io import file_sha256

    desc = {"v": CACHE_VERSION, "file": file_sha256(path), "backbone": backbone.spec.name,
            "weights": backbone.weights_id, "fps": float(fps), "max_side": int(max_side),
            "margin": float(margin)}
    return hashlib.sha256(json.dumps(desc, sort_keys=True).encode()).hexdigest()[:32]


def embed_video(
    path: str | os.PathLike,
    backbone,
    *,
    fps: float,
    max_side: int = DEFAULT_MAX_SIDE,
    margin: float = 0.2,
    info: MediaInfo | None = None,
    cache: bool = True,
    batch_size: int = 16,
    progress: Callable[[str, int, int | None], None] | None = None,
    frames: Iterable[Frame] | None = None,
) -> VideoFaces:
    """Detect, crop and embed the faces of a video.

    Parameters
    ----------
    path : str or os.PathLike
        A video file.
    backbone : cryvideo.vision.backbones.Backbone
    fps : float
        Analysis frame rate.
    max_side : int
        Frames are downscaled by ffmpeg to this longest side before detection.
    margin : float
        Crop margin around the face box (fraction of the face side).
    info : MediaInfo, optional
    cache : bool
        Read/write the on-disk cache.
    batch_size : int
        Crops per backbone call (crops are held only until their batch has run).
    progress : callable, optional
        ``progress("frames", done, total)``.
    frames : iterable of Frame, optional
        The video's frames at ``fps`` and ``max_side``, when the caller decodes them (e.g. in
        one process with its other needs); default: decoded here.

    Returns
    -------
    VideoFaces
    """
    info = probe(path) if info is None else info
    cpath = None
    if cache:
        cpath = face_cache_dir() / f"{_cache_key(path, backbone, fps, max_side, margin)}.npz"
        if cpath.is_file():
            try:
                with np.load(cpath) as z:
                    return VideoFaces(times=z["times"], has_face=z["has_face"],
                                      boxes=z["boxes"], features=z["features"],
                                      thumbs=z["thumbs"], fps=float(z["fps"]),
                                      timings={"detect": 0.0, "backbone": 0.0}, cached=True)
            except (OSError, KeyError, ValueError):
                pass  # unreadable cache entry: recompute and overwrite
    import cv2

    tracker = FaceTracker()
    times, has, boxes, feats, thumbs, pending = [], [], [], [], [], []
    t_detect = t_bb = 0.0
    total = int(info.duration * fps) + 1 if info.duration else None

    def flush():
        nonlocal t_bb
        if pending:
            t0 = time.perf_counter()
            feats.append(backbone.features(np.stack(pending)))
            t_bb += time.perf_counter() - t0
            pending.clear()

    t0 = time.perf_counter()
    if frames is None:
        frames = iter_frames(path, fps=fps, max_side=max_side, info=info)
    for fr in frames:
        box = tracker.update(fr.image)
        times.append(fr.time)
        has.append(box is not None)
        if box is None:
            boxes.append((-1, -1, -1, -1))
        else:
            boxes.append((box.x, box.y, box.w, box.h))
            crop = crop_face(fr.image, box, margin=margin)
            pending.append(crop)
            thumbs.append(cv2.resize(crop, (THUMB_SIZE, THUMB_SIZE),
                                     interpolation=cv2.INTER_AREA))
        if len(pending) >= batch_size:
            t_detect += time.perf_counter() - t0
            flush()
            t0 = time.perf_counter()
        if progress:
            progress("frames", len(times), total)
    t_detect += time.perf_counter() - t0
    flush()
    c = backbone.output_shape
    vf = VideoFaces(
        times=np.asarray(times, dtype=np.float64),
        has_face=np.asarray(has, dtype=bool),
        boxes=np.asarray(boxes, dtype=np.int32).reshape(-1, 4),
        features=(np.concatenate(feats) if feats else np.zeros((0, *c), np.float32)),
        thumbs=(np.stack(thumbs) if thumbs else np.zeros((0, THUMB_SIZE, THUMB_SIZE, 3),
                                                          np.uint8)),
        fps=float(fps),
        timings={"detect": round(t_detect, 3), "backbone": round(t_bb, 3)},
    )
    if cpath is not None:
        from ..io import atomic_path

        with atomic_path(cpath) as tmp:
            np.savez(tmp, times=vf.times, has_face=vf.has_face, boxes=vf.boxes,
                     features=vf.features.astype(np.float16), thumbs=vf.thumbs,
                     fps=np.float64(fps))
    return vf
