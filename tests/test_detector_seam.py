"""One seam for detectors: the ``Detector`` interface, the table of backends, and ``predict``
carrying the detector's typed answer until output time (its JSON unchanged)."""

from __future__ import annotations

import json

import pytest

from cryvideo.cli import main as cli_main

SILENCE = "not_cry/home_silence_silence_0.flac"


def _json_line(capsys, argv) -> str:
    assert cli_main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1
    return out[0]


def _crying_text(line: str) -> str:
    """The ``"crying":{…}`` part of a compact JSON line, as written."""
    d = json.loads(line)
    text = json.dumps(d["crying"], separators=(",", ":"), ensure_ascii=False)
    assert f'"crying":{text}' in line  # the same bytes, keys in the order written
    return text


def test_predict_crying_json_is_pinned(demo_clip, capsys):
    """predict's ``crying`` on the demo clip is exactly what the detector answered, in today's
    keys, order, rounding and place in the record."""
    det = json.loads(_json_line(capsys, ["detect", "--json", str(demo_clip)]))
    line = _json_line(capsys, ["predict", "--json", "--no-face", str(demo_clip)])
    rec = json.loads(line)
    assert list(rec) == ["path", "label", "probabilities", "trained", "modalities", "branches",
                         "fusion", "timings", "notes", "media", "crying", "status", "models",
                         "cryvideo_version"]
    model = {k: v for k, v in det["detector"].items() if k != "threshold"}
    want = {"detected": det["crying"], "probability": det["probability"],
            "threshold": round(det["threshold"], 4), "segments": det["segments"],
            "detector": "yamnet-cry (cry_detector_yamnet_int8.tflite)", "model": model}
    assert _crying_text(line) == json.dumps(want, separators=(",", ":"), ensure_ascii=False)
    assert list(model) == ["name", "file", "card", "sha256"] and model["name"] == "yamnet-cry"
    assert rec["crying"]["detected"] is True and rec["crying"]["segments"] == [[0.0, 8.0]]


def test_predict_crying_text_lines(demo_clip, capsys):
    """The text output's crying line reads the same verdict."""
    det = json.loads(_json_line(capsys, ["detect", "--json", str(demo_clip)]))
    assert cli_main(["predict", "--no-face", str(demo_clip)]) == 0
    lines = capsys.readouterr().out.splitlines()
    segs = ", ".join(f"{a:.1f}–{b:.1f} s" for a, b in det["segments"])
    assert lines[1] == (f"  crying: yes (p={det['probability']:.2f}, yamnet-cry "
                        f"(cry_detector_yamnet_int8.tflite); segments: {segs})")


def test_predict_no_crying_json(shared_dir, capsys):
    """No crying: ``detected`` false, no segments, the label null, same keys as a cry."""
    p = shared_dir / "data" / "cry_detection" / SILENCE
    if not p.is_file():
        pytest.skip(f"{SILENCE} not in ../shared/data/cry_detection")
    line = _json_line(capsys, ["predict", "--json", "--no-face", str(p)])
    cry = json.loads(line)["crying"]
    assert list(cry) == ["detected", "probability", "threshold", "segments", "detector", "model"]
    assert cry["detected"] is False and cry["segments"] == [] and json.loads(line)["label"] is None
