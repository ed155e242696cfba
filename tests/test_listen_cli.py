"""``cryvideo listen`` end to end, on loopback only: ffmpeg serves a known sequence (silence,
cry, speech-like babble, cry) over HTTP on 127.0.0.1, or it comes through a pipe on standard
input; the server is killed and restarted mid-stream; SIGTERM; the microphone through a fake
``sounddevice``; bad sources and options.

Times are checked on the stream clock (seconds of audio), never on the wall clock; every wait
has a generous deadline that only a failure reaches.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import cli_without_models, one_error_line
from listen_audio import ONE_CRY, SR, FakeSoundDevice, at_rate, gone, sequence, write_wav

from cryvideo.cli import main
from cryvideo.detection.patch_detector import DEFAULT_DETECTOR_FILE
from cryvideo.media import ffmpeg_exe
from cryvideo.models.store import bundled_models_dir

#: Deadline of any one wait (seconds): reached only when something is broken.
DEADLINE = 120.0
LOOPBACK = "127.0.0.1"


@pytest.fixture(scope="module")
def shipped_detector():
    path = bundled_models_dir() / DEFAULT_DETECTOR_FILE
    if not path.is_file():
        pytest.skip(f"the shipped cry detector {DEFAULT_DETECTOR_FILE} is not in saved_models/")
    return path


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    """The known sequence as a WAV file, its samples and the cries' (start, end)."""
    y, cries = sequence()
    path = write_wav(tmp_path_factory.mktemp("listen") / "sequence.wav", y)
    return path, y, cries


# -- processes ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def wait_listening(port: int, proc: subprocess.Popen) -> None:
    """Until something listens on 127.0.0.1:port (read from /proc/net/tcp: connecting would
    use up the server's single client)."""
    want = f"0100007F:{port:04X}"
    deadline = time.monotonic() + DEADLINE
    while True:
        with open("/proc/net/tcp", encoding="ascii") as f:
            rows = [ln.split() for ln in f.readlines()[1:]]
        if any(r[1] == want and r[3] == "0A" for r in rows):
            return
        assert proc.poll() is None, f"the ffmpeg server exited ({proc.returncode})"
        assert time.monotonic() < deadline, "the ffmpeg server never listened"
        time.sleep(0.05)


@pytest.fixture
def processes():
    """Processes started by a test, killed (and reaped) whatever happens."""
    procs: list[subprocess.Popen] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                p.kill()
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass


