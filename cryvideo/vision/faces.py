"""Face detection with OpenCV's Haar cascades (shipped inside ``opencv-python-headless<5``)."""

from __future__ import annotations

import dataclasses
import threading

import cv2
import numpy as np

from ..errors import ModelError, ParameterError

__all__ = ["FaceBox", "FaceTracker", "detect_face", "crop_face", "CROP_SIZE"]

#: Side of the square face crop handed to the ImageNet backbone.
CROP_SIZE = 224


@dataclasses.dataclass(frozen=True)
class FaceBox:
    """A detected face, in pixel coordinates of the frame it was found in."""

    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        return self.w * self.h


#: Loaded cascades, one set per thread.
_LOCAL = threading.local()


def _cascade(name: str) -> cv2.CascadeClassifier:
    """The cascade ``name`` of ``cv2.data.haarcascades``, loaded once per thread.

    One ``CascadeClassifier`` must not run ``detectMultiScale`` in two threads at once (OpenCV
    fails with ``scaleIdx`` / ``_M_range_check`` errors), and ``predict`` runs the face branch
    and the face verdict in two threads: each thread gets its own.
    """
    cache = _LOCAL.__dict__.setdefault("cascades", {})
    c = cache.get(name)
    if c is None:
        path = cv2.data.haarcascades + name
        c = cv2.CascadeClassifier(path)
        if c.empty():
            raise ModelError("OpenCV face cascade could not be loaded (need opencv<5)",
                             path=path)
        cache[name] = c
    return c


def detect_face(
    image: np.ndarray,
    *,
    min_size_frac: float = 0.08,
    scale_factor: float = 1.1,
    min_neighbors: int = 5,
    cascade: str = "haarcascade_frontalface_default.xml",
) -> FaceBox | None:
    """Detect the largest face in an RGB image.

    Parameters
    ----------
    image : np.ndarray [shape=(h, w, 3), dtype=uint8]
        RGB frame.
    min_size_frac : float
        Smallest face side, as a fraction of the shorter image side.
    scale_factor, min_neighbors : float, int
        OpenCV ``detectMultiScale`` parameters.
    cascade : str
        Cascade file name in ``cv2.data.haarcascades``.

    Returns
    -------
    FaceBox or None
        The largest face, or None when there is none (never guessed).
    """
    if image.ndim != 3 or image.shape[2] != 3:
        raise ParameterError(f"expected an RGB image (h, w, 3), got shape {image.shape}")
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    gray = cv2.equalizeHist(gray)
    side = max(16, int(min(gray.shape) * min_size_frac))
    faces = _cascade(cascade).detectMultiScale(
        gray, scaleFactor=scale_factor, minNeighbors=min_neighbors, minSize=(side, side)
    )
    if len(faces) == 0:
        return None
    x, y, w, h = max(faces, key=lambda f: f[2] * f[3])
    return FaceBox(int(x), int(y), int(w), int(h))


def crop_face(
    image: np.ndarray, box: FaceBox, *, margin: float = 0.2, size: int = CROP_SIZE
) -> np.ndarray:
    """Square crop around ``box`` with a margin, resized to ``size`` × ``size``.

    Parameters
    ----------
    image : np.ndarray [shape=(h, w, 3), dtype=uint8]
    box : FaceBox
    margin : float
        Extra border on each side, as a fraction of the face size.
    size : int
        Output side in pixels.

    Returns
    -------
    np.ndarray [shape=(size, size, 3), dtype=uint8]
    """
    h, w = image.shape[:2]
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    half = max(box.w, box.h) * (1 + 2 * margin) / 2
    x0, y0 = int(max(0, cx - half)), int(max(0, cy - half))
    x1, y1 = int(min(w, cx + half)), int(min(h, cy + half))
    crop = image[y0:y1, x0:x1]
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)


