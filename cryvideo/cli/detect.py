"""``cryvideo detect FILE…``: is an infant crying, and when?"""

from __future__ import annotations

import argparse
import os

from ..detection import BACKENDS
from ..errors import ModelError, ParameterError
from .common import (
    StageProgress,
    add_batch_options,
    check_distinct_outputs,
    check_number,
    locked_output,
    plan_batch,
    report_pages,
    run_batch,
)

HELP = "detect infant crying (probability and time segments) in audio/video files"
#: Largest accepted ``--hop`` (seconds between windows).
MAX_HOP = 60.0


def add_parser(sub) -> None:
    p = sub.add_parser(
        "detect",
        help=HELP,
        description=HELP + ". The default detector (YAMNet with a trained cry head, TFLite) "
        "scores 0.96 s patches every 0.48 s; a window's score is the mean of 3 patches, the "
        "clip probability is the highest window's, and windows above the threshold are merged "
        "into segments.",
        epilog="examples:\n  cryvideo detect clip.mp4\n  cryvideo detect --json recordings/"
        "\n  cryvideo detect --threshold 0.7 a.wav\n  cryvideo detect --backend cnn10 a.wav"
        "\n  cryvideo detect --workers 2 --out cries.parquet recordings/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="*", metavar="FILE",
                   help="audio or video files, or folders of them")
    p.add_argument("--json", action="store_true", help="one JSON object per file on stdout")
    p.add_argument("--model", metavar="PATH",
                   help="detector file with its JSON card beside it (default: the backend's "
                   "shipped one, from $CRYVIDEO_MODELS_DIR or saved_models/)")
    p.add_argument("--backend", choices=(*BACKENDS, "yamnet"), default="yamnet-cry",
                   metavar="{" + ",".join(BACKENDS) + "}",
                   help="yamnet-cry: YAMNet with a trained cry head (default); cnn10: the "
                   "previous log-mel CNN10; yamnet-zeroshot: YAMNet's own cry classes, no "
                   "training (needs yamnet.tflite in $CRYVIDEO_WEIGHTS_DIR)")
    p.add_argument("--threshold", type=float, default=None,
                   help="decision threshold in [0, 1] (default: the model card's)")
    p.add_argument("--hop", type=float, default=None, help="seconds between windows, above 0 "
                   "and at most 60, cnn10 only (default: 0.5; the YAMNet detectors hop 0.48 s)")
    p.add_argument("--summary", action="store_true",
                   help="also give minutes of crying per hour, the number of episodes and the "
                   "longest ones (for long recordings)")
    p.add_argument("--timeline", metavar="PNG",
                   help="write a timeline picture of each input (one input: this file; several: "
                   "a folder, one PNG per input)")
    add_batch_options(p)
    p.set_defaults(func=run)


def format_result(res, notes: list[str] = (), summary: dict | None = None) -> str:
    """Human-readable line(s) for one detection."""
    from ..detection.summary import format_summary

    verdict = "CRYING" if res.crying else "no crying"
    lines = [f"{res.path}: {verdict} (p={res.probability:.2f}, threshold {res.threshold:.2f}, "
             f"{res.duration:.1f} s)"]
    if res.segments:
        lines.append("  segments: " + ", ".join(f"{a:.1f}–{b:.1f} s" for a, b in res.segments))
    if summary is not None:
        lines += format_summary(summary)
    lines += [f"  note: {n}" for n in notes]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from ..batch import DetectJob

    # Every option and output is checked before any model loads (importing the detector loads
    # TensorFlow: seconds).
    backend = "yamnet-zeroshot" if args.backend == "yamnet" else args.backend
    check_number("--threshold", args.threshold, lo=0.0, hi=1.0)
    check_number("--hop", args.hop, lo=0.0, lo_open=True, hi=MAX_HOP, unit=" seconds")
    if args.hop is not None and backend != "cnn10":
        raise ParameterError("--hop applies to --backend cnn10 only (the YAMNet detectors hop "
                             "0.48 s)")
    plan = plan_batch(args)
    if args.model is not None and not os.path.isfile(args.model):
        raise ModelError("no such model file (given with --model)", path=args.model)
    if args.model is None and backend != "yamnet-zeroshot":
        from ..models.store import check_models_dir, default_models_dir

        check_models_dir(default_models_dir())
    timelines = (report_pages(plan.paths, args.timeline, option="--timeline", kind="png")
                 if args.timeline else {})
    check_distinct_outputs(plan.out, timelines, option="--timeline")
    job = DetectJob(backend=backend, threshold=args.threshold, hop=args.hop,
                    model=None if args.model is None else os.path.abspath(args.model),
                    summary=bool(args.summary))

    def render(outcome) -> str:
        res, notes, _ = outcome.result
        return format_result(res, notes, outcome.record.get("summary"))

    def draw(i: int, result) -> None:
        from ..detection.summary import summarize_segments, timeline_png

        res, _, _ = result
        if i in timelines:
            timeline_png(timelines[i], times=res.window_times, scores=res.window_probs,
                         threshold=res.threshold, segments=res.segments,
                         summary=summarize_segments(res.segments, res.duration),
                         title=os.path.basename(str(res.path)))

    with locked_output(plan.out):
        return run_batch(plan, job, render=render, as_json=args.json,
                         after=draw if timelines else None, progress=StageProgress(unit="s"))
