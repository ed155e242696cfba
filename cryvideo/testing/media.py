"""Synthetic media for tests, benchmarks and the demo: real files made with ffmpeg's lavfi
sources, a synthesized cry, and videos of a moving face.

- :func:`ffmpeg`, :func:`lavfi_video`, :func:`lavfi_audio`, :func:`make_video` — small real
  H.264/AAC (or WAV/MP3) files from ffmpeg's ``testsrc2`` and ``sine`` sources;
- :func:`synth_cry` — a cry-like sound made the way a voice is (glottal pulses through
  formants), which YAMNet and the shipped detector hear as crying; no recording;
- :func:`demo_frames`, :func:`no_face_frames` — the demo clip's two scenes: the astronaut's
  smiling face, and a face-free picture (a coffee cup), each slowly panned and zoomed;
- :func:`face_frames`, :func:`write_video`, :func:`make_labelled_set` — labelled synthetic
  videos (a class-coloured face) for testing ``cryvideo train`` end to end;
- :func:`face_picture`, :class:`SceneFace`, :func:`scene_frames` — scenes of several real faces
  (a smiling one, a sad one) of chosen sizes, each in chosen frames, for the face cue;
  :func:`clock_frames` — frames whose grey level tells their time; :func:`retime_video`,
  :func:`rotate_video` — a variable-frame-rate copy and a copy with a rotation display matrix;
- :func:`batch_folder` — a folder of small mixed clips (cries, tones, videos) for batch runs.

``data_prep/make_demo_clip.py`` and ``data_prep/synthetic_videos.py`` are the command-line
front ends of these.
"""

from __future__ import annotations

import csv
import dataclasses
import os
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import ParameterError
from ..io import atomic_path
from ..media.ffmpeg import ffmpeg_exe

__all__ = ["SR", "AUDIO_SR", "CUE_COLOURS", "ffmpeg", "lavfi_video", "lavfi_audio",
           "make_video", "synth_cry", "pan_frames", "demo_frames", "no_face_frames",
           "face_frames", "write_video",
           "make_labelled_set", "batch_folder", "FACE_PICTURES", "face_picture", "SceneFace",
           "scene_frames", "clock_frames", "clock_level", "retime_video", "rotate_video",
           "concat_audio"]

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
def pan_frames(image: np.ndarray, n_frames: int, *, size: tuple[int, int] = (480, 360),
               centre: tuple[float, float] = (215, 150), view: tuple[float, float] = (300, 225),
               drift: tuple[float, float] = (12, 8), zoom: float = 0.08):
    """Yield RGB frames of a still ``image`` seen through a slowly panning and zooming camera.

    Parameters
    ----------
    image : np.ndarray [shape=(h, w, 3), dtype=uint8]
    n_frames : int
        The camera goes round once in this many frames.
    size : (int, int)
        Width, height of the frames.
    centre : (float, float)
        Centre of the view in the image, pixels.
    view : (float, float)
        Width, height of the view in the image, pixels (at zoom 1).
    drift : (float, float)
        Amplitude of the pan, pixels of the image.
    zoom : float
        Amplitude of the zoom (relative).
    """
    import cv2

    w, h = size
    for i in range(n_frames):
        phase = 2 * np.pi * i / n_frames
        z = 1.0 + zoom * np.sin(phase)
        cw, ch = view[0] / z, view[1] / z
        cx = centre[0] + drift[0] * np.sin(phase)
        cy = centre[1] + drift[1] * np.cos(phase)
        m = np.array([[w / cw, 0, -(cx - cw / 2) * w / cw], [0, h / ch, -(cy - ch / 2) * h / ch]])
        yield cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_AREA,
                             borderMode=cv2.BORDER_REFLECT)


def demo_frames(n_frames: int, size: tuple[int, int] = (480, 360)):
    """Yield RGB frames of the astronaut image, slowly panned and zoomed (the demo clip's face:
    a broad smile)."""
    from skimage import data

    # 512x512 RGB, face near (x≈210, y≈110)
    yield from pan_frames(data.astronaut(), n_frames, size=size)


def no_face_frames(n_frames: int, size: tuple[int, int] = (480, 360)):
    """Yield RGB frames of scikit-image's ``coffee`` picture (a cup on a table, no face),
    slowly panned and zoomed as :func:`demo_frames`."""
    from skimage import data

    # 400x600 RGB: the cup in the middle
    yield from pan_frames(data.coffee(), n_frames, size=size, centre=(300, 200),
                          view=(500, 375), drift=(10, 8), zoom=0.05)


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


#: Pictures :func:`face_picture` knows: a smiling face and faces that do not smile.
FACE_PICTURES = ("astronaut", "sad", "fearful")
#: Faces of scikit-image's LFW subset (``data.lfw_subset()``, 25×25 grey) that the FER-2013 model
#: reads as not happy under both finders: index 6 as sad, index 0 as fearful.
_LFW_INDEX = {"sad": 6, "fearful": 0}


def face_picture(name: str = "astronaut") -> np.ndarray:
    """A square RGB picture of one real face, for composing scenes.

    Parameters
    ----------
    name : {"astronaut", "sad", "fearful"}
        ``astronaut``: scikit-image's astronaut, head and shoulders (a broad smile: FER-2013
        reads happy ≈ 1.0; the face's box is about 0.4 of the picture's side). ``sad``,
        ``fearful``: a face of scikit-image's bundled LFW subset, upscaled (the face fills
        about 0.8 of the picture; read as sad, as fearful).

    Returns
    -------
    np.ndarray [shape=(side, side, 3), dtype=uint8]
    """
    import cv2
    from skimage import data

    if name == "astronaut":
        return np.ascontiguousarray(data.astronaut()[0:250, 100:350])
    if name not in _LFW_INDEX:
        raise ParameterError(f"face picture must be one of {FACE_PICTURES}, got {name!r}")
    g = data.lfw_subset()[_LFW_INDEX[name]]
    if g.dtype != np.uint8:  # scikit-image gives floats in [0, 1] (its docstring says uint8)
        g = (np.asarray(g, np.float64) * 255).round().clip(0, 255).astype(np.uint8)
    g = cv2.resize(g, (100, 100), interpolation=cv2.INTER_CUBIC)
    return np.repeat(g[..., None], 3, axis=2)


