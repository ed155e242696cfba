"""Frozen ImageNet backbones for the face branch: ResNet-50 (the paper's) and MobileNet 0.25.

A :class:`Backbone` maps face crops ``(n, 224, 224, 3)`` uint8 RGB to feature maps
``(n, 7, 7, C)``; the trainable head (pooling → flatten → dense → softmax) sits on those.
Weights are resolved without a network first (:func:`cryvideo.weights.resolve_weights`:
explicit path → ``$CRYVIDEO_WEIGHTS_DIR`` → Keras cache → Keras's download) and random
initialisation is used only when asked for explicitly (``weights="random"``).

Two runtimes compute the same network: Keras (``runtime="keras"``) and a TFLite fp32 copy run by
XNNPACK (``runtime="tflite"``, about twice as fast on CPUs), converted once and cached on disk,
keyed by the backbone name and the weights file's hash.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import ModelError, ParameterError, first_line

__all__ = [
    "BACKBONES",
    "Backbone",
    "BackboneSpec",
    "build_backbone",
    "load_backbone",
    "backbone_cache_dir",
    "RUNTIMES",
]

INPUT_SIZE = 224
#: How a backbone can run: TFLite + XNNPACK (about twice as fast on CPUs), or Keras.
RUNTIMES = ("tflite", "keras")


@dataclasses.dataclass(frozen=True)
class BackboneSpec:
    """How to build one backbone."""

    name: str
    weights_name: str  # key of cryvideo.weights.KNOWN_WEIGHTS
    channels: int
    preprocessing: str  # "caffe" (ResNet-50) or "tf" ([-1, 1], MobileNet)
    gflop_per_frame: float  # 2 × multiply-adds at 224²


#: Known backbones. ``resnet50`` is the paper's and the product default.
BACKBONES: dict[str, BackboneSpec] = {
    "resnet50": BackboneSpec("resnet50", "resnet50_imagenet_notop", 2048, "caffe", 8.2),
    "mobilenet": BackboneSpec("mobilenet", "mobilenet_0.25_imagenet_notop", 256, "tf", 0.08),
}


def _keras_model(name: str, weights: str | None):
    import keras

    shape = (INPUT_SIZE, INPUT_SIZE, 3)
    if name == "resnet50":
        return keras.applications.ResNet50(include_top=False, weights=weights, input_shape=shape)
    if name == "mobilenet":
        return keras.applications.MobileNet(alpha=0.25, include_top=False, weights=weights,
                                            input_shape=shape)
    raise ParameterError(f"unknown backbone {name!r}; choose from {sorted(BACKBONES)}")


def preprocess(images: np.ndarray, mode: str) -> np.ndarray:
    """ImageNet preprocessing of uint8 RGB crops, as Keras applications expect.

    Parameters
    ----------
    images : np.ndarray [shape=(n, 224, 224, 3), dtype=uint8]
    mode : {"caffe", "tf"}
        ``caffe``: RGB→BGR and ImageNet mean subtraction (ResNet-50); ``tf``: scale to [-1, 1].

    Returns
    -------
    np.ndarray [shape=(n, 224, 224, 3), dtype=float32]
    """
    x = np.asarray(images, dtype=np.float32)
    if mode == "caffe":
        x = x[..., ::-1] - np.array([103.939, 116.779, 123.68], dtype=np.float32)
        return np.ascontiguousarray(x)
    if mode == "tf":
        return x / 127.5 - 1.0
    raise ParameterError(f"unknown preprocessing {mode!r}")


@contextlib.contextmanager
def _stdout_to_stderr():
    """Send file descriptor 1 to stderr for a while (keeps stdout clean for results/JSON)."""
    import sys

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def backbone_cache_dir() -> Path:
    """Where converted TFLite backbones are kept: ``backbones/`` in the one cache root
    (:func:`cryvideo.environment.cache_dir`)."""
    from .. import environment

    return environment.cache_dir() / "backbones"


def _file_key(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()[:16]


class Backbone:
    """A frozen feature extractor.

    Attributes
    ----------
    spec : BackboneSpec
    weights_id : str
        ``"imagenet:<sha256[:16]>"`` or ``"random:<seed>"``: identifies the features (cache key).
    weights_path : str or None
    runtime : str
        ``"keras"`` or ``"tflite"``.
    output_shape : tuple
        ``(7, 7, C)``.
    """

    def __init__(self, spec: BackboneSpec, model, *, weights_id: str,
                 weights_path: str | None, runtime: str = "keras", threads: int | None = None,
                 batch_size: int = 16) -> None:
        self.spec = spec
        self.model = model
        self.model.trainable = False
        self.weights_id = weights_id
        self.weights_path = weights_path
        self.batch_size = int(batch_size)
        self.output_shape = tuple(int(d) for d in model.output.shape[1:])
        self.runtime = "keras"
        self._interp = None
        self._call: Callable[[np.ndarray], np.ndarray] = self._keras_call
        if runtime == "tflite":
            self._interp = self._tflite_interpreter(threads)
            self.runtime = "tflite"
            self._call = self._tflite_call
        elif runtime not in RUNTIMES:
            raise ParameterError(f"runtime must be one of {', '.join(RUNTIMES)}, got {runtime!r}")

    @property
    def name(self) -> str:
        return self.spec.name

    def describe(self) -> dict:
        """JSON-able description (goes on model cards)."""
        return {"name": self.spec.name, "weights": self.weights_name_for_card(),
                "weights_id": self.weights_id, "preprocessing": self.spec.preprocessing,
                "input_size": INPUT_SIZE, "output_shape": list(self.output_shape)}

    def weights_name_for_card(self) -> str:
        return "random" if self.weights_id.startswith("random") else self.spec.weights_name

    # -- runtimes ---------------------------------------------------------------------------
    def _keras_call(self, x: np.ndarray) -> np.ndarray:
        # One traced graph for a fixed batch size (the last batch is padded): eager calls cost
        # a Python dispatch per layer, and new shapes would re-trace.
        if getattr(self, "_graph", None) is None:
            import tensorflow as tf

            self._graph = tf.function(lambda t: self.model(t, training=False))
        n = len(x)
        if n < self.batch_size:
            x = np.concatenate([x, np.zeros((self.batch_size - n, *x.shape[1:]), x.dtype)])
        return np.asarray(self._graph(x))[:n]

    def _tflite_interpreter(self, threads: int | None):
        from ..tflite import default_threads, make_interpreter, quiet_stderr

        path = backbone_cache_dir() / f"{self.spec.name}-{self.weights_id.replace(':', '-')}.tflite"
        if not path.is_file():
            import tensorflow as tf

            from ..io import atomic_path

            conv = tf.lite.TFLiteConverter.from_keras_model(self.model)
            with _stdout_to_stderr():  # the converter prints the exported signature on stdout
                data = conv.convert()
            with atomic_path(path) as tmp:
                tmp.write_bytes(data)
        threads = threads or default_threads()
        interp = make_interpreter(model_path=path, num_threads=threads, allocate=False)
        inp = interp.get_input_details()[0]
        interp.resize_tensor_input(inp["index"], [1, INPUT_SIZE, INPUT_SIZE, 3])
        with quiet_stderr():  # the runtime logs its XNNPACK delegate here
            interp.allocate_tensors()
        self._in = inp["index"]
        self._out = interp.get_output_details()[0]["index"]
        self.tflite_path = str(path)
        return interp

    def _tflite_call(self, x: np.ndarray) -> np.ndarray:
        out = np.empty((len(x), *self.output_shape), dtype=np.float32)
        for i in range(len(x)):
            self._interp.set_tensor(self._in, x[i : i + 1])
            self._interp.invoke()
            out[i] = self._interp.get_tensor(self._out)[0]
        return out

    # -- public -----------------------------------------------------------------------------
    def features(self, crops: np.ndarray) -> np.ndarray:
        """Feature maps of face crops, in batches.

        Parameters
        ----------
        crops : np.ndarray [shape=(n, 224, 224, 3), dtype=uint8]
            RGB face crops.

        Returns
        -------
        np.ndarray [shape=(n, 7, 7, C), dtype=float32]
        """
        crops = np.asarray(crops)
        if crops.ndim != 4 or crops.shape[1:] != (INPUT_SIZE, INPUT_SIZE, 3):
            raise ParameterError(f"expected crops (n, {INPUT_SIZE}, {INPUT_SIZE}, 3), "
                                 f"got {crops.shape}")
        if len(crops) == 0:
            return np.zeros((0, *self.output_shape), dtype=np.float32)
        outs = []
        for s in range(0, len(crops), self.batch_size):
            x = preprocess(crops[s : s + self.batch_size], self.spec.preprocessing)
            outs.append(self._call(x))
        return np.concatenate(outs).astype(np.float32, copy=False)


def build_backbone(
    name: str = "resnet50",
    *,
    weights: str | os.PathLike | None = "imagenet",
    seed: int = 0,
    runtime: str = "keras",
    threads: int | None = None,
    batch_size: int = 16,
    allow_download: bool = True,
) -> Backbone:
    """Build a frozen backbone.

    Parameters
    ----------
    name : {"resnet50", "mobilenet"}
        ``mobilenet`` is Keras MobileNet v1 with alpha 0.25 (small; for tests and small machines).
    weights : "imagenet", "random", or path
        ``"imagenet"``: resolved by :func:`cryvideo.weights.resolve_weights`
        (``$CRYVIDEO_WEIGHTS_DIR`` → Keras cache → download); a path: that file or folder;
        ``"random"``: random initialisation (only when asked for explicitly).
    seed : int
        Seed of the random initialisation.
    runtime : {"keras", "tflite"}
    threads : int, optional
        TFLite threads (default: :func:`cryvideo.tflite.default_threads`, $CRYVIDEO_THREADS or up
        to 4, the CPU count).
    batch_size : int
        Crops per backbone call.
    allow_download : bool
        Let Keras try its own download as the last resort.

    Raises
    ------
    WeightsNotFoundError
        ImageNet weights not found; the message says which file to put where.
    """
    from ..weights import resolve_weights

    if name not in BACKBONES:
        raise ParameterError(f"unknown backbone {name!r}; choose from {sorted(BACKBONES)}")
    spec = BACKBONES[name]
    if weights is None or weights == "random":
        import keras

        keras.utils.set_random_seed(seed)
        model = _keras_model(name, None)
        return Backbone(spec, model, weights_id=f"random:{seed}", weights_path=None,
                        runtime=runtime, threads=threads, batch_size=batch_size)
    with _stdout_to_stderr():  # Keras's download prints progress on stdout
        path = resolve_weights(spec.weights_name,
                               path=None if weights == "imagenet" else weights,
                               allow_download=allow_download)
    try:
        model = _keras_model(name, str(path))
    except (ValueError, OSError) as exc:
        msg = first_line(str(exc)) or type(exc).__name__
        raise ModelError(f"could not load {name} weights ({msg})", path=path) from None
    return Backbone(spec, model, weights_id=f"imagenet:{_file_key(path)}",
                    weights_path=str(path), runtime=runtime, threads=threads,
                    batch_size=batch_size)


def load_backbone(description: dict, *, runtime: str = "keras",
                  weights_path: str | os.PathLike | None = None) -> Backbone:
    """Rebuild the backbone a face head was trained on, from its card's description.

    The features must be identical: a head trained on ImageNet features is refused random
    weights, and the weights file found must have the same hash as the one used in training.
    """
    name = description.get("name")
    wid = str(description.get("weights_id", ""))
    if wid.startswith("random:"):
        return build_backbone(name, weights="random", seed=int(wid.split(":", 1)[1]),
                              runtime=runtime)
    bb = build_backbone(name, weights=weights_path or "imagenet", runtime=runtime)
    if wid and bb.weights_id != wid:
        raise ModelError(
            f"the {name} weights found ({bb.weights_path}, {bb.weights_id}) differ from those "
            f"the face head was trained on ({wid})", path=bb.weights_path)
    return bb
