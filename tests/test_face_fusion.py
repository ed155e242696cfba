"""Face branch, smoothing, backbones, fusion, video training and the predict report.

The end-to-end test builds a small labelled set of synthetic videos (scikit-image's astronaut
face tinted with a class colour; Donateacry cries as sound), trains the whole pipeline with the
small ImageNet MobileNet, and checks that the face branch and the fusion beat chance on held-out
(grouped) videos while the same pipeline on shuffled labels does not.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cryvideo.cli import main as cli_main
from cryvideo.errors import ParameterError, WeightsNotFoundError
from cryvideo.models.smoothing import RollingAverage, smooth_predictions
from cryvideo.testing import media as synthetic_videos
from cryvideo.vision.faces import FaceTracker, crop_face

REPO = Path(__file__).resolve().parents[1]

CLASSES = ("hug", "hungry", "sleepy")


# -- smoothing ---------------------------------------------------------------------------------
def test_rolling_average_is_mean_of_last_k():
    ra = RollingAverage(3)
    seq = [np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.array([0.0, 1.0]),
           np.array([0.0, 1.0])]
    out = [ra.update(p) for p in seq]
    np.testing.assert_allclose(out[0], [1, 0])
    np.testing.assert_allclose(out[1], [0.5, 0.5])
    np.testing.assert_allclose(out[2], [1 / 3, 2 / 3])
    np.testing.assert_allclose(out[3], [0, 1])  # the first frame has left the deque


def test_smooth_predictions_shapes_and_video_mean(rng):
    p = rng.dirichlet(np.ones(4), size=20)
    sm, video = smooth_predictions(p, k=5)
    assert sm.shape == (20, 4)
    np.testing.assert_allclose(sm.sum(axis=1), 1.0)
    np.testing.assert_allclose(sm[10], p[6:11].mean(axis=0))
    np.testing.assert_allclose(video, p.mean(axis=0))
    with pytest.raises(ParameterError):
        smooth_predictions(np.zeros((0, 4)))
    with pytest.raises(ParameterError):
        RollingAverage(0)


# -- face detection ----------------------------------------------------------------------------
def test_tracker_finds_face_and_reports_no_face():
    frames = list(synthetic_videos.face_frames(6, size=(320, 240), cue=1, seed=3))
    tr = FaceTracker()
    boxes = [tr.update(f) for f in frames]
    assert all(b is not None for b in boxes)
    assert tr.n_tracked >= 4  # after the first frame, the cheap window search does the work
    crop = crop_face(frames[0], boxes[0])
    assert crop.shape == (224, 224, 3) and crop.dtype == np.uint8
    empty = list(synthetic_videos.face_frames(3, size=(320, 240), face=False, seed=1))
    tr.reset()
    assert [tr.update(f) for f in empty] == [None, None, None]


# -- backbones ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def weights_env(shared_dir, monkeypatch_module):
    d = shared_dir / "weights"
    if not (d / "mobilenet_0.25_imagenet" / "mobilenet_2_5_224_tf_no_top.h5").is_file():
        pytest.skip("../shared/weights/mobilenet_0.25_imagenet is not available")
    monkeypatch_module.setenv("CRYVIDEO_WEIGHTS_DIR", str(d))
    return d


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@pytest.fixture(scope="module")
def crops():
    frames = list(synthetic_videos.face_frames(4, size=(320, 240), cue=0, seed=5))
    tr = FaceTracker()
    return np.stack([crop_face(f, tr.update(f)) for f in frames])


def test_mobilenet_imagenet_features_keras_and_tflite_agree(weights_env, crops):
    from cryvideo.vision.backbones import build_backbone

    kb = build_backbone("mobilenet", weights="imagenet", runtime="keras", batch_size=3)
    f = kb.features(crops)
    assert f.shape == (4, 7, 7, 256) and np.isfinite(f).all()
    assert kb.weights_id.startswith("imagenet:")
    tb = build_backbone("mobilenet", weights="imagenet", runtime="tflite")
    g = tb.features(crops)
    np.testing.assert_allclose(g, f, atol=1e-3 * max(1.0, float(np.abs(f).max())))


def test_random_init_only_when_asked_and_reproducible(crops):
    from cryvideo.vision.backbones import build_backbone, load_backbone

    a = build_backbone("mobilenet", weights="random", seed=3)
    b = load_backbone(a.describe())
    assert a.weights_id == "random:3" == b.weights_id
    np.testing.assert_allclose(a.features(crops[:2]), b.features(crops[:2]), atol=1e-5)


def test_missing_resnet_weights_say_where_to_put_them(tmp_path, monkeypatch):
    from cryvideo.vision.backbones import build_backbone

    monkeypatch.setenv("CRYVIDEO_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    with pytest.raises(WeightsNotFoundError) as exc:
        build_backbone("resnet50", weights="imagenet", allow_download=False)
    msg = str(exc.value)
    assert "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5" in msg
    assert "CRYVIDEO_WEIGHTS_DIR" in msg
    # a wrong file (bad md5) is refused, not loaded
    (tmp_path / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5").write_bytes(b"x" * 100)
    with pytest.raises(WeightsNotFoundError, match="wrong md5"):
        build_backbone("resnet50", weights="imagenet", allow_download=False)


def test_unknown_backbone_is_a_parameter_error():
    from cryvideo.vision.backbones import build_backbone

    with pytest.raises(ParameterError):
        build_backbone("vgg", weights="random")


# -- end to end: synthetic labelled videos → train → predict → report ------------------------
@pytest.fixture(scope="module")
def video_set(tmp_path_factory, donateacry_dir):
    d = tmp_path_factory.mktemp("videos")
    labels = synthetic_videos.make_labelled_set(d, classes=CLASSES, per_class=8, duration=2.0,
                                                fps=10.0, audio_dir=donateacry_dir)
    return d, labels


@pytest.fixture(scope="module")
def trained(video_set, weights_env, tmp_path_factory):
    from cryvideo.training.settings import VideoTrainingSettings
    from cryvideo.training.video import train_video_pipeline

    d, labels = video_set
    out = tmp_path_factory.mktemp("models")
    rep = train_video_pipeline(VideoTrainingSettings(
        d, labels, out_dir=out, backbone="mobilenet", weights="imagenet", fps=5.0,
        group_column="group", n_splits=3, epochs_face=10, epochs_audio=30, epochs_fusion=40,
        window=4), progress=False)
    return out, rep


@pytest.mark.slow
def test_training_beats_chance_on_held_out_videos(trained):
    out, rep = trained
    m = rep["metrics"]
    assert rep["videos"] == 24 and rep["groups"] == 12
    assert rep["face_share"] > 0.9
    # chance = 1/3 balanced accuracy (the majority baseline's)
    assert m["face"]["majority_baseline"]["balanced_accuracy"] == pytest.approx(1 / 3)
    assert m["face"]["balanced_accuracy"] >= 0.8, m["face"]
    assert m["fusion"]["balanced_accuracy"] >= 0.7, m["fusion"]
    for name in ("face_head", "fusion", "video_audio_mfcc", "video_audio_stft"):
        card = json.loads((out / f"{name}.json").read_text())
        assert card["labels"] == list(CLASSES) and len(card["sha256"]) == 64
    face_card = json.loads((out / "face_head.json").read_text())
    assert face_card["inputs"]["backbone"]["name"] == "mobilenet"
    assert face_card["inputs"]["window"] == 4
    fusion_card = json.loads((out / "fusion.json").read_text())
    assert [b["name"] for b in fusion_card["inputs"]["branches"]] == ["face", "mfcc", "stft"]


@pytest.mark.slow
def test_shuffled_labels_stay_at_chance(video_set, weights_env, tmp_path, capsys):
    d, labels = video_set
    rc = cli_main(["train", str(d), "--labels", str(labels), "--group-column", "group",
                   "--backbone", "mobilenet", "--fps", "5", "--folds", "3",
                   "--epochs-fusion", "40", "--epochs-audio", "30", "--shuffle-labels",
                   "--json", "--out", str(tmp_path / "m")])
    assert rc == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["shuffled_labels"] is True
    assert rep["metrics"]["face"]["balanced_accuracy"] < 0.6
    assert rep["metrics"]["fusion"]["balanced_accuracy"] < 0.6
    assert not (tmp_path / "m" / "fusion.keras").exists()  # a control run saves nothing


@pytest.mark.slow
def test_predict_uses_all_branches_and_writes_report(trained, video_set, tmp_path, capsys):
    out, _ = trained
    d, _ = video_set
    report = tmp_path / "r.html"
    # the synthetic videos put a smiling face over a cry: the face verdict would veto it
    # (tests/test_face_verdict.py); here every reason branch must answer, so the gate hears only
    rc = cli_main(["predict", "--models", str(out), "--json", "--report", str(report),
                   "--face", "off", str(d / "hungry_01.mp4")])
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    assert res["modalities"] == ["face", "mfcc", "stft"]
    assert res["fusion"].startswith("concatenate fusion model over face, mfcc, stft")
    assert res["trained"] is True and set(res["probabilities"]) == set(CLASSES)
    face = next(b for b in res["branches"] if b["name"] == "face")
    assert face["used"] and face["details"]["face_share"] > 0.9
    assert len(face["details"]["smoothed_labels"]) == face["details"]["frames_with_face"]
    assert {"face_detect", "face_backbone", "audio", "total"} <= set(res["timings"])
    page = report.read_text()
    assert page.count("data:image/png;base64,") == 3  # at a glance, face crops, face timeline
    assert "src='http" not in page and 'src="http' not in page  # self-contained


@pytest.mark.slow
def test_missing_modalities_say_which_branches_were_used(trained, tmp_path, capsys):
    from cryvideo.pipeline import Predictor
    from cryvideo.testing.media import make_video

    out, _ = trained
    # the clips' sound is a tone, no cry: the gate is off to reach the reason branches
    pred = Predictor(models_dir=out, cry_detector=None)
    no_face = make_video(tmp_path / "no_face.mp4", duration=2.0)
    r = pred.predict(no_face)
    assert r.modalities == ["mfcc", "stft"]
    assert "missing: face" in r.fusion
    assert any("no face" in n for n in r.notes)
    no_audio = tmp_path / "no_audio.mp4"
    synthetic_videos.write_video(no_audio, synthetic_videos.face_frames(20, cue=2, seed=9),
                                 fps=10, size=(240, 180), audio=None)
    r = pred.predict(no_audio)
    assert r.modalities == ["face"]
    assert "missing: mfcc, stft" in r.fusion
    assert any("no audio track" in n for n in r.notes)
    assert r.label == "sleepy"  # the face cue of class 2 comes through the fusion


def test_demo_without_trained_face_model_reports_face_share_only(demo_clip, tmp_path, capsys):
    from conftest import copy_models

    models = copy_models(tmp_path / "m", "audio_mfcc.keras", "audio_stft.keras")
    rc = cli_main(["predict", "--models", str(models), str(demo_clip)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "no trained face model: face branch reports face share only" in text
    # the demo shows a face-free scene for its first half (data_prep/make_demo_clip.py)
    assert "face in 50% of" in text
    assert "mfcc" in text and "stft" in text and "branches used:" in text


@pytest.mark.slow
def test_report_renders_in_headless_chromium(trained, video_set, tmp_path):
    from cryvideo.pipeline import Predictor
    from cryvideo.report import write_html_report
    from cryvideo.report.screenshot import find_chromium, screenshot

    if find_chromium() is None:
        pytest.skip("chromium is not installed (apt-get install chromium) — report render "
                    "check skipped")
    out, _ = trained
    d, _ = video_set
    res = Predictor(models_dir=out, keep_artifacts=True).predict(d / "hug_02.mp4")
    html = tmp_path / "r.html"
    write_html_report(res, html)
    png = screenshot(html, tmp_path / "r.png", width=900, height=1600)
    import cv2

    img = cv2.imread(str(png))
    assert img is not None and img.shape[:2] == (1600, 900)
    # the page is rendered: mostly white background with a substantial amount of drawing
    non_white = (img.min(axis=2) < 200).mean()
    assert 0.03 < non_white < 0.9


def test_benchmark_results_are_recorded():
    res = REPO / "benchmarks" / "results"
    bb = json.loads((res / "backbone.json").read_text())
    assert bb["bound_frames_per_s"] > 0 and bb["results"]
    pr = json.loads((res / "predict.json").read_text())
    assert {r["fps"] for r in pr["results"]} >= {30.0}


def test_synthetic_videos_script_runs(tmp_path):
    r = subprocess.run([sys.executable, str(REPO / "data_prep" / "synthetic_videos.py"),
                        str(tmp_path), "--per-class", "1", "--duration", "1", "--fps", "5"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert len(list(tmp_path.glob("*.mp4"))) == 3


@pytest.mark.parametrize("content, problem", [
    ("name,label\na.mp4,x\n", "no file column"),
    ("file,reason\na.mp4,x\n", "no 'label' column"),
    ("file,label\nmissing.mp4,x\n", "not found"),
])
def test_train_bad_labels_file_is_one_clear_error(tmp_path, capsys, content, problem):
    (tmp_path / "labels.csv").write_text(content)
    rc = cli_main(["train", str(tmp_path), "--labels", str(tmp_path / "labels.csv"),
                   "--weights", "random", "--backbone", "mobilenet"])
    err = capsys.readouterr().err
    assert rc == 6
    assert problem in err and len(err.strip().splitlines()) == 1
