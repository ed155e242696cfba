"""Training the whole video pipeline on labelled videos: face head, audio branches, fusion.

``train_video_pipeline(VideoTrainingSettings(video_dir, labels_csv, ...))``

1. reads ``labels.csv`` (a file column — ``file``, ``path`` or ``video`` — relative to the video
   folder, a ``label`` column, and an optional group column);
2. per video, once (cached on disk): face detection + crops + frozen backbone features
   (:func:`cryvideo.vision.embeddings.embed_video`), and the audio waveform's MFCC/STFT
   summaries (or the default audio branches' probabilities);
3. evaluates with grouped K-fold splits (no group on both sides): per fold, trains the face head
   on the training videos' face frames, the audio branches and the concatenate fusion on the
   training videos, and predicts the held-out videos (per-video face probabilities are the mean
   of its frame predictions); reports accuracy, balanced accuracy, macro-F1 and the majority
   baseline for the face branch, each audio branch and the fusion;
4. trains the final models on all videos and saves them with their cards.
"""

from __future__ import annotations

import csv
import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..audio.features import FeatureParams
from ..errors import DatasetError
from ..evaluation import classification_metrics, grouped_splits, majority_baseline
from .settings import AUDIO_KINDS, VideoTrainingSettings

__all__ = ["VideoItem", "read_video_labels", "train_video_pipeline", "AUDIO_KINDS",
           "VideoTrainingSettings"]

FILE_COLUMNS = ("file", "path", "video", "filename")


@dataclasses.dataclass(frozen=True)
class VideoItem:
    """One labelled video."""

    path: str
    label: str
    group: str


