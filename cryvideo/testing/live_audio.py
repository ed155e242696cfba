"""Known audio for live-detection tests and benchmarks: silence, cry, speech-like babble.

The cries are ``data_prep/make_demo_clip.synth_cry`` (a glottal pulse train through formants,
not a recording: no training clip of the detector), which the shipped detector hears as
crying; the babble is a 120 Hz harmonic voice with a 4 Hz syllable rhythm, which it does not.
Needs a checkout (``data_prep/`` beside the package).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

__all__ = ["SR", "SEQUENCE", "ONE_CRY", "synth_cry", "babble", "sequence", "write_wav",
           "at_rate"]

SR = 16000
#: (kind, seconds) of the known sequence; the cries are at 4–10 s and 20–26 s.
SEQUENCE = (("silence", 4.0), ("cry", 6.0), ("babble", 10.0), ("cry", 6.0), ("silence", 6.0))
#: One cry: silence, cry at 4–10 s, silence.
ONE_CRY = (("silence", 4.0), ("cry", 6.0), ("silence", 6.0))


def synth_cry(seconds: float, sr: int = SR, *, seed: int = 0) -> np.ndarray:
    """``data_prep.make_demo_clip.synth_cry``."""
    data_prep = Path(__file__).resolve().parents[2] / "data_prep"
    if str(data_prep) not in sys.path:
        sys.path.insert(0, str(data_prep))
    from make_demo_clip import synth_cry as synth

    return synth(seconds, sr, seed=seed)


def babble(seconds: float) -> np.ndarray:
    """Speech-like sound: a gliding 120 Hz voice with 14 harmonics, 4 syllables a second."""
    t = np.arange(int(round(seconds * SR))) / SR
    f0 = 120 + 20 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / SR
    y = sum(np.sin(h * phase) / h for h in range(1, 15))
    env = (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t)) ** 2
    return (0.2 * y * env / np.abs(y).max()).astype(np.float32)


def sequence(parts=SEQUENCE, *, seed: int = 0) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """The samples (16 kHz mono float32) and the (start, end) seconds of every cry.

    ``parts`` are ``(kind, seconds)`` with kind ``silence`` (faint noise), ``cry`` or
    ``babble``.
    """
    rng = np.random.default_rng(seed)
    out, cries, t = [], [], 0.0
    for kind, sec in parts:
        n = int(round(sec * SR))
        if kind == "cry":
            out.append(synth_cry(sec, SR, seed=0))
            cries.append((t, t + sec))
        elif kind == "babble":
            out.append(babble(sec))
        else:
            out.append((0.001 * rng.standard_normal(n)).astype(np.float32))
        t += sec
    return np.concatenate(out).astype(np.float32), cries


def write_wav(path: Path, y: np.ndarray) -> Path:
    import soundfile as sf

    sf.write(path, y, SR, subtype="PCM_16")
    return path


def at_rate(rate: int, y: np.ndarray) -> np.ndarray:
    """``y`` (16 kHz) resampled to ``rate``."""
    import scipy.signal

    return scipy.signal.resample_poly(y, rate, SR).astype(np.float32)
