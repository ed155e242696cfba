"""``cryvideo detect`` with the shipped YAMNet-based detector (the default backend)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from cryvideo.cli import main

SR = 16000


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("det")
    rng = np.random.default_rng(0)
    noise = (0.05 * rng.standard_normal(SR * 4)).astype(np.float32)
    short = (0.05 * rng.standard_normal(int(SR * 0.3))).astype(np.float32)
    sf.write(d / "noise.wav", noise, SR)
    sf.write(d / "short.wav", short, SR)
    return d


@pytest.fixture(scope="module")
def shipped(shipped_detector):
    return shipped_detector


def _run(capsys, *argv):
    rc = main(list(argv))
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def test_default_detector_names_itself_in_every_record(shipped, clips, capsys, shared_dir):
    cry = shared_dir / "data" / "cry_detection" / "cry" / "esc50_cry_1-187207-A.ogg"
    if not cry.is_file():
        pytest.skip("an ESC-50 cry of ../shared is needed")
    rc, out, _ = _run(capsys, "detect", "--json", str(cry), str(clips / "noise.wav"),
                      str(clips / "short.wav"))
    assert rc == 7          # one of three failed (too short), the others were processed
    recs = [json.loads(x) for x in out.strip().splitlines()]
    card = json.loads(shipped.with_suffix(".json").read_text())
    assert len(recs) == 3
    for r in recs:
        assert r["detector"]["name"] == "yamnet-cry"
    a, b, c = recs
    assert a["detector"]["sha256"] == card["sha256"] and a["detector"]["card"] == card["name"]
    assert a["crying"] is True and a["segments"] and a["threshold"] == card["extra"]["threshold"]
    assert b["crying"] is False and b["segments"] == []
    assert c["exit_code"] == 3 and "too short" in c["error"]


def test_short_clip_is_exit_3(shipped, clips, capsys):
    rc, out, err = _run(capsys, "detect", str(clips / "short.wav"))
    assert rc == 3 and out == ""
    assert err.count("\n") == 1 and "too short" in err and "short.wav" in err


@pytest.mark.parametrize("argv,msg", [
    (["--hop", "0.5"], "--hop applies to --backend cnn10 only"),
    (["--threshold", "1.5"], "--threshold must be a number in [0, 1]"),
    (["--backend", "cnn10", "--hop", "0"], "--hop must be a number in (0, 60]"),
])
def test_bad_options_are_exit_2(clips, capsys, argv, msg):
    rc, _, err = _run(capsys, "detect", *argv, str(clips / "noise.wav"))
    assert rc == 2 and msg in err and err.count("\n") == 1


def test_cnn10_backend_still_there(clips, capsys):
    rc, out, _ = _run(capsys, "detect", "--json", "--backend", "cnn10", "--hop", "0.25",
                      str(clips / "noise.wav"))
    assert rc == 0
    rec = json.loads(out)
    assert rec["detector"]["name"] == "cnn10" and rec["detector"]["file"].endswith(".keras")


def test_default_detector_does_not_import_tensorflow(shipped, clips):
    code = ("import sys\nfrom cryvideo.cli import main\n"
            f"rc = main(['detect', '--json', {str(clips / 'noise.wav')!r}])\n"
            "print('TF', 'tensorflow' in sys.modules or 'keras' in sys.modules, rc)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, check=True).stdout
    assert out.strip().splitlines()[-1] == "TF False 0"


def test_card_records_the_cv(shipped):
    card = json.loads(shipped.with_suffix(".json").read_text())
    assert card["kind"] == "cry-detector/yamnet-patch" and card["labels"] == ["cry"]
    assert card["inputs"]["frontend"]["sr"] == 16000 and card["inputs"]["window_patches"] >= 1
    assert "grouped" in card["metrics"]["protocol"]
    f1 = card["metrics"]["f1"]
    assert 0 <= f1["low"] <= f1["estimate"] <= f1["high"] <= 1
    assert card["training"]["backbone"]["file"] == "yamnet.tflite"
    float_file = shipped.with_name("cry_detector_yamnet.tflite")
    assert float_file.stat().st_size >= 3.5 * shipped.stat().st_size


@pytest.mark.parametrize("kind", ["float32", "int8"])
def test_streamed_file_equals_whole_waveform(shipped, tmp_path, kind):
    """The file is scored block by block; the answer is the whole waveform's.

    Exactly (1e-4) for the float32 file. The int8-weight file quantizes its activations at
    run time, so float noise between the two paths (the float32 file's outputs differ by
    < 1e-6 on an AVX-512 AMD EPYC) can move a window's probability by a quantization step
    (0.019 seen there, none on the earlier CI machines): for it the decisions must be the
    same and the probabilities close.

    A 75 s file with a cry across the default 60 s block edge, in the default blocks and in
    7.3 s blocks; blocks shorter than a patch (0.5 s) on a 12 s stretch of it whose cry runs to
    its end (every model call is padded to a full batch: 0.5 s blocks cost one call each)."""
    from cryvideo.detection.decisions import merge_segments, moving_mean
    from cryvideo.detection.patch_detector import PatchDetector
    from cryvideo.media import load_audio
    from cryvideo.testing.media import synth_cry

    rng = np.random.default_rng(3)
    y = 0.02 * rng.standard_normal(SR * 75).astype(np.float32)
    y[SR * 55:SR * 67] += synth_cry(12.0, SR, seed=4)   # a cry across the 60 s block edge
    path = tmp_path / "long.flac"
    sf.write(path, y, SR)
    stretch = tmp_path / "stretch.flac"
    sf.write(stretch, y[SR * 52:SR * 64], SR)           # the cry from 3 s to its end (12 s)
    model = shipped if kind == "int8" else shipped.with_name("cry_detector_yamnet.tflite")
    atol = 1e-4 if kind == "float32" else 0.05
    det = PatchDetector(model)

    def whole(file):
        y = load_audio(file, sr=SR)
        scores = moving_mean(det.patch_probabilities(y), det.window)
        return scores, merge_segments(np.arange(len(scores)) * 0.48, scores,
                                      window=det.window_seconds, threshold=det.threshold,
                                      duration=y.size / SR)

    for file, seconds, cry, blocks in (
            (path, 75.0, (55, 67), ({}, {"block_seconds": 7.3})),
            (stretch, 12.0, (3, 12), ({"block_seconds": 0.5},))):
        scores, segs = whole(file)
        assert any(a < cry[1] and b > cry[0] for a, b in segs)   # the planted cry is found
        for kw in blocks:
            res = det.detect(file, **kw)
            np.testing.assert_allclose(res.window_probs, scores, atol=atol)
            assert len(res.segments) == len(segs)
            np.testing.assert_allclose(res.segments, segs, atol=1e-6)
            assert res.duration == pytest.approx(seconds, abs=0.01)
