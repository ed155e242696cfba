"""``cryvideo predict FILE…``: the most likely reason for the crying, per file."""

from __future__ import annotations

import argparse
import sys

from ..errors import CryVideoError, ParameterError, PartialFailure
from .common import emit_json, expand_inputs, progress_bar, write_output

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
    # nargs="*" so that a file named "-x.mp4" can be recognised (see cli.parse_args)
    p.add_argument("paths", nargs="*", metavar="FILE",
                   help="audio or video files, or folders of them")
    p.add_argument("--json", action="store_true", help="one JSON object per file on stdout")
    p.add_argument("--fps", type=float, default=None,
                   help="frames per second analysed by the face branch (default: %(default)s → "
                   "the pipeline default)")
    p.add_argument("--no-face", action="store_true", help="skip the face branch")
    p.add_argument("--out", metavar="PATH",
                   help="also write the output (text or JSON lines) to this file, atomically")
    p.set_defaults(func=run)


def format_result(res) -> str:
    """Human-readable block for one result."""
    lines = []
    tag = "" if res.trained else "  [UNTRAINED MODELS: not a result]"
    p = res.probabilities[res.label]
    lines.append(f"{res.path}: {res.label} (p={p:.2f}){tag}")
    probs = sorted(res.probabilities.items(), key=lambda kv: -kv[1])
    lines.append("  probabilities: " + "  ".join(f"{k} {v:.2f}" for k, v in probs))
    for b in res.branches:
        if b.used:
            state = "trained" if b.trained else "UNTRAINED"
            extra = ""
            if "face_share" in b.details:
                extra = f", face in {100 * b.details['face_share']:.0f}% of " \
                        f"{b.details['frames']} frames"
            lines.append(f"  {b.name:<5} → {b.label} ({state}: {b.source}{extra})")
        else:
            lines.append(f"  {b.name:<5} → not used ({b.note})")
    lines.append(f"  fusion: {res.fusion}")
    t = res.timings
    lines.append("  timings: " + ", ".join(f"{k} {v:.2f} s" for k, v in t.items()))
    for n in res.notes:
        lines.append(f"  note: {n}")
    return "\n".join(lines)


class _StageBars:
    """``Predictor`` progress callback: a progress bar (stderr) per stage of each file, e.g. the
    frames of a long video."""

    def __init__(self) -> None:
        self.bar = None
        self.stage = None

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if self.bar is None or stage != self.stage or done < self.bar.n:
            self.close()
            self.bar = progress_bar(total=total, desc=stage, unit="frame" if stage == "frames"
                                    else "it")
            self.stage = stage
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def run(args: argparse.Namespace) -> int:
    from ..pipeline import Predictor
    from ..pipeline.predict import DEFAULT_ANALYSIS_FPS

    if not args.paths:
        raise ParameterError("no input files given (usage: cryvideo predict FILE…)")
    paths = expand_inputs(args.paths)
    predictor = None
    outputs: list[str] = []
    failures: list[CryVideoError] = []
    bars = _StageBars()
    for path in progress_bar(paths, desc="files", unit="file", disable=len(paths) < 2 or None):
        try:
            # Probe-level problems surface before any model is loaded (fast, clear errors).
            from ..media import probe

            probe(path)
            if predictor is None:
                predictor = Predictor(fps=args.fps or DEFAULT_ANALYSIS_FPS,
                                      use_face=not args.no_face, progress=bars)
            try:
                res = predictor.predict(path)
            finally:
                bars.close()
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
