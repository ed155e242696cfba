"""The Keras DNN baseline is a proper scikit-learn classifier."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from cryvideo.baselines.dnn import KerasDNNClassifier


@parametrize_with_checks([KerasDNNClassifier(hidden_units=(16,), epochs=40, batch_size=32,
                                             learning_rate=1e-2)])
def test_sklearn_compatible(estimator, check):
    check(estimator)
