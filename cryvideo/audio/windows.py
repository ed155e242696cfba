"""Fixed-length windows over a clip's frames (or samples): where they start, and the windows
themselves, the last one aligned with the end so every frame is covered."""

from __future__ import annotations

import numpy as np

__all__ = ["crop", "window_starts", "sliding_windows"]


def crop(x: np.ndarray, start: int, frames: int) -> np.ndarray:
    """``x[start:start + frames]``, zero-padded (in dB: the minimum of ``x``) when short."""
    out = x[start:start + frames]
    if len(out) < frames:
        fill = float(x.min()) if x.size else -100.0
        out = np.concatenate([out, np.full((frames - len(out), x.shape[1]), fill, x.dtype)])
    return out


def sliding_windows(x: np.ndarray, frames: int, hop: int) -> tuple[np.ndarray, np.ndarray]:
    """All windows of one clip: ((n_windows, frames, n_mels), start frames).

    Windows start every ``hop`` frames; when the clip does not end on a window boundary a last
    window is aligned to its end (so no window is padded unless the clip is shorter than one
    window, which is then padded once).
    """
    starts = window_starts(len(x), frames, hop)
    if len(x) <= frames:
        return crop(x, 0, frames)[None].astype(np.float32), starts
    return np.stack([x[s:s + frames] for s in starts]).astype(np.float32), starts


def window_starts(n: int, frames: int, hop: int) -> np.ndarray:
    """Start frames of :func:`sliding_windows` for a clip of ``n`` frames (shape ``(windows,)``)."""
    if n <= frames:
        return np.array([0])
    starts = np.arange(0, n - frames + 1, hop)
    if starts[-1] != n - frames:
        starts = np.append(starts, n - frames)
    return starts
