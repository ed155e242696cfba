"""The benchmark, training and export commands as a notebook calls them: one frozen settings
object each, checked when made, and one function doing the work (no argparse); the command
line builds the same objects, with the same defaults."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from cryvideo.errors import DatasetError, ParameterError
from cryvideo.studies.detection_benchmark import (
    DetectionBenchmarkSettings,
    render_detection_report,
)

REPO = Path(__file__).resolve().parents[1]
RES = REPO / "benchmarks" / "results"
SAVED = REPO / "saved_models"


def _undated(md: str) -> str:
    return re.sub(r"(rendered again from `detection.json` on )\S+", r"\1DATE", md)


def test_render_detection_report_from_python(tmp_path):
    """The report rendered from the committed figures, from Python: the committed report again
    (but for the day it was rendered), and its figure."""
    for name in ("detection.json", "detection_cv.json", "detection.md"):
        shutil.copyfile(RES / name, tmp_path / name)
    report = render_detection_report(tmp_path)
    assert report == tmp_path / "detection.md"
    committed = (RES / "detection.md").read_text(encoding="utf-8")
    assert _undated(report.read_text(encoding="utf-8")) == _undated(committed)
    assert (tmp_path / "detection.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_render_detection_report_refuses_what_is_not_its_results(tmp_path):
    with pytest.raises(DatasetError, match="no detection.json") as exc:
        render_detection_report(tmp_path)
    assert str(tmp_path / "detection.json") in str(exc.value)
    (tmp_path / "detection.json").write_text('{"methods": {}}')
    (tmp_path / "detection_cv.json").write_text('{"not": "a run"}')
    with pytest.raises(DatasetError, match="not the results of"):
        render_detection_report(tmp_path)
    with pytest.raises(ParameterError, match="must be a folder"):
        render_detection_report(tmp_path / "detection.json")
    assert not (tmp_path / "detection.md").exists()


@pytest.mark.parametrize("kwargs, words", [
    ({"folds": 1}, "--folds must be at least 2"),
    ({"n_boot": 10}, "--n-boot must be at least 100"),
    ({"recipes": ("gated", "bogus")}, "unknown recipe(s) bogus"),
    ({"tflite": ("fp16",)}, "--tflite"),
    ({"seeds": ()}, "at least one seed"),
    ({"resume_from": "earlier.json"}, "--resume-from needs --checkpoint"),
])
def test_detection_benchmark_settings_are_checked_when_made(kwargs, words):
    with pytest.raises(ParameterError) as exc:
        DetectionBenchmarkSettings(**kwargs)
    assert words in str(exc.value)


def test_detection_benchmark_settings_from_python(tmp_path):
    s = DetectionBenchmarkSettings(tmp_path / "data", seeds=(3,), tflite=("float32",))
    assert s.quantize == ("float32",)
    assert DetectionBenchmarkSettings().quantize is True
    assert DetectionBenchmarkSettings(tflite=("none",)).quantize is False
    # re-reading a run without the report's data: one error naming the folder
    with pytest.raises(DatasetError, match="data folder not found") as exc:
        s.data_root()
    assert "data" in str(exc.value)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.folds = 3
    (tmp_path / "f").write_text("x")
    with pytest.raises(ParameterError, match="--out must be a folder"):
        DetectionBenchmarkSettings(out=tmp_path / "f")


def test_the_command_line_builds_the_library_defaults(tmp_path, monkeypatch):
    """Each option not given is the settings' own default: declared once."""
    from cryvideo.cli import benchmark_detection, benchmark_donateacry, benchmark_panns, parse_args
    from cryvideo.cli import export as export_cli
    from cryvideo.cli import train as train_cli
    from cryvideo.cli import train_audio as train_audio_cli
    from cryvideo.models.export import ExportSettings
    from cryvideo.studies.donateacry_benchmark import DonateacryBenchmarkSettings
    from cryvideo.studies.panns_benchmark import PannsBenchmarkSettings
    from cryvideo.training.settings import AudioTrainingSettings, VideoTrainingSettings

    monkeypatch.chdir(tmp_path)
    assert benchmark_detection.settings_from_args(
        parse_args(["benchmark", "detection"])) == DetectionBenchmarkSettings()
    assert benchmark_donateacry.settings_from_args(
        parse_args(["benchmark", "donateacry", "d"])) == DonateacryBenchmarkSettings("d")
    panns = benchmark_panns.settings_from_args(parse_args(["benchmark", "panns", "d"]))
    assert dataclasses.replace(panns, command="") == PannsBenchmarkSettings("d", command="")
    assert train_cli.settings_from_args(
        parse_args(["train", "v", "--labels", "l.csv"])) == VideoTrainingSettings("v", "l.csv")
    assert train_audio_cli.settings_from_args(
        parse_args(["train-audio", "d", "--out", "o"])) == AudioTrainingSettings("d", "o")
    assert export_cli.settings_from_args(
        parse_args(["export", "m.keras"])) == ExportSettings("m.keras")
    # and a given option reaches its field
    s = benchmark_donateacry.settings_from_args(parse_args(
        ["benchmark", "donateacry", "d", "--protocol", "grouped", "--folds", "3",
         "--duration", "3", "--classes", "paper4"]))
    assert s.config.protocols == ("grouped",) and s.config.n_splits == 3
    assert s.params.duration == 3.0 and list(s.config.class_sets) == ["paper4"]


