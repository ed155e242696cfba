"""Build the bundled demo video: the same cry heard twice, once with no face in view and once
under a smiling face, so that the demo shows both channels of the audio-visual verdict.

The clip (8 s, 480×360, 30 fps, H.264 + AAC; as long as the demo has always been, so that
``predict examples/demo.mp4`` stays as fast):

- **0–3 s** — a face-free scene (scikit-image's ``coffee`` picture, slowly panned) over a
  synthesized cry: no face is seen, so the sound decides alone → crying, and ``predict`` gives
  a reason;
- **3–5 s** — silence (the scene changes at 4 s), so the cry detector reports two separate
  segments (about 0–2.9 s and 4.8–7.7 s with the shipped detector);
- **5–8 s** — the same cry under scikit-image's ``astronaut``, whose face smiles broadly
  throughout: the face is visibly happy, so the face vetoes that segment.

The sound (:func:`cryvideo.testing.media.synth_cry`) is made with numpy and scipy the way a
voice is made: 1.5–2.5 s cry units of a glottal pulse train at 350–450 Hz (rising-falling
contour, breath noise) through three formants, with short in-breaths between them (an infant
cry's typical shape).

Usage::

    python data_prep/make_demo_clip.py                      # writes examples/demo.mp4
    python data_prep/make_demo_clip.py --audio my_cry.wav   # same video, your recording's sound

Nothing from ``../shared`` is ever committed; a demo built from a recording stays local.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

from cryvideo.media import load_audio
from cryvideo.testing.media import demo_frames, no_face_frames, synth_cry, write_video

REPO = Path(__file__).resolve().parents[1]

SR = 16000
FPS = 30
SIZE = (480, 360)  # width, height
#: Seconds of each cry part, and of the silence between them.
CRY, GAP = 3.0, 2.0
DURATION = 2 * CRY + GAP
DEFAULT_OUT = REPO / "examples" / "demo.mp4"


def soundtrack(cry: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """``cry`` (mono float32 at :data:`SR`, at least :data:`CRY` s), a silence of :data:`GAP` s,
    then ``cry`` again; the silence carries the synthesized cry's faint noise floor."""
    n = int(round(CRY * SR))
    if len(cry) < n:
        cry = np.tile(cry, int(np.ceil(n / max(len(cry), 1))))
    quiet = 0.003 * np.random.default_rng(seed).standard_normal(int(round(GAP * SR)))
    return np.concatenate([cry[:n], quiet, cry[:n]]).astype(np.float32)


def frames():
    """The face-free scene until the middle of the silence, then the smiling face."""
    cut = int(round((CRY + GAP / 2) * FPS))
    rest = int(round(DURATION * FPS)) - cut
    return itertools.chain(no_face_frames(cut, SIZE), demo_frames(rest, SIZE))


def build(out: Path, audio: np.ndarray) -> Path:
    """Encode the frames and ``audio`` (see :func:`soundtrack`) into ``out`` (H.264 + AAC)."""
    try:
        return write_video(out, frames(), fps=FPS, size=SIZE, audio=audio, crf=30,
                           preset="slow", audio_bitrate="64k", faststart=True, timeout=120)
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output video (mp4)")
    ap.add_argument("--audio", type=Path, help="use this recording's sound instead of the "
                    "synthesized cry, in both cry parts (never commit the result)")
    args = ap.parse_args(argv)
    if args.audio:
        y = load_audio(args.audio, sr=SR)
        if not len(y):
            raise SystemExit(f"make_demo_clip: {args.audio} has no sound")
        y = (0.9 * y / (np.max(np.abs(y)) + 1e-9)).astype(np.float32)
    else:
        y = synth_cry(CRY)
    out = build(args.out, soundtrack(y))
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
