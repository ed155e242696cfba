"""Tools to check that cryvideo never damages or loses what the user gives.

- :class:`PausedRun`: the real ``cryvideo`` command line in a subprocess that waits at the start
  of a chosen file until it is sent Ctrl-C (SIGINT) or told to go on (SIGUSR1). Interruptions
  and concurrent runs are then tested without any race: the run cannot finish, nor reach the
  next file, before the signal.
- :func:`run_cli_fresh`: ``cryvideo ARGV`` in a fresh interpreter, saying whether TensorFlow was
  imported (a check refused "before any model loads" leaves it unimported).
- :func:`mkv_claiming`: a copy of a Matroska file whose header claims any duration.
- :func:`file_digests`: sha256 of every file under a folder (to show nothing was touched).
"""

from __future__ import annotations

import hashlib
import os
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["PAUSING_CLI", "PausedRun", "run_cli_fresh", "mkv_claiming", "file_digests"]

#: The program :class:`PausedRun` runs: the real command line, plus a wait point in the
#: progress callback, reached when file ``CRYVIDEO_TEST_PAUSE_AT`` (1-based) starts streaming
#: (its ffmpeg is running then; the files before it are finished). SIGINT there is a Ctrl-C in
#: the middle of that file (Python's own handler raises KeyboardInterrupt); SIGUSR1 lets the run
#: go on. Both handlers are in place before the marker file says the run is waiting, and Python
#: records a signal until the main thread handles it, whichever thread received it: none can be
#: missed, so the outcome never depends on how busy the machine is.
PAUSING_CLI = r"""
import os, signal, sys, time
from pathlib import Path

from cryvideo.cli import common, main

PAUSE_AT = int(os.environ["CRYVIDEO_TEST_PAUSE_AT"])
MARKER = Path(os.environ["CRYVIDEO_TEST_MARKER"])
resumed = []
signal.signal(signal.SIGUSR1, lambda signum, frame: resumed.append(signum))
# Ctrl-C must raise KeyboardInterrupt even when the test runner was started in the background
# of a non-interactive shell: its children then inherit SIGINT *ignored*, and Python only
# installs its own handler when SIGINT is not ignored.
signal.signal(signal.SIGINT, signal.default_int_handler)
started = 0
original = common.StageProgress.__call__


def paused_call(self, stage, done, total):
    global started
    if self.bar is None:  # the first progress step of a file
        started += 1
        if started == PAUSE_AT:
            MARKER.write_text(str(os.getpid()))
            while not resumed:  # a Ctrl-C raises KeyboardInterrupt in here
                time.sleep(0.02)
    original(self, stage, done, total)


common.StageProgress.__call__ = paused_call
sys.exit(main(sys.argv[1:]))
"""


class PausedRun:
    """``cryvideo ARGV`` in a subprocess, paused at the start of file ``pause_at``.

    The constructor returns once the run waits there (files ``1 … pause_at - 1`` are finished).
    Then :meth:`interrupt` (Ctrl-C) or :meth:`resume`, and :meth:`wait`. The files must be ones
    whose analysis reports progress (videos for ``predict``, any audio for ``detect``).

    Parameters
    ----------
    argv : sequence
        Arguments after ``cryvideo``.
    pause_at : int
        1-based index of the file to wait at.
    workdir : path
        Where the marker file goes (``.paused-*``).
    timeout : float
        Seconds to wait for the pause at most: a guard against a hang, never a condition of
        the outcome.
    """

    def __init__(self, argv: Sequence, *, pause_at: int, workdir: str | os.PathLike,
                 timeout: float = 300.0) -> None:
        self.marker = Path(workdir) / f".paused-{pause_at}-{time.monotonic_ns()}"
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CRYVIDEO_TEST_PAUSE_AT=str(pause_at),
                   CRYVIDEO_TEST_MARKER=str(self.marker))
        self.proc = subprocess.Popen([sys.executable, "-c", PAUSING_CLI, *map(str, argv)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     stdin=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + timeout
        while not self.marker.exists():
            if self.proc.poll() is not None:
                _, err = self.proc.communicate()
                raise RuntimeError(f"the run ended (exit {self.proc.returncode}) before file "
                                   f"{pause_at} started:\n{err}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"file {pause_at} did not start within {timeout} s")
            time.sleep(0.05)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def interrupt(self) -> None:
        """Ctrl-C."""
        self.proc.send_signal(signal.SIGINT)

    def resume(self) -> None:
        """Let the run go on."""
        self.proc.send_signal(signal.SIGUSR1)

    def wait(self, timeout: float = 300.0) -> tuple[int, str, str]:
        """``(exit code, stdout, stderr)`` once the run ends (killed, with its ffmpeg, if it
        has not ended within ``timeout``: a failing test leaves no process behind)."""
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        return self.proc.returncode, out, err

    def kill(self) -> None:
        """Kill the run and any process it started (its ffmpeg)."""
        if self.proc.poll() is None:
            try:
                import psutil

                for child in psutil.Process(self.proc.pid).children(recursive=True):
                    child.kill()
            except Exception:  # noqa: BLE001 - best effort: the run itself is killed below
                pass
            self.proc.kill()
            self.proc.communicate()


#: Prints whether TensorFlow/Keras was imported once the command returned.
_FRESH_CLI = ("import sys\nfrom cryvideo.cli import main\nrc = main(sys.argv[1:])\n"
              "print('TF' if 'tensorflow' in sys.modules or 'keras' in sys.modules else 'NO-TF')\n"
              "sys.exit(rc)\n")


def run_cli_fresh(argv: Sequence, *, env: dict | None = None, cwd=None,
                  timeout: float = 300.0) -> tuple[int, str, str, bool]:
    """Run ``cryvideo ARGV`` in a fresh interpreter.

    Returns
    -------
    (exit code, stdout, stderr, models_loaded)
        ``models_loaded`` is whether TensorFlow/Keras was imported: False proves that no model
        was loaded (the last stdout line, ``TF``/``NO-TF``, is removed from ``stdout``).
    """
    proc = subprocess.run([sys.executable, "-c", _FRESH_CLI, *map(str, argv)],
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, cwd=cwd,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **(env or {})))
    out = proc.stdout.rstrip("\n").rsplit("\n", 1)
    flag = out[-1]
    return proc.returncode, out[0] + "\n" if len(out) == 2 else "", proc.stderr, flag == "TF"


def mkv_claiming(src: str | os.PathLike, dst: str | os.PathLike, seconds: float) -> Path:
    """Copy a Matroska file (as ffmpeg writes it) with its header's duration set to ``seconds``.

    The Segment/Info/Duration element holds an 8-byte float in milliseconds; ffmpeg reports it
    as the file's duration, whatever the file holds.
    """
    data = bytearray(Path(src).read_bytes())
    pos = data.find(b"\x44\x89\x88")  # Duration element, 8-byte float
    if pos < 0:
        raise ValueError(f"{src}: no 8-byte Duration element (not a Matroska file by ffmpeg?)")
    struct.pack_into(">d", data, pos + 3, float(seconds) * 1000.0)
    dst = Path(dst)
    dst.write_bytes(bytes(data))  # atomic-ok: a test fixture in a scratch folder
    return dst


def file_digests(folder: str | os.PathLike) -> dict[str, str]:
    """``{relative path: sha256}`` of every file under ``folder`` (hidden ones included)."""
    root = Path(folder)
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}
