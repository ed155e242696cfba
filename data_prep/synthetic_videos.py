"""Small labelled synthetic videos for testing ``cryvideo train`` end to end.

Each video shows scikit-image's bundled ``astronaut`` face, panned and zoomed differently per
video (and mirrored for half of them), with a **class-dependent visual cue**: the face region is
tinted with the class's colour. The sound is a cry: a Donateacry clip when a folder of WAV files
is given (any class: the sound carries no label information), else the synthesized cry of
``cryvideo.testing.media.synth_cry``. So the face branch can learn the labels and the audio branches
cannot: a check that training, grouped evaluation and fusion work — not a claim about infants.

The videos are made by :func:`cryvideo.testing.media.make_labelled_set`; this is its command
line. Usage::

    python data_prep/synthetic_videos.py OUT --per-class 8 [--audio-dir ../shared/data/donateacry]
    cryvideo train OUT_DIR --labels OUT_DIR/labels.csv --group-column group --backbone mobilenet

Nothing from ``../shared`` is committed: videos made with its audio stay local.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cryvideo.testing.media import make_labelled_set


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
