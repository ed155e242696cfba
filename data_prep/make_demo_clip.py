"""Build the bundled demo video: a synthesized cry-like sound and a gently moving face.

The sound is made with numpy and scipy the way a voice is made: 1.5–2.5 s cry units of a glottal
pulse train at 350–450 Hz (rising-falling contour, breath noise) through three formants, with
short in-breaths between them (an infant cry's typical shape); the face is
scikit-image's bundled ``astronaut`` image, slowly panned and zoomed so that a face detector
finds a face in every frame.

Usage::

    python data_prep/make_demo_clip.py                      # writes examples/demo.mp4
    python data_prep/make_demo_clip.py --audio my_cry.wav   # same video, your recording's sound

Nothing from ``../shared`` is ever committed; a demo built from a recording stays local.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cryvideo.io import atomic_path  # noqa: E402
from cryvideo.media import load_audio  # noqa: E402
from cryvideo.media.ffmpeg import ffmpeg_exe  # noqa: E402

SR = 16000
FPS = 30
SIZE = (480, 360)  # width, height
DURATION = 8.0
DEFAULT_OUT = REPO / "examples" / "demo.mp4"


def _resonator(x: np.ndarray, f: float, bw: float, sr: int) -> np.ndarray:
    """Two-pole resonance at ``f`` Hz with bandwidth ``bw`` Hz (a formant)."""
    import scipy.signal

    r = np.exp(-np.pi * bw / sr)
    th = 2 * np.pi * f / sr
    return scipy.signal.lfilter([1 - r], [1, -2 * r * np.cos(th), r * r], x)


def synth_cry(duration: float = DURATION, sr: int = SR, *, seed: int = 0) -> np.ndarray:
    """A cry-like signal, made the way a voice is: a glottal source through formants.

    Cry units of 1.5–2.5 s: a pulse train (Rosenberg-like glottal flow, open quotient 0.5)
    at a 350–450 Hz fundamental with a rising-falling contour and slow jitter, plus breath noise
    in time with the pulses, through three formant resonances (800, 2200, 3600 Hz, as an open
    infant vowel); between units a short noisy in-breath. YAMNet hears it as "Whimper",
    "Crying, sobbing" and "Baby cry, infant cry".

    Parameters
    ----------
    duration : float
        Seconds.
    sr : int
        Sample rate.
    seed : int
        Seed of the small random variations (unit lengths, pitch, noise).

    Returns
    -------
    np.ndarray [shape=(round(duration * sr),), dtype=float32]
        Samples in [-1, 1].
    """
    import scipy.signal

    rng = np.random.default_rng(seed)
    n = int(round(duration * sr))
    y = np.zeros(n, dtype=np.float64)
    breath_hp = scipy.signal.butter(2, 1000, btype="high", fs=sr)
    inbreath_bp = scipy.signal.butter(2, [600, min(4000, 0.45 * sr)], btype="band", fs=sr)
    t = 0.1
    while t < duration - 0.7:
        unit = min(rng.uniform(1.5, 2.5), duration - t - 0.1)
        m = int(unit * sr)
        tt = np.arange(m) / sr
        f0 = 350 * rng.uniform(0.9, 1.1) * (1 + 0.3 * np.sin(np.pi * tt / unit) ** 0.7)
        f0 *= 1 + 0.002 * scipy.signal.lfilter([1], [1, -0.99], rng.standard_normal(m))
        phase = np.cumsum(f0) / sr
        frac = phase % 1.0
        flow = np.where(frac < 0.5, np.sin(np.pi * frac / 0.5) ** 2, 0.0)
        src = np.diff(flow, prepend=0.0)
        src /= np.abs(src).max()
        noise = scipy.signal.lfilter(*breath_hp, rng.standard_normal(m))
        src += 0.3 * noise * (0.5 + 0.5 * np.cos(2 * np.pi * phase))
        for f, bw in ((800, 150), (2200, 200), (3600, 250)):
            if f >= 0.48 * sr:
                continue
            src = _resonator(src, f * rng.uniform(0.95, 1.05), bw, sr)
        env = np.minimum(1, tt / 0.04) * np.minimum(1, (unit - tt) / 0.12)
        s = int(t * sr)
        y[s:s + m] += env * src / np.abs(src).max()
        t += unit
        gm = int(rng.uniform(0.12, 0.25) * sr)
        gasp = scipy.signal.lfilter(*inbreath_bp, rng.standard_normal(gm)) * np.hanning(gm)
        s = int(t * sr)
        y[s:s + gm] += 0.12 * gasp[: len(y[s:s + gm])] / np.abs(gasp).max()
        t += gm / sr + rng.uniform(0.05, 0.2)
    y += 0.003 * rng.standard_normal(n)
    y /= np.max(np.abs(y)) + 1e-9
    return (0.8 * y).astype(np.float32)


def face_frames(n_frames: int, size: tuple[int, int] = SIZE):
    """Yield RGB frames of the astronaut image, slowly panned and zoomed."""
    import cv2
    from skimage import data

    img = data.astronaut()  # 512x512 RGB, face near (x≈210, y≈110)
    w, h = size
    for i in range(n_frames):
        phase = 2 * np.pi * i / n_frames
        zoom = 1.0 + 0.08 * np.sin(phase)
        cw, ch = 300 / zoom, 225 / zoom
        cx = 215 + 12 * np.sin(phase)
        cy = 150 + 8 * np.cos(phase)
        m = np.array([[w / cw, 0, -(cx - cw / 2) * w / cw], [0, h / ch, -(cy - ch / 2) * h / ch]])
        yield cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_AREA,
                             borderMode=cv2.BORDER_REFLECT)


def build(out: Path, audio: np.ndarray, *, duration: float = DURATION) -> Path:
    """Encode the frames and ``audio`` (mono float32 at :data:`SR`) into ``out`` (H.264 + AAC)."""
    import soundfile as sf

    n_frames = int(round(duration * FPS))
    audio = audio[: int(duration * SR)]
    with tempfile.TemporaryDirectory() as td:
        wav = Path(td) / "a.wav"
        sf.write(wav, audio, SR)
        with atomic_path(out) as tmp:
            cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo",
                   "-pix_fmt", "rgb24", "-s", f"{SIZE[0]}x{SIZE[1]}", "-r", str(FPS), "-i", "-",
                   "-i", str(wav), "-c:v", "libx264", "-preset", "slow", "-crf", "28",
                   "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-ac", "1",
                   "-movflags", "+faststart", "-shortest", "-f", "mp4", str(tmp)]
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
            try:
                for fr in face_frames(n_frames):
                    proc.stdin.write(np.ascontiguousarray(fr).tobytes())
                proc.stdin.close()
                rc = proc.wait(timeout=120)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            if rc != 0:
                raise SystemExit(f"ffmpeg failed with status {rc}")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output video (mp4)")
    ap.add_argument("--audio", type=Path, help="use this recording's sound instead of the "
                    "synthesized cry (never commit the result)")
    ap.add_argument("--duration", type=float, default=DURATION)
    args = ap.parse_args(argv)
    if args.audio:
        y = load_audio(args.audio, sr=SR)
        reps = int(np.ceil(args.duration * SR / len(y)))
        y = np.tile(y, reps)
        y = (0.9 * y / (np.max(np.abs(y)) + 1e-9)).astype(np.float32)
    else:
        y = synth_cry(args.duration)
    out = build(args.out, y, duration=args.duration)
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
