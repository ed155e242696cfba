"""YAMNet's log-mel front end in NumPy: waveform → log-mel frames → 0.96 s patches.

The facts come from YAMNet's published parameters (``tensorflow/models``,
``research/audioset/yamnet/params.py`` and ``features.py``): 16 kHz mono; a periodic Hann window of
25 ms (400 samples) every 10 ms (160 samples), zero-padded to a 512-point FFT; the magnitude
spectrum (not power) through 64 mel bands from 125 to 7500 Hz (HTK mel scale, as
``tf.signal.linear_to_mel_weight_matrix``, whose first (DC) row is zero); ``log(mel + 0.001)``.
Patches are 96 frames (0.96 s) long, every 48 frames (0.48 s); the waveform is zero-padded so
that at least one patch exists and the last hop is complete, as YAMNet's ``pad_waveform`` does.

No TensorFlow is imported here: this is the front end of the TFLite detector at run time.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from ..io import DictForm

__all__ = ["YamnetFrontend", "YAMNET_FRONTEND", "mel_matrix", "log_mel", "patches",
           "pad_waveform", "padded_length", "n_patches"]


@dataclasses.dataclass(frozen=True)
class YamnetFrontend(DictForm):
    """YAMNet's front-end parameters (the published values are the defaults)."""

    sr: int = 16000
    window: int = 400          # samples (25 ms)
    hop: int = 160             # samples (10 ms)
    n_fft: int = 512
    n_mels: int = 64
    fmin: float = 125.0
    fmax: float = 7500.0
    log_offset: float = 0.001
    patch_frames: int = 96     # 0.96 s
    patch_hop: int = 48        # 0.48 s

    @property
    def patch_seconds(self) -> float:
        """Length of one patch in seconds of audio (0.975 s: 96 hops plus one window)."""
        return ((self.patch_frames - 1) * self.hop + self.window) / self.sr

    @property
    def hop_seconds(self) -> float:
        """Seconds between patches (0.48 s)."""
        return self.patch_hop * self.hop / self.sr


#: The published YAMNet settings.
YAMNET_FRONTEND = YamnetFrontend()


def _hz_to_mel(f):
    return 1127.0 * np.log1p(np.asarray(f, dtype=np.float64) / 700.0)


@functools.lru_cache(maxsize=4)
def mel_matrix(params: YamnetFrontend = YAMNET_FRONTEND) -> np.ndarray:
    """The linear-to-mel weight matrix.

    Returns
    -------
    np.ndarray [shape=(n_fft // 2 + 1, n_mels), dtype=float32]
        Triangular filters on the HTK mel scale; row 0 (DC) is zero.
    """
    n_bins = params.n_fft // 2 + 1
    freqs = np.linspace(0.0, params.sr / 2.0, n_bins)[1:]
    mel = _hz_to_mel(freqs)[:, None]
    edges = np.linspace(_hz_to_mel(params.fmin), _hz_to_mel(params.fmax), params.n_mels + 2)
    lo, mid, hi = edges[:-2][None], edges[1:-1][None], edges[2:][None]
    w = np.maximum(0.0, np.minimum((mel - lo) / (mid - lo), (hi - mel) / (hi - mid)))
    return np.vstack([np.zeros((1, params.n_mels)), w]).astype(np.float32)


@functools.lru_cache(maxsize=4)
def _hann(n: int) -> np.ndarray:
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)).astype(np.float32)


def n_frames(n_samples: int, params: YamnetFrontend = YAMNET_FRONTEND) -> int:
    """Number of complete STFT frames in ``n_samples`` samples (no centring)."""
    return 0 if n_samples < params.window else 1 + (int(n_samples) - params.window) // params.hop


def n_patches(n_frames_: int, params: YamnetFrontend = YAMNET_FRONTEND) -> int:
    """Number of complete patches in ``n_frames_`` log-mel frames."""
    if n_frames_ < params.patch_frames:
        return 0
    return 1 + (int(n_frames_) - params.patch_frames) // params.patch_hop


def pad_waveform(y: np.ndarray, params: YamnetFrontend = YAMNET_FRONTEND) -> np.ndarray:
    """Zero-pad so at least one patch exists and the samples after it fill whole patch hops.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]

    Returns
    -------
    np.ndarray [shape=(m,), dtype=float32], ``m >= n``
    """
    y = np.asarray(y, dtype=np.float32).reshape(-1)
    pad = padded_length(y.size, params) - y.size
    return np.pad(y, (0, pad)) if pad else y


def padded_length(n: int, params: YamnetFrontend = YAMNET_FRONTEND) -> int:
    """Length :func:`pad_waveform` pads ``n`` samples to (computed, nothing allocated: a
    stream of 16 hours must not build a 16-hour array to learn it)."""
    min_n = (params.patch_frames - 1) * params.hop + params.window
    hop = params.patch_hop * params.hop
    m = max(int(n), min_n)
    return m + (-(-(m - min_n) // hop) * hop - (m - min_n))


#: Frames per block in :func:`log_mel` (~41 s): bounds the spectra held in memory.
BLOCK_FRAMES = 4096


def log_mel(y: np.ndarray, params: YamnetFrontend = YAMNET_FRONTEND, *,
            block_frames: int = BLOCK_FRAMES) -> np.ndarray:
    """Log-mel frames of a mono 16 kHz waveform (no padding: complete frames only).

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono float waveform at ``params.sr`` Hz, in [-1, 1].
    params : YamnetFrontend
    block_frames : int
        Frames computed at a time (the result does not depend on it).

    Returns
    -------
    np.ndarray [shape=(n_frames, n_mels), dtype=float32]
    """
    y = np.ascontiguousarray(y, dtype=np.float32).reshape(-1)
    total = n_frames(y.size, params)
    out = np.empty((total, params.n_mels), np.float32)
    if total == 0:
        return out
    frames = np.lib.stride_tricks.as_strided(
        y, shape=(total, params.window), strides=(params.hop * 4, 4), writeable=False)
    win, mel = _hann(params.window), mel_matrix(params)
    for a in range(0, total, max(1, int(block_frames))):
        b = min(total, a + block_frames)
        spec = np.abs(np.fft.rfft(frames[a:b] * win, n=params.n_fft, axis=1))
        out[a:b] = np.log(spec.astype(np.float32) @ mel + params.log_offset)
    return out


def patches(logmel: np.ndarray, params: YamnetFrontend = YAMNET_FRONTEND) -> np.ndarray:
    """Cut log-mel frames into overlapping patches (a view, no copy).

    Parameters
    ----------
    logmel : np.ndarray [shape=(n_frames, n_mels)]

    Returns
    -------
    np.ndarray [shape=(n_patches, patch_frames, n_mels)]
        Patch ``i`` starts at frame ``i * patch_hop``.
    """
    logmel = np.ascontiguousarray(logmel, dtype=np.float32)
    k = n_patches(len(logmel), params)
    s0, s1 = logmel.strides
    return np.lib.stride_tricks.as_strided(
        logmel, shape=(k, params.patch_frames, logmel.shape[1]),
        strides=(params.patch_hop * s0, s0, s1), writeable=False)


def waveform_patches(y: np.ndarray, params: YamnetFrontend = YAMNET_FRONTEND) -> np.ndarray:
    """Padded waveform → log-mel → patches: what YAMNet sees of ``y``.

    Returns
    -------
    np.ndarray [shape=(n_patches, patch_frames, n_mels), dtype=float32]
        At least one patch; patch ``i`` covers ``[i * 0.48, i * 0.48 + 0.975)`` seconds.
    """
    return patches(log_mel(pad_waveform(y, params), params), params)
