"""Listening to a live source: what ``cryvideo listen`` runs, callable from Python.

:func:`run_listener` is the loop: the source's sample blocks go through a
:class:`~cryvideo.detection.live.LiveDetector`; each ``cry started`` runs the ``on_cry`` command
(:class:`~cryvideo.detection.alerts.CommandAlert`) and opens a FLAC recording
(:class:`~cryvideo.media.recorder.StreamRecorder`), each ``cry stopped`` saves it. It goes on
until the source ends, or Ctrl-C / SIGTERM stops it: the block being processed is finished
first, the open episode is closed (``reason: stopped``) and its recording saved.
:func:`listen` does the whole of it from :class:`~.listen_settings.ListenSettings`: checks,
detector, source, loop.

What happens is handed, as it happens, to an ``output`` callback, one item at a time
(:mod:`.listen_reports`): ``cryvideo listen`` prints them; a notebook can keep them
(``output=items.append``).
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from ..errors import CryVideoError, display_path
from .listen_reports import Heard, Listening, ListenOutcome, Note, Stopping, StreamStatus
from .listen_settings import ListenSettings
from .live import STARTED, CryEvent, LiveDetector

__all__ = ["listen", "run_listener", "ListenOutcome", "Listening", "Heard", "StreamStatus",
           "Note", "Stopping", "FINAL_WAIT", "limit_blas_threads"]

#: Seconds the ``on_cry`` commands still running get at the end of the input.
FINAL_WAIT = 10.0


# -- signals -------------------------------------------------------------------------------------
class _Terminated(BaseException):
    """SIGTERM: stop listening (a clean stop)."""


class _Signals:
    """SIGINT and SIGTERM handlers that stop the loop without tearing a block in half.

    While a block is being processed (``busy``) a signal only sets ``requested``; the loop
    stops after the block. While the loop waits for audio, the signal raises at once
    (KeyboardInterrupt or :class:`_Terminated`), which ends the source and its ffmpeg. Outside
    the main thread, or when not ``enabled``, the handlers are left as they are.
    """

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.busy = False
        self.requested: int | None = None
        self._saved: dict = {}

    def _exception(self, signum: int) -> BaseException:
        return KeyboardInterrupt() if signum == signal.SIGINT else _Terminated()

    def _handler(self, signum, frame) -> None:
        if self.requested is None:
            self.requested = signum
        if not self.busy:
            self.busy = True           # a second signal during the clean-up waits for it
            raise self._exception(signum)

    def check(self) -> None:
        if self.requested is not None:
            raise self._exception(self.requested)

    def __enter__(self) -> _Signals:
        for sig in (signal.SIGINT, signal.SIGTERM) if self.enabled else ():
            try:
                self._saved[sig] = signal.signal(sig, self._handler)
            except ValueError:  # not the main thread: leave the defaults
                pass
        return self

    def __exit__(self, *exc) -> None:
        for sig, old in self._saved.items():
            signal.signal(sig, old)


@contextlib.contextmanager
def limit_blas_threads(threads: int | None):
    """BLAS on ``threads`` threads within the block (None: as they are).

    Listening uses 1: the front end's small matrix products gain nothing from more, and idle
    OpenBLAS threads spin after each one (a tenth of a core, measured).

    Examples
    --------
    >>> with limit_blas_threads(1):
    ...     pass    # NumPy's matrix products run on one thread here
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency of scikit-learn
        threads = None
    if threads is None:
        yield
        return
    with threadpool_limits(limits=threads, user_api="blas"):
        yield


