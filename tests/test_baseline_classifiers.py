"""The baselines learn real signal and find none in shuffled labels; the registry hook works."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from cryvideo.audio import FeatureParams, summarize
from cryvideo.audio.features import features_from_waveform
from cryvideo.baselines import get_model, model_names, register_model, unregister_model
from cryvideo.errors import ParameterError
from cryvideo.studies.donateacry import BenchmarkConfig, Dataset, run_benchmark
from cryvideo.studies.donateacry_report import markdown_table, write_report

CLASSES = ("belly_pain", "discomfort", "tired")
PARAMS = FeatureParams(duration=1.0)
CHANCE = 1 / len(CLASSES)


def _synthetic(seed: int = 0, n_groups: int = 12, per_group: int = 4) -> Dataset:
    """Cry-like tones whose pitch depends on the class; installs differ in gain and noise."""
    rng = np.random.default_rng(seed)
    sr, n = PARAMS.sr, PARAMS.n_samples
    t = np.arange(n) / sr
    labels, groups, summ, mats = [], [], {"mfcc": [], "stft": []}, {"mfcc": [], "stft": []}
    for g in range(n_groups):
        label = CLASSES[g % len(CLASSES)]
        f0 = {"belly_pain": 350.0, "discomfort": 700.0, "tired": 1400.0}[label]
        gain, noise = rng.uniform(0.2, 1.0), rng.uniform(0.01, 0.1)
        for _ in range(per_group):
            f = f0 * rng.uniform(0.93, 1.07) * (1 + 0.05 * np.sin(2 * np.pi * 4 * t))
            y = gain * np.sin(2 * np.pi * np.cumsum(f) / sr) + noise * rng.normal(size=n)
            feats = features_from_waveform(y, PARAMS)
            for k in ("mfcc", "stft"):
                summ[k].append(summarize(feats[k]))
                mats[k].append(feats[k])
            labels.append(label)
            groups.append(f"uuid-{g:02d}")
    return Dataset(paths=tuple(f"clip{i}.wav" for i in range(len(labels))),
                   labels=np.array(labels), groups=np.array(groups),
                   summaries={k: np.stack(v) for k, v in summ.items()},
                   matrices={k: np.stack(v) for k, v in mats.items()}, params=PARAMS,
                   root="synthetic")


@pytest.fixture(scope="module")
def synthetic() -> Dataset:
    return _synthetic()


def _config(**kw) -> BenchmarkConfig:
    base = dict(class_sets={"synth": CLASSES}, protocols=("grouped",), n_splits=3,
                grouped_repeats=1, n_permutations=0)
    base.update(kw)
    return BenchmarkConfig(**base)


def _bal_acc(result, model, feature, protocol="grouped"):
    (row,) = [s for s in result.summaries if (s["model"], s["feature"], s["protocol"])
              == (model, feature, protocol)]
    return row["balanced_accuracy"]["estimate"]


@pytest.mark.slow
def test_every_baseline_beats_chance_on_real_signal(synthetic):
    result = run_benchmark(synthetic, _config())
    for model in model_names():
        for feature in ("mfcc", "stft"):
            assert _bal_acc(result, model, feature) > 0.75, (model, feature)
    # pooled over folds whose training majority differs, the baseline is at most chance
    assert _bal_acc(result, "Majority class", "-") <= CHANCE + 1e-9


def test_no_baseline_beats_chance_on_shuffled_labels(synthetic):
    rng = np.random.default_rng(1)
    shuffled = Dataset(**{**synthetic.__dict__, "labels": rng.permutation(synthetic.labels)})
    result = run_benchmark(shuffled, _config())
    scores = [_bal_acc(result, m, f) for m in model_names() for f in ("mfcc", "stft")]
    assert max(scores) < 0.6
    assert np.mean(scores) < CHANCE + 0.1


def test_permutation_pvalue_separates_signal_from_noise(synthetic):
    cfg = _config(models=("Naive Bayes",), n_permutations=19, protocols=("paper", "grouped"),
                  paper_repeats=2)
    real = run_benchmark(synthetic, cfg)
    perm = real.permutation["synth/grouped"]
    assert perm["pvalue"] == pytest.approx(1 / 20)  # nothing shuffled scores as well
    assert "synth/paper" not in real.permutation  # only the honest protocol, by default
    rng = np.random.default_rng(2)
    noise = Dataset(**{**synthetic.__dict__, "labels": rng.permutation(synthetic.labels)})
    assert run_benchmark(noise, cfg).permutation["synth/grouped"]["pvalue"] > 0.05


class _IndexModel:
    """Uses positions into the context (as an augmenting AE+DNN would)."""

    def __init__(self, context):
        self.context = context

    def fit(self, X, y):
        assert X.ndim == 2 and X.shape[1] == 1 and X.dtype == np.int64
        assert len(self.context.paths) > X.max()
        vals, counts = np.unique(y, return_counts=True)
        self.major_ = vals[np.argmax(counts)]
        return self

    def predict(self, X):
        return np.full(len(X), self.major_)


def test_registry_hook_adds_rows_under_both_protocols(synthetic, tmp_path):
    def flat_logreg(*, seed, context=None):
        return make_pipeline(FunctionTransformer(lambda X: X.reshape(len(X), -1)),
                             StandardScaler(), LogisticRegression(max_iter=200))

    register_model("AE+DNN", flat_logreg, feature_input="matrix",
                   paper={"stft": 97.41, "mfcc": 93.75})
    register_model("Index model", lambda *, seed, context: _IndexModel(context),
                   feature_input="index", features=("mfcc",))
    try:
        with pytest.raises(ParameterError):
            register_model("AE+DNN", flat_logreg)  # no silent replacement
        assert model_names()[-2:] == ("AE+DNN", "Index model")
        cfg = _config(models=("SVM", "AE+DNN", "Index model"), protocols=("paper", "grouped"),
                      paper_repeats=2)
        result = run_benchmark(synthetic, cfg)
        assert _bal_acc(result, "AE+DNN", "stft") > 0.75
        assert _bal_acc(result, "AE+DNN", "mfcc", "paper") > 0.75
        assert not [s for s in result.summaries if s["model"] == "Index model"
                    and s["feature"] == "stft"]
        md = markdown_table(result)
        row = next(line for line in md.splitlines() if line.startswith("| AE+DNN |"))
        assert "97.41" in row and "93.75" in row and row.count("[") == 6  # leaky+grouped x2
        files = write_report(result, tmp_path)
        assert all(f.exists() and f.stat().st_size > 0 for f in files)
    finally:
        unregister_model("AE+DNN")
        unregister_model("Index model")
    with pytest.raises(ParameterError):
        get_model("AE+DNN")


def test_register_model_validates():
    with pytest.raises(ParameterError):
        register_model("x", lambda seed: None, feature_input="waveform")
    with pytest.raises(ParameterError):
        register_model("x", "not callable")
    with pytest.raises(ParameterError):
        register_model("x", lambda seed: None, features=("chroma",))
    assert "x" not in model_names()
