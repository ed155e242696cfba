"""A recording drawn to the width of a page: its waveform's envelope, spectrogram and MFCCs
pooled into a bounded number of columns, computed block by block.

A page is about a thousand pixels wide, so the report needs no more than a few thousand
columns whatever the length: an 8-second clip keeps every STFT frame, a 30-minute file pools
about a second and a half into each column, and an hour costs the memory of one decoded block
(see :func:`audio_overview`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import numpy as np

from ..errors import ParameterError
from .features import FeatureParams, _dct_matrix, mel_filters

__all__ = ["AudioOverview", "audio_overview", "OVERVIEW_PARAMS", "MAX_COLUMNS"]

#: The reason branches' STFT and MFCC settings (8 kHz, 64 ms frames every 32 ms, 40 MFCCs):
#: the report draws what they read.
OVERVIEW_PARAMS = FeatureParams(sr=8000, duration=None)
#: Columns are halved (two merged into one) whenever there are more than twice this many.
MAX_COLUMNS = 600


@dataclasses.dataclass
class AudioOverview:
    """A recording pooled into columns of ``column_seconds`` each.

    Attributes
    ----------
    sr : int
    column_seconds : float
        Seconds each column covers (the STFT hop times a power of two).
    duration : float
        Seconds of audio read.
    lo, hi : np.ndarray [shape=(n_columns,), dtype=float32]
        Lowest and highest sample of each column (the waveform's envelope).
    power : np.ndarray [shape=(n_fft // 2 + 1, n_columns), dtype=float32]
        Mean STFT power of the frames centred in each column (zero where none is).
    params : FeatureParams
    """

    sr: int
    column_seconds: float
    duration: float
    lo: np.ndarray
    hi: np.ndarray
    power: np.ndarray
    params: FeatureParams

    @property
    def times(self) -> np.ndarray:
        """Start of every column (seconds)."""
        return np.arange(self.lo.size) * self.column_seconds

    @property
    def stft_db(self) -> np.ndarray:
        """The spectrogram in dB (``10 log10`` of the power, floored 80 dB under its top)."""
        return _db(self.power)

    @property
    def freqs(self) -> np.ndarray:
        """Frequency of every spectrogram row (Hz)."""
        return np.fft.rfftfreq(self.params.n_fft, 1.0 / self.sr)

    def mfcc(self) -> np.ndarray:
        """MFCCs of each column's mean spectrum, shape ``(n_mfcc, n_columns)`` (coefficient 0,
        the loudness, included: a drawing leaves it out or scales each row on its own)."""
        p = self.params
        mel = mel_filters(p.sr, p.n_fft, p.n_mels, float(p.fmin), p.fmax) @ self.power
        return (_dct_matrix(p.n_mfcc, p.n_mels) @ _db(mel)).astype(np.float32)


def _db(power: np.ndarray) -> np.ndarray:
    db = 10.0 * np.log10(np.maximum(np.asarray(power, dtype=np.float64), 1e-10))
    return np.maximum(db, db.max(initial=-100.0) - 80.0).astype(np.float32)


class _Columns:
    """Running sums per column, merged pairwise when they grow past ``2 * max_columns``."""

    def __init__(self, n_bins: int, col_samples: int, max_columns: int) -> None:
        self.col_samples, self.max_columns = col_samples, max_columns
        self.power = np.zeros((0, n_bins))
        self.frames = np.zeros(0)
        self.lo = np.zeros(0, np.float32)
        self.hi = np.zeros(0, np.float32)

    def _grow(self, n: int) -> None:
        extra = n - self.frames.size
        if extra > 0:
            self.power = np.concatenate([self.power, np.zeros((extra, self.power.shape[1]))])
            self.frames = np.concatenate([self.frames, np.zeros(extra)])
            self.lo = np.concatenate([self.lo, np.full(extra, np.inf, np.float32)])
            self.hi = np.concatenate([self.hi, np.full(extra, -np.inf, np.float32)])

    def add_samples(self, y: np.ndarray, start: int) -> None:
        cols = (start + np.arange(y.size)) // self.col_samples
        first, last = int(cols[0]), int(cols[-1])
        self._grow(last + 1)
        edges = np.flatnonzero(np.diff(cols)) + 1
        starts = np.concatenate([[0], edges])
        idx = np.arange(first, last + 1)
        self.lo[idx] = np.minimum(self.lo[idx], np.minimum.reduceat(y, starts))
        self.hi[idx] = np.maximum(self.hi[idx], np.maximum.reduceat(y, starts))
        self._shrink()

    def add_frames(self, power: np.ndarray, centres: np.ndarray) -> None:
        """Add frames' power spectra, ``centres`` (samples) ascending."""
        cols = centres // self.col_samples
        self._grow(int(cols[-1]) + 1)
        starts = np.concatenate([[0], np.flatnonzero(np.diff(cols)) + 1])
        self.power[cols[starts]] += np.add.reduceat(power, starts, axis=0)
        self.frames[cols[starts]] += np.diff(np.append(starts, cols.size))
        self._shrink()

    def _shrink(self) -> None:
        while self.frames.size > 2 * self.max_columns:
            n = self.frames.size + self.frames.size % 2
            self._grow(n)
            self.power = self.power.reshape(n // 2, 2, -1).sum(axis=1)
            self.frames = self.frames.reshape(n // 2, 2).sum(axis=1)
            self.lo = self.lo.reshape(n // 2, 2).min(axis=1)
            self.hi = self.hi.reshape(n // 2, 2).max(axis=1)
            self.col_samples *= 2


def audio_overview(blocks: Iterable[np.ndarray], *, sr: int = OVERVIEW_PARAMS.sr,
                   params: FeatureParams = OVERVIEW_PARAMS,
                   max_columns: int = MAX_COLUMNS) -> AudioOverview:
    """Pool consecutive blocks of a recording into at most ``2 * max_columns`` columns.

    Every STFT frame (Hann window of ``params.n_fft`` samples every ``params.hop_length``, as
    the reason branches') goes whole into the column holding its centre; columns start one hop
    wide and are merged in pairs whenever there are too many, so the result never depends on
    the length being known beforehand, and only one block and the columns are held at once.

    Parameters
    ----------
    blocks : iterable of np.ndarray [shape=(n,)]
        Consecutive mono blocks at ``sr`` (e.g. :func:`cryvideo.media.iter_audio_blocks`).
    sr : int
        Must be ``params.sr``.
    max_columns : int

    Returns
    -------
    AudioOverview
    """
    if sr != params.sr:
        raise ParameterError(f"blocks at {sr} Hz for features at {params.sr} Hz")
    if max_columns < 1:
        raise ParameterError(f"max_columns must be >= 1, got {max_columns}")
    n_fft, hop = params.n_fft, params.hop_length
    win = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32)
    cols = _Columns(n_fft // 2 + 1, hop, max_columns)
    # Frames are centred as librosa's: the recording is preceded by n_fft // 2 zeros.
    carry = np.zeros(n_fft // 2, np.float32)
    carry_start = -(n_fft // 2)          # sample index (of the recording) of carry[0]
    n = 0
    for y in blocks:
        y = np.asarray(y, dtype=np.float32).reshape(-1)
        if not y.size:
            continue
        cols.add_samples(y, n)
        n += y.size
        buf = np.concatenate([carry, y])
        n_frames = 0 if buf.size < n_fft else 1 + (buf.size - n_fft) // hop
        if n_frames:
            frames = np.lib.stride_tricks.sliding_window_view(buf, n_fft)[::hop][:n_frames]
            power = np.abs(np.fft.rfft(frames * win, axis=1)) ** 2
            centres = carry_start + np.arange(n_frames) * hop + n_fft // 2
            cols.add_frames(power, centres)
        carry_start += n_frames * hop
        carry = buf[n_frames * hop:]
    if n == 0:
        raise ParameterError("no audio to draw")
    # the frames centred in the last half window, over zeros as librosa pads the end
    tail = np.concatenate([carry, np.zeros(n_fft // 2, np.float32)])
    k = 1 + (tail.size - n_fft) // hop if tail.size >= n_fft else 0
    centres = carry_start + np.arange(k) * hop + n_fft // 2
    keep = centres < n
    if keep.any():
        frames = np.lib.stride_tricks.sliding_window_view(tail, n_fft)[::hop][:k][keep]
        cols.add_frames(np.abs(np.fft.rfft(frames * win, axis=1)) ** 2, centres[keep])
    n_cols = -(-n // cols.col_samples)
    power = cols.power[:n_cols] / np.maximum(cols.frames[:n_cols], 1.0)[:, None]
    return AudioOverview(sr=sr, column_seconds=cols.col_samples / sr, duration=n / sr,
                         lo=cols.lo[:n_cols].copy(), hi=cols.hi[:n_cols].copy(),
                         power=power.T.astype(np.float32), params=params)
