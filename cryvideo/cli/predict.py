"""``cryvideo predict FILE…``: the most likely reason for the crying, per file."""

from __future__ import annotations

import argparse
import sys

from ..errors import CryVideoError, ParameterError, PartialFailure
from .common import StageProgress, emit_json, expand_inputs, progress_bar, write_output

HELP = "predict why the infant cries in audio/video files"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "predict",
        help=HELP,
        description=HELP + ". Prints the label, every class's probability, what each branch "
        "(MFCC, STFT, face) said, and timings.",
        epilog="examples:\n  cryvideo predict clip.mp4\n  cryvideo predict --json a.mp4 b.wav"
        "\n  cryvideo predict --fps 5 videos/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="*", metavar="FILE",
                   help="audio or video files, or folders of them")
    p.add_argument("--json", action="store_true", help="one JSON object per file on stdout")
    p.add_argument("--fps", type=float, default=None,
                   help="frames per second analysed by the face branch (default: 5; the "
                   "paper's setting is 30)")
    p.add_argument("--no-face", action="store_true", help="skip the face branch")
    p.add_argument("--models", metavar="DIR", default=None,
                   help="folder of trained models (face_head.keras, fusion.keras, …; default: "
                   "$CRYVIDEO_MODELS_DIR or saved_models/)")
    p.add_argument("--window", type=int, default=None,
                   help="rolling-average window in frames (default: the face head card's)")
    p.add_argument("--runtime", choices=("tflite", "keras"), default="tflite",
                   help="how the frozen backbone runs (default: %(default)s, XNNPACK)")
    p.add_argument("--weights", metavar="PATH", default=None,
                   help="backbone weights file or folder (default: $CRYVIDEO_WEIGHTS_DIR, then "
                   "the Keras cache)")
    p.add_argument("--cry-detector", choices=("yamnet-cry", "cnn10", "yamnet-zeroshot", "none",
                                              "yamnet"),
                   default="yamnet-cry", metavar="{yamnet-cry,cnn10,yamnet-zeroshot,none}",
                   help="asked first whether there is crying at all; no reason is given when "
                   "it says no, and the reason branches read only the crying it finds "
                   "(yamnet-cry: the shipped detector, default; cnn10: the previous detector; "
                   "yamnet-zeroshot: YAMNet's own cry classes, needs yamnet.tflite; none: "
                   "always give a reason, from the whole track)")
    p.add_argument("--report", metavar="HTML",
                   help="write a self-contained HTML report (one file: FILE → HTML; several: "
                   "HTML is a folder, one page per input)")
    p.add_argument("--out", metavar="PATH",
                   help="also write the output (text or JSON lines) to this file, atomically")
    p.set_defaults(func=run)


def format_result(res) -> str:
    """Human-readable block for one result."""
    lines = []
    tag = "" if res.trained else "  [UNTRAINED MODELS: not a result]"
    cry = res.crying
    if res.label is None:
        lines.append(f"{res.path}: no crying detected (p={cry['probability']:.2f}, threshold "
                     f"{cry['threshold']:.2f}): no reason given")
    else:
        p = res.probabilities[res.label]
        lines.append(f"{res.path}: {res.label} (p={p:.2f}){tag}")
    if cry is not None:
        segs = ", ".join(f"{a:.1f}–{b:.1f} s" for a, b in cry["segments"]) or "none"
        lines.append(f"  crying: {'yes' if cry['detected'] else 'no'} "
                     f"(p={cry['probability']:.2f}, {cry['detector']}; segments: {segs})")
    probs = sorted(res.probabilities.items(), key=lambda kv: -kv[1])
    if probs:
        head = "probabilities" if res.label is not None else "if it were a cry"
        lines.append(f"  {head}: " + "  ".join(f"{k} {v:.2f}" for k, v in probs))
    for b in res.branches:
        extra = ""
        if "face_share" in b.details:
            extra = f", face in {100 * b.details['face_share']:.0f}% of " \
                    f"{b.details['frames']} frames"
        if b.used:
            state = "trained" if b.trained else "UNTRAINED"
            probs = " ".join(f"{k} {v:.2f}" for k, v in b.probabilities.items())
            lines.append(f"  {b.name:<5} → {b.label} ({state}: {b.source}{extra})")
            lines.append(f"          {probs}")
        else:
            lines.append(f"  {b.name:<5} → not used ({b.note}{extra})")
    lines.append(f"  fusion: {res.fusion}")
    lines.append(f"  branches used: {', '.join(res.modalities) or 'none'}")
    t = res.timings
    lines.append("  timings: " + ", ".join(f"{k} {v:.2f} s" for k, v in t.items()))
    for n in res.notes:
        lines.append(f"  note: {n}")
    return "\n".join(lines)


def _write_report(res, target: str, *, several: bool) -> None:
    from pathlib import Path

    from ..report import write_html_report

    out = Path(target)
    if several or out.is_dir():
        out = out / (Path(res.path).stem + ".html")
    write_html_report(res, out)


def run(args: argparse.Namespace) -> int:
    from ..pipeline import Predictor
    from ..pipeline.predict import DEFAULT_ANALYSIS_FPS

    if not args.paths:
        raise ParameterError("no input files given (usage: cryvideo predict FILE…)")
    paths = expand_inputs(args.paths)
    predictor = None
    outputs: list[str] = []
    failures: list[CryVideoError] = []
    frames_bar = StageProgress(unit="frame")
    for path in progress_bar(paths, desc="files", unit="file", disable=len(paths) < 2 or None):
        try:
            # Probe-level problems surface before any model is loaded (fast, clear errors).
            from ..media import probe

            probe(path)
            if predictor is None:
                predictor = Predictor(fps=args.fps or DEFAULT_ANALYSIS_FPS,
                                      use_face=not args.no_face, models_dir=args.models,
                                      window=args.window, runtime=args.runtime,
                                      weights_path=args.weights,
                                      keep_artifacts=bool(args.report),
                                      progress=frames_bar,
                                      cry_detector=None if args.cry_detector == "none"
                                      else args.cry_detector)
            try:
                res = predictor.predict(path)
            finally:
                frames_bar.close()
            if args.report:
                _write_report(res, args.report, several=len(paths) > 1)
        except CryVideoError as exc:
            if len(paths) == 1:
                raise
            failures.append(exc)
            print(f"cryvideo: error: {exc}", file=sys.stderr)
            if args.json:  # keep one JSON object per input file
                text = emit_json({"path": str(path), "error": exc.message,
                                  "exit_code": exc.exit_code})
                print(text, flush=True)
                outputs.append(text)
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