def read_video_labels(video_dir: str | os.PathLike, labels_csv: str | os.PathLike, *,
                      label_column: str = "label",
                      group_column: str | None = None) -> list[VideoItem]:
    """Read the labels file.

    Parameters
    ----------
    video_dir : path
        Folder the file names are relative to.
    labels_csv : path
        CSV with a header: a file column (``file``, ``path``, ``video`` or ``filename``),
        ``label_column`` and optionally ``group_column`` (else every video is its own group).

    Raises
    ------
    DatasetError
        Missing file or columns, videos that do not exist, fewer than 2 classes.
    """
    video_dir = Path(video_dir)
    labels_csv = Path(labels_csv)
    if not video_dir.is_dir():
        raise DatasetError("video folder not found", path=video_dir)
    if not labels_csv.is_file():
        raise DatasetError("labels file not found", path=labels_csv)
    with open(labels_csv, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        cols = reader.fieldnames or []
        fcol = next((c for c in FILE_COLUMNS if c in cols), None)
        if fcol is None:
            raise DatasetError(f"no file column (one of {', '.join(FILE_COLUMNS)}) in header "
                               f"{cols}", path=labels_csv)
        if label_column not in cols:
            raise DatasetError(f"no {label_column!r} column in header {cols}", path=labels_csv)
        if group_column and group_column not in cols:
            raise DatasetError(f"no group column {group_column!r} in header {cols}",
                               path=labels_csv)
        items = []
        for row in reader:
            p = Path(row[fcol])
            p = p if p.is_absolute() else video_dir / p
            if not p.is_file():
                raise DatasetError(f"video listed in {labels_csv.name} not found", path=p)
            items.append(VideoItem(str(p), str(row[label_column]).strip(),
                                   str(row[group_column]) if group_column else str(p)))
    if len({it.label for it in items}) < 2:
        raise DatasetError("need at least two classes to train", path=labels_csv)
    return items


@dataclasses.dataclass
class _VideoData:
    faces: list  # VideoFaces per video
    audio: dict  # kind → (n, d) summaries, NaN rows where no audio
    has_audio: np.ndarray
    default_probs: dict  # branch name → (n, k) probabilities (default branches), NaN rows


def _collect(items: Sequence[VideoItem], backbone, *, fps: float, params: FeatureParams,
             audio_mode: str, default_branches, progress: bool) -> _VideoData:
    from ..media import load_audio, probe
    from ..models.audio_summary import summary_features
    from ..progress import progress_bar
    from ..vision.embeddings import embed_video

    faces, feats, has_audio = [], {k: [] for k in AUDIO_KINDS}, []
    dprobs = {b.name: [] for b in default_branches}
    for it in progress_bar(items, desc="videos", unit="video",
                           disable=None if progress else True):
        info = probe(it.path)
        faces.append(embed_video(it.path, backbone, fps=fps, info=info))
        has_audio.append(bool(info.has_audio))
        y = load_audio(it.path, sr=params.sr, info=info) if info.has_audio else None
        if audio_mode == "train":
            for k in AUDIO_KINDS:
                feats[k].append(summary_features(y, params, k) if y is not None else None)
        for b in default_branches:
            if y is None:
                dprobs[b.name].append(None)
            else:
                yb = y if b.sr == params.sr else load_audio(it.path, sr=b.sr, info=info)
                dprobs[b.name].append(np.asarray(b.predict_proba(yb), np.float32))

    def stack(rows):
        d = next((len(r) for r in rows if r is not None), 0)
        return np.stack([np.full(d, np.nan, np.float32) if r is None else r for r in rows]) \
            if rows else np.zeros((0, d), np.float32)

    return _VideoData(faces=faces, audio={k: stack(v) for k, v in feats.items() if v},
                      has_audio=np.asarray(has_audio, bool),
                      default_probs={k: stack(v) for k, v in dprobs.items()})


def _frames(faces, idx, y):
    xs, ys, ws = [], [], []
    for i in idx:
        f = faces[i]
        if f.n_faces:
            xs.append(np.asarray(f.features, np.float32))
            ys.append(np.full(f.n_faces, y[i]))
            ws.append(np.full(f.n_faces, 1.0 / f.n_faces))
    if not xs:
        return None, None, None
    w = np.concatenate(ws)
    return np.concatenate(xs), np.concatenate(ys), w * len(w) / w.sum()


def _face_video_probs(head, faces, idx, n_classes):
    """(len(idx), k) per-video mean of frame probabilities; present mask (one head call)."""
    out = np.zeros((len(idx), n_classes), np.float32)
    present = np.zeros(len(idx), bool)
    chunks = [(j, np.asarray(faces[i].features, np.float32)) for j, i in enumerate(idx)
              if faces[i].n_faces]
    if not chunks:
        return out, present
    from ..models.fitting import predict_batches

    p = predict_batches(head, np.concatenate([c for _, c in chunks]))
    s = 0
    for j, c in chunks:
        out[j] = p[s : s + len(c)].mean(axis=0)
        present[j] = True
        s += len(c)
    return out, present


class _Fitted:
    """Branch models of one training run (a fold, or the final one)."""

    def __init__(self):
        self.face = None
        self.audio = {}


def _fit_branches(data: _VideoData, tr, y, n_classes, *, audio_mode, epochs_face, epochs_audio,
                  hidden, seed) -> _Fitted:
    from ..models.audio_summary import build_summary_model
    from ..models.face_head import train_face_head
    from ..models.fitting import fit_fast

    fit = _Fitted()
    x, yy, w = _frames(data.faces, tr, y)
    if x is not None and len(np.unique(yy)) >= 2:
        fit.face = train_face_head(x, yy, n_classes, epochs=epochs_face, hidden=hidden,
                                   seed=seed, sample_weight=w)
    if audio_mode == "train":
        import keras

        tr_a = np.asarray([i for i in tr if data.has_audio[i]], int)
        if len(tr_a) >= 4 and len(np.unique(y[tr_a])) >= 2:
            for k in AUDIO_KINDS:
                keras.utils.set_random_seed(seed)
                m = build_summary_model(data.audio[k][tr_a], n_classes)
                fit_fast(m, data.audio[k][tr_a], y[tr_a], epochs=epochs_audio,
                         batch_size=min(32, len(tr_a)), seed=seed)
                fit.audio[k] = m
    return fit


def _branch_outputs(fit: _Fitted, data: _VideoData, idx, n_classes, audio_mode):
    """Branch names, probability arrays (len(idx), k_b), present mask (len(idx), n_b)."""
    names, probs, present = [], [], []
    if fit.face is not None:
        p, pres = _face_video_probs(fit.face, data.faces, idx, n_classes)
    else:
        p, pres = np.zeros((len(idx), n_classes), np.float32), np.zeros(len(idx), bool)
    names.append("face")
    probs.append(p)
    present.append(pres)
    if audio_mode == "train":
        for k in AUDIO_KINDS:
            pres = data.has_audio[idx] & (k in fit.audio)
            p = np.zeros((len(idx), n_classes), np.float32)
            if k in fit.audio and pres.any():
                from ..models.fitting import predict_batches

                p[pres] = predict_batches(fit.audio[k], data.audio[k][idx][pres])
            names.append(k)
            probs.append(p)
            present.append(pres)
    else:
        for name, arr in data.default_probs.items():
            pres = data.has_audio[idx].copy()
            p = np.nan_to_num(arr[idx]).astype(np.float32)
            names.append(name)
            probs.append(p)
            present.append(pres)
    return names, probs, np.stack(present, axis=1)


def _metrics(y_true, y_pred, labels, y_train):
    m = classification_metrics(y_true, y_pred, labels)
    m["majority_baseline"] = {k: v for k, v in majority_baseline(y_train, y_true, labels).items()
                              if k in ("accuracy", "balanced_accuracy", "macro_f1")}
    return m


def train_video_pipeline(settings: VideoTrainingSettings, *, save: bool | None = None,
                         progress: bool = True) -> dict:
    """Train and evaluate the face head, the audio branches and the fusion on labelled videos.

    Parameters
    ----------
    settings : VideoTrainingSettings
        The videos and their labels, where the models go, and the training options.
    save : bool, optional
        Train the final models on all videos and save them (default: ``settings.saves``, so
        not for a shuffled-label control).
    progress : bool
        Progress bars on stderr.

    Returns
    -------
    dict
        The training report (also written to ``out_dir/training_report.json`` when saved).

    Examples
    --------
    >>> from cryvideo.training.settings import VideoTrainingSettings
    >>> from cryvideo.training.video import train_video_pipeline
    >>> rep = train_video_pipeline(VideoTrainingSettings(
    ...     "videos/", "videos/labels.csv", backbone="mobilenet", out_dir="m/"))  # doctest: +SKIP
    >>> rep["metrics"]["fusion"]["balanced_accuracy"]                            # doctest: +SKIP
    0.61
    """
    from ..pipeline.predict import DEFAULT_ANALYSIS_FPS
    from ..progress import progress_bar
    from ..vision.backbones import build_backbone

    st = settings
    save = st.saves if save is None else save
    fps = DEFAULT_ANALYSIS_FPS if st.fps is None else st.fps
    audio, seed, epochs_fusion = st.audio, st.seed, st.epochs_fusion
    items = read_video_labels(st.video_dir, st.labels_csv, label_column=st.label_column,
                              group_column=st.group_column)
    labels = sorted({it.label for it in items})
    y = np.asarray([labels.index(it.label) for it in items])
    if st.shuffle_labels:
        y = np.random.default_rng(seed).permutation(y)
    groups = np.asarray([it.group for it in items])
    n_classes = len(labels)
    params = FeatureParams(duration=None)
    bb = build_backbone(st.backbone, weights=st.weights, seed=seed)
    default_branches = []
    if audio == "default":
        from ..models.branches import default_audio_branches

        default_branches = default_audio_branches()
    data = _collect(items, bb, fps=fps, params=params, audio_mode=audio,
                    default_branches=default_branches, progress=progress)

    from ..models.fusion import train_fusion

    kw = dict(audio_mode=audio, epochs_face=st.epochs_face, epochs_audio=st.epochs_audio,
              hidden=st.hidden, seed=seed)
    folds = list(grouped_splits(y, groups, n_splits=st.n_splits, seed=seed))
    # Level 1: out-of-fold branch outputs (each video predicted by branches that never saw it).
    names, oof_p, oof_pres = None, None, None
    for _, tr, te in progress_bar(folds, desc="branch folds", unit="fold",
                                  disable=None if progress else True):
        fit = _fit_branches(data, tr, y, n_classes, **kw)
        names, p_te, pres_te = _branch_outputs(fit, data, te, n_classes, audio)
        if oof_p is None:
            oof_p = [np.zeros((len(y), p.shape[1]), np.float32) for p in p_te]
            oof_pres = np.zeros((len(y), len(names)), bool)
        for i, p in enumerate(p_te):
            oof_p[i][te] = p
        oof_pres[te] = pres_te
    oof = {name: np.where(oof_pres[:, i], oof_p[i].argmax(axis=1), -1)
           for i, name in enumerate(names)}
    # Level 2: the fusion is trained on out-of-fold branch outputs (stacking), never on the
    # branches' over-confident outputs for their own training videos, and evaluated on the
    # same grouped folds.
    oof_fusion = np.full(len(y), -1)
    for _, tr, te in folds:
        ok_tr = oof_pres[tr].any(axis=1)
        if ok_tr.sum() < 2 or len(np.unique(y[tr][ok_tr])) < 2:
            continue
        fus = train_fusion([p[tr][ok_tr] for p in oof_p], oof_pres[tr][ok_tr], y[tr][ok_tr],
                           n_classes, branch_names=names, epochs=epochs_fusion, seed=seed)
        ok_te = oof_pres[te].any(axis=1)
        xs = [np.where(oof_pres[te][:, i : i + 1], p[te], 0.0).astype(np.float32)
              for i, p in enumerate(oof_p)]
        pf = np.asarray(fus(xs, training=False))
        oof_fusion[te[ok_te]] = pf[ok_te].argmax(axis=1)

    def evaluate(pred):
        ok = pred >= 0
        if not ok.any():
            return {"n": 0, "note": "branch never ran"}
        m = _metrics(np.asarray(labels)[y[ok]], np.asarray(labels)[pred[ok]], labels,
                     np.asarray(labels)[y])
        m["coverage"] = round(float(ok.mean()), 4)
        return m

    metrics = {name: evaluate(p) for name, p in oof.items()}
    metrics["fusion"] = evaluate(oof_fusion)
    report = {
        "videos": len(items),
        "labels": labels,
        "class_counts": {lab: int((y == i).sum()) for i, lab in enumerate(labels)},
        "groups": int(len(np.unique(groups))),
        "group_column": st.group_column,
        "shuffled_labels": bool(st.shuffle_labels),
        "protocol": f"StratifiedGroupKFold, {len(folds)} folds, seed {seed}; per-video "
                    "out-of-fold predictions; the fusion is trained on out-of-fold branch "
                    "outputs (stacking) and evaluated on the same folds",
        "backbone": bb.describe(),
        "fps": fps,
        "face_share": round(float(np.mean([f.face_share for f in data.faces])), 4),
        "audio": audio,
        "metrics": metrics,
    }
    if save:
        report["models"] = _train_final(data, y, labels, groups, bb, st.out_dir, report,
                                        params=params, fps=fps, window=st.window,
                                        epochs_fusion=epochs_fusion, items=items,
                                        default_branches=default_branches,
                                        oof=(names, oof_p, oof_pres), **kw)
        from ..io import write_json_atomic

        write_json_atomic(Path(st.out_dir) / "training_report.json", report)
    return report


def _data_hash(items) -> str:
    import hashlib

    from ..io import file_sha256

    h = hashlib.sha256()
    for it in items:
        h.update(f"{file_sha256(it.path)}:{it.label}:{it.group}\n".encode())
    return h.hexdigest()


def _train_final(data, y, labels, groups, bb, out_dir, report, *, params, fps, window,
                 epochs_fusion, items, default_branches, oof, audio_mode, epochs_face, epochs_audio,
                 hidden, seed) -> dict:
    from ..models.audio_summary import audio_file
    from ..models.cards import ModelCard, save_model_with_card
    from ..models.face_head import FACE_HEAD_FILE
    from ..models.fusion import FUSION_FILE, train_fusion

    out_dir = Path(out_dir)
    n_classes = len(labels)
    fit = _fit_branches(data, np.arange(len(y)), y, n_classes, audio_mode=audio_mode,
                        epochs_face=epochs_face, epochs_audio=epochs_audio, hidden=hidden,
                        seed=seed)
    training = {"data": "labelled videos", "n_videos": len(items),
                "data_sha256": _data_hash(items), "groups": int(len(np.unique(groups))),
                "shuffled_labels": report["shuffled_labels"], "seed": seed}
    saved = {}
    if fit.face is None:
        raise DatasetError("no face was found in the videos of at least two classes: cannot "
                           "train the face head")
    card = ModelCard(
        name="face_head", kind="reason-classifier (face frames)", labels=labels,
        inputs={"backbone": bb.describe(), "fps": fps, "window": window, "crop": 224,
                "features": "backbone feature map (7, 7, C)"},
        training={**training, "epochs": epochs_face, "frames": int(sum(f.n_faces
                                                                        for f in data.faces))},
        metrics={"grouped_cv": report["metrics"].get("face")},
    )
    save_model_with_card(fit.face, out_dir / FACE_HEAD_FILE, card)
    saved["face"] = FACE_HEAD_FILE
    branch_spec = [{"name": "face", "source": "file", "file": FACE_HEAD_FILE,
                    "labels": labels}]
    for k, m in fit.audio.items():
        c = ModelCard(name=f"video_audio_{k}", kind="reason-classifier (audio summary)",
                      labels=labels,
                      inputs={"branch": k, "kind": k, "params": params.to_dict(),
                              "features": f"{k} mean+std over time"},
                      training={**training, "epochs": epochs_audio},
                      metrics={"grouped_cv": report["metrics"].get(k)})
        save_model_with_card(m, out_dir / audio_file(k), c)
        saved[k] = audio_file(k)
        branch_spec.append({"name": k, "source": "file", "file": audio_file(k), "labels": labels})
    for b in default_branches:
        branch_spec.append({"name": b.name, "source": "default", "file": str(b.source),
                            "labels": list(b.labels), "trained": bool(b.trained)})
    names, p_all, pres = oof  # stacking: the fusion learns from out-of-fold branch outputs
    if [s["name"] for s in branch_spec] != names:
        raise AssertionError(f"branch order mismatch {names}")
    ok = pres.any(axis=1)
    fus = train_fusion([p[ok] for p in p_all], pres[ok], y[ok], n_classes, branch_names=names,
                       epochs=epochs_fusion, seed=seed)
    c = ModelCard(name="fusion", kind="reason-classifier (concatenate fusion)", labels=labels,
                  inputs={"branches": branch_spec,
                          "missing_branch": "zero vector (trained with branch drop-out)"},
                  training={**training, "epochs": epochs_fusion},
                  metrics={"grouped_cv": report["metrics"].get("fusion"),
                           "branches": {k: v for k, v in report["metrics"].items()
                                        if k != "fusion"}})
    save_model_with_card(fus, out_dir / FUSION_FILE, c)
    saved["fusion"] = FUSION_FILE
    return saved
