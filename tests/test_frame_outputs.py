"""Several spans of one video from one ffmpeg process (media/frame_outputs.py) and many spans
under a memory bound (media/span_frames.py): the same frames as decoding each span alone, the
process reaped on every way out."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import numpy as np
import psutil
import pytest

from cryvideo.errors import InputFileError, MediaTimeoutError, ParameterError
from cryvideo.media import iter_frames, probe
from cryvideo.media.frame_outputs import BOUNDED_FRAMES, FrameOutputs
from cryvideo.media.frames import FrameSpan
from cryvideo.media.span_frames import SpanFrames, group_spans

SPANS = [FrameSpan(fps=4, max_side=160, start=0.0, duration=1.2),
         FrameSpan(fps=4, max_side=160, start=2.5, duration=1.5),
         FrameSpan(fps=4, max_side=160, start=5.0, duration=0.25)]
WHOLE = FrameSpan(fps=5, max_side=120)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    from cryvideo.testing.media import make_video

    path = tmp_path_factory.mktemp("frames") / "clip.mp4"
    make_video(path, duration=6.0, size="320x240", rate=25)
    return path


def _digest(frames) -> tuple[int, str, list[float]]:
    """Number of frames, a digest of their pixels, their times."""
    h, n, times = hashlib.sha256(), 0, []
    for fr in frames:
        h.update(fr.image.tobytes())
        times.append(round(fr.time, 6))
        n += 1
    return n, h.hexdigest(), times


def _alone(clip, span: FrameSpan):
    return _digest(iter_frames(clip, fps=span.fps, max_side=span.max_side, start=span.start,
                               duration=span.duration))


#: Child processes this pytest process had before the test (a Dask worker or any process an
#: earlier test left): not this test's.
_BEFORE: set[int] = set()


@pytest.fixture(autouse=True)
def _children_before():
    _BEFORE.clear()
    _BEFORE.update(p.pid for p in psutil.Process().children(recursive=True))


def _ffmpeg_children(*, zombies: bool = False) -> list:
    """The processes this test started (ffmpeg), those that ended but were not reaped yet
    included when ``zombies``."""
    return [p for p in psutil.Process().children(recursive=True)
            if p.pid not in _BEFORE and (zombies or p.status() != psutil.STATUS_ZOMBIE)]


def test_spans_read_one_after_another_are_the_frames_of_each_decoded_alone(clip):
    with FrameOutputs(clip, SPANS) as outs:
        assert len(_ffmpeg_children(zombies=True)) == 1   # one process for all three spans
        got = [_digest(outs[i]) for i in (2, 0, 1)]  # any order: ffmpeg never waits on them
    assert got == [_alone(clip, SPANS[i]) for i in (2, 0, 1)]
    assert all(n > 0 for n, _, _ in got)
    assert not _ffmpeg_children()


def test_a_bounded_output_read_alongside(clip):
    """The whole video, held at most a few frames at a time, read in a thread while the spans
    are read in this one."""
    got = {}
    with FrameOutputs(clip, [*SPANS, WHOLE], bounded={3}) as outs:
        t = threading.Thread(target=lambda: got.update(whole=_digest(outs[3])))
        t.start()
        spans = [_digest(outs[i]) for i in range(3)]
        t.join()
        assert outs[3]._queue.maxsize == BOUNDED_FRAMES
    assert spans == [_alone(clip, s) for s in SPANS]
    assert got["whole"] == _alone(clip, WHOLE) and got["whole"][0] == 30


def test_a_stream_closed_early_lets_the_others_finish(clip):
    with FrameOutputs(clip, [WHOLE, SPANS[1]], bounded={0}) as outs:
        first = next(outs[0])
        outs[0].close()               # not wanted any more: dropped, never waited on
        assert _digest(outs[1]) == _alone(clip, SPANS[1])
    assert first.index == 0 and not _ffmpeg_children()


def test_an_interrupt_kills_ffmpeg_and_ends_the_reader_threads(clip):
    """Ctrl-C while a thread reads alongside: the context's exit kills ffmpeg; the thread's
    read ends with an error instead of waiting."""
    errors = []

    def read_whole(stream):
        try:
            for _ in stream:
                pass
        except InputFileError as exc:
            errors.append(exc)

    with pytest.raises(KeyboardInterrupt):
        with FrameOutputs(clip, [SPANS[0], WHOLE], bounded={1}) as outs:
            t = threading.Thread(target=read_whole, args=(outs[1],))
            t.start()
            next(outs[0])
            raise KeyboardInterrupt
    t.join(timeout=60)
    assert not t.is_alive()
    assert not _ffmpeg_children()
    assert not errors or "decoding was stopped" in errors[0].message


def test_a_broken_file_is_an_input_error_for_every_stream(tmp_path, clip):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(5000))
    info = probe(clip)   # the header says it is a video; ffmpeg finds otherwise
    with FrameOutputs(bad, SPANS[:2], info=info) as outs:
        for i in range(2):
            with pytest.raises(InputFileError, match="ffmpeg"):
                list(outs[i])
    assert not _ffmpeg_children()


def test_a_hung_ffmpeg_is_stopped(tmp_path, clip, monkeypatch):
    """An ffmpeg that writes nothing: the stall timeout kills it; the reader hears why."""
    import cryvideo.media.frames as frames

    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\nexec sleep 60\n")
    fake.chmod(0o755)
    monkeypatch.setattr(frames, "ffmpeg_exe", lambda: str(fake))
    with FrameOutputs(clip, SPANS[:1], stall_timeout=0.5) as outs:
        with pytest.raises(MediaTimeoutError, match="stalled"):
            next(outs[0])
    assert not _ffmpeg_children()


def test_refusals(clip, media_dir):
    with pytest.raises(ParameterError):
        FrameOutputs(clip, [])
    with pytest.raises(InputFileError, match="no video stream"):
        with FrameOutputs(media_dir / "audio_only.wav", SPANS[:1]):
            pass
    for bad in ({"fps": 0}, {"fps": 1000}, {"max_side": 4}, {"start": -1.0},
                {"duration": 0.0}):
        with pytest.raises(ParameterError):
            FrameSpan(**bad)


def test_group_spans():
    assert group_spans([10, 10, 30, None, 5], budget=40, most=16) == [[0, 1], [2], [3], [4]]
    assert group_spans([1] * 5, budget=100, most=2) == [[0, 1], [2, 3], [4]]
    assert group_spans([]) == []


def test_span_frames_in_several_processes_under_a_small_budget(clip):
    """A budget that holds one span per process: three processes, one after the other, each
    span's frames those of its decode alone; the whole-video output rides with the first."""
    frame = 160 * 120 * 3
    got = {}
    with SpanFrames(clip, SPANS, alongside=WHOLE, budget=frame * 10) as sf:
        assert len(sf._groups) == 3
        t = threading.Thread(target=lambda: got.update(whole=_digest(sf.alongside)))
        t.start()
        spans = [_digest(sf[k]) for k in range(len(sf))]
        t.join()
        with pytest.raises(ParameterError, match="in order"):
            sf[1]
    assert spans == [_alone(clip, s) for s in SPANS]
    assert got["whole"] == _alone(clip, WHOLE)
    assert not _ffmpeg_children()


def test_span_frames_of_a_picture_without_size_raise_when_read(clip):
    from dataclasses import replace

    info = replace(probe(clip), width=None)
    with SpanFrames(clip, SPANS[:2], info=info) as sf:
        for k in range(2):
            with pytest.raises(InputFileError, match="no usable frame size"):
                next(iter(sf[k]))


def test_frames_are_arrays_of_the_planned_size(clip):
    with FrameOutputs(clip, SPANS[:1]) as outs:
        fr = next(outs[0])
        assert fr.image.shape == (120, 160, 3) and fr.image.dtype == np.uint8
        assert list(outs[0])      # the rest
