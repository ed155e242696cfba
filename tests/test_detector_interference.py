"""Round 2 of the cry detector's training pieces (issue 23): the interference copies, the
synthetic household noise, the category/origin-balanced weights and the fast-onset
threshold. No model is trained here."""

from __future__ import annotations

import re

import numpy as np
import pytest

from cryvideo.training.yamnet_cry import (
    INTERFERENCE_SNRS,
    THRESHOLDS,
    augment_interference,
    clip_weights,
    colored_noise,
    onset_threshold,
)

SR = 16000


def _tone(f0, seconds=1.0, amp=0.3):
    t = np.arange(int(seconds * SR)) / SR
    return (amp * np.sin(2 * np.pi * f0 * t)).astype(np.float32)


def _corpus(cats, rng):
    """Cries are tones, negatives white noise of various loudness (none silent)."""
    waves = [_tone(450 + 10 * i) if c == "cry" else
             (rng.uniform(0.01, 0.5) * rng.standard_normal(SR)).astype(np.float32)
             for i, c in enumerate(cats)]
    return waves, ["cry" if c == "cry" else "not_cry" for c in cats], list(cats)


CATS = (["cry"] * 5 + ["music"] * 2 + ["adult_singing"] + ["adult_speech"] * 3
        + ["child_speech"] * 2 + ["environmental_sound"] * 3 + ["infant_laughter"] * 2)


def _snr_of(a, waves):
    """The cry-to-background ratio of a copy: the source against what was added to it."""
    src = waves[a["source"]]
    added = a["wave"] - src
    return 10 * np.log10(np.mean(src.astype(float) ** 2) / np.mean(added.astype(float) ** 2))


def test_interference_copies_use_only_the_training_clips():
    rng = np.random.default_rng(0)
    waves, labels, cats = _corpus(CATS, rng)
    idx = np.array([0, 1, 2, 5, 7, 8, 9, 11, 12, 14, 15, 17])      # a training fold
    aug = augment_interference(waves, labels, cats, idx, rng=np.random.default_rng(1), n_mix=3)
    cries = [a for a in aug if a["label"] == "cry"]
    negs = [a for a in aug if a["label"] == "not_cry"]
    assert len(cries) == 3 * 3 and len(negs) == len(cries)          # balanced: 3 cries x 3
    assert sorted({a["source"] for a in cries}) == [0, 1, 2]
    assert all(labels[a["source"]] == "not_cry" for a in negs)
    for a in aug:
        assert a["set"] == "interference"
        assert a["parts"][0] == a["source"]
        assert set(a["parts"]) <= set(idx.tolist()), a["what"]
        assert a["wave"].shape == waves[a["source"]].shape and a["wave"].dtype == np.float32
        # each background is of the kind the copy says
        bg = [cats[p] for p in a["parts"][1:]]
        if " under music " in a["what"]:
            assert len(bg) == 1 and bg[0] in ("music", "adult_singing")
        elif " under speech " in a["what"]:
            assert len(bg) == 1 and bg[0] in ("adult_speech", "child_speech")
        elif " under babble " in a["what"]:
            assert len(bg) == 3 and set(bg) <= {"adult_speech", "child_speech"}
            assert len(set(a["parts"][1:])) == 3                     # three speakers
        elif " under household noise " in a["what"]:
            assert bg == ["environmental_sound"]
        else:
            assert " under synthetic noise " in a["what"] and bg == []


def test_interference_copies_are_mixed_at_the_drawn_snr():
    rng = np.random.default_rng(2)
    waves, labels, cats = _corpus(CATS, rng)
    aug = augment_interference(waves, labels, cats, np.arange(len(CATS)),
                               rng=np.random.default_rng(3), n_mix=4)
    drawn = set()
    for a in aug:
        snr = float(re.search(r"at ([+-]\d+\.\d) dB", a["what"]).group(1))
        assert snr in INTERFERENCE_SNRS
        drawn.add(snr)
        assert _snr_of(a, waves) == pytest.approx(snr, abs=0.05), a["what"]
    assert min(drawn) == -5.0                  # the background louder than the cry is drawn
    kinds = {re.search(r"under (.+) at", a["what"]).group(1) for a in aug}
    assert kinds == {"music", "speech", "babble", "household noise", "synthetic noise"}


