"""Listening from Python, as a notebook does it (no argparse): :class:`ListenSettings`, the loop
:func:`run_listener` and :func:`listen` on a file; the loop's stops on SIGTERM and Ctrl-C keep
the open episode's recording.

The scripted tests drive the loop with known patch probabilities and a source made of known
blocks and notices (no model, no ffmpeg); times are on the stream clock, never the wall clock.
"""

from __future__ import annotations

import dataclasses
import os
import signal
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from listen_audio import SR, ScriptedDetector, sequence, write_wav

from cryvideo.detection.frontend import YAMNET_FRONTEND
from cryvideo.detection.listen_settings import ListenSettings
from cryvideo.detection.listening import (
    Heard,
    Listening,
    Note,
    Stopping,
    StreamStatus,
    listen,
    run_listener,
)
from cryvideo.detection.live import STARTED, STOPPED
from cryvideo.errors import ModelError, ParameterError
from cryvideo.media.live_source import SourceNotice

HOP_SAMPLES = int(round(YAMNET_FRONTEND.hop_seconds * SR))
BLOCK = 1600                                    # 0.1 s, as the live sources give


# -- settings ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kw, what", [
    ({"window": 0}, "--window must be a number in [1, 20] patches, got 0"),
    ({"threshold": 1.5}, "--threshold must be"),
    ({"onset_threshold": 1.5}, "--onset-threshold must be"),
    ({"stop_after": 0.0}, "--stop-after must be"),
    ({"stop_after": float("nan")}, "--stop-after must be"),
    ({"preroll": 11.0}, "--preroll must be"),
    ({"timeout": -1.0}, "--timeout must be"),
    ({"retries": -1}, "--retries must be"),
    ({"window": 2.5}, "window must be a whole number"),
    ({"blas_threads": 0}, "blas_threads must be"),
    ({"on_cry": " "}, "--on-cry needs a command"),
    ({"device": 1}, "--device is for the microphone"),
    ({"source": "rtsp://camera/stream", "realtime": True}, "--realtime is for a file"),
    ({"source": None, "realtime": True}, "a microphone is live already"),
])
def test_bad_settings_name_the_option(kw, what):
    with pytest.raises(ParameterError) as err:
        ListenSettings(**{"source": "night.wav", **kw})
    assert what in str(err.value)


def test_settings_are_frozen_with_one_default_each(tmp_path):
    s = ListenSettings(source=tmp_path / "a.wav")
    assert s.source == str(tmp_path / "a.wav") and s.source_kind == "file"
    assert (s.stop_after, s.cooldown, s.preroll, s.timeout) == (5.0, 60.0, 5.0, 15.0)
    assert s.threshold is None and s.window is None and s.blas_threads == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.stop_after = 1.0
    assert [ListenSettings(source=x).source_kind for x in (None, "-", "http://h/s", "a.wav")] \
        == ["microphone", "stdin", "network", "file"]
    with pytest.raises(TypeError):                      # keyword-only
        ListenSettings("a.wav")


def test_check_files_refuses_before_any_model(tmp_path):
    wav = write_wav(tmp_path / "a.wav", np.zeros(SR, np.float32))
    (tmp_path / "file.txt").write_text("x")  # atomic-ok: a test input
    with pytest.raises(ParameterError, match="is not a folder"):
        ListenSettings(source=str(wav), record=tmp_path / "file.txt").check_files()
    with pytest.raises(ModelError, match="takes a .tflite detector"):
        ListenSettings(source=str(wav), model=tmp_path / "m.keras").check_files()
    with pytest.raises(ModelError, match="no such model file"):
        ListenSettings(source=str(wav), model=tmp_path / "m.tflite").check_files()


# -- the loop, on scripted probabilities and a scripted source ---------------------------------
class ScriptedSource:
    """Known blocks and notices; ``at`` maps an item index to a function run just before that
    item is given (to send a signal at a known point of the stream)."""

    name = "scripted"

    def __init__(self, items, at=None):
        self.items, self.at = items, at or {}

    def __iter__(self):
        for i, item in enumerate(self.items):
            if i in self.at:
                self.at[i]()
            yield item


