"""Benchmark: the AE+DNN audio branches on Donateacry (5 classes), paper vs grouped protocol.

Rows "AE+DNN (MFCC)" and "AE+DNN (STFT)" of the feature-credibility table, with reference
scikit-learn baselines on the *same* splits and the majority-class baseline. Aggregated like
every row of that table: the test predictions of all repeats are pooled (grouped: 3 repeats of
5-fold CV, each with its own split and seeds; paper: 5 random 70/30 splits), with a 95 %
group-bootstrap interval over app installs and the per-repeat values. The grouped protocol gets
a max-statistic group-permutation test over the two kinds. Results:
``benchmarks/results/ae_dnn/`` (JSON + Markdown).

Usage::

    python benchmarks/ae_dnn_donateacry.py [--data ../shared/data/donateacry]
        [--background ../shared/data/cry_detection/not_cry] [--permutations 199]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from cryvideo.audio import summarize  # noqa: E402
from cryvideo.data import DONATEACRY_CLASSES, load_donateacry  # noqa: E402
from cryvideo.evaluation import (  # noqa: E402
    grouped_splits,
    leakage,
    paper_splits,
)
from cryvideo.io import write_json_atomic, write_text_atomic  # noqa: E402
from cryvideo.machine import machine  # noqa: E402
from cryvideo.progress import StageProgress  # noqa: E402
from cryvideo.studies.ae_dnn import (  # noqa: E402
    AE_DNN_DEFAULTS,
    build_dataset,
    evaluate_ae_dnn,
    permutation_test_ae_dnn,
    pooled_summary,
)
from cryvideo.studies.donateacry import POOLED  # noqa: E402

OUT = REPO / "benchmarks" / "results" / "ae_dnn"
PAPER_CLAIMS = {"video paper (Cha & Bae), AE+DNN audio branches": "93.75 % / 97.41 % "
                "accuracy (random split, own 3-class data; figures as cited in issue 4)"}


def sklearn_baselines(data, labels, splits, kind, *, n_boot, seed, of):
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
        for r, tr, te in splits:
            m = make().fit(F[tr], data.y[tr])
            vals, counts = np.unique(data.y[tr], return_counts=True)
            folds.append({"repeat": int(r), "test_idx": te, "y_pred": m.predict(F[te]),
                          "majority_label": vals[np.argmax(counts)],
                          "leakage": leakage(tr, te, data.groups)})
        out[f"{name} ({kind.upper()})"] = pooled_summary(folds, data, labels, n_boot=n_boot,
                                                         seed=seed, of=of)
    return out


def fmt(s, key):
    m = s[key]
    return f"{100 * m['estimate']:.1f} [{100 * m['low']:.1f}, {100 * m['high']:.1f}]"


def per_repeat(s, key="balanced_accuracy"):
    return ", ".join(f"{100 * v:.1f}" for v in s[key]["per_repeat"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shared = REPO.parent / "shared" / "data"
    ap.add_argument("--data", default=str(shared / "donateacry"))
    ap.add_argument("--background", default=str(shared / "cry_detection" / "not_cry"))
    ap.add_argument("--permutations", type=int, default=199)
    ap.add_argument("--grouped-repeats", type=int, default=3)
    ap.add_argument("--paper-repeats", type=int, default=5)
    ap.add_argument("--bootstrap", type=int, default=2000)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--kinds", nargs="+", default=["mfcc", "stft"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--permutation-only", action="store_true",
                    help="keep the committed rows; refit repeat 1 of the grouped protocol (same "
                    "splits and seeds) and add the permutation test to the results file")
    args = ap.parse_args(argv)
    if args.permutation_only:
        return permutation_only(args)

    t_start = time.time()
    labels = list(DONATEACRY_CLASSES)
    items = load_donateacry(args.data, classes=labels)
    progress = StageProgress()  # one bar a stage (features, folds, permutations)
    data = build_dataset(items, n_aug=2, background_dir=args.background, seed=args.seed,
                         progress=progress)
    mach = machine()
    res = {"benchmark": "AE+DNN audio branches on Donateacry (5 classes)",
           "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
           "machine": {"platform": mach["platform"], "cpus": mach["cores"],
                       "python": mach["python"]},
           "data": {"n_clips": len(items), "n_uuids": len(set(data.groups.tolist())),
                    "class_counts": {c: int(np.sum(data.y == c)) for c in labels},
                    **data.info},
           "hyperparameters": AE_DNN_DEFAULTS, "rows": {}, "baselines": {},
           "paper_claims": PAPER_CLAIMS}
    protocols = {
        "grouped": dict(n_splits=args.folds, n_repeats=args.grouped_repeats),
        "paper": dict(n_splits=args.folds, n_repeats=args.paper_repeats),
    }
    res["config"] = {"grouped_repeats": args.grouped_repeats, "paper_repeats": args.paper_repeats,
                     "folds": args.folds, "n_boot": args.bootstrap,
                     "permutations": args.permutations, "seed": args.seed}
    kept_folds = {}
    for proto, kw in protocols.items():
        if proto == "grouped":
            splits = list(grouped_splits(data.y, data.groups, n_splits=kw["n_splits"],
                                         n_repeats=kw["n_repeats"], seed=args.seed))
        else:
            splits = list(paper_splits(data.y, test_size=0.3, n_repeats=kw["n_repeats"],
                                       seed=args.seed))
        of = POOLED[proto].format(n=kw["n_repeats"], k=kw["n_splits"])
        perm_folds = {}
        for kind in args.kinds:
            t0 = time.time()
            folds = evaluate_ae_dnn(data, kind=kind, protocol=proto, labels=labels,
                                    seed=args.seed, progress=progress,
                                    keep_estimators=(proto == "grouped"), **kw)
            if proto == "grouped":  # the permutation test refits the heads of repeat 1
                perm_folds[kind] = [f for f in folds if f["repeat"] == 0]
            row = {"protocol": proto, "n_repeats": kw["n_repeats"],
                   "summary": pooled_summary(folds, data, labels, n_boot=args.bootstrap,
                                             seed=args.seed, of=of),
                   "folds": [{k: v for k, v in f.items() if k not in ("estimator", "train_idx")}
                             for f in folds]}
            row["seconds"] = round(time.time() - t0, 1)
            res["rows"][f"AE+DNN ({kind.upper()}) / {proto}"] = row
            print(f"AE+DNN ({kind}) {proto}: {fmt(row['summary'], 'balanced_accuracy')} "
                  f"({row['seconds']} s)", flush=True)
            write_json_atomic(OUT / "ae_dnn_donateacry.json", res)
        base = {}
        for kind in args.kinds:
            base.update(sklearn_baselines(data, labels, splits, kind, n_boot=args.bootstrap,
                                          seed=args.seed, of=of))
        res["baselines"][proto] = base
        write_json_atomic(OUT / "ae_dnn_donateacry.json", res)
        if perm_folds:
            kept_folds = perm_folds
    # the permutation test last: every row is written before its long run starts
    if args.permutations and kept_folds:
        t0 = time.time()
        res["permutation"] = permutation_test_ae_dnn(
            data, kept_folds, labels=labels, n_permutations=args.permutations,
            seed=args.seed, progress=progress)
        res["permutation"]["seconds"] = round(time.time() - t0, 1)
        print(f"permutation: {res['permutation']['pvalue_familywise']}", flush=True)
    progress.close()
    res["seconds_total"] = round(time.time() - t_start, 1)
    write_json_atomic(OUT / "ae_dnn_donateacry.json", res)
    write_text_atomic(OUT / "ae_dnn_donateacry.md", markdown(res))
    print(markdown(res))
    return 0


def permutation_only(args) -> int:
    """Add the grouped protocol's permutation test to the committed results: repeat 1 of the
    grouped protocol is refitted with the same splits and seeds as in the full run (the
    permutation test needs its fitted autoencoders), then ``args.permutations`` permutations.
    The rows already in the file are kept as they are."""
    import json

    t_start = time.time()
    res = json.loads((OUT / "ae_dnn_donateacry.json").read_text())
    cfg = res["config"]
    if cfg["seed"] != args.seed or cfg["folds"] != args.folds:
        raise SystemExit("--seed/--folds differ from the committed run's")
    labels = list(DONATEACRY_CLASSES)
    items = load_donateacry(args.data, classes=labels)
    progress = StageProgress()
    data = build_dataset(items, n_aug=2, background_dir=args.background, seed=args.seed,
                         progress=progress)
    kept, refit = {}, {}
    for kind in args.kinds:
        folds = evaluate_ae_dnn(data, kind=kind, protocol="grouped", labels=labels,
                                seed=args.seed, progress=progress, keep_estimators=True,
                                n_splits=args.folds, n_repeats=1)
        kept[kind] = folds
        committed = [f for f in res["rows"][f"AE+DNN ({kind.upper()}) / grouped"]["folds"]
                     if f["repeat"] == 0]
        same = sum(int(np.array_equal(np.asarray(a["y_pred"]), np.asarray(b["y_pred"])))
                   for a, b in zip(folds, committed, strict=True))
        refit[kind] = {"folds": len(folds), "folds_with_identical_predictions": same}
        print(f"refit {kind}: {same} of {len(folds)} folds predict exactly as committed",
              flush=True)
    t0 = time.time()
    perm = permutation_test_ae_dnn(data, kept, labels=labels,
                                   n_permutations=args.permutations, seed=args.seed,
                                   progress=progress)
    perm["seconds"] = round(time.time() - t0, 1)
    perm["refit_of_repeat_1"] = refit
    perm["date"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    progress.close()
    res["permutation"] = perm
    res["config"]["permutations"] = args.permutations
    res["permutation_seconds_total"] = round(time.time() - t_start, 1)
    write_json_atomic(OUT / "ae_dnn_donateacry.json", res)
    write_text_atomic(OUT / "ae_dnn_donateacry.md", markdown(res))
    print(markdown(res))
    return 0


def markdown(res) -> str:
    cfg = res["config"]
    perm = res.get("permutation")
    L = [f"# {res['benchmark']}", "",
         f"Date {res['date']}; machine: {res['machine']['platform']}, "
         f"{res['machine']['cpus']} CPUs; total {res.get('seconds_total', '?')} s.",
         f"Data: {res['data']['n_clips']} clips from {res['data']['n_uuids']} app installs "
         f"(UUIDs); classes {res['data']['class_counts']}; 2 augmented copies per training "
         "clip (training folds only).", "",
         f"**grouped** = StratifiedGroupKFold by UUID, {cfg['folds']} folds x "
         f"{cfg['grouped_repeats']} repeats (honest; repeat r: its own split, model seeds "
         f"{cfg['seed']} + 17 r + fold). **paper** = stratified random 70/30, "
         f"{cfg['paper_repeats']} splits (LEAKY: clips of one install on both sides; "
         "`leakage` = share of test clips whose UUID is in training). Cells: % on the test "
         "predictions of all repeats pooled [95 % group-bootstrap interval: "
         f"{cfg['n_boot']} resamples of whole app installs]; the balanced accuracy of each "
         "repeat (= each seed) beside it. Every row, the AE+DNN's, the references' and the "
         "majority baseline's, is aggregated the same way, as in the Donateacry table. "
         "Hyper-parameters fixed up front; early stopping on a grouped validation split "
         "inside training.", "",
         "| model | protocol | accuracy | balanced acc. | macro-F1 | bal. acc. per repeat | "
         "majority bal. acc. | majority macro-F1 | leakage | family-wise p (bal. acc.) |",
         "|---|---|---|---|---|---|---|---|---|---|"]
    for proto in ("grouped", "paper"):
        for name, row in res["rows"].items():
            if row["protocol"] != proto:
                continue
            s = row["summary"]
            kind = "mfcc" if "(MFCC)" in name else "stft"
            p = "–"
            if perm and proto == "grouped" and kind in perm["names"]:
                i = perm["names"].index(kind)
                p = f"{perm['pvalue_familywise'][i]:.3f}"
            L.append(f"| {name.split(' / ')[0]} | {proto} | {fmt(s, 'accuracy')} | "
                     f"{fmt(s, 'balanced_accuracy')} | {fmt(s, 'macro_f1')} | "
                     f"{per_repeat(s)} | {fmt(s, 'majority_balanced_accuracy')} | "
                     f"{fmt(s, 'majority_macro_f1')} | {s['leakage']:.2f} | {p} |")
        for name, s in res["baselines"].get(proto, {}).items():
            L.append(f"| {name} (reference) | {proto} | {fmt(s, 'accuracy')} | "
                     f"{fmt(s, 'balanced_accuracy')} | {fmt(s, 'macro_f1')} | "
                     f"{per_repeat(s)} | {fmt(s, 'majority_balanced_accuracy')} | "
                     f"{fmt(s, 'majority_macro_f1')} | {s['leakage']:.2f} | – |")
    if perm:
        L += ["", f"Permutation test (grouped): max statistic over {', '.join(perm['names'])}, "
              f"balanced accuracy of the pooled out-of-fold predictions of repeat 1; "
              f"{perm['n_permutations']} permutations exchanging whole app installs' label "
              "blocks between installs of equal size (least possible p = "
              f"{perm['min_pvalue']:.3f}); each permutation retrains every fold's classifier "
              "on the permuted labels, keeping the fold's autoencoder (it never sees labels) "
              "and the splits of the true labels. Observed: "
              + ", ".join(f"{n} {100 * o:.1f} % (p = {p:.3f}; permutation mean "
                          f"{100 * m:.1f} %)" for n, o, p, m in zip(
                              perm["names"], perm["observed"], perm["pvalue_familywise"],
                              perm["permutation_mean"], strict=True)) + "."]
        refit = perm.get("refit_of_repeat_1")
        if refit:
            L += ["", f"The test was run on {perm.get('date', '?')[:10]}, after the rows above: "
                  "repeat 1 was refitted with the same splits and seeds (the test needs its "
                  "fitted autoencoders). TensorFlow training on CPU threads is not bit-"
                  "reproducible: " + ", ".join(
                      f"{k} {v['folds_with_identical_predictions']} of {v['folds']} folds"
                      for k, v in refit.items())
                  + " predict exactly as in the rows' run, so the observed values above are "
                  "those of the refit, not the rows' repeat-1 values. "
                  f"It took {perm.get('seconds', 0) / 60:.0f} min."]
    L += ["", "Paper claims (not comparable: random split, different class sets): "
          + "; ".join(f"{k}: {v}" for k, v in res["paper_claims"].items()), ""]
    return "\n".join(L)


if __name__ == "__main__":
    sys.exit(main())
