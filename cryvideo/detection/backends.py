"""The table of cry detection backends: the one place that lists them.

``cryvideo detect --backend``, ``predict --cry-detector``, ``listen``, the batch jobs,
:func:`cryvideo.detection.load_detector` and :func:`cryvideo.detection.shipped_file` all read
:data:`BACKENDS`. Adding a backend is one :class:`BackendSpec` row here and a loader that
returns a :class:`~cryvideo.detection.base.Detector`.

A detector that *wraps* another (an audio-visual verdict over an audio detector) is not a row:
it is applied to what :func:`~cryvideo.detection.load_detector` returns, when the row says
``wrappable``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from ..errors import ModelError, ParameterError
from ..models.store import CNN10_DETECTOR_FILE, CNN10_GATE_FILE, DEFAULT_DETECTOR_FILE
from .base import Detector

__all__ = ["BackendSpec", "BACKENDS", "backend_spec", "find_backend", "backend_choices",
           "backend_help", "hop_refusal", "live_backend", "DEFAULT_BACKEND", "FACE_MODES",
           "check_face_mode"]

#: The backend ``detect`` and ``predict`` use unless told otherwise.
DEFAULT_BACKEND = "yamnet-cry"
#: ``--face``, the face in the cry verdict of a video (:mod:`.audiovisual`): ``auto`` uses it
#: when the expression model is found (a note says when it is not), ``on`` requires it, ``off``
#: is the audio-only answer. Any ``wrappable`` backend takes it.
FACE_MODES = ("auto", "on", "off")


def check_face_mode(mode: str) -> str:
    """``mode`` if it is one of :data:`FACE_MODES` (ParameterError otherwise)."""
    if mode not in FACE_MODES:
        raise ParameterError(f"--face must be one of {', '.join(FACE_MODES)}, got {mode!r}")
    return mode


@dataclasses.dataclass(frozen=True)
class BackendSpec:
    """One cry detection backend.

    Attributes
    ----------
    name : str
        The name options take and results carry.
    aliases : tuple of str
        Older names still accepted (resolved to ``name``; never shown in choices).
    files : tuple of str
        Its shipped model files in a models folder (:mod:`cryvideo.models.store`), the one
        ``detect`` loads first; empty when it takes no model file.
    takes_model_file : bool
        Whether ``--model`` (a model file of the user's) applies.
    takes_hop : bool
        Whether its window hop can be set (``--hop``).
    loader : callable
        ``loader(path, *, threshold=None, hop=None, **options) -> Detector``; ``path`` is the
        model file (None when it takes none). Raises ModelError for a missing or bad file.
    description : str
        One phrase for the options' help.
    gate_files : tuple of str
        The files ``predict``'s cry gate looks for, preferred first (default: ``files``).
    hop_seconds : float or None
        Its fixed window hop, for messages, when ``takes_hop`` is False.
    wrappable : bool
        Whether a wrapping detector (e.g. an audio-visual verdict) may be applied to it: true
        for every audio detector.
    live : bool
        Whether ``listen`` runs it (patch by patch on live audio).
    """

    name: str
    aliases: tuple[str, ...]
    files: tuple[str, ...]
    takes_model_file: bool
    takes_hop: bool
    loader: Callable[..., Detector]
    description: str
    gate_files: tuple[str, ...] = ()
    hop_seconds: float | None = None
    wrappable: bool = True
    live: bool = False

    @property
    def shipped_file(self) -> str:
        """The file name of its shipped model (ParameterError when it takes none)."""
        if not self.files:
            raise ParameterError(f"the {self.name} detector has no model file")
        return self.files[0]

    @property
    def gate_names(self) -> tuple[str, ...]:
        """The files ``predict``'s gate looks for, preferred first."""
        return self.gate_files or self.files


# -- loaders: each imports its detector only when called (TFLite / Keras load in seconds) ------
def _load_patch(path: Path, *, threshold: float | None = None, hop: float | None = None,
                **options) -> Detector:
    from .patch_detector import PatchDetector

    if not Path(path).is_file():
        raise ModelError("cry detector not found", path=path)
    return PatchDetector(path, threshold=threshold, **options)


def _load_cnn10(path: Path, *, threshold: float | None = None, hop: float | None = None,
                **options) -> Detector:
    from .cnn10 import CNN10Detector

    return CNN10Detector.load(path, threshold=threshold, **({} if hop is None else {"hop": hop}),
                            **options)


def _load_zeroshot(path: Path | None, *, threshold: float | None = None,
                   hop: float | None = None, **options) -> Detector:
    from .zeroshot import ZEROSHOT_THRESHOLD, YamnetZeroShotDetector

    if path is not None:
        raise ParameterError("the zero-shot detector takes yamnet.tflite from "
                             "$CRYVIDEO_WEIGHTS_DIR, not a model file")
    return YamnetZeroShotDetector(threshold=ZEROSHOT_THRESHOLD if threshold is None else threshold,
                             **options)


#: Every backend, by name, the default first.
BACKENDS: dict[str, BackendSpec] = {s.name: s for s in (
    BackendSpec("yamnet-cry", (), (DEFAULT_DETECTOR_FILE,), takes_model_file=True,
                takes_hop=False, loader=_load_patch, hop_seconds=0.48, live=True,
                description="YAMNet with a trained cry head, the shipped detector"),
    BackendSpec("cnn10", (), (CNN10_DETECTOR_FILE,), takes_model_file=True, takes_hop=True,
                loader=_load_cnn10, description="the previous log-mel CNN10",
                # predict's gate prefers the dynamic-range TFLite twin: it scores like the
                # float model and starts ~40x faster than a Keras model's first call
                gate_files=(CNN10_GATE_FILE, CNN10_DETECTOR_FILE)),
    BackendSpec("yamnet-zeroshot", ("yamnet",), (), takes_model_file=False, takes_hop=False,
                loader=_load_zeroshot, hop_seconds=0.48,
                description="YAMNet's own cry classes, no training (needs yamnet.tflite in "
                "$CRYVIDEO_WEIGHTS_DIR)"),
)}

_ALIASES = {a: s.name for s in BACKENDS.values() for a in s.aliases}


def find_backend(name: str) -> BackendSpec | None:
    """The backend called ``name`` or one of its aliases; None when there is none."""
    return BACKENDS.get(_ALIASES.get(name, name))


def backend_spec(name: str) -> BackendSpec:
    """The backend called ``name`` or one of its aliases (``"yamnet"`` → ``yamnet-zeroshot``).

    Raises
    ------
    ParameterError
        No such backend.
    """
    spec = find_backend(name)
    if spec is None:
        raise ParameterError(f"unknown detector {name!r}; choose one of {', '.join(BACKENDS)}")
    return spec


def backend_choices() -> tuple[str, ...]:
    """What a ``choices=`` of an option naming a backend accepts: names, then aliases."""
    return (*BACKENDS, *_ALIASES)


def backend_help() -> str:
    """``name: description`` of every backend, for an option's help (the default marked)."""
    return "; ".join(f"{s.name}: {s.description}" + (" (default)" if s.name == DEFAULT_BACKEND
                                                      else "") for s in BACKENDS.values())


def hop_refusal(name: str, *, option: str) -> str:
    """Why ``--hop`` does not apply to the backend ``name`` (one sentence).

    ``option`` says how the message names the backends that take it: ``"--backend"`` (the
    CLI, before any model loads) or ``"detector"`` (:func:`~cryvideo.detection.load_detector`).
    """
    takers = " or ".join(s.name for s in BACKENDS.values() if s.takes_hop)
    spec = backend_spec(name)
    if option == "--backend":
        fixed = [s for s in BACKENDS.values() if not s.takes_hop]
        why = (f"the YAMNet detectors hop {spec.hop_seconds:g} s"
               if all(s.name.startswith("yamnet") for s in fixed)
               else f"{spec.name} hops {spec.hop_seconds:g} s")
        return f"--hop applies to --backend {takers} only ({why})"
    return f"--hop applies to the {takers} detector only ({spec.name} hops {spec.hop_seconds:g} s)"


def live_backend() -> BackendSpec:
    """The backend ``listen`` runs."""
    return next(s for s in BACKENDS.values() if s.live)
