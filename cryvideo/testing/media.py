"""Synthetic media for tests, benchmarks and the demo: real files made with ffmpeg's lavfi
sources, a synthesized cry, and videos of a moving face.

- :func:`ffmpeg`, :func:`lavfi_video`, :func:`lavfi_audio`, :func:`make_video` — small real
  H.264/AAC (or WAV/MP3) files from ffmpeg's ``testsrc2`` and ``sine`` sources;
- :func:`synth_cry` — a cry-like sound made the way a voice is (glottal pulses through
  formants), which YAMNet and the shipped detector hear as crying; no recording;
- :func:`demo_frames` — the demo clip's astronaut face, slowly panned and zoomed;
- :func:`face_frames`, :func:`write_video`, :func:`make_labelled_set` — labelled synthetic
  videos (a class-coloured face) for testing ``cryvideo train`` end to end;
- :func:`batch_folder` — a folder of small mixed clips (cries, tones, videos) for batch runs.

``data_prep/make_demo_clip.py`` and ``data_prep/synthetic_videos.py`` are the command-line
front ends of these.
"""

from __future__ import annotations

import csv
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..io import atomic_path
from ..media.ffmpeg import ffmpeg_exe

__all__ = ["SR", "AUDIO_SR", "CUE_COLOURS", "ffmpeg", "lavfi_video", "lavfi_audio",
           "make_video", "synth_cry", "demo_frames", "face_frames", "write_video",
           "make_labelled_set", "batch_folder"]

#: Sample rate of the synthesized cry by default (Hz).
SR = 16000
#: Sample rate of the synthetic videos' sound (Hz).
AUDIO_SR = 16000
#: Tint (RGB) of each class's face.
CUE_COLOURS = ((255, 40, 40), (40, 220, 40), (60, 60, 255), (240, 220, 40), (220, 40, 220))


# -- lavfi files ---------------------------------------------------------------------------------
def ffmpeg(*args: str, timeout: float = 60) -> None:
    """Run ffmpeg quietly with ``args`` (overwriting outputs); raises on failure."""
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args],
                   check=True, timeout=timeout, stdin=subprocess.DEVNULL)


def lavfi_video(size: str, rate: float, duration: float) -> list[str]:
    """ffmpeg input arguments of a ``testsrc2`` video (``size`` as ``"WxH"``)."""
    return ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={duration}"]


def lavfi_audio(sr: int, duration: float, freq: int = 440) -> list[str]:
    """ffmpeg input arguments of a ``sine`` tone."""
    return ["-f", "lavfi", "-i", f"sine=frequency={freq}:sample_rate={sr}:duration={duration}"]


def make_video(path: Path, *, duration: float = 2.0, size: str = "320x240", rate: int = 25,
               audio: bool = True, video: bool = True, freq: int = 440) -> Path:
    """A real H.264/AAC file from ffmpeg's lavfi sources (testsrc2 + sine); the audio codec
    follows the suffix (``.wav``: PCM, ``.mp3``: MP3)."""
    args: list[str] = []
    if video:
        args += lavfi_video(size, rate, duration)
    if audio:
        args += lavfi_audio(16000, duration, freq)
    if video:
        args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if audio:
        args += ["-c:a", "aac" if path.suffix in (".mp4", ".m4a", ".mov") else
                 ("pcm_s16le" if path.suffix == ".wav" else "libmp3lame")]
    ffmpeg(*args, "-t", str(duration), str(path))
    return path


# -- a synthesized cry ---------------------------------------------------------------------------
def _resonator(x: np.ndarray, f: float, bw: float, sr: int) -> np.ndarray:
    """Two-pole resonance at ``f`` Hz with bandwidth ``bw`` Hz (a formant)."""
    import scipy.signal

    r = np.exp(-np.pi * bw / sr)
    th = 2 * np.pi * f / sr
    return scipy.signal.lfilter([1 - r], [1, -2 * r * np.cos(th), r * r], x)


def synth_cry(duration: float = 8.0, sr: int = SR, *, seed: int = 0) -> np.ndarray:
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



# -- videos of a face ----------------------------------------------------------------------------
def demo_frames(n_frames: int, size: tuple[int, int] = (480, 360)):
    """Yield RGB frames of the astronaut image, slowly panned and zoomed (the demo clip's)."""
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


def face_frames(n_frames: int, *, size: tuple[int, int] = (240, 180), cue: int | None = None,
                seed: int = 0, tint: float = 0.35, face: bool = True):
    """Yield RGB frames of a moving astronaut face, tinted with the colour of class ``cue``.

    Parameters
    ----------
    n_frames : int
    size : (int, int)
        Width, height.
    cue : int, optional
        Class index (``None``: no tint).
    seed : int
        Per-video variation (pan, zoom, mirror, motion phase).
    tint : float
        Blend weight of the class colour over the face region.
    face : bool
        False: show the astronaut image's face-free lower part (a video with no face).
    """
    import cv2
    from skimage import data

    rng = np.random.default_rng(seed)
    img = data.astronaut().copy()  # 512x512 RGB, face near (x≈210, y≈110)
    if cue is not None:
        colour = np.array(CUE_COLOURS[cue % len(CUE_COLOURS)], np.float32)
        region = img[20:230, 120:320].astype(np.float32)
        img[20:230, 120:320] = ((1 - tint) * region + tint * colour).clip(0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        img = img[:, ::-1].copy()
        cx0 = 512 - 215
    else:
        cx0 = 215
    w, h = size
    zoom0 = rng.uniform(0.9, 1.15)
    dx, dy = rng.uniform(-15, 15, size=2)
    phase0 = rng.uniform(0, 2 * np.pi)
    for i in range(n_frames):
        phase = phase0 + 2 * np.pi * i / max(n_frames, 1)
        zoom = zoom0 * (1.0 + 0.05 * np.sin(phase))
        ch = 225 / zoom
        cw = ch * w / h  # keep the face's aspect ratio whatever the frame size
        cx = cx0 + dx + 8 * np.sin(phase)
        cy = (150 if face else 420) + dy + 6 * np.cos(phase)
        m = np.array([[w / cw, 0, -(cx - cw / 2) * w / cw], [0, h / ch, -(cy - ch / 2) * h / ch]])
        yield cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_AREA,
                             borderMode=cv2.BORDER_REFLECT)


