"""The public API: ``import cryvideo`` is light, and ``cryvideo.predict`` / ``cryvideo.detect``
give what the commands give."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import cryvideo


def test_import_cryvideo_loads_nothing_heavy():
    code = ("import sys, cryvideo; print(sorted(m for m in sys.modules if m.startswith("
            "('tensorflow', 'keras', 'cv2', 'cryvideo.api', 'cryvideo.pipeline', "
            "'cryvideo.detection'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_the_api_names_are_listed_documented_and_load_on_first_use():
    assert set(cryvideo.API) <= set(dir(cryvideo)) and set(cryvideo.API) <= set(cryvideo.__all__)
    for name in cryvideo.API:
        obj = getattr(cryvideo, name)
        assert "Examples" in (obj.__doc__ or ""), f"cryvideo.{name} has no example"
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        cryvideo.nothing  # noqa: B018


def test_detect_gives_the_commands_record(demo_clip, shipped_detector):
    res = cryvideo.detect(demo_clip, face="off")
    cli = json.loads(subprocess.run(
        [sys.executable, "-m", "cryvideo", "detect", "--json", "--face", "off", str(demo_clip)],
        capture_output=True, text=True, check=True).stdout)
    d = res.to_dict()
    assert res.crying and res.segments
    assert d["segments"] == cli["segments"] and d["probability"] == cli["probability"]


def test_detect_takes_a_waveform(shipped_detector):
    res = cryvideo.detect(np.zeros(16000 * 3, dtype=np.float32), sr=16000)
    assert not res.crying and res.segments == []


def test_detect_checks_its_settings_before_loading(tmp_path):
    with pytest.raises(cryvideo.CryVideoError, match="--threshold"):
        cryvideo.detect(tmp_path / "x.wav", threshold=2)


def test_predict_gives_the_commands_answer(demo_clip):
    res = cryvideo.predict(demo_clip, use_face=False, cry_face="off")   # as --no-face does
    cli = json.loads(subprocess.run(
        [sys.executable, "-m", "cryvideo", "predict", "--json", "--no-face", str(demo_clip)],
        capture_output=True, text=True, check=True).stdout)
    d = res.to_dict()
    assert d["label"] == cli["label"] and d["probabilities"] == cli["probabilities"]
