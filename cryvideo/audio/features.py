"""MFCC and STFT (log-magnitude) features, with every parameter explicit and recorded.

Typical use::

    params = FeatureParams()                       # 8 kHz, 7 s, n_fft 512, hop 256, ...
    feats = extract_features("cry.wav", params=params)
    feats["mfcc"].shape    # (n_mfcc, n_frames)
    feats["stft"].shape    # (n_fft // 2 + 1, n_frames)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Sequence

import librosa
import numpy as np

from ..errors import ParameterError
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
class FeatureParams:
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

    def to_dict(self) -> dict:
        """Plain dict (for JSON cards and cache keys)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> FeatureParams:
        """Inverse of :meth:`to_dict`; unknown keys are rejected."""
        names = {f.name for f in dataclasses.fields(cls)}
        extra = set(d) - names
        if extra:
            raise ParameterError(f"unknown feature parameters: {sorted(extra)}")
        return cls(**d)

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


def mfcc(y: np.ndarray, params: FeatureParams) -> np.ndarray:
    """MFCCs of a (preprocessed) waveform.

    Returns
    -------
    np.ndarray [shape=(n_mfcc, n_frames), dtype=float32]
    """
    m = librosa.feature.mfcc(
        y=np.asarray(y, dtype=np.float32),
        sr=params.sr,
        n_mfcc=params.n_mfcc,
        n_fft=params.n_fft,
        hop_length=params.hop_length,
        n_mels=params.n_mels,
        fmin=params.fmin,
        fmax=params.fmax,
    )
    return m.astype(np.float32)


def stft_logmag(y: np.ndarray, params: FeatureParams) -> np.ndarray:
    """Log-magnitude STFT in dB (``20 log10 max(|X|, 1e-5)``, absolute reference).

    Returns
    -------
    np.ndarray [shape=(n_fft // 2 + 1, n_frames), dtype=float32]
    """
    spec = np.abs(librosa.stft(np.asarray(y, dtype=np.float32), n_fft=params.n_fft,
                               hop_length=params.hop_length))
    return librosa.amplitude_to_db(spec, ref=1.0, amin=1e-5, top_db=None).astype(np.float32)


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
