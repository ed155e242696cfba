"""The paper's waveform preprocessing, feature shapes, and the on-disk feature cache."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from cryvideo.audio import FeatureParams, extract_features, standardize_minmax, summarize
from cryvideo.audio.cache import FeatureCache
from cryvideo.audio.features import features_from_waveform
from cryvideo.errors import ParameterError


def _cry(rng, sr=8000, seconds=1.0):
    t = np.arange(int(sr * seconds)) / sr
    f0 = 450 + 60 * np.sin(2 * np.pi * 3 * t)
    return (0.3 * np.sin(2 * np.pi * np.cumsum(f0) / sr) + 0.02 * rng.normal(size=t.size))


def test_standardize_minmax_range(rng):
    y = standardize_minmax(rng.normal(3.0, 5.0, size=4000))
    assert y.dtype == np.float32
    assert y.min() == pytest.approx(0.0, abs=1e-7)
    assert y.max() == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("scale, offset", [(1e-3, 0.0), (7.5, -2.0), (250.0, 1e3)])
def test_standardize_minmax_invariant_to_gain_and_offset(rng, scale, offset):
    y = rng.normal(size=2000)
    np.testing.assert_allclose(standardize_minmax(scale * y + offset), standardize_minmax(y),
                               atol=1e-5)


def test_standardize_minmax_edge_cases():
    assert not standardize_minmax(np.full(100, 0.25)).any()  # silence → zeros, no NaN
    with pytest.raises(ParameterError):
        standardize_minmax(np.array([0.0, np.nan, 1.0]))
    with pytest.raises(ParameterError):
        standardize_minmax(np.zeros((2, 10)))


@pytest.mark.parametrize("params", [
    FeatureParams(),
    FeatureParams(sr=16000, duration=2.0, n_fft=1024, hop_length=320, n_mels=40, n_mfcc=13),
    FeatureParams(duration=0.5, n_fft=256, hop_length=64),
])
def test_feature_shapes_follow_params(rng, params):
    y = _cry(rng, sr=params.sr, seconds=1.3)  # cropped or padded to params.duration
    feats = features_from_waveform(y, params)
    for kind in ("mfcc", "stft"):
        assert feats[kind].shape == params.shape(kind)
        assert feats[kind].dtype == np.float32
        assert np.isfinite(feats[kind]).all()
        assert summarize(feats[kind]).shape == (2 * params.shape(kind)[0],)


def test_cache_hit_on_second_call(tmp_path, rng):
    wav = tmp_path / "clip.wav"
    sf.write(wav, _cry(rng).astype(np.float32), 8000)
    cache = FeatureCache(tmp_path / "cache")
    params = FeatureParams(duration=1.0)
    first = extract_features(wav, params=params, cache=cache)
    assert (cache.hits, cache.misses) == (0, 1)
    second = extract_features(wav, params=params, cache=cache)
    assert (cache.hits, cache.misses) == (1, 1)
    for kind in ("mfcc", "stft"):
        np.testing.assert_array_equal(first[kind], second[kind])
    # other parameters: another entry
    extract_features(wav, params=FeatureParams(duration=1.0, n_mfcc=13), cache=cache)
    assert cache.misses == 2
    # same name, new content: keyed by content, so recomputed
    sf.write(wav, _cry(rng, seconds=0.7).astype(np.float32), 8000)
    third = extract_features(wav, params=params, cache=cache)
    assert cache.misses == 3
    assert not np.array_equal(third["mfcc"], first["mfcc"])


@pytest.mark.parametrize("params", [FeatureParams(), FeatureParams(sr=16000, n_fft=1024,
                                                                   hop_length=320, n_mels=80,
                                                                   n_mfcc=20, fmin=50.0,
                                                                   fmax=7000.0)])
def test_features_are_librosas(params):
    """MFCC and log-STFT are computed in NumPy (no librosa start-up in predict) and must be
    librosa's defaults to float precision."""
    import librosa

    from cryvideo.audio.features import mel_filters, mfcc, stft_logmag

    rng = np.random.default_rng(0)
    t = np.arange(params.sr * 2) / params.sr
    y = (0.3 * np.sin(2 * np.pi * 450 * t) + 0.05 * rng.standard_normal(t.size)).astype(
        np.float32)
    y[: params.sr // 4] = 0.0                        # some silence: the dB floor is exercised
    np.testing.assert_allclose(
        mel_filters(params.sr, params.n_fft, params.n_mels, params.fmin, params.fmax),
        librosa.filters.mel(sr=params.sr, n_fft=params.n_fft, n_mels=params.n_mels,
                            fmin=params.fmin, fmax=params.fmax), atol=1e-7)
    ref = librosa.feature.mfcc(y=y, sr=params.sr, n_mfcc=params.n_mfcc, n_fft=params.n_fft,
                               hop_length=params.hop_length, n_mels=params.n_mels,
                               fmin=params.fmin, fmax=params.fmax)
    np.testing.assert_allclose(mfcc(y, params), ref, atol=2e-3)
    spec = np.abs(librosa.stft(y, n_fft=params.n_fft, hop_length=params.hop_length))
    ref = librosa.amplitude_to_db(spec, ref=1.0, amin=1e-5, top_db=None)
    np.testing.assert_allclose(stft_logmag(y, params), ref, atol=2e-3)


def test_settings_dict_round_trip_and_unknown_keys():
    """FeatureParams refuses keys it does not know (a card of other features must not load as
    these); the log-mel and YAMNet front ends ignore them (what a newer card adds)."""
    from cryvideo.audio.logmel import PANNS_16K, LogMelParams
    from cryvideo.detection.frontend import YAMNET_FRONTEND, YamnetFrontend

    p = FeatureParams(sr=16000, duration=None)
    assert FeatureParams.from_dict(p.to_dict()) == p
    assert p.key() == FeatureParams.from_dict(p.to_dict()).key()
    with pytest.raises(ParameterError, match=r"unknown feature parameters: \['n_bands'\]"):
        FeatureParams.from_dict({**p.to_dict(), "n_bands": 3})
    assert LogMelParams.from_dict({**PANNS_16K.to_dict(), "n_bands": 3}) == PANNS_16K
    assert YamnetFrontend.from_dict({"hop": 80, "n_bands": 3}) == YamnetFrontend(hop=80)
    assert YAMNET_FRONTEND.to_dict()["patch_frames"] == 96
    assert "refuse_unknown" not in p.to_dict()