def test_a_known_tone_under_known_noise_at_minus_5_db():
    """A tone of RMS 0.3/sqrt(2) under unit-RMS white noise, with only -5 dB to draw: the noise
    added is sqrt(10^0.5) times louder than the tone."""
    rng = np.random.default_rng(4)
    waves = [_tone(440), rng.standard_normal(SR).astype(np.float32)]
    aug = augment_interference(waves, ["cry", "not_cry"], ["cry", "environmental_sound"], [0, 1],
                               rng=np.random.default_rng(5), n_mix=20, snrs=(-5.0,))
    for a in aug:
        if a["label"] != "cry":
            continue
        added = a["wave"] - waves[0]
        rms_tone = 0.3 / np.sqrt(2)
        assert np.sqrt(np.mean(added.astype(float) ** 2)) == pytest.approx(
            rms_tone * 10 ** 0.25, rel=2e-3)
        if a["parts"] == [0, 1]:                    # the recorded noise, not synthetic
            # what was added is the noise clip itself, scaled (cropped at an offset 0)
            assert abs(np.corrcoef(added, waves[1])[0, 1]) > 0.999


@pytest.mark.parametrize("cats, kinds", [
    # no music, no speech: household noise only (recorded or synthetic)
    (["cry"] * 3 + ["environmental_sound"] * 2 + ["infant_laughter"],
     {"household noise", "synthetic noise"}),
    # two speakers only: speech, but no babble (it needs three)
    (["cry"] * 3 + ["adult_speech"] * 2, {"speech", "synthetic noise"}),
    # no background at all: synthetic noise under everything
    (["cry"] * 3 + ["infant_laughter"] * 2, {"synthetic noise"}),
])
def test_interference_copies_when_a_pool_is_empty(cats, kinds):
    rng = np.random.default_rng(6)
    waves, labels, cats = _corpus(cats, rng)
    aug = augment_interference(waves, labels, cats, np.arange(len(cats)),
                               rng=np.random.default_rng(7), n_mix=8)
    assert len(aug) == 2 * 8 * 3
    got = {re.search(r"under (.+) at", a["what"]).group(1) for a in aug}
    assert got <= kinds and "synthetic noise" in got
    assert all(np.all(np.isfinite(a["wave"])) for a in aug)
    for a in aug:
        assert _snr_of(a, waves) == pytest.approx(
            float(re.search(r"at ([+-]\d+\.\d) dB", a["what"]).group(1)), abs=0.05)


def _band_power(x, lo, hi):
    spec = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(x.size, 1 / SR)
    return spec[(f >= lo) & (f < hi)].mean()


@pytest.mark.parametrize("seed", range(6))
def test_colored_noise(seed):
    x = colored_noise(3 * SR + 7, rng=np.random.default_rng(seed))
    assert x.shape == (3 * SR + 7,) and x.dtype == np.float32 and np.all(np.isfinite(x))
    assert np.sqrt(np.mean(x.astype(float) ** 2)) == pytest.approx(1.0, rel=1e-4)
    # the spectrum falls with frequency (pink: 10 dB a decade, brown: 20 dB; the centres of
    # these bands are 1 and 0.46 decade apart)
    low, mid, high = (_band_power(x, 150, 300), _band_power(x, 1500, 3000),
                      _band_power(x, 5000, 8000))
    assert low > 5 * mid and mid > 2 * high
    # no DC offset, and a good part of the power where YAMNet listens (above 125 Hz), so a
    # cry "at -5 dB" under it is not a clean cry to the model
    assert abs(float(np.mean(x))) < 0.05
    spec = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(x.size, 1 / SR)
    assert spec[f >= 125].sum() > 0.25 * spec.sum()


def test_colored_noise_short_and_reproducible():
    assert colored_noise(1, rng=np.random.default_rng(0)).shape == (1,)
    a = colored_noise(SR, rng=np.random.default_rng(9))
    assert np.array_equal(a, colored_noise(SR, rng=np.random.default_rng(9)))


def _clip_weights_before(groups, y):
    """clip_weights as it was before strata (issue 23): the reference of the default."""
    groups, y = np.asarray(groups), np.asarray(y)
    _, inv, counts = np.unique(groups, return_inverse=True, return_counts=True)
    w = 1.0 / np.sqrt(counts[inv])
    for c in (0, 1):
        m = y == c
        if m.any():
            w[m] *= 0.5 * len(y) / w[m].sum()
    return w.astype(np.float32)


def test_clip_weights_with_strata():
    # cries: origin A of 9 one-clip recordings, origin B of one recording of 4 clips;
    # negatives: category m of 4 recordings (one of 9 clips), category s of 1 recording
    g = ([f"a{i}" for i in range(9)] + ["b"] * 4 + ["m0"] * 9 + ["m1", "m2", "m3"] + ["s"])
    y = [1] * 13 + [0] * 13
    st = ["cry:A"] * 9 + ["cry:B"] * 4 + ["neg:m"] * 12 + ["neg:s"]
    g, y, st = np.array(g), np.array(y), np.array(st)
    w = clip_weights(g, y, st)
    assert w.mean() == pytest.approx(1.0)
    assert w[y == 1].sum() == pytest.approx(w[y == 0].sum())        # both classes weigh alike
    # each stratum in proportion to sqrt(its recordings)
    assert w[st == "cry:A"].sum() / w[st == "cry:B"].sum() == pytest.approx(np.sqrt(9) / 1)
    assert w[st == "neg:m"].sum() / w[st == "neg:s"].sum() == pytest.approx(np.sqrt(4) / 1)
    # within a stratum a recording of 9 clips still weighs sqrt(9) = 3 one-clip recordings
    assert w[g == "m0"].sum() == pytest.approx(3 * w[g == "m1"].sum())
    # without strata: as before
    np.testing.assert_allclose(clip_weights(g, y), _clip_weights_before(g, y), rtol=1e-6)
    np.testing.assert_allclose(clip_weights(g, y, None), _clip_weights_before(g, y), rtol=1e-6)
    assert not np.allclose(w, clip_weights(g, y))


