"""Cached features of the cry-detection set and the Donateacry corpus for the PANNs path.

One ``.npz`` per data set and feature kind under ``$CRYVIDEO_CACHE_DIR/panns`` holding, for
every clip, the 16 kHz log-mel (PANNs settings), the same log-mel after an 8 kHz round trip
(the band limit of Donateacry's 8 kHz recordings, used as augmentation so bandwidth cannot
predict the label), and YAMNet's frame scores and embeddings.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

import numpy as np

from .. import environment
from ..audio.augment import band_limit
from ..audio.logmel import PANNS_16K, logmel
from ..io import atomic_path

__all__ = ["ClipSet", "load_clipset", "band_limit"]

SR = 16000


@dataclasses.dataclass
class ClipSet:
    """Per-clip cached features (lists aligned with ``paths``).

    Attributes
    ----------
    name : str
    paths, labels, groups, categories : list of str
    logmel : list of np.ndarray [shape=(frames, 64)]
    logmel_bl : list of np.ndarray [shape=(frames, 64)]
        Log-mel of the 8 kHz band-limited audio.
    yamnet_scores : list of np.ndarray [shape=(windows, 521)]
    yamnet_emb : list of np.ndarray [shape=(windows, 1024)]
    """

    name: str
    paths: list
    labels: list
    groups: list
    categories: list
    logmel: list
    logmel_bl: list
    yamnet_scores: list
    yamnet_emb: list

    def __len__(self) -> int:
        return len(self.paths)


def _items(name: str, root):
    if name == "cry_detection":
        from ..data import load_cry_detection

        return [(it.path, it.label, it.group, it.category) for it in load_cry_detection(root)]
    if name == "donateacry":
        from ..data import load_donateacry

        return [(it.path, it.label, it.uuid, "cry") for it in load_donateacry(root)]
    raise ValueError(name)


def _pack(arrs: list) -> tuple[np.ndarray, np.ndarray]:
    lens = np.array([len(a) for a in arrs])
    return np.concatenate(arrs).astype(np.float32), lens


def _unpack(flat: np.ndarray, lens: np.ndarray) -> list:
    return np.split(flat, np.cumsum(lens)[:-1])


def load_clipset(name: str, root, *, cache_dir=None, yamnet_path=None,
                 progress: bool = True) -> ClipSet:
    """Features of every clip of ``name`` ("cry_detection" or "donateacry") under ``root``.

    Computed once (about a minute per data set on one core) and cached; the cache key covers
    the file list, the front-end parameters and the YAMNet file.
    """
    from ..detection.yamnet_tflite import YamNet
    from ..media import load_audio
    from ..progress import progress_bar

    items = _items(name, root)
    yam = YamNet(yamnet_path)
    key = hashlib.sha256(json.dumps([[os.path.relpath(p, root), os.path.getsize(p)]
                                     for p, *_ in items] + [PANNS_16K.to_dict(),
                                     os.path.getsize(yam.path)]).encode()).hexdigest()[:16]
    cdir = Path(cache_dir or environment.cache_dir()) / "panns"
    cfile = cdir / f"{name}-{key}.npz"
    meta = dict(paths=[p for p, *_ in items], labels=[x[1] for x in items],
                groups=[x[2] for x in items], categories=[x[3] for x in items])
    if cfile.is_file():
        z = np.load(cfile)
        return ClipSet(name=name, **meta,
                       **{k: _unpack(z[k], z[k + "_len"]) for k in
                          ("logmel", "logmel_bl", "yamnet_scores", "yamnet_emb")})
    lm, lmb, ys, ye = [], [], [], []
    for path, *_ in progress_bar(items, desc=f"features {name}", unit="clip",
                                 disable=not progress or None):
        y = load_audio(path, sr=SR)
        lm.append(logmel(y))
        lmb.append(logmel(band_limit(y)))
        s, e = yam.frames(y)
        ys.append(s)
        ye.append(e)
    cdir.mkdir(parents=True, exist_ok=True)
    out = {}
    for k, v in (("logmel", lm), ("logmel_bl", lmb), ("yamnet_scores", ys), ("yamnet_emb", ye)):
        out[k], out[k + "_len"] = _pack(v)
    with atomic_path(cfile) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **out)
    return ClipSet(name=name, **meta, logmel=lm, logmel_bl=lmb, yamnet_scores=ys,
                   yamnet_emb=ye)