def serve_http(procs, port: int, *inputs: str, fmt=("-c:a", "pcm_s16le", "-f", "wav"),
               stdin=subprocess.DEVNULL) -> subprocess.Popen:
    """ffmpeg serving ``inputs`` over HTTP on 127.0.0.1:port to one client."""
    if not Path("/proc/net/tcp").exists():
        pytest.skip("needs /proc/net/tcp (Linux) to see when the server listens")
    p = subprocess.Popen([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", *inputs, *fmt,
                          "-listen", "1", f"http://{LOOPBACK}:{port}/"],
                         stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    procs.append(p)
    wait_listening(port, p)
    return p


class Listener:
    """``cryvideo listen ARGS --json`` in a subprocess; its stdout records as they come."""

    def __init__(self, procs, *args: str, stdin=subprocess.DEVNULL):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cryvideo", "listen", "--json", *args], stdin=stdin,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
        procs.append(self.proc)
        self.records: list[dict] = []
        self.err: list[str] = []
        self._q: queue.Queue = queue.Queue()
        threading.Thread(target=self._read_out, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read_out(self):
        for line in self.proc.stdout:
            self._q.put(json.loads(line.decode("utf-8")))
        self._q.put(None)

    def _read_err(self):
        for line in self.proc.stderr:
            self.err.append(line.decode("utf-8", "replace"))

    def wait_for(self, **match) -> dict:
        """The next record whose fields equal ``match`` (earlier ones are kept)."""
        deadline = time.monotonic() + DEADLINE
        while True:
            try:
                rec = self._q.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                rec = None
            if rec is None:
                raise AssertionError(f"no record {match}; got {self.records}; stderr "
                                     f"{''.join(self.err)}")
            self.records.append(rec)
            if all(rec.get(k) == v for k, v in match.items()):
                return rec

    def finish(self) -> int:
        rc = self.proc.wait(timeout=DEADLINE)
        while (rec := self._q.get(timeout=DEADLINE)) is not None:
            self.records.append(rec)
        return rc

    def events(self, kind=None) -> list[dict]:
        return [r for r in self.records if r["event"] in ("cry started", "cry stopped")
                and (kind is None or r["event"] == kind)]

    def descendants(self) -> list[int]:
        import psutil

        return [c.pid for c in psutil.Process(self.proc.pid).children(recursive=True)]


def feed(proc_stdin, data: bytes, *, close: bool) -> threading.Thread:
    """Write ``data`` to a pipe from a thread (a pipe holds only 64 kB)."""
    def run():
        try:
            proc_stdin.write(data)
            proc_stdin.flush()
            if close:
                proc_stdin.close()
        except (BrokenPipeError, ValueError, OSError):
            pass
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def assert_episodes(events, cries, *, offset=0.0):
    """Two events per cry, each start and stop within 1 s of the truth (stream clock)."""
    assert [e["event"] for e in events] == ["cry started", "cry stopped"] * len(cries), events
    for (a, b), start, stop in zip(cries, events[0::2], events[1::2], strict=True):
        assert abs(start["stream_time"] - (offset + a)) <= 1.0, (start, offset + a)
        assert abs(stop["stream_time"] - (offset + b)) <= 1.0, (stop, offset + b)
        assert stop["episode"] == start["episode"] and stop["start"] == start["stream_time"]


# -- a stream over HTTP ------------------------------------------------------------------------
def test_http_stream_two_episodes_at_the_right_times(shipped_detector, known, processes):
    path, _, cries = known
    port = free_port()
    # as an IP camera sends it: MPEG-TS, AAC, stereo 44.1 kHz (listen resamples and mixes down)
    serve_http(processes, port, "-i", str(path),
               fmt=("-ac", "2", "-ar", "44100", "-c:a", "aac", "-f", "mpegts"))
    lis = Listener(processes, f"http://{LOOPBACK}:{port}/", "--stop-after", "3")
    lis.wait_for(event="cry stopped", episode=2)
    lis.proc.send_signal(signal.SIGTERM)        # the stream ended; listen would reconnect
    assert lis.finish() == 0
    assert lis.records[0]["event"] == "connected"
    assert_episodes(lis.events(), cries)
    assert all(e["reason"] == "quiet" for e in lis.events("cry stopped"))
    assert all(e["probability"] >= 0.4 for e in lis.events("cry started"))


def test_server_killed_and_restarted_mid_stream(shipped_detector, processes):
    part_a, _ = sequence(ONE_CRY[:2])                  # silence, cry … (no end: killed)
    part_b, cries_b = sequence(ONE_CRY, seed=1)        # silence, cry, silence
    port = free_port()
    raw = ("-f", "s16le", "-ar", str(SR), "-ac", "1", "-i", "pipe:0")
    server = serve_http(processes, port, *raw, stdin=subprocess.PIPE)
    feed(server.stdin, (part_a * 32767).astype("<i2").tobytes(), close=False)
    lis = Listener(processes, f"http://{LOOPBACK}:{port}/", "--stop-after", "3")
    lis.wait_for(event="cry started", episode=1)
    os.killpg(server.pid, signal.SIGKILL)             # the server dies mid-episode
    server.wait(timeout=DEADLINE)
    with contextlib.suppress(OSError):
        server.stdin.close()
    stopped = lis.wait_for(event="cry stopped", episode=1)
    assert stopped["reason"] == "stream lost"
    assert stopped["stream_time"] <= part_a.size / SR + 0.01
    lost = lis.wait_for(event="lost")
    assert lost["retry_in"] == 1.0 and lost["attempt"] == 1
    # a new server on the same port: listen reconnects by itself (with back-off)
    server2 = serve_http(processes, port, *raw, stdin=subprocess.PIPE)
    feed(server2.stdin, (part_b * 32767).astype("<i2").tobytes(), close=True)
    again = lis.wait_for(event="connected")
    assert "again at stream" in again["message"]
    offset = again["stream_time"]
    assert offset <= part_a.size / SR + 0.01
    lis.wait_for(event="cry stopped", episode=2)
    lis.proc.send_signal(signal.SIGTERM)
    assert lis.finish() == 0
    ep2 = [e for e in lis.events() if e["episode"] == 2]
    assert_episodes(ep2, cries_b, offset=offset)
    assert any("stream lost" in ln and "reconnecting in 1 s" in ln for ln in lis.err)


# -- a camera that is not up yet (issue 22) ----------------------------------------------------
class BootingCamera:
    """An HTTP "camera" on 127.0.0.1 that answers 503 to its first ``booting`` connections (it
    is starting up), then streams ``body`` to each later one. It counts connections, so a test
    depends on how many attempts were made, never on how long they took."""

    def __init__(self, body: bytes, *, booting: int):
        self.body, self.booting = body, booting
        self.connections = 0
        self.served: list[int] = []          # the connections that got audio
        self._sock = socket.create_server((LOOPBACK, 0))
        self.url = f"http://{LOOPBACK}:{self._sock.getsockname()[1]}/stream"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:                  # closed: the test is over
                return
            with conn:
                self.connections += 1
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    head += chunk
                with contextlib.suppress(OSError):
                    if self.connections <= self.booting:
                        conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0"
                                     b"\r\nConnection: close\r\n\r\n")
                    else:
                        self.served.append(self.connections)
                        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\n"
                                     b"Connection: close\r\n\r\n" + self.body)

    def close(self):
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)    # wakes the accept() (close alone does not)
        self._sock.close()
        self._thread.join(timeout=DEADLINE)
        assert not self._thread.is_alive()


