"""``cryvideo benchmark panns DATA_DIR``: the PANNs-path tables (the pooling study,
distillation and quantization), regenerated from the data.

``DATA_DIR`` holds ``cry_detection/`` and ``donateacry/`` (e.g. ``../shared/data``). Results go
to ``benchmarks/results/panns_*.{json,md}``. Also runnable on its own:
``python -m cryvideo.cli.benchmark_panns DATA_DIR``. The work is
:func:`cryvideo.studies.panns_benchmark.run_panns_benchmark`; the comparison of every cry
detector, per recording, is ``cryvideo benchmark detection``.
"""

from __future__ import annotations

import argparse
import sys

from ..studies.panns_benchmark import PANNS_PARTS
from ..studies.panns_benchmark import PannsBenchmarkSettings as S

HELP = "PANNs path: pooling study, distillation/quantization tables"


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("data_dir", metavar="DATA_DIR",
                   help="folder with cry_detection/ and donateacry/ (e.g. ../shared/data)")
    p.add_argument("--only", nargs="+", choices=PANNS_PARTS, default=list(S.parts),
                   help="which tables to regenerate (default: pooling compression; compare "
                   "cry detectors with `cryvideo benchmark detection`)")
    p.add_argument("--out", default=S.out, metavar="DIR",
                   help="results folder (default: %(default)s)")
    p.add_argument("--folds", type=int, default=S.folds,
                   help="grouped CV folds (default: %(default)s)")
    p.add_argument("--compression-epochs", type=int, default=S.compression_epochs,
                   help="epochs for the compression study's models (default: %(default)s)")
    p.add_argument("--compression-folds", type=int, default=S.compression_folds,
                   help="evaluate compression on the first N folds of each seed only "
                   "(default: all)")
    p.add_argument("--compression-seeds", type=int, default=S.compression_seeds,
                   help="seeds of the compression study, each its own grouped split and "
                   "training seeds (default: %(default)s)")
    p.add_argument("--compression-checkpoint", metavar="FILE", default=None,
                   help="JSON file that keeps each finished compression fold (clip scores of "
                   "every model); run the same command again to resume after an interruption "
                   "(default: panns_compression_folds.json in --out)")
    p.add_argument("--pooling-repeats", type=int, default=S.pooling_repeats,
                   help="repeats (= seeds) of the grouped CV in the pooling study "
                   "(default: %(default)s)")
    p.add_argument("--bootstrap", type=int, default=S.bootstrap,
                   help="group-bootstrap resamples of each interval in the pooling and "
                   "compression tables (default: %(default)s)")
    p.add_argument("--seed", type=int, default=S.seed)
    p.add_argument("--markdown-only", action="store_true",
                   help="only rewrite the .md tables from the .json results in --out")


def add_subparser(benchsub) -> None:
    """Register ``panns`` under ``cryvideo benchmark``."""
    p = benchsub.add_parser("panns", help=HELP, description=HELP)
    _add_arguments(p)
    p.set_defaults(func=run)


def settings_from_args(args: argparse.Namespace) -> S:
    """The settings of a parsed command line (the command itself is recorded with them)."""
    given = sys.argv[1:]  # `cryvideo benchmark panns …` or `python -m …benchmark_panns …`
    if given[:2] == ["benchmark", "panns"]:
        given = given[2:]
    return S(args.data_dir, parts=tuple(args.only), out=args.out, folds=args.folds,
             compression_epochs=args.compression_epochs,
             compression_folds=args.compression_folds,
             compression_seeds=args.compression_seeds,
             compression_checkpoint=args.compression_checkpoint,
             pooling_repeats=args.pooling_repeats, bootstrap=args.bootstrap, seed=args.seed,
             markdown_only=args.markdown_only,
             command=" ".join(["cryvideo benchmark panns", *given]))


def run(args: argparse.Namespace) -> int:
    """Run the benchmark: progress on stderr, each table on stdout as it is written."""
    from ..studies.panns_benchmark import run_panns_benchmark

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    run_panns_benchmark(settings_from_args(args), log=log,
                        show=lambda md: print(md, flush=True))
    return 0


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
