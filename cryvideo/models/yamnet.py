"""YAMNet as a trainable Keras model, with every weight read from the shared TFLite file.

The architecture is YAMNet's published one (``tensorflow/models``,
``research/audioset/yamnet/yamnet.py``): MobileNet v1 on 96×64 log-mel patches — one 3×3
convolution (stride 2, 32 filters) and 13 depthwise-separable blocks (64, 128/2, 128, 256/2,
256, 512/2, 512 ×5, 1024/2, 1024), each convolution followed by batch norm and ReLU, then global
average pooling to the 1024-d embedding and a dense layer to 521 sigmoid scores.

The TFLite file (``yamnet.tflite``) stores the convolution kernels as int8 with one scale per
tensor and batch norm folded into float32 biases. :func:`load_tflite_weights` dequantizes them
into a float model with biased convolutions (the folded form), so the model can be fine-tuned.

The front end (waveform → patches) is :mod:`cryvideo.detection.frontend` (NumPy), shared with
the TFLite runtime.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import ModelError

__all__ = ["YAMNET_BLOCKS", "N_CLASSES", "EMBEDDING_DIM", "build_yamnet",
           "load_tflite_weights", "tflite_weights", "load_yamnet"]

#: (kernel, stride, filters) of the 13 depthwise-separable blocks after the first convolution.
YAMNET_BLOCKS = ((3, 1, 64), (3, 2, 128), (3, 1, 128), (3, 2, 256), (3, 1, 256), (3, 2, 512),
                 (3, 1, 512), (3, 1, 512), (3, 1, 512), (3, 1, 512), (3, 1, 512),
                 (3, 2, 1024), (3, 1, 1024))
N_CLASSES = 521
EMBEDDING_DIM = 1024
_PREFIX = "yamnet_frames/"


def _layer_names() -> list[tuple[str, str]]:
    """(keras layer name, TFLite name stem) of every weighted layer, input to output."""
    out = [("layer1_conv", "layer1/conv")]
    for i in range(2, len(YAMNET_BLOCKS) + 2):
        out += [(f"layer{i}_depthwise", f"layer{i}/depthwise_conv"),
                (f"layer{i}_pointwise", f"layer{i}/pointwise_conv")]
    return out


def _hybrid_quantize_layer():
    import keras
    from keras import ops

    @keras.saving.register_keras_serializable(package="cryvideo")
    class HybridQuantize(keras.layers.Layer):
        """What a TFLite dynamic-range ("hybrid") kernel does to its input on XNNPACK: each row
        (the last axis at one position) is quantized to int8 with its own asymmetric scale and
        zero point, then used as is. Only for checking the model against the int8 file."""

        def call(self, x):
            lo = ops.minimum(ops.min(x, axis=-1, keepdims=True), 0.0)
            hi = ops.maximum(ops.max(x, axis=-1, keepdims=True), 0.0)
            scale = ops.where(hi > lo, (hi - lo) / 255.0, 1.0)
            zero = ops.round(-128.0 - lo / scale)
            q = ops.clip(ops.round(x / scale) + zero, -128.0, 127.0)
            return (q - zero) * scale

    return HybridQuantize


def build_yamnet(*, patch_frames: int = 96, n_mels: int = 64, n_classes: int = N_CLASSES,
                 emulate_tflite: bool = False, name: str = "yamnet"):
    """YAMNet (batch norm folded into biased convolutions), untrained.

    Parameters
    ----------
    patch_frames, n_mels : int
        Input patch shape.
    n_classes : int
        Size of the sigmoid classifier.
    emulate_tflite : bool
        Insert, before every layer whose weights the TFLite file keeps as int8 (the pointwise
        convolutions and the classifier), the dynamic int8 quantization of activations that
        TFLite's hybrid kernels apply at run time (XNNPACK). With it the model reproduces the
        file's own outputs; without it (the default, for training and export) it computes in
        float32 with the dequantized weights, which differs from the file by its quantization
        noise (up to a few hundredths on a score).

    Returns
    -------
    keras.Model
        Input ``(batch, patch_frames, n_mels)`` log-mel patches; outputs
        ``[scores (batch, n_classes), embeddings (batch, 1024)]``. Layers are named
        ``layer1_conv``, ``layer{i}_depthwise``, ``layer{i}_pointwise`` (i = 2…14),
        ``embedding`` and ``logits``.
    """
    import keras
    from keras import layers

    quant = _hybrid_quantize_layer() if emulate_tflite else None
    x_in = keras.Input((patch_frames, n_mels), name="patches")
    x = layers.Reshape((patch_frames, n_mels, 1), name="reshape")(x_in)
    x = layers.Conv2D(32, 3, strides=2, padding="same", name="layer1_conv")(x)
    x = layers.ReLU(name="layer1_relu")(x)
    for i, (k, s, f) in enumerate(YAMNET_BLOCKS, start=2):
        x = layers.DepthwiseConv2D(k, strides=s, padding="same", name=f"layer{i}_depthwise")(x)
        x = layers.ReLU(name=f"layer{i}_depthwise_relu")(x)
        if quant is not None:
            x = quant(name=f"layer{i}_hybrid_quantize")(x)
        x = layers.Conv2D(f, 1, padding="same", name=f"layer{i}_pointwise")(x)
        x = layers.ReLU(name=f"layer{i}_pointwise_relu")(x)
    emb = layers.GlobalAveragePooling2D(name="embedding")(x)
    logits = layers.Dense(n_classes, name="logits")(
        emb if quant is None else quant(name="logits_hybrid_quantize")(emb))
    scores = layers.Activation("sigmoid", name="scores")(logits)
    return keras.Model(x_in, [scores, emb], name=name)


def _dequantized(it, detail) -> np.ndarray:
    a = it.get_tensor(detail["index"])
    if a.dtype == np.int8:
        scale, zero = detail["quantization"]
        return (a.astype(np.float32) - zero) * np.float32(scale)
    return a.astype(np.float32)


def tflite_weights(path: str | os.PathLike) -> dict[str, list[np.ndarray]]:
    """Every weight of ``yamnet.tflite``, dequantized and in Keras layout.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    dict
        Keras layer name → ``[kernel, bias]`` (float32): ``layer1_conv``,
        ``layer{i}_depthwise``/``_pointwise`` and ``logits``.

    Raises
    ------
    ModelError
        Not a TFLite file, or a tensor of YAMNet is missing or has another shape.
    """
    from ..tflite import make_interpreter

    path = Path(path)
    try:
        it = make_interpreter(model_path=path)
    except (ValueError, RuntimeError) as exc:
        raise ModelError(f"not a usable YAMNet TFLite model ({exc})", path=path) from None
    details = it.get_tensor_details()
    by_name = {d["name"]: d for d in details}

    def find(stem: str, kind: str) -> dict:
        if kind == "bias":
            d = by_name.get(f"{_PREFIX}{stem}/bn/FusedBatchNormV3")
            if d is not None:
                return d
        elif kind == "kernel":
            d = by_name.get(f"{_PREFIX}{stem}/Conv2D")
            if d is not None:
                return d
            # depthwise kernels carry the fused name "…/bn/FusedBatchNormV3;…/depthwise…";
            # prefer the stored (int8 or float) constant over a runtime dequantized copy
            cands = [d for d in details
                     if d["name"].startswith(f"{_PREFIX}{stem}/bn/FusedBatchNormV3;")
                     and len(d["shape"]) == 4]
            cands.sort(key=lambda d: d["dtype"] != np.int8)
            if cands:
                return cands[0]
        raise ModelError(f"YAMNet tensor {stem} ({kind}) not found: not the YAMNet TFLite "
                         "model", path=path)

    out: dict[str, list[np.ndarray]] = {}
    for keras_name, stem in _layer_names():
        k = _dequantized(it, find(stem, "kernel"))
        b = _dequantized(it, find(stem, "bias"))
        if keras_name.endswith("_depthwise"):
            k = np.transpose(k, (1, 2, 3, 0))        # [1, kh, kw, C] → [kh, kw, C, 1]
        else:
            k = np.transpose(k, (1, 2, 3, 0))        # [out, kh, kw, in] → [kh, kw, in, out]
        out[keras_name] = [k, b]
    dense = by_name.get(f"{_PREFIX}dense/MatMul")
    bias = by_name.get(f"{_PREFIX}dense/BiasAdd/ReadVariableOp/resource")
    if dense is None or bias is None:
        raise ModelError("YAMNet classifier tensors not found: not the YAMNet TFLite model",
                         path=path)
    out["logits"] = [_dequantized(it, dense).T, _dequantized(it, bias)]
    return out


def load_tflite_weights(model, path: str | os.PathLike) -> None:
    """Set every weight of a :func:`build_yamnet` model from ``yamnet.tflite``.

    Raises
    ------
    ModelError
        A tensor is missing or does not fit the model's layer.
    """
    for name, (k, b) in tflite_weights(path).items():
        layer = model.get_layer(name)
        want = [tuple(w.shape) for w in layer.get_weights()]
        if want != [k.shape, b.shape]:
            raise ModelError(f"YAMNet tensor for {name} has shapes {k.shape}, {b.shape}; the "
                             f"model expects {want}", path=path)
        layer.set_weights([k, b])


def load_yamnet(path: str | os.PathLike | None = None, *, emulate_tflite: bool = False):
    """:func:`build_yamnet` with the weights of ``yamnet.tflite``.

    Parameters
    ----------
    path : str or os.PathLike, optional
        Default: found by :func:`cryvideo.weights.resolve_weights` (``$CRYVIDEO_WEIGHTS_DIR``).
    emulate_tflite : bool
        See :func:`build_yamnet`.
    """
    from ..weights import resolve_weights

    path = resolve_weights("yamnet_tflite", path=path, allow_download=False)
    model = build_yamnet(emulate_tflite=emulate_tflite)
    load_tflite_weights(model, path)
    return model
