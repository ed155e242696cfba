"""Cry detection over a stream of samples: blocks in, patch probabilities and segments out.

:class:`PatchStream` cuts consecutive blocks of 16 kHz samples into YAMNet's 0.96 s patches
(every 0.48 s) exactly as the whole-waveform front end does, keeping only the samples the next
patch still needs; :class:`WindowStream` turns patch probabilities into window scores (moving
mean) and closed segments as they come. Memory stays flat however long the recording: a day of
audio costs the same as a minute.

The whole-file path pads the waveform with zeros so that at least one patch exists and the
samples after the first patch fill whole hops (:func:`cryvideo.detection.frontend.
pad_waveform`); :meth:`PatchStream.finish` pads the tail of the stream the same way, so a stream
and the whole file give the same patches.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .frontend import YAMNET_FRONTEND, YamnetFrontend, log_mel, n_patches, padded_length, patches

__all__ = ["PatchStream", "WindowStream"]


class PatchStream:
    """Consecutive sample blocks → complete log-mel patches, in order.

    Parameters
    ----------
    frontend : YamnetFrontend
    """

    def __init__(self, frontend: YamnetFrontend = YAMNET_FRONTEND) -> None:
        self.f = frontend
        self.hop = frontend.patch_hop * frontend.hop            # 7680 samples
        self.span = (frontend.patch_frames - 1) * frontend.hop + frontend.window  # 15600
        self._buf = np.zeros(0, np.float32)
        self.samples_in = 0        # samples pushed so far
        self.patches_out = 0       # patches returned so far
        self.finished = False

    def _take(self, final: bool) -> np.ndarray:
        n = len(self._buf)
        k = 0 if n < self.span else 1 + (n - self.span) // self.hop
        if k == 0:
            return np.zeros((0, self.f.patch_frames, self.f.n_mels), np.float32)
        used = (k - 1) * self.hop + self.span
        lm = log_mel(self._buf[:used], self.f)
        out = np.array(patches(lm, self.f)[:k])
        assert len(out) == k and n_patches(len(lm), self.f) == k
        self._buf = self._buf[k * self.hop:]
        self.patches_out += k
        return out

    def push(self, y: np.ndarray) -> np.ndarray:
        """Add samples; return the patches they complete.

        Parameters
        ----------
        y : np.ndarray [shape=(n,)]
            The next 16 kHz mono samples.

        Returns
        -------
        np.ndarray [shape=(k, 96, 64), dtype=float32]
        """
        if self.finished:
            raise RuntimeError("the stream is finished")
        y = np.asarray(y, dtype=np.float32).reshape(-1)
        self.samples_in += y.size
        self._buf = np.concatenate([self._buf, y]) if self._buf.size else y.copy()
        return self._take(final=False)

    def finish(self) -> np.ndarray:
        """The last patches: the tail zero-padded as the whole-waveform path pads it."""
        self.finished = True
        padded = padded_length(self.samples_in, self.f)
        start = self.patches_out * self.hop                     # sample index of _buf[0]
        need = padded - start - len(self._buf)
        if need > 0:
            self._buf = np.concatenate([self._buf, np.zeros(need, np.float32)])
        return self._take(final=True)

    @property
    def seconds_in(self) -> float:
        return self.samples_in / self.f.sr


class WindowStream:
    """Patch probabilities → window scores (moving mean of ``window`` patches) and segments.

    Gives the same scores and segments as :func:`cryvideo.detection.decisions.moving_mean` and
    :func:`~cryvideo.detection.decisions.merge_segments` over the whole recording.

    Parameters
    ----------
    window : int
        Patches per window.
    threshold : float
    frontend : YamnetFrontend
    """

    def __init__(self, *, window: int, threshold: float,
                 frontend: YamnetFrontend = YAMNET_FRONTEND) -> None:
        self.window = int(window)
        self.threshold = float(threshold)
        self.f = frontend
        self.length = (self.window - 1) * frontend.hop_seconds + frontend.patch_seconds
        self._tail = np.zeros(0)       # the last window - 1 patch probabilities
        self.n_patches = 0
        self.n_windows = 0
        self.best = 0.0
        self._open: list[float] | None = None   # current segment [start, end]
        self._first_probs: list[float] = []     # for recordings shorter than one window

    def push(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, list]:
        """Add patch probabilities.

        Returns
        -------
        (starts, scores, closed)
            Start time and score of each new complete window, and the segments that ended
            (not yet clipped to the recording's end: the caller clips every segment to the
            duration once it is known).
        """
        p = np.asarray(p, dtype=np.float64).reshape(-1)
        if len(self._first_probs) < self.window:
            self._first_probs += p[: self.window - len(self._first_probs)].tolist()
        seq = np.concatenate([self._tail, p])
        self.n_patches += p.size
        k = max(0, seq.size - self.window + 1)
        if k:
            c = np.concatenate([[0.0], np.cumsum(seq)])
            scores = (c[self.window:self.window + k] - c[:k]) / self.window
        else:
            scores = np.zeros(0)
        starts = (self.n_windows + np.arange(k)) * self.f.hop_seconds
        self.n_windows += k
        self._tail = seq[-(self.window - 1):] if self.window > 1 else np.zeros(0)
        closed = self._segments(starts, scores, final=False)
        if k:
            self.best = max(self.best, float(scores.max()))
        return starts, scores, closed

    def _segments(self, starts, scores, *, final: bool, duration: float | None = None) -> list:
        closed = []
        for s, v in zip(starts, scores, strict=True):
            if v < self.threshold:
                continue
            a, b = float(s), float(s) + self.length
            if self._open is not None and a <= self._open[1]:
                self._open[1] = max(self._open[1], b)
            else:
                if self._open is not None:
                    closed.append(tuple(self._open))
                self._open = [a, b]
        # a segment is closed once no later window can reach it
        if self._open is not None and not final and self.n_windows * self.f.hop_seconds > \
                self._open[1]:
            closed.append(tuple(self._open))
            self._open = None
        return closed

    def finish(self, duration: float) -> tuple[np.ndarray, np.ndarray, list]:
        """Close the stream: a recording shorter than one window gets one window (the mean of
        all its patches, as long as the recording); the last open segment ends.

        Returns
        -------
        (starts, scores, closed) as :meth:`push`.
        """
        starts = scores = np.zeros(0)
        if self.n_windows == 0 and self._first_probs:
            scores = np.array([float(np.mean(self._first_probs))])
            starts = np.zeros(1)
            self.n_windows = 1
            self.best = float(scores[0])
            self.length = min(self.length, max(duration, self.f.patch_seconds))
        closed = self._segments(starts, scores, final=True)
        if self._open is not None:
            closed.append(tuple(self._open))
            self._open = None
        return starts, scores, closed


def iter_blocks(y: np.ndarray, size: int) -> Iterator[np.ndarray]:
    """``y`` in consecutive pieces of ``size`` samples (for tests and in-memory sources)."""
    for a in range(0, len(y), size):
        yield y[a:a + size]
