"""Retrain the bundled default audio models (``make train-default``).

Trains the MFCC and STFT AE+DNN branches on all of Donateacry (5 classes) with augmentation
(not-cry backgrounds from the cry-detection set), after a grouped 5-fold cross-validation whose
metrics go in each model's JSON card, and writes ``saved_models/audio_mfcc.keras``,
``saved_models/audio_stft.keras`` (+ ``.json`` cards) and ``audio_training_curves.png``.
When ``benchmarks/results/ae_dnn/ae_dnn_donateacry.json`` exists (``python
benchmarks/ae_dnn_donateacry.py``), its grouped permutation p-values are copied into the cards.

Usage::

    python data_prep/train_default.py [--shared ../shared] [--out saved_models]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from cryvideo.errors import CryVideoError  # noqa: E402
from cryvideo.progress import StageProgress  # noqa: E402
from cryvideo.training.audio import train_audio_branches  # noqa: E402

BENCH = "benchmarks/results/ae_dnn/ae_dnn_donateacry.json"


def _permutation(res: dict, kind: str) -> dict | None:
    """One branch's entry of the benchmark's max-statistic permutation test."""
    perm = res.get("permutation")
    if not perm or kind not in perm.get("names", []):
        return None
    i = perm["names"].index(kind)
    return {"metric": perm["metric"], "score": perm["observed"][i],
            "pvalue": perm["pvalue_familywise"][i], "pvalue_single": perm["pvalue_single"][i],
            "n_permutations": perm["n_permutations"], "min_pvalue": perm["min_pvalue"],
            "permutation_mean": perm["permutation_mean"][i],
            "family": perm["names"], "kind": "max-statistic over the branches, family-wise p"}


def benchmark_metrics() -> dict:
    """Grouped-protocol metrics and permutation test, and leaky-protocol numbers, from the
    benchmark: each metric as the pooled out-of-fold estimate with its group-bootstrap interval
    (``{"estimate", "low", "high", "interval", "per_repeat", ...}``)."""
    p = REPO / BENCH
    if not p.is_file():
        return {}
    res = json.loads(p.read_text())
    out: dict = {}
    for kind in ("mfcc", "stft"):
        g = res["rows"].get(f"AE+DNN ({kind.upper()}) / grouped", {})
        pp = res["rows"].get(f"AE+DNN ({kind.upper()}) / paper", {})
        d = {}
        if g:
            s = g["summary"]
            d.update(protocol="StratifiedGroupKFold by app-install UUID, "
                     f"{s['n_folds'] // s['n_repeats']} folds x {s['n_repeats']} repeats, "
                     "pooled out-of-fold predictions (from the benchmark run)",
                     **s,
                     per_fold_balanced_accuracy=[round(f["metrics"]["balanced_accuracy"], 4)
                                                 for f in g["folds"]])
            perm = _permutation(res, kind)
            if perm:
                d["permutation_test"] = perm
        if pp:
            d["paper_protocol_leaky"] = {k: pp["summary"][k] for k in (
                "accuracy", "balanced_accuracy", "macro_f1", "leakage")}
        if d:
            d["benchmark_date"] = res.get("date")
            out[kind] = d
    return out


def _value(node: dict) -> float:
    """A card metric's figure: the pooled estimate, or the mean over folds."""
    return node["estimate"] if "estimate" in node else node["mean"]


def refresh_cards(folder: Path) -> int:
    """Replace the ``metrics`` of the bundled audio cards with the benchmark's, after checking
    that each model was trained with the benchmark's hyperparameters and data size."""
    from cryvideo.io import write_json_atomic

    bench = benchmark_metrics()
    res = json.loads((REPO / BENCH).read_text())
    hp = res["hyperparameters"]
    for kind in ("mfcc", "stft"):
        if kind not in bench:
            print(f"train_default: error: no {kind} rows in {BENCH}", file=sys.stderr)
            return 6
        for name in (f"audio_{kind}.json", f"audio_{kind}_float32.json"):
            path = folder / name
            card = json.loads(path.read_text())
            src = card if "training" in card and card["training"] else json.loads(
                (folder / f"audio_{kind}.json").read_text())
            trained = src["training"]["hyperparameters"]
            differ = {k: (trained.get(k), v) for k, v in hp.items() if trained.get(k) != v}
            if differ or src["training"]["n_clips"] != res["data"]["n_clips"]:
                print(f"train_default: error: {name} was not trained with the benchmark's "
                      f"recipe ({differ or 'another data size'}): retrain instead",
                      file=sys.stderr)
                return 6
            card["metrics"] = {"benchmark": BENCH.replace(".json", ".md"), **bench[kind]}
            write_json_atomic(path, card)
            ba = card["metrics"]["balanced_accuracy"]
            print(f"{name}: balanced accuracy {ba['estimate']:.3f} [{ba['low']:.3f}, "
                  f"{ba['high']:.3f}]")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_shared = os.environ.get("CRYVIDEO_SHARED") or str(REPO.parent / "shared")
    ap.add_argument("--shared", default=default_shared, help="the shared data folder")
    ap.add_argument("--out", default=str(REPO / "saved_models"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cv", action="store_true",
                    help="run the grouped 5-fold CV here even when the benchmark results exist")
    ap.add_argument("--cards-only", action="store_true",
                    help="do not train: put the benchmark's current figures into the bundled "
                    "cards (audio_{mfcc,stft}.json and their float32 TFLite twins' cards), when "
                    "the models were trained with the benchmark's recipe and data")
    args = ap.parse_args(argv)
    if args.cards_only:
        return refresh_cards(Path(args.out))
    shared = Path(args.shared)
    t0 = time.time()
    bench = {} if args.cv else benchmark_metrics()
    # The benchmark's grouped CV is the same code, data, splits and seeds: reuse its numbers
    # rather than train the 10 fold models again.
    cv_folds = 0 if bench and all(k in bench for k in ("mfcc", "stft")) else 5
    progress = StageProgress()
    try:
        cards = train_audio_branches(
            shared / "data" / "donateacry", args.out,
            background_dir=shared / "data" / "cry_detection" / "not_cry",
            n_aug=2, cv_folds=cv_folds, seed=args.seed, progress=progress,
            benchmark_ref=BENCH.replace(".json", ".md"), extra_metrics=bench)
    except CryVideoError as exc:
        print(f"train_default: error: {exc}", file=sys.stderr)
        return exc.exit_code
    finally:
        progress.close()
    for kind, card in cards.items():
        m = card.metrics
        size = os.path.getsize(Path(args.out) / card.file)
        print(f"{kind}: {card.file} ({size / 1e3:.0f} kB, sha256 {card.sha256[:12]}…) grouped "
              f"balanced accuracy {_value(m['balanced_accuracy']):.3f}, macro-F1 "
              f"{_value(m['macro_f1']):.3f} (majority {_value(m['majority_balanced_accuracy']):.3f}"
              f" / {_value(m['majority_macro_f1']):.3f})")
    print(f"done in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
