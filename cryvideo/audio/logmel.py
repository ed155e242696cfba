"""The PANNs 16 kHz log-mel front end, computed in NumPy (librosa) so features can be cached.

Settings follow PANNs' 16 kHz models (and InfantCryNet): Hann window 512, hop 160, 64 mel bands
from 50 to 8000 Hz (Slaney mel filters), power spectrogram, ``10·log10(max(S, 1e-10))`` with no
top-dB clipping. The per-mel batch normalisation (PANNs ``bn0``) is the first layer of every
model in :mod:`cryvideo.models.panns`, so it is learned (or converted) with the network.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from ..io import DictForm

__all__ = ["LogMelParams", "PANNS_16K", "logmel", "n_frames"]


@dataclasses.dataclass(frozen=True)
class LogMelParams(DictForm):
    """Log-mel front-end parameters (PANNs 16 kHz defaults)."""

    sr: int = 16000
    n_fft: int = 512
    hop: int = 160
    n_mels: int = 64
    fmin: float = 50.0
    fmax: float = 8000.0


#: The PANNs / InfantCryNet 16 kHz settings.
PANNS_16K = LogMelParams()


@functools.lru_cache(maxsize=8)
def _mel_basis(params: LogMelParams) -> np.ndarray:
    import librosa

    return librosa.filters.mel(sr=params.sr, n_fft=params.n_fft, n_mels=params.n_mels,
                               fmin=params.fmin, fmax=params.fmax).astype(np.float32)


def n_frames(n_samples: int, params: LogMelParams = PANNS_16K) -> int:
    """Number of log-mel frames for ``n_samples`` samples (centred STFT)."""
    return 1 + int(n_samples) // params.hop


def _padded_slice(left: np.ndarray, y: np.ndarray, right: np.ndarray, lo: int,
                  hi: int) -> np.ndarray:
    """``np.concatenate([left, y, right])[lo:hi]`` without building the whole array."""
    parts, off = [], 0
    for part in (left, y, right):
        a, b = max(lo - off, 0), min(hi - off, len(part))
        if a < b:
            parts.append(part[a:b])
        off += len(part)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


#: Frames per STFT block in :func:`logmel` (~41 s at hop 160): bounds the complex STFT held
#: in memory, so a long recording costs its waveform and its log-mel, nothing more.
BLOCK_FRAMES = 4096


def logmel(y: np.ndarray, params: LogMelParams = PANNS_16K, *,
           block_frames: int = BLOCK_FRAMES) -> np.ndarray:
    """Log-mel spectrogram of a mono waveform.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono float waveform at ``params.sr`` Hz.
    params : LogMelParams
    block_frames : int
        The STFT is computed this many frames at a time (identical result to one centred,
        reflect-padded STFT of the whole signal; memory stays flat for long inputs).

    Returns
    -------
    np.ndarray [shape=(1 + n // hop, n_mels), dtype=float32]
        Frames in time order, mel bands from low to high, in dB.
    """
    import librosa

    y = np.asarray(y, dtype=np.float32).reshape(-1)
    if y.size < params.n_fft // 2 + 1:  # reflect padding needs a few samples
        y = np.pad(y, (0, params.n_fft // 2 + 1 - y.size))
    total = n_frames(y.size, params)
    # centre=True in one go == reflect-pad by n_fft // 2, then un-centred frames (librosa);
    # the padded signal is never built: each block takes its slice of it
    half = params.n_fft // 2
    left = y[1:half + 1][::-1]             # np.pad(y, half, mode="reflect") == left|y|right
    right = y[-half - 1:-1][::-1]
    basis = _mel_basis(params)
    out = np.empty((total, params.n_mels), np.float32)
    step = max(1, int(block_frames))
    for a in range(0, total, step):
        b = min(total, a + step)
        seg = _padded_slice(left, y, right, a * params.hop, (b - 1) * params.hop + params.n_fft)
        spec = np.abs(librosa.stft(seg, n_fft=params.n_fft, hop_length=params.hop,
                                   win_length=params.n_fft, window="hann",
                                   center=False)) ** 2
        mel = basis @ spec
        out[a:b] = (10.0 * np.log10(np.maximum(mel, 1e-10))).T
    return out
