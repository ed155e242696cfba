"""``cryvideo benchmark panns DATA_DIR``: the PANNs-path tables (cry detection vs YAMNet
zero-shot, the pooling study, distillation and quantization), regenerated from the data.

``DATA_DIR`` holds ``cry_detection/`` and ``donateacry/`` (e.g. ``../shared/data``). Results go
to ``benchmarks/results/panns_*.{json,md}``. Also runnable on its own:
``python -m cryvideo.cli.benchmark_panns DATA_DIR``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import DatasetError, ParameterError
from ..machine import machine

HELP = "PANNs path: pooling study, distillation/quantization tables"
PARTS = ("detection", "yamnet-head", "pooling", "compression")
#: Run by default. ``detection`` and ``yamnet-head`` are the retired CNN10-era detection CVs
#: (windows, not recordings); the comparison of every detector, per recording, is
#: ``cryvideo benchmark detection``. They stay selectable for the CNN10's own training record.
DEFAULT_PARTS = ("pooling", "compression")


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("data_dir", metavar="DATA_DIR",
                   help="folder with cry_detection/ and donateacry/ (e.g. ../shared/data)")
    p.add_argument("--only", nargs="+", choices=PARTS, default=list(DEFAULT_PARTS),
                   help="which tables to regenerate (default: pooling compression; detection "
                   "and yamnet-head are the retired CNN10-era detection CVs: compare "
                   "detectors with `cryvideo benchmark detection`)")
    p.add_argument("--out", default="benchmarks/results", metavar="DIR",
                   help="results folder (default: %(default)s)")
    p.add_argument("--recipe", choices=("v1", "v2"), default="v1",
                   help="detector training recipe (cryvideo.training.cnn10_detector.RECIPES; "
                   "default: %(default)s)")
    p.add_argument("--width", type=float, default=None,
                   help="CNN10 detector width multiplier (default: the recipe's)")
    p.add_argument("--epochs", type=int, default=None,
                   help="training epochs (default: the recipe's)")
    p.add_argument("--folds", type=int, default=5, help="grouped CV folds (default: 5)")
    p.add_argument("--compression-epochs", type=int, default=8,
                   help="epochs for the compression study's models (default: %(default)s)")
    p.add_argument("--compression-folds", type=int, default=None,
                   help="evaluate compression on the first N folds of each seed only "
                   "(default: all)")
    p.add_argument("--compression-seeds", type=int, default=3,
                   help="seeds of the compression study, each its own grouped split and "
                   "training seeds (default: %(default)s)")
    p.add_argument("--compression-checkpoint", metavar="FILE", default=None,
                   help="JSON file that keeps each finished compression fold (clip scores of "
                   "every model); run the same command again to resume after an interruption "
                   "(default: panns_compression_folds.json in --out)")
    p.add_argument("--pooling-repeats", type=int, default=3,
                   help="repeats (= seeds) of the grouped CV in the pooling study "
                   "(default: %(default)s)")
    p.add_argument("--bootstrap", type=int, default=2000,
                   help="group-bootstrap resamples of each interval in the pooling and "
                   "compression tables (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--markdown-only", action="store_true",
                   help="only rewrite the .md tables from the .json results in --out")
    p.add_argument("--fold-models", metavar="DIR", default=None,
                   help="save each detection fold's model (card lists its held-out files) "
                   "here")
    p.add_argument("--save-detector", metavar="DIR", default=None,
                   help="also train the detector on all data and save it (with quantized "
                   "copies) into DIR, e.g. saved_models")


def add_subparser(benchsub) -> None:
    """Register ``panns`` under ``cryvideo benchmark``."""
    p = benchsub.add_parser("panns", help=HELP, description=HELP)
    _add_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json

    from ..io import write_json_atomic, write_text_atomic
    from ..studies import panns as ex
    from ..studies.panns_report import (
        compression_markdown,
        detection_markdown,
        pooling_markdown,
        yamnet_head_markdown,
    )
    from ..training.clipsets import load_clipset

    root = Path(args.data_dir)
    for sub in ("cry_detection", "donateacry"):
        if not (root / sub).is_dir():
            raise DatasetError(f"no {sub}/ folder in DATA_DIR", path=root)
    recipe = dict(ex.RECIPES[args.recipe])
    if args.width is not None:
        recipe["width"] = args.width
    if args.epochs is not None:
        recipe["epochs"] = args.epochs
    args.width, args.epochs = recipe["width"], recipe["epochs"]
    train_kw = {k: recipe[k] for k in ("donateacry_weight", "background_prob")}
    if args.epochs < 1 or args.folds < 2 or not args.width > 0:
        raise ParameterError("need --epochs ≥ 1, --folds ≥ 2 and --width > 0")
    if args.compression_seeds < 1 or args.pooling_repeats < 1 or args.bootstrap < 100:
        raise ParameterError("need --compression-seeds ≥ 1, --pooling-repeats ≥ 1 and "
                             "--bootstrap ≥ 100")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ParameterError("--out is not a folder", path=out)
    checkpoint = Path(args.compression_checkpoint or out / "panns_compression_folds.json")
    out.mkdir(parents=True, exist_ok=True)
    if "compression" in args.only and not args.markdown_only:
        _check_checkpoint(checkpoint)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    given = sys.argv[1:]  # `cryvideo benchmark panns …` or `python -m …benchmark_panns …`
    if given[:2] == ["benchmark", "panns"]:
        given = given[2:]
    meta = {**machine(), "command": " ".join(["cryvideo benchmark panns", *given])}
    cv = None
    failed: list[str] = []

    def part(name, fn):
        try:
            return fn()
        except ParameterError:
            raise
        except Exception as exc:  # keep going: the other tables still get written
            import traceback

            traceback.print_exc()
            log(f"benchmark panns: {name} failed: {type(exc).__name__}: {exc}")
            failed.append(name)
            return None

    def write(stem, res, md_fn):
        write_json_atomic(out / f"{stem}.json", {**meta, **res})
        md = part(f"{stem}.md", lambda: md_fn(res))
        if md is not None:
            write_text_atomic(out / f"{stem}.md", md)
            print(md, flush=True)

    if args.markdown_only:
        for stem, fn in (("panns_detection", detection_markdown),
                         ("panns_detection_yamnet_head", yamnet_head_markdown),
                         ("panns_pooling", pooling_markdown),
                         ("panns_compression", compression_markdown)):
            if (out / f"{stem}.json").is_file():
                res = json.loads((out / f"{stem}.json").read_text())
                write_text_atomic(out / f"{stem}.md", fn(res))
        return 0

    cd = load_clipset("cry_detection", root / "cry_detection")
    da = load_clipset("donateacry", root / "donateacry")
    if "detection" in args.only:
        cv = part("detection", lambda: ex.detection_cv(
            cd, da, width=args.width, epochs=args.epochs, n_splits=args.folds,
            seed=args.seed, save_dir=args.fold_models, log=log, **train_kw))
        if cv is not None:
            write("panns_detection", cv, detection_markdown)
    if "yamnet-head" in args.only:
        yh = part("yamnet-head", lambda: ex.yamnet_head_cv(cd, da, n_splits=args.folds,
                                                            seed=args.seed))
        if yh is not None:
            write("panns_detection_yamnet_head", yh, yamnet_head_markdown)
    if args.save_detector:
        from ..training.cnn10_detector import train_and_save_detector

        if cv is None and (out / "panns_detection.json").is_file():
            cv = json.loads((out / "panns_detection.json").read_text())
        sizes = part("save-detector", lambda: train_and_save_detector(
            cd, da, args.save_detector, width=args.width, epochs=args.epochs, seed=args.seed,
            cv=cv, recipe=args.recipe, **train_kw))
        if sizes:
            print("saved: " + ", ".join(f"{k} {v} B" for k, v in sizes.items()), flush=True)
    if "pooling" in args.only:
        pool = part("pooling", lambda: ex.pooling_study(
            da, n_splits=args.folds, n_repeats=args.pooling_repeats, seed=args.seed,
            n_boot=args.bootstrap, log=log))
        if pool is not None:
            write("panns_pooling", pool, pooling_markdown)
    if "compression" in args.only:
        comp = part("compression", lambda: ex.compression_study(
            cd, da, epochs=args.compression_epochs, n_splits=args.folds,
            folds=args.compression_folds, n_seeds=args.compression_seeds, seed=args.seed,
            n_boot=args.bootstrap, checkpoint=checkpoint, log=log))
        if comp is not None:
            write("panns_compression", comp, compression_markdown)
    if failed:
        from ..errors import PartialFailure

        raise PartialFailure(f"benchmark panns: {', '.join(failed)} failed (see above)")
    return 0


def _check_checkpoint(path: Path) -> None:
    """Refuse a checkpoint path that is a folder, in no folder, or a file that is not a
    compression checkpoint (it would be overwritten), before any data or model loads."""
    from ..studies.panns import read_compression_checkpoint

    if not path.is_dir() and not path.parent.is_dir():
        raise ParameterError("no such folder for --compression-checkpoint", path=path)
    read_compression_checkpoint(path)


def main(argv=None) -> int:
    """Standalone entry: ``python -m cryvideo.cli.benchmark_panns DATA_DIR [options]``."""
    from . import _quiet_tensorflow
    from . import run as run_cli

    _quiet_tensorflow()
    p = argparse.ArgumentParser(prog="python -m cryvideo.cli.benchmark_panns",
                                description=HELP)
    _add_arguments(p)
    p.set_defaults(func=run)
    return run_cli(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