@dataclasses.dataclass(frozen=True)
class SceneFace:
    """One face of a :func:`scene_frames` scene.

    Attributes
    ----------
    picture : str
        A name of :data:`FACE_PICTURES`.
    side : int
        Side of the pasted picture, pixels (the face's box is a fraction of it, see
        :func:`face_picture`).
    centre : (float, float)
        Centre of the picture, as fractions of the frame's width and height.
    frames : range or collection of int, optional
        The frames that show this face (None: every frame).
    """

    picture: str
    side: int
    centre: tuple = (0.5, 0.5)
    frames: object = None


def scene_frames(n_frames: int, faces: Sequence[SceneFace], *,
                 size: tuple[int, int] = (320, 240), grey: int = 150):
    """Yield RGB frames of real faces on a plain background, each drifting a few pixels.

    Parameters
    ----------
    n_frames : int
    faces : sequence of SceneFace
        Later faces are drawn over earlier ones.
    size : (int, int)
        Width, height.
    grey : int
        Background level.
    """
    import cv2

    w, h = size
    pics = {}
    for f in faces:
        if (f.picture, f.side) not in pics:
            pic = face_picture(f.picture)
            interp = cv2.INTER_AREA if pic.shape[0] > f.side else cv2.INTER_CUBIC
            pics[f.picture, f.side] = cv2.resize(pic, (f.side, f.side), interpolation=interp)
    for i in range(n_frames):
        img = np.full((h, w, 3), grey, np.uint8)
        for k, f in enumerate(faces):
            if f.frames is not None and i not in f.frames:
                continue
            pic = pics[f.picture, f.side]
            phase = 2 * np.pi * i / max(n_frames, 8) + k
            x0 = int(round(f.centre[0] * w - f.side / 2 + 3 * np.sin(phase)))
            y0 = int(round(f.centre[1] * h - f.side / 2 + 2 * np.cos(phase)))
            xa, ya = max(0, x0), max(0, y0)
            xb, yb = min(w, x0 + f.side), min(h, y0 + f.side)
            img[ya:yb, xa:xb] = pic[ya - y0:yb - y0, xa - x0:xb - x0]
        yield img


def clock_level(t: float) -> int:
    """Grey level :func:`clock_frames` shows during second ``int(t)`` (steps of 40)."""
    return 20 + 40 * (int(t) % 6)


def clock_frames(times: Sequence[float], *, size: tuple[int, int] = (64, 48)):
    """Yield one plain RGB frame per time in ``times``, whose grey level tells that time
    (:func:`clock_level`)."""
    w, h = size
    for t in times:
        yield np.full((h, w, 3), clock_level(t), np.uint8)


def retime_video(src: Path, out: Path, *, pts: str, audio: np.ndarray | None = None) -> Path:
    """A copy of ``src``'s video whose frames get new time stamps (``setpts`` expression, in
    seconds, of the frame number ``N``), written at a variable frame rate.

    Example: ``pts="if(lt(N,50),N/25,2+(N-50)/5)"`` — 25 fps for 2 s, then 5 fps.

    Parameters
    ----------
    audio : np.ndarray, optional
        Mono float32 sound at :data:`AUDIO_SR` for the copy (else ``src``'s sound is copied).
    """
    import soundfile as sf

    with tempfile.TemporaryDirectory() as td, atomic_path(out) as tmp:
        args = ["-i", str(src)]
        if audio is not None:
            wav = Path(td) / "a.wav"
            sf.write(wav, audio, AUDIO_SR)
            args += ["-i", str(wav), "-map", "0:v", "-map", "1:a", "-c:a", "aac", "-ac", "1"]
        else:
            args += ["-c:a", "copy"]
        ffmpeg(*args, "-vf", f"setpts='({pts})/TB'", "-fps_mode", "vfr", "-c:v", "libx264",
               "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-f", "mp4", str(tmp))
    return out


def rotate_video(src: Path, out: Path, *, degrees: int = 90) -> Path:
    """A copy of ``src`` (streams copied) whose video carries a display matrix rotating it by
    ``degrees`` counter-clockwise (ffmpeg's ``-display_rotation``), as phones write."""
    with atomic_path(out) as tmp:
        ffmpeg("-display_rotation", str(degrees), "-i", str(src), "-c", "copy",
               "-f", "mp4", str(tmp))
    return out


def concat_audio(out: Path, sources: Sequence[str | os.PathLike], *, sr: int = AUDIO_SR
                 ) -> Path:
    """One mono file of the ``sources``' sounds one after the other (any formats ffmpeg reads,
    resampled to ``sr``); the format follows ``out``'s name (``.flac``, ``.wav``, …)."""
    args = [a for src in sources for a in ("-i", os.fspath(src))]
    chain = "".join(f"[{i}:a]aresample={sr},aformat=channel_layouts=mono[a{i}];"
                    for i in range(len(sources)))
    joined = "".join(f"[a{i}]" for i in range(len(sources)))
    ffmpeg(*args, "-filter_complex", f"{chain}{joined}concat=n={len(sources)}:v=0:a=1",
           os.fspath(out))
    return Path(out)


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
