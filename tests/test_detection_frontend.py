"""YAMNet's front end in NumPy, patch pooling and segment merging (no weights needed)."""

from __future__ import annotations

import numpy as np
import pytest

from cryvideo.detection.decisions import clip_score, merge_segments, moving_mean
from cryvideo.detection.frontend import (
    YAMNET_FRONTEND,
    log_mel,
    mel_matrix,
    n_patches,
    pad_waveform,
    patches,
    waveform_patches,
)

SR = 16000


@pytest.mark.parametrize("n,expect", [(1, 15600), (15600, 15600), (15601, 15600 + 7680),
                                      (15600 + 7680, 15600 + 7680), (16000 * 5, 84720)])
def test_pad_waveform_gives_whole_patches(n, expect):
    y = pad_waveform(np.ones(n, np.float32))
    assert y.size == expect
    assert np.all(y[:n] == 1) and np.all(y[n:] == 0)
    assert len(waveform_patches(np.zeros(n, np.float32))) == 1 + (expect - 15600) // 7680


def test_patch_timing():
    f = YAMNET_FRONTEND
    assert f.patch_seconds == pytest.approx(0.975)
    assert f.hop_seconds == pytest.approx(0.48)
    assert n_patches(95) == 0 and n_patches(96) == 1 and n_patches(144) == 2


def test_patches_are_views_of_the_frames():
    lm = np.arange(300 * 64, dtype=np.float32).reshape(300, 64)
    p = patches(lm)
    assert p.shape == (n_patches(300), 96, 64)
    np.testing.assert_array_equal(p[2], lm[96:192])
    assert not p.flags.writeable


def test_log_mel_of_a_tone_peaks_at_its_band():
    t = np.arange(SR) / SR
    for hz in (500.0, 2000.0):
        lm = log_mel(0.5 * np.sin(2 * np.pi * hz * t).astype(np.float32))
        band = int(np.argmax(lm.mean(0)))
        # band centres of the HTK mel scale between 125 and 7500 Hz
        edges = np.linspace(1127 * np.log1p(125 / 700), 1127 * np.log1p(7500 / 700), 66)
        centre = 700 * (np.exp(edges[band + 1] / 1127) - 1)
        assert abs(centre - hz) / hz < 0.08
    silent = log_mel(np.zeros(SR, np.float32))
    np.testing.assert_allclose(silent, np.log(0.001), atol=1e-6)


def test_log_mel_blocks_do_not_change_it():
    y = np.random.default_rng(0).standard_normal(SR * 3).astype(np.float32) * 0.1
    np.testing.assert_allclose(log_mel(y, block_frames=7), log_mel(y), atol=1e-6)


def test_mel_matrix_shape_and_dc():
    m = mel_matrix()
    assert m.shape == (257, 64)
    assert np.all(m[0] == 0) and np.all(m >= 0) and m.max() <= 1.0
    assert np.all(m.sum(0) > 0)      # every band gets some bins


def test_moving_mean_and_clip_score():
    p = np.array([0.1, 0.9, 0.9, 0.9, 0.1])
    np.testing.assert_allclose(moving_mean(p, 3), [19 / 30, 0.9, 19 / 30])
    assert clip_score(p, 3) == pytest.approx(0.9)
    assert clip_score([0.2, 0.4], 3) == pytest.approx(0.3)  # shorter than the window
    assert clip_score([], 3) == 0.0
    # one burst weighs less than a sustained run
    assert clip_score([0, 0, 1.0, 0, 0], 3) < clip_score([0, 0.8, 0.8, 0.8, 0], 3)


def test_merge_segments():
    starts = np.arange(6) * 0.5
    scores = np.array([0.9, 0.9, 0.1, 0.1, 0.8, 0.2])
    assert merge_segments(starts, scores, window=1.0, threshold=0.5, duration=3.2) == \
        [(0.0, 1.5), (2.0, 3.0)]
    assert merge_segments(starts, scores, window=1.0, threshold=0.95, duration=3.2) == []
    assert merge_segments([0.0], [1.0], window=2.0, threshold=0.5, duration=1.2) == [(0.0, 1.2)]
