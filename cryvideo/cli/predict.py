"""``cryvideo predict FILE…``: the most likely reason for the crying, per file.

This module only turns the options into a :class:`~cryvideo.pipeline.PredictSettings` (which
holds every default and checks every value) and formats the results."""

from __future__ import annotations

import argparse
import os

from ..detection.backends import BACKENDS, FACE_MODES, backend_choices, backend_help
from ..errors import ParameterError
from ..pipeline.settings import MAX_FPS, MIN_FPS, PredictSettings
from ..vision.backbones import RUNTIMES
from .common import (
    StageProgress,
    add_batch_options,
    check_distinct_outputs,
    plan_from_args,
    report_pages,
    run_plan,
)

HELP = "predict why the infant cries in audio/video files"
DESCRIPTION = (
    HELP + ". Asks the cry detector first (no reason is given when it hears no crying), then "
    "prints the reason, every class's probability, what each branch (MFCC, STFT, face) said, "
    "and timings. The reason is a weak hint, never a diagnosis: on held-out recordings the "
    "shipped reason models are no better than chance (docs/audio_branches.md); the first line "
    "of the output says so beside it, as the JSON's \"trust\" and the report's title do.")
EPILOG = (
    "examples:\n  cryvideo predict clip.mp4\n  cryvideo predict --json a.mp4 b.wav"
    "\n  cryvideo predict --fps 5 videos/"
    "\n  cryvideo predict --workers 4 --out results.parquet videos/"
    "\n  cryvideo predict --resume --out results.parquet videos/"
    "\n  cryvideo predict --scheduler tcp://10.0.0.5:8786 --manifest study.csv "
    "--out results.parquet")
#: The settings' defaults, for the options' help (each is declared once, in PredictSettings).
DEFAULTS = PredictSettings


def add_parser(sub) -> None:
    p = sub.add_parser("predict", help=HELP, description=DESCRIPTION, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="*", metavar="FILE",
                   help="audio or video files, or folders of them")
    p.add_argument("--json", action="store_true", help="one JSON object per file on stdout")
    _add_model_options(p)
    p.add_argument("--report", metavar="HTML",
                   help="write a self-contained HTML report (one file: FILE → HTML; several: "
                   "HTML is a folder, one page per input, named after it)")
    add_batch_options(p)
    p.set_defaults(func=run)


def _add_model_options(p) -> None:
    """The options that become :class:`PredictSettings` (default None: the settings')."""
    p.add_argument("--fps", type=float, help=f"frames per second analysed by the face branch, "
                   f"{MIN_FPS:g} to {MAX_FPS:g} (default: {DEFAULTS.fps:g}; the paper's setting "
                   "is 30)")
    p.add_argument("--no-face", action="store_true", help="skip the face branch")
    p.add_argument("--models", metavar="DIR",
                   help="folder of trained models (face_head.keras, fusion.keras, …; default: "
                   "$CRYVIDEO_MODELS_DIR or saved_models/)")
    p.add_argument("--window", type=int, help="rolling-average window in frames, at least 1 "
                   "(default: the face head card's)")
    p.add_argument("--runtime", choices=RUNTIMES, help="how the frozen backbone runs (default: "
                   f"{DEFAULTS.runtime}, XNNPACK)")
    p.add_argument("--weights", metavar="PATH",
                   help="backbone weights file or folder (default: $CRYVIDEO_WEIGHTS_DIR, then "
                   "the Keras cache)")
    p.add_argument("--cry-detector", choices=(*backend_choices(), "none"),
                   metavar="{" + ",".join((*BACKENDS, "none")) + "}",
                   help=f"asked first whether there is crying at all (default: "
                   f"{DEFAULTS.cry_detector}); no reason is given when it says no, and the "
                   "reason branches read only the crying it finds (" + backend_help()
                   + "; none: always give a reason, from the whole track)")
    p.add_argument("--face", choices=FACE_MODES,
                   help="the infant's face in the cry gate's verdict on a video, as in "
                   "`cryvideo detect --face`: auto (default): used when the face-expression "
                   "model is found; on: required; off: the sound alone (--no-face implies off)")


def settings_from(args: argparse.Namespace) -> PredictSettings:
    """The :class:`PredictSettings` the options ask for (options not given: the defaults).

    Raises
    ------
    ParameterError
        A value out of range, or ``--no-face`` with ``--face on``/``auto``.
    """
    if args.no_face and args.face not in (None, "off"):
        raise ParameterError(f"--no-face and --face {args.face} contradict each other")
    given = {"fps": args.fps, "window": args.window, "runtime": args.runtime,
             "models_dir": _abs(args.models), "weights_path": _abs(args.weights),
             "cry_face": "off" if args.no_face else args.face}
    given = {k: v for k, v in given.items() if v is not None}
    if args.cry_detector is not None:
        given["cry_detector"] = None if args.cry_detector == "none" else args.cry_detector
    return PredictSettings(use_face=not args.no_face, keep_artifacts=bool(args.report),
                           **given)


def format_result(res) -> str:
    """Human-readable block for one result: its first line is the answer and how far to trust
    it (:meth:`~cryvideo.pipeline.result.PredictionResult.headline`)."""
    from ..detection.audiovisual import face_lines
    from ..detection.summary import SHOWN_SEGMENTS
    from ..errors import display_path
    from ..pipeline.predict import spans_text

    lines = [f"{display_path(res.path)}: {res.headline()}"]
    cry = res.crying
    if cry is not None:
        lines.append(f"  crying: {'yes' if cry.detected else 'no'} "
                     f"(score {cry.probability:.2f}, {cry.detector}; segments: "
                     f"{spans_text(cry.segments)})")
        lines += face_lines(cry.result.face, shown=SHOWN_SEGMENTS)
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


def run(args: argparse.Namespace) -> int:
    from ..batch import PredictJob

    # Every option and output is checked before any model loads (and before any work).
    settings = settings_from(args)
    plan = plan_from_args(args)
    pages = report_pages(plan.paths, args.report) if args.report else {}
    check_distinct_outputs(plan.out, pages, option="--report")
    settings.check_files()

    def write_report(i: int, res) -> None:
        from ..report import write_html_report

        write_html_report(res, pages[i])

    return run_plan(plan, PredictJob(settings), as_json=args.json,
                    render=lambda outcome: format_result(outcome.result),
                    after=write_report if pages else None, progress=StageProgress(unit="frame"))


def _abs(path: str | None) -> str | None:
    """An option's path made absolute (the same file on a worker started elsewhere)."""
    return None if path is None else os.path.abspath(path)
