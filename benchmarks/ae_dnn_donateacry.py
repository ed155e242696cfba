"""Benchmark: the AE+DNN audio branches on Donateacry (5 classes), paper vs grouped protocol.

Rows "AE+DNN (MFCC)" and "AE+DNN (STFT)" of the feature-credibility table, with reference
scikit-learn baselines on the *same* splits and the majority-class baseline; a label-permutation
p-value for the grouped protocol. Results: ``benchmarks/results/ae_dnn/`` (JSON + Markdown).

Usage::

    python benchmarks/ae_dnn_donateacry.py [--data ../shared/data/donateacry]
        [--background ../shared/data/cry_detection/not_cry] [--permutations 19]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from cryvideo.audio import summarize  # noqa: E402
from cryvideo.benchmarks.ae_dnn import (  # noqa: E402
    AE_DNN_DEFAULTS,
    build_dataset,
    evaluate_ae_dnn,
    permutation_test_ae_dnn,
    summarize_folds,
)
from cryvideo.cli.common import progress_bar  # noqa: E402
from cryvideo.data import DONATEACRY_CLASSES, load_donateacry  # noqa: E402
from cryvideo.evaluation import (  # noqa: E402
    classification_metrics,
    grouped_splits,
    paper_splits,
)
from cryvideo.io import write_json_atomic, write_text_atomic  # noqa: E402

OUT = REPO / "benchmarks" / "results" / "ae_dnn"
PAPER_CLAIMS = {"video paper (Cha & Bae), AE+DNN audio branches": "93.75 % / 97.41 % "
                "accuracy (random split, own 3-class data; figures as cited in issue 4)"}


def sklearn_baselines(data, labels, splits, kind):
    """Reference baselines on mean/std-over-time features, same splits."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    F = np.stack([summarize(m) for m in data.X[kind]])
    models = {
        "LogReg (balanced)": lambda: make_pipeline(
            StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=2000)),
        "SVM-RBF (balanced)": lambda: make_pipeline(StandardScaler(),
                                                    SVC(class_weight="balanced")),
        "RF (balanced)": lambda: RandomForestClassifier(n_estimators=200,
                                                        class_weight="balanced",
                                                        random_state=0, n_jobs=1),
    }
    out = {}
    for name, make in models.items():
        folds = []
        for _r, tr, te in splits:
            m = make().fit(F[tr], data.y[tr])
            folds.append({"metrics": classification_metrics(data.y[te], m.predict(F[te]),
                                                            labels),
                          "majority": classification_metrics(
                              data.y[te], np.full(len(te), "hungry"), labels),
                          "leakage": 0.0})
        out[f"{name} ({kind.upper()})"] = summarize_folds(folds)
    return out


