"""Build the bundled demo video: a synthesized cry-like sound and a gently moving face.

The sound (:func:`cryvideo.testing.media.synth_cry`) is made with numpy and scipy the way a
voice is made: 1.5–2.5 s cry units of a glottal
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
import sys
from pathlib import Path

import numpy as np

from cryvideo.media import load_audio
from cryvideo.testing.media import demo_frames, synth_cry, write_video

REPO = Path(__file__).resolve().parents[1]

SR = 16000
FPS = 30
SIZE = (480, 360)  # width, height
DURATION = 8.0
DEFAULT_OUT = REPO / "examples" / "demo.mp4"


def build(out: Path, audio: np.ndarray, *, duration: float = DURATION) -> Path:
    """Encode the frames and ``audio`` (mono float32 at :data:`SR`) into ``out`` (H.264 + AAC)."""
    try:
        return write_video(out, demo_frames(int(round(duration * FPS)), SIZE), fps=FPS,
                           size=SIZE, audio=audio[: int(duration * SR)], crf=28, preset="slow",
                           audio_bitrate="64k", faststart=True, timeout=120)
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from None


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
