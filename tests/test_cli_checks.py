"""The command line checks what it is given before doing any work, and says what it did.

Issue 11: the models folder (``--models`` / ``$CRYVIDEO_MODELS_DIR``) is the one place every
model is looked up first; option values are validated up front; damaged files are reported;
output files honour the umask; a batch in which every file failed is exit 3; warnings, usage
lines and messages keep the one-line promise.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import cli_without_models, copy_models, one_error_line

from cryvideo.errors import InputFileError, MediaTimeoutError, ParameterError
from cryvideo.testing.fuzz import run_cli_inprocess

REPO = Path(__file__).resolve().parents[1]


def _run(*argv: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cryvideo", *map(str, argv)],
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **(env or {})))


def _run_together(*argvs) -> list[subprocess.CompletedProcess]:
    """Several ``cryvideo ARGV`` at once, each in its own process (each with its own stdout and
    stderr): what :func:`_run` gives for each, in the time of the longest."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    procs = [(argv, subprocess.Popen([sys.executable, "-m", "cryvideo", *map(str, argv)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     stdin=subprocess.DEVNULL, env=env)) for argv in argvs]
    done = []
    try:
        for argv, proc in procs:
            out, err = proc.communicate(timeout=300)
            done.append(subprocess.CompletedProcess(argv, proc.returncode, out, err))
    finally:
        for _, proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return done


# -- item 2: one models folder for every model -------------------------------------------------
@pytest.fixture
def not_model_folders(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "readme_only").mkdir()
    (tmp_path / "readme_only" / "README.md").write_text("models go here\n")
    (tmp_path / "a_file").write_text("x\n")
    return {"missing": tmp_path / "nonexistent", "empty": tmp_path / "empty",
            "readme_only": tmp_path / "readme_only", "a_file": tmp_path / "a_file"}


@pytest.mark.parametrize("how", ["--models", "env-predict", "env-detect"])
@pytest.mark.parametrize("kind", ["missing", "empty", "readme_only", "a_file"])
def test_models_folder_must_exist_and_hold_models(not_model_folders, media_dir, kind, how):
    folder = not_model_folders[kind]
    wav = media_dir / "audio_only.wav"
    if how == "--models":
        rc, err, loaded = cli_without_models(["predict", "--models", folder, wav])
    else:
        rc, err, loaded = cli_without_models([how.split("-")[1], wav],
                                             env={"CRYVIDEO_MODELS_DIR": str(folder)})
    assert rc == 4, err
    line = one_error_line(err)
    assert line.startswith(f"cryvideo: error: {folder}: "), line
    assert not loaded


@pytest.mark.slow
def test_corrupt_model_in_models_folder_is_exit_4(media_dir, tmp_path):
    # the branches' TFLite twins (what a folder that has them gives first): the corrupt file is
    # refused, never replaced by the bundled one, without the seconds of a TensorFlow import
    models = copy_models(tmp_path / "m", "audio_mfcc_float32.tflite", "audio_stft_float32.tflite")
    bad = models / "audio_stft_float32.tflite"
    bad.write_bytes(bad.read_bytes()[:5000])  # cut short; its card's sha256 no longer fits
    proc = _run("predict", "--no-face", "--models", models, media_dir / "audio_only.wav")
    assert proc.returncode == 4, proc.stderr
    assert one_error_line(proc.stderr).startswith(f"cryvideo: error: {bad}: ")


