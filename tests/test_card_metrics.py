"""The bundled models' cards take their held-out figures from the committed AE+DNN benchmark
results, and ``predict`` reads them back, in both card forms (pooled estimate with its
group-bootstrap interval, or mean over folds with its interval)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from cryvideo.pipeline.result import held_out as _held_out
from cryvideo.pipeline.result import trust_note as _trust_note

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "data_prep"))

from train_default import BENCH, benchmark_metrics  # noqa: E402


@pytest.fixture(scope="module")
def bench() -> dict:
    assert (REPO / BENCH).is_file(), f"{BENCH} is not committed"
    return benchmark_metrics()


def test_benchmark_metrics_read_the_pooled_results(bench):
    import json

    res = json.loads((REPO / BENCH).read_text())
    for kind in ("mfcc", "stft"):
        m = bench[kind]
        row = res["rows"][f"AE+DNN ({kind.upper()}) / grouped"]["summary"]
        ba = m["balanced_accuracy"]
        assert ba["estimate"] == row["balanced_accuracy"]["estimate"]
        assert 0.0 <= ba["low"] <= ba["estimate"] <= ba["high"] <= 1.0
        assert f"{row['n_repeats']} repeats" in m["protocol"]
        assert len(m["per_fold_balanced_accuracy"]) == row["n_folds"]
        assert m["paper_protocol_leaky"]["leakage"] > 0.3
        if "permutation" in res:
            perm = m["permutation_test"]
            i = res["permutation"]["names"].index(kind)
            assert perm["pvalue"] == res["permutation"]["pvalue_familywise"][i]
            assert perm["n_permutations"] == res["permutation"]["n_permutations"]
            assert perm["min_pvalue"] <= perm["pvalue"] <= 1.0


def test_predict_reads_both_card_forms(bench):
    pooled = _held_out(SimpleNamespace(metrics=bench["mfcc"]))
    ba = bench["mfcc"]["balanced_accuracy"]
    assert pooled["held_out_balanced_accuracy"] == round(ba["estimate"], 3)
    assert pooled["held_out_ci95"] == [round(ba["low"], 3), round(ba["high"], 3)]
    assert "repeats" in pooled["held_out_protocol"]
    folds = _held_out(SimpleNamespace(metrics={"balanced_accuracy": {"mean": 0.31,
                                                                     "ci95": [0.2, 0.42]}}))
    assert folds["held_out_balanced_accuracy"] == 0.31 and folds["held_out_ci95"] == [0.2, 0.42]
    assert _held_out(SimpleNamespace(metrics={})) == {}


def test_trust_note_says_chance_when_the_interval_covers_it():
    above = SimpleNamespace(name="mfcc", details=_held_out(SimpleNamespace(metrics={
        "balanced_accuracy": {"estimate": 0.5, "low": 0.4, "high": 0.6}})))
    at = SimpleNamespace(name="stft", details=_held_out(SimpleNamespace(metrics={
        "balanced_accuracy": {"estimate": 0.22, "low": 0.15, "high": 0.3}})))
    assert "no better than chance" in _trust_note([at], 5)
    assert "no better than chance" not in _trust_note([above], 5)
