"""``cryvideo detect`` and ``cryvideo export`` with a tiny detector trained here on synthetic
cries (cryvideo.testing.media.synth_cry) against noise, tones and silence."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from cryvideo.audio.logmel import PANNS_16K, logmel
from cryvideo.cli import main
from cryvideo.detection.cnn10 import CNN10Detector, merge_segments
from cryvideo.models.cards import ModelCard, save_model_with_card
from cryvideo.testing.media import synth_cry
from cryvideo.training.cnn10_detector import WINDOW_FRAMES, detector_model
from cryvideo.training.panns import fit_epochs

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # trains a tiny detector once (~30 s on 2 cores)
SR = 16000


def _negative(kind: str, n: int, rng) -> np.ndarray:
    t = np.arange(n) / SR
    if kind == "noise":
        return (rng.normal(size=n) * rng.uniform(0.01, 0.3)).astype("float32")
    if kind == "tone":
        return (0.3 * np.sin(2 * np.pi * rng.uniform(100, 3000) * t)).astype("float32")
    return (rng.normal(size=n) * 1e-4).astype("float32")  # near silence


@pytest.fixture(scope="module")
def tiny_detector(tmp_path_factory):
    import keras

    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    clips, y = [], []
    for i in range(32):
        clips.append(logmel(synth_cry(3.0, SR, seed=i) * rng.uniform(0.3, 1.0)))
        y.append(1)
        clips.append(logmel(_negative(("noise", "tone", "silence")[i % 3], 3 * SR, rng)))
        y.append(0)
    model = detector_model(width=1 / 8)  # width 1/16 (4 channels) collapses here
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
    fit_epochs(model, clips, np.array(y, "float32")[:, None], frames=WINDOW_FRAMES, epochs=15,
               rng=rng, batch_size=16)
    d = tmp_path_factory.mktemp("det")
    card = ModelCard(name="tiny", kind="cry-detector", labels=["cry"],
                     inputs={"logmel": PANNS_16K.to_dict(), "window_frames": WINDOW_FRAMES},
                     extra={"threshold": 0.5})
    save_model_with_card(model, d / "cry_detector.keras", card)
    return d / "cry_detector.keras"


@pytest.fixture(scope="module")
def cry_wav(tmp_path_factory):
    rng = np.random.default_rng(5)
    y = np.concatenate([_negative("noise", 3 * SR, rng) * 0.1, synth_cry(4.0, SR, seed=99),
                        _negative("noise", 3 * SR, rng) * 0.1])
    p = tmp_path_factory.mktemp("wav") / "cry_in_middle.wav"
    sf.write(p, y, SR)
    q = p.with_name("noise_only.wav")
    sf.write(q, _negative("noise", 6 * SR, rng), SR)
    return p, q


def test_detect_finds_cry_segment(tiny_detector, cry_wav, capsys):
    cry, noise = cry_wav
    rc = main(["detect", "--json", "--backend", "cnn10", "--model", str(tiny_detector), str(cry),
               str(noise)])
    assert rc == 0
    lines = [json.loads(s) for s in capsys.readouterr().out.strip().splitlines()]
    assert [r["path"] for r in lines] == [str(cry), str(noise)]
    a, b = lines
    assert a["crying"] and a["probability"] >= 0.5
    assert a["segments"], a
    # every segment overlaps the cry (3–7 s) and they cover most of it
    assert all(s < 7.0 and e > 3.0 for s, e in a["segments"])
    covered = sum(min(e, 7) - max(s, 3) for s, e in a["segments"])
    assert covered > 2.5
    assert not b["crying"] and b["segments"] == [], b
    assert abs(a["duration"] - 10.0) < 0.05


def test_detect_api_on_waveform_resamples(tiny_detector):
    det = CNN10Detector.load(tiny_detector)
    import scipy.signal

    y8 = scipy.signal.resample_poly(synth_cry(3.0, SR, seed=3), 1, 2).astype("float32")
    res = det.detect(y8, sr=8000)
    assert res.crying and abs(res.duration - 3.0) < 0.01
    assert res.window_probs.shape == res.window_times.shape
    quiet = det.detect(np.zeros(SR * 3, "float32"))
    assert not quiet.crying


def test_text_output_and_threshold(tiny_detector, cry_wav, capsys):
    cry, _ = cry_wav
    assert main(["detect", "--backend", "cnn10", "--model", str(tiny_detector), "--threshold",
                 "1.0", str(cry)]) == 0
    out = capsys.readouterr().out
    assert "no crying" in out or "CRYING" in out
    assert "threshold 1.00" in out


def test_merge_segments():
    starts = np.array([0.0, 0.5, 1.0, 3.0, 3.5])
    probs = np.array([0.9, 0.8, 0.1, 0.7, 0.2])
    segs = merge_segments(starts, probs, window=2.0, threshold=0.5, duration=4.2)
    assert segs == [(0.0, 2.5), (3.0, 4.2)]


def _cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "cryvideo", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO)


def _run(capsys, *args):
    """The CLI in-process: (exit code, stderr lines)."""
    from cryvideo.cli import parse_args, run

    rc = run(parse_args(list(args)))
    return rc, capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize("case,code,msg", [
    ("missing", 3, "No such file"),
    ("video_only", 3, "no audio"),
    ("empty_dir", 3, "no media files"),
    ("text", 3, ""),
])
def test_detect_rejects_bad_inputs(case, code, msg, media_dir, tmp_path, tiny_detector, capsys):
    if case == "missing":
        path = tmp_path / "nope.wav"
    elif case == "video_only":
        path = media_dir / "video_only.mp4"
    elif case == "empty_dir":
        path = tmp_path / "empty"
        path.mkdir()
    else:
        path = tmp_path / "notes.wav"
        path.write_text("this is not audio")
    rc, err = _run(capsys, "detect", "--backend", "cnn10", "--model", str(tiny_detector),
                   str(path))
    assert rc == code, err
    assert len(err) == 1 and err[0].startswith("cryvideo: error:"), err
    assert str(path.name) in err[0] and msg.lower() in err[0].lower()


def test_detect_cli_process_error_is_one_line(tmp_path):
    """The real console entry: one line on stderr, exit code 3, no traceback."""
    r = _cli("detect", str(tmp_path / "nope.mp4"))
    assert r.returncode == 3
    assert r.stderr.strip().count("\n") == 0 and "nope.mp4" in r.stderr
    assert "Traceback" not in r.stderr


def test_detect_bad_parameters_and_models(media_dir, tmp_path, tiny_detector, capsys):
    wav = str(media_dir / "audio_only.wav")
    rc, err = _run(capsys, "detect", "--threshold", "1.5", wav)
    assert rc == 2 and "threshold" in err[0]
    broken = tmp_path / "cry_detector.keras"
    broken.write_bytes(tiny_detector.read_bytes()[:1000])
    (tmp_path / "cry_detector.json").write_text(tiny_detector.with_suffix(".json").read_text())
    rc, err = _run(capsys, "detect", "--backend", "cnn10", "--model", str(broken), wav)
    assert rc == 4 and "sha256 mismatch" in err[0] and len(err) == 1
    rc, err = _run(capsys, "detect", "--backend", "cnn10", "--model", str(tmp_path / "none.keras"),
                   wav)
    assert rc == 4 and "none.keras" in err[0]


def test_partial_failure_keeps_going(tiny_detector, cry_wav, tmp_path, capsys):
    cry, _ = cry_wav
    out = tmp_path / "res.jsonl"
    rc = main(["detect", "--json", "--backend", "cnn10", "--model", str(tiny_detector), "--out",
               str(out),
               str(cry), str(tmp_path / "missing.wav")])
    assert rc == 7
    rows = [json.loads(s) for s in out.read_text().splitlines()]
    assert rows[0]["crying"] and rows[1]["exit_code"] == 3


def test_export_tflite_dynamic_and_int8(tiny_detector, cry_wav, tmp_path, capsys):
    cry, noise = cry_wav
    calib = tmp_path / "calib"
    calib.mkdir()
    for p in cry_wav:
        (calib / p.name).write_bytes(p.read_bytes())
    dyn = tmp_path / "det_dyn.tflite"
    i8 = tmp_path / "det_int8.tflite"
    f32 = tmp_path / "det.tflite"
    assert main(["export", str(tiny_detector), "--format", "tflite", "-o", str(f32)]) == 0
    assert main(["export", str(tiny_detector), "--quantize", "dynamic", "-o", str(dyn)]) == 0
    assert main(["export", str(tiny_detector), "--quantize", "int8", "--calibration",
                 str(calib), "-o", str(i8)]) == 0
    card = json.loads(i8.with_suffix(".json").read_text())
    assert card["extra"]["quantization"] == "int8" and card["kind"] == "cry-detector"
    assert dyn.stat().st_size < f32.stat().st_size and i8.stat().st_size < f32.stat().st_size
    keras_det = CNN10Detector.load(tiny_detector)
    for q in (f32, dyn, i8):
        det = CNN10Detector.load(q)
        a, b = det.detect(str(cry)), det.detect(str(noise))
        assert a.crying and not b.crying
        ref = keras_det.detect(str(cry))
        tol = 1e-4 if q == f32 else 0.1
        np.testing.assert_allclose(a.window_probs, ref.window_probs, atol=tol)


def test_export_rejects_bad_requests(tiny_detector, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["export", str(tiny_detector), "--quantize", "fp16"])
    capsys.readouterr()
    rc, err = _run(capsys, "export", str(tiny_detector), "--quantize", "int8")
    assert rc == 2 and "--calibration" in err[0]
    rc, err = _run(capsys, "export", str(tmp_path / "none.keras"))
    assert rc == 4 and "none.keras" in err[0]
    rc, err = _run(capsys, "export", str(tiny_detector), "-o", str(tmp_path / "x.onnx"))
    assert rc == 2 and ".tflite" in err[0]


@pytest.mark.shared
def test_yamnet_backend(shared_dir, cry_wav, capsys, monkeypatch):
    w = shared_dir / "weights"
    if not (w / "yamnet" / "yamnet.tflite").is_file():
        pytest.skip("../shared/weights/yamnet/yamnet.tflite is not available")
    monkeypatch.setenv("CRYVIDEO_WEIGHTS_DIR", str(w))
    cry, noise = cry_wav
    assert main(["detect", "--json", "--backend", "yamnet", str(cry), str(noise)]) == 0
    a, b = [json.loads(s) for s in capsys.readouterr().out.strip().splitlines()]
    assert 0 <= a["probability"] <= 1 and 0 <= b["probability"] <= 1
    assert not b["crying"]                       # white noise is not a cry for YAMNet
    assert all(0 <= s < e <= 10.0 for s, e in a["segments"])
