"""The AE+DNN audio branches: autoencoder, classifier, saving/loading, inference, augmentation."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from cryvideo.audio import FeatureParams
from cryvideo.audio.augment import (
    add_noise,
    mix_background,
    pitch_shift,
    random_augment,
    time_stretch,
)
from cryvideo.audio.features import features_from_waveform
from cryvideo.errors import ModelError, ParameterError
from cryvideo.models.ae_dnn import (
    AEDNNClassifier,
    PoolSpec,
    balanced_class_weights,
    grouped_validation_split,
    plot_training_curves,
    pool_features,
)
from cryvideo.models.audio_branch import AudioBranch, window_starts
from cryvideo.models.branches import UntrainedBranch, default_audio_branches
from cryvideo.models.cards import ModelCard, save_model_with_card

SR = 8000
#: 1-second clips keep the synthetic tests fast.
PARAMS_1S = FeatureParams(duration=1.0)
POOL_1S = PoolSpec(coef_bins=40, time_bins=4)
TINY = dict(hidden=32, bottleneck=8, head_units=8, ae_epochs=25, clf_epochs=40, patience=8,
            batch_size=16, learning_rate=2e-3)


def _tone_or_noise(rng, n_items: int):
    """Half harmonic tones at random pitch (with a little noise), half white noise."""
    X, y = [], []
    n = SR
    t = np.arange(n) / SR
    for i in range(n_items):
        if i % 2:
            f0 = rng.uniform(250, 900)
            w = sum(0.6**k * np.sin(2 * np.pi * k * f0 * t) for k in range(1, 4))
            w = w + 0.05 * rng.standard_normal(n)
            lab = "tone"
        else:
            w = rng.standard_normal(n)
            lab = "noise"
        w = w * rng.uniform(0.1, 1.0)
        X.append(features_from_waveform(w, PARAMS_1S, kinds=("mfcc",))["mfcc"])
        y.append(lab)
    return np.stack(X), np.asarray(y)


@pytest.fixture(scope="module")
def synth():
    rng = np.random.default_rng(0)
    X, y = _tone_or_noise(rng, 160)
    return X[:80], y[:80], X[80:], y[80:]


@pytest.fixture(scope="module")
def fitted(synth):
    Xtr, ytr, _, _ = synth
    return AEDNNClassifier(pool=POOL_1S, seed=0, **TINY).fit(Xtr, ytr)


def _save_branch(est, path, *, labels=None):
    card = ModelCard(
        name="audio_mfcc", kind="reason-classifier/ae-dnn",
        labels=list(est.classes_) if labels is None else labels,
        inputs={"feature": "mfcc", "feature_params": PARAMS_1S.to_dict(),
                "pool": est.pool.to_dict()})
    return save_model_with_card(est.model_, path, card)


# ------------------------------------------------------------------ pooling and helpers
def test_pool_features_shape_and_values():
    X = np.arange(2 * 4 * 6, dtype=np.float32).reshape(2, 4, 6)
    P = pool_features(X, PoolSpec(coef_bins=2, time_bins=3))
    assert P.shape == (2, PoolSpec(2, 3).dim) == (2, 8)
    # first band = rows 0-1, first time segment = frames 0-1 → mean of 0,1,6,7
    assert P[0, 0] == pytest.approx(3.5)
    # any clip length gives the same size
    assert pool_features(np.zeros((1, 4, 50)), PoolSpec(2, 3)).shape == (1, 8)
    with pytest.raises(ParameterError):
        pool_features(np.zeros((1, 4, 2)), PoolSpec(2, 3))


def test_balanced_weights_and_grouped_validation():
    y = np.array([0] * 8 + [1] * 2)
    w = balanced_class_weights(y, 3)
    assert w[0] == pytest.approx(10 / 16) and w[1] == pytest.approx(10 / 4) and w[2] == 0
    labels = np.array(["a"] * 30 + ["b"] * 10)
    groups = np.repeat(np.arange(20), 2)
    tr, va = grouped_validation_split(labels, groups, fraction=0.2, seed=0)
    assert set(groups[tr]).isdisjoint(groups[va])
    assert len(tr) + len(va) == 40 and 4 <= len(va) <= 14
    # classes too small to stratify: still a grouped split
    tr, va = grouped_validation_split(labels[:6], groups[:6], fraction=0.2, seed=0)
    assert set(groups[tr]).isdisjoint(groups[va]) and len(va) > 0


# ------------------------------------------------------------------ the model tests
def test_autoencoder_reconstruction_falls_on_real_clips(donateacry_dir):
    from cryvideo.audio import extract_features
    from cryvideo.audio.cache import FeatureCache
    from cryvideo.data import load_donateacry

    items = load_donateacry(donateacry_dir)[::12][:36]
    X = np.stack([extract_features(it.path, kinds=("mfcc",), cache=FeatureCache())["mfcc"]
                  for it in items])
    y = np.array([it.label for it in items])
    groups = np.array([it.uuid for it in items])
    est = AEDNNClassifier(pool=PoolSpec(40, 8), seed=0, **dict(TINY, clf_epochs=2))
    est.fit(X, y, groups=groups)
    h = est.history_["autoencoder"]
    assert h["loss"][-1] < 0.8 * h["loss"][0]
    assert min(h["val_loss"]) < h["val_loss"][0]
    # clean-input reconstruction of the clips beats predicting the (normalized) mean, i.e. 1.0
    assert est.reconstruction_loss(X) < 0.9


def test_classifier_learns_tones_vs_noise(synth, fitted):
    _, _, Xte, yte = synth
    acc = float(np.mean(fitted.predict(Xte) == yte))
    assert acc > 0.95
    p = fitted.predict_proba(Xte)
    assert p.shape == (len(yte), 2)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert list(fitted.classes_) == ["noise", "tone"]
    # a scikit-learn estimator: clone-able, with score()
    from sklearn.base import clone, is_classifier

    assert is_classifier(fitted) and fitted.score(Xte, yte) == pytest.approx(acc)
    assert clone(fitted).get_params()["pool"] == POOL_1S


def test_classifier_stays_at_chance_on_shuffled_labels(synth):
    Xtr, ytr, Xte, yte = synth
    rng = np.random.default_rng(1)
    # shuffle so that the labels carry no information at all: within each true class, exactly
    # half of the items get each label (a plain permutation of 80 items often agrees with the
    # truth on 60 % of them, which a good model then learns)
    y_shuf = ytr.copy()
    for c in np.unique(ytr):
        idx = rng.permutation(np.flatnonzero(ytr == c))
        y_shuf[idx[: len(idx) // 2]] = "noise"
        y_shuf[idx[len(idx) // 2 :]] = "tone"
    assert np.mean(y_shuf == ytr) == 0.5
    est = AEDNNClassifier(pool=POOL_1S, seed=0, **TINY).fit(Xtr, y_shuf)
    acc = float(np.mean(est.predict(Xte) == yte))
    assert 0.3 <= acc <= 0.7  # 80 test items: chance is 0.5 ± 0.056 (sd)


def test_head_only_fit_keeps_the_autoencoder_and_classes(synth):
    Xtr, ytr, _, _ = synth
    est = AEDNNClassifier(pool=POOL_1S, seed=0, **dict(TINY, ae_epochs=3, clf_epochs=3))
    with pytest.raises(ParameterError, match="fitted estimator"):
        est.fit(Xtr, ytr, head_only=True)
    est.fit(Xtr, ytr)
    ae = [w.copy() for w in est.autoencoder_.get_weights()]
    head = est.model_
    est.fit(Xtr, ytr[::-1], head_only=True)
    assert est.model_ is not head
    assert all(np.array_equal(a, b)
               for a, b in zip(ae, est.autoencoder_.get_weights(), strict=True))
    assert list(est.classes_) == ["noise", "tone"]
    with pytest.raises(ParameterError, match="labels not in"):
        est.fit(Xtr, np.where(ytr == "tone", "cat", ytr), head_only=True)
    tuned = AEDNNClassifier(pool=POOL_1S, seed=0, fine_tune=True,
                            **dict(TINY, ae_epochs=2, clf_epochs=2)).fit(Xtr, ytr)
    with pytest.raises(ParameterError, match="frozen encoder"):
        tuned.fit(Xtr, ytr, head_only=True)


def test_saved_model_round_trips_to_identical_predictions(tmp_path, synth, fitted):
    _, _, Xte, _ = synth
    path = tmp_path / "audio_mfcc.keras"
    card = _save_branch(fitted, path)
    assert len(card.sha256) == 64
    on_disk = json.loads(path.with_suffix(".json").read_text())
    assert on_disk["sha256"] == card.sha256 and on_disk["labels"] == ["noise", "tone"]
    br = AudioBranch.load(path)
    assert br.trained and br.name == "mfcc" and br.sr == SR
    assert br.source.endswith("audio_mfcc.json")
    P = pool_features(Xte, fitted.pool)
    np.testing.assert_array_equal(np.asarray(br.model(P)), np.asarray(fitted.model_(P)))
    # and the waveform path of the branch agrees with the estimator on a 1-s clip
    t = np.arange(SR) / SR
    tone = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    feats = features_from_waveform(tone, PARAMS_1S, kinds=("mfcc",))["mfcc"]
    np.testing.assert_allclose(br.predict_proba(tone), fitted.predict_proba(feats[None])[0],
                               atol=1e-6)
    assert br.labels[int(np.argmax(br.predict_proba(tone)))] == "tone"


def test_long_audio_is_windowed_and_averaged(tmp_path, fitted):
    path = tmp_path / "audio_mfcc.keras"
    _save_branch(fitted, path)
    br = AudioBranch.load(path)
    rng = np.random.default_rng(3)
    y = rng.standard_normal(int(4.3 * SR)).astype(np.float32)
    assert len(window_starts(y.size, SR)) == 8
    pw = br.predict_windows(y)
    assert pw.shape == (8, 2)
    np.testing.assert_allclose(br.predict_proba(y), pw.mean(axis=0), atol=1e-6)
    assert br.labels[int(np.argmax(br.predict_proba(y)))] == "noise"
    # shorter than one window: padded, still one distribution
    assert br.predict_proba(y[:2000]).shape == (2,)


@pytest.mark.parametrize("n,win,expected", [
    (100, 100, [0]), (50, 100, [0]), (250, 100, [0, 50, 100, 150]), (260, 100,
                                                                      [0, 50, 100, 150, 160]),
])
def test_window_starts(n, win, expected):
    assert window_starts(n, win) == expected


# ------------------------------------------------------------------ safe, checked loading
def test_corrupted_model_file_is_rejected(tmp_path, fitted):
    path = tmp_path / "audio_mfcc.keras"
    _save_branch(fitted, path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256 mismatch") as ei:
        AudioBranch.load(path)
    assert "audio_mfcc.keras" in str(ei.value)
    with pytest.raises(ModelError, match="audio_mfcc.keras"):
        default_audio_branches(tmp_path)


def test_truncated_model_with_matching_hash_is_rejected(tmp_path, fitted):
    path = tmp_path / "audio_mfcc.keras"
    _save_branch(fitted, path)
    path.write_bytes(path.read_bytes()[:300])
    card = json.loads(path.with_suffix(".json").read_text())
    from cryvideo.io import file_sha256

    card["sha256"] = file_sha256(path)  # someone "fixed" the hash: still refused
    path.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="audio_mfcc.keras"):
        AudioBranch.load(path)


def test_card_that_does_not_fit_the_model_is_rejected(tmp_path, fitted):
    path = tmp_path / "audio_mfcc.keras"
    _save_branch(fitted, path, labels=["a", "b", "c"])
    with pytest.raises(ModelError, match="does not match its card"):
        AudioBranch.load(path)


def test_missing_model_or_card(tmp_path, fitted):
    # nothing there: labelled placeholders
    brs = default_audio_branches(tmp_path)
    assert [type(b) for b in brs] == [UntrainedBranch, UntrainedBranch]
    # a card without its model file: an error naming the missing file
    path = tmp_path / "audio_mfcc.keras"
    _save_branch(fitted, path)
    os.remove(path)
    with pytest.raises(ModelError, match="audio_mfcc.keras: model file not found"):
        default_audio_branches(tmp_path)
    # a model without its card
    _save_branch(fitted, path)
    os.remove(path.with_suffix(".json"))
    with pytest.raises(ModelError, match="audio_mfcc.json"):
        AudioBranch.load(path)


def test_training_curve_png(tmp_path, fitted):
    out = tmp_path / "curves.png"
    plot_training_curves({"mfcc": fitted.history_}, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------ augmentation
def test_augmentations(rng):
    t = np.arange(SR) / SR
    y = np.sin(2 * np.pi * 500 * t).astype(np.float32)
    assert pitch_shift(y, sr=SR, semitones=2).shape == y.shape
    # +2 semitones moves the spectral peak up by 2**(2/12)
    spec = np.abs(np.fft.rfft(pitch_shift(y, sr=SR, semitones=2)))
    assert np.argmax(spec) * SR / len(y) == pytest.approx(500 * 2 ** (2 / 12), rel=0.02)
    assert time_stretch(y, rate=1.1).shape[0] == pytest.approx(SR / 1.1, rel=0.01)
    noisy = add_noise(y, snr_db=20, rng=rng)
    snr = 10 * np.log10(np.mean(y**2) / np.mean((noisy - y) ** 2))
    assert snr == pytest.approx(20, abs=0.5)
    bg = rng.standard_normal(3000).astype(np.float32)  # shorter than y: looped
    mixed = mix_background(y, bg, snr_db=10, rng=rng)
    snr = 10 * np.log10(np.mean(y**2) / np.mean((mixed - y) ** 2))
    assert mixed.shape == y.shape and snr == pytest.approx(10, abs=0.5)
    np.testing.assert_array_equal(mix_background(y, np.zeros(100), snr_db=10, rng=rng), y)
    with pytest.raises(ParameterError):
        pitch_shift(y, sr=SR, semitones=3)
    with pytest.raises(ParameterError):
        time_stretch(y, rate=1.5)
    out, done = random_augment(y, sr=SR, rng=np.random.default_rng(0), backgrounds=[bg])
    assert out.dtype == np.float32 and done and np.all(np.isfinite(out))


# ------------------------------------------------------------------ the bundled default models
def _bundled():
    from cryvideo.models.store import AUDIO_MODEL_FILES, default_models_dir

    d = default_models_dir()
    if not all((d / f).exists() for f in AUDIO_MODEL_FILES.values()):
        pytest.skip("no bundled models in saved_models/ (run make train-default)")
    return d


def test_bundled_models_load_with_cards():
    d = _bundled()
    brs = default_audio_branches(d)
    assert [b.name for b in brs] == ["mfcc", "stft"]
    for b in brs:
        assert b.trained and b.source.endswith(".json")
        card = json.loads(open(b.source).read())
        assert card["labels"] == list(b.labels)
        assert card["training"]["n_clips"] == 457
        assert "balanced_accuracy" in card["metrics"]
    total = sum(os.path.getsize(d / f"audio_{k}.keras") for k in ("mfcc", "stft"))
    assert total < 5_000_000


def test_predict_uses_bundled_models(demo_clip, tmp_path):
    _bundled()
    from cryvideo.cli import main

    out = tmp_path / "out.jsonl"
    assert main(["predict", "--json", "--no-face", str(demo_clip), "--out", str(out)]) == 0
    res = json.loads(out.read_text().splitlines()[0])
    assert res["trained"] is True
    audio = [b for b in res["branches"] if b["name"] in ("mfcc", "stft")]
    assert len(audio) == 2
    for b in audio:
        assert b["trained"] and b["source"].endswith((".json",))
        assert sum(b["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)


def test_predict_on_donateacry_wav(donateacry_dir, tmp_path):
    d = _bundled()
    from cryvideo.data import load_donateacry

    item = load_donateacry(donateacry_dir)[0]
    # copy beside a corrupt model dir to check the CLI error path too
    bad = tmp_path / "models"
    shutil.copytree(d, bad, ignore=shutil.ignore_patterns("*.png"))
    brs = default_audio_branches(bad)
    from cryvideo.pipeline import Predictor

    res = Predictor(audio_branches=brs, use_face=False).predict(item.path)
    assert res.trained and res.modalities == ["mfcc", "stft"]
    assert sum(res.probabilities.values()) == pytest.approx(1.0, abs=1e-4)
    # predict runs the float32 TFLite twin of a branch when it is there: a corrupt twin is an
    # error naming it, and so is a corrupt .keras once no twin stands in for it
    (bad / "audio_stft_float32.tflite").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="audio_stft_float32.tflite"):
        default_audio_branches(bad)
    (bad / "audio_stft_float32.tflite").unlink()
    (bad / "audio_stft_float32.json").unlink()
    (bad / "audio_stft.keras").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="audio_stft.keras"):
        default_audio_branches(bad)


# ------------------------------------------------------------------ the train-audio command
def _write_wav(path, y, sr=SR):
    import wave

    pcm = (np.clip(y, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())


@pytest.mark.slow
def test_train_audio_cli_end_to_end(tmp_path, capsys):
    """A tiny Donateacry-style folder (tones = "hungry", noise = "tired") → train-audio →
    a model + card + curve PNG that ``predict`` then uses."""
    from cryvideo.cli import main
    from cryvideo.pipeline import Predictor

    rng = np.random.default_rng(0)
    data = tmp_path / "corpus"
    t = np.arange(int(1.5 * SR)) / SR
    for i in range(16):
        label, code = ("hungry", "hu") if i % 2 else ("tired", "ti")
        (data / label).mkdir(parents=True, exist_ok=True)
        if label == "hungry":
            y = 0.5 * np.sin(2 * np.pi * rng.uniform(300, 600) * t)
        else:
            y = 0.3 * rng.standard_normal(t.size)
        uuid = f"{i // 2:08x}-0000-4000-8000-{i:012x}"
        _write_wav(data / label / f"{uuid}-1430000000-1.0-m-26-{code}.wav", y)
    bg = tmp_path / "not_cry"
    bg.mkdir()
    for i in range(2):
        _write_wav(bg / f"bg{i}.wav", 0.2 * np.sin(2 * np.pi * 60 * t) + 0.05 * rng.standard_normal(
            t.size))
    out = tmp_path / "models"
    rc = main(["train-audio", str(data), "--out", str(out), "--kinds", "mfcc", "--cv-folds", "2",
               "--max-epochs", "3", "--n-aug", "1", "--background", str(bg)])
    assert rc == 0
    assert "mfcc:" in capsys.readouterr().out
    card = json.loads((out / "audio_mfcc.json").read_text())
    assert card["labels"] == ["hungry", "tired"]
    assert card["training"]["n_clips"] == 16 and card["training"]["content_sha256"]
    assert card["metrics"]["n_folds"] == 2 and "balanced_accuracy" in card["metrics"]
    assert card["inputs"]["feature_params"]["sr"] == SR
    assert card["training"]["augmentation"]["n_backgrounds"] == 2
    assert (out / "audio_training_curves.png").read_bytes()[:4] == b"\x89PNG"
    brs = default_audio_branches(out)
    assert brs[0].trained and isinstance(brs[1], UntrainedBranch)
    # a tone is not a cry: the gate is off here, this checks the trained branch is used
    res = Predictor(audio_branches=brs, use_face=False, cry_detector=None).predict(
        next((data / "hungry").glob("*.wav")))
    assert res.trained and set(res.probabilities) == {"hungry", "tired"}
    # bad arguments: one clear error, exit code 2
    assert main(["train-audio", str(data), "--out", str(out), "--cv-folds", "1"]) == 2
    assert main(["train-audio", str(tmp_path / "nope"), "--out", str(out)]) == 6


# ------------------------------------------------------------------ the benchmark function
@pytest.mark.slow
def test_evaluate_ae_dnn_protocols_and_permutation(synth):
    from cryvideo.studies.ae_dnn import (
        AudioDataset,
        evaluate_ae_dnn,
        permutation_test_ae_dnn,
        pooled_summary,
        summarize_folds,
    )

    X, y, _, _ = synth
    groups = np.repeat(np.arange(40), 2)  # pairs of clips share a "UUID"
    rng = np.random.default_rng(0)
    aug = X + rng.normal(0, 1.0, X.shape).astype(np.float32)  # stand-in augmented copies
    data = AudioDataset(X={"mfcc": X}, y=y, groups=groups, paths=np.array([""] * len(y)),
                        X_aug={"mfcc": aug}, aug_source=np.arange(len(y)), params=PARAMS_1S,
                        info={})
    import cryvideo.training.audio as bench  # make_estimator reads its DEFAULT_POOL

    tiny = dict(TINY, ae_epochs=6, clf_epochs=15)
    old = bench.DEFAULT_POOL
    bench.DEFAULT_POOL = {"mfcc": POOL_1S}
    try:
        folds = evaluate_ae_dnn(data, kind="mfcc", protocol="grouped", n_splits=2,
                                keep_estimators=True, **tiny)
        assert len(folds) == 2 and all(f["leakage"] == 0.0 for f in folds)
        assert all(f["n_train_augmented"] == f["n_train"] for f in folds)
        s = summarize_folds(folds)  # the model cards' summary
        assert s["balanced_accuracy"]["mean"] > 0.65  # plumbing test; learning is tested above
        pooled = pooled_summary(folds, data, ["noise", "tone"], n_boot=200)
        bal = pooled["balanced_accuracy"]
        assert bal["estimate"] > 0.65 and 0 <= bal["low"] <= bal["estimate"] <= bal["high"] <= 1
        assert "over 40 app installs" in bal["interval"] and pooled["n_repeats"] == 1
        assert pooled["majority_balanced_accuracy"]["estimate"] == pytest.approx(0.5)
        perm = permutation_test_ae_dnn(data, {"mfcc": folds}, labels=["noise", "tone"],
                                       n_permutations=2)
        # no permutation reaches the true score
        assert perm["pvalue_familywise"] == pytest.approx([1 / 3])
        assert max(perm["permutation_max"]) < 0.8 and perm["names"] == ["mfcc"]
        # the paper protocol's split is what is checked here (one epoch each is enough to run
        # it end to end): the random split leaks pairs
        paper = evaluate_ae_dnn(data, kind="mfcc", protocol="paper", n_repeats=1,
                                **dict(tiny, ae_epochs=1, clf_epochs=1))
        assert len(paper) == 1 and paper[0]["leakage"] > 0.5
        with pytest.raises(ParameterError):
            evaluate_ae_dnn(data, kind="mfcc", protocol="random")
    finally:
        bench.DEFAULT_POOL = old


# ------------------------------------------------------------------ the registry model
def test_ae_dnn_is_a_registry_model_the_study_dispatcher_runs(tmp_path):
    """The Donateacry study's one dispatcher runs the AE+DNN (augmented copies, grouped
    validation) like any registered model: a tiny Donateacry-style folder, 2 epochs."""
    from cryvideo.baselines import get_model, model_names, register_model, unregister_model
    from cryvideo.studies.ae_dnn import AE_DNN_MODEL, AEDNNOnClips, ae_dnn_factory
    from cryvideo.studies.donateacry import BenchmarkConfig, load_dataset, run_benchmark

    spec = get_model(AE_DNN_MODEL)
    assert AE_DNN_MODEL in model_names(include_optional=True)
    assert AE_DNN_MODEL not in model_names()  # hours on the full corpus: only when named
    assert spec.feature_input == "index" and spec.uses_tensorflow
    assert spec.paper == {"stft": 97.41, "mfcc": 93.75}

    rng = np.random.default_rng(0)
    root = tmp_path / "corpus"
    t = np.arange(SR) / SR
    for i in range(24):  # 12 installs of 2 clips: tones are "hungry", noise is "tired"
        label, code = ("hungry", "hu") if (i // 2) % 2 else ("tired", "ti")
        (root / label).mkdir(parents=True, exist_ok=True)
        y = (0.5 * np.sin(2 * np.pi * rng.uniform(300, 600) * t) if label == "hungry"
             else 0.3 * rng.standard_normal(t.size))
        uuid = f"{i // 2:08x}-0000-4000-8000-{i:012x}"
        _write_wav(root / label / f"{uuid}-1430000000-1.0-m-26-{code}.wav", y)
    data = load_dataset(root, params=PARAMS_1S, features=("mfcc",))
    classes = ("hungry", "tired")
    quick = "AE+DNN (2 epochs)"
    register_model(quick, ae_dnn_factory(n_aug=1, ae_epochs=2, clf_epochs=2, hidden=16,
                                         bottleneck=4, head_units=4, batch_size=8),
                   feature_input="index", features=("mfcc",), uses_tensorflow=True,
                   optional=True)
    try:
        cfg = BenchmarkConfig(class_sets={"two": classes}, protocols=("paper", "grouped"),
                              features=("mfcc",), models=(quick,), n_splits=2,
                              grouped_repeats=1, paper_repeats=1, n_permutations=0, n_boot=100)
        result = run_benchmark(data, cfg)
    finally:
        unregister_model(quick)
    recs = [r for r in result.records if r["model"] == quick]
    assert sorted((r["protocol"], r["fold"]) for r in recs) == [
        ("grouped", 0), ("grouped", 1), ("paper", 0)]
    for r in recs:
        assert len(r["y_pred"]) == r["n_test"] and set(r["y_pred"]) <= set(classes)
        assert r["fit_seconds"] > 0
    assert {(s["protocol"], s["feature"]) for s in result.summaries if s["model"] == quick} \
        == {("paper", "mfcc"), ("grouped", "mfcc")}
    assert result.leakage["two/grouped"]["max"] == 0.0
    # the registered factory builds the same adapter, on the study's context
    from cryvideo.baselines import ModelContext

    ctx = ModelContext(feature="mfcc", params=PARAMS_1S.to_dict(), paths=data.paths,
                       groups=data.groups, classes=classes)
    model = spec.build(seed=0, context=ctx)
    assert isinstance(model, AEDNNOnClips) and model.n_aug == 2
