"""Training pieces of the cry detector: augmentation from training groups only, weights, the
YAMNet gate, clip-level (multiple-instance) training, and export to TFLite."""

from __future__ import annotations

import numpy as np
import pytest

from cryvideo.models.yamnet_cry import CRY_CLASS, SOB_CLASS, VOCAL_CLASSES, teacher_gate
from cryvideo.training.yamnet_cry import (
    BACKGROUND_CATEGORIES,
    RECIPES,
    PatchTrainer,
    augment,
    best_threshold,
    clip_weights,
    split_long,
    weighted_f1,
)

SR = 16000


def _corpus(rng):
    cats = (["cry"] * 6 + ["music"] * 3 + ["adult_speech"] * 4 + ["infant_laughter"] * 2
            + ["environmental_sound"] * 3)
    labels = ["cry" if c == "cry" else "not_cry" for c in cats]
    waves = [(0.1 * rng.standard_normal(SR * 2)).astype(np.float32) for _ in cats]
    return waves, labels, cats


def test_augment_uses_only_the_given_clips():
    rng = np.random.default_rng(0)
    waves, labels, cats = _corpus(rng)
    train = np.array([0, 1, 2, 3, 6, 7, 9, 10, 11, 13, 15, 16])     # a training fold
    aug = augment(waves, labels, cats, train, rng=rng, n_mix=2)
    assert aug
    for a in aug:
        assert set(a["parts"]) <= set(train.tolist())
        assert a["source"] in train and a["wave"].shape == waves[a["source"]].shape
        assert np.all(np.isfinite(a["wave"]))
    cries = [a for a in aug if a["label"] == "cry" and "under" in a["what"]]
    mixed_negs = [a for a in aug if a["label"] == "not_cry" and "mixed" in a["what"]]
    # every training cry twice, and as many negatives under the same kinds of background
    assert len(cries) == 2 * 4 and len(mixed_negs) == len(cries)
    for a in cries:
        assert labels[a["source"]] == "cry"
        assert all(cats[p] in BACKGROUND_CATEGORIES for p in a["parts"][1:])
    # every training negative also comes band-limited, labelled not_cry
    bl = {a["source"] for a in aug if a["what"].startswith("band-limited")
          and a["label"] == "not_cry"}
    assert bl == {int(i) for i in train if labels[i] == "not_cry"}


def test_band_limited_copy_has_no_energy_above_4khz():
    from cryvideo.audio.augment import band_limit

    y = np.random.default_rng(1).standard_normal(SR).astype(np.float32)
    b = band_limit(y)
    spec = np.abs(np.fft.rfft(b))
    freqs = np.fft.rfftfreq(b.size, 1 / SR)
    assert b.shape == y.shape
    assert spec[freqs > 4300].mean() < 0.02 * spec[freqs < 3500].mean()


def test_clip_weights():
    g = np.array(["a"] * 4 + ["b", "c", "d", "e"])
    y = np.array([1, 1, 1, 1, 1, 0, 0, 0])
    w = clip_weights(g, y)
    assert w.mean() == pytest.approx(1.0)
    assert w[y == 1].sum() == pytest.approx(w[y == 0].sum())
    # a recording of 4 clips weighs sqrt(4) = 2 single clips, not 4
    assert w[:4].sum() == pytest.approx(2 * w[4])


def test_split_long():
    pieces, owner = split_long([np.zeros(40), np.zeros(5)], max_patches=16)
    assert [len(p) for p in pieces] == [16, 16, 8, 5] and owner.tolist() == [0, 0, 0, 1]


def test_teacher_gate():
    logits = np.full((3, 521), -10.0)
    logits[1, CRY_CLASS] = 3.0                 # YAMNet hears a cry
    logits[2, VOCAL_CLASSES[1]] = 1.0          # YAMNet hears laughter, no cry
    g = teacher_gate(logits, eps=0.02, gamma=2.0)
    assert g[0] == pytest.approx(1.0, abs=0.01)    # nothing heard: the gate stays open
    assert g[1] > 0.99
    assert g[2] < 0.01
    logits[2, SOB_CLASS] = 1.0                 # as much crying as laughter: half-open
    assert teacher_gate(logits[2], eps=0.0, gamma=1.0) == pytest.approx(0.5)


def test_best_threshold_and_weighted_f1():
    y = np.array([1, 1, 0, 0])
    s = np.array([0.9, 0.6, 0.4, 0.1])
    t, f1 = best_threshold(y, s, np.ones(4))
    assert f1 == 1.0 and 0.4 < t <= 0.6
    assert weighted_f1(y, s >= 0.5, [1, 1, 1, 1]) == 1.0


@pytest.fixture(scope="module")
def yamnet():
    from cryvideo.models.yamnet import build_yamnet

    return build_yamnet()


