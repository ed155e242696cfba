"""Training the bundled AE+DNN audio branches: grouped CV for the card, then a final fit.

Used by ``cryvideo train-audio`` and ``make train-default`` (``data_prep/train_default.py``).
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..audio import FeatureParams
from ..data import DONATEACRY_CLASSES, load_donateacry
from ..errors import DatasetError, ParameterError
from .cards import ModelCard, save_model_with_card
from .store import AUDIO_MODEL_FILES

__all__ = ["train_audio_branches", "model_filename"]


def model_filename(kind: str) -> str:
    """``audio_<kind>.keras``: the names :func:`cryvideo.models.branches.default_audio_branches`
    looks for."""
    if kind not in AUDIO_MODEL_FILES:
        raise ParameterError(f"kind must be one of {sorted(AUDIO_MODEL_FILES)}, got {kind!r}")
    return AUDIO_MODEL_FILES[kind]


def train_audio_branches(
    data_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    kinds: Sequence[str] = ("mfcc", "stft"),
    classes: Sequence[str] = DONATEACRY_CLASSES,
    background_dir: str | os.PathLike | None = None,
    n_aug: int = 2,
    cv_folds: int = 5,
    seed: int = 0,
    overrides: dict | None = None,
    progress: Callable | None = None,
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
        Hyper-parameters replacing ``AE_DNN_DEFAULTS`` (e.g. fewer epochs for a quick run).
    progress : callable, optional
        ``progress(iterable, desc=..., unit=...)`` wrapper (e.g. a tqdm bar).
    benchmark_ref : str, optional
        Where the full benchmark (with permutation p-values) is written; stored in the card.
    extra_metrics : dict, optional
        kind → dict merged into that card's ``metrics`` (e.g. the benchmark's p-value).

    Returns
    -------
    dict
        kind → the card written.
    """
    from ..benchmarks.ae_dnn import (
        AE_DNN_DEFAULTS,
        build_dataset,
        evaluate_ae_dnn,
        make_estimator,
        summarize_folds,
    )
    from .ae_dnn import plot_training_curves

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
        wrap = progress or (lambda it, **kw: it)
        for _ in wrap([0], desc=f"{kind} final fit", unit="fit"):
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
