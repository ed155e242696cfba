"""Several spans of one video decoded by one ffmpeg process, each to its own pipe.

:class:`FrameOutputs` starts one ffmpeg with one input per span (each with its own ``-ss`` and
``-t``, exactly as :func:`~cryvideo.media.frames.iter_frames` would decode it alone, so every
frame is the same bytes) and one rawvideo output per span, written to its own pipe (a file
descriptor handed over with ``pass_fds``). One reader thread per output drains its pipe:

- an output read *alongside* the others (``bounded``) keeps at most a few frames waiting, so a
  whole video costs the same memory as a minute (ffmpeg waits for its reader);
- every other output is drained as fast as ffmpeg writes, so ffmpeg never waits on a span that
  is read later: ffmpeg keeps its outputs in step, and ends them all together.

The process is stopped when no output moves for ``stall_timeout`` seconds (nothing read from
ffmpeg and no frame taken by a reader), and killed and reaped on any way out, Ctrl-C included.
"""

from __future__ import annotations

import os
import queue
import subprocess
import tempfile
import threading
import time
from collections.abc import Collection, Iterator, Sequence

import numpy as np

from ..errors import InputFileError, MediaTimeoutError, ParameterError
from .ffmpeg import DEFAULT_STALL_TIMEOUT, ffmpeg_problem, reap
from .frames import Frame, FramePlan, FrameSpan, frames_command, plan_frames
from .probe import MediaInfo, probe

__all__ = ["FrameOutputs", "FrameStream", "BOUNDED_FRAMES"]

#: Frames a bounded output keeps waiting for its reader at most.
BOUNDED_FRAMES = 8
#: Seconds between two looks at whether the decode was stopped, while waiting.
_POLL = 0.2
#: End of an output's frames.
_END = object()


class FrameStream:
    """The frames of one output of :class:`FrameOutputs`, in order: an iterator of
    :class:`~cryvideo.media.frames.Frame` (``time`` is ``start + index / fps``, as
    :func:`~cryvideo.media.frames.iter_frames` gives).

    :meth:`close` says the frames left are not wanted: they are read and dropped, so ffmpeg
    goes on with the other outputs.

    Examples
    --------
    >>> with FrameOutputs("clip.mp4", [FrameSpan(fps=5)]) as outs:   # doctest: +SKIP
    ...     first = next(outs[0])
    ...     outs[0].close()                   # the rest is not wanted
    """

    def __init__(self, owner: FrameOutputs, plan: FramePlan, bounded: bool) -> None:
        self._owner, self.plan = owner, plan
        self._queue: queue.Queue = queue.Queue(BOUNDED_FRAMES if bounded else 0)
        self.count = 0
        #: Set when the reader wants no more frames (closed, or the frame bound is reached).
        self.dropped = threading.Event()
        self._ended = False

    # -- the reader thread's side ------------------------------------------------------------
    def _put(self, item) -> None:
        while not self.dropped.is_set() and not self._owner.closed.is_set():
            try:
                self._queue.put(item, timeout=_POLL)
                return
            except queue.Full:
                continue

    def _end(self) -> None:
        self._put(_END)

    # -- the consumer's side -----------------------------------------------------------------
    def __iter__(self) -> Iterator[Frame]:
        return self

    def __next__(self) -> Frame:
        if self._ended:
            raise StopIteration
        item = self._owner._wait_for(self._queue)
        if item is _END:
            self._ended = True
            if self.count == 0:
                self._owner._check_nothing_decoded(self.plan)
            raise StopIteration
        span = self.plan.span
        img = np.frombuffer(item, dtype=np.uint8).reshape(self.plan.height, self.plan.width, 3)
        frame = Frame(index=self.count, time=span.start + self.count / span.fps, image=img)
        self.count += 1
        if self.plan.max_frames is not None and self.count >= self.plan.max_frames:
            self.close()
            self._ended = True
        return frame

    def close(self) -> None:
        """Want no more frames of this output."""
        self.dropped.set()
        self._owner._stop_if_unwanted()


