"""Every face in a frame: YuNet (``cv2.FaceDetectorYN``), or OpenCV's Haar cascade when
YuNet's file is absent.

YuNet (Apache-2.0, ONNX, run by OpenCV itself) finds about twice as many infant faces as the
Haar cascade in real videos (turned heads, small faces); real users download its file from
opencv_zoo, and :func:`load_face_finder` resolves it the way every pretrained file is resolved
(explicit path → ``$CRYVIDEO_WEIGHTS_DIR`` → the cache, sha256 checked). The Haar cascade ships
inside ``opencv-python-headless<5``.
"""

from __future__ import annotations

import dataclasses
import os

import cv2
import numpy as np

from ..errors import ModelError, ParameterError, WeightsNotFoundError

__all__ = ["Face", "YuNetFinder", "HaarFinder", "load_face_finder", "FINDERS"]

#: Names accepted by :func:`load_face_finder`.
FINDERS = ("auto", "yunet", "haar")


@dataclasses.dataclass(frozen=True)
class Face:
    """One face found in a frame, in that frame's pixel coordinates.

    Attributes
    ----------
    x, y, w, h : float
        The detector's box (YuNet's runs chin to brow; Haar's is square and a little wider).
    score : float
        The detector's confidence (1.0 for Haar, which gives none).
    """

    x: float
    y: float
    w: float
    h: float
    score: float = 1.0

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    @property
    def side(self) -> float:
        """The longer side of the box."""
        return max(self.w, self.h)

    def iou(self, other: Face) -> float:
        """Intersection over union of two boxes."""
        x0, y0 = max(self.x, other.x), max(self.y, other.y)
        x1 = min(self.x + self.w, other.x + other.w)
        y1 = min(self.y + self.h, other.y + other.h)
        inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
        union = self.w * self.h + other.w * other.h - inter
        return inter / union if union > 0 else 0.0


def _rgb(image: np.ndarray) -> np.ndarray:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ParameterError(f"expected an RGB uint8 image (h, w, 3), got {image.shape} "
                             f"{image.dtype}")
    return image


class YuNetFinder:
    """YuNet through ``cv2.FaceDetectorYN``.

    Parameters
    ----------
    path : path
        The ``.onnx`` file (checked by the caller, see :func:`load_face_finder`).
    score_threshold : float
        Faces scoring below are dropped (opencv_zoo's demo uses 0.9 for adults; infants'
        turned and partly hidden faces score lower, and a false face only ever stops the
        face cue from vetoing, so 0.6 is used).
    nms_threshold : float
    """

    name = "yunet"

    def __init__(self, path: str | os.PathLike, *, score_threshold: float = 0.6,
                 nms_threshold: float = 0.3) -> None:
        self.path = os.fspath(path)
        try:
            self._det = cv2.FaceDetectorYN.create(self.path, "", (320, 320),
                                                  float(score_threshold), float(nms_threshold),
                                                  50)
        except cv2.error as exc:
            raise ModelError(f"YuNet could not be loaded ({str(exc).strip().splitlines()[-1]})",
                             path=self.path) from None
        self._size: tuple[int, int] | None = None

    def __call__(self, image: np.ndarray) -> list[Face]:
        """Faces in an RGB frame ``[shape=(h, w, 3), dtype=uint8]``, best score first."""
        img = _rgb(image)
        h, w = img.shape[:2]
        if self._size != (w, h):
            self._det.setInputSize((w, h))
            self._size = (w, h)
        _, rows = self._det.detect(cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        if rows is None:
            return []
        faces = [Face(float(r[0]), float(r[1]), float(r[2]), float(r[3]), float(r[-1]))
                 for r in rows if r[2] > 1 and r[3] > 1]
        return sorted(faces, key=lambda f: -f.score)


#: The Haar cascade of :class:`HaarFinder`.
HAAR_FILE = "haarcascade_frontalface_default.xml"


class HaarFinder:
    """OpenCV's frontal-face Haar cascade, with the settings the expression model's own package
    uses (``scaleFactor 1.1``, ``minNeighbors 5``), on a histogram-equalised grey frame.

    Parameters
    ----------
    min_size_frac : float
        Smallest face side, as a fraction of the shorter frame side.
    """

    name = "haar"

    def __init__(self, *, min_size_frac: float = 0.06) -> None:
        from .faces import _cascade

        _cascade(HAAR_FILE)   # loads it (a missing file fails here, not at the first frame)
        self.min_size_frac = float(min_size_frac)
        self.path = None

    def __call__(self, image: np.ndarray) -> list[Face]:
        """Faces in an RGB frame ``[shape=(h, w, 3), dtype=uint8]``, largest first."""
        gray = cv2.equalizeHist(cv2.cvtColor(_rgb(image), cv2.COLOR_RGB2GRAY))
        side = max(20, int(min(gray.shape) * self.min_size_frac))
        from .faces import _cascade

        # the calling thread's cascade: a finder made in one thread may run in another
        rows = _cascade(HAAR_FILE).detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5,
                                                    minSize=(side, side))
        faces = [Face(float(x), float(y), float(w), float(h)) for x, y, w, h in rows]
        return sorted(faces, key=lambda f: -f.w * f.h)


def load_face_finder(kind: str = "auto", *, path: str | os.PathLike | None = None
                     ) -> tuple[YuNetFinder | HaarFinder, str | None]:
    """The face finder to use, and a note when it is not the one asked for.

    Parameters
    ----------
    kind : {"auto", "yunet", "haar"}
        ``auto``: YuNet when its file is found, else the Haar cascade (the note says so).
    path : path, optional
        YuNet's ``.onnx`` file or its folder (else ``$CRYVIDEO_WEIGHTS_DIR``, then the cache).

    Raises
    ------
    WeightsNotFoundError
        ``kind="yunet"`` and no file with YuNet's sha256 is found.
    """
    from ..weights import resolve_weights

    if kind not in FINDERS:
        raise ParameterError(f"face finder must be one of {', '.join(FINDERS)}, got {kind!r}")
    if kind == "haar":
        return HaarFinder(), None
    try:
        found = resolve_weights("yunet", path=path, allow_download=False)
    except WeightsNotFoundError as exc:
        if kind == "yunet":
            raise
        return HaarFinder(), (f"{exc.message}: faces found with OpenCV's Haar cascade, which "
                              "misses turned and small faces")
    return YuNetFinder(found), None
