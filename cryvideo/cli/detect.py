"""``cryvideo detect FILE…``: is an infant crying, and when?"""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path

from ..batch.settings import MAX_HOP, DetectSettings
from ..detection.backends import (
    BACKENDS,
    FACE_MODES,
    backend_choices,
    backend_help,
)
from ..errors import ParameterError
from .common import (
    StageProgress,
    add_batch_options,
    check_output,
    check_outputs_apart,
    plan_from_args,
    report_pages,
    run_plan,
)

HELP = "detect infant crying (probability and time segments) in audio/video files"
__all__ = ["HELP", "MAX_HOP", "add_parser", "format_result", "run", "settings_from_args"]


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
    _add_detector_options(p)
    _add_output_options(p)
    add_batch_options(p)
    p.set_defaults(func=run)


def _add_detector_options(p) -> None:
    """The options of :class:`~cryvideo.batch.DetectSettings`."""
    d = DetectSettings()   # the defaults, declared there
    p.add_argument("--model", metavar="PATH",
                   help="detector file with its JSON card beside it (default: the backend's "
                   "shipped one, from $CRYVIDEO_MODELS_DIR or saved_models/)")
    p.add_argument("--backend", choices=backend_choices(), default=d.backend,
                   metavar="{" + ",".join(BACKENDS) + "}", help=backend_help())
    p.add_argument("--threshold", type=float, default=d.threshold,
                   help="decision threshold in [0, 1] (default: the model card's)")
    p.add_argument("--hop", type=float, default=d.hop, help="seconds between windows, above 0 "
                   f"and at most {MAX_HOP:g}, " + " or ".join(s.name for s in BACKENDS.values()
                                                             if s.takes_hop)
                   + " only (default: 0.5; the YAMNet detectors hop 0.48 s)")
    p.add_argument("--summary", action="store_true",
                   help="also give minutes of crying per hour, the number of episodes and the "
                   "longest ones (for long recordings)")
    p.add_argument("--face", choices=FACE_MODES, default=d.face,
                   help="the infant's face in the cry verdict of a video: a crying segment is "
                   "vetoed when the face is visibly happy through it (a zero-shot cue from a "
                   "model trained on adults' faces; docs/face_fusion.md). auto (default): used "
                   "when the face-expression model is found; on: required; off: the sound alone")


def _add_output_options(p) -> None:
    """The files written beside the records, and what the records hold."""
    p.add_argument("--timeline", metavar="PICTURE",
                   help="write a timeline picture of each input (one input: this file, a PNG "
                   "or, named .jpg/.jpeg, a JPEG; several: a folder, one PNG per input)")
    p.add_argument("--labels", metavar="FILE",
                   help="write the crying segments as an Audacity label track (start, end, "
                   "label, tab-separated; also read by ELAN; one input: this file; several: a "
                   "folder, one .txt per input)")
    p.add_argument("--csv", metavar="FILE",
                   help="write the segments of every input to one CSV file: path, start, end, "
                   "duration, crying, peak_score, and the face's decision and decided_by "
                   "(vetoed segments included) when the face took part; not with --resume")
    p.add_argument("--scores", action="store_true",
                   help="add every window's score to the JSON records (with --json or a JSON "
                   "lines / Parquet --out): scores.times (window centres, seconds), "
                   "scores.values")


def format_result(res, notes: list[str] = (), summary: dict | None = None) -> str:
    """Human-readable line(s) for one detection."""
    from ..detection.audiovisual import face_lines
    from ..detection.summary import SHOWN_SEGMENTS, format_summary, segment_line
    from ..errors import display_path
    from ..media.probe import format_clock

    vetoed = sum(v.decision == "veto" for v in res.face_verdicts)
    verdict = ("CRYING" if res.crying else
               "no crying: the face vetoed the sound" if vetoed else "no crying")
    lines = [f"{display_path(res.path)}: {verdict} (score {res.probability:.2f}, threshold "
             f"{res.threshold:.2f}, {res.duration:.1f} s)"]
    if res.segments:
        lines.append(segment_line(res.segments))
    lines += face_lines(res.face, shown=SHOWN_SEGMENTS, moment=format_clock)
    if summary is not None:
        lines += format_summary(summary)
    lines += [f"  note: {n}" for n in notes]
    return "\n".join(lines)