def test_donateacry_settings_from_plain_values():
    from cryvideo.studies.donateacry_benchmark import DonateacryBenchmarkSettings

    s = DonateacryBenchmarkSettings.from_options(
        "donateacry/", class_sets=["paper4", "hungry,tired"],
        config={"n_permutations": 0, "models": ("SVM",)}, params={"n_mfcc": 20}, out="o")
    assert list(s.config.class_sets) == ["paper4", "hungry+tired"]
    assert s.config.n_permutations == 0 and s.params.n_mfcc == 20 and s.out == "o"
    with pytest.raises(ParameterError, match="--classes"):
        DonateacryBenchmarkSettings.from_options("d", class_sets=["hungry,sleepy"])
    with pytest.raises(ParameterError, match="--features"):
        DonateacryBenchmarkSettings.from_options("d", config={"features": ("chroma",)})


@pytest.mark.parametrize("kwargs, words", [
    ({"cv_folds": 1}, "--cv-folds must be 0 or >= 2, got 1"),
    ({"n_aug": -1}, "--n-aug must be >= 0, got -1"),
    ({"max_epochs": 0}, "--max-epochs must be >= 1, got 0"),
    ({"kinds": ("chroma",)}, "--kinds must be among mfcc, stft"),
])
def test_audio_training_settings_are_checked_when_made(kwargs, words):
    from cryvideo.training.settings import AudioTrainingSettings

    with pytest.raises(ParameterError) as exc:
        AudioTrainingSettings("d", "o", **kwargs)
    assert words in str(exc.value)
    s = AudioTrainingSettings("d", "o", kinds=["mfcc"], max_epochs=3)
    assert s.kinds == ("mfcc",) and s.overrides == {"ae_epochs": 3, "clf_epochs": 3}
    assert AudioTrainingSettings("d", "o").overrides == {}


@pytest.mark.parametrize("kwargs, words", [
    ({"backbone": "vgg16"}, "--backbone must be one of resnet50, mobilenet"),
    ({"audio": "none"}, "--audio must be 'train' or 'default'"),
    ({"n_splits": 1}, "--folds must be >= 2"),
    ({"fps": 0.0}, "--fps must be a number in (0, 240]"),
    ({"epochs_fusion": 0}, "--epochs-fusion must be >= 1"),
])
def test_video_training_settings_are_checked_when_made(kwargs, words):
    from cryvideo.training.settings import VideoTrainingSettings

    with pytest.raises(ParameterError) as exc:
        VideoTrainingSettings("v", "l.csv", **kwargs)
    assert words in str(exc.value)
    assert VideoTrainingSettings("v", "l.csv").saves
    assert not VideoTrainingSettings("v", "l.csv", shuffle_labels=True).saves


