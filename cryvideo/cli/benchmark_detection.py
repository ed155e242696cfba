"""``cryvideo benchmark detection [DATA_DIR]``: grouped CV of the cry detectors, per recording.

Writes ``detection_cv.json`` (every out-of-fold score), ``detection.json`` (the metrics),
``detection.md`` (the report) and ``detection.png`` into ``--out`` (``--render-only`` rewrites
the last two from the first two, recomputing nothing); with ``--ship-to DIR`` it
then trains the shipped recipe on the whole corpus and writes the TFLite detectors and their
cards into ``DIR`` (``saved_models``). The work is
:mod:`cryvideo.studies.detection_benchmark`; this module parses the options.
"""

from __future__ import annotations

import argparse

from ..studies.detection_benchmark import TFLITE_CHOICES
from ..studies.detection_benchmark import DetectionBenchmarkSettings as S

HELP = "cry detection: grouped CV per recording (YAMNet head vs zero-shot vs CNN10)"


def add_subparser(benchsub) -> None:
    """Register ``detection`` under ``cryvideo benchmark``."""
    p = benchsub.add_parser("detection", help=HELP, description=HELP)
    p.add_argument("data_dir", nargs="?", default=None, metavar="DATA_DIR",
                   help="folder with cry_detection/, vocal_negatives/ and donateacry/ "
                   "(default: ../shared/data beside the repository)")
    p.add_argument("--seeds", type=int, nargs="+", default=list(S.seeds),
                   help="one fold assignment per seed (default: %(default)s)")
    p.add_argument("--folds", type=int, default=S.folds,
                   help="grouped folds (default: %(default)s)")
    p.add_argument("--recipes", nargs="+", default=None, metavar="RECIPE",
                   help="recipes of cryvideo.training.yamnet_cry.RECIPES (default: all)")
    p.add_argument("--ship-recipe", default=S.ship, metavar="RECIPE",
                   help="the recipe whose fold models are also scored as TFLite files and that "
                   f"--ship-to trains (default: {S.ship})")
    p.add_argument("--no-cnn10", action="store_true", help="leave out the CNN10 peer")
    p.add_argument("--costly-seeds", type=int, default=S.costly_seeds,
                   help="seeds on which the fine-tuning recipes and the fully integer TFLite "
                   "run (default: %(default)s)")
    p.add_argument("--tflite", nargs="+", default=None, metavar="KIND", choices=TFLITE_CHOICES,
                   help="TFLite files of the shipped recipe to score on the costly seeds "
                   "(default: all three; none: no TFLite file)")
    p.add_argument("--checkpoint", metavar="DIR", default=None,
                   help="save each finished fold here; a rerun resumes from it")
    p.add_argument("--resume-from", metavar="FILE", default=None,
                   help="an earlier run's detection_cv.json: its folds go into --checkpoint "
                   "first, so only what it lacks is trained (e.g. --costly-seeds 3 after a "
                   "run with 1)")
    p.add_argument("--n-boot", type=int, default=S.n_boot, help="bootstrap resamples")
    p.add_argument("--out", default=S.out, metavar="DIR",
                   help="results folder (default: %(default)s)")
    p.add_argument("--report-only", action="store_true",
                   help="rewrite the report from --out/detection_cv.json")
    p.add_argument("--render-only", action="store_true",
                   help="rewrite detection.md and detection.png from the figures of "
                   "--out/detection.json, recomputing nothing (the run's facts and corpus "
                   "table from --out/detection_cv.json); needs no data")
    _add_ship_options(p)
    p.set_defaults(func=run)


def _add_ship_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ship-to", metavar="DIR", default=None,
                   help="then train the shipped recipe on all data and save it into DIR")
    p.add_argument("--ship-seeds", nargs="+", default=None, metavar="SEED",
                   help="with --ship-to: epochs and threshold from these seeds' folds only "
                   "(default: every seed's)")
    p.add_argument("--refresh-cards", metavar="DIR", default=None,
                   help="rewrite the CV metrics in the cards of the detectors in DIR (trained "
                   "with the same recipe) from this run; the model files stay")


def settings_from_args(args: argparse.Namespace) -> S:
    """The settings of a parsed command line (checked on the way)."""
    def tup(v):
        return None if v is None else tuple(v)

    return S(args.data_dir, seeds=tuple(args.seeds), folds=args.folds,
             recipes=tup(args.recipes), ship=args.ship_recipe, cnn10=not args.no_cnn10,
             costly_seeds=args.costly_seeds, tflite=tup(args.tflite),
             checkpoint=args.checkpoint, resume_from=args.resume_from, n_boot=args.n_boot,
             out=args.out, report_only=args.report_only, ship_to=args.ship_to,
             ship_seeds=tup(args.ship_seeds), refresh_cards=args.refresh_cards)


def _render_only(args: argparse.Namespace) -> int:
    """``--render-only``: the report again from the committed figures, nothing recomputed."""
    from ..errors import ParameterError
    from ..studies.detection_benchmark import render_detection_report

    other = [f for f, v in (("--report-only", args.report_only), ("--ship-to", args.ship_to),
                            ("--refresh-cards", args.refresh_cards),
                            ("--resume-from", args.resume_from)) if v]
    if other:
        raise ParameterError(f"--render-only recomputes and writes nothing but the report; "
                             f"drop {', '.join(other)}")
    print(f"wrote {render_detection_report(args.out)}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run the benchmark (progress on stdout) and say where the report went."""
    from ..studies.detection_benchmark import run_detection_benchmark

    if args.render_only:
        return _render_only(args)
    report = run_detection_benchmark(settings_from_args(args),
                                     log=lambda m: print(m, flush=True))
    print(f"wrote {report}")
    return 0
