"""Face detection with OpenCV's Haar cascades (shipped inside ``opencv-python-headless<5``)."""

from __future__ import annotations

import dataclasses
import functools

import cv2
import numpy as np

from ..errors import ModelError, ParameterError

__all__ = ["FaceBox", "detect_face", "crop_face", "CROP_SIZE"]

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


@functools.lru_cache(maxsize=4)
def _cascade(name: str) -> cv2.CascadeClassifier:
    path = cv2.data.haarcascades + name
    c = cv2.CascadeClassifier(path)
    if c.empty():
        raise ModelError("OpenCV face cascade could not be loaded (need opencv<5)", path=path)
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
