"""``cryvideo detect FILE…``: is an infant crying, and when?"""

from __future__ import annotations

import argparse
import os

from ..detection import BACKENDS
from ..errors import ModelError, ParameterError
from .common import (
    StageProgress,
    check_number,
    check_output,
    emit_json,
    expand_inputs,
    locked_output,
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
        "\n  cryvideo detect --threshold 0.7 a.wav\n  cryvideo detect --backend cnn10 a.wav",
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
    p.add_argument("--out", metavar="PATH",
                   help="also write the output (text or JSON lines) to this file, atomically; "
                   "never over an input or a file of another kind")
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
    # Every option and output is checked before any model loads (importing the detector loads
    # TensorFlow: seconds).
    if not args.paths:
        raise ParameterError("no input files given (usage: cryvideo detect FILE…)")
    backend = "yamnet-zeroshot" if args.backend == "yamnet" else args.backend
    check_number("--threshold", args.threshold, lo=0.0, hi=1.0)
    check_number("--hop", args.hop, lo=0.0, lo_open=True, hi=MAX_HOP, unit=" seconds")
    if args.hop is not None and backend != "cnn10":
        raise ParameterError("--hop applies to --backend cnn10 only (the YAMNet detectors hop "
                             "0.48 s)")
    paths = expand_inputs(args.paths)
    if args.model is not None and not os.path.isfile(args.model):
        raise ModelError("no such model file (given with --model)", path=args.model)
    if args.model is None and backend != "yamnet-zeroshot":
        from ..models.store import check_models_dir, default_models_dir

        check_models_dir(default_models_dir())
    out = check_output(args.out, option="--out", kind="text", inputs=paths) if args.out \
        else None
    timelines = (report_pages(paths, args.timeline, option="--timeline", kind="png")
                 if args.timeline else {})

    state: dict = {"notes": []}
    bar = StageProgress(unit="s")

    def load():
        from ..detection import load_detector, shipped_file
        from ..models.store import find_model

        model = args.model
        if model is None and backend != "yamnet-zeroshot":
            model, note = find_model(shipped_file(backend))
            state["notes"] += [note] if note else []
        return load_detector(backend, model=model, threshold=args.threshold, hop=args.hop)

    def analyse(path: str):
        from ..detection.result import MIN_DETECT_SECONDS
        from ..errors import InputFileError
        from ..media import probe
        from ..media.probe import short_decode_note

        info = probe(path)  # file problems surface before the model loads
        if not info.has_audio:
            raise InputFileError("has no audio stream", path=path)
        if info.duration is not None and info.duration < MIN_DETECT_SECONDS:
            raise InputFileError(f"too short ({info.duration:.2f} s; need at least "
                                 f"{MIN_DETECT_SECONDS} s)", path=path)
        if "detector" not in state:
            state["detector"] = load()
        try:
            res = state["detector"].detect(path, progress=bar)
        except KeyboardInterrupt as exc:
            part = getattr(exc, "partial", None)
            if part is not None:   # kept as this file's record (with --out, written there)
                exc.partial = (part, state["notes"] + [
                    f"interrupted at {part.duration:.1f} s of {_of(info.duration)}: the "
                    "segments found until then are kept"])
            raise
        finally:
            bar.close()
        short = short_decode_note(res.duration, info.duration)
        return res, state["notes"] + ([short] if short else [])

    def summarize(res):
        from ..detection.summary import summarize_segments

        return (summarize_segments(res.segments, res.duration)
                if args.summary or args.timeline else None)

    def render(item) -> str:
        res, notes = item
        summary = summarize(res) if args.summary else None
        if args.json:
            rec = dict(res.to_dict(), notes=notes)
            if summary is not None:
                rec["summary"] = summary
            return emit_json(rec)
        return format_result(res, notes, summary)

    def draw(i: int, item) -> None:
        from ..detection.summary import timeline_png

        res, _ = item
        if i in timelines:
            timeline_png(timelines[i], times=res.window_times, scores=res.window_probs,
                         threshold=res.threshold, segments=res.segments,
                         summary=summarize(res), title=os.path.basename(str(res.path)))

    with locked_output(out):
        return run_batch(paths, analyse, render=render, as_json=args.json, out=out,
                         after=draw if timelines else None,
                         error_fields={"detector": {"name": backend}})


def _of(total: float | None) -> str:
    return "an unknown length" if total is None else f"{total:.1f} s"
