"""Training the bundled AE+DNN audio branches: grouped CV for the card, then a final fit.

Used by ``cryvideo train-audio`` and ``make train-default`` (``data_prep/train_default.py``).
"""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..audio import FeatureParams
from ..data import DONATEACRY_CLASSES, load_donateacry
from ..errors import DatasetError, ParameterError
from ..evaluation import classification_metrics, leakage, majority_baseline, protocol_splits
from ..models.ae_dnn import DEFAULT_POOL, AEDNNClassifier
from ..models.cards import ModelCard, save_model_with_card
from ..models.store import AUDIO_MODEL_FILES
from ..progress import Progress, tracked
from .audio_data import AudioDataset, build_dataset
from .settings import AUDIO_KINDS, AudioTrainingSettings

__all__ = ["train_audio", "train_audio_branches", "model_filename", "make_estimator",
           "evaluate_ae_dnn", "summarize_folds", "AE_DNN_DEFAULTS"]

#: The AE+DNN's hyper-parameters, fixed up front (never tuned on test folds): the estimator's
#: own defaults, which the shipped branches use.
AE_DNN_DEFAULTS = {k: v for k, v in AEDNNClassifier().get_params().items()
                   if k not in ("pool", "labels", "seed", "fine_tune")}


def model_filename(kind: str) -> str:
    """``audio_<kind>.keras``: the names :func:`cryvideo.models.branches.default_audio_branches`
    looks for."""
    if kind not in AUDIO_MODEL_FILES:
        raise ParameterError(f"kind must be one of {sorted(AUDIO_MODEL_FILES)}, got {kind!r}")
    return AUDIO_MODEL_FILES[kind]


def train_audio(settings: AudioTrainingSettings, *,
                progress: Progress | None = None) -> dict[str, ModelCard]:
    """``cryvideo train-audio``: train the branches ``settings`` names on its Donateacry folder
    and save them with their cards (:func:`train_audio_branches`).

    Parameters
    ----------
    settings : AudioTrainingSettings
    progress : callable, optional
        ``progress(stage, done, total)`` (e.g. :class:`cryvideo.progress.StageProgress`).

    Returns
    -------
    dict
        kind → the card written.

    Examples
    --------
    >>> from cryvideo.training.audio import train_audio
    >>> from cryvideo.training.settings import AudioTrainingSettings
    >>> cards = train_audio(AudioTrainingSettings(
    ...     "../shared/data/donateacry", "models/", kinds=("mfcc",)))   # doctest: +SKIP
    >>> cards["mfcc"].metrics["balanced_accuracy"]["mean"]              # doctest: +SKIP
    0.22
    """
    s = settings
    return train_audio_branches(s.data_dir, s.out_dir, kinds=s.kinds,
                                background_dir=s.background_dir, n_aug=s.n_aug,
                                cv_folds=s.cv_folds, seed=s.seed, overrides=s.overrides,
                                progress=progress)


