"""The ffmpeg media layer: probing, audio decoding, frame streaming, timeouts, reaping."""

from __future__ import annotations

import os
import sys

import numpy as np
import psutil
import pytest

from cryvideo.errors import InputFileError, MediaTimeoutError, ParameterError
from cryvideo.media import iter_audio_blocks, iter_frames, load_audio, probe
from cryvideo.media.ffmpeg import FFmpegStream, ffmpeg_exe, input_url, run_ffmpeg
from cryvideo.media.frames import output_size
from cryvideo.media.probe import parse_ffmpeg_header


def _ffmpeg_children() -> list[psutil.Process]:
    me = psutil.Process()
    return [c for c in me.children(recursive=True) if "ffmpeg" in c.name().lower()]


def test_ffmpeg_binary_runs():
    out, err, rc = run_ffmpeg([ffmpeg_exe(), "-hide_banner", "-version"], check=False)
    assert rc == 0
    assert b"ffmpeg version" in out


def test_probe_audio_video(media_dir):
    info = probe(media_dir / "av.mp4")
    assert info.has_audio and info.has_video
    assert (info.width, info.height) == (320, 240)
    assert info.fps == pytest.approx(25)
    assert info.duration == pytest.approx(2.0, abs=0.1)
    assert info.sample_rate == 16000
    assert info.video_codec == "h264"


@pytest.mark.parametrize(
    "name, has_video, has_audio",
    [("video_only.mp4", True, False), ("audio_only.wav", False, True),
     ("audio_only.mp3", False, True)],
)
def test_probe_stream_presence(media_dir, name, has_video, has_audio):
    info = probe(media_dir / name)
    assert (info.has_video, info.has_audio) == (has_video, has_audio)


def test_parse_header_rotation_and_cover_art():
    text = """Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'x.mp4':
  Duration: 00:01:02.50, start: 0.000000, bitrate: 1000 kb/s
  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(tv), 1920x1080, 30.01 fps, 30 tbr, 90k tbn (default)
      Side data:
        displaymatrix: rotation of -90.00 degrees
  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 48000 Hz, stereo, fltp, 128 kb/s (default)
"""  # noqa: E501
    info = parse_ffmpeg_header(text)
    assert info.duration == pytest.approx(62.5)
    assert info.rotation == 270
    assert (info.width, info.height) == (1080, 1920)  # display size, rotation applied
    assert info.fps == pytest.approx(30.01)
    mp3 = """Input #0, mp3, from 'a.mp3':
  Duration: 00:00:03.00, start: 0.025057, bitrate: 128 kb/s
  Stream #0:0: Audio: mp3 (mp3float), 44100 Hz, stereo, fltp, 128 kb/s
  Stream #0:1: Video: mjpeg (Baseline), yuvj420p(pc), 500x500, 90k tbr, 90k tbn (attached pic)
"""
    info = parse_ffmpeg_header(mp3)
    assert info.has_audio and not info.has_video


@pytest.mark.parametrize("sr", [8000, 16000, 22050])
def test_load_audio_rate_and_content(media_dir, sr):
    y = load_audio(media_dir / "av.mp4", sr=sr)
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) - 2 * sr) < 0.05 * sr
    # the lavfi sine is 440 Hz: the spectrum peaks there
    spec = np.abs(np.fft.rfft(y))
    peak = np.argmax(spec) * sr / len(y)
    assert peak == pytest.approx(440, abs=5)


def test_load_audio_offset_duration(media_dir):
    y = load_audio(media_dir / "audio_only.wav", sr=8000, offset=0.5, duration=1.0)
    assert len(y) == pytest.approx(8000, abs=80)


def test_audio_blocks_concatenate_to_whole(media_dir):
    whole = load_audio(media_dir / "audio_only.wav", sr=8000)
    blocks = list(iter_audio_blocks(media_dir / "audio_only.wav", sr=8000, block_seconds=0.3))
    assert all(len(b) == 2400 for b in blocks[:-1])
    np.testing.assert_allclose(np.concatenate(blocks), whole, atol=1e-6)


def test_load_audio_without_audio_stream(media_dir):
    with pytest.raises(InputFileError, match="no audio stream"):
        load_audio(media_dir / "video_only.mp4")