@pytest.fixture
def camera_body(tmp_path):
    y, _ = sequence(ONE_CRY[:1])                 # a few seconds of quiet
    return write_wav(tmp_path / "camera.wav", y).read_bytes()


def test_listen_waits_for_a_camera_that_is_not_up_yet(shipped_detector, camera_body,
                                                      processes):
    """With --retries, a source that cannot be opened at first is tried again with back-off
    (1, 2 s): the camera answers on its 3rd connection and listen takes its audio."""
    cam = BootingCamera(camera_body, booting=2)
    try:
        lis = Listener(processes, cam.url, "--retries", "3")
        lis.wait_for(event="connected")
        lis.proc.send_signal(signal.SIGTERM)
        assert lis.finish() == 0, "".join(lis.err)
    finally:
        cam.close()
    waiting = [r for r in lis.records if r["event"] == "waiting"]
    assert [(r["attempt"], r["retry_in"]) for r in waiting] == [(1, 1.0), (2, 2.0)]
    assert lis.records.index(waiting[-1]) < [r["event"] for r in lis.records].index("connected")
    assert cam.served[0] == 3                    # two refused tries, then the audio
    assert sum("cannot open" in ln and "yet" in ln for ln in lis.err) == 2


@pytest.mark.parametrize("retries, tries", [(None, 1), ("0", 1), ("1", 2)])
def test_listen_gives_up_on_a_camera_after_its_retries(shipped_detector, camera_body, capsys,
                                                       retries, tries):
    """Never up: exit 3 after exactly 1 + --retries connections (at once without --retries:
    a wrong address is not tried forever)."""
    cam = BootingCamera(camera_body, booting=100)
    try:
        rc = main(["listen", cam.url, *(["--retries", retries] if retries else [])])
    finally:
        cam.close()
    assert rc == 3
    assert cam.connections == tries and cam.served == []
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith(f"cryvideo: error: {cam.url}: cannot be opened (")
    assert ("gave up after 1 more attempt" in last) == (tries == 2), last


# -- standard input: on-cry commands and recordings --------------------------------------------
@pytest.fixture(scope="module")
def stdin_run(shipped_detector, known, tmp_path_factory):
    """One run over standard input with --on-cry and --record (shared by the tests below)."""
    path, y, cries = known
    work = tmp_path_factory.mktemp("stdin_run")
    log, rec = work / "on_cry.log", work / "recordings"
    cmd = (f'echo "$CRYVIDEO_EVENT|$CRYVIDEO_EPISODE|$CRYVIDEO_STREAM_TIME|'
           f'$CRYVIDEO_PROBABILITY|$CRYVIDEO_SOURCE" >> "{log}"')
    procs: list = []
    lis = Listener(procs, "-", "--stop-after", "3", "--cooldown", "0", "--on-cry", cmd,
                   "--record", str(rec), "--preroll", "2", stdin=subprocess.PIPE)
    try:
        feed(lis.proc.stdin, path.read_bytes(), close=True)
        rc = lis.finish()
    finally:
        if lis.proc.poll() is None:
            os.killpg(lis.proc.pid, signal.SIGKILL)
            lis.proc.wait(timeout=30)
    return {"rc": rc, "lis": lis, "log": log, "rec": rec, "y": y, "cries": cries}


