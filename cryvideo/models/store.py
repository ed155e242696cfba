"""Where the trained models live, and what their files are called: the bundled models folder,
or a folder of the user's (``--models DIR`` / ``$CRYVIDEO_MODELS_DIR``), which is always looked
in first. This is the one module that knows the folder's layout.

The bundled folder is ``saved_models/`` at the top of a source checkout (also what an editable
install sees). An installed wheel holds its model files and cards as package data, in
``cryvideo/saved_models/`` (``setup.py`` maps the top-level folder there; what ships is every
``.keras``/``.tflite`` model and ``.json`` card but :data:`UNSHIPPED_FILES`), found through
:mod:`importlib.resources`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from .. import environment
from ..errors import ModelError

__all__ = ["default_models_dir", "bundled_models_dir", "check_models_dir", "find_model",
           "lite_twin", "MODEL_SUFFIXES", "AUDIO_MODEL_FILES", "FACE_HEAD_FILE", "FUSION_FILE",
           "VIDEO_AUDIO_FILE", "CNN10_DETECTOR_FILE", "CNN10_GATE_FILE",
           "CNN10_QUANTIZED_FILE", "DEFAULT_DETECTOR_FILE", "FLOAT_DETECTOR_FILE",
           "FACE_VERDICT_CARD", "MODELS_DIR_ENV", "BUNDLED_DIR_NAME", "UNSHIPPED_FILES"]

#: What counts as a model file in a models folder.
MODEL_SUFFIXES = (".keras", ".tflite")

# -- the files of a models folder (each model has a ``.json`` card beside it) ---------------
#: The reason branches on audio (``cryvideo train-audio``), by branch name.
AUDIO_MODEL_FILES = {"mfcc": "audio_mfcc.keras", "stft": "audio_stft.keras"}
#: The face branch's head (``cryvideo train``).
FACE_HEAD_FILE = "face_head.keras"
#: The concatenate fusion (``cryvideo train``).
FUSION_FILE = "fusion.keras"
#: The audio branches trained beside the fusion on video clips (``cryvideo train``); format
#: with the branch name.
VIDEO_AUDIO_FILE = "video_audio_{}.keras"
#: The shipped YAMNet-based cry detector (``yamnet-cry``): the int8 TFLite file that runs, and
#: its float twin.
DEFAULT_DETECTOR_FILE = "cry_detector_yamnet_int8.tflite"
FLOAT_DETECTOR_FILE = "cry_detector_yamnet.tflite"
#: The previous log-mel CNN10 cry detector (``cnn10``), Keras.
CNN10_DETECTOR_FILE = "cry_detector.keras"
#: Its TFLite twins, by quantization; ``predict`` prefers the dynamic-range one for its cry
#: gate: it scores like the float model and starts ~40x faster.
CNN10_QUANTIZED_FILE = "cry_detector_{}.tflite"
CNN10_GATE_FILE = CNN10_QUANTIZED_FILE.format("dynamic")
#: The card of the audio-visual cry verdict: the face-veto rule's constants, fixed by principle
#: (no model file: the rule uses pretrained face models resolved from the weights folders).
FACE_VERDICT_CARD = "face_verdict.json"

# -- where the folder is -----------------------------------------------------------------------
#: The environment variable that names the user's models folder (as ``--models DIR`` does).
MODELS_DIR_ENV = environment.MODELS_DIR_ENV
#: The bundled folder's name: at the top of a source checkout, and inside an installed package.
BUNDLED_DIR_NAME = "saved_models"
#: Files of the source checkout's folder that an installed package leaves out (no command
#: loads them; ``setup.py`` excludes them): the float twin of the shipped YAMNet detector
#: (15 MB; ``cryvideo detect`` runs its int8 copy) and its card. Besides these, only model
#: files and ``.json`` cards ship (no training curves).
UNSHIPPED_FILES = (FLOAT_DETECTOR_FILE, str(Path(FLOAT_DETECTOR_FILE).with_suffix(".json")))


def lite_twin(path: str | os.PathLike) -> Path:
    """``x_float32.tflite`` beside ``x.keras``: what ``cryvideo export x.keras`` writes."""
    path = Path(path)
    return path.with_name(f"{path.stem}_float32.tflite")


def bundled_models_dir() -> Path:
    """The models folder shipped with cryvideo.

    ``cryvideo/saved_models/`` inside the installed package (a wheel's package data), else
    ``saved_models/`` beside the package (a source checkout or an editable install). When
    neither exists (a broken install), the package's one, which :func:`check_models_dir` then
    reports as missing.
    """
    try:
        packaged = resources.files(__name__.partition(".")[0]) / BUNDLED_DIR_NAME
    except (ImportError, TypeError, ValueError):  # no importable package data (zip, frozen)
        packaged = None
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / BUNDLED_DIR_NAME
    if checkout.is_dir() or not isinstance(packaged, Path):
        return checkout
    return packaged


def default_models_dir() -> Path:
    """``$CRYVIDEO_MODELS_DIR``, else :func:`bundled_models_dir`."""
    return environment.models_dir() or bundled_models_dir()


def check_models_dir(models_dir: str | os.PathLike) -> Path:
    """A models folder must exist and hold at least one model file.

    Raises
    ------
    ModelError
        Naming the folder: it does not exist, is not a folder, or has no ``.keras`` /
        ``.tflite`` file (an empty or wrong folder is a mistake to report, not a reason to
        quietly use other models).
    """
    d = Path(models_dir)
    if not d.exists():
        raise ModelError(f"models folder does not exist ({_missing_hint(d)})", path=d)
    if not d.is_dir():
        raise ModelError("is not a folder (the models folder must be one)", path=d)
    try:
        has_model = any(f.suffix in MODEL_SUFFIXES and f.is_file() for f in d.iterdir())
    except OSError as exc:
        raise ModelError(f"models folder cannot be read ({exc.strerror or exc})",
                         path=d) from None
    if not has_model:
        raise ModelError("models folder has no model file (.keras or .tflite)", path=d)
    return d


def _missing_hint(folder: Path) -> str:
    """What to do about a models folder that does not exist, naming ``$CRYVIDEO_MODELS_DIR``."""
    env = environment.models_dir()
    if env and env == folder:
        return f"named by ${MODELS_DIR_ENV}; unset it to use the bundled models"
    if folder == bundled_models_dir():
        return (f"the bundled models are not installed: set ${MODELS_DIR_ENV} or pass --models "
                "DIR to name a folder of models, or reinstall cryvideo")
    return (f"--models and ${MODELS_DIR_ENV} must name an existing folder of models; without "
            "either, the bundled models are used")


def find_model(names: str | Sequence[str], models_dir: str | os.PathLike | None = None, *,
               bundled_fallback: bool = True, what: str | None = None
               ) -> tuple[Path | None, str | None]:
    """Look a model up in ``models_dir``, then (``bundled_fallback``) in the bundled
    ``saved_models/``.

    Parameters
    ----------
    names : str or sequence of str
        File names of the model, preferred first (e.g. a TFLite twin, then the ``.keras``); a
        folder is searched for all of them before the next folder.
    models_dir : path, optional
        Default: :func:`default_models_dir`.
    what : str, optional
        How the note names the model (default: the first name).

    A model counts as present when its file or its JSON card is there (a card without its
    model is then reported as a broken model by the loader, never skipped).

    Returns
    -------
    path : Path or None
        Where it is (None: in no folder).
    note : str or None
        When it is the bundled one although ``models_dir`` is another folder: a sentence saying
        so, for the output (a model is never taken from elsewhere without a word).
    """
    names = [names] if isinstance(names, str) else list(names)
    first = Path(models_dir) if models_dir is not None else default_models_dir()
    folders = (first, bundled_models_dir()) if bundled_fallback else (first,)
    for d in dict.fromkeys(folders):
        for name in names:
            path = d / name
            if path.exists() or path.with_suffix(".json").exists():
                note = None
                if d != first:
                    note = (f"{what or names[0]}: not in the models folder {first}; used the "
                            f"bundled {path}")
                return path, note
    return None, None