@pytest.mark.parametrize("fps", [1.0, 10.0, 30.0])
def test_iter_frames_rate_size_timestamps(media_dir, fps):
    frames = list(iter_frames(media_dir / "av.mp4", fps=fps, max_side=160))
    assert abs(len(frames) - 2 * fps) <= 1
    assert frames[0].image.shape == (120, 160, 3)
    assert frames[0].image.dtype == np.uint8
    times = [f.time for f in frames]
    np.testing.assert_allclose(np.diff(times), 1 / fps)
    assert [f.index for f in frames] == list(range(len(frames)))


def test_iter_frames_pixels_change(media_dir):
    frames = list(iter_frames(media_dir / "av.mp4", fps=5))
    # testsrc2 moves: consecutive frames differ, and frames are not blank
    assert frames[0].image.std() > 10
    assert np.abs(frames[0].image.astype(int) - frames[3].image.astype(int)).mean() > 1


def test_iter_frames_without_video(media_dir):
    with pytest.raises(InputFileError, match="no video stream"):
        next(iter_frames(media_dir / "audio_only.wav"))


def test_early_stop_reaps_ffmpeg(media_dir):
    gen = iter_frames(media_dir / "av.mp4", fps=30)
    next(gen)
    assert _ffmpeg_children(), "ffmpeg should be running while frames are read"
    gen.close()
    assert not _ffmpeg_children()


@pytest.mark.parametrize(
    "w, h, m, expected",
    [(1920, 1080, 480, (480, 270)), (1080, 1920, 480, (270, 480)), (320, 240, 480, (320, 240)),
     (641, 361, 480, (480, 270)), (3, 2, 480, (4, 2))],
)
def test_output_size(w, h, m, expected):
    assert output_size(w, h, m) == expected


@pytest.mark.parametrize("kwargs", [{"fps": 0}, {"fps": -1}, {"fps": 1000}, {"max_side": 4}])
def test_iter_frames_bad_parameters(media_dir, kwargs):
    with pytest.raises(ParameterError):
        next(iter_frames(media_dir / "av.mp4", **kwargs))


def test_stall_timeout_kills_hung_process(tmp_path):
    # a "ffmpeg" that never writes: the stall timeout must fire and the process be reaped
    args = [sys.executable, "-c", "import time; time.sleep(60)"]
    with pytest.raises(MediaTimeoutError, match="stalled"):
        with FFmpegStream(args, path="x.mp4", stall_timeout=0.5) as st:
            pid = st._proc.pid
            st.read(10)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_deadline(tmp_path):
    args = [sys.executable, "-c",
            "import sys, time\nwhile True:\n    sys.stdout.write('x'); sys.stdout.flush(); "
            "time.sleep(0.05)"]
    with pytest.raises(MediaTimeoutError, match="time limit"):
        run_ffmpeg(args, path="x", stall_timeout=5, deadline=0.5)


def test_input_url_protects_odd_names():
    assert input_url("-x.mp4") == "file:" + os.path.abspath("-x.mp4")
    assert input_url("a:b.mp4").startswith("file:/")


@pytest.mark.parametrize("name", ["with space.mp4", "ñandú bébé.mp4", "-leading-dash.mp4",
                                  "colon:name.mp4"])
def test_odd_file_names_decode(media_dir, tmp_path, name):
    p = tmp_path / name
    p.write_bytes((media_dir / "av.mp4").read_bytes())
    assert probe(p).has_audio
    assert len(load_audio(p, sr=8000)) > 8000
    assert next(iter_frames(p, fps=2)).image.shape[2] == 3


@pytest.mark.parametrize("claimed", [None, 0.1, 50.0])
def test_load_audio_whatever_the_header_claims(media_dir, claimed):
    """Samples fill a buffer sized from the probed duration: a header that under- or
    over-states it (or none) changes nothing in what is decoded."""
    import dataclasses

    from cryvideo.media import load_audio, probe

    path = media_dir / "audio_only.wav"
    ref = load_audio(path, sr=8000)
    info = dataclasses.replace(probe(path), duration=claimed)
    y = load_audio(path, sr=8000, info=info)
    assert y.dtype == np.float32 and y.shape == ref.shape
    np.testing.assert_array_equal(y, ref)
    assert abs(ref.size / 8000 - 2.0) < 0.05