def write_video(out: Path, frames, *, fps: float, size: tuple[int, int],
                audio: np.ndarray | None, crf: int = 30, preset: str = "ultrafast",
                audio_bitrate: str = "48k", faststart: bool = False,
                timeout: float = 300) -> Path:
    """Encode RGB ``frames`` (and mono float32 ``audio`` at 16 kHz) into an H.264/AAC mp4.

    Parameters
    ----------
    frames : iterable of np.ndarray [shape=(h, w, 3), dtype=uint8]
    size : (int, int)
        Width, height.
    crf, preset : x264 quality and speed.
    audio_bitrate : str
        AAC bit rate.
    faststart : bool
        Put the index first (a file that plays while it downloads).

    Raises
    ------
    RuntimeError
        ffmpeg failed (nothing is left at ``out``).
    """
    import soundfile as sf

    with tempfile.TemporaryDirectory() as td:
        args = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo",
                "-pix_fmt", "rgb24", "-s", f"{size[0]}x{size[1]}", "-r", str(fps), "-i", "-"]
        if audio is not None:
            wav = Path(td) / "a.wav"
            sf.write(wav, audio, AUDIO_SR)
            args += ["-i", str(wav), "-c:a", "aac", "-b:a", audio_bitrate, "-ac", "1",
                     "-shortest"]
        with atomic_path(out) as tmp:
            args += ["-c:v", "libx264", "-preset", preset, "-crf", str(crf),
                     "-pix_fmt", "yuv420p", *(["-movflags", "+faststart"] if faststart else []),
                     "-f", "mp4", str(tmp)]
            proc = subprocess.Popen(args, stdin=subprocess.PIPE)
            try:
                for fr in frames:
                    proc.stdin.write(np.ascontiguousarray(fr).tobytes())
                proc.stdin.close()
                rc = proc.wait(timeout=timeout)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            if rc != 0:
                raise RuntimeError(f"ffmpeg failed with status {rc} writing {out}")
    return out


def _audio_for(i: int, duration: float, wavs: Sequence[Path]) -> np.ndarray:
    n = int(round(duration * AUDIO_SR))
    if wavs:
        from cryvideo.media import load_audio

        y = load_audio(wavs[i % len(wavs)], sr=AUDIO_SR)
        y = np.tile(y, int(np.ceil(n / max(len(y), 1))))[:n]
        return (0.9 * y / (np.max(np.abs(y)) + 1e-9)).astype(np.float32)
    return synth_cry(duration, AUDIO_SR, seed=i)


def make_labelled_set(out_dir: str | Path, *, classes: Sequence[str] = ("hug", "hungry",
                      "sleepy"), per_class: int = 8, duration: float = 2.0, fps: float = 10.0,
                      size: tuple[int, int] = (240, 180), audio_dir: str | Path | None = None,
                      per_group: int = 2, seed: int = 0) -> Path:
    """Write ``per_class`` videos per class and ``labels.csv`` (file, label, group).

    Videos ``per_group`` at a time share a group (a "subject"): grouped splits keep them
    together.

    Returns
    -------
    pathlib.Path
        The labels file.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    wavs: list[Path] = []
    if audio_dir is not None:
        wavs = sorted(Path(audio_dir).rglob("*.wav"))
        np.random.default_rng(seed).shuffle(wavs)
    rows = []
    k = 0
    for ci, lab in enumerate(classes):
        for j in range(per_class):
            name = f"{lab}_{j:02d}.mp4"
            n_frames = int(round(duration * fps))
            write_video(out_dir / name, face_frames(n_frames, size=size, cue=ci,
                                                    seed=seed * 1000 + k),
                        fps=fps, size=size, audio=_audio_for(k, duration, wavs))
            rows.append({"file": name, "label": lab, "group": f"{lab}-s{j // per_group}"})
            k += 1
    labels = out_dir / "labels.csv"
    with atomic_path(labels) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["file", "label", "group"])
        w.writeheader()
        w.writerows(rows)
    return labels


def batch_folder(folder: str | Path, n: int, *, duration: float = 4.0) -> list[Path]:
    """``n`` small clips in ``folder``, for batch runs: in turn a synthesized cry (WAV), a test
    pattern video with a tone (MP4, no crying) and a test pattern video with a cry (MP4).

    Returns
    -------
    list of Path
        The files, in the order they sort in.
    """
    import soundfile as sf

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        kind = i % 3
        if kind == 1:
            out.append(make_video(folder / f"clip{i:03d}_tone.mp4", duration=duration,
                                  freq=300 + 40 * i))
            continue
        y = synth_cry(duration, SR, seed=i)
        if kind == 0:
            path = folder / f"clip{i:03d}_cry.wav"
            with atomic_path(path) as tmp:
                sf.write(tmp, y, SR, format="WAV", subtype="PCM_16")
        else:
            path = folder / f"clip{i:03d}_cry.mp4"
            with tempfile.TemporaryDirectory() as d:
                wav = Path(d) / "cry.wav"
                sf.write(wav, y, SR, subtype="PCM_16")
                ffmpeg(*lavfi_video("320x240", 25, duration), "-i", str(wav), "-c:v", "libx264",
                       "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
                       str(path))
        out.append(path)
    return sorted(out)
