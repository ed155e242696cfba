"""``cryvideo detect FILE…``: is an infant crying, and when?"""

from __future__ import annotations

import argparse
import sys

from ..detection import BACKENDS
from ..errors import CryVideoError, ParameterError, PartialFailure
from .common import StageProgress, emit_json, expand_inputs, progress_bar, write_output

HELP = "detect infant crying (probability and time segments) in audio/video files"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "detect",
        help=HELP,
        description=HELP + ". The default detector (YAMNet with a trained cry head, TFLite) "
        "scores 0.96 s patches every 0.48 s; a window's score is the mean of 3 patches, the "
        "clip probability is the highest window's, and windows above the threshold are merged "
        "into segments.",
        epilog="examples:\n  cryvideo detect clip.mp4\n  cryvideo detect --json recordings/"
        "\n  cryvideo detect --threshold 0.7 a.wav\n  cryvideo detect --backend cnn10 a.wav",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="*", metavar="FILE",
                   help="audio or video files, or folders of them")
    p.add_argument("--json", action="store_true", help="one JSON object per file on stdout")
    p.add_argument("--model", metavar="PATH",
                   help="detector file with its JSON card beside it (default: the shipped one "
                   "of the backend in saved_models/)")
    p.add_argument("--backend", choices=(*BACKENDS, "yamnet"), default="yamnet-cry",
                   metavar="{" + ",".join(BACKENDS) + "}",
                   help="yamnet-cry: YAMNet with a trained cry head (default); cnn10: the "
                   "previous log-mel CNN10; yamnet-zeroshot: YAMNet's own cry classes, no "
                   "training (needs yamnet.tflite in $CRYVIDEO_WEIGHTS_DIR)")
    p.add_argument("--threshold", type=float, default=None,
                   help="decision threshold in [0, 1] (default: the model card's)")
    p.add_argument("--hop", type=float, default=None, help="seconds between windows, cnn10 "
                   "only (default: 0.5; the YAMNet detectors hop 0.48 s)")
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
    from ..detection import load_detector
    from ..detection.result import MIN_DETECT_SECONDS
    from ..media import probe

    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        raise ParameterError(f"--threshold must be in [0, 1], got {args.threshold}")
    if args.hop is not None and not args.hop > 0:
        raise ParameterError(f"--hop must be > 0, got {args.hop}")
    if args.hop is not None and args.backend != "cnn10":
        raise ParameterError("--hop applies to --backend cnn10 only (the YAMNet detectors "
                             "hop 0.48 s)")
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
            if info.duration is not None and info.duration < MIN_DETECT_SECONDS:
                from ..errors import InputFileError

                raise InputFileError(f"too short ({info.duration:.2f} s; need at least "
                                     f"{MIN_DETECT_SECONDS} s)", path=path)
            if detector is None:
                detector = load_detector(args.backend, model=args.model,
                                         threshold=args.threshold, hop=args.hop)
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
                                          "exit_code": exc.exit_code,
                                          "detector": {"name": args.backend}}))
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
