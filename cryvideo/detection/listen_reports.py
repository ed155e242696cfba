"""What listening reports (:mod:`cryvideo.detection.listening`), one item at a time, to its
``output`` callback, and how it ended.

* :class:`Listening` — first: what is listened to, with which detector and decision;
* :class:`Heard` — a cry event, with the recording a ``cry stopped`` saved;
* :class:`StreamStatus` — the source connected, was lost, is awaited, or ended;
* :class:`Note` — something that did not happen (a recording, an ``on_cry`` run); listening
  goes on;
* :class:`Stopping` — a signal stopped listening (the open episode's stop comes next);
* :class:`ListenOutcome` — what :func:`~cryvideo.detection.listening.run_listener` returns.

``Heard`` and ``StreamStatus`` give their JSON-ready records (``to_dict``): the lines of
``cryvideo listen --json``.

Examples
--------
>>> from cryvideo.detection.listen_reports import Heard
>>> from cryvideo.detection.live import STARTED, CryEvent
>>> ev = CryEvent(event=STARTED, episode=1, stream_time=4.3, detected_at=5.9,
...               probability=0.61, peak=0.61, wall_time=0.0)
>>> rec = Heard(ev, "standard input").to_dict()
>>> rec["event"], rec["stream_time"], rec["source"]
('cry started', 4.3, 'standard input')
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from .live import STOPPED, CryEvent, iso_time

__all__ = ["Listening", "Heard", "StreamStatus", "Note", "Stopping", "ListenOutcome"]


@dataclasses.dataclass(frozen=True)
class Listening:
    """Listening begins: the source's name, the detector card's name and the decision
    (``onset_threshold`` None: the onset rule is off)."""

    source: str
    detector: str
    threshold: float
    window: int
    stop_after: float
    onset_threshold: float | None = None


@dataclasses.dataclass(frozen=True)
class Heard:
    """A cry event on ``source``; for a ``cry stopped``, the recording it saved (None when not
    recording, or when the recording failed)."""

    event: CryEvent
    source: str
    recording: Path | None = None

    def to_dict(self) -> dict:
        """The JSON-ready record: the event's, with ``source`` (and ``recording`` on a stop)."""
        d = dict(self.event.to_dict(), source=self.source)
        if self.event.event == STOPPED:
            d["recording"] = None if self.recording is None else str(self.recording)
        return d


@dataclasses.dataclass(frozen=True)
class StreamStatus:
    """What happened to the source.

    Attributes
    ----------
    kind : {"connected", "lost", "waiting", "ended"}
        ``lost`` also when a reconnection attempt failed; ``waiting``: it could not be opened
        yet and will be tried again.
    message : str
        For people.
    source : str
    stream_time : float
        The stream clock (seconds of audio so far).
    wall_time : float
        Seconds since the epoch.
    retry_in : float, optional
        ``lost`` and ``waiting``: seconds until the next attempt.
    attempt : int, optional
        ``lost`` and ``waiting``: the attempt number.
    """

    kind: str
    message: str
    source: str
    stream_time: float
    wall_time: float
    retry_in: float | None = None
    attempt: int | None = None

    def to_dict(self) -> dict:
        """The JSON-ready record (``retry_in`` and ``attempt`` for ``lost`` and ``waiting``)."""
        d = {"event": self.kind, "wall_time": iso_time(self.wall_time),
             "stream_time": round(self.stream_time, 3), "source": self.source,
             "message": self.message}
        if self.kind in ("lost", "waiting"):
            d.update(retry_in=self.retry_in, attempt=self.attempt)
        return d


@dataclasses.dataclass(frozen=True)
class Note:
    """Something that did not happen (a recording, an ``on_cry`` run); listening goes on."""

    message: str


@dataclasses.dataclass(frozen=True)
class Stopping:
    """A signal stopped listening: ``"SIGINT"`` (Ctrl-C) or ``"SIGTERM"``."""

    signal: str


@dataclasses.dataclass(frozen=True)
class ListenOutcome:
    """How listening ended.

    Attributes
    ----------
    reason : {"end of stream", "stopped"}
        The source ended, or a signal stopped it.
    signal : {"SIGINT", "SIGTERM"} or None
        The signal that stopped it.
    events : tuple of CryEvent
        Every cry event, in order.
    recordings : tuple of Path
        The recordings saved, in order.
    """

    reason: str
    signal: str | None
    events: tuple[CryEvent, ...]
    recordings: tuple[Path, ...]
