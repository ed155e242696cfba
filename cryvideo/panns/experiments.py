"""The experiments behind ``cryvideo benchmark panns``: grouped-CV cry detection (CNN10 vs
YAMNet zero-shot), the pooling study, and distillation/quantization.

All evaluations use folds grouped by source recording (cry detection: the manifest's ``group``;
Donateacry: the app-install UUID). Nothing is tuned on a test fold: the detector's threshold is
fixed at 0.5, YAMNet's is chosen on the training folds (and 0.3, the reference value, is
reported beside it).
"""

from __future__ import annotations

import time

import numpy as np

from ..evaluation import grouped_splits, mean_ci
from .dataset import ClipSet
from .training import class_weights, fit_epochs, sliding_windows

__all__ = [
    "WINDOW_FRAMES",
    "HOP_FRAMES",
    "binary_f1",
    "clip_scores",
    "detector_model",
    "train_detector",
    "detection_cv",
]

WINDOW_FRAMES = 201   # 2.0 s at hop 160 / 16 kHz
HOP_FRAMES = 50       # 0.5 s


def binary_f1(y: np.ndarray, pred: np.ndarray) -> dict:
    y = np.asarray(y, bool)
    pred = np.asarray(pred, bool)
    tp = int(np.sum(y & pred))
    fp = int(np.sum(~y & pred))
    fn = int(np.sum(y & ~pred))
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"f1": f1, "precision": prec, "recall": rec, "tp": tp, "fp": fp, "fn": fn,
            "accuracy": float(np.mean(y == pred))}


def detector_model(*, width: float, arch: str = "cnn10", pooling: str = "maxavg",
                   n_classes: int = 1, activation: str = "sigmoid"):
    from .models import build_model

    return build_model(arch, width=width, pooling=pooling, n_classes=n_classes,
                       activation=activation, spec_augment=True, dropout=0.3)


def clip_scores(predict_windows, clips: list) -> np.ndarray:
    """Clip score = max over sliding 2 s windows (hop 0.5 s)."""
    wins, owner = [], []
    for i, x in enumerate(clips):
        w, _ = sliding_windows(x, WINDOW_FRAMES, HOP_FRAMES)
        wins.append(w)
        owner += [i] * len(w)
    p = np.asarray(predict_windows(np.concatenate(wins))).reshape(-1)
    owner = np.asarray(owner)
    return np.array([p[owner == i].max() for i in range(len(clips))])


def train_detector(clips, clips_bl, y, *, width: float, epochs: int, seed: int,
                   lr: float = 1e-3):
    """Train a CNN10 detector on 2 s random crops (band-limited copy used half the time)."""
    import keras

    keras.utils.set_random_seed(seed)
    model = detector_model(width=width)
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="binary_crossentropy")
    rng = np.random.default_rng(seed)
    fit_epochs(model, clips, np.asarray(y, np.float32)[:, None], frames=WINDOW_FRAMES,
               epochs=epochs, rng=rng, sample_weight=class_weights(y), alt_clips=clips_bl,
               alt_prob=0.5)
    return model


def _best_threshold(scores, y, grid=np.round(np.arange(0.05, 0.96, 0.05), 2)) -> float:
    f1s = [binary_f1(y, scores >= t)["f1"] for t in grid]
    return float(grid[int(np.argmax(f1s))])


def detection_folds(cd: ClipSet, da: ClipSet, *, n_splits: int = 5, seed: int = 0):
    """Grouped folds of the detection set, and Donateacry UUID folds aligned with them."""
    y = np.array([lab == "cry" for lab in cd.labels], int)
    folds = grouped_splits(y, cd.groups, n_splits=n_splits, n_repeats=1, seed=seed)
    from sklearn.model_selection import GroupKFold

    da_folds = list(GroupKFold(n_splits=n_splits).split(np.zeros(len(da)), groups=da.groups))
    return y, [(tr, te) for _, tr, te in folds], da_folds


def detection_cv(cd: ClipSet, da: ClipSet, *, width: float = 0.25, epochs: int = 12,
                 n_splits: int = 5, seed: int = 0, log=print) -> dict:
    """Grouped k-fold CV of the CNN10 detector against YAMNet zero-shot on the same folds.

    Per fold: train on the training groups of the detection set plus the Donateacry cries of
    the training UUID folds; test on the held-out detection groups (and report the recall on
    the held-out Donateacry UUIDs separately).
    """
    y, folds, da_folds = detection_folds(cd, da, n_splits=n_splits, seed=seed)
    yam = np.array([float(np.max(s[:, [19, 20]])) for s in cd.yamnet_scores])
    cats = np.array(cd.categories)
    rows = []
    for k, ((tr, te), (da_tr, da_te)) in enumerate(zip(folds, da_folds, strict=True)):
        t0 = time.time()
        clips = [cd.logmel[i] for i in tr] + [da.logmel[i] for i in da_tr]
        clips_bl = [cd.logmel_bl[i] for i in tr] + [da.logmel[i] for i in da_tr]
        ytr = np.concatenate([y[tr], np.ones(len(da_tr), int)])
        model = train_detector(clips, clips_bl, ytr, width=width, epochs=epochs, seed=seed + k)

        def pw(w, model=model):
            return model.predict(w, batch_size=128, verbose=0)

        s_te = clip_scores(pw, [cd.logmel[i] for i in te])
        s_da = clip_scores(pw, [da.logmel[i] for i in da_te])
        thr_y = _best_threshold(yam[tr], y[tr])
        row = {
            "fold": k, "n_test": len(te), "n_test_cry": int(y[te].sum()),
            "test_groups": len(set(np.array(cd.groups)[te])),
            "cnn10": binary_f1(y[te], s_te >= 0.5),
            "yamnet_train_threshold": {**binary_f1(y[te], yam[te] >= thr_y),
                                       "threshold": thr_y},
            "yamnet_0.3": binary_f1(y[te], yam[te] >= 0.3),
            "cnn10_donateacry_recall": float(np.mean(s_da >= 0.5)),
            "cnn10_false_positive_by_category": {
                c: int(np.sum((s_te >= 0.5) & (cats[te] == c))) for c in set(cats[te])},
            "seconds": round(time.time() - t0, 1),
        }
        rows.append(row)
        log(f"fold {k}: CNN10 F1 {row['cnn10']['f1']:.3f}  YAMNet F1 "
            f"{row['yamnet_train_threshold']['f1']:.3f} (thr {thr_y})  "
            f"@0.3 {row['yamnet_0.3']['f1']:.3f}  DA recall "
            f"{row['cnn10_donateacry_recall']:.3f}  {row['seconds']} s")
    summary = {}
    for key in ("cnn10", "yamnet_train_threshold", "yamnet_0.3"):
        m, lo, hi = mean_ci([r[key]["f1"] for r in rows])
        # pooled over folds as well (every clip is tested once)
        tp = sum(r[key]["tp"] for r in rows)
        fp = sum(r[key]["fp"] for r in rows)
        fn = sum(r[key]["fn"] for r in rows)
        summary[key] = {"f1_mean": m, "f1_ci95": [lo, hi],
                        "f1_pooled": 2 * tp / (2 * tp + fp + fn)}
    m, lo, hi = mean_ci([r["cnn10_donateacry_recall"] for r in rows])
    summary["cnn10_donateacry_recall"] = {"mean": m, "ci95": [lo, hi]}
    return {"width": width, "epochs": epochs, "n_splits": n_splits, "seed": seed,
            "window_s": 2.0, "hop_s": 0.5, "folds": rows, "summary": summary,
            "n_clips": len(cd), "n_donateacry": len(da)}
