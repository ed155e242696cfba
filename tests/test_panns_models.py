"""CNN10 / CNN14 / ResNet22 builders and the log-mel front end."""

from __future__ import annotations

import numpy as np
import pytest

from cryvideo.audio.logmel import PANNS_16K, logmel
from cryvideo.errors import ParameterError
from cryvideo.models.panns import SpecAugment, build_model, channels


def test_logmel_shape_and_settings():
    sr = PANNS_16K.sr
    t = np.arange(sr) / sr
    y = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype("float32")
    m = logmel(y)
    assert m.shape == (1 + sr // 160, 64) and m.dtype == np.float32
    # a 1 kHz tone puts its energy in the mel band containing 1 kHz
    import librosa

    centres = librosa.mel_frequencies(66, fmin=50, fmax=8000)[1:-1]
    assert abs(centres[int(np.argmax(m.mean(0)))] - 1000) < 120
    assert np.allclose(logmel(np.zeros(sr, "float32")), -100.0)  # 10·log10(1e-10) in float32


@pytest.mark.parametrize("arch", ["cnn10", "cnn14", "resnet22"])
@pytest.mark.parametrize("pooling", ["maxavg", "mha"])
def test_builders_shapes(arch, pooling, rng):
    m = build_model(arch, width=1 / 16, pooling=pooling, n_classes=3, activation="softmax",
                    spec_augment=True)
    for frames in (101, 160):  # any length works
        x = rng.normal(size=(2, frames, 64)).astype("float32")
        y = np.asarray(m(x, training=False))
        assert y.shape == (2, 3)
        np.testing.assert_allclose(y.sum(1), 1.0, rtol=1e-5)


def test_full_width_matches_paper_channels():
    m = build_model("cnn10", width=1.0, n_classes=527)
    convs = [la.filters for la in m.layers if la.name.endswith("_2_conv")]
    assert convs == [64, 128, 256, 512]
    assert channels((64, 128, 256, 512, 1024, 2048), 0.25) == [16, 32, 64, 128, 256, 512]
    # PANNs Cnn10 without its front end has 4.96 M parameters (527 outputs)
    assert 4.9e6 < m.count_params() < 5.3e6


def test_bad_parameters():
    with pytest.raises(ParameterError):
        build_model("cnn12")
    with pytest.raises(ParameterError):
        build_model("cnn10", width=0)
    with pytest.raises(ParameterError):
        build_model("cnn10", pooling="median")


def test_spec_augment_only_in_training(rng):
    layer = SpecAugment(time_masks=2, time_width=10, freq_masks=2, freq_width=8, seed=1)
    x = rng.normal(size=(4, 100, 64, 1)).astype("float32") + 5
    np.testing.assert_array_equal(layer(x, training=False), x)
    y = np.asarray(layer(x, training=True))
    zero = y == 0
    assert zero.any() and zero.mean() < 0.6
    # masked cells are whole time rows or mel columns
    rows = zero.all(axis=(2, 3))
    cols = zero.all(axis=(1, 3))
    assert np.array_equal(zero[..., 0], rows[:, :, None] | cols[:, None, :])


@pytest.mark.parametrize("n", [300, 16000, 16000 * 9 + 77])
def test_logmel_in_blocks_equals_one_centred_stft(n):
    """Long inputs are processed in STFT blocks: the same frames as one centred STFT."""
    import librosa

    from cryvideo.audio.logmel import _mel_basis

    y = (0.1 * np.random.default_rng(n).normal(size=n)).astype("float32")
    p = PANNS_16K
    spec = np.abs(librosa.stft(y, n_fft=p.n_fft, hop_length=p.hop, window="hann",
                               center=True, pad_mode="reflect")) ** 2
    ref = (10 * np.log10(np.maximum(_mel_basis(p) @ spec, 1e-10))).T
    for block in (7, 100, 10**6):
        out = logmel(y, block_frames=block)
        assert out.shape == ref.shape == (1 + n // p.hop, p.n_mels)
        np.testing.assert_allclose(out, ref, atol=1e-4)
