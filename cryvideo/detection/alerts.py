"""Running a command when crying starts (``cryvideo listen --on-cry CMD``).

:class:`CommandAlert` runs a shell command once per episode (at its ``cry started`` event), with
the event's details in environment variables, never twice within ``cooldown`` seconds of stream
time. The command runs in the background, in its own process group: a slow notification never
holds up listening, a command that runs too long is killed, and :meth:`CommandAlert.close`
leaves no process behind.

Environment of the command (beside the inherited one):

======================  =====================================================================
``CRYVIDEO_EVENT``       ``cry started``
``CRYVIDEO_EPISODE``     episode number (1, 2, …)
``CRYVIDEO_STREAM_TIME`` estimated onset, seconds of stream
``CRYVIDEO_DETECTED_AT`` stream time when the start was decided
``CRYVIDEO_PROBABILITY`` the window score (onset rule: the patch's) that started it
``CRYVIDEO_WALL_TIME``   when, ISO 8601 with the time zone
``CRYVIDEO_SOURCE``      what is being listened to
``CRYVIDEO_EVENT_JSON``  the whole event as one JSON object
======================  =====================================================================
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time

from ..errors import ParameterError
from .live import STARTED, CryEvent

__all__ = ["CommandAlert", "COOLDOWN", "COMMAND_TIMEOUT"]

#: Seconds of stream after a command ran during which a new episode runs none.
COOLDOWN = 60.0
#: Seconds a command may run before it is killed.
COMMAND_TIMEOUT = 60.0
#: Seconds between SIGTERM and SIGKILL when a command is stopped.
KILL_GRACE = 2.0


def command_env(event: CryEvent, source: str) -> dict[str, str]:
    """The ``CRYVIDEO_*`` variables for ``event``."""
    d = event.to_dict()
    return {"CRYVIDEO_EVENT": event.event, "CRYVIDEO_EPISODE": str(event.episode),
            "CRYVIDEO_STREAM_TIME": f"{event.stream_time:.3f}",
            "CRYVIDEO_DETECTED_AT": f"{event.detected_at:.3f}",
            "CRYVIDEO_PROBABILITY": f"{event.probability:.4f}",
            "CRYVIDEO_WALL_TIME": d["wall_time"], "CRYVIDEO_SOURCE": source,
            "CRYVIDEO_EVENT_JSON": json.dumps(dict(d, source=source), ensure_ascii=False)}


class CommandAlert:
    """A shell command run for each crying episode.

    Parameters
    ----------
    command : str
        Run by the shell (``/bin/sh -c`` on POSIX).
    source : str
        Passed as ``CRYVIDEO_SOURCE``.
    cooldown : float
        Seconds of stream after a run during which new episodes run nothing.
    timeout : float
        Seconds (wall clock) after which a running command is killed.
    stdout : int or file, optional
        Where the command's output goes (default: this process's stderr, so that a JSON
        stdout stays clean).
    """

    def __init__(self, command: str, *, source: str, cooldown: float = COOLDOWN,
                 timeout: float = COMMAND_TIMEOUT, stdout=None) -> None:
        if not command.strip():
            raise ParameterError("the --on-cry command is empty")
        if not cooldown >= 0 or not timeout > 0:
            raise ParameterError("cooldown must be >= 0 and timeout > 0")
        self.command = command
        self.source = source
        self.cooldown = float(cooldown)
        self.timeout = float(timeout)
        self.stdout = stdout
        self.runs = 0
        self._last: float | None = None               # stream time of the last run
        self._running: list[tuple[subprocess.Popen, float, int]] = []

    def handle(self, event: CryEvent) -> str | None:
        """Run the command for a ``cry started`` event unless within the cooldown.

        Returns
        -------
        str or None
            A note for the user when the command was not run (cooldown) or could not start.
        """
        if event.event != STARTED:
            return None
        if self._last is not None and event.detected_at - self._last < self.cooldown:
            return (f"--on-cry not run for episode {event.episode}: within the "
                    f"{self.cooldown:g} s cooldown")
        self._last = event.detected_at
        env = dict(os.environ, **command_env(event, self.source))
        out = self.stdout if self.stdout is not None else 2
        try:
            proc = subprocess.Popen(self.command, shell=True, env=env, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=out, start_new_session=os.name == "posix")
        except OSError as exc:
            return f"--on-cry command could not start ({exc.strerror or exc})"
        self.runs += 1
        self._running.append((proc, time.monotonic(), event.episode))
        return None

    def poll(self) -> list[str]:
        """Reap finished commands, kill those past the timeout; notes on failures."""
        notes, still = [], []
        for proc, t0, episode in self._running:
            rc = proc.poll()
            if rc is None and time.monotonic() - t0 > self.timeout:
                self._kill(proc)
                notes.append(f"--on-cry command of episode {episode} ran over "
                             f"{self.timeout:g} s and was stopped")
            elif rc is None:
                still.append((proc, t0, episode))
            elif rc != 0:
                notes.append(f"--on-cry command of episode {episode} exited with status {rc}")
        self._running = still
        return notes

    @property
    def running(self) -> int:
        return len(self._running)

    def close(self, *, wait: float = 0.0) -> list[str]:
        """Give running commands up to ``wait`` seconds, then stop them (and their children)."""
        deadline = time.monotonic() + max(0.0, wait)
        notes = []
        for proc, _, episode in self._running:
            try:
                rc = proc.wait(timeout=max(0.0, deadline - time.monotonic()))
                if rc != 0:
                    notes.append(f"--on-cry command of episode {episode} exited with status "
                                 f"{rc}")
            except subprocess.TimeoutExpired:
                self._kill(proc)
                notes.append(f"--on-cry command of episode {episode} was still running and "
                             "was stopped")
        self._running = []
        return notes

    @staticmethod
    def _kill(proc: subprocess.Popen) -> None:
        """SIGTERM the command's process group, SIGKILL it after a grace, reap the shell."""
        def signal_group(sig) -> None:
            with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
                if os.name == "posix":
                    os.killpg(proc.pid, sig)
                else:  # pragma: no cover - no process groups
                    proc.send_signal(sig)

        signal_group(signal.SIGTERM)
        try:
            proc.wait(timeout=KILL_GRACE)
        except subprocess.TimeoutExpired:
            pass
        signal_group(getattr(signal, "SIGKILL", signal.SIGTERM))
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=KILL_GRACE)
