"""Where ``predict`` finds its models: ``--models DIR`` (or ``$CRYVIDEO_MODELS_DIR``) first, then
the ``saved_models/`` bundled with the repository, and it says so when it takes one from there."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ModelError
from .predict import Branch, UntrainedBranch

__all__ = ["default_models_dir", "bundled_models_dir", "check_models_dir", "find_model",
           "default_audio_branches", "AUDIO_MODEL_FILES", "MODEL_SUFFIXES"]

#: File of each audio branch inside the models folder (each with a ``.json`` card beside it).
AUDIO_MODEL_FILES = {"mfcc": "audio_mfcc.keras", "stft": "audio_stft.keras"}
#: What counts as a model file in a models folder.
MODEL_SUFFIXES = (".keras", ".tflite")


def bundled_models_dir() -> Path:
    """The ``saved_models/`` folder next to the package (the models shipped with cryvideo)."""
    return Path(__file__).resolve().parents[2] / "saved_models"


def default_models_dir() -> Path:
    """``$CRYVIDEO_MODELS_DIR``, else :func:`bundled_models_dir`."""
    env = os.environ.get("CRYVIDEO_MODELS_DIR")
    if env:
        return Path(env)
    return bundled_models_dir()


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
        raise ModelError("models folder does not exist", path=d)
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


def find_model(name: str, models_dir: str | os.PathLike | None = None, *,
               bundled_fallback: bool = True) -> tuple[Path | None, str | None]:
    """Look a model file up in ``models_dir``, then (``bundled_fallback``) in the bundled
    ``saved_models/``.

    A model counts as present when its file or its JSON card is there (a card without its
    model is then reported as a broken model by the loader, never skipped).

    Returns
    -------
    path : Path or None
        Where it is (None: in neither folder).
    note : str or None
        When it is the bundled one although ``models_dir`` is another folder: a sentence saying
        so, for the output (a model is never taken from elsewhere without a word).
    """
    first = Path(models_dir) if models_dir is not None else default_models_dir()
    folders = (first, bundled_models_dir()) if bundled_fallback else (first,)
    for d in dict.fromkeys(folders):
        path = d / name
        if path.exists() or path.with_suffix(".json").exists():
            note = None
            if d != first:
                note = f"{name}: not in the models folder {first}; used the bundled {path}"
            return path, note
    return None, None


def default_audio_branches(models_dir: str | os.PathLike | None = None, *,
                           bundled_fallback: bool = False,
                           notes: list[str] | None = None) -> list[Branch]:
    """The MFCC and STFT branches: trained models when present, else labelled placeholders.

    Each model is looked up with :func:`find_model`: in ``models_dir``, then, with
    ``bundled_fallback`` (what ``predict`` does), in the bundled folder; ``notes`` receives a
    sentence for every model taken from there. A branch whose model file
    (``audio_mfcc.keras`` / ``audio_stft.keras``) is not found is an :class:`UntrainedBranch`
    (reported as untrained). A file that is present but corrupt, fails
    its card's sha256, or does not fit its card raises :class:`~cryvideo.errors.ModelError`
    naming the file: a broken model is never silently replaced.
    """
    from .audio_branch import AudioBranch

    out: list[Branch] = []
    for name, fname in AUDIO_MODEL_FILES.items():
        path, note = find_model(fname, models_dir, bundled_fallback=bundled_fallback)
        if path is None:
            out.append(UntrainedBranch(name))
            continue
        out.append(AudioBranch.load(path))
        if note and notes is not None:
            notes.append(note)
    return out
