"""The live-detection library: state machine, detector on known audio, resampler, recorder,
on-cry commands, and the microphone source driven through a fake ``sounddevice``."""

from __future__ import annotations

import contextlib
import time

import numpy as np
import pytest
import soundfile as sf
from listen_audio import SR, FakeSoundDevice, ScriptedDetector, at_rate, gone, sequence

from cryvideo.detection.alerts import CommandAlert
from cryvideo.detection.frontend import YAMNET_FRONTEND
from cryvideo.detection.live import STARTED, STOPPED, LiveDetector
from cryvideo.detection.patch_detector import DEFAULT_DETECTOR_FILE
from cryvideo.errors import InputFileError, ParameterError
from cryvideo.media.live_source import Backoff, FFmpegLiveSource, SourceNotice
from cryvideo.media.microphone import MicrophoneSource
from cryvideo.media.recorder import StreamRecorder
from cryvideo.media.resample import StreamResampler
from cryvideo.models.store import bundled_models_dir

HOP = YAMNET_FRONTEND.hop_seconds
HOP_SAMPLES = int(round(HOP * SR))


# -- the state machine, on scripted patch probabilities ---------------------------------------
def _run(det, seconds, block, **kw):
    live = LiveDetector(det, clock=lambda: 0.0, **kw)
    y = np.zeros(int(seconds * SR), np.float32)
    events = []
    for a in range(0, y.size, block):
        events += live.push(y[a:a + block])
    return live, events + live.finish()


def test_hysteresis_one_episode_through_a_short_dip():
    # patches 10-19 loud, 20-23 quiet (1.9 s < stop_after), 24-33 loud, then quiet
    p = np.zeros(80)
    p[10:20] = 0.9
    p[24:34] = 0.9
    _, ev = _run(ScriptedDetector(p), 40, 1600, stop_after=3.0)
    assert [e.event for e in ev] == [STARTED, STOPPED]
    start, stop = ev
    # the first window reaching 0.5 holds patches 9-11 (two loud): onset = start of patch 10
    assert start.stream_time == pytest.approx(10 * HOP)
    assert start.probability == pytest.approx(0.6)
    # decided once patch 11 is complete (11 * hop + 0.975 s), at the end of that block
    assert 11 * HOP + 0.975 <= start.detected_at < 11 * HOP + 0.975 + 0.1
    assert stop.stream_time == pytest.approx(33 * HOP + YAMNET_FRONTEND.patch_seconds)
    assert stop.reason == "quiet" and stop.start == start.stream_time
    assert stop.peak == pytest.approx(0.9)
    assert stop.detected_at - stop.stream_time >= 3.0 - 2 * HOP


def test_a_long_quiet_splits_episodes_and_block_size_does_not_matter():
    p = np.zeros(80)
    p[10:20] = 0.9
    p[40:50] = 0.9
    results = []
    for block in (160, 1600, HOP_SAMPLES, 48000):
        _, ev = _run(ScriptedDetector(p), 40, block, stop_after=3.0)
        results.append([(e.event, e.episode, round(e.stream_time, 6)) for e in ev])
    assert [r[:2] for r in results[0]] == [(STARTED, 1), (STOPPED, 1), (STARTED, 2),
                                           (STOPPED, 2)]
    assert all(r == results[0] for r in results)


def test_interrupt_closes_the_episode_and_the_clock_goes_on():
    p = np.zeros(200)
    p[5:40] = 0.9
    det = ScriptedDetector(p)
    live = LiveDetector(det, stop_after=3.0)
    ev = live.push(np.zeros(10 * SR, np.float32))
    assert [e.event for e in ev] == [STARTED]
    ev = live.interrupt("stream lost")
    assert [(e.event, e.reason) for e in ev] == [(STOPPED, "stream lost")]
    assert ev[0].stream_time <= 10.0
    assert not live.crying and live.position == pytest.approx(10.0)
    # after the gap, patches are cut afresh: the next episode's times continue the clock
    ev = live.push(np.zeros(5 * SR, np.float32))
    assert [e.event for e in ev] == [STARTED]
    assert ev[0].stream_time == pytest.approx(10.0)     # first patch of the new stretch
    assert [e.reason for e in live.finish()] == ["end of stream"]
    assert live.finish() == []


