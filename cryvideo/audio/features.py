"""MFCC and STFT (log-magnitude) features, with every parameter explicit and recorded.

Typical use::

    params = FeatureParams()                       # 8 kHz, 7 s, n_fft 512, hop 256, ...
    feats = extract_features("cry.wav", params=params)
    feats["mfcc"].shape    # (n_mfcc, n_frames)
    feats["stft"].shape    # (n_fft // 2 + 1, n_frames)
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
from collections.abc import Sequence

import numpy as np

from ..errors import ParameterError
from ..io import DictForm
from .preprocess import fix_length, standardize_minmax

__all__ = [
    "FEATURE_KINDS",
    "FeatureParams",
    "waveform_for_features",
    "mfcc",
    "stft_logmag",
    "summarize",
    "features_from_waveform",
    "extract_features",
]

#: Feature kinds this module computes.
FEATURE_KINDS = ("mfcc", "stft")


@dataclasses.dataclass(frozen=True)
class FeatureParams(DictForm):
    """Parameters of the audio features; stored with every result and model card.

    Attributes
    ----------
    sr : int
        Sample rate in Hz (Donateacry is recorded at 8 kHz).
    duration : float or None
        Clip length in seconds after centre crop / zero padding; ``None`` keeps the full length.
    n_fft : int
        FFT size in samples (512 = 64 ms at 8 kHz).
    hop_length : int
        Hop in samples (256 = 32 ms at 8 kHz).
    n_mels : int
        Mel bands used to compute the MFCCs.
    n_mfcc : int
        Number of MFCCs.
    fmin, fmax : float
        Mel filterbank range (``fmax=None``: Nyquist).
    preprocess : bool
        Apply the paper's standardize → min-max [0, 1] to the waveform.
    """

    refuse_unknown = "feature parameters"

    sr: int = 8000
    duration: float | None = 7.0
    n_fft: int = 512
    hop_length: int = 256
    n_mels: int = 64
    n_mfcc: int = 40
    fmin: float = 0.0
    fmax: float | None = None
    preprocess: bool = True

    def __post_init__(self) -> None:
        if self.sr <= 0:
            raise ParameterError(f"sr must be > 0, got {self.sr}")
        if self.duration is not None and self.duration <= 0:
            raise ParameterError(f"duration must be > 0 or None, got {self.duration}")
        if self.n_fft < 16 or self.hop_length <= 0 or self.hop_length > self.n_fft:
            raise ParameterError(
                f"need n_fft >= 16 and 0 < hop_length <= n_fft, got {self.n_fft}/{self.hop_length}"
            )
        if not 0 < self.n_mfcc <= self.n_mels:
            raise ParameterError(f"need 0 < n_mfcc <= n_mels, got {self.n_mfcc}/{self.n_mels}")

    @property
    def n_samples(self) -> int | None:
        """Samples per clip (``None`` when ``duration`` is None)."""
        return None if self.duration is None else int(round(self.duration * self.sr))

    @property
    def n_frames(self) -> int | None:
        """STFT frames per clip (``None`` when ``duration`` is None)."""
        n = self.n_samples
        return None if n is None else 1 + n // self.hop_length

    def shape(self, kind: str) -> tuple[int, int | None]:
        """Shape ``(n_coefficients, n_frames)`` of feature ``kind``."""
        if kind == "mfcc":
            return (self.n_mfcc, self.n_frames)
        if kind == "stft":
            return (self.n_fft // 2 + 1, self.n_frames)
        raise ParameterError(f"unknown feature kind {kind!r}; expected one of {FEATURE_KINDS}")

    def key(self) -> str:
        """Short stable hash of the parameters."""
        blob = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def waveform_for_features(y: np.ndarray, params: FeatureParams) -> np.ndarray:
    """Crop/pad (raw signal, so padding is silence) then apply the paper's preprocessing.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono waveform at ``params.sr``.

    Returns
    -------
    np.ndarray [shape=(params.n_samples,) or (n,), dtype=float32]
    """
    y = np.asarray(y, dtype=np.float32)
    if params.n_samples is not None:
        y = fix_length(y, params.n_samples)
    if params.preprocess:
        y = standardize_minmax(y)
    return y.astype(np.float32, copy=False)


# The features are librosa's (``librosa.feature.mfcc`` and ``librosa.stft`` with their
# defaults: centred frames zero-padded by n_fft // 2, periodic Hann window, Slaney mel filters,
# power_to_db with top_db 80, orthonormal DCT-II), computed here in NumPy so that ``predict``
# does not pay librosa's start-up (scipy.signal and numba, seconds on a laptop). The tests
# check them against librosa.


def _stft_magnitude(y: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """``|librosa.stft(y, n_fft=n_fft, hop_length=hop)|``: shape ``(1 + n_fft // 2, frames)``."""
    y = np.asarray(y, dtype=np.float32).reshape(-1)
    yp = np.pad(y, n_fft // 2)
    n_frames = 1 + (yp.size - n_fft) // hop
    frames = np.lib.stride_tricks.as_strided(
        yp, shape=(n_frames, n_fft), strides=(hop * yp.strides[0], yp.strides[0]),
        writeable=False)
    win = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)     # float64, as librosa
    return np.abs(np.fft.rfft(frames * win, axis=1).astype(np.complex64)).T


def _hz_to_mel(f):
    """Slaney's mel scale: linear below 1 kHz, logarithmic above."""
    f = np.asarray(f, dtype=np.float64)
    lin = f / (200.0 / 3)
    logstep = np.log(6.4) / 27.0
    return np.where(f >= 1000.0, 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / logstep, lin)


def _mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
    logstep = np.log(6.4) / 27.0
    return np.where(m >= 15.0, 1000.0 * np.exp(logstep * (m - 15.0)), m * (200.0 / 3))


@functools.lru_cache(maxsize=8)
def mel_filters(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None) -> np.ndarray:
    """Slaney-normalised triangular mel filters (``librosa.filters.mel`` defaults).

    Returns
    -------
    np.ndarray [shape=(n_mels, 1 + n_fft // 2), dtype=float32]
    """
    fmax = sr / 2.0 if fmax is None else float(fmax)
    fft_f = np.fft.rfftfreq(n_fft, 1.0 / sr)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_f[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    w = np.maximum(0.0, np.minimum(lower, upper))
    w *= (2.0 / (mel_f[2:] - mel_f[:-2]))[:, None]
    return w.astype(np.float32)


@functools.lru_cache(maxsize=8)
def _dct_matrix(n_out: int, n_in: int) -> np.ndarray:
    """Orthonormal DCT-II as a matrix ``(n_out, n_in)`` (``scipy.fft.dct(norm='ortho')``)."""
    k = np.arange(n_out)[:, None]
    n = np.arange(n_in)[None, :]
    d = np.cos(np.pi * k * (2 * n + 1) / (2 * n_in)) * np.sqrt(2.0 / n_in)
    d[0] /= np.sqrt(2.0)
    return d


def mfcc(y: np.ndarray, params: FeatureParams) -> np.ndarray:
    """MFCCs of a (preprocessed) waveform (as ``librosa.feature.mfcc``).

    Returns
    -------
    np.ndarray [shape=(n_mfcc, n_frames), dtype=float32]
    """
    power = _stft_magnitude(y, params.n_fft, params.hop_length) ** 2
    mel = mel_filters(params.sr, params.n_fft, params.n_mels, float(params.fmin),
                      params.fmax) @ power
    db = 10.0 * np.log10(np.maximum(mel, 1e-10))
    db = np.maximum(db, db.max() - 80.0)
    return (_dct_matrix(params.n_mfcc, params.n_mels) @ db).astype(np.float32)


def stft_logmag(y: np.ndarray, params: FeatureParams) -> np.ndarray:
    """Log-magnitude STFT in dB (``20 log10 max(|X|, 1e-5)``, absolute reference).

    Returns
    -------
    np.ndarray [shape=(n_fft // 2 + 1, n_frames), dtype=float32]
    """
    spec = _stft_magnitude(y, params.n_fft, params.hop_length)
    return (10.0 * np.log10(np.maximum(spec.astype(np.float64) ** 2, 1e-10))).astype(
        np.float32)


def summarize(feature: np.ndarray) -> np.ndarray:
    """Per-coefficient mean and standard deviation over time (the baselines' input).

    Parameters
    ----------
    feature : np.ndarray [shape=(n_coef, n_frames)]

    Returns
    -------
    np.ndarray [shape=(2 * n_coef,), dtype=float32]
    """
    feature = np.asarray(feature, dtype=np.float32)
    if feature.ndim != 2:
        raise ParameterError(f"expected (n_coef, n_frames), got shape {feature.shape}")
    return np.concatenate([feature.mean(axis=1), feature.std(axis=1)]).astype(np.float32)


def features_from_waveform(
    y: np.ndarray,
    params: FeatureParams,
    *,
    kinds: Sequence[str] = FEATURE_KINDS,
) -> dict[str, np.ndarray]:
    """Compute the requested features of a raw waveform (preprocessing included).

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Raw mono waveform at ``params.sr``.
    kinds : sequence of {"mfcc", "stft"}

    Returns
    -------
    dict
        ``{"mfcc": (n_mfcc, n_frames), "stft": (n_fft//2+1, n_frames)}`` (those requested).
    """
    for k in kinds:
        params.shape(k)  # validates the name
    w = waveform_for_features(y, params)
    out = {}
    if "mfcc" in kinds:
        out["mfcc"] = mfcc(w, params)
    if "stft" in kinds:
        out["stft"] = stft_logmag(w, params)
    return out


def extract_features(
    path: str | os.PathLike,
    *,
    params: FeatureParams | None = None,
    kinds: Sequence[str] = FEATURE_KINDS,
    cache=None,
) -> dict[str, np.ndarray]:
    """Decode a file with ffmpeg and compute its features, through the on-disk cache if given.

    Parameters
    ----------
    path : str or os.PathLike
        Audio or video file.
    params : FeatureParams, optional
        Defaults to ``FeatureParams()``.
    kinds : sequence of {"mfcc", "stft"}
    cache : FeatureCache, optional
        Where computed features are kept (keyed by file content and parameters).

    Returns
    -------
    dict of np.ndarray
        See :func:`features_from_waveform`.
    """
    from ..media import load_audio

    params = FeatureParams() if params is None else params
    if cache is not None:
        hit = cache.get(path, params, kinds)
        if hit is not None:
            return hit
    y = load_audio(path, sr=params.sr)
    feats = features_from_waveform(y, params, kinds=kinds)
    if cache is not None:
        cache.put(path, params, feats)
    return feats
