"""Global pooling heads over the time axis (InfantCryNet, Table 4).

Every layer takes frame features ``(batch, time, channels)`` and returns one vector per clip.
All are registered Keras serializables, so ``.keras`` files that use them load with
``safe_mode=True``.

========  ==========================================  ======================
name      output                                      order of frames
========  ==========================================  ======================
max       max_t h_t                                   invariant
avg       mean_t h_t                                  invariant
maxavg    max_t h_t + mean_t h_t (PANNs)              invariant
stat      W [mean_t h_t ; var_t h_t] + b              invariant
mha       concat_k Σ_t α_kt h_kt / Σ_t α_kt           invariant
========  ==========================================  ======================
"""

from __future__ import annotations

import keras
from keras import layers, ops

__all__ = [
    "POOLINGS",
    "GlobalMaxPool",
    "GlobalAvgPool",
    "GlobalMaxAvgPool",
    "StatisticPooling",
    "MultiHeadAttentionPooling",
    "FrameSmoothing",
    "make_pooling",
]

#: Keras registration package of these layers. Saved ``.keras`` files name their layers by it
#: (it was this module's package when they were trained): keep it, or they no longer load.
PACKAGE = "cryvideo.panns"


class _GlobalPool(layers.Layer):
    """A pooling with no weights: (batch, time, C) → (batch, C)."""

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])


@keras.saving.register_keras_serializable(package=PACKAGE)
class GlobalMaxPool(_GlobalPool):
    """``max_t h_t``: (batch, time, C) → (batch, C)."""

    def call(self, x):
        return ops.max(x, axis=1)


@keras.saving.register_keras_serializable(package=PACKAGE)
class GlobalAvgPool(_GlobalPool):
    """``mean_t h_t``: (batch, time, C) → (batch, C)."""

    def call(self, x):
        return ops.mean(x, axis=1)


@keras.saving.register_keras_serializable(package=PACKAGE)
class GlobalMaxAvgPool(_GlobalPool):
    """PANNs' ``max_t h_t + mean_t h_t``: (batch, time, C) → (batch, C)."""

    def call(self, x):
        return ops.max(x, axis=1) + ops.mean(x, axis=1)


@keras.saving.register_keras_serializable(package=PACKAGE)
class StatisticPooling(layers.Layer):
    """Statistic pooling: a linear layer over the per-channel mean and variance.

    (batch, time, C) → (batch, units); ``units`` defaults to C.

    Parameters
    ----------
    units : int, optional
        Output size (default: the number of input channels).
    """

    def __init__(self, units: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        c = int(input_shape[-1])
        units = self.units or c
        self.dense = layers.Dense(units, name="linear")
        self.dense.build((input_shape[0], 2 * c))
        self._out = units

    def call(self, x):
        mean = ops.mean(x, axis=1)
        var = ops.mean(ops.square(x - ops.expand_dims(mean, 1)), axis=1)
        return self.dense(ops.concatenate([mean, var], axis=-1))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units or input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package=PACKAGE)
class MultiHeadAttentionPooling(layers.Layer):
    """Multi-head attention pooling: per head ``Σ_t α_t h_t / Σ_t α_t`` with learned α.

    The channels are split into ``heads`` equal groups; each head scores every frame with a
    linear layer over the whole frame vector followed by a softplus (α ≥ 0), and pools its own
    channel group. Heads are concatenated: (batch, time, C) → (batch, C).

    Parameters
    ----------
    heads : int
        Number of heads (must divide C).
    """

    def __init__(self, heads: int = 4, **kwargs):
        super().__init__(**kwargs)
        self.heads = int(heads)

    def build(self, input_shape):
        c = int(input_shape[-1])
        if c % self.heads:
            raise ValueError(f"{self.heads} heads do not divide {c} channels")
        self.score = layers.Dense(self.heads, name="score")
        self.score.build(input_shape)

    def call(self, x):
        c = ops.shape(x)[-1]
        alpha = ops.softplus(self.score(x)) + 1e-6                       # (B, T, H)
        xh = ops.reshape(x, (ops.shape(x)[0], ops.shape(x)[1], self.heads, c // self.heads))
        num = ops.sum(xh * ops.expand_dims(alpha, -1), axis=1)          # (B, H, C/H)
        den = ops.expand_dims(ops.sum(alpha, axis=1), -1)               # (B, H, 1)
        return ops.reshape(num / den, (ops.shape(x)[0], c))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "heads": self.heads}


@keras.saving.register_keras_serializable(package=PACKAGE)
class FrameSmoothing(layers.Layer):
    """PANNs' frame smoothing before max+avg pooling: ``maxpool3(h) + avgpool3(h)`` over time.

    Stride 1, padding 1 (zero padding counted in the average, ``-inf`` for the max), exactly as
    ``F.max_pool1d(x, 3, 1, 1) + F.avg_pool1d(x, 3, 1, 1)`` in PANNs. (batch, time, C) → same.
    """

    def call(self, x):
        big = ops.full_like(x[:, :1], -1e30)
        zero = ops.zeros_like(x[:, :1])
        xm = ops.concatenate([big, x, big], axis=1)
        xa = ops.concatenate([zero, x, zero], axis=1)
        mx = ops.maximum(ops.maximum(xm[:, :-2], xm[:, 1:-1]), xm[:, 2:])
        av = (xa[:, :-2] + xa[:, 1:-1] + xa[:, 2:]) / 3.0
        return mx + av

    def compute_output_shape(self, input_shape):
        return input_shape


POOLINGS = ("max", "avg", "maxavg", "stat", "mha")


def make_pooling(kind: str, *, heads: int = 4, name: str | None = None) -> layers.Layer:
    """A pooling layer by name (one of :data:`POOLINGS`)."""
    from ..errors import ParameterError

    name = name or f"pool_{kind}"
    if kind == "max":
        return GlobalMaxPool(name=name)
    if kind == "avg":
        return GlobalAvgPool(name=name)
    if kind == "maxavg":
        return GlobalMaxAvgPool(name=name)
    if kind == "stat":
        return StatisticPooling(name=name)
    if kind == "mha":
        return MultiHeadAttentionPooling(heads=heads, name=name)
    raise ParameterError(f"unknown pooling {kind!r}; choose from {', '.join(POOLINGS)}")
