"""Bad input through the real command line: one clear line, a distinct exit code, no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cryvideo.errors import (
    CryVideoError,
    DatasetError,
    InputFileError,
    MediaTimeoutError,
    ModelError,
    ParameterError,
    PartialFailure,
)

REPO = Path(__file__).resolve().parents[1]


def cli(*args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="3")
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "cryvideo", *args], capture_output=True,
                          text=True, cwd=cwd or REPO, env=env, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    proc.elapsed = time.monotonic() - t0
    return proc


def assert_clean_error(proc, code: int, *needles: str) -> None:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(lines) == 1, f"expected one line on stderr, got: {proc.stderr!r}"
    assert lines[0].startswith("cryvideo: error: ")
    for n in needles:
        assert n in lines[0], lines[0]
    assert proc.elapsed < 20


def test_exit_codes_are_distinct():
    classes = [CryVideoError, ParameterError, InputFileError, ModelError, MediaTimeoutError,
               DatasetError, PartialFailure]
    codes = [c.exit_code for c in classes]
    assert len(set(codes)) == len(codes)
    assert all(c != 0 for c in codes)


def test_error_message_is_one_line_with_path():
    e = InputFileError("bad\nthing   here", path="/x/y.mp4")
    assert str(e) == "/x/y.mp4: bad thing here"


def test_a_path_that_cannot_be_shown_is_escaped():
    """Issue 22: a newline (or any character a terminal cannot show) in a file name must not
    break the one-line error: such a name is shown as an escaped, quoted literal."""
    from cryvideo.errors import display_path

    assert str(InputFileError("no such file", path="/x/a\nb.mp4")) == \
        "'/x/a\\nb.mp4': no such file"
    assert display_path("/x/y z é.mp4") == "/x/y z é.mp4"           # nothing to escape
    assert display_path(Path("tab\there")) == "'tab\\there'"
    assert display_path(b"/x/\xff.wav") == "'/x/\\udcff.wav'"       # not UTF-8: escaped
    for odd in ("a\rb", "a\x1b[2Jb", "a\u2028b", "a\x85b"):
        assert len(f"{display_path(odd)}: x".splitlines()) == 1


def test_version_and_help():
    from cryvideo import __version__

    p = cli("--version")
    assert p.returncode == 0 and __version__ in p.stdout
    p = cli("--help")
    assert p.returncode == 0 and "predict" in p.stdout
    p = cli("predict", "--help")
    assert p.returncode == 0 and "--json" in p.stdout


def test_missing_path(tmp_path):
    assert_clean_error(cli("predict", str(tmp_path / "nope.mp4")), 3, "nope.mp4", "no such file")


def test_directory_without_media(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    assert_clean_error(cli("predict", str(tmp_path)), 3, str(tmp_path), "directory")


def test_empty_file(tmp_path):
    p = tmp_path / "empty.mp4"
    p.touch()
    assert_clean_error(cli("predict", str(p)), 3, "empty.mp4", "empty")


def test_random_bytes(tmp_path):
    p = tmp_path / "random.mp4"
    p.write_bytes(os.urandom(50_000))
    assert_clean_error(cli("predict", str(p)), 3, "random.mp4", "not a media file")


def test_text_file(tmp_path):
    p = tmp_path / "readme.mp4"
    p.write_text("this is not a video\n" * 100)
    assert_clean_error(cli("predict", str(p)), 3, "readme.mp4")


@pytest.mark.parametrize("faststart", [False, True])
def test_truncated_mp4(media_dir, tmp_path, faststart):
    from cryvideo.testing.media import ffmpeg

    src = media_dir / "av.mp4"
    if faststart:  # index at the front: the first half still decodes partially
        fs = tmp_path / "fs.mp4"
        ffmpeg("-i", str(src), "-c", "copy", "-movflags", "+faststart", str(fs))
        src = fs
    data = src.read_bytes()
    p = tmp_path / "truncated.mp4"
    p.write_bytes(data[: len(data) // 2])
    proc = cli("predict", "--json", str(p))
    if proc.returncode == 0:
        res = json.loads(proc.stdout)
        assert res["path"].endswith("truncated.mp4")
        assert "Traceback" not in proc.stderr
    else:
        assert_clean_error(proc, 3, "truncated.mp4")


def test_video_without_audio(media_dir):
    # The bundled models have no trained face head (there is no labelled infant-face data to
    # train one on), so a silent video leaves nothing to classify: one clear line, exit 3.
    # With a trained face model the face branch answers alone: see
    # test_face_fusion.py::test_missing_modalities_say_which_branches_were_used.
    proc = cli("predict", "--json", str(media_dir / "video_only.mp4"))
    assert_clean_error(proc, 3, "video_only.mp4", "no audio track")
    assert "face" in proc.stderr


@pytest.mark.parametrize("name", ["audio_only.wav", "audio_only.mp3"])
def test_audio_only(media_dir, name):
    # a tone is no cry: the gate is switched off to reach the reason branches
    proc = cli("predict", "--json", "--cry-detector", "none", str(media_dir / name))
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)
    assert set(res["modalities"]) <= {"mfcc", "stft"} and res["modalities"]
    assert abs(sum(res["probabilities"].values()) - 1) < 1e-3
    assert any(b["name"] == "face" and not b["used"] for b in res["branches"])


def test_too_short(media_dir):
    assert_clean_error(cli("predict", str(media_dir / "short.mp4")), 3, "short.mp4", "too short")


@pytest.mark.parametrize("name", ["with space.wav", "bébé ñ.wav", "-dash.wav"])
def test_odd_names_through_cli(media_dir, tmp_path, name):
    p = tmp_path / name
    p.write_bytes((media_dir / "audio_only.wav").read_bytes())
    # as a user types it: the bare name from its folder (a leading '-' included)
    proc = cli("predict", "--json", name, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["path"] == name
    proc = cli("predict", "--json", "--", name, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_unknown_option_is_usage_error():
    proc = cli("predict", "--no-such-option", "x.mp4")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_batch_some_failed(media_dir, tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 1000)
    out = tmp_path / "out.jsonl"
    proc = cli("predict", "--json", "--no-face", "--out", str(out),
               str(media_dir / "audio_only.wav"), str(bad))
    assert proc.returncode == PartialFailure.exit_code
    lines = [json.loads(ln) for ln in proc.stdout.splitlines()]
    assert "label" in lines[0] and "error" in lines[1]
    assert "bad.mp4" in proc.stderr and "Traceback" not in proc.stderr
    assert len(out.read_text().splitlines()) == 2