def test_stdin_two_episodes_at_the_right_times(stdin_run):
    lis = stdin_run["lis"]
    assert stdin_run["rc"] == 0, "".join(lis.err)
    assert_episodes(lis.events(), stdin_run["cries"])
    assert lis.records[0]["event"] == "connected" and lis.records[-1]["event"] == "ended"
    assert lis.records[-1]["stream_time"] == pytest.approx(stdin_run["y"].size / SR, abs=0.01)
    assert all(e["source"] == "standard input" for e in lis.events())


def test_on_cry_runs_exactly_once_per_episode(stdin_run):
    lines = sorted(stdin_run["log"].read_text().splitlines())
    starts = stdin_run["lis"].events("cry started")
    assert len(lines) == len(starts) == 2
    for line, ev in zip(lines, starts, strict=True):
        kind, episode, t, p, source = line.split("|")
        assert (kind, int(episode), source) == ("cry started", ev["episode"], "standard input")
        assert float(t) == pytest.approx(ev["stream_time"], abs=1e-3)
        assert float(p) == pytest.approx(ev["probability"], abs=1e-4)


def test_record_files_hold_the_episodes(stdin_run):
    rec, y = stdin_run["rec"], stdin_run["y"]
    stops = stdin_run["lis"].events("cry stopped")
    files = sorted(rec.iterdir())
    assert [f.name for f in files] == sorted(Path(s["recording"]).name for s in stops)
    assert all(not f.name.startswith(".") for f in files)   # no temporary file left
    for stop in stops:
        z, sr = sf.read(stop["recording"], dtype="float32")
        first = int(round((stop["start"] - 2.0) * SR))       # 2 s of pre-roll
        assert sr == SR
        assert z.size == int(round(stop["detected_at"] * SR)) - first
        np.testing.assert_allclose(z, y[first:first + z.size], atol=2e-4)
        assert np.abs(z).max() > 0.1                         # the cry is in it


def test_on_cry_cooldown_skips_a_close_episode(shipped_detector, known, processes, tmp_path):
    path, _, _ = known
    log = tmp_path / "log"
    lis = Listener(processes, str(path), "--stop-after", "3", "--cooldown", "60",
                   "--on-cry", f'echo "$CRYVIDEO_EPISODE" >> "{log}"')
    assert lis.finish() == 0
    assert len(lis.events("cry started")) == 2
    assert log.read_text().split() == ["1"]
    assert any("not run for episode 2" in ln and "cooldown" in ln for ln in lis.err)


# -- stopping ----------------------------------------------------------------------------------
def test_sigterm_stops_cleanly_and_leaves_no_child(shipped_detector, processes, tmp_path):
    part, _ = sequence(ONE_CRY[:2])
    rec = tmp_path / "rec"
    lis = Listener(processes, "-", "--on-cry", "sleep 120", "--record", str(rec),
                   stdin=subprocess.PIPE)
    header = write_wav(tmp_path / "part.wav", part).read_bytes()
    feed(lis.proc.stdin, header, close=False)       # the pipe stays open: a live stream
    lis.wait_for(event="cry started")
    children = lis.descendants()
    assert len(children) >= 3                       # ffmpeg, the shell, sleep
    lis.proc.send_signal(signal.SIGTERM)
    assert lis.finish() == 0
    assert any("stopped (SIGTERM)" in ln for ln in lis.err)
    assert lis.events()[-1]["event"] == "cry stopped"
    assert lis.events()[-1]["reason"] == "stopped"
    assert gone(children), "a child process survived SIGTERM"
    saved = lis.events()[-1]["recording"]            # the open episode was saved
    assert saved and sf.info(saved).frames > 0
    assert sorted(p.name for p in rec.iterdir()) == [Path(saved).name]


