"""Loading every model ``predict`` uses, in one place: the cry detector, the face branch, the
fusion model and the audio branches, from a models folder (:mod:`cryvideo.models.store`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from ..data.donateacry import DONATEACRY_CLASSES
from ..detection.backends import BACKENDS, backend_spec
from ..detection.base import Detector
from ..models.branches import Branch, default_audio_branches
from ..models.smoothing import DEFAULT_WINDOW
from ..models.store import (
    FACE_HEAD_FILE,
    FUSION_FILE,
    check_models_dir,
    default_models_dir,
    find_model,
)
from .settings import PredictSettings

__all__ = ["CRY_DETECTORS", "LoadedModels", "load_models", "load_cry_detector"]

#: Cry detectors ``predict`` can ask before giving a reason: every backend of
#: :data:`cryvideo.detection.BACKENDS`.
CRY_DETECTORS = tuple(BACKENDS)


@dataclasses.dataclass
class LoadedModels:
    """The models of one :class:`~cryvideo.pipeline.predict.Predictor`.

    Attributes
    ----------
    models_dir : Path
    notes : list of str
        Sentences for the output about models taken from elsewhere than ``models_dir``.
    cry_detector : Detector or None
    cry_detector_name : str
    face_model : cryvideo.models.face_head.FaceModel or None
    window : int
        Rolling-average window of the face branch, frames.
    fusion : keras.Model or None
    fusion_card : ModelCard or None
    fusion_source : str
    audio_branches : list of Branch
    labels : list of str
        The classes of the answer.
    """

    models_dir: Path
    notes: list[str]
    cry_detector: Detector | None = None
    cry_detector_name: str = ""
    face_model: object | None = None
    window: int = DEFAULT_WINDOW
    fusion: object | None = None
    fusion_card: object | None = None
    fusion_source: str = ""
    audio_branches: list = dataclasses.field(default_factory=list)
    labels: list = dataclasses.field(default_factory=list)


def load_cry_detector(spec, models_dir: Path, notes: list[str], *,
                      face: str = "off") -> tuple[Detector | None, str]:
    """The cry gate named by ``spec`` (a backend of :data:`CRY_DETECTORS` or an alias; a
    :class:`~cryvideo.detection.Detector` object is used as is; checked by
    :class:`~cryvideo.pipeline.settings.PredictSettings`), and how the output names it.
    The backend's ``gate_files`` are looked for in ``models_dir``, then the bundled folder; a
    model taken from the bundled folder adds a sentence to ``notes``.
    """
    if spec is None:
        return None, ""
    if not isinstance(spec, str):
        return spec, type(spec).__name__
    backend = backend_spec(spec)
    from ..detection import load_detector

    if not backend.takes_model_file:
        det, name = load_detector(backend.name), backend.name
    else:
        path, note = find_model(backend.gate_names, models_dir, what="cry detector")
        if note:  # never silently: the output says so
            notes.append(note)
        if path is None:
            det, name = load_detector(backend.name), backend.name  # names the missing file
        else:
            det, name = load_detector(backend.name, model=path), f"{backend.name} ({path.name})"
    if backend.wrappable and face != "off":
        from ..detection.audiovisual import with_face

        det, face_notes = with_face(det, face, models_dir=models_dir)
        notes += face_notes
    return det, name


def _audio_branches_for_fusion(m: LoadedModels) -> list[Branch]:
    """The audio branches the fusion card names (its own files, or the default branches);
    without a fusion model, the default branches."""
    if m.fusion_card is None:
        return default_audio_branches(m.models_dir, bundled_fallback=True, notes=m.notes)
    from ..models.audio_summary import SummaryAudioBranch

    out, defaults = [], None
    for spec in m.fusion_card.inputs.get("branches", []):
        if spec["name"] == "face":
            continue
        if spec.get("source") == "file":
            out.append(SummaryAudioBranch.load(Path(m.fusion_source).parent / spec["file"]))
        else:
            defaults = defaults if defaults is not None else {
                b.name: b for b in default_audio_branches(
                    m.models_dir, bundled_fallback=True, notes=m.notes)}
            if spec["name"] in defaults:
                out.append(defaults[spec["name"]])
    return out


def load_models(settings: PredictSettings, *,
                audio_branches: Sequence[Branch] | None = None) -> LoadedModels:
    """Load what ``predict`` needs, as ``settings`` say.

    Parameters
    ----------
    settings : PredictSettings
    audio_branches : sequence of Branch, optional
        Default: those the fusion card names, else
        :func:`cryvideo.models.branches.default_audio_branches`.

    Raises
    ------
    ModelError
        A models folder that is missing or holds no model, or a model file that is corrupt or
        does not fit its card.
    WeightsNotFoundError
        The face head's backbone weights are nowhere to be found (says where to put them).
    """
    from ..models.face_head import FaceModel

    s = settings
    m = LoadedModels(models_dir=check_models_dir(
        Path(s.models_dir) if s.models_dir is not None else default_models_dir()), notes=[])
    m.cry_detector, m.cry_detector_name = load_cry_detector(s.cry_detector, m.models_dir,
                                                            m.notes, face=s.cry_face)

    face_path, note = find_model(FACE_HEAD_FILE, m.models_dir)
    if s.use_face and face_path is not None:
        m.notes += [note] if note else []
        m.face_model = FaceModel.load(face_path, runtime=s.runtime, weights_path=s.weights_path)
    card_window = m.face_model.card.inputs.get("window") if m.face_model else None
    m.window = int(s.window if s.window is not None else card_window or DEFAULT_WINDOW)

    fusion_path, note = find_model(FUSION_FILE, m.models_dir)
    if fusion_path is not None:
        from ..models.cards import load_model_with_card

        m.notes += [note] if note else []
        m.fusion, m.fusion_card = load_model_with_card(fusion_path)
        m.fusion_source = str(fusion_path)
    m.audio_branches = list(audio_branches if audio_branches is not None
                            else _audio_branches_for_fusion(m))
    if m.fusion is not None:
        m.labels = list(m.fusion_card.labels)
    elif m.face_model is not None and not any(b.trained for b in m.audio_branches):
        m.labels = list(m.face_model.labels)
    elif m.audio_branches:
        m.labels = list(m.audio_branches[0].labels)
    else:
        m.labels = list(DONATEACRY_CLASSES)
    return m