def test_export_settings_name_and_guard_the_output(tmp_path):
    from cryvideo.models.export import ExportSettings

    src = tmp_path / "det.keras"
    assert ExportSettings(src).target == tmp_path / "det_float32.tflite"
    assert ExportSettings(src, quantize="dynamic").target == tmp_path / "det_dynamic.tflite"
    assert ExportSettings(src, format="onnx", output=tmp_path / "d.onnx").target.suffix == ".onnx"
    for kwargs, words in (({"format": "onnx", "quantize": "dynamic"}, "tflite only"),
                          ({"quantize": "int8"}, "--calibration"),
                          ({"max_windows": 0}, "--max-windows"),
                          ({"output": tmp_path / "x.onnx"}, "must end in .tflite"),
                          ({"format": "onnx", "output": tmp_path / "det.json"}, "must end in"),
                          ({"output": tmp_path / "det.tflite"}, "would overwrite")):
        with pytest.raises(ParameterError, match=re.escape(words)):
            ExportSettings(src, **kwargs)
    # the shipped folder: never by default, only when the output names a file in it
    with pytest.raises(ParameterError, match="shipped models folder"):
        ExportSettings(SAVED / "audio_mfcc.keras")
    named = SAVED / "audio_mfcc_float32.tflite"
    assert ExportSettings(SAVED / "audio_mfcc.keras", output=named).target == named


@pytest.mark.slow
def test_export_model_from_python(tmp_path):
    """A bundled reason branch exported to a folder of our own: the TFLite file scores as the
    Keras model does, and its card is the source's, with where it came from."""
    from cryvideo.models.cards import load_model_with_card, read_card, verify_model_file
    from cryvideo.models.export import (
        ExportSettings,
        export_model,
        run_tflite,
        tflite_interpreter,
    )

    src = tmp_path / "models" / "audio_mfcc.keras"
    src.parent.mkdir()
    shutil.copyfile(SAVED / "audio_mfcc.keras", src)
    shutil.copyfile(SAVED / "audio_mfcc.json", src.with_suffix(".json"))
    said: list[str] = []
    out = export_model(ExportSettings(src, output=tmp_path / "out" / "mfcc.tflite"),
                       log=said.append)
    assert out == tmp_path / "out" / "mfcc.tflite" and said
    card = verify_model_file(out)
    source = read_card(src)
    assert card.file == "mfcc.tflite" and card.labels == source.labels
    assert card.extra["exported_from"] == "audio_mfcc.keras"
    assert card.extra["source_sha256"] == source.sha256
    assert (card.extra["format"], card.extra["quantization"]) == ("tflite", "none")
    model, _ = load_model_with_card(src)
    x = np.random.default_rng(0).normal(size=(3, int(model.inputs[0].shape[-1])))
    x = x.astype(np.float32)
    it = tflite_interpreter(out.read_bytes())
    it.resize_tensor_input(it.get_input_details()[0]["index"], [1, x.shape[1]])
    it.allocate_tensors()
    np.testing.assert_allclose(run_tflite(it, x), model.predict(x, verbose=0), atol=1e-4)
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == [
        "audio_mfcc.json", "audio_mfcc.keras"]                   # the source stays as it was


def test_cnn10_cards_point_to_the_grouped_detection_cv():
    """The CNN10 detectors' cards keep their files (same sha256) and point to CNN10's row in
    the grouped detection CV, which the committed results hold."""
    from cryvideo.models.cards import read_card, verify_model_file

    cnn10 = [p for p in sorted(SAVED.glob("cry_detector*.json"))
             if json.loads(p.read_text())["kind"] == "cry-detector"]
    assert [p.stem for p in cnn10] == ["cry_detector", "cry_detector_dynamic",
                                       "cry_detector_int8"]
    md = (RES / "detection.md").read_text(encoding="utf-8")
    methods = json.loads((RES / "detection.json").read_text())["methods"]
    for card_file in cnn10:
        card = read_card(card_file.with_name(json.loads(card_file.read_text())["file"]))
        verify_model_file(card_file.with_name(card.file), card)
        see = card.metrics["metrics_see"]
        assert see.startswith("benchmarks/results/detection.md (CNN10 row)")
        assert "methods.cnn10" in see and "cnn10" in methods
        assert re.search(r"^\| CNN10 ", md, re.M)


@pytest.mark.parametrize("parts, words", [
    (("pooling", "nope"), "parts must be among "),
    ((), "got nothing"),
])
def test_panns_settings_refuse_unknown_or_no_parts(parts, words):
    from cryvideo.studies.panns_benchmark import PANNS_PARTS, PannsBenchmarkSettings

    with pytest.raises(ParameterError) as exc:
        PannsBenchmarkSettings("d", parts=parts)
    assert words in str(exc.value)
    assert PannsBenchmarkSettings("d", parts=list(PANNS_PARTS[:1])).parts == PANNS_PARTS[:1]
