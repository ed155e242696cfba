"""Live audio through ffmpeg: a network stream, standard input, or a file played in real time.

:class:`FFmpegLiveSource` runs ffmpeg on the source and yields its audio as consecutive blocks
of mono float32 samples at 16 kHz (any format, channel layout and sample rate ffmpeg reads),
with :class:`SourceNotice` items in between that say what happened to the stream: connected,
lost (with the back-off before the next try), ended. A network stream that drops or stalls is
reopened with exponential back-off; standard input and files end at their end.

Every ffmpeg process is killed and reaped when it is left, whatever the reason (an error, a
stall, Ctrl-C, SIGTERM, the consumer stopping the iteration).
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Iterator

import numpy as np

from ..errors import InputFileError, MediaTimeoutError, ParameterError, display_path
from .audio import _samples
from .ffmpeg import FFmpegStream, ffmpeg_exe, ffmpeg_problem, input_url

__all__ = ["SourceNotice", "FFmpegLiveSource", "Backoff", "is_network_url", "STDIN",
           "DEFAULT_TIMEOUT", "BLOCK_SECONDS", "reconnecting"]

#: The source name for standard input.
STDIN = "-"
#: Seconds without audio after which a source counts as stalled.
DEFAULT_TIMEOUT = 15.0
#: Seconds of audio per block (the granularity of the stream clock, and a bound on latency).
BLOCK_SECONDS = 0.1

_URL = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")
#: What ffmpeg says when the input has no audio stream to map.
_NO_AUDIO = re.compile(r"Stream map '[^']*' matches no streams")


def is_network_url(source: str) -> bool:
    """Whether ``source`` is a URL (``rtsp://``, ``http://``, ``udp://``, …) rather than a file
    or standard input; ``file://`` counts as a file."""
    m = _URL.match(source)
    return bool(m) and m.group(1).lower() != "file"


@dataclasses.dataclass(frozen=True)
class SourceNotice:
    """What happened to a live source (yielded between audio blocks).

    Attributes
    ----------
    kind : {"connected", "waiting", "lost", "retry failed", "ended"}
        ``waiting``: the source could not be opened yet (never connected so far) and will be
        tried again (only with ``retries``: a monitor often starts before its camera).
    message : str
        For people (why it was lost or could not be opened; what was opened).
    retry_in : float, optional
        Seconds until the next try (``waiting``, ``lost``, ``retry failed``).
    attempt : int
        Attempts since the stream was last connected (or since the start).
    """

    kind: str
    message: str = ""
    retry_in: float | None = None
    attempt: int = 0


@dataclasses.dataclass(frozen=True)
class Backoff:
    """Exponential back-off: ``first`` seconds, doubling, at most ``most``."""

    first: float = 1.0
    most: float = 30.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before reconnection attempt ``attempt`` (1, 2, …)."""
        return min(self.most, self.first * 2.0 ** max(0, attempt - 1))


class FFmpegLiveSource:
    """Audio blocks from anything ffmpeg reads, reconnecting to network streams.

    Parameters
    ----------
    source : str
        A URL (``rtsp://``, ``http(s)://``, ``udp://``, ``rtmp://``, ``srt://``, …), ``-``
        for standard input, or a file.
    sr : int
        Sample rate of the blocks (ffmpeg resamples and mixes down to mono).
    realtime : bool
        Read a file at its own pace (ffmpeg ``-re``), as if it were live; default: as fast as
        it decodes.
    block_seconds : float
        Seconds of audio per block.
    timeout : float
        Seconds without audio after which the source counts as stalled: a network stream is
        reopened, anything else is an error (:class:`~cryvideo.errors.MediaTimeoutError`).
    reconnect : bool, optional
        Reopen the source when it ends or breaks (default: for network URLs only).
    retries : int, optional
        Reconnection attempts in a row before giving up (default: no limit). Given, a source
        that reconnects is also tried again when it cannot be opened at first (that many
        times); without it, that is an error at once.
    backoff : Backoff
        Waits between attempts.
    stdin : int or file, optional
        What ffmpeg reads for ``-`` (default: this process's standard input).
    sleep : callable
        ``sleep(seconds)`` between attempts.

    Raises
    ------
    ParameterError
        Bad numbers.
    InputFileError
        From the iteration: the source cannot be opened (exit 3) or gave up reconnecting.
    MediaTimeoutError
        From the iteration: standard input or a file stalled.
    """

    def __init__(self, source: str, *, sr: int = 16000, realtime: bool = False,
                 block_seconds: float = BLOCK_SECONDS, timeout: float = DEFAULT_TIMEOUT,
                 reconnect: bool | None = None, retries: int | None = None,
                 backoff: Backoff = Backoff(), stdin=None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not block_seconds > 0 or not timeout > 0:
            raise ParameterError("block_seconds and timeout must be above 0")
        if retries is not None and retries < 0:
            raise ParameterError(f"retries must be 0 or more, got {retries}")
        self.source = source
        self.network = is_network_url(source)
        self.name = "standard input" if source == STDIN else source
        self.sr = int(sr)
        self.realtime = bool(realtime)
        self.block_bytes = 4 * max(1, int(round(block_seconds * self.sr)))
        self.timeout = float(timeout)
        self.reconnect = self.network if reconnect is None else bool(reconnect)
        self.retries = retries
        self.backoff = backoff
        self.stdin = stdin
        self.sleep = sleep

    def args(self) -> list[str]:
        """The ffmpeg command line."""
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error"]
        if self.realtime:
            cmd += ["-re"]
        if self.source == STDIN:
            url = "pipe:0"
        elif self.network or self.source.startswith("file:"):
            url = self.source
        else:
            url = input_url(self.source)
        return cmd + ["-i", url, "-map", "0:a:0", "-vn", "-sn", "-dn", "-ac", "1",
                      "-ar", str(self.sr), "-f", "f32le", "-flush_packets", "1", "pipe:1"]

    def _session(self) -> Iterator[np.ndarray]:
        """One ffmpeg run: its blocks; returns why it ended (``None``: a clean end)."""
        stdin = None
        if self.source == STDIN:
            stdin = self.stdin if self.stdin is not None else 0
        with FFmpegStream(self.args(), path=self.name, stall_timeout=self.timeout,
                          stdin=stdin) as st:
            while True:
                buf = st.read(self.block_bytes)
                y = _samples(buf)
                if y.size:
                    yield y
                if len(buf) < self.block_bytes:
                    break
            rc, err = st.finish()
        if rc == 0:
            return None
        # "-map 0:a:0" on a video-only input: say it as every command does
        return "it has no audio stream" if _NO_AUDIO.search(err) else ffmpeg_problem(err)

    def __iter__(self) -> Iterator[np.ndarray | SourceNotice]:
        return reconnecting(self._session, name=self.name, reconnect=self.reconnect,
                            retries=self.retries, backoff=self.backoff, sleep=self.sleep,
                            errors=(MediaTimeoutError,))


def reconnecting(open_session: Callable[[], Iterator[np.ndarray]], *, name: str,
                 reconnect: bool, retries: int | None, backoff: Backoff,
                 sleep: Callable[[float], None], errors: tuple = ()
                 ) -> Iterator[np.ndarray | SourceNotice]:
    """Run sessions of a source one after another, with notices and back-off between them.

    Parameters
    ----------
    open_session : callable
        Returns a generator of sample blocks whose return value says why it ended (None: a
        clean end).
    name : str
        The source, in messages.
    reconnect : bool
        Open a new session when one ends; otherwise the first end is the end.
    retries : int, optional
        Failed attempts in a row before giving up (None: no limit). With a limit (and
        ``reconnect``), a source that gives no audio in its first session is tried again too,
        that many times, with ``waiting`` notices; without one, it is an error at once (a
        wrong address must not be tried forever).
    backoff : Backoff
    sleep : callable
    errors : tuple of exception types
        Raised by a session when it breaks: the reason for reconnecting (when not reconnecting,
        raised again once the source was connected).

    Raises
    ------
    InputFileError
        The source cannot be opened (its first session gave no audio and it is not to be tried
        again, or ``retries`` more attempts gave none either), or ``retries`` attempts in a row
        failed after it was lost.
    """
    connected_once = False
    attempt = 0
    while True:
        got = False
        why = None
        session = open_session()
        try:
            while True:
                try:
                    y = next(session)
                except StopIteration as stop:
                    why = stop.value
                    break
                if not got:
                    got = connected_once = True
                    attempt = 0
                    yield SourceNotice("connected", f"receiving audio from {display_path(name)}")
                if y.size:
                    yield y
        except errors as exc:
            if connected_once and not reconnect:
                raise
            why = " ".join(str(getattr(exc, "message", exc)).split()) or type(exc).__name__
        finally:
            session.close()
        if not connected_once:
            why = why or "no audio in it"
            if not reconnect or retries is None or attempt >= retries:
                tried = (f"; gave up after {attempt} more attempt{'' if attempt == 1 else 's'}"
                         if attempt else "")
                raise InputFileError(f"cannot be opened ({why}){tried}", path=name)
            attempt += 1
            delay = backoff.delay(attempt)
            yield SourceNotice("waiting", why, retry_in=delay, attempt=attempt)
            sleep(delay)
            continue
        if not reconnect:
            yield SourceNotice("ended", why or "end of the input")
            return
        attempt += 1
        if retries is not None and attempt > retries:
            raise InputFileError(f"stream lost ({why or 'it ended'}); gave up after {retries} "
                                 f"reconnection attempt{'' if retries == 1 else 's'}", path=name)
        delay = backoff.delay(attempt)
        kind = "lost" if got or attempt == 1 else "retry failed"
        yield SourceNotice(kind, why or "the stream ended", retry_in=delay, attempt=attempt)
        sleep(delay)