def settings_from_args(args: argparse.Namespace) -> DetectSettings:
    """The :class:`~cryvideo.batch.DetectSettings` of the command line (checked there)."""
    return DetectSettings(backend=args.backend, model=args.model, threshold=args.threshold,
                          hop=args.hop, summary=args.summary, face=args.face,
                          scores=args.scores)


def run(args: argparse.Namespace) -> int:
    from ..batch import DetectJob

    # Every option and output is checked before any model loads (importing the detector loads
    # TensorFlow: seconds).
    settings = settings_from_args(args)
    plan = plan_from_args(args)
    settings.check_models()
    exports = _exports(args, plan)
    if args.scores and not (args.json or plan.fmt in ("jsonl", "parquet")):
        raise ParameterError("--scores adds the window scores to the JSON records: give "
                             "--json, or --out FILE.jsonl or FILE.parquet")
    check_outputs_apart({"--out": plan.out, "--timeline": list(exports.timelines.values()),
                         "--labels": list(exports.labels.values()), "--csv": exports.table})
    finished = False
    try:
        rc = run_plan(plan, DetectJob(settings), render=_render, as_json=args.json,
                      after=exports.write if exports else None,
                      progress=StageProgress(unit="s"))
        finished = True
        return rc
    finally:
        # the finished files' segments, also when the run stops (as --out keeps their records)
        exports.finish(finished)


def _render(outcome) -> str:
    res, notes, _ = outcome.result
    return format_result(res, notes, outcome.record.get("summary"))


@dataclasses.dataclass
class _Exports:
    """The files ``--timeline``, ``--labels`` and ``--csv`` write from each result."""

    timelines: dict[int, Path]
    labels: dict[int, Path]
    table: Path | None
    found: dict[int, object] = dataclasses.field(default_factory=dict)  # the --csv's results

    def __bool__(self) -> bool:
        return bool(self.timelines or self.labels or self.table is not None)

    def write(self, i: int, result) -> None:
        """Input ``i``'s picture and label track, and its segments kept for the CSV."""
        from ..detection.exports import write_labels
        from ..detection.summary import timeline_png

        res, _, _ = result
        if i in self.timelines:
            timeline_png(self.timelines[i], res, title=os.path.basename(str(res.path)))
        if i in self.labels:
            write_labels(self.labels[i], res)
        if self.table is not None:
            self.found[i] = res

    def finish(self, finished: bool) -> None:
        """Write the CSV of the results kept (when the run finished, or kept any)."""
        if self.table is not None and (finished or self.found):
            from ..detection.exports import write_segments_csv

            write_segments_csv(self.table, [self.found[i] for i in sorted(self.found)])


def _exports(args: argparse.Namespace, plan) -> _Exports:
    """The checked files of ``--timeline``, ``--labels`` and ``--csv``."""
    timelines = (report_pages(plan.paths, args.timeline, option="--timeline",
                              kind=_picture_kind(args.timeline, len(plan.paths)))
                 if args.timeline else {})
    labels = (report_pages(plan.paths, args.labels, option="--labels", kind="labels")
              if args.labels else {})
    table = None
    if args.csv:
        if plan.resume:
            raise ParameterError("--csv is written from the files analysed in this run: not "
                                 "with --resume (the resumed files would be missing)")
        table = check_output(args.csv, option="--csv", kind="csv",
                             inputs=[*plan.paths, *args.manifest])
    return _Exports(timelines, labels, table)


def _picture_kind(timeline: str, n_inputs: int) -> str:
    """The format of the --timeline file(s): that of its name for one input (PNG or JPEG,
    else exit 2), PNG for the files made in a folder."""
    from ..detection.summary import timeline_format

    if n_inputs == 1 and not os.path.isdir(timeline):
        return timeline_format(timeline)
    return "png"