# -- the loop ------------------------------------------------------------------------------------
class _Session:
    """One listening session: the detector's state, the recorder, the alert and what they
    reported."""

    def __init__(self, settings: ListenSettings, detector, source, output, clock) -> None:
        from ..media.recorder import StreamRecorder
        from .alerts import CommandAlert

        self.live = LiveDetector(detector, window=settings.window,
                                 onset_threshold=settings.onset_threshold,
                                 stop_after=settings.stop_after, clock=clock)
        self.name = source.name
        self.clock = clock
        self._output = output
        self.recorder = (StreamRecorder(settings.record, sr=self.live.sr,
                                        preroll=settings.preroll)
                         if settings.record else None)
        self.alert = (CommandAlert(settings.on_cry, source=self.name, cooldown=settings.cooldown)
                      if settings.on_cry else None)
        self.events: list[CryEvent] = []
        self.recordings: list[Path] = []

    def output(self, item) -> None:
        if self._output is not None:
            self._output(item)

    def note(self, message: str) -> None:
        self.output(Note(message))

    def emit(self, events: Iterable[CryEvent]) -> None:
        """Alerts and recordings for the events, then the events."""
        for ev in events:
            saved = None
            if ev.event == STARTED:
                if self.alert is not None and (msg := self.alert.handle(ev)):
                    self.note(msg)
                if self.recorder is not None:
                    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(ev.wall_time))
                    try:
                        self.recorder.start(f"cry-{stamp}-episode{ev.episode}.flac",
                                            ev.stream_time)
                    except CryVideoError as exc:
                        self.note(f"{exc}; listening goes on without recording")
            elif self.recorder is not None:
                try:
                    saved = self.recorder.stop()
                except CryVideoError as exc:
                    self.note(f"{exc}; listening goes on")
            self.events.append(ev)
            if saved is not None:
                self.recordings.append(saved)
            self.output(Heard(ev, self.name, saved))

    def take(self, item) -> None:
        """One item of the source: a block of samples, or a notice."""
        from ..media.live_source import SourceNotice

        if isinstance(item, SourceNotice):
            self.notice(item)
        else:
            if self.recorder is not None:
                try:
                    self.recorder.push(item)
                except CryVideoError as exc:
                    self.note(f"{exc}; listening goes on without recording")
            self.emit(self.live.push(item))
        if self.alert is not None:
            for msg in self.alert.poll():
                self.note(msg)

    def status(self, kind: str, message: str, item=None) -> None:
        retry = {} if item is None else {"retry_in": item.retry_in, "attempt": item.attempt}
        self.output(StreamStatus(kind, message, self.name, self.live.position, self.clock(),
                                 **retry))

    def notice(self, item) -> None:
        live = self.live
        if item.kind == "connected":
            again = "" if live.samples_in == 0 else f" again at stream {live.position:.1f} s"
            self.status("connected", item.message + again)
        elif item.kind in ("lost", "retry failed"):
            if item.kind == "lost":
                self.emit(live.interrupt("stream lost"))
                if self.recorder is not None:
                    self.recorder.reset()
            self.status("lost", f"stream lost ({item.message}); reconnecting in "
                        f"{item.retry_in:g} s (attempt {item.attempt})", item)
        elif item.kind == "waiting":
            self.status("waiting", f"cannot open {display_path(self.name)} yet "
                        f"({item.message}); trying again in {item.retry_in:g} s (attempt "
                        f"{item.attempt})", item)
        elif item.kind == "ended":
            self.status("ended", f"{item.message}")

    def close(self, reason: str) -> None:
        """Stop the open episode (saving its recording), drop an unfinished recording, give
        running commands their time (:data:`FINAL_WAIT` at the end of the input)."""
        with contextlib.suppress(BrokenPipeError):
            self.emit(self.live.finish(reason))
        if self.recorder is not None:
            self.recorder.abort()      # only an unfinished one (emit saved the open episode)
        if self.alert is not None:
            for msg in self.alert.close(wait=FINAL_WAIT if reason == "end of stream" else 0.0):
                self.note(msg)


