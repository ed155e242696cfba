"""CNN10, CNN14 and ResNet22 (PANNs architectures) in Keras 3, with a choice of pooling head.

Every builder takes a log-mel input of shape ``(time, n_mels)`` (see
:mod:`cryvideo.audio.logmel`), starts with PANNs' per-mel batch normalisation (``bn0``), and
ends with: mean over the mel axis →
global pooling over time (:mod:`.pooling_layers`) → dropout → ``fc1`` (ReLU) → dropout →
output dense.

``width`` scales every channel count: ``width=1`` is the paper's network (CNN10 64-128-256-512,
CNN14 64-…-2048); ``width=0.25`` is a CPU-sized network of the same architecture (CNN10
16-32-64-128).
"""

from __future__ import annotations

import keras
from keras import layers, ops

from ..errors import ParameterError
from .pooling_layers import FrameSmoothing, make_pooling

__all__ = [
    "ARCHITECTURES",
    "SpecAugment",
    "build_cnn10",
    "build_cnn14",
    "build_resnet22",
    "build_model",
    "channels",
]

#: Keras registration package of these layers. Saved ``.keras`` files name their layers by it
#: (it was this module's package when they were trained): keep it, or they no longer load.
PACKAGE = "cryvideo.panns"
BN_EPS = 1e-5        # PyTorch's default, so converted checkpoints give the same outputs
BN_MOMENTUM = 0.9    # PyTorch momentum 0.1
CNN10_CHANNELS = (64, 128, 256, 512)
CNN14_CHANNELS = (64, 128, 256, 512, 1024, 2048)


def channels(base, width: float) -> list[int]:
    """Channel counts scaled by ``width`` (at least 1 each)."""
    if not width > 0:
        raise ParameterError(f"width must be > 0, got {width}")
    return [max(1, int(round(c * width))) for c in base]


@keras.saving.register_keras_serializable(package=PACKAGE)
class SpecAugment(layers.Layer):
    """SpecAugment on a (batch, time, mel, 1) log-mel: time and frequency stripes set to zero.

    Active only when ``training=True``.

    Parameters
    ----------
    time_masks, time_width, freq_masks, freq_width : int
        Number of stripes and their maximum width (frames / mel bins), as in PANNs
        (2 stripes of ≤ 64 frames, 2 of ≤ 8 bins).
    """

    def __init__(self, time_masks: int = 2, time_width: int = 64, freq_masks: int = 2,
                 freq_width: int = 8, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.time_masks, self.time_width = int(time_masks), int(time_width)
        self.freq_masks, self.freq_width = int(freq_masks), int(freq_width)
        self.seed = seed
        self.gen = keras.random.SeedGenerator(seed)

    def _mask(self, x, axis: int, n: int, width: int):
        size = ops.shape(x)[axis]
        b = ops.shape(x)[0]
        pos = ops.cast(ops.arange(size), "float32")
        keep = ops.ones((b, size))
        for _ in range(n):
            w = keras.random.uniform((b, 1), 0, width + 1, seed=self.gen)
            w = ops.floor(ops.minimum(w, ops.cast(size, "float32")))
            start = ops.floor(keras.random.uniform((b, 1), seed=self.gen)
                              * (ops.cast(size, "float32") - w + 1))
            inside = ops.logical_and(pos[None] >= start, pos[None] < start + w)
            keep = keep * (1.0 - ops.cast(inside, "float32"))
        shape = [b, 1, 1, 1]
        shape[axis] = size
        return x * ops.reshape(keep, shape)

    def call(self, x, training=None):
        if not training:
            return x
        x = self._mask(x, 1, self.time_masks, self.time_width)
        return self._mask(x, 2, self.freq_masks, self.freq_width)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "time_masks": self.time_masks,
                "time_width": self.time_width, "freq_masks": self.freq_masks,
                "freq_width": self.freq_width, "seed": self.seed}