class FrameOutputs:
    """One ffmpeg process decoding several spans of one video, each to its own stream.

    Use as a context manager; ``outputs[i]`` is the :class:`FrameStream` of ``spans[i]``.
    Streams may be read from several threads (one thread per stream).

    Parameters
    ----------
    path : str or os.PathLike
        A video file.
    spans : sequence of FrameSpan
        What to decode, one output each.
    info : MediaInfo, optional
        The file's probe (else it is probed here).
    bounded : collection of int
        Outputs read alongside the others: at most :data:`BOUNDED_FRAMES` of their frames wait
        for their reader (the others are drained into memory as fast as ffmpeg writes, so they
        may be read one after the other, in any order).
    stall_timeout : float
        Seconds without any output moving after which ffmpeg is killed and the readers get
        :class:`~cryvideo.errors.MediaTimeoutError`.

    Raises
    ------
    InputFileError
        No video stream or no usable frame size (on entering); a stream with no frame at all
        when ffmpeg failed, or when its span is the whole video (on reading it).

    Examples
    --------
    >>> spans = [FrameSpan(fps=5), FrameSpan(fps=4, max_side=640, start=4.8, duration=2.9)]
    >>> with FrameOutputs("clip.mp4", spans, bounded={0}) as outs:   # doctest: +SKIP
    ...     # read outs[0] in one thread and outs[1] in another
    ...     frames = list(outs[1])
    """

    def __init__(self, path: str | os.PathLike, spans: Sequence[FrameSpan], *,
                 info: MediaInfo | None = None, bounded: Collection[int] = (),
                 stall_timeout: float = DEFAULT_STALL_TIMEOUT) -> None:
        if not spans:
            raise ParameterError("FrameOutputs needs at least one span")
        if stall_timeout <= 0:
            raise ParameterError(f"stall_timeout must be > 0, got {stall_timeout}")
        self.path, self.spans = path, list(spans)
        self.info, self.bounded = info, set(bounded)
        self.stall_timeout = float(stall_timeout)
        #: Set once the decode is stopped (closed, or stalled).
        self.closed = threading.Event()
        self.timed_out = False
        self._proc: subprocess.Popen | None = None
        self._stderr = None
        self._streams: list[FrameStream] = []
        self._readers: list[threading.Thread] = []
        self._moved = time.monotonic()
        self._lock = threading.Lock()

    def __getitem__(self, i: int) -> FrameStream:
        return self._streams[i]

    def __len__(self) -> int:
        return len(self._streams)

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> FrameOutputs:
        info = probe(self.path) if self.info is None else self.info
        plans = [plan_frames(self.path, s, info) for s in self.spans]
        self._streams = [FrameStream(self, p, i in self.bounded) for i, p in enumerate(plans)]
        pipes = [os.pipe() for _ in plans]
        self._stderr = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen(
                frames_command(self.path, plans, [f"pipe:{w}" for _, w in pipes]),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr,
                pass_fds=[w for _, w in pipes])
        except OSError as exc:
            for r, _ in pipes:
                os.close(r)
            self.close()
            raise InputFileError(f"could not start ffmpeg ({exc})", path=self.path) from exc
        finally:
            for _, w in pipes:     # ffmpeg holds the writing ends now
                os.close(w)
        for (r, _), st in zip(pipes, self._streams, strict=True):
            t = threading.Thread(target=self._read, args=(r, st), daemon=True,
                                 name="cryvideo-frames")
            t.start()
            self._readers.append(t)
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Stop decoding: kill (if still running) and reap ffmpeg, end the readers."""
        self.closed.set()
        if self._proc is not None:
            reap(self._proc)
        for t in self._readers:      # the pipes' writers are gone: every read ends
            t.join(timeout=10)
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    # -- reader threads ----------------------------------------------------------------------
    def _read(self, fd: int, stream: FrameStream) -> None:
        """Move one output's frames from its pipe to its stream, until ffmpeg closes it."""
        size = stream.plan.frame_bytes
        try:
            while True:
                buf = bytearray(size)
                view, n = memoryview(buf), 0
                while n < size:
                    k = os.readv(fd, [view[n:]])
                    if k == 0:
                        return
                    n += k
                    self._moved = time.monotonic()
                if not stream.dropped.is_set() and not self.closed.is_set():
                    stream._put(buf)
        except OSError:
            return
        finally:
            os.close(fd)
            stream._end()

    def _stop_if_unwanted(self) -> None:
        """Kill ffmpeg once no output's frames are wanted any more."""
        if self._streams and all(s.dropped.is_set() for s in self._streams):
            proc = self._proc
            if proc is not None and proc.poll() is None:
                proc.kill()

    # -- waiting -----------------------------------------------------------------------------
    def _stalled(self) -> bool:
        """Whether no output moved for ``stall_timeout`` s; if so ffmpeg is killed."""
        if time.monotonic() - self._moved < self.stall_timeout:
            return False
        with self._lock:
            self.timed_out = True
            self.closed.set()
            if self._proc is not None and self._proc.poll() is None:
                self._proc.kill()
        return True

    def _timeout_error(self) -> MediaTimeoutError:
        return MediaTimeoutError(f"ffmpeg produced no data for {self.stall_timeout:g} s "
                                 "(stalled)", path=self.path)

    def _wait_for(self, q: queue.Queue):
        """The next item of a stream's queue, waiting while the decode moves."""
        while True:
            try:
                item = q.get(timeout=_POLL)
            except queue.Empty:
                if self.timed_out or self._stalled():
                    raise self._timeout_error() from None
                if self.closed.is_set() and not any(t.is_alive() for t in self._readers):
                    raise InputFileError("the video's decoding was stopped",
                                         path=self.path) from None
                continue
            self._moved = time.monotonic()
            return item

    def _check_nothing_decoded(self, plan: FramePlan) -> None:
        """A stream ended without a frame: raise what :func:`iter_frames` would."""
        if self.timed_out:
            raise self._timeout_error()
        rc = self._returncode()
        if rc != 0:
            raise InputFileError(ffmpeg_problem(self._stderr_text()), path=self.path)
        if plan.whole:
            raise InputFileError("no video frames could be decoded", path=self.path)

    def _returncode(self) -> int:
        """ffmpeg's exit status, waiting while the decode moves."""
        while True:
            try:
                return self._proc.wait(timeout=_POLL)
            except subprocess.TimeoutExpired:
                if self._stalled():
                    raise self._timeout_error() from None

    def _stderr_text(self) -> str:
        """What ffmpeg wrote on stderr (at most the last 64 kB)."""
        f = self._stderr
        if f is None:
            return ""
        with self._lock:
            f.flush()
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - 65536))
            return f.read().decode("utf-8", "replace")
