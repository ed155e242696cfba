"""Known audio for the ``listen`` tests: silence, cry, speech-like babble, cry, silence.

The cries are :func:`data_prep.make_demo_clip.synth_cry` (a glottal pulse train through
formants), which the shipped detector hears as crying; the babble is a 120 Hz harmonic voice
with a 4 Hz syllable rhythm, which it does not.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "data_prep") not in sys.path:
    sys.path.insert(0, str(REPO / "data_prep"))
from make_demo_clip import synth_cry  # noqa: E402

SR = 16000
#: (kind, seconds) of the known sequence; the cries are at 4–10 s and 20–26 s.
SEQUENCE = (("silence", 4.0), ("cry", 6.0), ("babble", 10.0), ("cry", 6.0), ("silence", 6.0))
#: A cry's part of the sequence, then silence: cry at 4–10 s.
ONE_CRY = (("silence", 4.0), ("cry", 6.0), ("silence", 6.0))


def babble(seconds: float) -> np.ndarray:
    """Speech-like sound: a gliding 120 Hz voice with 14 harmonics, 4 syllables a second."""
    t = np.arange(int(round(seconds * SR))) / SR
    f0 = 120 + 20 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / SR
    y = sum(np.sin(h * phase) / h for h in range(1, 15))
    env = (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t)) ** 2
    return (0.2 * y * env / np.abs(y).max()).astype(np.float32)


def sequence(parts=SEQUENCE, *, seed: int = 0) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """The samples (16 kHz mono float32) and the (start, end) seconds of every cry."""
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


def gone(pids, *, timeout: float = 20.0) -> bool:
    """Whether every process in ``pids`` is dead (or a zombie) within ``timeout`` seconds: a
    killed process takes a moment to die; a survivor is a failure, not a slow machine."""
    import time

    import psutil

    def alive(pid: int) -> bool:
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    deadline = time.monotonic() + timeout
    while any(alive(p) for p in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
