"""The cry detector's networks: YAMNet (rebuilt, optionally fine-tuned at the top) + a cry head.

At run time the detector is a *patch model*: ``(batch, 96, 64)`` log-mel patches →
``(batch, 1)`` probability that the 0.96 s patch holds infant crying. Clip and segment decisions
are made from the patch probabilities by :mod:`cryvideo.detection.decisions` (a moving mean over
``window`` patches, then the maximum), the same pooling the training loss sees.

Training works on cached YAMNet features (:mod:`cryvideo.training.detector_data`), never on
patches, so the frozen layers run once:

- ``head`` recipes train a head on the frozen 1024-d embeddings;
- ``top`` recipes also fine-tune YAMNet's last two blocks (from the layer-12 activations), with a
  distillation term that keeps the 521 AudioSet outputs close to YAMNet's own, so what YAMNet
  knows of baby laughter, babbling or music is not overwritten by our few examples.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CRY_CLASS", "SOB_CLASS", "VOCAL_CLASSES", "build_head", "build_top",
           "build_mil_trainer", "build_patch_detector", "teacher_gate", "TOP_LAYERS"]

#: YAMNet's "Baby cry, infant cry" and "Crying, sobbing" classes.
CRY_CLASS, SOB_CLASS = 20, 19
#: YAMNet's classes of infant (and other) vocalisations that are *not* crying: Babbling,
#: Laughter, Baby laughter, Giggle, Snicker, Belly laugh, Chuckle.
VOCAL_CLASSES = (4, 13, 14, 15, 16, 17, 18)


def teacher_gate(logits: np.ndarray, *, eps: float, gamma: float) -> np.ndarray:
    """YAMNet's relative belief that a patch is crying rather than laughing or babbling.

    ``gate = ((c + eps) / (c + v + eps)) ** gamma`` with ``c`` the higher of YAMNet's two
    crying scores and ``v`` the highest of its laughter / babbling scores (:data:`VOCAL_CLASSES`).
    It is near 1 when YAMNet hears no laughter or babbling (also for a cry it misses under
    music), and small when it hears more laughter or babbling than crying: the detector's
    probability is multiplied by it, so what YAMNet learnt about laughing and babbling infants
    from AudioSet still counts where our data has almost none.

    Parameters
    ----------
    logits : np.ndarray [shape=(..., 521)]
    eps, gamma : float

    Returns
    -------
    np.ndarray [shape=(...)]
    """
    s = 1.0 / (1.0 + np.exp(-np.clip(np.asarray(logits, np.float64), -30, 30)))
    c = s[..., [SOB_CLASS, CRY_CLASS]].max(-1)
    v = s[..., list(VOCAL_CLASSES)].max(-1)
    return ((c + eps) / (c + v + eps)) ** gamma
#: Weighted layers of YAMNet above the fine-tuning cut (layer 12's output).
TOP_LAYERS = ("layer13_depthwise", "layer13_pointwise", "layer14_depthwise", "layer14_pointwise",
              "logits")


def _anchor_l2(w0: np.ndarray, l2: float):
    import keras
    from keras import ops

    class AnchorL2(keras.regularizers.Regularizer):
        """``l2 · ‖w − w0‖²``: a pull back towards the initial (YAMNet) weights."""

        def __call__(self, x):
            return l2 * ops.sum(ops.square(x - ops.convert_to_tensor(w0)))

    return AnchorL2()


def build_head(*, input_dim: int = 1024, hidden: int = 0, dropout: float = 0.0,
               l2: float = 0.0, init_from=None, anchor_l2: float = 0.0,
               name: str = "cry_head"):
    """A small head from one embedding to one cry logit.

    Parameters
    ----------
    input_dim : int
    hidden : int
        0: linear; else one ReLU layer of this width first.
    dropout : float
        Dropout on the input (training only).
    l2 : float
        L2 penalty on the kernels.
    init_from : (np.ndarray [shape=(input_dim,)], float), optional
        Initial weight vector and bias of a linear head (e.g. YAMNet's own "Baby cry" row).
    anchor_l2 : float
        With ``init_from``: penalty ``anchor_l2 · ‖w − w_init‖²`` instead of plain L2 (for
        training only; :func:`build_patch_detector` copies the head without it).

    Returns
    -------
    keras.Model
        ``(batch, input_dim)`` → ``(batch, 1)`` logits.
    """
    import keras
    from keras import layers

    reg = keras.regularizers.L2(l2) if l2 else None
    out_reg = reg
    if init_from is not None and anchor_l2 and not hidden:
        out_reg = _anchor_l2(np.asarray(init_from[0], np.float32).reshape(input_dim, 1),
                             float(anchor_l2))
    x_in = keras.Input((input_dim,), name="embedding")
    x = layers.Dropout(dropout, name="dropout")(x_in) if dropout else x_in
    if hidden:
        x = layers.Dense(hidden, activation="relu", kernel_regularizer=reg, name="hidden")(x)
    out = layers.Dense(1, kernel_regularizer=out_reg, name="cry_logit")(x)
    model = keras.Model(x_in, out, name=name)
    if init_from is not None and not hidden:
        w, b = init_from
        model.get_layer("cry_logit").set_weights(
            [np.asarray(w, np.float32).reshape(input_dim, 1), np.asarray([b], np.float32)])
    return model


def build_top(yamnet, *, name: str = "yamnet_top"):
    """YAMNet above layer 12, as its own model with YAMNet's weights.

    Parameters
    ----------
    yamnet : keras.Model
        From :func:`cryvideo.models.yamnet.build_yamnet` (weights loaded).

    Returns
    -------
    keras.Model
        ``(batch, 6, 4, 512)`` layer-12 activations → ``[embeddings (batch, 1024),
        logits (batch, 521)]``.
    """
    import keras
    from keras import layers

    src = yamnet.get_layer("layer12_pointwise_relu").output.shape[1:]
    x_in = keras.Input(tuple(src), name="layer12")
    x = x_in
    for i, (k, s, f) in ((13, (3, 2, 1024)), (14, (3, 1, 1024))):
        x = layers.DepthwiseConv2D(k, strides=s, padding="same", name=f"layer{i}_depthwise")(x)
        x = layers.ReLU(name=f"layer{i}_depthwise_relu")(x)
        x = layers.Conv2D(f, 1, padding="same", name=f"layer{i}_pointwise")(x)
        x = layers.ReLU(name=f"layer{i}_pointwise_relu")(x)
    emb = layers.GlobalAveragePooling2D(name="embedding")(x)
    logits = layers.Dense(yamnet.get_layer("logits").units, name="logits")(emb)
    model = keras.Model(x_in, [emb, logits], name=name)
    for n in TOP_LAYERS:
        model.get_layer(n).set_weights(yamnet.get_layer(n).get_weights())
    return model


def _window_max(p, mask, window: int):
    """Max over time of the moving mean of ``window`` patch probabilities (masked).

    A clip shorter than ``window`` patches gets the mean of all its patches.
    """
    from keras import ops

    m = ops.cast(mask, p.dtype)
    n = ops.sum(m, axis=1, keepdims=True)                       # (B, 1)
    pm = p * m
    t = ops.shape(p)[1]
    pad = ops.pad(pm, [[0, 0], [0, window - 1]])
    mpad = ops.pad(m, [[0, 0], [0, window - 1]])
    s = sum(pad[:, j:j + t] for j in range(window))
    c = sum(mpad[:, j:j + t] for j in range(window))
    need = ops.minimum(n, float(window))
    mean = s / ops.maximum(c, 1.0)
    valid = ops.logical_and(c >= need, m > 0)
    return ops.max(ops.where(valid, mean, -1.0), axis=1)


def build_mil_trainer(patch_net, *, feature_shape: tuple, window: int = 3,
                      distill_weight: float = 0.0):
    """Wrap a per-patch network so a whole clip is one training example.

    Parameters
    ----------
    patch_net : keras.Model
        Per-patch features → ``cry logit`` (``(n, 1)``), or → ``[cry logit, 521 logits]`` when
        ``distill_weight > 0``.
    feature_shape : tuple
        Shape of one patch's features (``(1024,)`` or ``(6, 4, 512)``).
    window : int
        Patches in the moving mean before the max (3 ≈ 1.9 s of audio).
    distill_weight : float
        Weight of a binary cross-entropy between the 521 outputs and YAMNet's own (the
        teacher's logits are an input), averaged over real patches; 0 turns it off.

    Returns
    -------
    keras.Model
        Called on ``[features (B, T, *feature_shape), mask (B, T), gate (B, T)]`` (plus
        ``teacher (B, T, 521)`` when distilling); returns the clip probability ``(B,)``. Each
        patch probability is multiplied by its ``gate`` (1 when there is none; see
        :func:`teacher_gate`).
    """
    import keras
    from keras import ops

    class MILTrainer(keras.Model):
        def __init__(self):
            super().__init__(name="mil_trainer")
            self.patch_net = patch_net

        def call(self, inputs, training=False):
            feats, mask, gate = inputs[0], inputs[1], inputs[2]
            b, t = ops.shape(feats)[0], ops.shape(feats)[1]
            outs = self.patch_net(ops.reshape(feats, (-1, *feature_shape)), training=training)
            cry = outs[0] if isinstance(outs, list | tuple) else outs
            p = ops.sigmoid(ops.reshape(cry, (b, t))) * gate
            if distill_weight and training:
                student = ops.reshape(outs[1], (b, t, -1))
                target = ops.sigmoid(inputs[3])
                bce = ops.mean(ops.binary_crossentropy(target, student, from_logits=True),
                               axis=-1)
                m = ops.cast(mask, bce.dtype)
                self.add_loss(distill_weight * ops.sum(bce * m) / ops.maximum(ops.sum(m), 1.0))
            return _window_max(p, mask, window)

    return MILTrainer()


def _gate_layer():
    import keras
    from keras import ops

    @keras.saving.register_keras_serializable(package="cryvideo")
    class TeacherGate(keras.layers.Layer):
        """:func:`teacher_gate` as a layer: YAMNet logits ``(B, 521)`` → gate ``(B, 1)``."""

        def __init__(self, eps: float = 0.05, gamma: float = 1.0, **kw):
            super().__init__(**kw)
            self.eps, self.gamma = float(eps), float(gamma)

        def call(self, logits):
            s = ops.sigmoid(logits)
            c = ops.max(ops.take(s, [SOB_CLASS, CRY_CLASS], axis=-1), axis=-1, keepdims=True)
            v = ops.max(ops.take(s, list(VOCAL_CLASSES), axis=-1), axis=-1, keepdims=True)
            return ops.power((c + self.eps) / (c + v + self.eps), self.gamma)

        def get_config(self):
            return {**super().get_config(), "eps": self.eps, "gamma": self.gamma}

    return TeacherGate


def build_patch_detector(yamnet, head, *, top=None, gate: tuple[float, float] | None = None,
                         name: str = "cry_detector"):
    """The run-time detector: log-mel patches → cry probability.

    Parameters
    ----------
    yamnet : keras.Model
        :func:`cryvideo.models.yamnet.build_yamnet` with weights.
    head : keras.Model
        :func:`build_head` (embedding → logit).
    top : keras.Model, optional
        A fine-tuned :func:`build_top`; replaces YAMNet's layers 13–14.
    gate : (eps, gamma), optional
        Multiply by the :func:`teacher_gate` of YAMNet's own (frozen) classifier.

    Returns
    -------
    keras.Model
        ``(batch, 96, 64)`` → ``(batch, 1)`` probabilities (plain Keras layers only).
    """
    import keras
    from keras import layers

    plain = build_head(input_dim=int(head.input.shape[-1]),
                       hidden=int(head.get_layer("hidden").units) if any(
                           la.name == "hidden" for la in head.layers) else 0)
    plain.set_weights(head.get_weights())
    head = plain
    x_in = keras.Input(tuple(yamnet.input.shape[1:]), name="patches")
    frozen = keras.Model(yamnet.input, [yamnet.get_layer("embedding").output,
                                        yamnet.get_layer("logits").output])
    if top is None:
        emb, logits = frozen(x_in)
    else:
        lower = keras.Model(yamnet.input, yamnet.get_layer("layer12_pointwise_relu").output)
        emb = top(lower(x_in))[0]
        logits = frozen(x_in)[1] if gate is not None else None
    prob = layers.Activation("sigmoid", name="cry_probability")(head(emb))
    if gate is not None:
        g = _gate_layer()(*gate, name="teacher_gate")(logits)
        prob = layers.Multiply(name="gated_probability")([prob, g])
    return keras.Model(x_in, prob, name=name)