def _fpr(y, s, w, t):
    neg = ~np.asarray(y, bool)
    return np.average(np.asarray(s)[neg] >= t, weights=np.asarray(w, float)[neg])


def test_onset_threshold_is_no_more_trigger_happy_than_the_window_rule():
    rng = np.random.default_rng(0)
    for _ in range(40):
        n = 60
        y = rng.random(n) < 0.4
        window = np.clip(rng.normal(0.3 + 0.4 * y, 0.2), 0, 1)
        patch_max = np.clip(window + rng.uniform(0, 0.3, n), 0, 1)   # one patch >= the mean
        w = rng.uniform(0.2, 1.0, n)
        thr = float(rng.choice(THRESHOLDS[:30]))
        t = onset_threshold(y, window, patch_max, w, threshold=thr, margin=0.0)
        assert t >= thr
        assert _fpr(y, patch_max, w, t) <= _fpr(y, window, w, thr) + 1e-12
        if t < 1.0:     # and the lowest such threshold of the grid
            lower = THRESHOLDS[(THRESHOLDS < t - 1e-9) & (THRESHOLDS >= thr - 1e-12)]
            assert all(_fpr(y, patch_max, w, u) > _fpr(y, window, w, thr) for u in lower)


def test_onset_threshold_by_hand():
    # negatives: window scores 0.3, 0.5; their best patches 0.55, 0.72 (weights 1, 1)
    # the window rule at 0.4 calls one of two negatives crying (FPR 0.5): a single patch may
    # do the same, first at t = 0.575 (only the 0.72 patch reaches it)
    y = [1, 1, 0, 0]
    t = onset_threshold(y, [0.9, 0.8, 0.3, 0.5], [0.95, 0.9, 0.55, 0.72], [1, 1, 1, 1],
                        threshold=0.4, margin=0.0)
    assert t == pytest.approx(0.575)
    # one patch must be well above the window rule's threshold: by the margin (0.2) at least
    t = onset_threshold(y, [0.9, 0.8, 0.3, 0.5], [0.95, 0.9, 0.55, 0.72], [1, 1, 1, 1],
                        threshold=0.4)
    assert t == pytest.approx(0.6)
    # the margin stops at the top of the grid
    assert onset_threshold(y, [0.9, 0.8, 0.3, 0.5], [0.95, 0.9, 0.55, 0.72], [1, 1, 1, 1],
                           threshold=0.85) == pytest.approx(0.95)
    # nothing qualifies: no negative is called by the window rule, but one has a patch above
    # every threshold of the grid; no negative at all
    assert onset_threshold(y, [0.9, 0.8, 0.1, 0.2], [0.95, 0.9, 0.99, 0.2], [1, 1, 1, 1],
                           threshold=0.5) == 1.0
    assert onset_threshold([1, 1], [0.9, 0.8], [0.95, 0.9], [1, 1], threshold=0.5) == 1.0


def test_prevalence_threshold_trades_recall_for_precision_when_cries_are_rare():
    from cryvideo.errors import ParameterError
    from cryvideo.training.yamnet_cry import prevalence_threshold

    # cries score 0.6 or 0.9 (half each); negatives 0.1, except one in ten at 0.55
    y = np.array([1] * 10 + [0] * 10)
    s = np.array([0.6] * 5 + [0.9] * 5 + [0.1] * 9 + [0.55])
    w = np.ones(20)
    grid = np.array([0.5, 0.7])
    # at 0.5: recall 1, FPR 0.1; at 0.7: recall 0.5, FPR 0
    t, f1 = prevalence_threshold(y, s, w, prevalence=0.5, grid=grid)
    assert t == 0.5 and f1 == pytest.approx(2 * 0.5 / (0.5 + 0.05 + 0.5))
    t, f1 = prevalence_threshold(y, s, w, prevalence=0.04, grid=grid)
    assert t == 0.7 and f1 == pytest.approx(2 * 0.02 / (0.02 + 0.04))
    with pytest.raises(ParameterError, match="prevalence"):
        prevalence_threshold(y, s, w, prevalence=1.0)