def run_listener(settings: ListenSettings, detector, source, *,
                 output: Callable[[object], None] | None = None, handle_signals: bool = True,
                 clock: Callable[[], float] = time.time) -> ListenOutcome:
    """Listen to ``source`` with ``detector`` until the source ends or a signal stops it.

    Parameters
    ----------
    settings : ListenSettings
        Its ``window``, ``onset_threshold``, ``stop_after``, ``on_cry``, ``cooldown``,
        ``record``, ``preroll`` and ``blas_threads`` apply here; the detector and the source
        were made with the others (:func:`~.listen_settings.load_live_detector`,
        :func:`~.listen_settings.open_source`).
    detector : PatchDetector
        Built with ``batch=1`` (see :class:`~cryvideo.detection.live.LiveDetector`).
    source : iterable
        Yields blocks of mono float samples at the detector's rate and
        :class:`~cryvideo.media.live_source.SourceNotice` items; has a ``name``.
    output : callable, optional
        Called with each item (:class:`Listening`, :class:`Heard`, :class:`StreamStatus`,
        :class:`Note`, :class:`Stopping`) as it happens.
    handle_signals : bool
        Stop cleanly on SIGINT and SIGTERM (main thread only; the handlers are put back).
    clock : callable
        Wall clock stamped on events and statuses.

    Returns
    -------
    ListenOutcome
        Also when Ctrl-C stopped it (``signal == "SIGINT"``): the open episode was closed and
        its recording saved; re-raise :class:`KeyboardInterrupt` if the caller should stop too.

    Raises
    ------
    CryVideoError
        From the source (it cannot be opened, or was lost for good), after the open episode
        was closed (``reason: stream lost``) and its recording saved.

    Examples
    --------
    >>> from cryvideo.detection.listen_settings import (ListenSettings, load_live_detector,
    ...                                                 open_source)
    >>> settings = ListenSettings(source="night.wav", record="cries")    # doctest: +SKIP
    >>> detector, _ = load_live_detector(settings)                        # doctest: +SKIP
    >>> source = open_source(settings, sr=detector.frontend.sr)           # doctest: +SKIP
    >>> run_listener(settings, detector, source, output=print).recordings  # doctest: +SKIP
    (PosixPath('cries/cry-20260101-031502-episode1.flac'),)
    """
    session = _Session(settings, detector, source, output, clock)
    live = session.live
    session.output(Listening(session.name, detector.card.name, live.threshold, live.window,
                             live.stop_after, live.onset_threshold))
    reason, stopped_by = "stream lost", None   # unless the loop ends otherwise (a source error)
    with _Signals(enabled=handle_signals) as sig, limit_blas_threads(settings.blas_threads):
        try:
            try:
                for item in source:
                    sig.busy = True
                    session.take(item)
                    sig.busy = False
                    sig.check()
                reason = "end of stream"
            except _Terminated:
                reason, stopped_by = "stopped", "SIGTERM"
                session.output(Stopping(stopped_by))
            except KeyboardInterrupt:
                reason, stopped_by = "stopped", "SIGINT"
                session.output(Stopping(stopped_by))
        finally:
            sig.busy = True
            session.close(reason)
    return ListenOutcome(reason, stopped_by, tuple(session.events), tuple(session.recordings))


def listen(settings: ListenSettings, *, output: Callable[[object], None] | None = None,
           handle_signals: bool = True) -> ListenOutcome:
    """Listen as ``settings`` say: check them, load the detector, open the source, run
    :func:`run_listener`.

    Everything is checked before the model loads (:meth:`ListenSettings.check_files`). A note
    on where the model was found comes first, as a :class:`Note`.

    Parameters
    ----------
    settings : ListenSettings
    output : callable, optional
        Called with each item as it happens (see :func:`run_listener`).
    handle_signals : bool
        Stop cleanly on SIGINT and SIGTERM.

    Returns
    -------
    ListenOutcome

    Raises
    ------
    CryVideoError
        A bad file or model (before anything is listened to); a source that cannot be opened
        or is lost for good.

    Examples
    --------
    A file, as fast as it decodes, keeping the events and recordings:

    >>> from cryvideo.detection.listen_settings import ListenSettings
    >>> from cryvideo.detection.listening import Heard, listen
    >>> items = []
    >>> outcome = listen(ListenSettings(source="night.wav", record="cries"),
    ...                  output=items.append)                          # doctest: +SKIP
    >>> [(e.event, round(e.stream_time, 1)) for e in outcome.events]    # doctest: +SKIP
    [('cry started', 4.3), ('cry stopped', 9.6)]
    >>> [h.recording for h in items if isinstance(h, Heard) and h.recording]  # doctest: +SKIP
    [PosixPath('cries/cry-20260101-031502-episode1.flac')]
    """
    from .listen_settings import load_live_detector, open_source

    settings.check_files()
    detector, note = load_live_detector(settings)
    if note and output is not None:
        output(Note(note))
    source = open_source(settings, sr=detector.frontend.sr)
    return run_listener(settings, detector, source, output=output,
                        handle_signals=handle_signals)
