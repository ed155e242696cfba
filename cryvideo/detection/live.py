"""Live cry detection: audio blocks in, ``cry started`` / ``cry stopped`` events out.

:class:`LiveDetector` cuts the incoming 16 kHz samples into YAMNet patches as they complete
(:class:`~cryvideo.detection.stream.PatchStream`), scores each patch with the detector's model,
smooths the probabilities into window scores (:class:`~cryvideo.detection.stream.WindowStream`,
the moving mean ``cryvideo detect`` uses) and runs a hysteresis state machine over them:

* **start** — an episode starts at the first window whose score reaches the threshold
  (the *window rule*) or, when an ``onset_threshold`` is set, at the first single patch whose
  probability reaches it (the *onset rule*: strong evidence from 0.96 s of audio, without
  waiting for a whole window; the card's ``onset_threshold``, chosen on a validation split,
  is the default);
* **stop** — it stops once the window scores have stayed below the threshold for
  ``stop_after`` seconds (pauses for breath do not split an episode); a lost stream or the end
  of the input also stop it, with their reason. Only the window rule decides a stop.

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
           "RULES", "iso_time"]

#: Seconds the window scores must stay below the threshold before an episode stops.
STOP_AFTER = 5.0
#: Event names.
STARTED, STOPPED = "cry started", "cry stopped"
#: Why an episode stopped: it went quiet, the stream was lost, the input ended, or the
#: listener was stopped (Ctrl-C, SIGTERM).
STOP_REASONS = ("quiet", "stream lost", "end of stream", "stopped")
#: Which rule started an episode: a window score reached the threshold, or a single patch
#: reached the onset threshold.
RULES = ("window", "onset")


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
        first patch at or above the threshold in the window that started the episode (the
        start of the patch itself when the onset rule started it), or the end of the last such
        patch.
    detected_at : float
        Stream position (seconds) when the event was decided: ``detected_at - stream_time``
        is the audio the decision needed.
    probability : float
        The window score that decided the event (for a stop: the last window's); for a start
        by the onset rule, the probability of the patch that decided it.
    peak : float
        Highest window score of the episode so far (an onset-rule start counts its patch's
        probability too).
    wall_time : float
        When the event was emitted (seconds since the epoch).
    start : float, optional
        Stop events: the episode's ``stream_time`` at its start.
    reason : str, optional
        Stop events: one of :data:`STOP_REASONS`.
    rule : str
        The rule that started the episode, one of :data:`RULES` (on its start and its stop).
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
    rule: str = "window"

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
             "peak": round(float(self.peak), 4), "rule": self.rule}
        if self.event == STOPPED:
            d.update(start=round(self.start, 3), duration=round(self.duration, 3),
                     reason=self.reason)
        return d

    def describe(self) -> str:
        """One human-readable line."""
        wall = _dt.datetime.fromtimestamp(self.wall_time).strftime("%Y-%m-%d %H:%M:%S")
        head = f"{wall}  {self.event:<11}  episode {self.episode}  stream {self.stream_time:.1f} s"
        if self.event == STARTED:
            how = "  (one strong patch)" if self.rule == "onset" else ""
            return f"{head}  score {self.probability:.2f}{how}"
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
    onset_threshold : float, optional
        The onset rule: while no episode is open, a single patch whose probability reaches it
        starts one at once, at that patch's start (the window rule starts episodes too, and
        alone stops them). Default: the detector's ``onset_threshold`` (its card's; None, the
        rule off, when the card has none). 1 turns the rule off (the value
        :func:`cryvideo.training.yamnet_cry.onset_threshold` gives when no threshold is as
        safe as the window rule).
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
        A threshold or onset threshold outside [0, 1], a window below 1, or ``stop_after`` not
        above 0.
    """

    def __init__(self, detector, *, threshold: float | None = None,
                 onset_threshold: float | None = None, window: int | None = None,
                 stop_after: float = STOP_AFTER, clock: Callable[[], float] = time.time) -> None:
        thr = float(detector.threshold if threshold is None else threshold)
        if not 0.0 <= thr <= 1.0:
            raise ParameterError(f"threshold must be in [0, 1], got {thr:g}")
        onset = getattr(detector, "onset_threshold", None) if onset_threshold is None \
            else onset_threshold
        if onset is not None:
            onset = float(onset)
            if not 0.0 <= onset <= 1.0:      # also NaN
                raise ParameterError(f"onset_threshold must be in [0, 1], got {onset:g}")
        win = int(detector.window if window is None else window)
        if win < 1:
            raise ParameterError(f"window must be at least 1 patch, got {win}")
        if not (math.isfinite(stop_after) and stop_after > 0):
            raise ParameterError(f"stop_after must be a number of seconds above 0, got "
                                 f"{stop_after:g}")
        self.frontend = detector.frontend
        self.model = detector.model
        self.threshold = thr
        #: The onset rule's threshold; None: the rule is off.
        self.onset_threshold = None if onset is None or onset >= 1.0 else onset
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
        n0 = self._n_patches                         # stretch index of probs[0]
        first = n0 - self._tail.size                 # stretch index of seq[0]
        seq = np.concatenate([self._tail, probs])
        self._n_patches += probs.size
        self._tail = seq[-(self.window - 1):] if self.window > 1 else np.zeros(0)
        starts, scores, _ = self._ws.push(probs)
        ks = [int(round(s / self.hop)) for s in starts]  # first patch of each new window
        events, w = [], 0
        # patch by patch: the windows this patch completes, then the onset rule on the patch
        for j in range(n0, n0 + probs.size):
            while w < len(ks) and ks[w] + self.window - 1 == j:
                k = ks[w]
                ev = self._step(k, seq[k - first:k - first + self.window], float(scores[w]))
                if ev is not None:
                    events.append(ev)
                w += 1
            if self._open is None and self.onset_threshold is not None and \
                    probs[j - n0] >= self.onset_threshold:
                events.append(self._onset(j, float(probs[j - n0])))
        assert w == len(ks), "every new window ends at a new patch"
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
                        peak=float(ep["peak"]), wall_time=self.clock(), rule=ep["rule"], **kw)

    def _onset(self, j: int, prob: float) -> CryEvent:
        """The onset rule: patch ``j`` alone (probability ``prob``) starts an episode. The stop
        clock runs as if the window ending at patch ``j`` had reached the threshold."""
        self.episodes += 1
        self._open = ep = {"episode": self.episodes, "start": self._patch_start(j),
                           "peak": prob, "last_window": j - self.window + 1, "last_patch": j,
                           "score": prob, "rule": "onset"}
        return self._event(STARTED, ep["start"], prob)

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
                                   "score": score, "rule": "window"}
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