def test_clip_level_training_learns_from_a_few_patches(yamnet):
    """Positive clips hold the signal in 2-4 of their patches, the rest is like a negative:
    trained on clips, the head scores held-out positives above negatives, and the silent
    patches of a positive clip need not score high."""
    rng = np.random.default_rng(0)
    direction = rng.standard_normal(1024).astype(np.float32)

    def clip(pos):
        f = rng.standard_normal((int(rng.integers(6, 12)), 1024)).astype(np.float32)
        if pos:
            k = int(rng.integers(2, 5))
            a = int(rng.integers(0, len(f) - k))
            f[a:a + k] += 0.6 * direction
        return f

    y = np.array([1, 0] * 60)
    feats = [clip(v) for v in y]
    trainer = PatchTrainer(RECIPES["head"], yamnet, seed=0)
    trainer.fit(feats, y, np.ones(len(y)), epochs=15)
    y_te = np.array([1, 0] * 20)
    te = [clip(v) for v in y_te]
    from cryvideo.detection.decisions import clip_score
    from cryvideo.evaluation.detector_metrics import weighted_auc

    scores = [clip_score(p, 3) for p in trainer.patch_probabilities(te)]
    assert weighted_auc(y_te, scores, np.ones(len(y_te))) > 0.95
    pos = [p for p, v in zip(trainer.patch_probabilities(te), y_te, strict=True) if v]
    assert np.median([np.min(p) for p in pos]) < 0.5


def test_gated_recipe_needs_teacher_logits(yamnet):
    from cryvideo.errors import ParameterError

    trainer = PatchTrainer(RECIPES["gated"], yamnet, seed=0)
    with pytest.raises(ParameterError, match="logits"):
        trainer.patch_probabilities([np.zeros((3, 1024), np.float32)])


def test_exported_detector_matches_keras(yamnet, tmp_path):
    """Patch model → TFLite float32 and int8 (weights): same probabilities as Keras, and the
    run-time detector reads the file with its card, without TensorFlow."""
    import json
    import subprocess
    import sys

    from cryvideo.detection.frontend import YAMNET_FRONTEND, waveform_patches
    from cryvideo.detection.runtime import TFLitePatchModel
    from cryvideo.models.cards import ModelCard, save_model_with_card
    from cryvideo.models.yamnet_cry import build_head, build_patch_detector
    from cryvideo.training.detector_export import to_tflite

    head = build_head()
    model = build_patch_detector(yamnet, head, gate=(0.02, 2.0))
    y = (0.2 * np.sin(2 * np.pi * 440 * np.arange(SR * 3) / SR)).astype(np.float32)
    x = np.asarray(waveform_patches(y))
    want = np.asarray(model.predict(x, verbose=0)).reshape(-1)
    flat = to_tflite(model)
    got = TFLitePatchModel(flat, batch=4)(x)          # batches of 4, the last one padded
    np.testing.assert_allclose(got, want, atol=1e-4)
    small = to_tflite(model, quantize="dynamic")
    assert len(small) * 3.5 < len(flat)
    np.testing.assert_allclose(TFLitePatchModel(small)(x), want, atol=0.05)
    card = ModelCard(name="t", kind="cry-detector/yamnet-patch", labels=["cry"],
                     inputs={"frontend": YAMNET_FRONTEND.to_dict(), "window_patches": 3},
                     extra={"threshold": 0.5})
    path = tmp_path / "det.tflite"
    save_model_with_card(flat, path, card)
    wav = tmp_path / "a.npy"
    np.save(wav, y)
    code = ("import sys, json, numpy as np\n"
            "from cryvideo.detection.patch_detector import PatchDetector\n"
            f"d = PatchDetector({str(path)!r})\n"
            f"r = d.detect(np.load({str(wav)!r}), sr=16000)\n"
            "print(json.dumps({'tf': 'tensorflow' in sys.modules or 'keras' in sys.modules,"
            " 'p': r.probability, 'n': len(r.window_probs), 'det': r.to_dict()['detector']}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    res = json.loads(out.strip().splitlines()[-1])
    assert res["tf"] is False
    from cryvideo.detection.decisions import moving_mean

    assert res["p"] == pytest.approx(float(moving_mean(want, 3).max()), abs=1e-4)
    assert res["det"]["sha256"] == json.loads(path.with_suffix(".json").read_text())["sha256"]


def test_no_derivative_clips_are_never_cached(tmp_path):
    """CC BY-NC-ND clips may be resampled in memory only: the waveform cache holds the others,
    and both paths give the same 16-bit-rounded waveforms."""
    import numpy as np
    import soundfile as sf

    from cryvideo.training.detector_data import decode_corpus

    rng = np.random.default_rng(0)
    paths = []
    for i in range(3):
        p = tmp_path / f"c{i}.wav"
        sf.write(p, (0.1 * rng.standard_normal(8000)).astype(np.float32), 8000)
        paths.append(str(p))
    cache = tmp_path / "cache"
    first = decode_corpus(paths, cache_dir=cache, no_cache=[False, True, False])
    files = list(cache.glob("waves-*.npz"))
    assert len(files) == 1
    with np.load(files[0]) as z:
        assert len(z["lens"]) == 2                    # the no-derivatives clip is not in it
        assert int(z["lens"].sum()) == first[0].size + first[2].size
    again = decode_corpus(paths, cache_dir=cache, no_cache=[False, True, False])
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert all(w.size == 16000 for w in first)        # resampled to 16 kHz


def test_corpus_marks_no_derivative_licences(tmp_path):
    from cryvideo.data.cry_corpus import DetectionClip

    nd = DetectionClip("a.wav", "not_cry", "laughter", "g", "vocal_negatives", "x",
                       "CC BY-NC-ND 4.0 (Deeply Inc.; copied unmodified)")
    by = DetectionClip("b.wav", "not_cry", "laughter", "g", "vocal_negatives", "x", "CC BY 4.0")
    assert nd.no_derivatives and not by.no_derivatives
