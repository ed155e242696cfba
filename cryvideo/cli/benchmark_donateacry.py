"""``cryvideo benchmark donateacry DATA_DIR``: the feature-credibility benchmark (Table 2)."""

from __future__ import annotations

import argparse
import os
import sys

from ..errors import ParameterError

__all__ = ["add_subparser", "run"]


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


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
    p.add_argument("--protocol", choices=("paper", "grouped", "both"), default="both",
                   help="paper = stratified 70/30 random split (leaky); grouped = "
                        "StratifiedGroupKFold by app install (default: both)")
    p.add_argument("--classes", action="append", metavar="SET",
                   help="class set: 'paper4' (belly_pain, burping, discomfort, tired), "
                        "'paper4h' (belly_pain, discomfort, tired and 13 random hungry clips: "
                        "the alternative reading of the paper's 4 classes), 'all5', or a "
                        "comma list of classes; repeat for several "
                        "(default: paper4, paper4h and all5)")
    p.add_argument("--features", default="mfcc,stft", type=_csv,
                   help="comma list among mfcc, stft (default: mfcc,stft)")
    p.add_argument("--models", type=_csv, default=None,
                   help="comma list of registered models (default: all but the optional: "
                        "SVM, Naive Bayes, Random Forest, Decision Tree, k-NN, DNN, plus any "
                        "registered; optional: 'AE+DNN (augmented)', hours on the full "
                        "corpus)")
    p.add_argument("--out", default="donateacry-benchmark", metavar="DIR",
                   help="output folder (default: ./donateacry-benchmark)")
    p.add_argument("--paper-repeats", type=int, default=5, metavar="N",
                   help="seeds of the 70/30 split (default: 5)")
    p.add_argument("--folds", type=int, default=5, metavar="K",
                   help="folds of the grouped protocol (default: 5)")
    p.add_argument("--grouped-repeats", type=int, default=3, metavar="N",
                   help="repeats of the grouped k-fold (default: 3)")
    p.add_argument("--permutations", type=int, default=199, metavar="N",
                   help="permutations of the max-statistic test over all model/feature "
                        "pairs of the grouped protocol (whole installs' labels exchanged), "
                        "0 to skip (default: 199, the least that can reach p < 0.01)")
    p.add_argument("--permutation-repeats", type=int, default=1, metavar="N",
                   help="grouped repeats each permutation re-runs (default: 1)")
    p.add_argument("--bootstrap", type=int, default=2000, metavar="N",
                   help="group-bootstrap resamples of each interval (default: 2000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ae-dnn-results", metavar="JSON", default=None,
                   help="add the AE+DNN rows from this ae_dnn_donateacry.json (written by "
                        "benchmarks/ae_dnn_donateacry.py) to the table")
    p.add_argument("--report-only", action="store_true",
                   help="run nothing: rewrite the report in --out from its "
                        "donateacry_results.json (e.g. with new --ae-dnn-results)")
    g = p.add_argument_group("feature parameters (stored with the results)")
    g.add_argument("--sr", type=int, default=8000, help="sample rate in Hz (default: 8000)")
    g.add_argument("--duration", type=float, default=7.0,
                   help="clip length in s after centre crop / zero pad (default: 7)")
    g.add_argument("--n-fft", type=int, default=512, help="FFT size (default: 512)")
    g.add_argument("--hop", type=int, default=256, help="hop in samples (default: 256)")
    g.add_argument("--n-mels", type=int, default=64, help="mel bands (default: 64)")
    g.add_argument("--n-mfcc", type=int, default=40, help="MFCCs (default: 40)")
    g.add_argument("--cache-dir", default=None,
                   help="feature cache folder (default: $CRYVIDEO_CACHE_DIR/features or "
                        "~/.cache/cryvideo/features)")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run the benchmark and write its report; prints the written paths."""
    # the networks here are tiny: one TensorFlow thread is faster than two fighting
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    from ..audio import FeatureParams
    from ..audio.cache import FeatureCache
    from ..progress import StageProgress
    from ..studies.donateacry import (
        BenchmarkConfig,
        load_dataset,
        parse_class_set,
        run_benchmark,
    )
    from ..studies.donateacry_report import load_ae_dnn_rows, write_report

    protocols = ("paper", "grouped") if args.protocol == "both" else (args.protocol,)
    class_sets = dict(parse_class_set(s) for s in (args.classes
                                                   or ["paper4", "paper4h", "all5"]))
    bad = [f for f in args.features if f not in ("mfcc", "stft")]
    if bad or not args.features:
        raise ParameterError(f"--features: expected a comma list among mfcc, stft, got "
                             f"{','.join(args.features) or 'nothing'}")
    params = FeatureParams(sr=args.sr, duration=args.duration, n_fft=args.n_fft,
                           hop_length=args.hop, n_mels=args.n_mels, n_mfcc=args.n_mfcc)
    config = BenchmarkConfig(
        class_sets=class_sets, protocols=protocols, features=tuple(args.features),
        models=tuple(args.models) if args.models else None,
        paper_repeats=args.paper_repeats, n_splits=args.folds,
        grouped_repeats=args.grouped_repeats, n_permutations=args.permutations,
        permutation_repeats=args.permutation_repeats, n_boot=args.bootstrap, seed=args.seed)
    specs = config.model_specs()
    ae_dnn = load_ae_dnn_rows(args.ae_dnn_results) if args.ae_dnn_results else None
    if args.report_only:
        from ..studies.donateacry_report import load_result

        for path in write_report(load_result(os.path.join(args.out,
                                                          "donateacry_results.json")),
                                 args.out, ae_dnn=ae_dnn):
            print(path)
        return 0
    needed = sorted({c for cs in class_sets.values() for c in cs})
    cache = FeatureCache(args.cache_dir)

    bar = StageProgress(unit="clip")
    try:
        data = load_dataset(args.data_dir, params=params, features=config.features,
                            classes=needed,
                            keep_matrices=any(s.feature_input == "matrix" for s in specs),
                            cache=cache, progress=bar)
    finally:
        bar.close()
    bar = StageProgress(unit="fit")
    try:
        result = run_benchmark(data, config, progress=bar)
    finally:
        bar.close()
    paths = write_report(result, args.out, ae_dnn=ae_dnn)
    for path in paths:
        print(path)
    t = result.timing
    print(f"features {t['features_wall_s']} s (cache hits {data.cache_stats['hits']}, misses "
          f"{data.cache_stats['misses']}); benchmark {t['benchmark_wall_s']} s wall, "
          f"{t['benchmark_cpu_s']} s CPU", file=sys.stderr)
    return 0
