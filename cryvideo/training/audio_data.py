"""The AE+DNN branches' training data: features of Donateacry clips and of augmented copies of
each (noise, pitch ±2 st, stretch ±10 %, not-cry backgrounds), made once per clip and cached.
In each fold only the copies of *training* clips are used; test clips are always the original
recordings."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import environment
from ..audio import FeatureParams
from ..audio.augment import random_augment
from ..audio.cache import FeatureCache
from ..audio.features import features_from_waveform
from ..errors import ParameterError
from ..io import atomic_path, file_sha256
from ..progress import Progress, tracked

__all__ = ["AudioDataset", "build_dataset", "load_backgrounds"]


@dataclasses.dataclass
class AudioDataset:
    """Features of a labelled clip collection and of augmented copies of each clip.

    Attributes
    ----------
    X : dict of np.ndarray
        ``{"mfcc": (n, n_mfcc, n_frames), "stft": (n, n_fft//2+1, n_frames)}``.
    y, groups, paths : np.ndarray [shape=(n,)]
    X_aug : dict of np.ndarray
        Same kinds, ``(m, ., .)`` for ``m = n * n_aug`` augmented copies.
    aug_source : np.ndarray [shape=(m,)]
        Index of the clip each copy was made from.
    params : FeatureParams
    info : dict
        Provenance (content hash of the clips, number of copies, seed, backgrounds).
    """

    X: dict
    y: np.ndarray
    groups: np.ndarray
    paths: np.ndarray
    X_aug: dict
    aug_source: np.ndarray
    params: FeatureParams
    info: dict

    @property
    def y_aug(self) -> np.ndarray:
        return self.y[self.aug_source]


def load_backgrounds(root: str | os.PathLike | None, *, sr: int, n_max: int = 48,
                     seed: int = 0) -> tuple[list[np.ndarray], list[str]]:
    """Up to ``n_max`` not-cry clips (a seeded random pick over the folder) as waveforms.

    Parameters
    ----------
    root : path or None
        Folder of not-cry clips (``../shared/data/cry_detection/not_cry``); None: no backgrounds.

    Returns
    -------
    (waveforms, file names)
    """
    from ..media import load_audio

    if root is None:
        return [], []
    root = Path(root)
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".wav", ".mp3", ".flac",
                                                                        ".ogg"))
    if not files:
        raise ParameterError(f"no background clips in {root}")
    rng = np.random.default_rng(seed)
    pick = sorted(rng.choice(len(files), size=min(n_max, len(files)), replace=False))
    return [load_audio(files[i], sr=sr) for i in pick], [files[i].name for i in pick]


def _dataset_key(hashes: Sequence[str], params: FeatureParams, n_aug: int, seed: int,
                 bg_names: Sequence[str]) -> str:
    blob = json.dumps({"h": list(hashes), "p": params.to_dict(), "n_aug": n_aug, "seed": seed,
                       "bg": list(bg_names), "v": 1}, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:20]


def build_dataset(
    items: Sequence,
    *,
    params: FeatureParams | None = None,
    n_aug: int = 2,
    background_dir: str | os.PathLike | None = None,
    seed: int = 0,
    cache_dir: str | os.PathLike | None = None,
    progress: Progress | None = None,
) -> AudioDataset:
    """Features of ``items`` (Donateacry items: ``.path .label .uuid``) and of ``n_aug``
    augmented copies of each, cached on disk as one ``.npz``.

    Parameters
    ----------
    items : sequence of DonateacryItem
    params : FeatureParams, optional
    n_aug : int
        Augmented copies per clip (0: none).
    background_dir : path, optional
        Not-cry clips mixed in as background noise.
    seed : int
    cache_dir : path, optional
        Default ``$CRYVIDEO_CACHE_DIR/ae_dnn``.
    progress : callable, optional
        ``progress("features", done, total)`` in clips.

    Returns
    -------
    AudioDataset
    """
    from ..media import load_audio

    params = FeatureParams() if params is None else params
    if not items:
        raise ParameterError("no clips to build a dataset from")
    kinds = ("mfcc", "stft")
    hashes = [file_sha256(it.path) for it in items]
    bgs, bg_names = load_backgrounds(background_dir, sr=params.sr, seed=seed) \
        if n_aug else ([], [])
    key = _dataset_key(hashes, params, n_aug, seed, bg_names)
    root = Path(cache_dir) if cache_dir is not None else environment.cache_dir() / "ae_dnn"
    f = root / f"dataset-{key}.npz"
    y = np.asarray([it.label for it in items])
    groups = np.asarray([getattr(it, "uuid", None) or getattr(it, "group", "") for it in items])
    paths = np.asarray([it.path for it in items])
    info = {"n_clips": len(items), "n_aug": n_aug, "seed": seed,
            "content_sha256": hashlib.sha256("".join(sorted(hashes)).encode()).hexdigest(),
            "backgrounds": len(bg_names), "cache_key": key}
    if f.exists():
        try:
            with np.load(f) as z:
                X = {k: z[k] for k in kinds}
                X_aug = {k: z[f"aug_{k}"] for k in kinds}
                src = z["aug_source"]
            return AudioDataset(X, y, groups, paths, X_aug, src, params, info)
        except (OSError, ValueError, KeyError):
            pass  # rebuilt below
    fcache = FeatureCache()
    X = {k: [] for k in kinds}
    X_aug = {k: [] for k in kinds}
    src = []
    rng = np.random.default_rng(seed)
    for i, it in enumerate(tracked(list(items), progress, "features")):
        wav = None
        feats = fcache.get(it.path, params, kinds)
        if feats is None:
            wav = load_audio(it.path, sr=params.sr)
            feats = features_from_waveform(wav, params, kinds=kinds)
            fcache.put(it.path, params, feats)
        for k in kinds:
            X[k].append(feats[k])
        for _ in range(n_aug):
            if wav is None:
                wav = load_audio(it.path, sr=params.sr)
            aug, _done = random_augment(wav, sr=params.sr, rng=rng, backgrounds=bgs)
            fa = features_from_waveform(aug, params, kinds=kinds)
            for k in kinds:
                X_aug[k].append(fa[k])
            src.append(i)
    X = {k: np.stack(v).astype(np.float32) for k, v in X.items()}
    shapes = {k: X[k].shape[1:] for k in kinds}
    X_aug = {k: (np.stack(v).astype(np.float32) if v else np.zeros((0, *shapes[k]), np.float32))
             for k, v in X_aug.items()}
    src = np.asarray(src, dtype=int)
    f.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(f) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **X, **{f"aug_{k}": v for k, v in X_aug.items()}, aug_source=src)
    return AudioDataset(X, y, groups, paths, X_aug, src, params, info)