# -- the microphone, through a fake sounddevice ------------------------------------------------
def test_microphone_through_a_fake_input_stream(shipped_detector, known, monkeypatch, capsys):
    _, y, cries = known
    fake = FakeSoundDevice([at_rate(44100, y)], rate=44100)
    import cryvideo.media.microphone as mic

    monkeypatch.setattr(mic, "import_sounddevice", lambda: fake)
    before = signal.getsignal(signal.SIGTERM)
    rc = main(["listen", "--json", "--stop-after", "3", "--retries", "0", "--device", "1"])
    out, err = capsys.readouterr()
    # the fake device plays the sequence, then stops; with --retries 0 listen gives up
    assert rc == 3
    assert err.strip().splitlines()[-1].startswith(
        "cryvideo: error: microphone 1: stream lost (the input stream stopped); gave up")
    records = [json.loads(ln) for ln in out.splitlines()]
    events = [r for r in records if r["event"].startswith("cry ")]
    assert_episodes(events, cries)
    assert fake.opened == [44100]
    assert signal.getsignal(signal.SIGTERM) == before       # the handlers are put back


# -- bad sources and options -------------------------------------------------------------------
def test_a_source_that_cannot_be_opened_is_exit_3(shipped_detector, capsys):
    url = f"http://{LOOPBACK}:{free_port()}/stream"
    assert main(["listen", url]) == 3
    line = one_error_line(capsys.readouterr().err.split("\n", 1)[-1])
    assert url in line and "cannot be opened" in line


def test_a_file_without_audio_says_so_as_detect_does(media_dir):
    """Issue 22: not ffmpeg's "Stream map '' matches no streams", and before any model."""
    video = media_dir / "video_only.mp4"
    rc, err, _ = cli_without_models(["listen", video])
    assert rc == 3
    line = one_error_line(err)
    assert line == f"cryvideo: error: {video}: has no audio stream"
    rc, err, _ = cli_without_models(["detect", video])
    assert rc == 3 and one_error_line(err) == line


def test_missing_file_is_exit_3(tmp_path, capsys):
    assert main(["listen", str(tmp_path / "nope.wav")]) == 3
    assert "nope.wav: no such file" in one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize("argv, what", [
    (["--device", "1", "x.wav"], "--device is for the microphone"),
    (["--realtime", "http://127.0.0.1:9/"], "--realtime is for a file"),
    (["--stop-after", "0", "-"], "--stop-after must be"),
    (["--window", "0", "-"], "--window must be"),
    (["--threshold", "2", "-"], "--threshold must be"),
    (["--onset-threshold", "2", "-"], "--onset-threshold must be a number in [0, 1], got 2"),
    (["--timeout", "-1", "-"], "--timeout must be"),
    (["--preroll", "11", "-"], "--preroll must be"),
    (["--on-cry", " ", "-"], "--on-cry needs a command"),
])
def test_bad_options_are_exit_2_before_any_model(argv, what, tmp_path, capsys):
    corrupt = tmp_path / "bad.tflite"
    corrupt.write_bytes(b"not a model")  # atomic-ok: a test input
    # a broken model would be exit 4: exit 2 shows the options were checked first
    assert main(["listen", "--model", str(corrupt), *argv]) == 2
    assert what in one_error_line(capsys.readouterr().err)


def test_record_into_a_file_is_refused(tmp_path, capsys):
    f = tmp_path / "file.txt"
    f.write_text("x")  # atomic-ok: a test input
    assert main(["listen", "--record", str(f), "-"]) == 2
    assert "is not a folder" in one_error_line(capsys.readouterr().err)


def test_a_broken_model_is_exit_4(tmp_path, capsys):
    corrupt = tmp_path / "bad.tflite"
    corrupt.write_bytes(b"not a model")  # atomic-ok: a test input
    assert main(["listen", "--model", str(corrupt), "-"]) == 4


def test_without_sounddevice_the_error_names_the_extra(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "sounddevice", None)
    assert main(["listen"]) == 3
    assert "pip install 'cryvideo[listen]'" in one_error_line(capsys.readouterr().err)
