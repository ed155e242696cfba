"""The PANNs studies behind ``cryvideo benchmark panns``: grouped-CV cry detection (CNN10 vs
YAMNet zero-shot), the pooling study, distillation/quantization, and YAMNet heads. The
detector's recipe itself is :mod:`cryvideo.training.cnn10_detector`.

All evaluations use folds grouped by source recording (cry detection: the manifest's ``group``;
Donateacry: the app-install UUID). Nothing is tuned on a test fold: the detector's threshold is
fixed at 0.5, YAMNet's is chosen on the training folds (and 0.3, the reference value, is
reported beside it).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..detection.yamnet_tflite import YamNet
from ..evaluation import grouped_splits, mean_ci
from ..training.clipsets import ClipSet
from ..training.cnn10_detector import (
    HOP_FRAMES,
    RECIPES,
    WINDOW_FRAMES,
    background_clips,
    calibration_set,
    clip_scores,
    detector_model,
    detector_weights,
    train_detector,
)
from ..training.panns import class_weights

__all__ = [
    "binary_f1",
    "detection_cv",
    "pooling_study",
    "compression_study",
    "yamnet_head_cv",
    # the shipped recipe, from cryvideo.training.cnn10_detector
    "WINDOW_FRAMES",
    "HOP_FRAMES",
    "RECIPES",
    "background_clips",
    "calibration_set",
    "clip_scores",
    "detector_model",
    "detector_weights",
    "train_detector",
]

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


def quantized_predictors(model, calib: np.ndarray, *, frames: int = WINDOW_FRAMES,
                         column: int = 0, softmax: bool = False) -> dict:
    """{"dynamic": fn, "int8": fn} window predictors of TFLite copies of ``model``, plus the
    flatbuffer sizes (bytes) under "sizes" (float32 too)."""
    from ..models.export import run_tflite, tflite_interpreter, to_tflite

    out, sizes, lat = {}, {}, {}
    for q in (None, "dynamic", "int8"):
        blob = to_tflite(model, frames=frames, quantize=q,
                         representative=calib if q == "int8" else None)
        sizes[q or "float32"] = len(blob)
        it = tflite_interpreter(blob)
        lat[q or "float32"] = window_latency(it, calib[:1])
        if q is None:
            continue

        def fn(w, it=it):
            z = run_tflite(it, w)
            if softmax:
                z = np.exp(z - z.max(1, keepdims=True))
                z = z / z.sum(1, keepdims=True)
            return z[:, column]

        out[q] = fn
    out["sizes"] = sizes
    out["latency"] = lat
    return out


def window_latency(interpreter, window: np.ndarray, *, n: int = 30) -> float:
    """Median seconds for one window through a (one-thread) TFLite interpreter."""
    from ..models.export import run_tflite

    run_tflite(interpreter, window)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        run_tflite(interpreter, window)
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def _save_fold_model(trained, width, save_dir, k, test_paths, da_test_paths) -> None:
    from ..audio.logmel import PANNS_16K
    from ..models.cards import ModelCard, save_model_with_card

    model = detector_model(width=width)
    model.set_weights(trained.get_weights())
    card = ModelCard(name=f"cry_detector_fold{k}", kind="cry-detector", labels=["cry"],
                     inputs={"logmel": PANNS_16K.to_dict(), "window_frames": WINDOW_FRAMES},
                     training={"held_out": list(test_paths),
                               "held_out_donateacry": list(da_test_paths)},
                     extra={"threshold": 0.5})
    save_model_with_card(model, Path(save_dir) / f"fold{k}" / "cry_detector.keras", card)


def detection_cv_summary(rows: list[dict], *, quantize: bool = True) -> dict:
    """F1 of each model over the folds of :func:`detection_cv`: pooled (every clip tested
    once), and the folds' mean, sd, min and max. No interval: this retired protocol counts
    overlapping windows of one recording as independent clips, and a t-interval over five
    unequal folds is not one (it left [0, 100 %]); ``docs/detection.md`` has the grouped CV
    per recording with group-bootstrap intervals."""
    def spread(v) -> dict:
        v = np.asarray(v, float)
        return {"mean": float(v.mean()), "sd_over_folds": float(v.std(ddof=1)),
                "min": float(v.min()), "max": float(v.max())}

    summary: dict = {"note": "retired protocol (windows of one recording counted as clips, "
                     "one seed); no interval. See docs/detection.md for the grouped CV per "
                     "recording."}
    for key in [k for k in ("cnn10", "cnn10_dynamic", "cnn10_int8", "yamnet_train_threshold",
                            "yamnet_0.3") if k in rows[0]]:
        tp = sum(r[key]["tp"] for r in rows)
        fp = sum(r[key]["fp"] for r in rows)
        fn = sum(r[key]["fn"] for r in rows)
        f1 = spread([r[key]["f1"] for r in rows])
        summary[key] = {"f1_mean": f1["mean"], "f1_sd_over_folds": f1["sd_over_folds"],
                        "f1_fold_range": [f1["min"], f1["max"]],
                        "f1_pooled": 2 * tp / (2 * tp + fp + fn)}
    r = spread([r["cnn10_donateacry_recall"] for r in rows])
    summary["cnn10_donateacry_recall"] = {"mean": r["mean"], "sd_over_folds": r["sd_over_folds"],
                                          "fold_range": [r["min"], r["max"]]}
    if quantize and "tflite_bytes" in rows[-1]:
        summary["tflite_bytes"] = rows[-1]["tflite_bytes"]
        summary["window_latency_s"] = rows[-1]["window_latency_s"]
    return summary


def detection_cv(cd: ClipSet, da: ClipSet, *, width: float = 0.125, epochs: int = 20,
                 n_splits: int = 5, seed: int = 0, quantize: bool = True,
                 save_dir=None, log=print, donateacry_weight: str = "clip",
                 background_prob: float = 0.0) -> dict:
    """Grouped k-fold CV of the CNN10 detector against YAMNet zero-shot on the same folds.

    Per fold: train on the training groups of the detection set plus the Donateacry cries of
    the training UUID folds; test on the held-out detection groups (and report the recall on
    the held-out Donateacry UUIDs separately). With ``save_dir``, each fold's model is saved
    there as ``fold{k}/cry_detector.keras`` (with its card, listing its held-out files).
    """
    y, folds, da_folds = detection_folds(cd, da, n_splits=n_splits, seed=seed)
    yam = np.array([YamNet.cry_score(s) for s in cd.yamnet_scores])
    cats = np.array(cd.categories)
    rows = []
    for k, ((tr, te), (da_tr, da_te)) in enumerate(zip(folds, da_folds, strict=True)):
        t0 = time.time()
        clips = [cd.logmel[i] for i in tr] + [da.logmel[i] for i in da_tr]
        clips_bl = [cd.logmel_bl[i] for i in tr] + [da.logmel[i] for i in da_tr]
        ytr = np.concatenate([y[tr], np.ones(len(da_tr), int)])
        extra = np.concatenate([np.zeros(len(tr), bool), np.ones(len(da_tr), bool)])
        model = train_detector(clips, clips_bl, ytr, width=width, epochs=epochs, seed=seed + k,
                               is_extra=extra, donateacry_weight=donateacry_weight,
                               backgrounds=background_clips(cd, tr),
                               background_prob=background_prob)

        def pw(w, model=model):
            return model.predict(w, batch_size=128, verbose=0)

        if save_dir is not None:
            _save_fold_model(model, width, save_dir, k, [cd.paths[i] for i in te],
                             [da.paths[i] for i in da_te])
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
        }
        if quantize:
            qp = quantized_predictors(model, calibration_set(clips, seed=seed + k))
            row["tflite_bytes"] = qp.pop("sizes")
            row["window_latency_s"] = qp.pop("latency")
            for q, fn in qp.items():
                sq = clip_scores(fn, [cd.logmel[i] for i in te])
                row[f"cnn10_{q}"] = binary_f1(y[te], sq >= 0.5)
        row["seconds"] = round(time.time() - t0, 1)
        rows.append(row)
        log(f"fold {k}: CNN10 F1 {row['cnn10']['f1']:.3f}  YAMNet F1 "
            f"{row['yamnet_train_threshold']['f1']:.3f} (thr {thr_y})  "
            f"@0.3 {row['yamnet_0.3']['f1']:.3f}  DA recall "
            f"{row['cnn10_donateacry_recall']:.3f}  {row['seconds']} s")
    summary = detection_cv_summary(rows, quantize=quantize)
    return {"width": width, "epochs": epochs, "n_splits": n_splits, "seed": seed,
            "donateacry_weight": donateacry_weight, "background_prob": background_prob,
            "window_s": 2.0, "hop_s": 0.5, "folds": rows, "summary": summary,
            "n_clips": len(cd), "n_donateacry": len(da)}


# --------------------------------------------------------------------------- pooling study

#: InfantCryNet Table 4 (accuracy %, CNN14 pretrained, their split).
PAPER_TABLE4 = {"max": 62.64, "avg": 70.33, "maxavg": 71.42, "stat": 74.73, "mha": 72.53}


def embedding_head(pooling: str, *, n_classes: int, dim: int = 1024, hidden: int = 128,
                   heads: int = 4, seed: int = 0):
    """Trainable head on YAMNet frame embeddings: Dense(hidden) per frame → pooling → softmax."""
    import keras
    from keras import layers

    from ..models.pooling import make_pooling

    keras.utils.set_random_seed(seed)
    inp = keras.Input((None, dim), name="yamnet_frames")
    x = layers.Dropout(0.3)(inp)
    x = layers.Dense(hidden, activation="relu", name="frame_proj")(x)
    x = make_pooling(pooling, heads=heads)(x)
    x = layers.Dropout(0.3)(x)
    out = layers.Dense(n_classes, activation="softmax", name="output")(x)
    return keras.Model(inp, out, name=f"yamnet_{pooling}")


def _pad_stack(seqs: list) -> np.ndarray:
    """Equal-length stack by repeating each sequence cyclically (keeps pooling statistics
    close to the clip's own; Donateacry clips differ by at most a few frames)."""
    n = max(len(s) for s in seqs)
    return np.stack([np.resize(s, (n, s.shape[1])) for s in seqs]).astype(np.float32)


def pooling_study(da: ClipSet, *, poolings=("max", "avg", "maxavg", "stat", "mha"),
                  n_splits: int = 5, n_repeats: int = 3, epochs: int = 40, seed: int = 0,
                  n_boot: int = 2000, log=print) -> dict:
    """Reason classification on Donateacry (5 classes), YAMNet embeddings + pooling heads,
    grouped by app-install UUID, class-weighted loss.

    Each repeat is one grouped k-fold pass with its own split (seed ``seed + r``) and its own
    head seeds (``seed + 1000 r + fold``), so the repeats are the seeds. Every row is
    summarised by :func:`cryvideo.evaluation.summarize_pooled`: the metric on the pooled
    out-of-fold predictions of all repeats with a group-bootstrap interval over app installs,
    and the value of each repeat (mean and spread over seeds).
    """
    import keras

    from ..data import DONATEACRY_CLASSES
    from ..evaluation import classification_metrics, summarize_pooled

    labels = list(DONATEACRY_CLASSES)
    y = np.array([labels.index(lab) for lab in da.labels])
    groups = np.asarray(da.groups)
    x = _pad_stack(da.yamnet_emb)
    splits = list(grouped_splits(y, groups, n_splits=n_splits, n_repeats=n_repeats, seed=seed))
    of = (f"the pooled out-of-fold predictions of {n_repeats} repeat(s) of grouped "
          f"{n_splits}-fold CV")
    out = {"labels": labels, "n": len(y), "n_groups": len(set(da.groups)),
           "n_splits": n_splits, "n_repeats": n_repeats, "epochs": epochs,
           "frames": int(x.shape[1]), "seed": seed, "n_boot": n_boot, "rows": {}}
    te_all = np.concatenate([te for _, _, te in splits])
    rep_all = np.concatenate([np.full(len(te), r) for r, _, te in splits])

    def summ(pred):
        return summarize_pooled(y[te_all], pred, groups[te_all], rep_all,
                                labels=range(len(labels)), n_boot=n_boot, seed=seed,
                                unit="app installs", of=of)

    majority = np.concatenate([np.full(len(te), np.bincount(y[tr]).argmax())
                               for _, tr, te in splits])
    out["majority"] = summ(majority)
    fold_ids, count = [], {}
    for r, _, _ in splits:
        count[r] = count.get(r, -1) + 1
        fold_ids.append(count[r])
    for pool in poolings:
        preds = []
        t0 = time.time()
        for (r, tr, te), k in zip(splits, fold_ids, strict=True):
            model = embedding_head(pool, n_classes=len(labels), seed=seed + 1000 * r + k)
            model.compile(optimizer=keras.optimizers.Adam(1e-3),
                          loss="sparse_categorical_crossentropy")
            model.fit(x[tr], y[tr], sample_weight=class_weights(y[tr]), epochs=epochs,
                      batch_size=32, verbose=0)
            preds.append(model.predict(x[te], verbose=0).argmax(1))
        pred = np.concatenate(preds)
        row = summ(pred)
        row["recall"] = classification_metrics(y[te_all], pred, range(len(labels)))["recall"]
        row["seconds"] = round(time.time() - t0, 1)
        out["rows"][pool] = row
        b = row["balanced_accuracy"]
        log(f"pooling {pool}: bal acc {b['estimate']:.3f} [{b['low']:.3f}, {b['high']:.3f}] "
            f"per repeat {', '.join(f'{v:.3f}' for v in b['per_repeat'])} "
            f"({row['seconds']:.0f} s)")
    return out


# --------------------------------------------------------------------------- compression

#: InfantCryNet Table 5 (relative to the CNN14 teacher): size change %, accuracy change (pt).
PAPER_TABLE5 = {
    "teacher": {"size_change_pct": 0.0, "acc_change_pt": 0.0},
    "quantized": {"size_change_pct": -7.0, "acc_change_pt": 0.0},
    "kd_student": {"size_change_pct": -21.0, "acc_change_pt": -7.0},
    "kd_quantized": {"size_change_pct": -28.0, "acc_change_pt": -8.0},
}


def _teacher_logits(p: np.ndarray) -> np.ndarray:
    """Binary probabilities → 2-class logits ``[0, logit(p)]`` (softmax gives [1-p, p])."""
    p = np.clip(p.reshape(-1), 1e-6, 1 - 1e-6)
    return np.stack([np.zeros_like(p), np.log(p / (1 - p))], 1).astype(np.float32)


def train_student(arch: str, width: float, clips, clips_bl, y, *, teacher=None,
                  temperature: float = 4.0, alpha: float = 0.5, epochs: int = 20,
                  seed: int = 0, lr: float = 1e-3):
    """A 2-class logit student, trained on hard labels only (``teacher=None``) or with
    knowledge distillation from a sigmoid ``teacher`` (loss: :func:`.training.kd_loss`)."""
    import keras

    from ..training.panns import kd_loss, random_crops

    keras.utils.set_random_seed(seed)
    model = detector_model(width=width, arch=arch, n_classes=2, activation="linear")
    a = alpha if teacher is not None else 0.0
    model.compile(optimizer=keras.optimizers.Adam(lr),
                  loss=kd_loss(n_classes=2, temperature=temperature, alpha=a))
    rng = np.random.default_rng(seed)
    y = np.asarray(y)
    onehot = np.eye(2, dtype=np.float32)[y]
    sw = class_weights(y)
    for _ in range(epochs):
        pick = rng.random(len(clips)) < 0.5
        x = random_crops([b if p else c for c, b, p in zip(clips, clips_bl, pick, strict=True)],
                         WINDOW_FRAMES, rng)
        t = (_teacher_logits(teacher.predict(x, batch_size=128, verbose=0))
             if teacher is not None else np.zeros_like(onehot))
        model.fit(x, np.concatenate([onehot, t], 1), sample_weight=sw, batch_size=32,
                  epochs=1, verbose=0)
    return model


def _softmax_col1(model):
    def fn(w):
        z = np.asarray(model.predict(w, batch_size=128, verbose=0))
        z = np.exp(z - z.max(1, keepdims=True))
        return (z / z.sum(1, keepdims=True))[:, 1]
    return fn


def _clipset_fingerprint(cd: ClipSet, da: ClipSet) -> dict:
    """What the compression folds were computed on: clip counts and a hash of the paths
    and labels (a checkpoint of other data is not resumed)."""
    import hashlib

    h = hashlib.sha256()
    for cs in (cd, da):
        for path, lab, grp in zip(cs.paths, cs.labels, cs.groups, strict=True):
            h.update(f"{Path(path).name}\t{lab}\t{grp}\n".encode())
    return {"n_clips": len(cd), "n_extra": len(da), "sha256": h.hexdigest()}


def read_compression_checkpoint(path) -> dict | None:
    """A compression checkpoint's contents (``settings``, ``folds``), or None when there is
    no file yet. A folder, or a file that is not such a checkpoint (it would be overwritten),
    raises :class:`~cryvideo.errors.ParameterError`."""
    import json

    from ..errors import ParameterError

    path = Path(path)
    if path.is_dir():
        raise ParameterError("the compression checkpoint is a folder: give a .json file",
                             path=path)
    if not path.exists():
        return None
    try:
        saved = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        saved = None
    if not (isinstance(saved, dict) and {"settings", "folds"} <= saved.keys()):
        raise ParameterError("not a compression checkpoint (it would be overwritten): give "
                             "another --compression-checkpoint", path=path)
    return saved


def _load_checkpoint(path, settings: dict, *, log=print) -> dict:
    """The finished folds ``{"seed/fold": {...}}`` of a compression checkpoint (empty when
    there is none); a checkpoint written with other settings raises ParameterError."""
    import json

    from ..errors import ParameterError

    saved = None if path is None else read_compression_checkpoint(path)
    if saved is None:
        return {}
    if saved["settings"] != json.loads(json.dumps(settings)):
        raise ParameterError("compression checkpoint holds a run with other settings or data: "
                             "move it away or give another --compression-checkpoint",
                             path=path)
    folds = saved["folds"]
    if folds:
        log(f"compression: resuming, {len(folds)} finished fold(s) read from {path}")
    return folds


def _save_checkpoint(path, settings: dict, folds: dict) -> None:
    from ..io import write_json_atomic

    write_json_atomic(path, {"what": "finished folds of cryvideo.studies.panns."
                             "compression_study (clip scores of every model, threshold 0.5)",
                             "settings": settings, "folds": folds}, indent=None)


def _called_cry_by_category(pred: np.ndarray, cats: np.ndarray, w: np.ndarray) -> dict:
    """Share of each category's test clips called crying (pooled over seeds): per clip and
    per recording (each clip weighted 1 / clips of its recording)."""
    out = {}
    for c in sorted(set(cats.tolist())):
        m = cats == c
        out[str(c)] = {"clips": int(m.sum()), "called_cry": int(pred[m].sum()),
                       "rate": float(pred[m].mean()),
                       "rate_per_recording": float(np.sum(w[m] * pred[m]) / np.sum(w[m]))}
    return out


def compression_study(cd: ClipSet, da: ClipSet, *, teacher=("cnn14", 0.125),
                      students=(("resnet22", 0.0625), ("cnn10", 0.125)),
                      temperature: float = 4.0, alpha: float = 0.5, epochs: int = 20,
                      n_splits: int = 5, folds: int | None = None, n_seeds: int = 3,
                      seed: int = 0, n_boot: int = 2000, quantize: bool = True,
                      checkpoint=None, log=print) -> dict:
    """Teacher, students with and without distillation, and their TFLite quantized copies,
    evaluated on the grouped detection folds (threshold 0.5).

    Seed ``s`` (``0 .. n_seeds - 1``) is one grouped k-fold pass with its own split (seed
    ``seed + s``) and its own training seeds; its first ``folds`` folds (default: all, so every
    clip of the detection set is tested once per seed) are run. Each row is summarised by
    :func:`cryvideo.evaluation.summarize_pooled` over the pooled test predictions of all seeds:
    clip-level F1, balanced accuracy, recall and false-positive rate, and F1 with every source
    recording weighted equally (``f1_group_weighted``), each with a group-bootstrap interval
    over source recordings, plus the value of each seed. ``quantize=False`` skips the TFLite
    copies (and their sizes and latencies).

    ``checkpoint`` (a JSON path, optional) keeps every finished fold: its test clips, each
    model's clip scores, sizes and latencies, written atomically after the fold. A run
    interrupted (Ctrl-C, a crash) and started again with the same settings and data resumes
    after the last finished fold; a checkpoint of other settings is refused, not mixed in.
    """
    from ..evaluation import summarize_pooled

    preds: dict = {}
    sizes: dict = {}
    lat: dict = {}
    params: dict = {}
    tested = []  # (seed, test positions)
    tname = f"{teacher[0]}_w{teacher[1]:g}"
    settings = {"teacher": list(teacher), "students": [list(s) for s in students],
                "temperature": temperature, "alpha": alpha, "epochs": epochs,
                "n_splits": n_splits, "seed": seed, "quantize": quantize,
                "data": _clipset_fingerprint(cd, da)}
    done = _load_checkpoint(checkpoint, settings, log=log)
    for s in range(n_seeds):
        y, splits, da_folds = detection_folds(cd, da, n_splits=n_splits, seed=seed + s)
        splits = splits[:folds] if folds else splits
        for k, ((tr, te), (da_tr, _)) in enumerate(zip(splits, da_folds, strict=False)):
            tested.append((s, te))
            fold = done.get(f"{s}/{k}")
            if fold is not None and fold["test"] == te.tolist():
                for name, sc in fold["scores"].items():
                    preds.setdefault(name, []).append(np.asarray(sc) >= 0.5)
                sizes.update(fold["tflite_bytes"])
                lat.update(fold["window_latency_s"])
                params.update(fold["params"])
                continue
            t0 = time.time()
            train_seed = seed + 1000 * s + k
            clips = [cd.logmel[i] for i in tr] + [da.logmel[i] for i in da_tr]
            clips_bl = [cd.logmel_bl[i] for i in tr] + [da.logmel[i] for i in da_tr]
            ytr = np.concatenate([y[tr], np.ones(len(da_tr), int)])
            test = [cd.logmel[i] for i in te]
            calib = calibration_set(clips, n=100, seed=train_seed)
            fold_scores: dict = {}

            def record(name, fn, test=test, fold_scores=fold_scores):
                sc = clip_scores(fn, test)
                fold_scores[name] = [round(float(v), 5) for v in sc]
                preds.setdefault(name, []).append(sc >= 0.5)

            tm = train_detector(clips, clips_bl, ytr, width=teacher[1], epochs=epochs,
                                seed=train_seed, arch=teacher[0])
            params[tname] = int(tm.count_params())
            record(tname, lambda w, tm=tm: tm.predict(w, batch_size=128, verbose=0)[:, 0])
            qp = quantized_predictors(tm, calib) if quantize else {"sizes": {}, "latency": {}}
            sizes[tname] = qp.pop("sizes")
            lat[tname] = qp.pop("latency")
            for q, fn in qp.items():
                record(f"{tname}+{q}", fn)
            for arch, width in students:
                sname = f"{arch}_w{width:g}"
                for kd in (False, True):
                    name = sname + ("+kd" if kd else "")
                    sm = train_student(arch, width, clips, clips_bl, ytr,
                                       teacher=tm if kd else None, temperature=temperature,
                                       alpha=alpha, epochs=epochs, seed=train_seed)
                    params[sname] = int(sm.count_params())
                    record(name, _softmax_col1(sm))
                    qp = (quantized_predictors(sm, calib, column=1, softmax=True) if quantize
                          else {"sizes": {}, "latency": {}})
                    sizes[sname] = qp.pop("sizes")
                    lat[sname] = qp.pop("latency")
                    for q, fn in qp.items():
                        record(f"{name}+{q}", fn)
            n_cry = int(y[te].sum())
            log(f"compression seed {s} fold {k} ({len(te)} test clips, {n_cry} cries): "
                + "  ".join(f"{n} {np.mean(v[-1][y[te] == 1]):.2f}/"
                            f"{np.mean(v[-1][y[te] == 0]):.2f}" for n, v in preds.items())
                + f"  ({time.time() - t0:.0f} s)")
            if checkpoint is not None:
                done[f"{s}/{k}"] = {"test": te.tolist(), "scores": fold_scores,
                                    "tflite_bytes": dict(sizes),
                                    "window_latency_s": dict(lat), "params": dict(params),
                                    "seconds": round(time.time() - t0, 1)}
                _save_checkpoint(checkpoint, settings, done)
    y = np.array([lab == "cry" for lab in cd.labels], int)
    groups = np.asarray(cd.groups)
    te_all = np.concatenate([te for _, te in tested])
    rep_all = np.concatenate([np.full(len(te), s) for s, te in tested])
    _, inv, cnt = np.unique(groups, return_inverse=True, return_counts=True)
    w_group = 1.0 / cnt[inv]
    of = (f"the pooled test predictions of {n_seeds} seed(s) x "
          f"{len(tested) // max(n_seeds, 1)} grouped fold(s)")
    table = {}
    for name, parts in preds.items():
        pred = np.concatenate(parts).astype(int)
        kw = dict(n_boot=n_boot, seed=seed, unit="source recordings", of=of, labels=(0, 1))
        row = summarize_pooled(y[te_all], pred, groups[te_all], rep_all,
                               metrics=("f1", "balanced_accuracy", "recall",
                                        "false_positive_rate"), **kw)
        row["f1_group_weighted"] = summarize_pooled(
            y[te_all], pred, groups[te_all], rep_all, metrics=("f1",),
            weights=w_group[te_all], **kw)["f1"]
        row["called_cry_by_category"] = _called_cry_by_category(
            pred, np.asarray(cd.categories)[te_all], w_group[te_all])
        table[name] = row
    for row in table.values():  # F1 change against the teacher, seed by seed
        d = np.subtract(row["f1"]["per_repeat"], table[tname]["f1"]["per_repeat"])
        row["delta_f1_vs_teacher"] = {"per_repeat": [float(v) for v in d],
                                      "mean": float(d.mean()),
                                      "sd": float(d.std(ddof=1)) if d.size > 1 else 0.0}
    cats = np.array(cd.categories)
    data = {"set": "cry_detection (../shared/data/cry_detection)", "n_clips": len(cd),
            "categories": {str(c): {"clips": int(np.sum(cats == c)),
                                    "recordings": int(len(set(groups[cats == c])))}
                           for c in sorted(set(cats))},
            "n_recordings": int(len(set(groups))),
            "training_extra": f"{len(da)} Donateacry cries (training folds only)",
            "not_used": "vocal_negatives"}
    return {"teacher": list(teacher), "students": [list(s) for s in students],
            "temperature": temperature, "alpha": alpha, "epochs": epochs,
            "folds": len(tested) // max(n_seeds, 1), "n_splits": n_splits, "n_seeds": n_seeds,
            "seed": seed, "n_boot": n_boot, "data": data, "rows": table,
            "tflite_bytes": sizes, "window_latency_s": lat, "params": params}


# --------------------------------------------------------------------------- YAMNet + head

#: YAMNet classes 0-23: speech, babbling, shouting, screaming, laughter (13-18), crying (19-20),
#: whimper, wail, sigh — the human vocal sounds a cry detector must tell apart.
VOCAL_CLASSES = tuple(range(24))
#: The head variants :func:`yamnet_head_cv` sweeps: (features, Donateacry positives?, C).
YAMNET_HEAD_VARIANTS = tuple((f, d, c) for f in ("embedding", "vocal-scores")
                             for d in (False, True) for c in (0.01, 1.0))


def yamnet_head_features(cs: ClipSet, kind: str) -> np.ndarray:
    """Clip features for a head on YAMNet: ``"embedding"`` = [max; mean] over windows of the
    1024-d embeddings (2048); ``"vocal-scores"`` = [max; mean] of the logits of the 24 vocal
    class scores (48)."""
    if kind == "embedding":
        return np.stack([np.concatenate([e.max(0), e.mean(0)]) for e in cs.yamnet_emb])
    if kind == "vocal-scores":
        def logit(p):
            p = np.clip(p, 1e-4, 1 - 1e-4)
            return np.log(p / (1 - p))
        return np.stack([np.concatenate([logit(s[:, VOCAL_CLASSES].max(0)),
                                         logit(s[:, VOCAL_CLASSES].mean(0))])
                         for s in cs.yamnet_scores])
    raise ValueError(kind)


def yamnet_head_cv(cd: ClipSet, da: ClipSet, *, n_splits: int = 5, seed: int = 0,
                   variants=YAMNET_HEAD_VARIANTS) -> dict:
    """Cry detection with the pretrained YAMNet backbone and a trainable head: class-balanced
    logistic regression on clip features (:func:`yamnet_head_features`), on the same grouped
    folds as :func:`detection_cv`, threshold 0.5, with or without the Donateacry cries as extra
    positives. Every variant is reported (a sweep, not a selection: picking the best row
    afterwards would be tuning on the test folds), with YAMNet zero-shot on the same folds."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    y, folds, da_folds = detection_folds(cd, da, n_splits=n_splits, seed=seed)
    cats = np.array(cd.categories)
    yam = np.array([YamNet.cry_score(s) for s in cd.yamnet_scores])
    feats = {k: (yamnet_head_features(cd, k), yamnet_head_features(da, k))
             for k in {v[0] for v in variants}}

    def pooled(per_fold):
        tp, fp, fn = (sum(m[k] for m in per_fold) for k in ("tp", "fp", "fn"))
        m, lo, hi = mean_ci([m["f1"] for m in per_fold], bounds=(0.0, 1.0))
        return {"f1_pooled": 2 * tp / (2 * tp + fp + fn), "f1_mean": m, "f1_ci95": [lo, hi],
                "f1_folds": [m["f1"] for m in per_fold]}

    rows = []
    for kind, use_da, C in variants:
        x, xd = feats[kind]
        per_fold, da_rec, called = [], [], {}
        for (tr, te), (da_tr, da_te) in zip(folds, da_folds, strict=True):
            clf = make_pipeline(StandardScaler(), LogisticRegression(
                C=C, class_weight="balanced", max_iter=3000))
            xs, ys = [x[tr]], [y[tr]]
            if use_da:
                xs.append(xd[da_tr])
                ys.append(np.ones(len(da_tr), int))
            clf.fit(np.concatenate(xs), np.concatenate(ys))
            pred = clf.predict_proba(x[te])[:, 1] >= 0.5
            per_fold.append(binary_f1(y[te], pred))
            da_rec.append(float(np.mean(clf.predict(xd[da_te]) == 1)))
            for c in set(cats[te]):
                called[str(c)] = called.get(str(c), 0) + int(np.sum(pred & (cats[te] == c)))
        rows.append({"features": kind, "donateacry_positives": bool(use_da), "C": C,
                     **pooled(per_fold), "donateacry_recall": float(np.mean(da_rec)),
                     "called_crying_by_category": called})
    zs = []
    for tr, te in folds:
        zs.append(binary_f1(y[te], yam[te] >= _best_threshold(yam[tr], y[tr])))
    return {"rows": rows, "n_splits": n_splits, "seed": seed,
            "category_counts": {str(c): int(np.sum(cats == c)) for c in sorted(set(cats))},
            "yamnet_zero_shot": pooled(zs)}
