"""``cryvideo export MODEL``: TFLite (optionally quantized) or ONNX copies of a trained model.

The work is :func:`cryvideo.models.export.export_model`, its settings
:class:`cryvideo.models.export.ExportSettings` (checked before TensorFlow loads)."""

from __future__ import annotations

import argparse
import sys

from .. import environment
from ..models.export import EXPORT_FORMATS
from ..models.export import ExportSettings as S

HELP = "export a trained model (.keras) to TFLite or ONNX, optionally quantized"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "export", help=HELP, description=HELP + ". A log-mel model takes one fixed window "
        "(the card's window_frames); a reason branch (AE+DNN) its pooled feature vector. The "
        "exported file gets its own JSON card.",
        epilog="examples:\n  cryvideo export my_models/cry_detector.keras --format tflite "
        "--quantize dynamic\n  cryvideo export saved_models/cry_detector.keras --format tflite "
        "--quantize int8 --calibration clips/ -o det_int8.tflite\n\nThe shipped models folder "
        "(saved_models/) is written to only when -o names a file in it.\nWhat TensorFlow's "
        "converter prints is shown with --debug (cryvideo --debug export …).",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="MODEL", help=".keras model with its JSON card")
    p.add_argument("--format", choices=tuple(EXPORT_FORMATS), default=S.format)
    p.add_argument("--quantize", choices=("dynamic", "int8"), default=S.quantize,
                   help="TFLite only: int8 weights (dynamic) or full-integer (int8)")
    p.add_argument("--calibration", metavar="DIR", nargs="+",
                   help="audio/video files or folders for int8 calibration")
    p.add_argument("--max-windows", type=int, default=S.max_windows,
                   help="calibration windows used at most (default: %(default)s)")
    p.add_argument("-o", "--output", metavar="PATH",
                   help="output file (default: beside MODEL, named MODEL_float32.tflite, "
                   "MODEL_dynamic.tflite, MODEL_int8.tflite or MODEL.onnx; never by default "
                   "into the shipped saved_models/)")
    p.set_defaults(func=run)


def settings_from_args(args: argparse.Namespace) -> S:
    """The settings of a parsed command line, the calibration folders expanded into their
    media files (checked on the way)."""
    from .common import expand_inputs

    return S(args.model, format=args.format, quantize=args.quantize,
             calibration=tuple(expand_inputs(args.calibration or [])),
             max_windows=args.max_windows, output=args.output)


def run(args: argparse.Namespace) -> int:
    """Export, then print the file written and its size."""
    from ..models.export import export_model

    settings = settings_from_args(args)
    debug = getattr(args, "debug", False) or environment.debug()
    out = export_model(settings, log=_debug_log if debug else None)
    print(f"{out} ({out.stat().st_size / 1024:.0f} KiB)")
    return 0


def _debug_log(text: str) -> None:
    """``--debug``: what the converter printed, on stderr."""
    print(text.rstrip("\n"), file=sys.stderr, flush=True)
