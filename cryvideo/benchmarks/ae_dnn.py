"""Evaluate the AE+DNN audio branches on Donateacry under the paper's and the grouped protocol.

Typical use::

    items = load_donateacry(root)
    data = build_dataset(items, background_dir=not_cry_dir)   # features + augmented copies
    folds = evaluate_ae_dnn(data, kind="mfcc", protocol="grouped")

Augmented copies (noise, pitch ±2 st, stretch ±10 %, not-cry backgrounds) are made once per
clip and cached; in each fold only the copies of *training* clips are used, and test clips are
always the original recordings.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..audio import FeatureParams
from ..audio.augment import random_augment
from ..audio.cache import FeatureCache, default_cache_dir, file_sha256
from ..audio.features import features_from_waveform
from ..errors import ParameterError
from ..evaluation import (
    classification_metrics,
    grouped_splits,
    leakage,
    majority_baseline,
    max_statistic_permutation_test,
    paper_splits,
    summarize_pooled,
)
from ..io import atomic_path
from ..models.ae_dnn import DEFAULT_POOL, AEDNNClassifier

__all__ = [
    "AE_DNN_DEFAULTS",
    "AudioDataset",
    "build_dataset",
    "load_backgrounds",
    "make_estimator",
    "evaluate_ae_dnn",
    "permutation_test_ae_dnn",
    "pooled_summary",
    "summarize_folds",
    "PROTOCOLS",
]

PROTOCOLS = ("grouped", "paper")

#: Hyper-parameters of the AE+DNN, fixed up front (never tuned on test folds).
AE_DNN_DEFAULTS = dict(hidden=128, bottleneck=32, head_units=32, noise_std=0.3, dropout=0.3,
                       ae_epochs=40, clf_epochs=60, patience=6, batch_size=64,
                       learning_rate=1e-3, val_fraction=0.2, balanced=True)


@dataclasses.dataclass
class AudioDataset:
    """Features of a labelled clip collection and of augmented copies of each clip.

    Attributes
    ----------
    X : dict of np.ndarray
        ``{"mfcc": (n, n_mfcc, n_frames), "stft": (n, n_fft//2+1, n_frames)}``.
    y, groups, paths : np.ndarray [shape=(n,)]
    X_aug : dict of np.ndarray
        Same kinds, ``(m, ., .)`` for ``m = n * n_aug`` augmented copies.
    aug_source : np.ndarray [shape=(m,)]
        Index of the clip each copy was made from.
    params : FeatureParams
    info : dict
        Provenance (content hash of the clips, number of copies, seed, backgrounds).
    """

    X: dict
    y: np.ndarray
    groups: np.ndarray
    paths: np.ndarray
    X_aug: dict
    aug_source: np.ndarray
    params: FeatureParams
    info: dict

    @property
    def y_aug(self) -> np.ndarray:
        return self.y[self.aug_source]


def load_backgrounds(root: str | os.PathLike | None, *, sr: int, n_max: int = 48,
                     seed: int = 0) -> tuple[list[np.ndarray], list[str]]:
    """Up to ``n_max`` not-cry clips (a seeded random pick over the folder) as waveforms.

    Parameters
    ----------
    root : path or None
        Folder of not-cry clips (``../shared/data/cry_detection/not_cry``); None: no backgrounds.

    Returns
    -------
    (waveforms, file names)
    """
    from ..media import load_audio

    if root is None:
        return [], []
    root = Path(root)
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".wav", ".mp3", ".flac",
                                                                        ".ogg"))
    if not files:
        raise ParameterError(f"no background clips in {root}")
    rng = np.random.default_rng(seed)
    pick = sorted(rng.choice(len(files), size=min(n_max, len(files)), replace=False))
    return [load_audio(files[i], sr=sr) for i in pick], [files[i].name for i in pick]


def _dataset_key(hashes: Sequence[str], params: FeatureParams, n_aug: int, seed: int,
                 bg_names: Sequence[str]) -> str:
    blob = json.dumps({"h": list(hashes), "p": params.to_dict(), "n_aug": n_aug, "seed": seed,
                       "bg": list(bg_names), "v": 1}, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:20]


def build_dataset(
    items: Sequence,
    *,
    params: FeatureParams | None = None,
    n_aug: int = 2,
    background_dir: str | os.PathLike | None = None,
    seed: int = 0,
    cache_dir: str | os.PathLike | None = None,
    progress: Callable | None = None,
) -> AudioDataset:
    """Features of ``items`` (Donateacry items: ``.path .label .uuid``) and of ``n_aug``
    augmented copies of each, cached on disk as one ``.npz``.

    Parameters
    ----------
    items : sequence of DonateacryItem
    params : FeatureParams, optional
    n_aug : int
        Augmented copies per clip (0: none).
    background_dir : path, optional
        Not-cry clips mixed in as background noise.
    seed : int
    cache_dir : path, optional
        Default ``$CRYVIDEO_CACHE_DIR/ae_dnn``.
    progress : callable, optional
        Wraps an iterable (e.g. :func:`cryvideo.cli.common.progress_bar`).

    Returns
    -------
    AudioDataset
    """
    from ..media import load_audio

    params = FeatureParams() if params is None else params
    if not items:
        raise ParameterError("no clips to build a dataset from")
    kinds = ("mfcc", "stft")
    hashes = [file_sha256(it.path) for it in items]
    bgs, bg_names = load_backgrounds(background_dir, sr=params.sr, seed=seed) \
        if n_aug else ([], [])
    key = _dataset_key(hashes, params, n_aug, seed, bg_names)
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir() / "ae_dnn"
    f = root / f"dataset-{key}.npz"
    y = np.asarray([it.label for it in items])
    groups = np.asarray([getattr(it, "uuid", None) or getattr(it, "group", "") for it in items])
    paths = np.asarray([it.path for it in items])
    info = {"n_clips": len(items), "n_aug": n_aug, "seed": seed,
            "content_sha256": hashlib.sha256("".join(sorted(hashes)).encode()).hexdigest(),
            "backgrounds": len(bg_names), "cache_key": key}
    if f.exists():
        try:
            with np.load(f) as z:
                X = {k: z[k] for k in kinds}
                X_aug = {k: z[f"aug_{k}"] for k in kinds}
                src = z["aug_source"]
            return AudioDataset(X, y, groups, paths, X_aug, src, params, info)
        except (OSError, ValueError, KeyError):
            pass  # rebuilt below
    fcache = FeatureCache()
    wrap = progress or (lambda it, **kw: it)
    X = {k: [] for k in kinds}
    X_aug = {k: [] for k in kinds}
    src = []
    rng = np.random.default_rng(seed)
    for i, it in enumerate(wrap(list(items), desc="features", unit="clip")):
        wav = None
        feats = fcache.get(it.path, params, kinds)
        if feats is None:
            wav = load_audio(it.path, sr=params.sr)
            feats = features_from_waveform(wav, params, kinds=kinds)
            fcache.put(it.path, params, feats)
        for k in kinds:
            X[k].append(feats[k])
        for _ in range(n_aug):
            if wav is None:
                wav = load_audio(it.path, sr=params.sr)
            aug, _done = random_augment(wav, sr=params.sr, rng=rng, backgrounds=bgs)
            fa = features_from_waveform(aug, params, kinds=kinds)
            for k in kinds:
                X_aug[k].append(fa[k])
            src.append(i)
    X = {k: np.stack(v).astype(np.float32) for k, v in X.items()}
    shapes = {k: X[k].shape[1:] for k in kinds}
    X_aug = {k: (np.stack(v).astype(np.float32) if v else np.zeros((0, *shapes[k]), np.float32))
             for k, v in X_aug.items()}
    src = np.asarray(src, dtype=int)
    f.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(f) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **X, **{f"aug_{k}": v for k, v in X_aug.items()}, aug_source=src)
    return AudioDataset(X, y, groups, paths, X_aug, src, params, info)


def make_estimator(kind: str, labels: Sequence[str], *, seed: int = 0, **overrides
                   ) -> AEDNNClassifier:
    """The AE+DNN estimator for ``kind`` with the fixed hyper-parameters."""
    if kind not in DEFAULT_POOL:
        raise ParameterError(f"kind must be one of {sorted(DEFAULT_POOL)}, got {kind!r}")
    kw = dict(AE_DNN_DEFAULTS, **overrides)
    return AEDNNClassifier(pool=DEFAULT_POOL[kind], labels=list(labels), seed=seed, **kw)


def _splits(protocol: str, y, groups, *, n_splits: int, n_repeats: int, seed: int):
    if protocol == "grouped":
        return list(grouped_splits(y, groups, n_splits=n_splits, n_repeats=n_repeats, seed=seed))
    if protocol == "paper":
        return list(paper_splits(y, test_size=0.3, n_repeats=n_repeats, seed=seed))
    raise ParameterError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")


def _fit_fold(est, data: AudioDataset, kind: str, tr: np.ndarray, y: np.ndarray,
              refit: bool = False):
    aug = np.isin(data.aug_source, tr)
    # re-index the augmented copies' sources into positions within ``tr``
    pos = {int(j): i for i, j in enumerate(tr)}
    src = np.asarray([pos[int(s)] for s in data.aug_source[aug]], dtype=int)
    kw = dict(groups=data.groups[tr], X_extra=data.X_aug[kind][aug],
              y_extra=y[data.aug_source[aug]], extra_source=src)
    if refit:
        return est.refit_head(data.X[kind][tr], y[tr], **kw)
    return est.fit(data.X[kind][tr], y[tr], **kw)


def evaluate_ae_dnn(
    data: AudioDataset,
    *,
    kind: str,
    protocol: str,
    labels: Sequence[str] | None = None,
    n_splits: int = 5,
    n_repeats: int = 1,
    seed: int = 0,
    progress: Callable | None = None,
    keep_estimators: bool = False,
    **overrides,
) -> list[dict]:
    """Train and test the AE+DNN on every fold of a protocol.

    Parameters
    ----------
    data : AudioDataset
    kind : {"mfcc", "stft"}
    protocol : {"grouped", "paper"}
        ``grouped``: repeated StratifiedGroupKFold by UUID (honest); ``paper``: stratified
        random 70/30 split repeated ``n_repeats`` times (leaky: same-install clips on both sides).
    labels : sequence of str, optional
        Class order (default: sorted labels of ``data``).
    n_splits, n_repeats, seed
    progress : callable, optional
        Wraps the fold iterable.
    keep_estimators : bool
        Put the fitted estimator in each fold dict under ``"estimator"`` (not JSON-able).
    **overrides
        Hyper-parameters replacing :data:`AE_DNN_DEFAULTS`.

    Returns
    -------
    list of dict
        Per fold: ``repeat``, ``fold``, ``n_train``, ``n_test``, ``n_train_augmented``,
        ``leakage`` (share of test clips whose UUID is in training), ``metrics``
        (:func:`classification_metrics`), ``majority`` (majority baseline), ``epochs``,
        ``test_idx`` and ``y_pred`` (the test clips and their predicted labels),
        ``majority_label`` (the training folds' most frequent class), ``seed``.
    """
    labels = sorted(set(data.y.tolist())) if labels is None else list(labels)
    splits = _splits(protocol, data.y, data.groups, n_splits=n_splits, n_repeats=n_repeats,
                     seed=seed)
    wrap = progress or (lambda it, **kw: it)
    out = []
    fold_no: dict[int, int] = {}
    for r, tr, te in wrap(splits, desc=f"{kind}/{protocol}", unit="fold"):
        fold_no[r] = fold_no.get(r, -1) + 1
        fit_seed = seed + 17 * r + fold_no[r]
        est = make_estimator(kind, labels, seed=fit_seed, **overrides)
        _fit_fold(est, data, kind, tr, data.y)
        pred = est.predict(data.X[kind][te])
        vals, counts = np.unique(data.y[tr], return_counts=True)
        d = {
            "repeat": int(r), "fold": fold_no[r], "n_train": int(len(tr)),
            "n_test": int(len(te)),
            "n_train_augmented": int(np.isin(data.aug_source, tr).sum()),
            "leakage": leakage(tr, te, data.groups),
            "metrics": classification_metrics(data.y[te], pred, labels),
            "majority": majority_baseline(data.y[tr], data.y[te], labels),
            "epochs": {k: len(v.get("loss", [])) for k, v in est.history_.items()},
            "test_idx": te.tolist(),
            "y_pred": [str(v) for v in pred],
            "majority_label": str(vals[np.argmax(counts)]),
            "seed": int(fit_seed),
        }
        if keep_estimators:
            d["estimator"] = est
            d["train_idx"] = tr
        out.append(d)
    return out


def permutation_test_ae_dnn(
    data: AudioDataset,
    folds: dict[str, list[dict]],
    *,
    labels: Sequence[str],
    n_permutations: int = 199,
    metric: str = "balanced_accuracy",
    seed: int = 0,
    progress: Callable | None = None,
) -> dict:
    """Max-statistic group-permutation test over several kinds of a finished evaluation.

    ``folds`` maps each kind (``"mfcc"``, ``"stft"``) to the folds of one grouped repeat from
    :func:`evaluate_ae_dnn` with ``keep_estimators=True``. The score of a kind is ``metric`` on
    its pooled out-of-fold predictions. Each permutation exchanges whole label blocks between
    app installs of equal size (:func:`cryvideo.evaluation.group_label_permutation`) and
    retrains the classifier of every fold of every kind from scratch on the permuted training
    labels; the autoencoders, which never see labels, and the splits of the true labels are
    kept (refitting them per permutation would cost 40 epochs per fold).

    Returns
    -------
    dict
        :func:`cryvideo.evaluation.max_statistic_permutation_test`'s result (``names`` are the
        kinds; ``pvalue_familywise``, ``pvalue_single``, ``observed``, ``permutation_max``,
        ...) plus ``metric``, ``splits`` and ``permutation_mean`` per kind.
    """
    kinds = list(folds)
    for k in kinds:
        if not folds[k] or "estimator" not in folds[k][0]:
            raise ParameterError("permutation_test_ae_dnn needs folds with keep_estimators=True")

    def pooled_score(kind: str, y: np.ndarray, preds: list) -> float:
        te = np.concatenate([np.asarray(f["test_idx"]) for f in folds[kind]])
        return float(classification_metrics(y[te], np.concatenate(preds), labels)[metric])

    observed = [pooled_score(k, data.y, [np.asarray(f["y_pred"]) for f in folds[k]])
                for k in kinds]
    bar = progress(range(n_permutations), desc="AE+DNN permutations", unit="perm") \
        if progress else None
    it = iter(bar) if bar is not None else None

    def score_fn(y_perm: np.ndarray) -> list[float]:
        out = []
        for k in kinds:
            preds = []
            for f in folds[k]:
                est, tr, te = f["estimator"], f["train_idx"], np.asarray(f["test_idx"])
                _fit_fold(est, data, k, tr, y_perm, refit=True)
                preds.append(est.predict(data.X[k][te]))
            out.append(pooled_score(k, y_perm, preds))
        return out

    res = max_statistic_permutation_test(
        score_fn, data.y, data.groups, names=kinds, n_permutations=n_permutations, seed=seed,
        observed=observed, progress=None if it is None else (lambda _n: next(it, None)))
    if bar is not None and hasattr(bar, "close"):
        bar.close()
    perm = np.asarray(res.pop("permutation_scores"))
    return {**res, "metric": metric, "splits": "those of the true labels (one grouped repeat)",
            "permutation_mean": [float(v) for v in perm.mean(axis=0)]}


def pooled_summary(folds: list[dict], data: AudioDataset, labels: Sequence[str], *,
                   n_boot: int = 2000, seed: int = 0, of: str = "pooled predictions") -> dict:
    """Metrics of the pooled test predictions of all folds/repeats, with group-bootstrap
    intervals over app installs (the aggregation of every row of the Donateacry table).

    Parameters
    ----------
    folds : list of dict
        From :func:`evaluate_ae_dnn` (with ``test_idx``, ``y_pred``, ``majority_label``).
    data : AudioDataset
    labels : sequence of str
    n_boot, seed : int
        Bootstrap resamples and seed.
    of : str
        What the pooled predictions are, for the interval label.

    Returns
    -------
    dict
        ``accuracy``, ``balanced_accuracy``, ``macro_f1`` and ``majority_*`` as
        ``{"estimate", "low", "high", "interval", "per_repeat", "repeat_sd"}``, plus
        ``leakage``, ``n_folds``, ``n_repeats``.
    """
    te = np.concatenate([np.asarray(f["test_idx"], dtype=int) for f in folds])
    rep = np.concatenate([np.full(len(f["test_idx"]), f["repeat"]) for f in folds])
    preds = {"": np.concatenate([np.asarray(f["y_pred"]) for f in folds]),
             "majority_": np.concatenate([np.full(len(f["test_idx"]), f["majority_label"])
                                          for f in folds])}
    out: dict = {}
    for prefix, pred in preds.items():
        summ = summarize_pooled(data.y[te], pred, data.groups[te], rep, labels=labels,
                                n_boot=n_boot, seed=seed, unit="app installs", of=of)
        out.update({f"{prefix}{m}": v for m, v in summ.items()})
    out["leakage"] = round(float(np.mean([f["leakage"] for f in folds])), 4)
    out["n_folds"] = len(folds)
    out["n_repeats"] = int(len(np.unique(rep)))
    return out


def summarize_folds(folds: list[dict]) -> dict:
    """Mean over folds and 95 % t-interval of accuracy, balanced accuracy and macro-F1, model
    and majority: the model cards' quick summary of ``train-audio``'s cross-validation (the
    benchmark tables use :func:`pooled_summary`)."""
    from ..evaluation import mean_ci

    out = {}
    for who in ("metrics", "majority"):
        for m in ("accuracy", "balanced_accuracy", "macro_f1"):
            mean, lo, hi = mean_ci([f[who][m] for f in folds])
            out[f"{'' if who == 'metrics' else 'majority_'}{m}"] = {
                "mean": round(mean, 4), "ci95": [round(lo, 4), round(hi, 4)]}
    out["leakage"] = round(float(np.mean([f["leakage"] for f in folds])), 4)
    out["n_folds"] = len(folds)
    return out
