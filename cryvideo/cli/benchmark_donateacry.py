"""``cryvideo benchmark donateacry DATA_DIR``: the feature-credibility benchmark (Table 2).

The work is :func:`cryvideo.studies.donateacry_benchmark.run_donateacry_benchmark`. Options
of the evaluation and of the features default to the library's
(:class:`~cryvideo.studies.donateacry.BenchmarkConfig`,
:class:`~cryvideo.audio.features.FeatureParams`): an option not given is not passed on.
"""

from __future__ import annotations

import argparse
import os
import sys

from ..studies.donateacry_benchmark import DEFAULT_OUT

__all__ = ["add_subparser", "run", "settings_from_args"]

#: Options that set a BenchmarkConfig field (dest → field); default: the library's.
_CONFIG = {"protocol": "protocols", "features": "features", "models": "models",
           "paper_repeats": "paper_repeats", "folds": "n_splits",
           "grouped_repeats": "grouped_repeats", "permutations": "n_permutations",
           "permutation_repeats": "permutation_repeats", "bootstrap": "n_boot",
           "seed": "seed"}
#: Options that set a FeatureParams field (dest → field).
_PARAMS = {"sr": "sr", "duration": "duration", "n_fft": "n_fft", "hop": "hop_length",
           "n_mels": "n_mels", "n_mfcc": "n_mfcc"}
_LIB = argparse.SUPPRESS    # not given: the library's default applies


def _csv(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip())


def _protocols(text: str) -> tuple[str, ...]:
    return ("paper", "grouped") if text == "both" else (text,)


def add_subparser(benchsub) -> argparse.ArgumentParser:
    """Add ``donateacry`` to the sub-parsers of ``benchmark``."""
    p = benchsub.add_parser(
        "donateacry",
        help="SVM/NB/RF/DT/k-NN/DNN on MFCC and STFT, leaky vs grouped splits (paper Table 2)",
        description=(
            "Do MFCC/STFT features tell why an infant cries? Runs every registered model on "
            "each feature under the paper's leaky 70/30 random split and under splits grouped "
            "by app-install UUID, and writes a Markdown table laid out like the paper's "
            "Table 2 (with its numbers), CSV, JSON and confusion-matrix PNGs."),
    )
    p.add_argument("data_dir", metavar="DATA_DIR",
                   help="Donateacry folder (cleaned corpus, or raw .caf/.3gp buckets)")
    _add_evaluation_options(p)
    p.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                   help="output folder (default: ./%(default)s)")
    p.add_argument("--ae-dnn-results", metavar="JSON", default=None,
                   help="add the AE+DNN rows from this ae_dnn_donateacry.json (written by "
                        "benchmarks/ae_dnn_donateacry.py) to the table")
    p.add_argument("--report-only", action="store_true",
                   help="run nothing: rewrite the report in --out from its "
                        "donateacry_results.json (e.g. with new --ae-dnn-results)")
    _add_feature_options(p.add_argument_group("feature parameters (stored with the results)"))
    p.set_defaults(func=run)
    return p


def _add_evaluation_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--protocol", choices=("paper", "grouped", "both"), default=_LIB,
                   help="paper = stratified 70/30 random split (leaky); grouped = "
                        "StratifiedGroupKFold by app install (default: both)")
    p.add_argument("--classes", action="append", metavar="SET",
                   help="class set: 'paper4' (belly_pain, burping, discomfort, tired), "
                        "'paper4h' (belly_pain, discomfort, tired and 13 random hungry clips: "
                        "the alternative reading of the paper's 4 classes), 'all5', or a "
                        "comma list of classes; repeat for several "
                        "(default: paper4, paper4h and all5)")
    p.add_argument("--features", default=_LIB, type=_csv,
                   help="comma list among mfcc, stft (default: mfcc,stft)")
    p.add_argument("--models", type=_csv, default=_LIB,
                   help="comma list of registered models (default: all but the optional: "
                        "SVM, Naive Bayes, Random Forest, Decision Tree, k-NN, DNN, plus any "
                        "registered; optional: 'AE+DNN (augmented)', hours on the full "
                        "corpus)")
    for opt, meta, text in (
            ("--paper-repeats", "N", "seeds of the 70/30 split (default: 5)"),
            ("--folds", "K", "folds of the grouped protocol (default: 5)"),
            ("--grouped-repeats", "N", "repeats of the grouped k-fold (default: 3)"),
            ("--permutations", "N", "permutations of the max-statistic test over all "
             "model/feature pairs of the grouped protocol (whole installs' labels exchanged), "
             "0 to skip (default: 199, the least that can reach p < 0.01)"),
            ("--permutation-repeats", "N", "grouped repeats each permutation re-runs "
             "(default: 1)"),
            ("--bootstrap", "N", "group-bootstrap resamples of each interval (default: 2000)"),
            ("--seed", None, "(default: 0)")):
        p.add_argument(opt, type=int, default=_LIB, metavar=meta, help=text)


def _add_feature_options(g) -> None:
    for opt, kind, text in (("--sr", int, "sample rate in Hz (default: 8000)"),
                            ("--duration", float, "clip length in s after centre crop / zero "
                             "pad (default: 7)"),
                            ("--n-fft", int, "FFT size (default: 512)"),
                            ("--hop", int, "hop in samples (default: 256)"),
                            ("--n-mels", int, "mel bands (default: 64)"),
                            ("--n-mfcc", int, "MFCCs (default: 40)")):
        g.add_argument(opt, type=kind, default=_LIB, help=text)
    g.add_argument("--cache-dir", default=None,
                   help="feature cache folder (default: $CRYVIDEO_CACHE_DIR/features or "
                        "~/.cache/cryvideo/features)")


def settings_from_args(args: argparse.Namespace):
    """The settings of a parsed command line (checked on the way)."""
    from ..studies.donateacry_benchmark import DonateacryBenchmarkSettings

    config = {field: getattr(args, dest) for dest, field in _CONFIG.items()
              if hasattr(args, dest)}
    if "protocols" in config:
        config["protocols"] = _protocols(config["protocols"])
    if not config.get("models", True):      # --models "": every registered model
        del config["models"]
    params = {field: getattr(args, dest) for dest, field in _PARAMS.items()
              if hasattr(args, dest)}
    return DonateacryBenchmarkSettings.from_options(
        args.data_dir, class_sets=args.classes, config=config, params=params, out=args.out,
        cache_dir=args.cache_dir, ae_dnn_results=args.ae_dnn_results,
        report_only=args.report_only)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark and write its report; prints the written paths."""
    # the networks here are tiny: one TensorFlow thread is faster than two fighting
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    from ..studies.donateacry_benchmark import run_donateacry_benchmark

    done = run_donateacry_benchmark(settings_from_args(args))
    for path in done.paths:
        print(path)
    if done.cache_stats is not None:
        t, c = done.result.timing, done.cache_stats
        print(f"features {t['features_wall_s']} s (cache hits {c['hits']}, misses "
              f"{c['misses']}); benchmark {t['benchmark_wall_s']} s wall, "
              f"{t['benchmark_cpu_s']} s CPU", file=sys.stderr)
    return 0
