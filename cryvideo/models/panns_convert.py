"""Loading PANNs PyTorch checkpoints (``Cnn10_mAP=0.380.pth``, ``Cnn14_16k_mAP=0.438.pth``) into
the Keras models of :mod:`.models`.

Needs PyTorch only to read the file (``pip install 'cryvideo[panns]'``); the converted model is
pure Keras and can be saved as ``.keras``. The checkpoint's own STFT/mel front end is not used:
:func:`.frontend.logmel` computes the same log-mel (librosa filters, ``ref=1``, ``amin=1e-10``,
no top-dB) in NumPy.

Mapping (PyTorch → Keras)::

    bn0.*                         → bn0           (per-mel batch norm)
    conv_block{i}.conv{j}.weight  → block{i}_{j}_conv  (O, I, kt, kf) → (kt, kf, I, O)
    conv_block{i}.bn{j}.*         → block{i}_{j}_bn
    fc1.weight / bias             → fc1           (transposed)
    fc_audioset.weight / bias     → output        (transposed)
"""

from __future__ import annotations

import os
import re

import numpy as np

from ..errors import ModelError

__all__ = ["read_state_dict", "infer_architecture", "convert_state_dict", "load_panns"]

_IGNORED = ("spectrogram_extractor.", "logmel_extractor.", "spec_augmenter.")


def read_state_dict(path) -> dict:
    """A PANNs checkpoint's weights as NumPy arrays (needs torch)."""
    try:
        import torch
    except ImportError:
        raise ModelError("reading a PANNs checkpoint needs PyTorch: "
                         "pip install 'cryvideo[panns]'", path=path) from None
    try:
        ckpt = torch.load(os.fspath(path), map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ModelError(f"not a readable PyTorch checkpoint ({type(exc).__name__})",
                         path=path) from None
    state = ckpt.get("model", ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise ModelError("checkpoint holds no state_dict", path=path)
    return {k: v.detach().cpu().numpy() for k, v in state.items() if hasattr(v, "detach")}


def infer_architecture(state: dict) -> tuple[str, float, int]:
    """(arch, width, n_classes) of a CNN10/CNN14 state dict."""
    blocks = sorted({int(m.group(1)) for k in state
                     if (m := re.match(r"conv_block(\d+)\.conv1\.weight$", k))})
    if blocks == [1, 2, 3, 4]:
        arch = "cnn10"
    elif blocks == [1, 2, 3, 4, 5, 6]:
        arch = "cnn14"
    else:
        raise ModelError(f"not a PANNs Cnn10/Cnn14 state dict (conv blocks {blocks})")
    width = state["conv_block1.conv1.weight"].shape[0] / 64
    n_classes = state["fc_audioset.weight"].shape[0]
    return arch, width, int(n_classes)


def _bn(state, prefix):
    return [state[f"{prefix}.weight"], state[f"{prefix}.bias"], state[f"{prefix}.running_mean"],
            state[f"{prefix}.running_var"]]


def convert_state_dict(state: dict, model) -> None:
    """Copy a PANNs CNN10/CNN14 state dict into a Keras model of the same shape (in place).

    Raises
    ------
    ModelError
        Missing or mis-shaped tensors.
    """
    used = set()

    def take(name):
        if name not in state:
            raise ModelError(f"checkpoint has no tensor {name!r}")
        used.add(name)
        return state[name]

    def assign(layer_name, weights):
        layer = model.get_layer(layer_name)
        cur = layer.get_weights()
        if [w.shape for w in cur] != [w.shape for w in weights]:
            raise ModelError(f"shape mismatch for {layer_name}: model "
                             f"{[w.shape for w in cur]}, checkpoint {[w.shape for w in weights]}")
        layer.set_weights([np.asarray(w, dtype=np.float32) for w in weights])

    def bn(prefix):
        for s in ("weight", "bias", "running_mean", "running_var"):
            take(f"{prefix}.{s}")
        return _bn(state, prefix)

    assign("bn0", bn("bn0"))
    i = 1
    while f"conv_block{i}.conv1.weight" in state:
        for j in (1, 2):
            w = take(f"conv_block{i}.conv{j}.weight")
            assign(f"block{i}_{j}_conv", [np.transpose(w, (2, 3, 1, 0))])
            assign(f"block{i}_{j}_bn", bn(f"conv_block{i}.bn{j}"))
        i += 1
    assign("fc1", [take("fc1.weight").T, take("fc1.bias")])
    assign("output", [take("fc_audioset.weight").T, take("fc_audioset.bias")])
    left = [k for k in state if k not in used and not k.startswith(_IGNORED)
            and not k.endswith("num_batches_tracked")]
    if left:
        raise ModelError(f"checkpoint tensors not converted: {left[:5]}")


def load_panns(name_or_path: str = "panns_cnn14_16k", *, pooling: str = "maxavg", **build_kw):
    """A Keras CNN10/CNN14 with a PANNs checkpoint's weights.

    Parameters
    ----------
    name_or_path : str
        ``"panns_cnn10"`` / ``"panns_cnn14_16k"`` (found by :func:`cryvideo.weights.
        resolve_weights`) or a path to a ``.pth`` file.
    pooling : str
        Pooling head (PANNs' own is "maxavg"; others start from the same conv weights).
    """
    from ..weights import KNOWN_WEIGHTS, resolve_weights
    from .panns import build_model

    if name_or_path in KNOWN_WEIGHTS:
        path = resolve_weights(name_or_path)
    else:
        path = name_or_path
    state = read_state_dict(path)
    arch, width, n_classes = infer_architecture(state)
    model = build_model(arch, width=width, n_classes=n_classes, pooling=pooling, **build_kw)
    convert_state_dict(state, model)
    return model
