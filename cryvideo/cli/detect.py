"""``cryvideo detect FILE…``: is an infant crying, and when?"""

from __future__ import annotations

import argparse
import os

from ..errors import ModelError, ParameterError
from .common import (
    StageProgress,
    check_number,
    check_output,
    emit_json,
    expand_inputs,
    locked_output,
    run_batch,
)

HELP = "detect infant crying (probability and time segments) in audio/video files"
#: Largest accepted ``--hop`` (seconds between windows).
MAX_HOP = 60.0


def add_parser(sub) -> None:
    p = sub.add_parser(
        "detect",
        help=HELP,
        description=HELP + ". A log-mel CNN10 scores 2 s windows every 0.5 s; the clip "
        "probability is the highest window's, and windows above the threshold are merged into "
        "segments.",
        epilog="examples:\n  cryvideo detect clip.mp4\n  cryvideo detect --json recordings/"
        "\n  cryvideo detect --threshold 0.7 --model saved_models/cry_detector_int8.tflite a.wav",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="*", metavar="FILE",
                   help="audio or video files, or folders of them")
    p.add_argument("--json", action="store_true", help="one JSON object per file on stdout")
    p.add_argument("--model", metavar="PATH",
                   help="detector (.keras or .tflite with its JSON card; default: the shipped "
                   "saved_models/cry_detector.keras)")
    p.add_argument("--backend", choices=("cnn10", "yamnet"), default="cnn10",
                   help="cnn10: the trained log-mel CNN10 (default); yamnet: YAMNet's own cry "
                   "classes, zero-shot (needs yamnet.tflite in $CRYVIDEO_WEIGHTS_DIR)")
    p.add_argument("--threshold", type=float, default=None,
                   help="decision threshold in [0, 1] (default: the model card's)")
    p.add_argument("--hop", type=float, default=0.5, help="seconds between windows, above 0 "
                   "and at most 60 (default: %(default)s)")
    p.add_argument("--out", metavar="PATH",
                   help="also write the output (text or JSON lines) to this file, atomically; "
                   "never over an input or a file of another kind")
    p.set_defaults(func=run)


def format_result(res, notes: list[str] = ()) -> str:
    """Human-readable line(s) for one detection."""
    verdict = "CRYING" if res.crying else "no crying"
    lines = [f"{res.path}: {verdict} (p={res.probability:.2f}, threshold {res.threshold:.2f}, "
             f"{res.duration:.1f} s)"]
    if res.segments:
        lines.append("  segments: " + ", ".join(f"{a:.1f}–{b:.1f} s" for a, b in res.segments))
    lines += [f"  note: {n}" for n in notes]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    # Every option and output is checked before any model loads (importing the detector loads
    # TensorFlow: seconds).
    if not args.paths:
        raise ParameterError("no input files given (usage: cryvideo detect FILE…)")
    check_number("--threshold", args.threshold, lo=0.0, hi=1.0)
    check_number("--hop", args.hop, lo=0.0, lo_open=True, hi=MAX_HOP, unit=" seconds")
    paths = expand_inputs(args.paths)
    if args.model is not None and not os.path.isfile(args.model):
        raise ModelError("no such model file (given with --model)", path=args.model)
    if args.model is None and args.backend == "cnn10":
        from ..pipeline.models import check_models_dir, default_models_dir

        check_models_dir(default_models_dir())
    out = check_output(args.out, option="--out", kind="text", inputs=paths) if args.out \
        else None

    state: dict = {"notes": []}
    bar = StageProgress(unit="window")

    def load_detector():
        from ..panns.detector import DEFAULT_DETECTOR, CryDetector

        if args.backend == "yamnet":
            from ..panns.detector import YamnetCryDetector

            return YamnetCryDetector(**({} if args.threshold is None
                                        else {"threshold": args.threshold}))
        kw = {"threshold": args.threshold, "hop": args.hop}
        if args.model:
            return CryDetector.load(args.model, **kw)
        from ..pipeline.models import find_model

        path, note = find_model(DEFAULT_DETECTOR)
        if path is None:
            return CryDetector.load_default(**kw)  # names the missing file
        state["notes"] += [note] if note else []
        return CryDetector.load(path, **kw)

    def analyse(path: str):
        from ..errors import InputFileError
        from ..media import probe
        from ..media.probe import short_decode_note

        info = probe(path)  # file problems surface before the model loads
        if not info.has_audio:
            raise InputFileError("has no audio stream", path=path)
        if "detector" not in state:
            state["detector"] = load_detector()
        try:
            res = state["detector"].detect(path, progress=lambda done, total: bar(
                "windows", done, total))
        finally:
            bar.close()
        short = short_decode_note(res.duration, info.duration)
        return res, state["notes"] + ([short] if short else [])

    def render(item) -> str:
        res, notes = item
        if args.json:
            return emit_json(dict(res.to_dict(), notes=notes))
        return format_result(res, notes)

    with locked_output(out):
        return run_batch(paths, analyse, render=render, as_json=args.json, out=out)