def test_live_memory_is_bounded():
    p = np.full(10_000, 0.9)
    live = LiveDetector(ScriptedDetector(p), stop_after=3.0)
    for _ in range(300):                       # 5 minutes in 1 s blocks
        live.push(np.zeros(SR, np.float32))
    assert live._ps._buf.size < 2 * HOP_SAMPLES + 16000
    assert live._tail.size == live.window - 1
    assert live.crying and live.episodes == 1


@pytest.mark.parametrize("kw", [{"threshold": 1.5}, {"window": 0}, {"stop_after": 0.0},
                                {"stop_after": float("nan")}])
def test_bad_parameters(kw):
    with pytest.raises(ParameterError):
        LiveDetector(ScriptedDetector([0.0]), **kw)


# -- the shipped detector on known audio -------------------------------------------------------
@pytest.fixture(scope="module")
def live_model():
    path = bundled_models_dir() / DEFAULT_DETECTOR_FILE
    if not path.is_file():
        pytest.skip(f"the shipped cry detector {DEFAULT_DETECTOR_FILE} is not in saved_models/")
    from cryvideo.detection.patch_detector import PatchDetector

    return PatchDetector(path, batch=1)


def test_detector_finds_both_cries_within_a_second(live_model):
    y, cries = sequence()
    runs = []
    for block in (1600, 7919, 160000):
        live = LiveDetector(live_model, stop_after=3.0)
        ev = []
        for a in range(0, y.size, block):
            ev += live.push(y[a:a + block])
        ev += live.finish()
        runs.append(ev)
    ev = runs[0]
    assert [e.event for e in ev] == [STARTED, STOPPED] * 2
    for (a, b), start, stop in zip(cries, ev[0::2], ev[1::2], strict=True):
        assert abs(start.stream_time - a) <= 1.0, (start, a)
        assert abs(stop.stream_time - b) <= 1.0, (stop, b)
        assert start.detected_at - a <= 3.0
    for other in runs[1:]:  # blocks of any size give the same events
        assert [(e.event, e.stream_time, round(e.probability, 5)) for e in other] == \
            [(e.event, e.stream_time, round(e.probability, 5)) for e in ev]


# -- resampling --------------------------------------------------------------------------------
@pytest.mark.parametrize("rate", [48000, 44100, 22050, 8000, 16000])
def test_stream_resampler_matches_resample_poly(rate, rng):
    import scipy.signal

    x = (0.3 * rng.standard_normal(rate * 2)).astype(np.float32)
    ref = scipy.signal.resample_poly(x.astype(np.float64), SR, rate)
    r = StreamResampler(rate, SR)
    out, a = [], 0
    while a < x.size:
        b = a + int(rng.integers(1, 3000))
        out.append(r.push(x[a:b]))
        a = b
    y = np.concatenate(out)
    assert ref.size - 40 <= y.size <= ref.size
    np.testing.assert_allclose(y, ref[:y.size], atol=1e-5)


# -- recordings --------------------------------------------------------------------------------
def test_recorder_keeps_preroll_and_writes_atomically(tmp_path):
    t = np.arange(30 * SR, dtype=np.float32)
    y = (np.sin(t / 50.0) * 0.5).astype(np.float32)
    rec = StreamRecorder(tmp_path / "rec", sr=SR, preroll=2.0, history=8.0)
    for a in range(0, 12 * SR, 1000):
        rec.push(y[a:a + 1000])
    rec.start("ep.flac", at=10.0)                         # from 8.0 s
    for a in range(12 * SR, 15 * SR, 1000):
        rec.push(y[a:a + 1000])
    hidden = [p.name for p in (tmp_path / "rec").iterdir()]
    assert hidden and all(n.startswith(".ep.part-") for n in hidden)   # nothing named yet
    path = rec.stop()
    assert [p.name for p in (tmp_path / "rec").iterdir()] == ["ep.flac"]
    z, sr = sf.read(path, dtype="float32")
    assert sr == SR and z.size == 7 * SR                  # 8.0 s to 15.0 s
    np.testing.assert_allclose(z, y[8 * SR:15 * SR], atol=1e-4)
    # a second recording of the same name never replaces the first
    rec.start("ep.flac", at=14.0)
    rec.push(y[:SR])
    assert rec.stop().name == "ep-2.flac"
    assert sf.info(path).frames == 7 * SR


