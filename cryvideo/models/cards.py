"""Saving and loading trained models with a JSON *card* beside them.

``model.keras`` is accompanied by ``model.json``: labels, feature parameters, training data (and
its hash), metrics, and the sha256 of the model file. Loading verifies that hash and uses Keras's
``safe_mode=True`` (no code from the file is ever executed), so a corrupt, swapped or tampered
file is refused with a message naming it.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
import zipfile
from pathlib import Path
from typing import Any

from ..errors import ModelError, first_line
from ..io import DictForm, atomic_path, write_json_atomic

__all__ = [
    "ModelCard",
    "MODEL_SUFFIXES",
    "card_path",
    "derived_card",
    "read_card",
    "save_model_with_card",
    "load_model_with_card",
    "verify_model_file",
]

CARD_VERSION = 1
#: Model files a card can describe: a Keras model, or the bytes of a TFLite or ONNX file.
MODEL_SUFFIXES = (".keras", ".tflite", ".onnx")


@dataclasses.dataclass
class ModelCard(DictForm):
    """What a trained model is, what it was trained on, and how well it does.

    Attributes
    ----------
    name : str
        Short identifier, e.g. ``"audio_mfcc"``.
    kind : str
        What the model does, e.g. ``"reason-classifier"``, ``"cry-detector"``.
    labels : list of str
        Output classes, in output order.
    inputs : dict
        Input description: feature parameters, shapes, preprocessing.
    training : dict
        Data used (name, path, number of clips, content hash), epochs, seed, …
    metrics : dict
        Evaluation results (grouped protocol), with baselines.
    file : str
        Model file name (relative to the card).
    sha256 : str
        Hash of the model file.
    created : str
        ISO timestamp.
    trained : bool
        False for a placeholder with untrained weights (never to be passed off as a result).
    extra : dict
        Anything else.
    """

    name: str
    kind: str
    labels: list[str]
    inputs: dict = dataclasses.field(default_factory=dict)
    training: dict = dataclasses.field(default_factory=dict)
    metrics: dict = dataclasses.field(default_factory=dict)
    file: str = ""
    sha256: str = ""
    created: str = ""
    trained: bool = True
    extra: dict = dataclasses.field(default_factory=dict)
    card_version: int = CARD_VERSION


def card_path(model_path: str | os.PathLike) -> Path:
    """The card of ``x.keras`` / ``x.tflite`` is ``x.json`` beside it."""
    return Path(model_path).with_suffix(".json")


def _sha256(path) -> str:
    from ..io import file_sha256

    return file_sha256(path)


def read_card(model_path: str | os.PathLike) -> ModelCard:
    """Read the card beside ``model_path``.

    Raises
    ------
    ModelError
        Missing or unreadable card.
    """
    cp = card_path(model_path)
    if not cp.is_file():
        raise ModelError("model card (JSON) is missing", path=cp)
    try:
        return ModelCard.from_dict(json.loads(cp.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as exc:
        raise ModelError(f"model card is not valid JSON ({exc})", path=cp) from None


def verify_model_file(model_path: str | os.PathLike, card: ModelCard | None = None) -> ModelCard:
    """Check that the model file exists and matches the sha256 in its card.

    Raises
    ------
    ModelError
        Missing file, missing card, or hash mismatch (corrupt or replaced file).
    """
    mp = Path(model_path)
    if not mp.is_file():
        raise ModelError("model file not found", path=mp)
    card = read_card(mp) if card is None else card
    digest = _sha256(mp)
    if card.sha256 and digest != card.sha256:
        raise ModelError(
            f"sha256 mismatch: file is {digest[:12]}…, card says {card.sha256[:12]}… "
            "(corrupt or replaced model file)",
            path=mp,
        )
    return card


def save_model_with_card(model: Any, path: str | os.PathLike, card: ModelCard) -> ModelCard:
    """Save a Keras model (``.keras``) or TFLite / ONNX bytes (``.tflite``, ``.onnx``) and its
    card, atomically.

    Parameters
    ----------
    model : keras.Model or bytes
        A Keras model, or the serialized bytes of a ``.tflite`` or ``.onnx`` model.
    path : str or os.PathLike
        Destination ending in one of :data:`MODEL_SUFFIXES`.
    card : ModelCard
        Filled in with ``file``, ``sha256`` and ``created``.

    Returns
    -------
    ModelCard
        The card as written.
    """
    path = Path(path)
    if path.suffix not in MODEL_SUFFIXES:
        raise ModelError("model path must end in .keras, .tflite or .onnx", path=path)
    if (path.suffix == ".keras") == isinstance(model, bytes | bytearray):
        raise ModelError("a .keras path takes a Keras model, a .tflite or .onnx path its "
                         "bytes", path=path)
    with atomic_path(path) as tmp:
        if isinstance(model, bytes | bytearray):
            tmp.write_bytes(bytes(model))
        else:
            model.save(tmp)
        digest = _sha256(tmp)
    card.file = path.name
    card.sha256 = digest
    card.created = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    write_json_atomic(card_path(path), card.to_dict())
    return card


def derived_card(card: ModelCard, **extra: Any) -> ModelCard:
    """The card of a file made from ``card``'s model (an export, a quantized copy): the same
    name, labels, inputs, training and metrics, with ``extra`` merged into its ``extra``;
    :func:`save_model_with_card` fills in the new file's name, hash and date.

    Examples
    --------
    >>> from cryvideo.models.cards import ModelCard, derived_card
    >>> card = ModelCard(name="audio_mfcc", kind="reason-classifier", labels=["a", "b"],
    ...                  sha256="ab12", extra={"threshold": 0.5})
    >>> derived_card(card, format="tflite", exported_from="audio_mfcc.keras").extra
    {'threshold': 0.5, 'format': 'tflite', 'exported_from': 'audio_mfcc.keras'}
    """
    return dataclasses.replace(card, extra={**card.extra, **extra})


def load_model_with_card(
    path: str | os.PathLike,
    *,
    custom_objects: dict | None = None,
    verify: bool = True,
):
    """Load a ``.keras`` model safely, after checking it against its card.

    Parameters
    ----------
    path : str or os.PathLike
    custom_objects : dict, optional
        Extra classes (must be registered Keras serializables; no lambdas are deserialized).
    verify : bool
        Check the sha256 (leave on unless you know what you are doing).

    Returns
    -------
    (keras.Model, ModelCard)

    Raises
    ------
    ModelError
        Missing, corrupt, mismatched, or unsafe model file.
    """
    import keras

    path = Path(path)
    card = verify_model_file(path) if verify else read_card(path)
    if path.suffix != ".keras":
        raise ModelError("only .keras files load as Keras models", path=path)
    if not zipfile.is_zipfile(path):
        raise ModelError("not a valid .keras file (not a zip archive)", path=path)
    try:
        model = keras.saving.load_model(path, custom_objects=custom_objects, safe_mode=True,
                                        compile=False)
    except Exception as exc:  # keras raises many types for bad files
        msg = first_line(str(exc)) or type(exc).__name__
        raise ModelError(f"could not load model ({msg})", path=path) from None
    return model, card
