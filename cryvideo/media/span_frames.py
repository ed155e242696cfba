"""Many spans of one video, decoded by as few ffmpeg processes as a memory bound allows.

:class:`SpanFrames` hands out the frames of each span (e.g. each crying segment the sound
found), in order. Spans are decoded together by one :class:`~.frame_outputs.FrameOutputs`
process, several per process: ffmpeg ends a process's outputs together, so the spans of a
process wait in memory until they are read, and a process takes spans only while their frames
fit :data:`SPAN_BUFFER_BYTES` (and at most :data:`MAX_SPANS_PER_PROCESS` of them). A process is
started when its first span is asked for and ended when the next one starts.

The first process may also decode a whole-video output read *alongside* the spans (the face
branch of ``predict``), so that a video with a few crying segments is decoded by one process.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

from ..errors import InputFileError, ParameterError
from .ffmpeg import DEFAULT_STALL_TIMEOUT
from .frame_outputs import FrameOutputs, FrameStream
from .frames import FrameSpan, plan_frames
from .probe import MediaInfo, probe

__all__ = ["SpanFrames", "SPAN_BUFFER_BYTES", "MAX_SPANS_PER_PROCESS", "group_spans"]

#: Bytes of frames the spans of one process may hold waiting for their reader, at most.
SPAN_BUFFER_BYTES = 256 * 2**20
#: Spans decoded by one process at most (each is an input, a pipe and a reader thread).
MAX_SPANS_PER_PROCESS = 16


def group_spans(sizes: Sequence[int | None], *, budget: int = SPAN_BUFFER_BYTES,
                most: int = MAX_SPANS_PER_PROCESS) -> list[list[int]]:
    """Consecutive spans in groups whose bytes fit ``budget`` and that hold at most ``most``
    spans (a span larger than the budget alone; ``None``: size unknown, alone too).

    Examples
    --------
    >>> group_spans([10, 10, 30, None, 5], budget=40, most=16)
    [[0, 1], [2], [3], [4]]
    """
    groups: list[list[int]] = []
    held = 0
    for i, size in enumerate(sizes):
        cost = budget if size is None else size
        if not groups or len(groups[-1]) >= most or held + cost > budget:
            groups.append([])
            held = 0
        groups[-1].append(i)
        held += cost
    return groups


class SpanFrames:
    """The frames of many spans of one video (and, optionally, of one more output read
    alongside them), with few ffmpeg processes and bounded memory.

    Use as a context manager. ``frames[k]`` is the :class:`~.frame_outputs.FrameStream` of
    ``spans[k]``; ask for them in order. :attr:`alongside` is the stream of ``alongside``, to
    be read in another thread while the spans are read.

    Parameters
    ----------
    path : str or os.PathLike
        A video file.
    spans : sequence of FrameSpan
    info : MediaInfo, optional
        The file's probe (else it is probed here).
    alongside : FrameSpan, optional
        One more output of the first process (e.g. the whole video at another rate), which
        must be read concurrently with the spans.
    stall_timeout : float
        See :class:`~.frame_outputs.FrameOutputs`.
    budget : int
        Bytes of frames the spans of one process may hold waiting (:data:`SPAN_BUFFER_BYTES`).

    Examples
    --------
    >>> segs = [FrameSpan(fps=4, start=0.0, duration=2.9), FrameSpan(fps=4, start=4.8,
    ...                                                             duration=2.9)]
    >>> with SpanFrames("clip.mp4", segs, alongside=FrameSpan(fps=5)) as sf:  # doctest: +SKIP
    ...     # read sf.alongside in another thread, while:
    ...     per_segment = [len(list(sf[k])) for k in range(len(sf))]
    """

    def __init__(self, path: str | os.PathLike, spans: Sequence[FrameSpan], *,
                 info: MediaInfo | None = None, alongside: FrameSpan | None = None,
                 stall_timeout: float = DEFAULT_STALL_TIMEOUT,
                 budget: int = SPAN_BUFFER_BYTES) -> None:
        self.path, self.spans, self.info = path, list(spans), info
        self.budget = int(budget)
        self.alongside_span, self.stall_timeout = alongside, stall_timeout
        self.alongside: FrameStream | None = None
        self._groups: list[list[int]] = []
        self._open: dict[int, FrameOutputs] = {}
        self._last = -1
        self._error: InputFileError | None = None
        self._lock = threading.Lock()     # spans may be asked for while another thread closes

    def __len__(self) -> int:
        return len(self.spans)

    def __enter__(self) -> SpanFrames:
        if not self.spans and self.alongside_span is None:
            return self
        info = self.info = probe(self.path) if self.info is None else self.info
        try:
            plans = [plan_frames(self.path, s, info) for s in self.spans]
            if self.alongside_span is not None:
                plan_frames(self.path, self.alongside_span, info)
        except InputFileError as exc:   # each stream raises it when read, as iter_frames would
            self._error = exc
            self.alongside = None if self.alongside_span is None else _Failed(exc)
            return self
        self._groups = group_spans([None if p.max_frames is None else
                                    p.max_frames * p.frame_bytes for p in plans],
                                   budget=self.budget)
        if self.alongside_span is not None:
            if not self._groups:
                self._groups = [[]]
            outs = self._start(0)
            self.alongside = outs[len(outs) - 1]
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """End every process (killing those still running); spans asked for afterwards raise
        :class:`~cryvideo.errors.InputFileError`."""
        with self._lock:
            self._error = self._error or InputFileError("the video's decoding was stopped",
                                                        path=self.path)
            for outs in self._open.values():
                outs.close()
            self._open.clear()

    def _start(self, g: int) -> FrameOutputs:
        """Start the process of group ``g`` (the first also decodes the alongside output, as
        its last output); end the previous group's, unless its alongside output is still being
        read."""
        spans = [self.spans[k] for k in self._groups[g]]
        extra = [self.alongside_span] if g == 0 and self.alongside_span is not None else []
        outs = FrameOutputs(self.path, spans + extra, info=self.info,
                            bounded={len(spans)} if extra else (),
                            stall_timeout=self.stall_timeout)
        if self._last >= 0 and not (self._last == 0 and self.alongside is not None):
            self._open.pop(self._last).close()
        self._open[g] = outs.__enter__()
        self._last = g
        return outs

    def __getitem__(self, k: int) -> FrameStream:
        if not 0 <= k < len(self.spans):
            raise IndexError(k)
        with self._lock:
            if self._error is not None:
                return _Failed(self._error)
            g = next(i for i, grp in enumerate(self._groups) if k in grp)
            if g not in self._open:
                if g < self._last:
                    raise ParameterError(f"span {k} was asked for after a later one: ask in "
                                         "order")
                self._start(g)
            return self._open[g][self._groups[g].index(k)]


class _Failed:
    """The stream of a span that cannot be decoded: reading it raises why."""

    def __init__(self, error: InputFileError) -> None:
        self.error = error

    def __iter__(self) -> _Failed:
        return self

    def __next__(self):
        raise self.error

    def close(self) -> None:
        pass
