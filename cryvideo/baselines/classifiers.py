"""The baseline classifiers of the feature-credibility benchmark, and the model registry.

Each classifier is one small builder returning a scikit-learn estimator (a pipeline with a
``StandardScaler`` where the model is sensitive to feature scale). Hyper-parameters are fixed
here, up front: they are never tuned on test folds. Models that can weight classes do so
(``class_weight="balanced"``), because Donateacry is 84 % "hungry" and we report balanced
accuracy; Naive Bayes and k-NN have no such option.

The registry maps a row name of the benchmark table to a :class:`ModelSpec`; other modules add
rows with :func:`register_model`, e.g. the autoencoder + DNN of the video paper's audio branch
(:mod:`cryvideo.studies.ae_dnn`)::

    register_model("AE+DNN (augmented)", ae_dnn_factory(), feature_input="index",
                   paper={"stft": 97.41, "mfcc": 93.75}, uses_tensorflow=True, optional=True)

An ``optional`` model runs only when named (its training takes hours on the full corpus):
:func:`model_names` leaves it out unless asked.

Factories are called as ``factory(seed=int, context=ModelContext)`` and return an object with
``fit(X, y)`` and ``predict(X)``. What ``X`` is depends on ``feature_input``:

``"summary"``
    ``(n, 2 * n_coef)`` float32: per-coefficient mean and std over time (:func:`summarize`).
``"matrix"``
    ``(n, n_coef, n_frames)`` float32: the full feature matrix of each clip.
``"index"``
    ``(n, 1)`` int64: positions of the clips in ``context.paths`` / ``context.groups``; for
    models that need more than one matrix per clip (augmented copies, raw audio, ...).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping
from types import MappingProxyType

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from ..errors import ParameterError
from .dnn import KerasDNNClassifier

__all__ = [
    "FEATURE_INPUTS",
    "ModelContext",
    "ModelSpec",
    "build_svm",
    "build_naive_bayes",
    "build_random_forest",
    "build_decision_tree",
    "build_knn",
    "build_dnn_pipeline",
    "register_model",
    "unregister_model",
    "get_model",
    "model_names",
    "MODELS",
    "PAPER_TABLE2",
]

#: What a registered model receives as ``X``.
FEATURE_INPUTS = ("summary", "matrix", "index")


@dataclasses.dataclass(frozen=True)
class ModelContext:
    """What a factory may know about the benchmark it is built for (never the labels).

    Attributes
    ----------
    feature : str
        ``"mfcc"`` or ``"stft"``.
    params : dict
        Feature parameters (:meth:`FeatureParams.to_dict`).
    paths : tuple of str
        Audio file of each clip (the positions ``"index"`` models receive).
    groups : np.ndarray [shape=(n,)]
        App-install UUID of each clip.
    classes : tuple of str
        Class set being evaluated.
    class_set : str
        Its name (e.g. ``"paper4"``).
    """

    feature: str
    params: Mapping
    paths: tuple
    groups: np.ndarray
    classes: tuple
    class_set: str = ""


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """One row of the benchmark table.

    Attributes
    ----------
    name : str
        Row label (``"SVM"``, ``"AE+DNN"``, ...).
    factory : callable
        ``factory(seed=int, context=ModelContext) -> estimator``.
    feature_input : {"summary", "matrix", "index"}
    paper : mapping
        The paper's accuracy in percent per feature kind, e.g. ``{"stft": 45.83, "mfcc": 66.67}``.
    features : tuple of str
        Feature kinds this model runs on.
    uses_tensorflow : bool
        Imports TensorFlow (so the benchmark can say so / skip it quickly).
    optional : bool
        Runs only when named, not in the default set of :func:`model_names`.
    """

    name: str
    factory: Callable
    feature_input: str = "summary"
    paper: Mapping = dataclasses.field(default_factory=dict)
    features: tuple = ("mfcc", "stft")
    uses_tensorflow: bool = False
    optional: bool = False

    def build(self, *, seed: int, context: ModelContext | None = None):
        """A fresh, unfitted estimator."""
        try:
            sig = inspect.signature(self.factory)
            takes_context = "context" in sig.parameters or any(
                p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
        except (TypeError, ValueError):
            takes_context = True
        if takes_context:
            return self.factory(seed=seed, context=context)
        return self.factory(seed=seed)


# ---------------------------------------------------------------- builders (fixed settings)

def build_svm(*, seed: int = 0, context: ModelContext | None = None) -> Pipeline:
    """RBF SVM (C=1, gamma="scale", balanced class weights) after standard scaling."""
    return make_pipeline(StandardScaler(),
                         SVC(C=1.0, kernel="rbf", gamma="scale", class_weight="balanced",
                             random_state=seed))


def build_naive_bayes(*, seed: int = 0, context: ModelContext | None = None) -> GaussianNB:
    """Gaussian Naive Bayes (scale-invariant per feature, so no scaler)."""
    return GaussianNB()


def build_random_forest(*, seed: int = 0,
                        context: ModelContext | None = None) -> RandomForestClassifier:
    """Random forest: 50 trees, sqrt features per split, balanced class weights, 1 job.

    50 rather than scikit-learn's default 100 trees: per-tree overhead dominates on a few
    hundred clips, and the permutation test re-fits the best model ~100 times.
    """
    return RandomForestClassifier(n_estimators=50, max_features="sqrt",
                                  class_weight="balanced", n_jobs=1, random_state=seed)


def build_decision_tree(*, seed: int = 0,
                        context: ModelContext | None = None) -> DecisionTreeClassifier:
    """Unpruned CART decision tree with balanced class weights."""
    return DecisionTreeClassifier(class_weight="balanced", random_state=seed)


def build_knn(*, seed: int = 0, context: ModelContext | None = None) -> Pipeline:
    """k-NN (k=5, Euclidean, uniform votes) after standard scaling."""
    return make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=5))


def build_dnn_pipeline(*, seed: int = 0, context: ModelContext | None = None,
                       epochs: int = 40, batch_size: int = 64,
                       learning_rate: float = 2e-3) -> Pipeline:
    """Standard scaling → Keras DNN (64-32 ReLU, RMSprop, 40 epochs of batches of 64,
    balanced class weights)."""
    return make_pipeline(StandardScaler(),
                         KerasDNNClassifier(hidden_units=(64, 32), epochs=epochs,
                                            batch_size=batch_size, learning_rate=learning_rate,
                                            optimizer="rmsprop", l2=1e-4,
                                            class_weight="balanced", random_state=seed))


# ---------------------------------------------------------------- registry

#: The paper's Table 2 (Donateacry, 4 classes, 70/30 random split), % accuracy.
PAPER_TABLE2 = MappingProxyType({
    "SVM": {"stft": 45.83, "mfcc": 66.67},
    "Naive Bayes": {"stft": 75.83, "mfcc": 77.50},
    "Random Forest": {"stft": 79.17, "mfcc": 83.33},
    "Decision Tree": {"stft": 79.17, "mfcc": 79.17},
    "k-NN": {"stft": 54.17, "mfcc": 50.00},
    "DNN": {"stft": 85.59, "mfcc": 84.49},
})

_REGISTRY: dict[str, ModelSpec] = {}


def register_model(
    name: str,
    factory: Callable,
    *,
    feature_input: str = "summary",
    paper: Mapping | None = None,
    features: tuple = ("mfcc", "stft"),
    uses_tensorflow: bool = False,
    optional: bool = False,
    replace: bool = False,
) -> ModelSpec:
    """Add a row to the benchmark table.

    Parameters
    ----------
    name : str
        Row label; also what ``--models`` selects.
    factory : callable
        ``factory(seed=int, context=ModelContext) -> estimator`` (``context`` may be omitted
        from its signature). The estimator needs ``fit(X, y)`` and ``predict(X)``.
    feature_input : {"summary", "matrix", "index"}
        What ``X`` is (see the module docstring).
    paper : mapping, optional
        The paper's % accuracy per feature kind, shown beside ours.
    features : tuple of str
        Feature kinds to run it on.
    uses_tensorflow : bool
    optional : bool
        Run only when named (left out of :func:`model_names`' default set).
    replace : bool
        Allow replacing a registered name.

    Returns
    -------
    ModelSpec
    """
    if feature_input not in FEATURE_INPUTS:
        raise ParameterError(f"feature_input must be one of {FEATURE_INPUTS}, "
                             f"got {feature_input!r}")
    if not callable(factory):
        raise ParameterError(f"factory of {name!r} is not callable")
    if name in _REGISTRY and not replace:
        raise ParameterError(f"model {name!r} is already registered (pass replace=True)")
    bad = set(features) - {"mfcc", "stft"}
    if bad:
        raise ParameterError(f"unknown feature kinds {sorted(bad)} for model {name!r}")
    spec = ModelSpec(name=name, factory=factory, feature_input=feature_input,
                     paper=MappingProxyType(dict(paper or {})), features=tuple(features),
                     uses_tensorflow=uses_tensorflow, optional=optional)
    _REGISTRY[name] = spec
    return spec


def unregister_model(name: str) -> None:
    """Remove a row (no error if absent)."""
    _REGISTRY.pop(name, None)


def get_model(name: str) -> ModelSpec:
    """The spec registered under ``name`` (case-insensitive)."""
    if name in _REGISTRY:
        return _REGISTRY[name]
    for k, v in _REGISTRY.items():
        if k.lower() == name.lower():
            return v
    raise ParameterError(f"unknown model {name!r}; known: {', '.join(_REGISTRY)}")


def model_names(*, include_optional: bool = False) -> tuple[str, ...]:
    """Registered row names, in table order (registration order): the models a benchmark runs
    when none are named; with ``include_optional`` also the optional ones."""
    return tuple(k for k, v in _REGISTRY.items() if include_optional or not v.optional)


#: Read-only view of the registry.
MODELS = MappingProxyType(_REGISTRY)

register_model("SVM", build_svm, paper=PAPER_TABLE2["SVM"])
register_model("Naive Bayes", build_naive_bayes, paper=PAPER_TABLE2["Naive Bayes"])
register_model("Random Forest", build_random_forest, paper=PAPER_TABLE2["Random Forest"])
register_model("Decision Tree", build_decision_tree, paper=PAPER_TABLE2["Decision Tree"])
register_model("k-NN", build_knn, paper=PAPER_TABLE2["k-NN"])
register_model("DNN", build_dnn_pipeline, paper=PAPER_TABLE2["DNN"], uses_tensorflow=True)