def _conv_bn_relu(x, c: int, name: str, kernel: int = 3):
    x = layers.Conv2D(c, kernel, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPS, momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def _conv_block(x, c: int, name: str, pool=(2, 2)):
    """PANNs ConvBlock: (3×3 conv → BN → ReLU) × 2 → average pooling."""
    x = _conv_bn_relu(x, c, f"{name}_1")
    x = _conv_bn_relu(x, c, f"{name}_2")
    if pool != (1, 1):
        x = layers.AveragePooling2D(pool, name=f"{name}_pool")(x)
    return x


def _stem(n_mels: int, spec_augment: bool, name: str):
    inp = keras.Input((None, n_mels), name="logmel")
    x = layers.Reshape((-1, n_mels, 1), name="to_image")(inp)
    x = layers.BatchNormalization(axis=2, epsilon=BN_EPS, momentum=BN_MOMENTUM, name="bn0")(x)
    if spec_augment:
        x = SpecAugment(name="spec_augment")(x)
    return inp, x


def _head(inp, x, *, emb: int, n_classes: int, pooling: str, heads: int, activation: str,
          dropout: float, smoothing: bool, name: str):
    x = MeanOverMel(name="mean_over_mel")(x)                           # (B, T', C)
    if smoothing:
        x = FrameSmoothing(name="frame_smoothing")(x)
    x = make_pooling(pooling, heads=heads)(x)
    x = layers.Dropout(dropout, name="drop_pool")(x)
    x = layers.Dense(emb, activation="relu", name="fc1")(x)
    x = layers.Dropout(dropout, name="drop_fc1")(x)
    out = layers.Dense(n_classes, activation=activation, name="output")(x)
    return keras.Model(inp, out, name=name)


@keras.saving.register_keras_serializable(package=PACKAGE)
class MeanOverMel(layers.Layer):
    """(batch, time, mel, C) → (batch, time, C): PANNs' ``torch.mean(x, dim=3)``."""

    def call(self, x):
        return ops.mean(x, axis=2)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1], input_shape[3])


def _check(pooling: str, n_classes: int):
    from .pooling_layers import POOLINGS

    if pooling not in POOLINGS:
        raise ParameterError(f"unknown pooling {pooling!r}; choose from {', '.join(POOLINGS)}")
    if int(n_classes) < 1:
        raise ParameterError(f"n_classes must be ≥ 1, got {n_classes}")


def build_cnn10(*, n_classes: int = 527, width: float = 1.0, pooling: str = "maxavg",
                heads: int = 4, n_mels: int = 64, activation: str = "sigmoid",
                dropout: float = 0.2, spec_augment: bool = False,
                smoothing: bool = False) -> keras.Model:
    """PANNs CNN10: 4 conv blocks (64-128-256-512 × width), 2×2 average pooling after each.

    Parameters
    ----------
    n_classes : int
        Outputs (527 AudioSet classes for the PANNs checkpoint; 1 for cry detection).
    width : float
        Channel multiplier (1 = paper).
    pooling : {"max", "avg", "maxavg", "stat", "mha"}
        Global pooling over time ("maxavg" is PANNs').
    heads : int
        Heads of "mha" pooling.
    activation : str
        Output activation ("sigmoid" multi-label / detection, "softmax" single-label).
    dropout : float
        Dropout before and after ``fc1`` (PANNs: 0.5; 0.2 suits small data).
    spec_augment : bool
        Insert a :class:`SpecAugment` layer after ``bn0`` (active in training only).
    smoothing : bool
        PANNs' 3-frame max+avg smoothing before pooling (:class:`.pooling_layers.FrameSmoothing`).

    Returns
    -------
    keras.Model
        Input ``(batch, time, n_mels)`` log-mel; output ``(batch, n_classes)``.
    """
    _check(pooling, n_classes)
    ch = channels(CNN10_CHANNELS, width)
    inp, x = _stem(n_mels, spec_augment, "cnn10")
    for i, c in enumerate(ch, 1):
        x = _conv_block(x, c, f"block{i}")
        x = layers.Dropout(0.2, name=f"block{i}_drop")(x)
    return _head(inp, x, emb=ch[-1], n_classes=n_classes, pooling=pooling, heads=heads,
                 activation=activation, dropout=dropout, smoothing=smoothing, name="cnn10")