class FaceTracker:
    """Fast per-frame face detection for a video: downscaled grey image, then a small search
    window around the last face.

    Every frame is really detected (nothing is carried over or guessed): when a face was found in
    the previous frame, the cascade first searches only a window around it, at sizes near the
    previous one (cheap); when that fails, the whole frame is searched at a reduced resolution.

    Parameters
    ----------
    min_size_frac : float
        Smallest face side, as a fraction of the shorter frame side.
    min_side_px : int
        The downscaled image keeps faces of ``min_size_frac`` at least this many pixels wide
        (the Haar cascade's window is 24 px).
    scale_factor, min_neighbors : float, int
        OpenCV ``detectMultiScale`` parameters for the full-frame search.
    window : float
        Side of the tracking window, in face sizes.
    cascade : str
        Cascade file name in ``cv2.data.haarcascades``.
    """

    def __init__(self, *, min_size_frac: float = 0.12, min_side_px: int = 30,
                 scale_factor: float = 1.15, min_neighbors: int = 5, window: float = 2.0,
                 cascade: str = "haarcascade_frontalface_default.xml") -> None:
        if not 0 < min_size_frac < 1:
            raise ParameterError(f"min_size_frac must be in (0, 1), got {min_size_frac}")
        self.min_size_frac = min_size_frac
        self.min_side_px = min_side_px
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.window = window
        self.cascade = cascade
        self.last: FaceBox | None = None
        self.n_tracked = 0
        self.n_full = 0

    def reset(self) -> None:
        """Forget the last face (call between videos)."""
        self.last = None

    def _gray(self, image: np.ndarray) -> np.ndarray:
        if image.ndim != 3 or image.shape[2] != 3:
            raise ParameterError(f"expected an RGB image (h, w, 3), got shape {image.shape}")
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)

    def _track(self, gray: np.ndarray) -> FaceBox | None:
        b = self.last
        h, w = gray.shape
        side = max(b.w, b.h)
        cx, cy = b.x + b.w / 2, b.y + b.h / 2
        half = side * self.window / 2
        x0, y0 = int(max(0, cx - half)), int(max(0, cy - half))
        x1, y1 = int(min(w, cx + half)), int(min(h, cy + half))
        roi = gray[y0:y1, x0:x1]
        if roi.size == 0:
            return None
        scale = min(1.0, 2.2 * 24 / side)  # face about 53 px in the window
        if scale < 1.0:
            roi = cv2.resize(roi, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        roi = cv2.equalizeHist(roi)
        lo, hi = int(side * scale * 0.7), int(side * scale * 1.4) + 1
        faces = _cascade(self.cascade).detectMultiScale(
            roi, scaleFactor=1.1, minNeighbors=max(2, self.min_neighbors - 2),
            minSize=(max(lo, 20), max(lo, 20)), maxSize=(hi, hi))
        if len(faces) == 0:
            return None
        fx, fy, fw, fh = max(faces, key=lambda f: f[2] * f[3])
        return FaceBox(int(x0 + fx / scale), int(y0 + fy / scale), int(fw / scale),
                       int(fh / scale))

    def _full(self, gray: np.ndarray) -> FaceBox | None:
        short = min(gray.shape)
        min_face = max(1.0, short * self.min_size_frac)
        scale = min(1.0, self.min_side_px / min_face)
        small = gray
        if scale < 1.0:
            small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        small = cv2.equalizeHist(small)
        side = max(20, int(min_face * scale))
        faces = _cascade(self.cascade).detectMultiScale(
            small, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
            minSize=(side, side))
        if len(faces) == 0:
            return None
        x, y, w, h = max(faces, key=lambda f: f[2] * f[3])
        return FaceBox(int(x / scale), int(y / scale), int(w / scale), int(h / scale))

    def update(self, image: np.ndarray) -> FaceBox | None:
        """Detect the face in the next frame.

        Parameters
        ----------
        image : np.ndarray [shape=(h, w, 3), dtype=uint8]
            RGB frame.

        Returns
        -------
        FaceBox or None
            The largest face in this frame, or None (never guessed from earlier frames).
        """
        gray = self._gray(image)
        box = None
        if self.last is not None:
            box = self._track(gray)
            if box is not None:
                self.n_tracked += 1
        if box is None:
            box = self._full(gray)
            self.n_full += 1
        self.last = box
        return box