def blocks(y):
    return [y[a:a + BLOCK] for a in range(0, y.size, BLOCK)]


@pytest.fixture
def noise():
    """40 s of known samples (their values are what a recording must hold)."""
    return (0.1 * np.random.default_rng(0).standard_normal(40 * SR)).astype(np.float32)


def loud(*spans, n=100):
    p = np.zeros(n)
    for a, b in spans:
        p[a:b] = 0.9
    return p


def test_run_listener_reports_in_order_and_records_each_episode(noise, tmp_path):
    """Two episodes (the second cut by a lost stream), the statuses around them, the JSON
    records, and recordings holding exactly the stream from ``preroll`` before each onset."""
    y1, y2 = noise[:20 * SR], noise[20 * SR:]
    det = ScriptedDetector(loud((10, 20), (30, 40)))       # the first part's patches: 0-39
    src = ScriptedSource([SourceNotice("connected", "opened"), *blocks(y1),
                          SourceNotice("lost", "reset by peer", retry_in=1.0, attempt=1),
                          SourceNotice("connected", "opened"), *blocks(y2),
                          SourceNotice("ended", "end of input")])
    settings = ListenSettings(source="-", stop_after=3.0, record=tmp_path / "rec", preroll=2.0)
    items = []
    out = run_listener(settings, det, src, output=items.append, clock=lambda: 0.0)
    assert out.reason == "end of stream" and out.signal is None
    assert isinstance(items[0], Listening) and items[0].detector == "scripted"
    kinds = [type(i).__name__ if not isinstance(i, StreamStatus) else i.kind for i in items]
    assert kinds == ["Listening", "connected", "Heard", "Heard", "Heard", "Heard", "lost",
                     "connected", "ended"]
    ev = out.events
    assert [(e.event, e.reason) for e in ev] == [(STARTED, None), (STOPPED, "quiet"),
                                                 (STARTED, None), (STOPPED, "stream lost")]
    assert ev[0].stream_time == pytest.approx(10 * HOP_SAMPLES / SR)
    assert ev[3].stream_time <= 20.0                       # the stream broke off at 20 s
    lost = items[6].to_dict()
    assert lost["retry_in"] == 1.0 and lost["attempt"] == 1 and lost["stream_time"] == 20.0
    assert "again at stream 20.0 s" in items[7].message
    assert "retry_in" not in items[1].to_dict()
    heard = [i for i in items if isinstance(i, Heard)]
    assert [h.to_dict().get("recording") for h in heard] == \
        [None, str(out.recordings[0]), None, str(out.recordings[1])]
    assert sorted(p.name for p in (tmp_path / "rec").iterdir()) == \
        sorted(p.name for p in out.recordings)             # no temporary file left
    for start, stop, rec in zip(ev[0::2], ev[1::2], out.recordings, strict=True):
        z, sr = sf.read(rec, dtype="float32")
        first = int(round((start.stream_time - 2.0) * SR))
        assert sr == SR and z.size == int(round(stop.detected_at * SR)) - first
        np.testing.assert_allclose(z, noise[first:first + z.size], atol=1 / 32767 + 1e-6)


def test_sigterm_while_waiting_closes_and_saves_the_open_episode(noise, tmp_path):
    det = ScriptedDetector(loud((10, 100)))                # crying until the end
    parts = blocks(noise[:10 * SR])
    src = ScriptedSource([SourceNotice("connected", "opened"), *parts],
                         at={len(parts): lambda: os.kill(os.getpid(), signal.SIGTERM)})
    before = signal.getsignal(signal.SIGTERM)
    items = []
    out = run_listener(ListenSettings(source="-", record=tmp_path), det, src,
                       output=items.append)
    assert signal.getsignal(signal.SIGTERM) == before       # the handlers are put back
    assert out.reason == "stopped" and out.signal == "SIGTERM"
    assert [type(i).__name__ for i in items[-2:]] == ["Stopping", "Heard"]
    assert out.events[-1].reason == "stopped" and out.events[-1].detected_at < 10.0
    (rec,) = out.recordings
    assert sf.info(rec).frames > 0 and list(tmp_path.iterdir()) == [rec]


