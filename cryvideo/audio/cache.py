"""On-disk feature cache keyed by file content and feature parameters (under the package's
cache root, :func:`cryvideo.environment.cache_dir`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import environment
from ..io import atomic_path, file_sha256
from .features import FeatureParams

__all__ = ["FeatureCache"]


class FeatureCache:
    """Cache of computed features: one ``.npz`` per (file content, parameters).

    Parameters
    ----------
    root : str or os.PathLike, optional
        Cache folder (default: :func:`cryvideo.environment.cache_dir` ``/ "features"``).

    Attributes
    ----------
    hits, misses : int
        Counters since creation.
    """

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = Path(root) if root is not None else environment.cache_dir() / "features"
        self.hits = 0
        self.misses = 0

    def _file(self, path, params: FeatureParams) -> Path:
        digest = file_sha256(path)
        return self.root / params.key() / digest[:2] / f"{digest}.npz"

    def get(self, path, params: FeatureParams, kinds: Sequence[str]) -> dict | None:
        """Cached features of ``path`` for ``kinds``, or None on a miss."""
        f = self._file(path, params)
        if f.exists():
            try:
                with np.load(f) as z:
                    if all(k in z.files for k in kinds):
                        self.hits += 1
                        return {k: z[k] for k in kinds}
            except (OSError, ValueError):
                pass  # a corrupt entry is recomputed
        self.misses += 1
        return None

    def put(self, path, params: FeatureParams, feats: dict) -> None:
        """Store features (merging with kinds already cached for the same file)."""
        f = self._file(path, params)
        f.parent.mkdir(parents=True, exist_ok=True)
        merged = {}
        if f.exists():
            try:
                with np.load(f) as z:
                    merged = {k: z[k] for k in z.files}
            except (OSError, ValueError):
                merged = {}
        merged.update(feats)
        with atomic_path(f) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, **merged)