def build_cnn14(*, n_classes: int = 527, width: float = 1.0, pooling: str = "maxavg",
                heads: int = 4, n_mels: int = 64, activation: str = "sigmoid",
                dropout: float = 0.2, spec_augment: bool = False,
                smoothing: bool = False) -> keras.Model:
    """PANNs CNN14: 6 conv blocks (64-128-256-512-1024-2048 × width); the last is not pooled.

    Parameters as :func:`build_cnn10`.
    """
    _check(pooling, n_classes)
    ch = channels(CNN14_CHANNELS, width)
    inp, x = _stem(n_mels, spec_augment, "cnn14")
    for i, c in enumerate(ch, 1):
        x = _conv_block(x, c, f"block{i}", pool=(2, 2) if i < 6 else (1, 1))
        x = layers.Dropout(0.2, name=f"block{i}_drop")(x)
    return _head(inp, x, emb=ch[-1], n_classes=n_classes, pooling=pooling, heads=heads,
                 activation=activation, dropout=dropout, smoothing=smoothing, name="cnn14")


def _basic_block(x, c: int, stride: int, name: str):
    """PANNs' ResNet basic block: (avg-pool 2×2 when downsampling) → 3×3 conv ×2, shortcut."""
    if stride == 2:
        x = layers.AveragePooling2D(2, name=f"{name}_down")(x)
    sc = x
    if int(x.shape[-1]) != c:
        sc = layers.Conv2D(c, 1, use_bias=False, name=f"{name}_sc_conv")(x)
        sc = layers.BatchNormalization(epsilon=BN_EPS, momentum=BN_MOMENTUM,
                                       name=f"{name}_sc_bn")(sc)
    y = _conv_bn_relu(x, c, f"{name}_1")
    y = layers.Conv2D(c, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(y)
    y = layers.BatchNormalization(epsilon=BN_EPS, momentum=BN_MOMENTUM, gamma_initializer="zeros",
                                  name=f"{name}_2_bn")(y)
    return layers.ReLU(name=f"{name}_out")(layers.Add(name=f"{name}_add")([sc, y]))


def build_resnet22(*, n_classes: int = 527, width: float = 1.0, pooling: str = "maxavg",
                   heads: int = 4, n_mels: int = 64, activation: str = "sigmoid",
                   dropout: float = 0.2, spec_augment: bool = False,
                   smoothing: bool = False) -> keras.Model:
    """PANNs ResNet22: conv block 64 → 4 stages of 2 basic blocks (64-128-256-512) →
    conv block 2048, all × width (the distillation student of InfantCryNet).

    Parameters as :func:`build_cnn10`.
    """
    _check(pooling, n_classes)
    c0, c1, c2, c3, c4, c5 = channels((64, 64, 128, 256, 512, 2048), width)
    inp, x = _stem(n_mels, spec_augment, "resnet22")
    x = _conv_block(x, c0, "block1")
    x = layers.Dropout(0.2, name="block1_drop")(x)
    for s, (c, stride) in enumerate([(c1, 1), (c2, 2), (c3, 2), (c4, 2)], 1):
        x = _basic_block(x, c, stride, f"stage{s}a")
        x = _basic_block(x, c, 1, f"stage{s}b")
    x = layers.AveragePooling2D(2, name="stage_pool")(x)
    x = layers.Dropout(0.2, name="stage_drop")(x)
    x = _conv_block(x, c5, "block_after", pool=(1, 1))
    x = layers.Dropout(0.2, name="block_after_drop")(x)
    return _head(inp, x, emb=c5, n_classes=n_classes, pooling=pooling, heads=heads,
                 activation=activation, dropout=dropout, smoothing=smoothing, name="resnet22")


ARCHITECTURES = {"cnn10": build_cnn10, "cnn14": build_cnn14, "resnet22": build_resnet22}


def build_model(arch: str, **kwargs) -> keras.Model:
    """Build ``arch`` (a key of :data:`ARCHITECTURES`) with the builder's keyword arguments."""
    if arch not in ARCHITECTURES:
        raise ParameterError(f"unknown architecture {arch!r}; choose from "
                             f"{', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[arch](**kwargs)
