"""Live cry detection: audio blocks in, ``cry started`` / ``cry stopped`` events out.

:class:`LiveDetector` cuts the incoming 16 kHz samples into YAMNet patches as they complete
(:class:`~cryvideo.detection.stream.PatchStream`), scores each patch with the detector's model,
smooths the probabilities into window scores (:class:`~cryvideo.detection.stream.WindowStream`,
the moving mean ``cryvideo detect`` uses) and runs a hysteresis state machine over them:

* **start** — an episode starts at the first window whose score reaches the threshold;
* **stop** — it stops once the window scores have stayed below the threshold for
  ``stop_after`` seconds (pauses for breath do not split an episode); a lost stream or the end
  of the input also stop it, with their reason.

Every time is *stream time*: seconds of audio pushed since the detector was made (a gap while a
stream was disconnected is not counted). Memory stays flat: only the samples the next patch
needs and the last window's patch probabilities are kept.

Use from Python::

    from cryvideo.detection.patch_detector import PatchDetector
    from cryvideo.detection.live import LiveDetector
    from cryvideo.media.live_source import FFmpegLiveSource

    live = LiveDetector(PatchDetector("saved_models/cry_detector_yamnet_int8.tflite", batch=1))
    for block in FFmpegLiveSource("rtsp://camera/stream"):
        if isinstance(block, np.ndarray):
            for event in live.push(block):
                print(event.describe())
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import time
from collections.abc import Callable

import numpy as np

from ..errors import ParameterError
from .stream import PatchStream, WindowStream

__all__ = ["CryEvent", "LiveDetector", "STOP_AFTER", "STARTED", "STOPPED", "STOP_REASONS",
           "iso_time"]

#: Seconds the window scores must stay below the threshold before an episode stops.
STOP_AFTER = 5.0
#: Event names.
STARTED, STOPPED = "cry started", "cry stopped"
#: Why an episode stopped: it went quiet, the stream was lost, the input ended, or the
#: listener was stopped (Ctrl-C, SIGTERM).
STOP_REASONS = ("quiet", "stream lost", "end of stream", "stopped")


def iso_time(ts: float) -> str:
    """``ts`` (seconds since the epoch) in ISO 8601, local time with its zone, to the
    millisecond: the ``wall_time`` of every record."""
    return _dt.datetime.fromtimestamp(ts).astimezone().isoformat(timespec="milliseconds")


@dataclasses.dataclass(frozen=True)
class CryEvent:
    """A ``cry started`` or ``cry stopped`` event.

    Attributes
    ----------
    event : {"cry started", "cry stopped"}
    episode : int
        1 for the first episode, then 2, …
    stream_time : float
        Estimated onset (start) or end (stop) of the crying, seconds of stream: the start of the
        first patch at or above the threshold in the window that started the episode, or the
        end of the last such patch.
    detected_at : float
        Stream position (seconds) when the event was decided: ``detected_at - stream_time``
        is the audio the decision needed.
    probability : float
        The window score that decided the event (for a stop: the last window's).
    peak : float
        Highest window score of the episode so far.
    wall_time : float
        When the event was emitted (seconds since the epoch).
    start : float, optional
        Stop events: the episode's ``stream_time`` at its start.
    reason : str, optional
        Stop events: one of :data:`STOP_REASONS`.
    """

    event: str
    episode: int
    stream_time: float
    detected_at: float
    probability: float
    peak: float
    wall_time: float
    start: float | None = None
    reason: str | None = None

    @property
    def duration(self) -> float | None:
        """Seconds of crying (stop events)."""
        return None if self.start is None else max(0.0, self.stream_time - self.start)

    def to_dict(self) -> dict:
        """The event as a JSON-ready dict (times rounded to milliseconds)."""
        d = {"event": self.event, "episode": self.episode,
             "wall_time": iso_time(self.wall_time), "stream_time": round(self.stream_time, 3),
             "detected_at": round(self.detected_at, 3),
             "probability": round(float(self.probability), 4),
             "peak": round(float(self.peak), 4)}
        if self.event == STOPPED:
            d.update(start=round(self.start, 3), duration=round(self.duration, 3),
                     reason=self.reason)
        return d

    def describe(self) -> str:
        """One human-readable line."""
        wall = _dt.datetime.fromtimestamp(self.wall_time).strftime("%Y-%m-%d %H:%M:%S")
        head = f"{wall}  {self.event:<11}  episode {self.episode}  stream {self.stream_time:.1f} s"
        if self.event == STARTED:
            return f"{head}  score {self.probability:.2f}"
        from ..media.probe import format_duration

        return (f"{head}  lasted {format_duration(self.duration)}  peak score {self.peak:.2f}  "
                f"({self.reason})")


class LiveDetector:
    """The cry state machine over a stream of samples.

    Parameters
    ----------
    detector : PatchDetector
        Gives ``frontend``, ``model`` (patches → probabilities), ``window`` and ``threshold``.
        Build it with ``batch=1``: live audio completes one patch per hop, and a batched model
        pads every call to its batch.
    threshold : float, optional
        Overrides the detector's threshold.
    window : int, optional
        Patches in the moving mean (default: the detector's, from its card); fewer patches
        react sooner and are fooled more easily by a short sound.
    stop_after : float
        Seconds below the threshold that end an episode (> 0).
    clock : callable
        Wall clock (seconds since the epoch) stamped on events.

    Raises
    ------
    ParameterError
        A threshold outside [0, 1], a window below 1, or ``stop_after`` not above 0.
    """

    def __init__(self, detector, *, threshold: float | None = None, window: int | None = None,
                 stop_after: float = STOP_AFTER, clock: Callable[[], float] = time.time) -> None:
        thr = float(detector.threshold if threshold is None else threshold)
        if not 0.0 <= thr <= 1.0:
            raise ParameterError(f"threshold must be in [0, 1], got {thr:g}")
        win = int(detector.window if window is None else window)
        if win < 1:
            raise ParameterError(f"window must be at least 1 patch, got {win}")
        if not (math.isfinite(stop_after) and stop_after > 0):
            raise ParameterError(f"stop_after must be a number of seconds above 0, got "
                                 f"{stop_after:g}")
        self.frontend = detector.frontend
        self.model = detector.model
        self.threshold = thr
        self.window = win
        self.stop_after = float(stop_after)
        self.clock = clock
        self.sr = self.frontend.sr
        self.hop = self.frontend.hop_seconds
        self.patch_seconds = self.frontend.patch_seconds
        self.samples_in = 0          # samples pushed, over every stretch
        self.episodes = 0
        self._open: dict | None = None
        self._restart()

    # -- state ---------------------------------------------------------------------------------
    def _restart(self) -> None:
        """Start a new stretch of continuous audio at the current position."""
        self._ps = PatchStream(self.frontend)
        self._ws = WindowStream(window=self.window, threshold=self.threshold,
                                frontend=self.frontend)
        self._origin = self.samples_in / self.sr     # stream time of this stretch's sample 0
        self._tail = np.zeros(0)                     # the last window - 1 patch probabilities
        self._n_patches = 0                          # patches of this stretch scored so far

    @property
    def position(self) -> float:
        """Seconds of audio pushed so far (the stream clock)."""
        return self.samples_in / self.sr

    @property
    def crying(self) -> bool:
        """Whether an episode is open."""
        return self._open is not None

    # -- input ---------------------------------------------------------------------------------
    def push(self, samples: np.ndarray) -> list[CryEvent]:
        """Add the next samples of the stream; return the events they decide.

        Parameters
        ----------
        samples : np.ndarray [shape=(n,)]
            Mono float samples at the detector's rate (16 kHz), following the previous ones.

        Returns
        -------
        list of CryEvent
        """
        y = np.asarray(samples, dtype=np.float32).reshape(-1)
        pats = self._ps.push(y)
        self.samples_in += y.size
        if not len(pats):
            return []
        probs = np.asarray(self.model(pats), dtype=np.float64).reshape(-1)
        first = self._n_patches - self._tail.size    # stretch index of seq[0]
        seq = np.concatenate([self._tail, probs])
        self._n_patches += probs.size
        self._tail = seq[-(self.window - 1):] if self.window > 1 else np.zeros(0)
        starts, scores, _ = self._ws.push(probs)
        events = []
        for s, score in zip(starts, scores, strict=True):
            k = int(round(s / self.hop))                 # first patch of this window
            p = seq[k - first:k - first + self.window]
            ev = self._step(k, p, float(score))
            if ev is not None:
                events.append(ev)
        return events

    def interrupt(self, reason: str = "stream lost") -> list[CryEvent]:
        """The stream broke off (the next samples do not follow the last ones): stop an open
        episode with ``reason`` and start afresh at the current position."""
        events = self._close(reason)
        self._restart()
        return events

    def finish(self, reason: str = "end of stream") -> list[CryEvent]:
        """No more audio: stop an open episode with ``reason``."""
        return self._close(reason)

    # -- the state machine ---------------------------------------------------------------------
    def _patch_start(self, k: int) -> float:
        return self._origin + k * self.hop

    def _event(self, kind: str, stream_time: float, score: float, **kw) -> CryEvent:
        ep = self._open
        return CryEvent(event=kind, episode=ep["episode"], stream_time=float(stream_time),
                        detected_at=self.position, probability=float(score),
                        peak=float(ep["peak"]), wall_time=self.clock(), **kw)

    def _step(self, k: int, p: np.ndarray, score: float) -> CryEvent | None:
        """One new window (first patch ``k``, patch probabilities ``p``, score ``score``)."""
        loud = np.flatnonzero(p >= self.threshold)
        ep = self._open
        if score >= self.threshold:
            first = k + int(loud[0]) if loud.size else k
            last = k + int(loud[-1]) if loud.size else k + len(p) - 1
            if ep is None:
                self.episodes += 1
                self._open = ep = {"episode": self.episodes, "start": self._patch_start(first),
                                   "peak": score, "last_window": k, "last_patch": last,
                                   "score": score}
                return self._event(STARTED, ep["start"], score)
            ep["peak"] = max(ep["peak"], score)
            ep["last_window"] = k
            ep["last_patch"] = max(ep["last_patch"], last)
        if ep is not None:
            ep["score"] = score
            if (k - ep["last_window"]) * self.hop >= self.stop_after:
                return self._stop("quiet")
        return None

    def _end_time(self) -> float:
        ep = self._open
        return min(self._patch_start(ep["last_patch"]) + self.patch_seconds, self.position)

    def _stop(self, reason: str) -> CryEvent:
        ep = self._open
        ev = self._event(STOPPED, max(self._end_time(), ep["start"]), ep["score"],
                         start=ep["start"], reason=reason)
        self._open = None
        return ev

    def _close(self, reason: str) -> list[CryEvent]:
        if reason not in STOP_REASONS:
            raise ParameterError(f"unknown stop reason {reason!r}")
        return [] if self._open is None else [self._stop(reason)]
