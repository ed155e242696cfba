"""The settings of ``cryvideo detect``: one frozen dataclass, made once (from the command line or
from Python), validated once, and carried as it is to every file's job."""

from __future__ import annotations

import dataclasses
import os

from ..detection.backends import (
    DEFAULT_BACKEND,
    FACE_MODES,
    backend_spec,
    hop_refusal,
)
from ..errors import ModelError, ParameterError, check_number

__all__ = ["DetectSettings", "MAX_HOP"]

#: Largest accepted ``hop`` (seconds between windows).
MAX_HOP = 60.0


@dataclasses.dataclass(frozen=True)
class DetectSettings:
    """How ``detect`` analyses each file.

    Parameters
    ----------
    backend : str
        A backend of :data:`cryvideo.detection.BACKENDS`, by its name or an alias (kept as its
        name).
    model : path, optional
        Detector file with its JSON card beside it (default: the backend's shipped one, for a
        backend that takes one).
    threshold : float, optional
        Decision threshold in [0, 1] (default: the model card's).
    hop : float, optional
        Seconds between windows, in (0, :data:`MAX_HOP`], for a backend that takes it.
    summary : bool
        Add minutes of crying per hour and the episodes to each record.
    face : {"auto", "on", "off"}
        The face in the cry verdict of a video (:func:`cryvideo.detection.audiovisual.with_face`):
        ``off`` gives the audio detector's records exactly.
    scores : bool
        Add every window's score to each record (``scores``: window centres and scores).

    Raises
    ------
    ParameterError
        An unknown backend or face mode, a number out of range, a ``hop`` for a backend that
        takes none. The messages name the command-line options (``--threshold``, ...).

    Examples
    --------
    >>> s = DetectSettings(backend="yamnet", threshold=0.7)
    >>> s.backend, s.threshold
    ('yamnet-zeroshot', 0.7)
    >>> DetectSettings(threshold=2)
    Traceback (most recent call last):
    ...
    cryvideo.errors.ParameterError: --threshold must be a number in [0, 1], got 2
    """

    backend: str = DEFAULT_BACKEND
    model: str | None = None
    threshold: float | None = None
    hop: float | None = None
    summary: bool = False
    face: str = FACE_MODES[0]
    scores: bool = False

    def __post_init__(self) -> None:
        spec = backend_spec(self.backend)   # an alias ("yamnet") resolves to its backend
        check_number("--threshold", self.threshold, lo=0.0, hi=1.0)
        check_number("--hop", self.hop, lo=0.0, lo_open=True, hi=MAX_HOP, unit=" seconds")
        if self.hop is not None and not spec.takes_hop:
            raise ParameterError(hop_refusal(spec.name, option="--backend"))
        if self.face not in FACE_MODES:
            raise ParameterError(f"--face must be one of {', '.join(FACE_MODES)}, got "
                                 f"{self.face!r}")
        object.__setattr__(self, "backend", spec.name)
        if self.model is not None:
            object.__setattr__(self, "model", os.fspath(self.model))
        for flag in ("summary", "scores"):
            object.__setattr__(self, flag, bool(getattr(self, flag)))

    def check_models(self) -> None:
        """Check, before any model loads, that the detector's file can be found: the
        ``model`` given exists and the backend takes one, or the models folder holds the
        shipped one.

        Raises
        ------
        ModelError
            No such model file.
        ParameterError
            A model file for a backend that takes none.
        """
        spec = backend_spec(self.backend)
        if self.model is not None and not os.path.isfile(self.model):
            raise ModelError("no such model file (given with --model)", path=self.model)
        if self.model is not None and not spec.takes_model_file:
            from ..detection import load_detector

            load_detector(spec.name, model=self.model)   # says why the backend takes none
        if self.model is None and spec.takes_model_file:
            from ..models.store import check_models_dir, default_models_dir

            check_models_dir(default_models_dir())
