"""Evaluate the AE+DNN audio branches on Donateacry under the paper's and the grouped protocol.

Typical use::

    items = load_donateacry(root)
    data = build_dataset(items, background_dir=not_cry_dir)   # features + augmented copies
    folds = evaluate_ae_dnn(data, kind="mfcc", protocol="grouped")

Augmented copies (noise, pitch ±2 st, stretch ±10 %, not-cry backgrounds) are made once per
clip and cached; in each fold only the copies of *training* clips are used, and test clips are
always the original recordings.

The AE+DNN is also a model of the baselines registry, :data:`AE_DNN_MODEL` (optional: it runs
when named), so the Donateacry study's one protocol dispatcher runs it beside the other
classifiers::

    run_benchmark(data, BenchmarkConfig(models=("SVM", AE_DNN_MODEL)))
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from collections.abc import Callable, Sequence

import numpy as np

from ..audio import FeatureParams
from ..baselines.classifiers import ModelContext, register_model
from ..errors import ParameterError
from ..evaluation import (
    PROTOCOLS,
    classification_metrics,
    max_statistic_permutation_test,
    summarize_pooled,
)
from ..models.ae_dnn import DEFAULT_POOL
from ..progress import Progress, relabel
from ..training.audio import (
    AE_DNN_DEFAULTS,
    _fit_fold,
    evaluate_ae_dnn,
    make_estimator,
    summarize_folds,
)
from ..training.audio_data import AudioDataset, build_dataset, load_backgrounds

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
    "DEFAULT_POOL",
    "AE_DNN_MODEL",
    "AEDNNOnClips",
    "ae_dnn_factory",
]

#: The AE+DNN's row in the baselines registry.
AE_DNN_MODEL = "AE+DNN (augmented)"

def permutation_test_ae_dnn(
    data: AudioDataset,
    folds: dict[str, list[dict]],
    *,
    labels: Sequence[str],
    n_permutations: int = 199,
    metric: str = "balanced_accuracy",
    seed: int = 0,
    progress: Progress | None = None,
) -> dict:
    """Max-statistic group-permutation test over several kinds of a finished evaluation.

    ``folds`` maps each kind (``"mfcc"``, ``"stft"``) to the folds of one grouped repeat from
    :func:`evaluate_ae_dnn` with ``keep_estimators=True``. The score of a kind is ``metric`` on
    its pooled out-of-fold predictions. Each permutation exchanges whole label blocks between
    app installs of equal size (:func:`cryvideo.evaluation.group_label_permutation`) and
    retrains the classifier of every fold of every kind from scratch on the permuted training
    labels; the autoencoders, which never see labels, and the splits of the true labels are
    kept (refitting them per permutation would cost 40 epochs per fold).
    ``progress("AE+DNN permutations", done, n_permutations)`` follows the permutations.

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
        observed=observed, progress=relabel(progress, "AE+DNN permutations"))
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




# ------------------------------------------------------------------ the registry's AE+DNN

@dataclasses.dataclass(frozen=True)
class _Clip:
    """What :func:`build_dataset` reads of a clip (the label is not needed: the fits get it)."""

    path: str
    uuid: str
    label: str = ""


@functools.lru_cache(maxsize=2)
def _clip_maps(paths: tuple, groups: tuple, params: str, n_aug: int,
               background_dir: str | None, seed: int) -> AudioDataset:
    """Feature maps of ``paths`` and their augmented copies, built once a process (and cached
    on disk by :func:`build_dataset`)."""
    items = [_Clip(p, g) for p, g in zip(paths, groups, strict=True)]
    return build_dataset(items, params=FeatureParams.from_dict(json.loads(params)), n_aug=n_aug,
                         background_dir=background_dir, seed=seed)


class AEDNNOnClips:
    """The AE+DNN as a registry model (``feature_input="index"``).

    ``X`` holds positions of clips in ``context.paths`` (shape ``(n, 1)``, int64). Their
    feature maps and ``n_aug`` augmented copies of each are computed once (with the study's
    feature parameters) and every fit is the one :func:`evaluate_ae_dnn` makes: the training
    clips plus the augmented copies of them, early stopping on a validation split grouped by
    app install (``context.groups``); predictions are for the original recordings.

    Parameters
    ----------
    context : ModelContext
    seed : int
        Seed of the networks.
    n_aug : int
        Augmented copies per clip (0: none).
    background_dir : path, optional
        Not-cry clips mixed in as background noise by the augmentation.
    augment_seed : int
        Seed of the augmentation (fixed across fits, so the copies are made once).
    **overrides
        Hyper-parameters replacing :data:`AE_DNN_DEFAULTS` (e.g. ``ae_epochs=1``).
    """

    def __init__(self, *, context: ModelContext, seed: int = 0, n_aug: int = 2,
                 background_dir: str | os.PathLike | None = None, augment_seed: int = 0,
                 **overrides) -> None:
        if context is None:
            raise ParameterError("the AE+DNN registry model needs a ModelContext")
        self.context = context
        self.seed = seed
        self.n_aug = n_aug
        self.background_dir = background_dir
        self.augment_seed = augment_seed
        self.overrides = overrides

    def _data(self) -> AudioDataset:
        c = self.context
        bg = None if self.background_dir is None else os.fspath(self.background_dir)
        return _clip_maps(tuple(c.paths), tuple(str(g) for g in c.groups),
                          json.dumps(dict(c.params), sort_keys=True), int(self.n_aug), bg,
                          int(self.augment_seed))

    def fit(self, X: np.ndarray, y: Sequence) -> AEDNNOnClips:
        """Train on the clips at positions ``X[:, 0]`` with labels ``y``."""
        idx = np.asarray(X, dtype=np.int64).reshape(len(X), -1)[:, 0]
        data = self._data()
        y_all = np.empty(len(data.y), dtype=object)  # labels by position, for the copies
        y_all[idx] = np.asarray(y)
        self.estimator_ = make_estimator(self.context.feature, list(self.context.classes),
                                         seed=self.seed, **self.overrides)
        _fit_fold(self.estimator_, data, self.context.feature, idx, y_all.astype(str))
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class of the clips at positions ``X[:, 0]``."""
        idx = np.asarray(X, dtype=np.int64).reshape(len(X), -1)[:, 0]
        return self.estimator_.predict(self._data().X[self.context.feature][idx])


def ae_dnn_factory(*, n_aug: int = 2, background_dir: str | os.PathLike | None = None,
                   augment_seed: int = 0, **overrides) -> Callable:
    """A registry factory ``factory(seed=, context=)`` of :class:`AEDNNOnClips` with these
    settings (e.g. fewer epochs for a quick run)."""

    def factory(*, seed: int, context: ModelContext) -> AEDNNOnClips:
        return AEDNNOnClips(context=context, seed=seed, n_aug=n_aug,
                            background_dir=background_dir, augment_seed=augment_seed,
                            **overrides)

    return factory


register_model(AE_DNN_MODEL, ae_dnn_factory(), feature_input="index",
               paper={"stft": 97.41, "mfcc": 93.75}, uses_tensorflow=True, optional=True)