def train_audio_branches(
    data_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    kinds: Sequence[str] = AUDIO_KINDS,
    classes: Sequence[str] = DONATEACRY_CLASSES,
    background_dir: str | os.PathLike | None = None,
    n_aug: int = AudioTrainingSettings.n_aug,
    cv_folds: int = AudioTrainingSettings.cv_folds,
    seed: int = 0,
    overrides: dict | None = None,
    progress: Progress | None = None,
    benchmark_ref: str | None = None,
    extra_metrics: dict | None = None,
) -> dict[str, ModelCard]:
    """Train one AE+DNN branch per feature kind on a Donateacry folder and save it with a card.

    For each kind: ``cv_folds``-fold StratifiedGroupKFold by UUID (metrics go in the card), then
    a final fit on all clips (early stopping on a grouped validation split of them), saved as
    ``out_dir/audio_<kind>.keras`` + ``.json``. A training-curve PNG
    ``out_dir/audio_training_curves.png`` shows the final fits.

    Parameters
    ----------
    data_dir : path
        Donateacry corpus folder.
    out_dir : path
    kinds : sequence of {"mfcc", "stft"}
    classes : sequence of str
    background_dir : path, optional
        Not-cry clips for background-mixing augmentation.
    n_aug : int
        Augmented copies per clip (training folds only).
    cv_folds : int
        0 skips cross-validation (the card then has no metrics).
    seed : int
    overrides : dict, optional
        Hyper-parameters replacing the estimator's own (``AE_DNN_DEFAULTS``), e.g. fewer epochs
        for a quick run.
    progress : callable, optional
        ``progress(stage, done, total)``: the features (clips), the folds of each kind's
        cross-validation, each final fit.
    benchmark_ref : str, optional
        Where the full benchmark (with permutation p-values) is written; stored in the card.
    extra_metrics : dict, optional
        kind → dict merged into that card's ``metrics`` (e.g. the benchmark's p-value).

    Returns
    -------
    dict
        kind → the card written.
    """
    from ..models.ae_dnn import plot_training_curves

    overrides = dict(overrides or {})
    out_dir = Path(out_dir)
    items = [it for it in load_donateacry(data_dir) if it.label in set(classes)]
    labels = [c for c in classes if any(it.label == c for it in items)]
    if len(labels) < 2:
        raise DatasetError("need clips of at least two classes to train", path=data_dir)
    params = FeatureParams()
    data = build_dataset(items, params=params, n_aug=n_aug, background_dir=background_dir,
                         seed=seed, progress=progress)
    counts = {c: int(np.sum(data.y == c)) for c in labels}
    out_dir.mkdir(parents=True, exist_ok=True)
    cards: dict[str, ModelCard] = {}
    histories = {}
    for kind in kinds:
        metrics: dict = {}
        if cv_folds:
            folds = evaluate_ae_dnn(data, kind=kind, protocol="grouped", labels=labels,
                                    n_splits=cv_folds, seed=seed, progress=progress, **overrides)
            metrics = {"protocol": f"StratifiedGroupKFold by app-install UUID, {cv_folds} folds",
                       **summarize_folds(folds),
                       "per_fold_balanced_accuracy": [round(f["metrics"]["balanced_accuracy"], 4)
                                                      for f in folds]}
        if benchmark_ref:
            metrics["benchmark"] = benchmark_ref
        metrics.update((extra_metrics or {}).get(kind, {}))
        est = make_estimator(kind, labels, seed=seed, **overrides)
        aug_kw = dict(X_extra=data.X_aug[kind], y_extra=data.y_aug,
                      extra_source=data.aug_source)
        for _ in tracked([0], progress, f"{kind} final fit"):
            est.fit(data.X[kind], data.y, groups=data.groups, **aug_kw)
        histories[kind] = est.history_
        card = ModelCard(
            name=f"audio_{kind}",
            kind="reason-classifier/ae-dnn",
            labels=list(labels),
            inputs={"feature": kind, "feature_params": params.to_dict(),
                    "pool": est.pool.to_dict(), "input_dim": est.pool.dim,
                    "waveform": "mono float32 at feature_params.sr; windows of "
                                "feature_params.duration s (50 % overlap), mean of window "
                                "probabilities"},
            training={"data": "Donateacry (cleaned and updated)", "path": os.fspath(data_dir),
                      "n_clips": len(items), "class_counts": counts,
                      "content_sha256": data.info["content_sha256"],
                      "augmentation": {"copies_per_clip": n_aug, "background_dir":
                                       None if background_dir is None else
                                       os.fspath(background_dir),
                                       "n_backgrounds": data.info["backgrounds"],
                                       "ops": "time stretch ±10 %, pitch ±2 st, not-cry "
                                              "background 5–20 dB or white noise 10–30 dB"},
                      "hyperparameters": {**AE_DNN_DEFAULTS, **overrides, **est.config()},
                      "epochs": {k: len(v.get("loss", [])) for k, v in est.history_.items()},
                      "seed": seed, "python": platform.python_version()},
            metrics=metrics,
            extra={"note": "Reasons in Donateacry were given by parents; grouped-CV results "
                           "near chance mean the model has not learnt the reason."},
        )
        cards[kind] = save_model_with_card(est.model_, out_dir / model_filename(kind), card)
    plot_training_curves(histories, out_dir / "audio_training_curves.png",
                         title="AE+DNN audio branches, final fit (loss per epoch)")
    return cards


def make_estimator(kind: str, labels: Sequence[str], *, seed: int = 0, **overrides
                   ) -> AEDNNClassifier:
    """The AE+DNN estimator for ``kind`` with its own (fixed, shipped) hyper-parameters, or
    ``overrides`` of them."""
    if kind not in DEFAULT_POOL:
        raise ParameterError(f"kind must be one of {sorted(DEFAULT_POOL)}, got {kind!r}")
    return AEDNNClassifier(pool=DEFAULT_POOL[kind], labels=list(labels), seed=seed, **overrides)


def _fit_fold(est, data: AudioDataset, kind: str, tr: np.ndarray, y: np.ndarray,
              refit: bool = False):
    aug = np.isin(data.aug_source, tr)
    # re-index the augmented copies' sources into positions within ``tr``
    pos = {int(j): i for i, j in enumerate(tr)}
    src = np.asarray([pos[int(s)] for s in data.aug_source[aug]], dtype=int)
    kw = dict(groups=data.groups[tr], X_extra=data.X_aug[kind][aug],
              y_extra=y[data.aug_source[aug]], extra_source=src)
    return est.fit(data.X[kind][tr], y[tr], head_only=refit, **kw)


def evaluate_ae_dnn(
    data: AudioDataset,
    *,
    kind: str,
    protocol: str,
    labels: Sequence[str] | None = None,
    n_splits: int = 5,
    n_repeats: int = 1,
    seed: int = 0,
    progress: Progress | None = None,
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
        ``progress(f"{kind}/{protocol}", done, total)`` in folds.
    keep_estimators : bool
        Put the fitted estimator in each fold dict under ``"estimator"`` (not JSON-able).
    **overrides
        Hyper-parameters replacing the estimator's own (:data:`AE_DNN_DEFAULTS`).

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
    splits = [(r, tr, te) for r, _, tr, te in protocol_splits(
        protocol, data.y, data.groups, n_splits=n_splits, grouped_repeats=n_repeats,
        paper_repeats=n_repeats, test_size=0.3, seed=seed)]
    out = []
    fold_no: dict[int, int] = {}
    for r, tr, te in tracked(splits, progress, f"{kind}/{protocol}"):
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
