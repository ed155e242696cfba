"""Waveforms and YAMNet features of the detection corpus, decoded and computed once, cached.

``decode_corpus`` turns every clip of :func:`cryvideo.data.cry_corpus.load_detection_corpus` into a
16 kHz mono waveform (one ``.npz`` per corpus in the cache). ``BackboneFeatures`` runs YAMNet
(the float Keras model rebuilt from ``yamnet.tflite``) over waveforms, patch by patch, and keeps
per clip the 1024-d embeddings, the 521 teacher logits and, optionally, the activations where a
fine-tune starts (``cut``), so training a head or the top blocks never reruns the frozen layers.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import environment
from ..detection.frontend import YAMNET_FRONTEND, waveform_patches
from ..io import atomic_path
from ..progress import Progress

__all__ = ["SR", "decode_corpus", "BackboneFeatures", "pack", "unpack", "CUT_LAYER"]

SR = 16000
#: Where :class:`BackboneFeatures` takes the activations a top-block fine-tune starts from.
CUT_LAYER = "layer12_pointwise_relu"


def pack(arrs: Sequence[np.ndarray], dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate arrays along axis 0 and remember their lengths."""
    lens = np.array([len(a) for a in arrs], dtype=np.int64)
    if not len(arrs):
        return np.zeros((0,), dtype), lens
    return np.concatenate(arrs).astype(dtype, copy=False), lens


def unpack(flat: np.ndarray, lens: np.ndarray) -> list[np.ndarray]:
    """Inverse of :func:`pack`."""
    return np.split(flat, np.cumsum(lens)[:-1]) if len(lens) else []


def _key(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def decode_corpus(paths: Sequence[str], *, cache_dir: str | os.PathLike | None = None,
                  progress: Progress | None = None,
                  no_cache: Sequence[bool] | None = None) -> list[np.ndarray]:
    """16 kHz mono float32 waveforms of ``paths``, decoded once and cached.

    Parameters
    ----------
    paths : sequence of str
    cache_dir : path, optional
        Default: ``$CRYVIDEO_CACHE_DIR`` (or ``~/.cache/cryvideo``) ``/detection``.
    progress : callable, optional
        ``progress("decode", done, total)`` in files.
    no_cache : sequence of bool, optional
        Files never written to the cache, decoded every time instead: those whose licence
        forbids modified copies (CC BY-NC-ND; :attr:`DetectionClip.no_derivatives`). A
        resampled waveform on disk would be one.

    Returns
    -------
    list of np.ndarray [shape=(n_i,), dtype=float32]
        Every waveform rounded to 16-bit steps (cached or not, so both give the same values).
    """
    from ..media import load_audio

    skip = [bool(x) for x in (no_cache if no_cache is not None else [False] * len(paths))]
    if len(skip) != len(paths):
        raise ValueError("no_cache must have one flag per path")
    cached = [p for p, n in zip(paths, skip, strict=True) if not n]

    def pcm16(w):
        return np.round(np.clip(w, -1, 1) * 32767).astype(np.int16)

    key = _key([[os.path.abspath(p), os.path.getsize(p), int(os.path.getmtime(p))]
                for p in cached] + [SR])
    cfile = Path(cache_dir or environment.cache_dir() / "detection") / f"waves-{key}.npz"
    done = [0]

    def tick():
        done[0] += 1
        if progress is not None:
            progress("decode", done[0], len(paths))

    if cfile.is_file():
        with np.load(cfile) as z:
            kept = list(unpack(z["pcm"], z["lens"]))
        for _ in kept:
            tick()
    else:
        kept = []
        for p in cached:
            kept.append(pcm16(load_audio(p, sr=SR)))
            tick()
        flat, lens = pack(kept, np.int16)
        cfile.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(cfile) as tmp, open(tmp, "wb") as f:
            np.savez(f, pcm=flat, lens=lens)
    out, it = [], iter(kept)
    for p, n in zip(paths, skip, strict=True):
        if n:                       # decoded and resampled in memory only
            out.append(pcm16(load_audio(p, sr=SR)))
            tick()
        else:
            out.append(next(it))
    return [w.astype(np.float32) / 32767.0 for w in out]


class BackboneFeatures:
    """YAMNet features per clip, from the float Keras model.

    Parameters
    ----------
    yamnet_path : path, optional
        ``yamnet.tflite`` (default: resolved from ``$CRYVIDEO_WEIGHTS_DIR``).
    cut : bool
        Also return the :data:`CUT_LAYER` activations ``(T, 6, 4, 512)`` (float16).
    batch : int
        Patches per model call.
    """

    def __init__(self, yamnet_path=None, *, cut: bool = False, batch: int = 256) -> None:
        import keras

        from ..models.yamnet import load_yamnet

        self.yamnet = load_yamnet(yamnet_path)
        outs = [self.yamnet.get_layer("embedding").output, self.yamnet.get_layer("logits").output]
        if cut:
            outs.append(self.yamnet.get_layer(CUT_LAYER).output)
        self.model = keras.Model(self.yamnet.input, outs)
        self.cut = cut
        self.batch = int(batch)

    def __call__(self, waves: Sequence[np.ndarray], *, progress: Progress | None = None
                 ) -> dict[str, list[np.ndarray]]:
        """Features of every waveform.

        Parameters
        ----------
        waves : sequence of np.ndarray [shape=(n_i,)]
            16 kHz mono waveforms.
        progress : callable, optional
            ``progress("patches", done, total)`` after each model call.

        Returns
        -------
        dict
            ``emb``: list of (T_i, 1024) float32; ``logits``: list of (T_i, 521) float32;
            ``cut`` (when asked): list of (T_i, 6, 4, 512) float16. ``T_i`` is the number of
            0.96 s patches (hop 0.48 s) of clip ``i``.
        """
        pats = [waveform_patches(w, YAMNET_FRONTEND) for w in waves]
        lens = [len(p) for p in pats]
        total = sum(lens)
        names = ["emb", "logits"] + (["cut"] if self.cut else [])
        out: dict[str, list] = {k: [] for k in names}
        done = 0
        pending: list[np.ndarray] = []

        def flush(arrs):
            x = np.concatenate(arrs)
            res = self.model.predict_on_batch(x)
            for k, r in zip(names, res, strict=True):
                out[k].append(np.asarray(r, np.float16 if k == "cut" else np.float32))

        for p in pats:
            pending.append(np.asarray(p))
            buf_n = sum(len(a) for a in pending)
            if buf_n >= self.batch:
                flush(pending)
                done += buf_n
                pending = []
                if progress is not None:
                    progress("patches", done, total)
        if pending:
            flush(pending)
            if progress is not None:
                progress("patches", total, total)
        return {k: unpack(np.concatenate(v), np.array(lens)) for k, v in out.items()}
