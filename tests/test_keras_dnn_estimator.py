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


def _blobs(rng, n=90, d=6, k=3):
    centers = rng.normal(scale=4.0, size=(k, d))
    y = np.repeat(np.arange(k), n // k)
    return (centers[y] + rng.normal(size=(len(y), d))).astype(np.float32), np.array(
        ["hungry", "tired", "burping"])[y]


def test_deterministic_and_seed_dependent(rng):
    X, y = _blobs(rng)
    a = KerasDNNClassifier(epochs=10, random_state=3).fit(X, y).predict_proba(X)
    b = KerasDNNClassifier(epochs=10, random_state=3).fit(X, y).predict_proba(X)
    c = KerasDNNClassifier(epochs=10, random_state=4).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert not np.allclose(a, c)


def test_balanced_class_weight_helps_the_rare_class(rng):
    # 90 % / 10 %, overlapping: unweighted training ignores the rare class
    X = np.concatenate([rng.normal(0, 1, (180, 2)), rng.normal(1.2, 1, (20, 2))])
    y = np.array(["common"] * 180 + ["rare"] * 20)
    kw = dict(hidden_units=(8,), epochs=30, learning_rate=1e-2, random_state=0)
    plain = KerasDNNClassifier(**kw).fit(X, y).predict(X)
    weighted = KerasDNNClassifier(class_weight="balanced", **kw).fit(X, y).predict(X)
    assert np.mean(weighted[y == "rare"] == "rare") > np.mean(plain[y == "rare"] == "rare")


def test_pickle_and_keras_export_agree(rng, tmp_path):
    import keras

    X, y = _blobs(rng)
    clf = KerasDNNClassifier(hidden_units=(16, 8), epochs=20).fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict(X), clf.predict(X))
    model = clf.to_keras()
    model.save(tmp_path / "dnn.keras")
    loaded = keras.saving.load_model(tmp_path / "dnn.keras", safe_mode=True)
    np.testing.assert_allclose(loaded.predict(X, verbose=0), clf.predict_proba(X), atol=1e-5)


@pytest.mark.parametrize("bad", [dict(hidden_units=()), dict(epochs=0), dict(batch_size=0),
                                 dict(learning_rate=-1.0), dict(optimizer="sgd"),
                                 dict(class_weight="weird"), dict(l2=-1.0)])
def test_bad_parameters_raise_at_fit(bad, rng):
    X, y = _blobs(rng, n=30)
    clf = KerasDNNClassifier(**bad)  # __init__ only stores
    with pytest.raises(ValueError):
        clf.fit(X, y)
