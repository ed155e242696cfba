"""Waveform augmentation for training the audio branches (training folds only).

Four transformations, as in DeepInfant V2 and the issue: added white noise, pitch shift within
±2 semitones, time stretch within ±10 %, and mixing in a not-cry background clip (household
sounds, laughter, silence) at a random signal-to-noise ratio. Each is applied to the *raw* waveform
before the paper's preprocessing and feature extraction.
"""

from __future__ import annotations

from collections.abc import Sequence

import librosa
import numpy as np

from ..errors import ParameterError

__all__ = [
    "add_noise",
    "pitch_shift",
    "time_stretch",
    "mix_background",
    "band_limit",
    "random_augment",
    "MAX_SEMITONES",
    "MAX_STRETCH",
]

#: Largest pitch shift, in semitones.
MAX_SEMITONES = 2.0
#: Largest relative time stretch (0.1 = ±10 %).
MAX_STRETCH = 0.10


def _rms(y: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(y, dtype=np.float64)) + 1e-12))


def add_noise(y: np.ndarray, *, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """Add white Gaussian noise at ``snr_db`` dB below the signal's RMS.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
    snr_db : float
    rng : np.random.Generator

    Returns
    -------
    np.ndarray [shape=(n,), dtype=float32]
    """
    y = np.asarray(y, dtype=np.float32)
    sigma = _rms(y) / (10.0 ** (snr_db / 20.0))
    return (y + sigma * rng.standard_normal(y.shape[0])).astype(np.float32)


def pitch_shift(y: np.ndarray, *, sr: int, semitones: float) -> np.ndarray:
    """Shift the pitch by ``semitones`` (|semitones| <= :data:`MAX_SEMITONES`), same length.

    Returns
    -------
    np.ndarray [shape=(n,), dtype=float32]
    """
    if abs(semitones) > MAX_SEMITONES + 1e-9:
        raise ParameterError(f"pitch shift must be within ±{MAX_SEMITONES} semitones")
    y = np.asarray(y, dtype=np.float32)
    return librosa.effects.pitch_shift(y, sr=sr, n_steps=float(semitones),
                                       res_type="soxr_qq").astype(np.float32)


def time_stretch(y: np.ndarray, *, rate: float) -> np.ndarray:
    """Play ``rate`` times faster (``|rate - 1| <= MAX_STRETCH``); the length changes by 1/rate.

    Returns
    -------
    np.ndarray [shape=(≈ n / rate,), dtype=float32]
    """
    if abs(rate - 1.0) > MAX_STRETCH + 1e-9:
        raise ParameterError(f"time-stretch rate must be within 1 ± {MAX_STRETCH}")
    y = np.asarray(y, dtype=np.float32)
    return librosa.effects.time_stretch(y, rate=float(rate)).astype(np.float32)


def mix_background(
    y: np.ndarray, background: np.ndarray, *, snr_db: float, rng: np.random.Generator
) -> np.ndarray:
    """Mix a background clip under ``y`` at ``snr_db`` dB (looped or cropped at a random offset).

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
    background : np.ndarray [shape=(m,)]
        Same sample rate as ``y``. A silent background leaves ``y`` unchanged.

    Returns
    -------
    np.ndarray [shape=(n,), dtype=float32]
    """
    y = np.asarray(y, dtype=np.float32)
    b = np.asarray(background, dtype=np.float32)
    if b.size == 0:
        return y
    n = y.shape[0]
    if b.shape[0] < n:
        b = np.tile(b, int(np.ceil(n / b.shape[0])))
    start = int(rng.integers(0, b.shape[0] - n + 1))
    b = b[start : start + n]
    rb = _rms(b)
    if rb < 1e-6:
        return y
    gain = _rms(y) / (rb * 10.0 ** (snr_db / 20.0))
    return (y + gain * b).astype(np.float32)


def band_limit(y: np.ndarray, *, sr: int = 16000, to: int = 8000) -> np.ndarray:
    """Resample ``y`` to ``to`` Hz and back: removes content above ``to / 2`` (the band limit of
    an 8 kHz phone recording), same length.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
    sr : int
        Sample rate of ``y``.
    to : int
        Intermediate sample rate.

    Returns
    -------
    np.ndarray [shape=(n,), dtype=float32]
    """
    import scipy.signal

    y = np.asarray(y, dtype=np.float32)
    down = scipy.signal.resample_poly(y, to, sr)
    out = scipy.signal.resample_poly(down, sr, to).astype(np.float32)[: y.size]
    return np.pad(out, (0, y.size - out.size)) if out.size < y.size else out


def random_augment(
    y: np.ndarray,
    *,
    sr: int,
    rng: np.random.Generator,
    backgrounds: Sequence[np.ndarray] = (),
) -> tuple[np.ndarray, dict]:
    """One random augmentation chain: stretch, pitch, then background or white noise.

    Each step is drawn independently (stretch with probability 0.5, pitch 0.5; then a background
    clip at 5–20 dB SNR if any are given, else white noise at 10–30 dB).

    Returns
    -------
    (np.ndarray [shape=(≈ n,)], dict)
        The augmented waveform and what was done to it.
    """
    out = np.asarray(y, dtype=np.float32)
    done: dict = {}
    if rng.random() < 0.5:
        rate = float(rng.uniform(1 - MAX_STRETCH, 1 + MAX_STRETCH))
        out = time_stretch(out, rate=rate)
        done["stretch"] = round(rate, 4)
    if rng.random() < 0.5:
        st = float(rng.uniform(-MAX_SEMITONES, MAX_SEMITONES))
        out = pitch_shift(out, sr=sr, semitones=st)
        done["pitch"] = round(st, 3)
    if backgrounds and rng.random() < 0.6:
        k = int(rng.integers(len(backgrounds)))
        snr = float(rng.uniform(5, 20))
        out = mix_background(out, backgrounds[k], snr_db=snr, rng=rng)
        done["background"] = k
        done["snr_db"] = round(snr, 2)
    else:
        snr = float(rng.uniform(10, 30))
        out = add_noise(out, snr_db=snr, rng=rng)
        done["noise_snr_db"] = round(snr, 2)
    return out, done
