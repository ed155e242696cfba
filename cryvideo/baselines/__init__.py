"""scikit-learn baselines (SVM, Naive Bayes, Random Forest, Decision Tree, k-NN, Keras DNN)
and the registry of models that the Donateacry benchmark table lists."""

from .classifiers import (
    MODELS,
    PAPER_TABLE2,
    ModelContext,
    ModelSpec,
    get_model,
    model_names,
    register_model,
    unregister_model,
)
from .dnn import KerasDNNClassifier

__all__ = [
    "MODELS",
    "PAPER_TABLE2",
    "KerasDNNClassifier",
    "ModelContext",
    "ModelSpec",
    "get_model",
    "model_names",
    "register_model",
    "unregister_model",
]
