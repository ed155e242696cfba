"""Round 2 of the detection CV (issue 23) without training anything: the interference stress
set, the figures per cry origin and without Donateacry, the recall under music and noise per
SNR, the shipped onset threshold, and the report that shows them (and still renders older
runs, which have none of them)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cryvideo.studies.detection_cv import (
    INTERFERENCE_STRESS_SNRS,
    _Corpus,
    _interference_stress,
    summarize_detection_cv,
)
from cryvideo.studies.detection_cv_report import (
    METHOD_NAMES,
    _name,
    detection_figure,
    report_from_results,
)
from cryvideo.training.detector_ship import choices_from_cv

SR = 16000
RES = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


# ----------------------------------------------------------------------------- stress set
def _corpus(cats, rng):
    y = np.array([c == "cry" for c in cats], int)
    waves = [(0.3 * np.sin(2 * np.pi * (400 + 20 * i) * np.arange(SR) / SR)).astype(np.float32)
             if c == "cry" else (rng.uniform(0.05, 0.5) * rng.standard_normal(
                 int(SR * rng.uniform(0.5, 2.0)))).astype(np.float32)
             for i, c in enumerate(cats)]
    n = len(cats)
    return _Corpus([None] * n, waves, y, np.array([f"g{i // 2}" for i in range(n)]),
                   np.array(cats), np.array(["x"] * n), np.array(["x"] * n))


CATS = (["cry"] * 8 + ["music", "adult_singing", "music", "environmental_sound",
                       "environmental_sound", "adult_speech", "infant_laughter"])


def test_interference_stress_uses_held_out_clips_only():
    c = _corpus(CATS, np.random.default_rng(0))
    te = np.array([1, 2, 5, 6, 9, 10, 12, 13, 14])                 # the held-out fold
    rows = _interference_stress(c, te, np.random.default_rng(1))
    held_cries = [i for i in te if c.y[i] == 1]
    # each held-out cry once per SNR, nothing else
    assert sorted((r["source"], r["snr_db"]) for r in rows) == sorted(
        (int(i), s) for i in held_cries for s in INTERFERENCE_STRESS_SNRS)
    kinds = set()
    for r in rows:
        assert r["label"] == 1 and r["background"] in te and c.y[r["background"]] == 0
        bg = c.cats[r["background"]]
        if r["kind"] == "interference_music":
            assert bg in ("music", "adult_singing")
        else:
            assert r["kind"] == "interference_noise" and bg == "environmental_sound"
        kinds.add(r["kind"])
        src = c.waves[r["source"]]
        assert r["wave"].shape == src.shape
        added = r["wave"] - src
        snr = 10 * np.log10(np.mean(src.astype(float) ** 2) / np.mean(added.astype(float) ** 2))
        assert snr == pytest.approx(r["snr_db"], abs=0.05)
    assert kinds == {"interference_music", "interference_noise"}


def test_interference_stress_with_one_kind_or_none():
    c = _corpus(CATS, np.random.default_rng(0))
    only_noise = np.array([0, 3, 12, 13])
    rows = _interference_stress(c, only_noise, np.random.default_rng(2))
    assert len(rows) == 2 * len(INTERFERENCE_STRESS_SNRS)
    assert {r["kind"] for r in rows} == {"interference_noise"}
    # a fold with no music and no environmental sound held out has no interference set
    assert _interference_stress(c, np.array([0, 1, 13, 14]), np.random.default_rng(3)) == []


# ----------------------------------------------------------------------------- summary
#: (label, group, category, origin) of each clip; clips 2 and 3 are one recording (weight 1/2)
CLIPS = [("cry", "gD1", "cry", "Donateacry"), ("cry", "gD2", "cry", "Donateacry"),
         ("cry", "gE1", "cry", "ESC-50"), ("cry", "gE1", "cry", "ESC-50"),
         ("cry", "gH1", "cry", "home"),
         ("not_cry", "gN1", "music", "ESC-50"), ("not_cry", "gN2", "music", "x"),
         ("not_cry", "gN3", "adult_speech", "x"), ("not_cry", "gN4", "environmental_sound",
                                                  "ESC-50")]
#: Scores at threshold 0.5: gated_mix finds cries 0, 2, 4 and calls negative 5 crying.
SCORES = {"yamnet_zeroshot": [0.6, 0.2, 0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.1],
          "gated": [0.9, 0.2, 0.8, 0.8, 0.3, 0.1, 0.1, 0.1, 0.1],
          "gated_mix": [0.9, 0.2, 0.8, 0.1, 0.7, 0.6, 0.1, 0.3, 0.2]}
#: Interference stress: cries 0, 2, 3 under music, 1 and 4 under noise; gated_mix misses 3 and 1
#: at -5 dB only, YAMNet zero-shot misses everything.
HIT_AT_MINUS_5 = {0: 0.9, 1: 0.1, 2: 0.6, 3: 0.2, 4: 0.8}


def _stress_rows():
    rows = [{"seed": 0, "fold": 0, "source": 6, "label": 0, "kind": "negative_band_limited",
             "snr_db": None},
            {"seed": 0, "fold": 0, "source": 0, "label": 1, "kind": "cry_under_music",
             "snr_db": 5.0}]
    for snr in (-5.0, 0.0, 5.0):
        for i in range(5):
            rows.append({"seed": 0, "fold": 0, "source": i, "label": 1, "snr_db": snr,
                         "kind": "interference_music" if i in (0, 2, 3) else
                         "interference_noise", "background": 5})
    for r in rows:
        mix = HIT_AT_MINUS_5[r["source"]] if r.get("snr_db") == -5.0 else 0.9
        r["scores"] = {"yamnet_zeroshot": 0.3, "gated": 0.9,
                       "gated_mix": 0.2 if r["label"] == 0 else mix}
        r["thresholds"] = {m: 0.5 for m in r["scores"]}
    return rows


def _choice(epochs, thr, onset):
    return {"epochs": epochs, "threshold": thr, "onset_threshold": onset,
            "validation_f1": 0.9, "validation_f1_se": 0.02, "validation_logloss": 0.2,
            "validation_curve": [0.3, 0.2]}


@pytest.fixture(scope="module")
def result():
    clips = [{"path": f"c{i}.wav", "label": lab, "category": cat, "group": g,
              "source": "donateacry" if o == "Donateacry" else "cry_detection", "origin": o,
              "licence": "x"} for i, (lab, g, cat, o) in enumerate(CLIPS)]
    n = len(clips)
    return {"clips": clips, "n_splits": 2, "ship": "gated_mix", "seconds": 60.0,
            "recipes": {"gated": {"name": "gated", "interference": False,
                                  "weighting": "recording"},
                        "gated_mix": {"name": "gated_mix", "interference": True,
                                      "weighting": "balanced"}},
            "seeds": {"0": {"fold": [0, 1] * 4 + [0],
                            "scores": SCORES,
                            "thresholds": {m: [0.5] * n for m in SCORES},
                            "folds": [{"fold": k, "recipes": {
                                "gated": _choice(10 + k, 0.4, 0.5),
                                "gated_mix": _choice(20 + 2 * k, 0.45, 0.6 + 0.1 * k)}}
                                for k in (0, 1)],
                            "stress": _stress_rows()}}}


@pytest.fixture(scope="module")
def summary(result):
    return summarize_detection_cv(result, n_boot=100)


def test_per_origin_and_without_donateacry_by_hand(summary):
    m = summary["methods"]["gated_mix"]
    p = m["pooled"]
    # without Donateacry: cries 2 and 3 (half a recording each; 2 found), 4 (found);
    # negative 5 called crying: TP 1.5, FN 0.5, FP 1
    assert p["precision_without_donateacry"]["estimate"] == pytest.approx(1.5 / 2.5)
    assert p["recall_without_donateacry"]["estimate"] == pytest.approx(0.75)
    assert p["f1_without_donateacry"]["estimate"] == pytest.approx(3 / 4.5)
    for name in ("f1", "precision", "recall"):
        iv = p[f"{name}_without_donateacry"]
        assert iv["low"] <= iv["estimate"] <= iv["high"] and iv["metric"] == name
    # per origin: that origin's cries against every negative
    bo = m["by_origin"]
    assert set(bo) == {"Donateacry", "ESC-50", "home"}       # cry origins only
    assert [bo[o]["groups"] for o in ("Donateacry", "ESC-50", "home")] == [2, 1, 1]
    assert bo["ESC-50"]["precision"]["estimate"] == pytest.approx(0.5 / 1.5)
    assert bo["ESC-50"]["recall"]["estimate"] == pytest.approx(0.5)
    assert bo["ESC-50"]["f1"]["estimate"] == pytest.approx(1 / 2.5)
    assert bo["Donateacry"]["f1"]["estimate"] == pytest.approx(0.5)
    assert bo["home"]["recall"]["estimate"] == pytest.approx(1.0)
    assert bo["home"]["precision"]["estimate"] == pytest.approx(0.5)
    # the other method: gated finds cries 0, 2, 3 and calls nothing crying
    g = summary["methods"]["gated"]
    assert g["by_origin"]["ESC-50"]["precision"]["estimate"] == pytest.approx(1.0)
    assert g["pooled"]["recall_without_donateacry"]["estimate"] == pytest.approx(0.5)


def test_interference_recall_per_snr_by_hand(summary):
    inter = summary["methods"]["gated_mix"]["stress"]["interference"]
    assert set(inter) == {f"{s:+.0f} dB{b}" for s in (-5, 0, 5)
                          for b in ("", " music", " noise")}
    # -5 dB under music: cries 0 (recording gD1) and 2, 3 (gE1, half each); 3 missed
    assert inter["-5 dB music"]["estimate"] == pytest.approx(1.5 / 2)
    assert inter["-5 dB music"]["n"] == 3 and inter["-5 dB music"]["background"] == "music"
    assert inter["-5 dB noise"]["estimate"] == pytest.approx(0.5)      # 1 missed, 4 found
    assert inter["-5 dB"]["estimate"] == pytest.approx(2.5 / 4)
    assert inter["-5 dB"]["n"] == 5 and inter["-5 dB"]["background"] == "music or noise"
    assert inter["-5 dB"]["snr_db"] == -5.0 and inter["+5 dB"]["snr_db"] == 5.0
    assert inter["+0 dB"]["estimate"] == pytest.approx(1.0)
    zs = summary["methods"]["yamnet_zeroshot"]["stress"]["interference"]
    assert all(v["estimate"] == 0.0 for v in zs.values())
    # the older stress sets are summarized as before, without the interference rows
    st = summary["methods"]["gated_mix"]["stress"]
    assert st["cry_under"]["n"] == 1 and st["negative_band_limited"]["n"] == 1


def test_paired_differences_against_gated_when_gated_mix_ships(summary):
    comp = summary["comparison"]
    assert set(comp) == {"yamnet_zeroshot", "gated"}
    # gated_mix F1 2/3 (TP 2.5, FN 1.5, FP 1); gated 2 / (4 + 2) (TP 2, FN 2, FP 0)
    assert comp["gated"]["f1_difference"]["estimate"] == pytest.approx(2 / 3 - 4 / 6)


def test_choices_from_cv_takes_the_median_onset_threshold(result):
    ch = choices_from_cv(result)
    assert ch["recipe"] == "gated_mix" and ch["n_folds"] == 2
    assert ch["epochs"] == 21 and ch["threshold"] == pytest.approx(0.45)
    assert ch["onset_threshold"] == pytest.approx(0.65)
    more = json.loads(json.dumps(result))
    more["seeds"]["1"] = {"folds": [{"fold": 0, "recipes": {"gated_mix": _choice(30, 0.5,
                                                                                   0.9)}}]}
    assert choices_from_cv(more)["onset_threshold"] == pytest.approx(0.7)   # of 0.6 0.7 0.9
    assert choices_from_cv(more, seeds=["1"])["onset_threshold"] == pytest.approx(0.9)
    # a run from before the onset rule: no onset threshold
    for f in more["seeds"]["0"]["folds"] + more["seeds"]["1"]["folds"]:
        del f["recipes"]["gated_mix"]["onset_threshold"]
    assert "onset_threshold" not in choices_from_cv(more)


# ----------------------------------------------------------------------------- report
NEW_SECTIONS = ("## Without Donateacry", "## Choices inside the training folds",
                "## Per cry origin (that origin's cries against every negative",
                "## Cries under held-out music and noise")


def test_report_shows_the_new_figures(summary, result, tmp_path):
    md = report_from_results(summary, result)
    for h in NEW_SECTIONS:
        assert h in md, h
    rows = md.splitlines()
    label = METHOD_NAMES["gated_mix"]
    assert "trained for interference (−5…+5 dB) with balanced weights" in label
    # without Donateacry: the shipped method in bold, F1 / precision / recall by hand
    row = next(r for r in rows if r.startswith(f"| **{label}** | 66.7 "))
    assert "| 60.0 " in row and "| 75.0 " in row
    # per origin, with the number of recordings
    assert any(r.startswith(f"| ESC-50 | 1 | {label} | 40.0 ") for r in rows)
    # the interference table: by background, at each SNR, beside YAMNet zero-shot
    head = next(r for r in rows if r.startswith("| method | background | mixtures |"))
    assert head.endswith("| −5 dB | 0 dB | +5 dB |")
    assert any(r.startswith(f"| {label} | music | 9 | 75.0 ") for r in rows)
    assert any(r.startswith(f"| {label} | music or noise | 15 | 62.5 ") for r in rows)
    assert any(r.startswith(f"| {METHOD_NAMES['yamnet_zeroshot']} | noise | 6 | 0.0 ")
               for r in rows)
    assert "Each held-out cry mixed once at each SNR" in md
    # the choices: medians (min–max) of the folds
    assert f"| {label} | 2 | 21 (20–22) | 0.450 | 0.650 (0.600–0.700) |" in rows
    # gated_mix trained on interference copies; no CNN10 in this run, none in the text
    assert "`gated_mix` also train on interference copies" in md
    assert "CNN10" not in md
    assert any(r.startswith(f"| {METHOD_NAMES['gated']} | ") and "+" in r
               for r in rows[rows.index("## Paired differences"):])
    assert _name("gated_mix_tflite_int8") == f"{label} — TFLite int8 weights"
    detection_figure(summary, tmp_path / "d.png")
    assert (tmp_path / "d.png").read_bytes()[:4] == b"\x89PNG"


def test_older_results_render_without_the_new_sections():
    """The committed first-round run (CNN10, no interference, no onset threshold) renders as
    committed (the exact equality is test_detection_report's): its summary, recomputed from
    its out-of-fold scores, has the figures without Donateacry and per origin, but the run has
    no onset thresholds and no interference set, so those sections are left out."""
    md = report_from_results(json.loads((RES / "detection.json").read_text(encoding="utf-8")),
                             json.loads((RES / "detection_cv.json").read_text(encoding="utf-8")),
                             previous=(RES / "detection.md").read_text(encoding="utf-8"))
    assert "CNN10 at its card's 0.5" in md and "## Paired differences" in md
    for h in NEW_SECTIONS[:1] + NEW_SECTIONS[2:3]:
        assert h in md, h
    for h in NEW_SECTIONS[1:2] + NEW_SECTIONS[3:]:
        assert h not in md, h
