"""The PANNs studies behind ``cryvideo benchmark panns``: the pooling study (reason heads on
YAMNet embeddings) and the compression study (distillation and quantization of log-mel
detectors). The detector's recipe itself is :mod:`cryvideo.training.cnn10_detector`; the
grouped CV of every cry detector, per recording, is :mod:`cryvideo.studies.detection_cv`.

All evaluations use folds grouped by source recording (cry detection: the manifest's ``group``;
Donateacry: the app-install UUID). Nothing is tuned on a test fold: the detectors' threshold
is fixed at 0.5.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..evaluation import grouped_splits
from ..training.clipsets import ClipSet
from ..training.cnn10_detector import (
    WINDOW_FRAMES,
    calibration_set,
    clip_scores,
    detector_model,
    train_detector,
)
from ..training.panns import class_weights

__all__ = ["detection_folds", "pooling_study", "compression_study",
           "read_compression_checkpoint", "PAPER_TABLE4", "PAPER_TABLE5"]


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


# --------------------------------------------------------------------------- pooling study

#: InfantCryNet Table 4 (accuracy %, CNN14 pretrained, their split).
PAPER_TABLE4 = {"max": 62.64, "avg": 70.33, "maxavg": 71.42, "stat": 74.73, "mha": 72.53}


def embedding_head(pooling: str, *, n_classes: int, dim: int = 1024, hidden: int = 128,
                   heads: int = 4, seed: int = 0):
    """Trainable head on YAMNet frame embeddings: Dense(hidden) per frame → pooling → softmax."""
    import keras
    from keras import layers

    from ..models.pooling_layers import make_pooling

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
