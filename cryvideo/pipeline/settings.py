"""``predict``'s settings: every option, one default each, checked once.

:class:`PredictSettings` is built once -- by ``cryvideo predict`` from its options, or directly
from Python -- and the same object reaches the batch job
(:class:`~cryvideo.batch.PredictJob`), the :class:`~cryvideo.pipeline.Predictor`,
:func:`~cryvideo.pipeline.loading.load_models` and the face stage
(:class:`~cryvideo.pipeline.face.FaceStage`). Nothing downstream declares a default again or
checks a value again.
"""

from __future__ import annotations

import dataclasses
import os

from ..detection.backends import BACKENDS, DEFAULT_BACKEND, check_face_mode, find_backend
from ..detection.base import Detector
from ..errors import ParameterError, WeightsNotFoundError, check_number
from ..media import DEFAULT_MAX_SIDE
from ..vision.backbones import RUNTIMES

__all__ = ["PredictSettings", "DEFAULT_ANALYSIS_FPS", "MIN_FPS", "MAX_FPS", "MAX_WINDOW",
           "MIN_MAX_SIDE"]

#: Default analysis frame rate of the face branch (the paper's 30 fps is available with
#: ``fps=30``; see docs/face_fusion.md and benchmarks/results/predict.md for why 5 fps is the
#: default).
DEFAULT_ANALYSIS_FPS = 5.0
#: Accepted analysis frame rates, frames per second (``--fps``).
MIN_FPS, MAX_FPS = 0.1, 240.0
#: Longest rolling-average window, frames (``--window``).
MAX_WINDOW = 100_000
#: Smallest longest side of the analysed frames, pixels.
MIN_MAX_SIDE = 16


@dataclasses.dataclass(frozen=True)
class PredictSettings:
    """Every setting of ``predict``, checked when the object is made.

    Parameters
    ----------
    fps : float
        Frames per second the face branch analyses, in [:data:`MIN_FPS`, :data:`MAX_FPS`]
        (``--fps``).
    use_face : bool
        Run the face branch on videos (``--no-face`` turns it off).
    window : int, optional
        Rolling-average window of the face branch, frames, in [1, :data:`MAX_WINDOW`]
        (default: the face head card's, else 8; ``--window``).
    max_side : int
        Frames are downscaled by ffmpeg so their longest side is at most this, pixels.
    models_dir : path, optional
        Folder of trained models (default: :func:`cryvideo.models.store.default_models_dir`,
        i.e. ``$CRYVIDEO_MODELS_DIR`` or ``saved_models/``; ``--models``).
    runtime : {"tflite", "keras"}
        How the frozen backbone runs (TFLite + XNNPACK is about twice as fast on CPUs;
        ``--runtime``).
    weights_path : path, optional
        Backbone weights file or folder (else ``$CRYVIDEO_WEIGHTS_DIR``, then the Keras cache;
        ``--weights``).
    keep_artifacts : bool
        Keep the waveform, face thumbnails and per-frame predictions for reports (``--report``).
    cry_detector : str, Detector or None
        Asked first whether there is crying at all (``--cry-detector``): a backend of
        :data:`cryvideo.detection.BACKENDS` by name or alias (the default is the shipped
        YAMNet-based detector, from ``models_dir`` when it has one), or a
        :class:`~cryvideo.detection.Detector` object used as is. ``None`` turns the gate off:
        a reason is always given, from the whole track.
    cry_face : {"auto", "on", "off"}
        The infant's face in the cry gate's verdict on a video (the audio-visual verdict of
        :mod:`cryvideo.detection.audiovisual`; ``--face``). ``auto``: when the face-expression
        model is found.

    Raises
    ------
    ParameterError
        A value out of its range or of the wrong kind; the message names the option as the
        command line does (``--fps must be a number in [0.1, 240] …``).

    Examples
    --------
    >>> from cryvideo.pipeline import PredictSettings
    >>> s = PredictSettings(fps=10, use_face=False)
    >>> s.fps, s.cry_detector
    (10.0, 'yamnet-cry')
    >>> PredictSettings(fps=0)
    Traceback (most recent call last):
    ...
    cryvideo.errors.ParameterError: --fps must be a number in [0.1, 240] frames per second, got 0
    >>> Predictor(s).predict("clip.mp4")        # doctest: +SKIP
    """

    fps: float = DEFAULT_ANALYSIS_FPS
    use_face: bool = True
    window: int | None = None
    max_side: int = DEFAULT_MAX_SIDE
    models_dir: str | os.PathLike | None = None
    runtime: str = RUNTIMES[0]
    weights_path: str | os.PathLike | None = None
    keep_artifacts: bool = False
    cry_detector: str | Detector | None = DEFAULT_BACKEND
    cry_face: str = "auto"

    def __post_init__(self) -> None:
        check_number("--fps", self.fps, lo=MIN_FPS, hi=MAX_FPS, unit=" frames per second",
                     required=True)
        object.__setattr__(self, "fps", float(self.fps))
        check_number("--window", self.window, lo=1, hi=MAX_WINDOW, unit=" frames")
        if self.window is not None and self.window != int(self.window):
            raise ParameterError(f"--window must be a whole number of frames, got {self.window}")
        check_number("max_side", self.max_side, lo=MIN_MAX_SIDE, hi=1 << 16, unit=" pixels",
                     required=True)
        for name in ("use_face", "keep_artifacts"):
            if not isinstance(getattr(self, name), bool):
                raise ParameterError(f"{name} must be True or False, got "
                                     f"{getattr(self, name)!r}")
        if self.runtime not in RUNTIMES:
            raise ParameterError(f"--runtime must be one of {', '.join(RUNTIMES)}, got "
                                 f"{self.runtime!r}")
        check_face_mode(self.cry_face)
        _check_cry_detector(self.cry_detector)

    def check_files(self) -> None:
        """Check the files the settings name, before any model loads: the models folder
        exists and holds models, and ``weights_path`` exists.

        Raises
        ------
        ModelError
            The models folder is missing or holds no model.
        WeightsNotFoundError
            ``weights_path`` does not exist.
        """
        from ..models.store import check_models_dir, default_models_dir

        check_models_dir(self.models_dir if self.models_dir is not None
                         else default_models_dir())
        if self.weights_path is not None and not os.path.exists(self.weights_path):
            raise WeightsNotFoundError("no such file or folder (given with --weights)",
                                       path=self.weights_path)


def _check_cry_detector(spec) -> None:
    """ParameterError unless ``spec`` is None, a backend's name or alias, or a Detector."""
    if spec is None:
        return
    if isinstance(spec, str):
        if find_backend(spec) is None:
            raise ParameterError(f"cry detector must be one of {', '.join(BACKENDS)} or None, "
                                 f"got {spec!r}")
    elif not isinstance(spec, Detector):
        raise ParameterError(f"cry detector must be a Detector (name, threshold, "
                             f"streams_files, detect), got {type(spec).__name__}")
