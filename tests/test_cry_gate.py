"""``predict`` asks the cry detector first, and gives no reason when there is no crying."""

from __future__ import annotations

import json

import pytest

from cryvideo.cli import main as cli_main
from cryvideo.errors import ParameterError
from cryvideo.pipeline import Predictor

SILENCE = "not_cry/home_silence_silence_0.flac"


@pytest.fixture(scope="module")
def silence(shared_dir):
    p = shared_dir / "data" / "cry_detection" / SILENCE
    if not p.is_file():
        pytest.skip(f"{SILENCE} not in ../shared/data/cry_detection")
    return p


def _predict_json(capsys, *argv) -> dict:
    rc = cli_main(["predict", "--json", "--no-face", *map(str, argv)])
    assert rc == 0
    return json.loads(capsys.readouterr().out)


def test_silence_gets_no_reason(silence, capsys):
    res = _predict_json(capsys, silence)
    cry = res["crying"]
    assert cry["detected"] is False and cry["probability"] < cry["threshold"]
    assert cry["detector"].startswith("yamnet-cry") and cry["segments"] == []
    assert cry["model"]["sha256"] and cry["model"]["file"].endswith(".tflite")
    assert res["label"] is None
    # no reason, but what the branches would answer if it were a cry (as README says), from
    # the whole of this 5-second file (shorter than the branches' clip)
    assert set(res["probabilities"]) == {"belly_pain", "burping", "discomfort", "hungry",
                                         "tired"}
    for b in (b for b in res["branches"] if b["name"] in ("mfcc", "stft")):
        assert b["used"] and b["trained"] is True
        assert b["details"]["segments_used"] == [[0.0, 5.0]]
    assert res["trained"] is True and res["modalities"] == ["mfcc", "stft"]
    assert any(n.startswith("no crying detected") for n in res["notes"])
    assert any(n.startswith("no reason given; the probabilities say what the reason branches "
                            "would answer if it were a cry") for n in res["notes"])
    assert res["trust"]["headline"].startswith("crying: no (score ")


def test_silence_text_headline_says_no_crying(silence, capsys):
    assert cli_main(["predict", "--no-face", str(silence)]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(f"{silence}: crying: no (score ") and \
        first.endswith(" · no reason given")


def test_cry_gets_a_reason_and_segments(demo_clip, capsys):
    res = _predict_json(capsys, demo_clip)
    cry = res["crying"]
    assert cry["detected"] is True and cry["probability"] >= cry["threshold"]
    assert cry["segments"] and cry["segments"][0][1] > cry["segments"][0][0]
    assert res["label"] in res["probabilities"]
    assert "cry_detect" in res["timings"]
    # the reason branches read only the crying segments, and say so
    mfcc = next(b for b in res["branches"] if b["name"] == "mfcc")
    assert mfcc["details"]["segments_used"] == cry["segments"]
    used = sum(b - a for a, b in cry["segments"])
    assert mfcc["details"]["seconds_used"] == pytest.approx(used, abs=0.05)
    assert any(n.startswith("the reason branches read the crying only") for n in res["notes"])
    # the answer says how far it can be trusted, from the models' cards
    trust = next(n for n in res["notes"] if n.startswith("how far to trust the reason"))
    mfcc = next(b for b in res["branches"] if b["name"] == "mfcc")
    held = mfcc["details"]["held_out_balanced_accuracy"]
    assert 0.0 <= held <= 1.0 and f"mfcc {held:.2f}" in trust and "chance is 0.20" in trust


def test_gate_off_always_gives_a_reason(silence, capsys):
    res = _predict_json(capsys, "--cry-detector", "none", silence)
    assert res["crying"] is None and res["label"] in res["probabilities"]


def test_yamnet_gate(silence, shared_dir, monkeypatch, capsys):
    if not (shared_dir / "weights" / "yamnet").is_dir():
        pytest.skip("../shared/weights/yamnet is not available")
    monkeypatch.setenv("CRYVIDEO_WEIGHTS_DIR", str(shared_dir / "weights"))
    for name in ("yamnet", "yamnet-zeroshot"):       # the old name still works
        res = _predict_json(capsys, "--cry-detector", name, silence)
        assert res["crying"]["detector"] == "yamnet-zeroshot" and res["label"] is None


def test_cnn10_gate_still_available(silence, capsys):
    res = _predict_json(capsys, "--cry-detector", "cnn10", silence)
    assert res["crying"]["detector"].startswith("cnn10") and res["label"] is None


def test_models_folder_without_detector_falls_back_to_shipped(tmp_path):
    from conftest import copy_models

    models = copy_models(tmp_path / "m", "audio_mfcc.keras")
    pred = Predictor(models_dir=models, use_face=False)
    assert pred.cry_detector_name.startswith("yamnet-cry")
    # never silently: the output says the detector came from elsewhere
    assert any(n.startswith(f"cry detector: not in the models folder {models}; used the bundled")
               for n in pred.model_notes), pred.model_notes


def test_unknown_detector_is_a_parameter_error():
    with pytest.raises(ParameterError, match="cry detector must be one of"):
        Predictor(cry_detector="bogus", use_face=False)


def test_report_says_no_crying(silence, tmp_path, capsys):
    page = tmp_path / "r.html"
    assert cli_main(["predict", "--no-face", "--report", str(page), str(silence)]) == 0
    text = page.read_text()
    assert "Crying: <b>no</b>" in text and "No reason given" in text
