"""``cryvideo export MODEL``: TFLite (optionally quantized) or ONNX copies of a trained model."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .. import environment
from ..errors import ParameterError

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
    p.add_argument("--format", choices=("tflite", "onnx"), default="tflite")
    p.add_argument("--quantize", choices=("dynamic", "int8"), default=None,
                   help="TFLite only: int8 weights (dynamic) or full-integer (int8)")
    p.add_argument("--calibration", metavar="DIR", nargs="+",
                   help="audio/video files or folders for int8 calibration")
    p.add_argument("--max-windows", type=int, default=300,
                   help="calibration windows used at most (default: %(default)s)")
    p.add_argument("-o", "--output", metavar="PATH",
                   help="output file (default: beside MODEL, named MODEL_float32.tflite, "
                   "MODEL_dynamic.tflite, MODEL_int8.tflite or MODEL.onnx; never by default "
                   "into the shipped saved_models/)")
    p.set_defaults(func=run)


def calibration_windows(paths, *, frames: int, max_windows: int = 300, seed: int = 0):
    """Log-mel windows ``(n, frames, 64)`` from media files, for int8 calibration."""
    import numpy as np

    from ..audio.logmel import logmel
    from ..audio.windows import sliding_windows
    from ..media import load_audio
    from .common import expand_inputs

    wins = []
    for p in expand_inputs(paths):
        w, _ = sliding_windows(logmel(load_audio(p, sr=16000)), frames, frames // 2)
        wins.append(w)
    allw = np.concatenate(wins)
    rng = np.random.default_rng(seed)
    if len(allw) > max_windows:
        allw = allw[rng.choice(len(allw), max_windows, replace=False)]
    return allw


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from ..models import export as ex
    from ..models.cards import load_model_with_card, save_model_with_card

    # Every option and the output are checked before TensorFlow is imported (seconds).
    if args.format == "onnx" and args.quantize:
        raise ParameterError("--quantize applies to --format tflite only")
    if args.quantize == "int8" and not args.calibration:
        raise ParameterError("--quantize int8 needs --calibration FILES/DIRS (real audio)")
    if args.max_windows < 1:
        raise ParameterError("--max-windows must be ≥ 1")
    from ..models.cards import card_path

    src = Path(args.model)
    suffix = {"tflite": ".tflite", "onnx": ".onnx"}[args.format]
    tag = f"_{args.quantize or 'float32'}" if args.format == "tflite" else ""
    out = Path(args.output) if args.output else src.with_name(src.stem + tag + suffix)
    if out.suffix != suffix:
        raise ParameterError(f"output must end in {suffix}", path=out)
    if card_path(out).resolve() == card_path(src).resolve() or out.resolve() == src.resolve():
        raise ParameterError(f"{out.name} would overwrite {src.name} or its card: give another "
                             "name with -o", path=out)
    if args.output is None and _in_bundled_folder(out):
        raise ParameterError("is in the shipped models folder: export writes there only when "
                             "-o names the file (give -o PATH to write elsewhere, or this path "
                             "to replace the shipped model on purpose)", path=out)
    log = _debug_log if getattr(args, "debug", False) or environment.debug() \
        else None
    from ..models import panns as _models  # noqa: F401  (registers custom layers)

    model, card = load_model_with_card(args.model)
    vector_input = len(model.inputs[0].shape) == 2
    frames = int((card.inputs or {}).get("window_frames", 201))
    new = dataclasses.replace(card, extra={**card.extra, "exported_from": src.name,
                                           "source_sha256": card.sha256,
                                           "format": args.format,
                                           "quantization": args.quantize or "none"})
    if vector_input and (args.format == "onnx" or args.quantize == "int8"):
        raise ParameterError("a reason branch exports to TFLite float32 or dynamic only",
                             path=src)
    if args.format == "tflite":
        rep = None
        if args.quantize == "int8":
            rep = calibration_windows(args.calibration, frames=frames,
                                      max_windows=args.max_windows)
        if vector_input:
            blob = ex.keras_to_tflite(model, quantize=args.quantize, log=log)
        else:
            blob = ex.to_tflite(model, frames=frames, quantize=args.quantize, representative=rep,
                                log=log)
        save_model_with_card(blob, out, new)
    else:
        from ..io import atomic_path, write_json_atomic

        blob = ex.to_onnx(model, frames=frames, log=log)
        with atomic_path(out) as tmp:
            tmp.write_bytes(blob)
        from ..io import file_sha256

        new.file, new.sha256 = out.name, file_sha256(out)
        write_json_atomic(card_path(out), new.to_dict())
    print(f"{out} ({out.stat().st_size / 1024:.0f} KiB)")
    return 0


def _in_bundled_folder(path: Path) -> bool:
    """Whether ``path`` would be a file of the shipped models folder (``saved_models/``)."""
    from ..models.store import bundled_models_dir

    try:
        return os.path.samefile(path.parent, bundled_models_dir())
    except OSError:             # a folder that does not exist (yet) is not that one
        return False


def _debug_log(text: str) -> None:
    """``--debug``: what the converter printed, on stderr."""
    print(text.rstrip("\n"), file=sys.stderr, flush=True)