@pytest.mark.slow
def test_models_taken_from_elsewhere_are_named(media_dir, tmp_path, capsys, monkeypatch):
    models = copy_models(tmp_path / "m", "audio_mfcc.keras")
    wav = str(media_dir / "audio_only.wav")
    rc, out, err, _ = run_cli_inprocess(["predict", "--json", "--no-face", "--models",
                                         str(models), wav])
    assert rc == 0, err
    res = json.loads(out)
    by_name = {b["name"]: b for b in res["branches"]}
    assert by_name["mfcc"]["source"] == str(models / "audio_mfcc.json")  # read from the folder
    bundled = REPO / "saved_models"
    notes = res["notes"]
    # the bundled branch is taken as its TFLite twin (same model, no TensorFlow)
    assert f"audio_stft.keras: not in the models folder {models}; used the bundled " \
           f"{bundled / 'audio_stft_float32.tflite'}" in notes, notes
    assert any(n.startswith(f"cry detector: not in the models folder {models}; used the "
                            f"bundled {bundled}") for n in notes), notes
    rc, text, err, _ = run_cli_inprocess(["predict", "--no-face", "--models", str(models), wav])
    assert rc == 0 and f"note: audio_stft.keras: not in the models folder {models}" in text
    # detect: the same rule through $CRYVIDEO_MODELS_DIR
    monkeypatch.setenv("CRYVIDEO_MODELS_DIR", str(models))
    rc, out, err, _ = run_cli_inprocess(["detect", "--face", "off", "--json", wav])
    assert rc == 0, err
    assert json.loads(out)["notes"] == [
        f"cry_detector_yamnet_int8.tflite: not in the models folder {models}; used the bundled "
        f"{bundled / 'cry_detector_yamnet_int8.tflite'}"]


