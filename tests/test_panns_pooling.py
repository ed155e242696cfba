"""Pooling heads: output shapes, invariance to the order of frames, saving with safe_mode."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from cryvideo.errors import ParameterError  # noqa: E402
from cryvideo.models.pooling_layers import POOLINGS, FrameSmoothing, make_pooling  # noqa: E402

B, T, C = 3, 11, 16


@pytest.fixture()
def frames(rng):
    return rng.normal(size=(B, T, C)).astype("float32")


@pytest.mark.parametrize("kind", POOLINGS)
def test_output_shape(kind, frames):
    layer = make_pooling(kind, heads=4)
    out = np.asarray(layer(frames))
    assert out.shape == (B, C)
    assert np.all(np.isfinite(out))
    assert layer.compute_output_shape((B, T, C)) == (B, C)


@pytest.mark.parametrize("kind", POOLINGS)
def test_invariant_to_frame_order(kind, frames, rng):
    layer = make_pooling(kind, heads=4)
    perm = rng.permutation(T)
    a = np.asarray(layer(frames))
    b = np.asarray(layer(frames[:, perm]))
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", POOLINGS)
def test_depends_on_frame_values(kind, frames):
    # Not trivially constant: changing one frame changes the output.
    layer = make_pooling(kind, heads=4)
    a = np.asarray(layer(frames))
    f2 = frames.copy()
    f2[:, 3] += 5.0
    assert not np.allclose(a, np.asarray(layer(f2)))


def test_reference_values(frames):
    np.testing.assert_allclose(make_pooling("max")(frames), frames.max(1), rtol=1e-6)
    np.testing.assert_allclose(make_pooling("avg")(frames), frames.mean(1), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(make_pooling("maxavg")(frames),
                               frames.max(1) + frames.mean(1), rtol=1e-5, atol=1e-6)
    stat = make_pooling("stat")
    stat(frames)
    w, b = stat.dense.get_weights()
    feats = np.concatenate([frames.mean(1), frames.var(1)], -1)
    np.testing.assert_allclose(stat(frames), feats @ w + b, rtol=1e-4, atol=1e-4)


def test_mha_is_weighted_average(frames):
    """With equal attention scores every head is the plain average."""
    mha = make_pooling("mha", heads=4)
    mha(frames)
    w, b = mha.score.get_weights()
    mha.score.set_weights([np.zeros_like(w), np.ones_like(b)])
    np.testing.assert_allclose(mha(frames), frames.mean(1), rtol=1e-5, atol=1e-5)
    # a head's output always lies inside its channels' range over time
    mha.score.set_weights([np.random.default_rng(1).normal(size=w.shape).astype("float32"),
                           b])
    out = np.asarray(mha(frames))
    assert np.all(out <= frames.max(1) + 1e-5) and np.all(out >= frames.min(1) - 1e-5)


def test_mha_heads_must_divide_channels(frames):
    with pytest.raises(ValueError, match="divide"):
        make_pooling("mha", heads=5)(frames)


def test_unknown_pooling():
    with pytest.raises(ParameterError, match="unknown pooling"):
        make_pooling("median")


def test_frame_smoothing_matches_panns(frames):
    out = np.asarray(FrameSmoothing()(frames))
    pad_m = np.pad(frames, ((0, 0), (1, 1), (0, 0)), constant_values=-np.inf)
    pad_a = np.pad(frames, ((0, 0), (1, 1), (0, 0)))
    ref = (np.maximum(np.maximum(pad_m[:, :-2], pad_m[:, 1:-1]), pad_m[:, 2:])
           + (pad_a[:, :-2] + pad_a[:, 1:-1] + pad_a[:, 2:]) / 3)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", POOLINGS)
def test_saved_model_loads_in_safe_mode(kind, frames, tmp_path):
    inp = keras.Input((None, C))
    model = keras.Model(inp, keras.layers.Dense(2)(make_pooling(kind, heads=4)(inp)))
    p = tmp_path / "m.keras"
    model.save(p)
    again = keras.saving.load_model(p, safe_mode=True)
    np.testing.assert_allclose(model(frames), again(frames), rtol=1e-5, atol=1e-5)
