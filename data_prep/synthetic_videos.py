"""Small labelled synthetic videos for testing ``cryvideo train`` end to end.

Each video shows scikit-image's bundled ``astronaut`` face, panned and zoomed differently per
video (and mirrored for half of them), with a **class-dependent visual cue**: the face region is
tinted with the class's colour. The sound is a cry: a Donateacry clip when a folder of WAV files
is given (any class: the sound carries no label information), else the synthesized cry of
``make_demo_clip.synth_cry``. So the face branch can learn the labels and the audio branches
cannot: a check that training, grouped evaluation and fusion work — not a claim about infants.

Usage::

    python data_prep/synthetic_videos.py OUT --per-class 8 [--audio-dir ../shared/data/donateacry]
    cryvideo train OUT_DIR --labels OUT_DIR/labels.csv --group-column group --backbone mobilenet

Nothing from ``../shared`` is committed: videos made with its audio stay local.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from cryvideo.io import atomic_path  # noqa: E402
from cryvideo.media.ffmpeg import ffmpeg_exe  # noqa: E402

#: Tint (RGB) of each class's face.
CUE_COLOURS = ((255, 40, 40), (40, 220, 40), (60, 60, 255), (240, 220, 40), (220, 40, 220))
AUDIO_SR = 16000


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
                audio: np.ndarray | None, crf: int = 30) -> Path:
    """Encode RGB ``frames`` (and mono float32 ``audio`` at 16 kHz) into an H.264/AAC mp4."""
    import soundfile as sf

    with tempfile.TemporaryDirectory() as td:
        args = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo",
                "-pix_fmt", "rgb24", "-s", f"{size[0]}x{size[1]}", "-r", str(fps), "-i", "-"]
        if audio is not None:
            wav = Path(td) / "a.wav"
            sf.write(wav, audio, AUDIO_SR)
            args += ["-i", str(wav), "-c:a", "aac", "-b:a", "48k", "-ac", "1", "-shortest"]
        with atomic_path(out) as tmp:
            args += ["-c:v", "libx264", "-preset", "ultrafast", "-crf", str(crf),
                     "-pix_fmt", "yuv420p", "-f", "mp4", str(tmp)]
            proc = subprocess.Popen(args, stdin=subprocess.PIPE)
            try:
                for fr in frames:
                    proc.stdin.write(np.ascontiguousarray(fr).tobytes())
                proc.stdin.close()
                rc = proc.wait(timeout=300)
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
    sys.path.insert(0, str(REPO / "data_prep"))
    from make_demo_clip import synth_cry

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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--per-class", type=int, default=8)
    ap.add_argument("--duration", type=float, default=2.0)
    ap.add_argument("--fps", type=float, default=10.0)
    ap.add_argument("--audio-dir", type=Path, help="folder of WAV cries (e.g. Donateacry)")
    args = ap.parse_args(argv)
    labels = make_labelled_set(args.out_dir, per_class=args.per_class, duration=args.duration,
                               fps=args.fps, audio_dir=args.audio_dir)
    print(f"wrote {labels}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
