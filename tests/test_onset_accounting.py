"""The accounting of ``benchmarks/bench_onsets.py`` (:mod:`cryvideo.studies.onsets`): misses are
failures, false starts on the background are counted and can cause a miss, p95 is infinite once
more than 5 % are missed, false starts are charged to the right category; and the streaming,
through listen's LiveDetector, on a scripted model whose answers are known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cryvideo.studies import onsets as O

SR = 16000


def ev(kind, episode, at, rule="window", proc=0.005):
    return {"event": f"cry {kind}", "episode": episode, "detected_at": at, "rule": rule,
            "processing_s": proc}


TIMES = {"cry_start": 5.0, "onset": 5.3, "cry_end": 12.0}


def test_a_start_after_the_onset_is_its_latency():
    r = O.score_onset([ev("started", 1, 6.4, "onset", 0.007), ev("stopped", 1, 12.0)], **TIMES)
    assert r["found"] and r["latency_s"] == pytest.approx(1.1)
    assert (r["rule"], r["processing_s"], r["false_starts"], r["early"]) == ("onset", 0.007, 0,
                                                                             False)


def test_no_start_by_the_end_of_the_cry_is_a_miss():
    assert not O.score_onset([], **TIMES)["found"]
    # a start after the cry (decided on audio that is not there) does not count
    r = O.score_onset([ev("started", 1, 12.1)], **TIMES)
    assert not r["found"] and r["latency_s"] is None


def test_a_false_start_still_open_at_the_cry_makes_a_miss():
    r = O.score_onset([ev("started", 1, 3.0), ev("stopped", 1, 12.0)], **TIMES)
    assert (r["false_starts"], r["found"], r["open_at_cry"]) == (1, False, True)


def test_a_false_start_that_stopped_before_the_cry_leaves_the_cry_its_own_start():
    events = [ev("started", 1, 1.0), ev("stopped", 1, 4.5), ev("started", 2, 6.0)]
    r = O.score_onset(events, **TIMES)
    assert (r["false_starts"], r["found"], r["open_at_cry"]) == (1, True, False)
    assert r["latency_s"] == pytest.approx(0.7)


def test_a_start_on_the_quiet_beginning_of_the_cry_is_early_not_false():
    r = O.score_onset([ev("started", 1, 5.1)], **TIMES)
    assert r["found"] and r["early"] and r["latency_s"] == pytest.approx(-0.2)
    assert r["false_starts"] == 0


def test_nearest_rank_p95_is_infinite_exactly_above_5_percent_missed():
    five = [1.0] * 95 + [math.inf] * 5
    six = [1.0] * 94 + [math.inf] * 6
    assert O.nearest_rank(five, 95) == 1.0 and O.nearest_rank(six, 95) == math.inf
    assert O.nearest_rank([3.0, 1.0, 2.0], 50) == 2.0


def rows(latencies, groups=None):
    groups = groups or [f"g{i}" for i in range(len(latencies))]
    return [{"found": v is not None, "latency_s": v, "group": g, "false_starts": 0,
             "rule": "onset" if v is not None else None, "processing_s": 0.01}
            for v, g in zip(latencies, groups, strict=True)]


def test_summary_counts_misses_as_failures():
    s = O.summarize_onsets(rows([0.5, 0.9, 1.4, 1.9, None]), n_boot=200)
    assert (s["onsets"], s["found"], s["missed"]) == (5, 4, 1)
    assert s["within"]["1"]["estimate"] == pytest.approx(2 / 5)
    assert s["within"]["1.5"]["estimate"] == pytest.approx(3 / 5)
    assert s["within"]["2"]["estimate"] == pytest.approx(4 / 5)
    # one miss in five is 20 %: p95 infinite, median over all onsets (the miss included)
    assert s["p95_s"] is None and s["median_s"] == pytest.approx(1.4)
    assert s["median_found_s"] == pytest.approx((0.9 + 1.4) / 2)
    assert s["by_rule"] == {"onset": 4}
    lo, hi = s["within"]["1.5"]["low"], s["within"]["1.5"]["high"]
    assert 0.0 <= lo <= 0.6 <= hi <= 1.0


def test_summary_without_misses_has_a_finite_p95_and_the_group_is_the_unit():
    s = O.summarize_onsets(rows([0.2] * 19 + [1.2], ["a"] * 10 + ["b"] * 10), n_boot=200)
    assert s["p95_s"] == pytest.approx(0.2) and s["missed"] == 0 and s["groups"] == 2
    assert s["within"]["1"]["n_groups"] == 2


def test_false_starts_are_charged_to_the_clip_they_fall_in():
    spans = [(0.0, 5.0), (5.0, 8.0), (8.0, 18.0)]
    r = O.false_start_rates([0.5, 5.0, 7.9, 9.0], spans, ["laugh", "music", "laugh"])
    assert r["false_starts"] == 4 and r["owners"] == [0, 1, 1, 2]
    assert r["hours"] == pytest.approx(18 / 3600, abs=1e-4)
    assert r["by_category"]["laugh"]["false_starts"] == 2
    assert r["by_category"]["music"] == {"false_starts": 2, "hours": round(3 / 3600, 4),
                                         "per_hour": pytest.approx(2 / (3 / 3600), rel=0.02),
                                         "clips": 1}
    none = O.false_start_rates([], spans, ["laugh", "music", "laugh"])
    assert none["false_starts"] == 0 and none["per_hour"] == 0.0


# -- the streaming, through LiveDetector, on a scripted model ------------------------------------
def loud_model(patches):
    """0.95 for a patch holding loud audio, else 0: its answers follow from the audio."""
    return np.where(np.asarray(patches).max(axis=(1, 2)) > 0.0, 0.95, 0.0)


def corpus():
    rng = np.random.default_rng(0)
    quiet = np.zeros(4 * SR, np.float32)
    cry = np.concatenate([np.zeros(SR // 2), 0.3 * rng.standard_normal(5 * SR)]).astype(
        np.float32)
    burst = np.zeros(6 * SR, np.float32)
    burst[2 * SR:2 * SR + SR // 2] = 0.3 * rng.standard_normal(SR // 2)
    waves = [cry, quiet, cry.copy(), quiet.copy(), burst]
    clips = [{"label": "cry", "category": "cry", "group": "r1", "origin": "home"},
             {"label": "not_cry", "category": "music", "group": "n1", "origin": "x"},
             {"label": "cry", "category": "cry", "group": "r2", "origin": "ESC-50"},
             {"label": "not_cry", "category": "music", "group": "n2", "origin": "x"},
             {"label": "not_cry", "category": "laughter", "group": "n3", "origin": "x"}]
    return waves, clips


def test_a_fold_streams_through_listen_with_both_rules():
    waves, clips = corpus()
    det = O.FoldDetector(model=loud_model, threshold=0.5, onset_threshold=0.9, window=3)
    part = O.run_fold(det, waves, clips, [0, 1, 2, 3, 4], seed=0, fold=0, log=lambda s: None)
    assert part["n_cries"] == 2 and part["n_negatives"] == 3
    # seed 0 draws the burst behind one cry and a quiet clip behind the other (both cases)
    assert sorted(r["background_category"] for r in part["onsets"]) == ["laughter", "music"]
    for row in part["onsets"]:
        bg = waves[row["background"]]
        assert row["cry_start"] == pytest.approx(len(bg) / SR)
        assert row["onset"] == pytest.approx(row["cry_start"] + 0.5)
        w, o = row["rules"]["window"], row["rules"]["onset"]
        if row["background_category"] == "laughter":
            # the burst starts an episode that is still open when the cry begins: a miss
            # under both rules, and a false start on the background
            assert not w["found"] and w["open_at_cry"] and w["false_starts"] == 1
            continue
        assert w["found"] and o["found"] and (w["rule"], o["rule"]) == ("window", "onset")
        # the onset rule decides one patch (0.48 s) sooner than the window rule
        assert w["latency_s"] - o["latency_s"] == pytest.approx(0.48, abs=0.1)
        assert 0.0 < o["latency_s"] <= 1.5 and w["false_starts"] == o["false_starts"] == 0
    for rule in ("window", "onset"):
        neg = part["negatives"][rule]
        # one burst of 0.5 s: one false start, charged to the laughter clip
        assert neg["false_starts"] == 1 and neg["by_category"]["laughter"]["false_starts"] == 1
        assert neg["by_category"]["music"]["false_starts"] == 0
        assert neg["starts"][0]["clip"] == 4 and neg["starts"][0]["rule"] == rule
        assert neg["hours"] == pytest.approx(14 / 3600, abs=1e-4)


def test_energy_onset():
    y = np.zeros(2 * SR, np.float32)
    y[SR:] = 0.5
    y[SR // 2:SR] = 0.01                                  # 34 dB below: not the onset
    assert O.energy_onset(y) == pytest.approx(1.0)


def test_committed_onsets_report_is_the_rendering_of_its_json():
    """benchmarks/results/onsets.md is what bench_onsets.py writes from onsets.json, and the
    CV file it names is the committed one (its sha256)."""
    import hashlib
    import importlib.util
    import json
    import sys
    from pathlib import Path

    bench = Path(__file__).resolve().parents[1] / "benchmarks"
    res = json.loads((bench / "results/onsets.json").read_text(encoding="utf-8"))
    sys.path.insert(0, str(bench))
    try:
        spec = importlib.util.spec_from_file_location("bench_onsets", bench / "bench_onsets.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(bench))
    assert mod.report(res) == (bench / "results/onsets.md").read_text(encoding="utf-8"), \
        "benchmarks/results/onsets.md is stale: run bench_onsets.py --report-only"
    cv = bench.parent / res["cv"]["path"]
    assert hashlib.sha256(cv.read_bytes()).hexdigest() == res["cv"]["sha256"]