# -- item 5: a damaged file is analysed with a word --------------------------------------------
@pytest.fixture(scope="module")
def half_mp4(demo_clip, tmp_path_factory):
    from cryvideo.testing.media import ffmpeg

    d = tmp_path_factory.mktemp("half")
    fs = d / "faststart.mp4"  # index in front: the first half still decodes
    ffmpeg("-i", str(demo_clip), "-c", "copy", "-movflags", "+faststart", str(fs))
    data = fs.read_bytes()
    half = d / "half.mp4"
    half.write_bytes(data[: len(data) // 2])
    return half


def test_short_decode_note():
    from cryvideo.media.probe import format_duration, short_decode_note

    assert short_decode_note(3.6, 8.0) == (
        "only 3.6 s could be decoded of the 8.0 s the file declares (damaged, cut short, or a "
        "false header?): the result covers those 3.6 s only")
    assert short_decode_note(7.9, 8.0) is None  # codec padding, rounding
    assert short_decode_note(0.3, 0.6) is None  # under half a second short
    assert short_decode_note(None, 8.0) is None and short_decode_note(2.0, None) is None
    assert [format_duration(s) for s in (2.04, 725, 200 * 3600, 20 * 86400, 9.8e8)] == \
        ["2.0 s", "12 min 5 s", "200 h", "20 days", "31 years"]


@pytest.mark.slow
def test_cut_file_is_analysed_with_a_note(half_mp4, demo_clip):
    # (the note is the sound's: the face in the cry verdict is left out, --face off)
    rc, out, err, _ = run_cli_inprocess(["predict", "--face", "off", "--json", "--fps", "2",
                                         str(half_mp4)])
    assert rc == 0, err
    notes = json.loads(out)["notes"]
    assert any(re.match(r"only [1-6]\.\d s could be decoded of the 8\.0 s the file declares",
                        n) for n in notes), notes
    rc, text, err, _ = run_cli_inprocess(["detect", "--face", "off", str(half_mp4)])
    assert rc == 0 and re.search(r"note: only [1-6]\.\d s could be decoded", text), text
    # a whole file: no such note
    rc, out, err, _ = run_cli_inprocess(["predict", "--face", "off", "--json", "--fps", "2",
                                         str(demo_clip)])
    assert rc == 0 and not any("could be decoded" in n for n in json.loads(out)["notes"])


# -- item 7: every option is checked up front --------------------------------------------------
BAD_OPTIONS = [
    ("predict", "--fps", "0"), ("predict", "--fps", "nan"), ("predict", "--fps", "0.01"),
    ("predict", "--fps", "-5"), ("predict", "--fps", "inf"), ("predict", "--fps", "1000"),
    ("predict", "--window", "0"), ("predict", "--window", "-3"),
    ("detect", "--threshold", "nan"), ("detect", "--threshold", "1.5"),
    ("detect", "--threshold", "-0.1"), ("detect", "--hop", "0"), ("detect", "--hop", "-1"),
    ("detect", "--hop", "nan"), ("detect", "--hop", "inf"),
]


@pytest.mark.parametrize("cmd,option,value", BAD_OPTIONS)
def test_bad_option_values_are_exit_2_before_any_model(cmd, option, value, media_dir):
    rc, err, loaded = cli_without_models([cmd, option, value, media_dir / "av.mp4"])
    assert rc == 2, err
    assert one_error_line(err).startswith(f"cryvideo: error: {option} must be "), err
    assert not loaded, "the option was checked only after a model was loaded"


@pytest.mark.parametrize("kw", [{"fps": float("nan")}, {"fps": 0}, {"window": 0},
                                {"window": -3}])
def test_predictor_refuses_bad_values(kw):
    from cryvideo.pipeline import Predictor

    with pytest.raises(ParameterError):
        Predictor(use_face=False, cry_detector=None, **kw)


@pytest.mark.slow
def test_fps_too_low_for_a_short_video_blames_the_fps(media_dir):
    # 0.1 fps samples no frame of a 2 s video: the face branch says why; the audio answers
    rc, out, err, _ = run_cli_inprocess(["predict", "--json", "--fps", "0.1",
                                         str(media_dir / "av.mp4")])
    assert rc == 0, err
    res = json.loads(out)
    face = next(b for b in res["branches"] if b["name"] == "face")
    assert not face["used"] and face["note"].startswith("at 0.1 fps no frame falls within this "
                                                        "2.0 s video")


# -- item 8: output files honour the umask -----------------------------------------------------
@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_outputs_honour_the_umask(tmp_path, umask, mode):
    from cryvideo.io import write_json_atomic, write_text_atomic

    old = os.umask(umask)
    try:
        write_text_atomic(tmp_path / "a.txt", "x")
        write_json_atomic(tmp_path / "b.json", {"x": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == mode
    assert stat.S_IMODE((tmp_path / "b.json").stat().st_mode) == mode


def test_replaced_output_keeps_its_mode(tmp_path):
    from cryvideo.io import write_text_atomic

    p = tmp_path / "shared.jsonl"
    p.write_text("old\n")
    p.chmod(0o664)
    write_text_atomic(p, "new\n")
    assert p.read_text() == "new\n" and stat.S_IMODE(p.stat().st_mode) == 0o664


def test_cli_out_file_honours_the_umask(tmp_path):
    bad = [tmp_path / "a.mp4", tmp_path / "b.mp4"]
    for b in bad:
        b.write_text("not a video\n")
    out = tmp_path / "out.jsonl"
    proc = subprocess.run([sys.executable, "-m", "cryvideo", "detect", "--json", "--out",
                           str(out), *map(str, bad)], capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL,
                          preexec_fn=lambda: os.umask(0o022))
    assert proc.returncode == 3, proc.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert len(out.read_text().splitlines()) == 2  # an error record per input


# -- item 9: smaller inconsistencies -----------------------------------------------------------
@pytest.mark.parametrize("cmd", ["predict", "detect"])
def test_all_failed_batch_is_exit_3(cmd, tmp_path):
    bad = [tmp_path / "empty.mp4", tmp_path / "text.mp4"]
    bad[0].write_bytes(b"")
    bad[1].write_text("not a video\n")
    rc, err, loaded = cli_without_models([cmd, *bad])
    assert rc == 3, err
    lines = err.strip().splitlines()
    assert len(lines) == 3 and all(ln.startswith("cryvideo: error: ") for ln in lines)
    assert lines[-1] == "cryvideo: error: all 2 files failed; none could be analysed"
    assert not loaded


def test_batch_failure_codes():
    from cryvideo.batch import batch_failure

    bad, slow = InputFileError("x", path="a"), MediaTimeoutError("y", path="b")
    assert batch_failure([bad], 3).exit_code == 7
    assert batch_failure([bad, slow], 2).exit_code == 3
    assert batch_failure([slow, slow], 2).exit_code == 5  # every one timed out


@pytest.fixture(scope="module")
def extreme_wav(tmp_path_factory):
    """A float WAV whose samples reach 3e38 (a broken or hostile recording)."""
    import soundfile as sf

    rng = np.random.default_rng(0)
    y = rng.standard_normal(16000 * 3).astype(np.float32)
    with np.errstate(over="ignore"):
        y[::2] *= 3e38
    y[1::7] = 1e-38
    p = tmp_path_factory.mktemp("extreme") / "extreme.wav"
    sf.write(p, y, 16000, subtype="FLOAT")
    return p


def test_extreme_samples_are_clipped(extreme_wav):
    from cryvideo.media import load_audio

    y = load_audio(extreme_wav, sr=16000)
    assert np.all(np.isfinite(y)) and np.abs(y).max() <= 1.0


@pytest.mark.slow
@pytest.mark.parametrize("cmd", ["predict", "detect"])
def test_no_runtime_warnings_on_stderr(extreme_wav, cmd):
    proc = _run(cmd, "--json", *(["--no-face"] if cmd == "predict" else ["--face", "off"]),
                extreme_wav)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # not a RuntimeWarning, not anything
    res = json.loads(proc.stdout)
    p = res["probability"] if cmd == "detect" else res["crying"]["probability"]
    assert math.isfinite(p)


@pytest.mark.parametrize("cmd", ["predict", "detect"])
def test_subcommand_bad_option_shows_its_own_usage(cmd):
    proc = _run(cmd, "--no-such-option", "x.mp4")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"usage: cryvideo {cmd} ")
    assert proc.stderr.strip().splitlines()[-1] == \
        f"cryvideo {cmd}: error: unrecognized arguments: --no-such-option"


def test_weights_message_uses_no_internal_name(tmp_path):
    from cryvideo.errors import WeightsNotFoundError
    from cryvideo.weights import resolve_weights

    with pytest.raises(WeightsNotFoundError) as ei:
        resolve_weights("yamnet_tflite", path=tmp_path, allow_download=False)
    msg = str(ei.value)
    assert msg.startswith("YAMNet weights not found: ") and "yamnet_tflite" not in msg
    assert "yamnet.tflite" in msg
    assert ei.value.exit_code == 4  # a ModelError's, inherited


def test_long_messages_end_at_a_sentence():
    from cryvideo.errors import first_line
    from cryvideo.media.ffmpeg import ffmpeg_problem

    line = "[mov @ 0x55d0] " + "A very long ffmpeg complaint about the input. " * 6
    assert ffmpeg_problem(line) == "ffmpeg: " + line.split("] ", 1)[1].strip()  # whole
    long = "First sentence here. " + "word " * 400
    assert first_line(long, limit=200) == "First sentence here. […]"
    assert first_line("x" * 10 + " yy" * 200, limit=100).endswith(" yy […]")
    assert first_line("\n\n  only line  \nsecond") == "only line"


@pytest.mark.slow
def test_no_face_is_said_in_words(media_dir):
    rc, text, err, _ = run_cli_inprocess(["predict", "--no-face", str(media_dir / "av.mp4")])
    assert rc == 0, err
    assert "face  → not used (face branch switched off)" in text and "disabled" not in text



def test_package_never_cuts_messages():
    """A source scan: no message is cut at a fixed length (``str(exc)…[:200]``); use
    :func:`cryvideo.errors.first_line`, which ends at a sentence or word and marks the cut."""
    import re

    pattern = re.compile(r"(str\(\w+\)|message|msg|line|text)[^\n]*?\[:\s*\d+\s*\]")
    offenders = []
    for py in sorted((REPO / "cryvideo").rglob("*.py")):
        for n, line in enumerate(py.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line) and "hexdigest" not in line:
                offenders.append(f"{py.relative_to(REPO)}:{n}: {line.strip()}")
    assert not offenders, "messages cut at a fixed length:\n" + "\n".join(offenders)


# -- issue 22, item 9: export never replaces a shipped model by itself, and keeps quiet --------
@pytest.fixture
def shipped_folder_untouched():
    """Fails the test if ``saved_models/`` changed, and puts it back as it was (a run of this
    test on code without the check must not leave the shipped models replaced)."""
    from cryvideo.testing.user_files import file_digests

    folder = REPO / "saved_models"
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    digests = file_digests(folder)
    yield folder
    after = file_digests(folder)
    for p in folder.iterdir():
        if p.is_file() and p.name not in before:
            p.unlink()
        elif p.is_file() and after.get(p.name) != digests.get(p.name):
            p.write_bytes(before[p.name])  # atomic-ok: restoring a test's damage
    assert after == digests, "export changed the shipped models folder"


@pytest.mark.parametrize("extra", [[], ["--quantize", "dynamic"]])
def test_export_does_not_write_into_the_shipped_folder_without_o(shipped_folder_untouched,
                                                                 extra):
    model = shipped_folder_untouched / "audio_mfcc.keras"
    rc, err, loaded = cli_without_models(["export", model, "--format", "tflite", *extra])
    assert rc == 2, err
    line = one_error_line(err)
    assert "saved_models/audio_mfcc_" in line and "shipped models folder" in line
    assert "-o" in line
    assert not loaded, "refused only after the model was loaded"


@pytest.mark.slow
def test_export_keeps_the_converters_chatter_off_stderr(tmp_path):
    models = copy_models(tmp_path / "m", "audio_mfcc.keras")
    # the plain run and the --debug run, side by side (two processes, two cores)
    proc, debug = _run_together(
        ["export", models / "audio_mfcc.keras", "-o", tmp_path / "quiet.tflite"],
        ["--debug", "export", models / "audio_mfcc.keras", "-o", tmp_path / "dbg.tflite"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""                       # no absl line, no "Saved artifact at"
    assert re.fullmatch(rf"{re.escape(str(tmp_path / 'quiet.tflite'))} \(\d+ KiB\)\n",
                        proc.stdout), proc.stdout
    # --debug: what the converter said is shown (on stderr; stdout stays the one line)
    proc = debug
    assert proc.returncode == 0 and proc.stdout.count("\n") == 1
    assert proc.stderr.strip() and "cryvideo: error" not in proc.stderr
    assert (tmp_path / "dbg.tflite").read_bytes() == (tmp_path / "quiet.tflite").read_bytes()


def test_a_failed_conversion_is_one_model_error():
    keras = pytest.importorskip("keras")
    from cryvideo.errors import ModelError
    from cryvideo.models.export import keras_to_tflite

    inp = keras.Input((4,))
    model = keras.Model(inp, keras.layers.Dense(2)(inp))
    said = []
    with pytest.raises(ModelError, match=r"^the TFLite conversion failed \(.*dimension") as ei:
        # calibration windows of the wrong width: the converter gives up
        keras_to_tflite(model, quantize="int8", representative=np.zeros((3, 7), np.float32),
                        log=said.append)
    assert "\n" not in str(ei.value)
    assert len(said) == 1 and said[0].strip()      # the converter's own words, for --debug


# -- issue 22, item 10: small ones ---------------------------------------------------------
def test_timeline_bytes_match_the_name(media_dir, tmp_path):
    from PIL import Image

    wav = str(media_dir / "audio_only.wav")
    for name, fmt in (("t.jpg", "JPEG"), ("t.JPEG", "JPEG"), ("t.png", "PNG"), ("t.jpg", "JPEG")):
        pic = tmp_path / name                      # t.jpg twice: an earlier JPEG is replaced
        rc, _, err, _ = run_cli_inprocess(["detect", "--face", "off", "--timeline", str(pic),
                                           wav])
        assert rc == 0, err
        with Image.open(pic) as im:
            assert im.format == fmt
    # any other name is refused before a model loads, and nothing is written
    for name in ("t.gif", "timeline"):
        rc, err, loaded = cli_without_models(["detect", "--timeline", tmp_path / name, wav])
        assert rc == 2 and ".png, .jpg or .jpeg" in one_error_line(err)
        assert not loaded and not (tmp_path / name).exists()


def test_text_output_escapes_a_newline_in_a_file_name(media_dir, tmp_path):
    odd = tmp_path / "night\n1.wav"
    odd.write_bytes((media_dir / "audio_only.wav").read_bytes())  # atomic-ok: a test input
    shown = repr(str(odd))
    for argv in (["detect", "--face", "off"], ["predict", "--no-face"]):
        rc, out, err, _ = run_cli_inprocess([*argv, str(odd)])
        assert rc == 0, err
        lines = out.splitlines()
        assert lines[0].startswith(f"{shown}: "), lines[0]
        assert all(ln.startswith("  ") for ln in lines[1:]), out   # one record, its lines
    rc, out, _, _ = run_cli_inprocess(["detect", "--face", "off", "--json", str(odd)])
    assert rc == 0 and json.loads(out)["path"] == str(odd)        # JSON keeps the real name
    gone = tmp_path / "gone\nx.wav"
    rc, err, _ = cli_without_models(["detect", gone])
    assert rc == 3
    assert one_error_line(err) == f"cryvideo: error: {repr(str(gone))}: no such file"
