"""Fixtures of the reliability suite: the fuzz corpus (short or long profile)."""

from __future__ import annotations

import os

import pytest

#: ``CRYVIDEO_LONG_TESTS=1`` selects the long profile (hundreds of files, the 60-minute video).
LONG = os.environ.get("CRYVIDEO_LONG_TESTS", "") not in ("", "0")
PROFILE = "long" if LONG else "short"


@pytest.fixture(scope="session")
def fuzz_corpus(tmp_path_factory):
    """``(folder, cases)``: the mutated media files, made once per session."""
    from cryvideo.testing.fuzz import build_corpus

    d = tmp_path_factory.mktemp("fuzz")
    cases = build_corpus(d, profile=PROFILE, seed=0)
    return d, cases


@pytest.fixture(scope="session")
def long_profile() -> bool:
    """True when ``CRYVIDEO_LONG_TESTS=1`` (the long profile) is selected."""
    return LONG


#: A ``cryvideo`` run that stops at a chosen file and waits for the test's signal. It is the
#: real command line; the only addition is a wait point in the progress callback, reached when
#: file ``CRYVIDEO_TEST_PAUSE_AT`` (1-based) starts streaming (its ffmpeg is running then).
#: SIGINT there is a Ctrl-C in the middle of that file (Python's own handler raises
#: KeyboardInterrupt); SIGUSR1 lets the run go on. Both handlers are in place before the marker
#: file says the run is waiting, and Python records a signal until the main thread handles it,
#: whichever thread received it: none can be missed, so the outcome never depends on how busy
#: the machine is.
PAUSING_CLI = r"""
import os, signal, sys, time
from pathlib import Path

from cryvideo.cli import common, main

PAUSE_AT = int(os.environ["CRYVIDEO_TEST_PAUSE_AT"])
MARKER = Path(os.environ["CRYVIDEO_TEST_MARKER"])
resumed = []
signal.signal(signal.SIGUSR1, lambda signum, frame: resumed.append(signum))
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
    """A ``cryvideo ARGV`` subprocess paused at the start of file ``pause_at`` (see
    :data:`PAUSING_CLI`). Use :meth:`interrupt` (Ctrl-C) or :meth:`resume`, then :meth:`wait`."""

    def __init__(self, argv, *, pause_at: int, workdir, timeout: float = 300.0) -> None:
        import subprocess
        import sys
        import time
        from pathlib import Path

        self.marker = Path(workdir) / f".paused-{pause_at}-{time.monotonic_ns()}"
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CRYVIDEO_TEST_PAUSE_AT=str(pause_at),
                   CRYVIDEO_TEST_MARKER=str(self.marker))
        self.proc = subprocess.Popen([sys.executable, "-c", PAUSING_CLI, *map(str, argv)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     stdin=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + timeout  # a guard against a hang, not a timing condition
        while not self.marker.exists():
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                raise AssertionError(f"the run ended (exit {self.proc.returncode}) before file "
                                     f"{pause_at} started:\n{err}")
            if time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError(f"file {pause_at} did not start within {timeout} s")
            time.sleep(0.05)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def interrupt(self) -> None:
        import signal

        self.proc.send_signal(signal.SIGINT)

    def resume(self) -> None:
        import signal

        self.proc.send_signal(signal.SIGUSR1)

    def wait(self, timeout: float = 300.0) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, err


@pytest.fixture
def paused_run():
    """Start a :class:`PausedRun`; every run still alive at the end of the test is killed."""
    runs: list[PausedRun] = []

    def start(argv, *, pause_at: int, workdir) -> PausedRun:
        run = PausedRun(argv, pause_at=pause_at, workdir=workdir)
        runs.append(run)
        return run

    yield start
    for run in runs:
        if run.proc.poll() is None:
            run.proc.kill()
            run.proc.communicate()
