"""Distillation loss, mixup and crops."""

from __future__ import annotations

import numpy as np
import pytest

from cryvideo.training.panns import crop, kd_loss, mixup, random_crops, sliding_windows


def _np(x):
    return np.asarray(x)


def test_kd_loss_limits(rng):
    logits = rng.normal(size=(6, 3)).astype("float32")
    hard = np.eye(3, dtype="float32")[rng.integers(0, 3, 6)]
    teacher = rng.normal(size=(6, 3)).astype("float32")
    packed = np.concatenate([hard, teacher], 1)
    ce = -np.sum(hard * (logits - np.log(np.exp(logits).sum(1, keepdims=True))), 1)
    np.testing.assert_allclose(_np(kd_loss(n_classes=3, alpha=0.0)(packed, logits)), ce,
                               rtol=1e-5)
    # pure distillation to a student equal to the teacher: KL = 0
    same = np.concatenate([hard, logits], 1)
    np.testing.assert_allclose(_np(kd_loss(n_classes=3, alpha=1.0)(same, logits)), 0,
                               atol=1e-5)
    # KL grows when the student disagrees; T² scaling keeps it comparable across T
    kl4 = _np(kd_loss(n_classes=3, alpha=1.0, temperature=4)(packed, logits))
    assert np.all(kl4 >= 0) and np.any(kl4 > 1e-3)


def test_mixup_is_convex(rng):
    x = rng.normal(size=(8, 5, 4)).astype("float32")
    y = np.eye(2, dtype="float32")[rng.integers(0, 2, 8)]
    xm, ym = mixup(x, y, alpha=0.4, rng=np.random.default_rng(1))
    assert xm.shape == x.shape and ym.shape == y.shape
    np.testing.assert_allclose(ym.sum(1), 1, rtol=1e-6)
    assert np.all(xm <= x.max(0) + 1e-5)


def test_crops_and_windows(rng):
    x = rng.normal(size=(50, 8)).astype("float32")
    assert crop(x, 45, 10).shape == (10, 8)
    np.testing.assert_array_equal(crop(x, 45, 10)[5:], x.min())
    assert random_crops([x, x[:5]], 20, rng).shape == (2, 20, 8)
    w, s = sliding_windows(x, 20, 10)
    assert w.shape[1:] == (20, 8) and list(s) == [0, 10, 20, 30]
    np.testing.assert_array_equal(w[1], x[10:30])
    _, s = sliding_windows(x[:45], 20, 10)
    assert list(s) == [0, 10, 20, 25]                 # last window aligned to the end
    w, s = sliding_windows(x[:5], 20, 10)
    assert w.shape == (1, 20, 8) and list(s) == [0]


def test_mix_background_adds_power_at_the_asked_ratio(rng):
    from cryvideo.training.panns import mix_background

    x = rng.uniform(-40, 0, size=(50, 64)).astype("float32")
    bg = rng.uniform(-60, -20, size=(50, 64)).astype("float32")
    for snr in (0.0, 10.0, 20.0):
        out = mix_background(x, bg, snr)
        px = 10 ** (x / 10)
        added = 10 ** (out.astype(float) / 10) - px
        assert np.all(added > 0) and out.shape == x.shape and out.dtype == np.float32
        # the added power is the background scaled to (mean power of x) / 10^(snr/10)
        assert 10 * np.log10(px.mean() / added.mean()) == pytest.approx(snr, abs=0.01)


def test_detector_weights_balance_classes_and_the_extra_positives():
    from cryvideo.training.cnn10_detector import detector_weights

    y = np.array([1] * 10 + [0] * 30 + [1] * 60)        # 10 set cries, 30 not-cry, 60 extra cries
    extra = np.array([False] * 40 + [True] * 60)
    for how in ("clip", "equal"):
        w = detector_weights(y, extra, extra_weight=how)
        assert w[y == 1].sum() == pytest.approx(w[y == 0].sum())   # classes balanced
        assert w.sum() == pytest.approx(len(y))
    w = detector_weights(y, extra, extra_weight="equal")
    assert w[extra].sum() == pytest.approx(w[(y == 1) & ~extra].sum())
    w = detector_weights(y, extra, extra_weight="clip")
    assert np.allclose(w[y == 1], w[0])                 # every cry weighs the same
    with pytest.raises(ValueError):
        detector_weights(y, extra, extra_weight="nope")
