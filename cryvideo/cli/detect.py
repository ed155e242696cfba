"""``cryvideo detect FILE…``: is an infant crying, and when?"""

from __future__ import annotations

import argparse
import sys

from ..errors import CryVideoError, ParameterError, PartialFailure
from .common import StageProgress, emit_json, expand_inputs, progress_bar, write_output

HELP = "detect infant crying (probability and time segments) in audio/video files"


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
    p.add_argument("--hop", type=float, default=0.5, help="seconds between windows "
                   "(default: %(default)s)")
    p.add_argument("--out", metavar="PATH",
                   help="also write the output (text or JSON lines) to this file, atomically")
    p.set_defaults(func=run)


def format_result(res) -> str:
    """Human-readable line(s) for one detection."""
    verdict = "CRYING" if res.crying else "no crying"
    lines = [f"{res.path}: {verdict} (p={res.probability:.2f}, threshold {res.threshold:.2f}, "
             f"{res.duration:.1f} s)"]
    if res.segments:
        lines.append("  segments: " + ", ".join(f"{a:.1f}–{b:.1f} s" for a, b in res.segments))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from ..media import probe
    from ..panns.detector import CryDetector

    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        raise ParameterError(f"--threshold must be in [0, 1], got {args.threshold}")
    if not args.hop > 0:
        raise ParameterError(f"--hop must be > 0, got {args.hop}")
    if not args.paths:
        raise ParameterError("no input files given (usage: cryvideo detect FILE…)")
    paths = expand_inputs(args.paths)
    detector = None
    outputs: list[str] = []
    failures: list[CryVideoError] = []
    bar = StageProgress(unit="window")
    for path in progress_bar(paths, desc="files", unit="file", disable=len(paths) < 2 or None):
        try:
            info = probe(path)  # file problems surface before the model loads
            if not info.has_audio:
                from ..errors import InputFileError

                raise InputFileError("has no audio stream", path=path)
            if detector is None and args.backend == "yamnet":
                from ..panns.detector import YamnetCryDetector

                detector = YamnetCryDetector(**({} if args.threshold is None
                                                else {"threshold": args.threshold}))
            if detector is None:
                kw = {"threshold": args.threshold, "hop": args.hop}
                detector = (CryDetector.load(args.model, **kw) if args.model
                            else CryDetector.load_default(**kw))
            try:
                res = detector.detect(path, progress=lambda done, total: bar("windows", done,
                                                                             total))
            finally:
                bar.close()
        except CryVideoError as exc:
            if len(paths) == 1:
                raise
            failures.append(exc)
            print(f"cryvideo: error: {exc}", file=sys.stderr)
            if args.json:
                outputs.append(emit_json({"path": str(path), "error": exc.message,
                                          "exit_code": exc.exit_code}))
            continue
        text = emit_json(res.to_dict()) if args.json else format_result(res)
        print(text, flush=True)
        outputs.append(text)
    if args.out:
        write_output(args.out, "\n".join(outputs) + "\n")
    if failures:
        raise PartialFailure(
            f"{len(failures)} of {len(paths)} files failed; the others were processed")
    return 0