def test_a_signal_during_a_block_stops_after_it(noise, tmp_path):
    """Ctrl-C while the cry start is being handled: the block is finished (its recording
    opened), then the loop stops and the episode is saved; the caller learns it was SIGINT."""
    det = ScriptedDetector(loud((10, 100)))
    items = []

    def output(item):
        items.append(item)
        if isinstance(item, Heard) and item.event.event == STARTED:
            os.kill(os.getpid(), signal.SIGINT)

    src = ScriptedSource(blocks(noise[:30 * SR]))
    out = run_listener(ListenSettings(source="-", record=tmp_path), det, src, output=output)
    assert out.signal == "SIGINT" and out.reason == "stopped"
    started, stopped = out.events
    assert stopped.detected_at == started.detected_at      # not one block more
    assert isinstance(items[-2], Stopping) and items[-2].signal == "SIGINT"
    assert len(out.recordings) == 1 and sf.info(out.recordings[0]).frames > 0


def test_a_recording_that_cannot_start_is_a_note_and_listening_goes_on(noise, tmp_path):
    det = ScriptedDetector(loud((10, 20), (60, 70)))
    rec = tmp_path / "rec"
    items = []
    src = ScriptedSource(blocks(noise[:40 * SR]),
                         at={1: lambda: rec.write_text("now a file")})  # atomic-ok: test input
    out = run_listener(ListenSettings(source="-", stop_after=3.0, record=rec), det, src,
                       output=items.append, handle_signals=False)
    notes = [i.message for i in items if isinstance(i, Note)]
    assert len(notes) == 2 and all("listening goes on without recording" in n for n in notes)
    assert [e.event for e in out.events] == [STARTED, STOPPED] * 2 and out.recordings == ()


# -- a file, the whole of it, as a notebook runs it --------------------------------------------
def test_listen_to_a_file_from_python(shipped_detector, tmp_path):
    """What a notebook writes: settings, ``listen``, the events and the recordings."""
    y, cries = sequence()
    wav = write_wav(tmp_path / "night.wav", y)
    settings = ListenSettings(source=wav, stop_after=3.0, record=tmp_path / "cries",
                              preroll=2.0)
    items = []
    outcome = listen(settings, output=items.append)
    assert outcome.reason == "end of stream" and outcome.signal is None
    ev = outcome.events
    assert [e.event for e in ev] == [STARTED, STOPPED] * len(cries)
    for (a, b), start, stop in zip(cries, ev[0::2], ev[1::2], strict=True):
        assert abs(start.stream_time - a) <= 1.0 and abs(stop.stream_time - b) <= 1.0
        assert stop.reason == "quiet" and stop.start == start.stream_time
    statuses = [i for i in items if isinstance(i, StreamStatus)]
    assert [s.kind for s in statuses] == ["connected", "ended"]
    assert statuses[-1].stream_time == pytest.approx(y.size / SR, abs=0.01)
    listening = next(i for i in items if isinstance(i, Listening))
    assert listening.source == str(wav) and listening.stop_after == 3.0
    assert [Path(p).parent for p in outcome.recordings] == [tmp_path / "cries"] * len(cries)
    for start, stop, rec in zip(ev[0::2], ev[1::2], outcome.recordings, strict=True):
        z, sr = sf.read(rec, dtype="float32")
        first = int(round((start.stream_time - 2.0) * SR))
        assert sr == SR and z.size == int(round(stop.detected_at * SR)) - first
        np.testing.assert_allclose(z, y[first:first + z.size], atol=2e-4)
        assert np.abs(z).max() > 0.1                         # the cry is in it
