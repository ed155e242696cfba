"""``predict``'s settings: one frozen object, one default each, checked once, the same object
from the command line or from Python (a notebook) down to the job, the predictor, the model
loading and the face stage."""

from __future__ import annotations

import dataclasses

import pytest

from cryvideo.errors import ModelError, ParameterError, WeightsNotFoundError
from cryvideo.pipeline import PredictSettings
from cryvideo.pipeline.settings import DEFAULT_ANALYSIS_FPS, MAX_FPS, MIN_FPS


def _cli_settings(*argv: str) -> PredictSettings:
    from cryvideo.cli import build_parser
    from cryvideo.cli.predict import settings_from

    return settings_from(build_parser().parse_args(["predict", *argv, "a.mp4"]))


def test_defaults_are_declared_once():
    s = PredictSettings()
    assert (s.fps, s.use_face, s.window, s.runtime, s.cry_detector, s.cry_face) == (
        DEFAULT_ANALYSIS_FPS, True, None, "tflite", "yamnet-cry", "auto")
    # the command line without options gives the very same settings
    assert _cli_settings() == s
    # and its parser declares no default of its own for any of them
    from cryvideo.cli import build_parser

    sub = next(a for a in build_parser()._actions if hasattr(a, "choices")
               and isinstance(a.choices, dict)).choices["predict"]
    for option in ("--fps", "--window", "--runtime", "--models", "--weights",
                   "--cry-detector", "--face"):
        assert sub._option_string_actions[option].default is None, option


def test_options_become_settings():
    s = _cli_settings("--fps", "10", "--no-face", "--window", "3", "--cry-detector", "none",
                      "--runtime", "keras", "--report", "r.html")
    assert (s.fps, s.use_face, s.cry_face, s.window, s.cry_detector, s.runtime,
            s.keep_artifacts) == (10.0, False, "off", 3, None, "keras", True)
    assert _cli_settings("--face", "on").cry_face == "on"
    with pytest.raises(ParameterError, match="--no-face and --face on contradict"):
        _cli_settings("--no-face", "--face", "on")


@pytest.mark.parametrize("kw,message", [
    ({"fps": 0.01}, r"--fps must be a number in \[0\.1, 240\] frames per second, got 0\.01"),
    ({"fps": 241}, "--fps must be"), ({"fps": float("nan")}, "--fps must be"),
    ({"fps": None}, "--fps must be"), ({"fps": "5"}, "--fps must be"),
    ({"fps": True}, "--fps must be"),
    ({"window": 0}, r"--window must be a number in \[1, 100000\] frames, got 0"),
    ({"window": 2.5}, "--window must be a whole number"),
    ({"runtime": "onnx"}, "--runtime must be one of tflite, keras"),
    ({"cry_face": "maybe"}, "--face must be one of auto, on, off"),
    ({"cry_detector": "bogus"}, "cry detector must be one of"),
    ({"cry_detector": object()}, "cry detector must be a Detector"),
    ({"use_face": "no"}, "use_face must be True or False"),
    ({"max_side": 8}, "max_side must be"),
])
def test_bad_values_are_refused_when_made(kw, message):
    with pytest.raises(ParameterError, match=message):
        PredictSettings(**kw)


def test_one_fps_range_for_everyone():
    """The command line's range is the library's: the ends are taken, beyond them refused."""
    assert PredictSettings(fps=MIN_FPS).fps == MIN_FPS
    assert PredictSettings(fps=MAX_FPS).fps == MAX_FPS
    for fps in (MIN_FPS / 2, MAX_FPS + 1):
        with pytest.raises(ParameterError):
            PredictSettings(fps=fps)


def test_settings_are_frozen_and_hashable():
    s = PredictSettings(fps=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.fps = 3.0
    assert s == PredictSettings(fps=2.0) and hash(s) == hash(PredictSettings(fps=2.0))
    assert dataclasses.replace(s, use_face=False).fps == 2.0


def test_check_files(tmp_path):
    with pytest.raises(ModelError):
        PredictSettings(models_dir=tmp_path / "nothing").check_files()
    with pytest.raises(WeightsNotFoundError, match="given with --weights"):
        PredictSettings(weights_path=tmp_path / "missing.h5").check_files()
    PredictSettings().check_files()      # the bundled models folder


def test_the_same_object_reaches_job_predictor_and_stages():
    """A notebook builds the settings once; the job, the predictor and the face stage all read
    that one object (no stage keeps defaults of its own)."""
    from cryvideo.batch import PredictJob
    from cryvideo.batch.jobs import forget_models, loaded_models

    s = PredictSettings(fps=2.5, use_face=False, cry_detector=None, window=3)
    job = PredictJob(s)
    predictor, _ = loaded_models(job)
    try:
        assert job.settings is s and predictor.settings is s
        st = predictor.face_stage
        assert (st.fps, st.max_side, st.use_face, st.window) == (2.5, s.max_side, False, 3)
        assert predictor.cry_detector is None
    finally:
        forget_models(job)


def test_predictor_keywords_are_settings_overrides():
    from cryvideo.pipeline import Predictor

    p = Predictor(use_face=False, cry_detector=None, fps=7)
    assert p.settings == PredictSettings(use_face=False, cry_detector=None, fps=7)
    base = PredictSettings(fps=3, use_face=False, cry_detector=None)
    assert Predictor(base, fps=4).settings == dataclasses.replace(base, fps=4.0)
    with pytest.raises(TypeError):      # retired: no caller passed it
        Predictor(use_face=False, cry_detector=None, use_fusion_model=False)
    with pytest.raises(ParameterError, match="--fps must be"):
        Predictor(base, fps=0)