def fmt(s, key):
    m = s[key]
    return f"{m['mean']:.3f} [{m['ci95'][0]:.3f}, {m['ci95'][1]:.3f}]"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shared = REPO.parent / "shared" / "data"
    ap.add_argument("--data", default=str(shared / "donateacry"))
    ap.add_argument("--background", default=str(shared / "cry_detection" / "not_cry"))
    ap.add_argument("--permutations", type=int, default=19)
    ap.add_argument("--paper-repeats", type=int, default=3)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--kinds", nargs="+", default=["mfcc", "stft"])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    t_start = time.time()
    labels = list(DONATEACRY_CLASSES)
    items = load_donateacry(args.data, classes=labels)
    data = build_dataset(items, n_aug=2, background_dir=args.background, seed=args.seed,
                         progress=progress_bar)
    res = {"benchmark": "AE+DNN audio branches on Donateacry (5 classes)",
           "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
           "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                       "python": platform.python_version()},
           "data": {"n_clips": len(items), "n_uuids": len(set(data.groups.tolist())),
                    "class_counts": {c: int(np.sum(data.y == c)) for c in labels},
                    **data.info},
           "hyperparameters": AE_DNN_DEFAULTS, "rows": {}, "baselines": {},
           "paper_claims": PAPER_CLAIMS}
    protocols = {
        "grouped": dict(n_splits=args.folds, n_repeats=1),
        "paper": dict(n_splits=args.folds, n_repeats=args.paper_repeats),
    }
    for proto, kw in protocols.items():
        if proto == "grouped":
            splits = list(grouped_splits(data.y, data.groups, n_splits=kw["n_splits"],
                                         n_repeats=kw["n_repeats"], seed=args.seed))
        else:
            splits = list(paper_splits(data.y, test_size=0.3, n_repeats=kw["n_repeats"],
                                       seed=args.seed))
        for kind in args.kinds:
            t0 = time.time()
            folds = evaluate_ae_dnn(data, kind=kind, protocol=proto, labels=labels,
                                    seed=args.seed, progress=progress_bar,
                                    keep_estimators=(proto == "grouped"), **kw)
            row = {"protocol": proto, "summary": summarize_folds(folds),
                   "folds": [{k: v for k, v in f.items()
                              if k not in ("estimator", "train_idx", "test_idx")}
                             for f in folds]}
            if proto == "grouped" and args.permutations:
                row["permutation"] = permutation_test_ae_dnn(
                    data, folds, kind=kind, labels=labels, n_permutations=args.permutations,
                    seed=args.seed, progress=progress_bar)
            row["seconds"] = round(time.time() - t0, 1)
            res["rows"][f"AE+DNN ({kind.upper()}) / {proto}"] = row
            print(f"AE+DNN ({kind}) {proto}: {row['summary']['balanced_accuracy']} "
                  f"{row.get('permutation', {}).get('pvalue')}", flush=True)
            write_json_atomic(OUT / "ae_dnn_donateacry.json", res)
        base = {}
        for kind in args.kinds:
            base.update(sklearn_baselines(data, labels, splits, kind))
        res["baselines"][proto] = base
    res["seconds_total"] = round(time.time() - t_start, 1)
    write_json_atomic(OUT / "ae_dnn_donateacry.json", res)
    write_text_atomic(OUT / "ae_dnn_donateacry.md", markdown(res))
    print(markdown(res))
    return 0


def markdown(res) -> str:
    L = [f"# {res['benchmark']}", "",
         f"Date {res['date']}; machine: {res['machine']['platform']}, "
         f"{res['machine']['cpus']} CPUs; total {res.get('seconds_total', '?')} s.",
         f"Data: {res['data']['n_clips']} clips from {res['data']['n_uuids']} app installs "
         f"(UUIDs); classes {res['data']['class_counts']}; 2 augmented copies per training "
         "clip (training folds only).", "",
         "**grouped** = StratifiedGroupKFold by UUID, 5 folds (honest). **paper** = stratified "
         "random 70/30, repeated (LEAKY: clips of one install on both sides; `leakage` = share "
         "of test clips whose UUID is in training). Mean over folds [95 % CI]. Hyper-parameters "
         "fixed up front; early stopping on a grouped validation split inside training.", "",
         "| model | protocol | accuracy | balanced acc. | macro-F1 | majority bal. acc. | "
         "majority macro-F1 | leakage | permutation p (bal. acc.) |",
         "|---|---|---|---|---|---|---|---|---|"]
    for proto in ("grouped", "paper"):
        for name, row in res["rows"].items():
            if row["protocol"] != proto:
                continue
            s = row["summary"]
            perm = row.get("permutation")
            p = (f"{perm['pvalue']:.3f} (n={perm['n_permutations']}, perm. mean "
                 f"{perm['permutation_mean']:.3f})") if perm else "–"
            L.append(f"| {name.split(' / ')[0]} | {proto} | {fmt(s, 'accuracy')} | "
                     f"{fmt(s, 'balanced_accuracy')} | {fmt(s, 'macro_f1')} | "
                     f"{s['majority_balanced_accuracy']['mean']:.3f} | "
                     f"{s['majority_macro_f1']['mean']:.3f} | {s['leakage']:.2f} | {p} |")
        for name, s in res["baselines"].get(proto, {}).items():
            L.append(f"| {name} (reference) | {proto} | {fmt(s, 'accuracy')} | "
                     f"{fmt(s, 'balanced_accuracy')} | {fmt(s, 'macro_f1')} | "
                     f"{s['majority_balanced_accuracy']['mean']:.3f} | "
                     f"{s['majority_macro_f1']['mean']:.3f} | – | – |")
    L += ["", "Paper claims (not comparable: random split, different class sets): "
          + "; ".join(f"{k}: {v}" for k, v in res["paper_claims"].items()), ""]
    return "\n".join(L)


if __name__ == "__main__":
    sys.exit(main())