def test_recorder_history_is_bounded_and_reset(tmp_path):
    rec = StreamRecorder(tmp_path, sr=SR, preroll=1.0, history=3.0)
    for _ in range(100):
        rec.push(np.zeros(SR // 2, np.float32))
    assert rec._kept <= 3 * SR + SR // 2
    rec.reset()
    rec.start("x.flac", at=50.0)
    rec.push(np.ones(SR, np.float32) * 0.1)
    assert sf.info(rec.stop()).frames == SR               # nothing from before the reset


def test_recorder_abort_leaves_nothing(tmp_path):
    rec = StreamRecorder(tmp_path, sr=SR)
    rec.push(np.zeros(SR, np.float32))
    rec.start("x.flac", at=0.5)
    rec.abort()
    assert list(tmp_path.iterdir()) == []


# -- on-cry commands ---------------------------------------------------------------------------
def _event(kind, episode, t):
    from cryvideo.detection.live import CryEvent

    return CryEvent(event=kind, episode=episode, stream_time=t, detected_at=t + 1.5,
                    probability=0.8, peak=0.8, wall_time=time.time())


def test_command_runs_once_per_start_with_cooldown_on_the_stream_clock(tmp_path):
    log = tmp_path / "log"
    alert = CommandAlert(f'echo "$CRYVIDEO_EPISODE $CRYVIDEO_STREAM_TIME $CRYVIDEO_SOURCE" '
                         f'>> "{log}"', source="cam", cooldown=30.0)
    assert alert.handle(_event(STARTED, 1, 10.0)) is None
    assert alert.handle(_event(STOPPED, 1, 20.0)) is None
    note = alert.handle(_event(STARTED, 2, 25.0))          # 15 s after the first: skipped
    assert "cooldown" in note
    assert alert.handle(_event(STARTED, 3, 45.0)) is None  # 35 s after: runs
    assert alert.close(wait=30.0) == []
    # the two commands run concurrently: their lines may come in either order
    assert sorted(log.read_text().splitlines()) == ["1 10.000 cam", "3 45.000 cam"]
    assert alert.runs == 2


def test_command_close_stops_the_whole_process_group(tmp_path):
    pytest.importorskip("psutil")
    pidfile = tmp_path / "pid"
    alert = CommandAlert(f'sleep 60 & echo $! > "{pidfile}"; wait', source="x")
    alert.handle(_event(STARTED, 1, 1.0))
    proc = alert._running[0][0]
    deadline = time.monotonic() + 30
    while not (pidfile.exists() and pidfile.read_text().strip()):
        assert time.monotonic() < deadline, "the command did not start"
        time.sleep(0.05)
    sleeper = int(pidfile.read_text())
    notes = alert.close(wait=0.0)
    assert notes and "stopped" in notes[0]
    assert proc.poll() is not None
    assert gone([sleeper]), "the command's child survived"


def test_command_failure_is_reported(tmp_path):
    alert = CommandAlert("exit 3", source="x")
    alert.handle(_event(STARTED, 1, 1.0))
    assert alert.close(wait=30.0) == ["--on-cry command of episode 1 exited with status 3"]


# -- the microphone, through a fake sounddevice ------------------------------------------------
def test_microphone_source_resamples_and_reconnects(live_model):
    y, cries = sequence()
    half = 12 * SR
    sd = FakeSoundDevice([at_rate(48000, y[:half]), at_rate(48000, y[half:])])
    slept = []
    src = MicrophoneSource(sounddevice=sd, retries=2, sleep=slept.append, timeout=30.0)
    live = LiveDetector(live_model, stop_after=3.0)
    notices, events = [], []
    with pytest.raises(InputFileError, match="gave up after 2 reconnection attempts"):
        for item in src:
            if isinstance(item, SourceNotice):
                notices.append(item.kind)
                if item.kind == "lost":
                    events += live.interrupt()
            else:
                events += live.push(item)
    assert sd.opened == [48000, 48000]                    # 16 kHz refused: device rate
    assert notices == ["connected", "lost", "connected", "lost", "retry failed"]
    assert slept == [1.0, 1.0, 2.0]
    # the first session ends at 12 s, before the first episode went quiet long enough
    assert [(e.event, e.reason) for e in events] == [
        (STARTED, None), (STOPPED, "stream lost"), (STARTED, None), (STOPPED, "quiet")]
    assert abs(events[0].stream_time - cries[0][0]) <= 1.0
    assert abs(events[2].stream_time - cries[1][0]) <= 1.0
    assert live.position == pytest.approx(y.size / SR, abs=0.01)


def test_microphone_that_cannot_be_opened():
    sd = FakeSoundDevice([], fail_open=True)
    with pytest.raises(InputFileError, match="microphone 7: cannot be opened .*unavailable"):
        list(MicrophoneSource(7, sounddevice=sd))


def test_microphone_at_16k_is_not_resampled():
    y = np.linspace(-0.5, 0.5, SR, dtype=np.float32)
    sd = FakeSoundDevice([y], rate=48000, accepts_16k=True)
    got = []
    with pytest.raises(InputFileError):
        for b in MicrophoneSource(sounddevice=sd, retries=0):
            if isinstance(b, np.ndarray):
                got.append(b)
    assert sd.opened == [16000]
    np.testing.assert_array_equal(np.concatenate(got), y)


def test_missing_sounddevice_names_the_extra(monkeypatch):
    import sys

    from cryvideo.media.microphone import import_sounddevice

    monkeypatch.setitem(sys.modules, "sounddevice", None)
    with pytest.raises(InputFileError, match=r"pip install 'cryvideo\[listen\]'"):
        import_sounddevice()


def test_real_sounddevice_lists_devices_or_is_absent():
    try:
        import sounddevice
    except ImportError:
        pytest.skip("sounddevice is not installed (pip install 'cryvideo[listen]')")
    except OSError as exc:
        pytest.skip(f"PortAudio is not available on this machine ({exc})")
    from cryvideo.media.microphone import list_input_devices

    devices = list_input_devices(sounddevice)
    assert all({"index", "name", "channels"} <= set(d) for d in devices)


# -- the ffmpeg source -------------------------------------------------------------------------
def test_ffmpeg_source_blocks_follow_the_file(tmp_path):
    from listen_audio import write_wav

    y = (0.5 * np.sin(np.arange(3 * SR) / 20.0)).astype(np.float32)
    path = write_wav(tmp_path / "a.wav", y)
    items = list(FFmpegLiveSource(str(path), block_seconds=0.1))
    assert isinstance(items[0], SourceNotice) and items[0].kind == "connected"
    assert isinstance(items[-1], SourceNotice) and items[-1].kind == "ended"
    blocks = [b for b in items if isinstance(b, np.ndarray)]
    assert all(b.size == 1600 for b in blocks)
    np.testing.assert_allclose(np.concatenate(blocks), y, atol=1 / 32768 + 1e-6)


def test_ffmpeg_source_that_cannot_be_opened(tmp_path):
    bad = tmp_path / "not_media.wav"
    bad.write_bytes(b"this is not audio" * 100)  # atomic-ok: a test input
    with pytest.raises(InputFileError, match="cannot be opened"):
        list(FFmpegLiveSource(str(bad)))


def test_ffmpeg_source_gives_up_after_its_retries(tmp_path):
    from listen_audio import write_wav

    path = write_wav(tmp_path / "a.wav", np.zeros(SR, np.float32))
    slept = []

    def sleep(seconds):          # the source goes away after the first session
        slept.append(seconds)
        path.unlink(missing_ok=True)

    src = FFmpegLiveSource(str(path), reconnect=True, retries=2, sleep=sleep,
                           backoff=Backoff(first=0.5, most=30.0))
    kinds = []
    with pytest.raises(InputFileError, match="gave up after 2 reconnection attempts"):
        for item in src:
            if isinstance(item, SourceNotice):
                kinds.append(item.kind)
    assert kinds == ["connected", "lost", "retry failed"]
    assert slept == [0.5, 1.0]


@pytest.mark.parametrize("retries, appears_after, slept, outcome", [
    (3, 2, [1.0, 2.0], "connected"),        # a camera that comes up after two tries
    (2, 5, [1.0, 2.0], "gave up after 2 more attempts"),
    (None, 1, [], "cannot be opened"),       # no --retries: a wrong address fails at once
    (0, 1, [], "cannot be opened"),
])
def test_a_source_not_yet_there_is_tried_again_with_retries(tmp_path, retries, appears_after,
                                                             slept, outcome):
    """Issue 22: with ``retries`` a source that cannot be opened at first is tried again (with
    back-off) before it counts as lost; the file appears after ``appears_after`` waits (counted,
    not timed)."""
    from listen_audio import write_wav

    path = tmp_path / "later.wav"
    y = (0.5 * np.sin(np.arange(SR) / 20.0)).astype(np.float32)
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        if len(waits) == appears_after:
            write_wav(path, y)

    src = FFmpegLiveSource(str(path), reconnect=True, retries=retries, sleep=sleep,
                           backoff=Backoff(first=1.0, most=30.0))
    notices, items = [], iter(src)
    if outcome == "connected":
        with contextlib.closing(items):
            for item in items:
                if isinstance(item, SourceNotice):
                    notices.append(item)
                    if item.kind == "connected":
                        break
        assert [n.kind for n in notices] == ["waiting", "waiting", "connected"]
        assert [(n.attempt, n.retry_in) for n in notices[:2]] == [(1, 1.0), (2, 2.0)]
        assert "No such file" in notices[0].message
    else:
        with pytest.raises(InputFileError, match=outcome) as err:
            for item in items:
                notices.append(item)
        assert all(n.kind == "waiting" for n in notices)
        assert len(notices) == len(slept) and str(path) in str(err.value)
    assert waits == slept


def test_a_stream_without_audio_says_so(media_dir):
    """Issue 22: standard input (or a stream) holding video only: "it has no audio stream",
    not ffmpeg's "Stream map '' matches no streams"."""
    with open(media_dir / "video_only.mp4", "rb") as f, \
            pytest.raises(InputFileError, match=r"^standard input: cannot be opened \(it has no "
                                                r"audio stream\)$"):
        list(FFmpegLiveSource("-", stdin=f))


def test_an_episode_length_is_said_in_the_unit_that_suits():
    from cryvideo.detection.live import CryEvent

    def stop(start, end):
        return CryEvent(event=STOPPED, episode=1, stream_time=end, detected_at=end + 5,
                        probability=0.1, peak=0.9, wall_time=0.0, start=start,
                        reason="quiet").describe()

    assert "lasted 2.4 s  " in stop(1.0, 3.4)
    assert "lasted 1 min 15 s  " in stop(5.0, 80.0)       # not "75.0 s"


def test_listen_lines_say_score_not_p():
    """The live lines call the detector's output a score (``p=`` reads as a p-value)."""
    from cryvideo.detection.live import STARTED, CryEvent

    started = CryEvent(event=STARTED, episode=1, stream_time=4.3, detected_at=4.3,
                       probability=0.45, peak=0.45, wall_time=0.0).describe()
    stopped = CryEvent(event=STOPPED, episode=1, stream_time=9.6, detected_at=9.6,
                       probability=0.1, peak=0.9, wall_time=0.0, start=4.3,
                       reason="quiet").describe()
    assert started.endswith("  score 0.45") and "p=" not in started
    assert "  peak score 0.90  (quiet)" in stopped and "p=" not in stopped
