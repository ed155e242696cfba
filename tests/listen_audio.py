"""Helpers of the ``listen`` tests: the known audio (:mod:`cryvideo.testing.live_audio`), a
detector on scripted probabilities, a fake ``sounddevice`` and a check that processes are
gone."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import numpy as np

from cryvideo.detection.frontend import YAMNET_FRONTEND
from cryvideo.testing.live_audio import (  # noqa: F401 - re-exported for the tests
    ONE_CRY,
    SEQUENCE,
    SR,
    at_rate,
    babble,
    sequence,
    write_wav,
)


class ScriptedDetector:
    """Patch ``i`` gets ``probs[i]``: the state machine on known scores, without a model."""

    def __init__(self, probs, *, threshold=0.5, window=3):
        self.frontend = YAMNET_FRONTEND
        self.card = SimpleNamespace(name="scripted")
        self.threshold = threshold
        self.window = window
        self.probs = np.asarray(probs, float)
        self.seen = 0

    def model(self, patches):
        out = self.probs[self.seen:self.seen + len(patches)]
        self.seen += len(patches)
        return np.pad(out, (0, len(patches) - len(out)))


def gone(pids, *, timeout: float = 20.0) -> bool:
    """Whether every process in ``pids`` is dead (or a zombie) within ``timeout`` seconds: a
    killed process takes a moment to die; a survivor is a failure, not a slow machine."""
    import time

    import psutil

    def alive(pid: int) -> bool:
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    deadline = time.monotonic() + timeout
    while any(alive(p) for p in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


class FakeSoundDevice:
    """The part of the ``sounddevice`` API that :class:`MicrophoneSource` uses.

    ``sessions`` is a list of sample arrays at ``rate``: each opened InputStream plays the next
    one through the callback (from a thread, as PortAudio does), then finishes.
    """

    class PortAudioError(Exception):
        pass

    def __init__(self, sessions, *, rate=48000, accepts_16k=False, fail_open=False):
        self.sessions = list(sessions)
        self.rate = rate
        self.accepts_16k = accepts_16k
        self.fail_open = fail_open
        self.opened = []
        self.default = SimpleNamespace(device=[0, 0])

    def query_devices(self, device=None, kind=None):
        info = {"name": "fake mic", "max_input_channels": 2, "default_samplerate": self.rate}
        return info if kind else [info]

    def check_input_settings(self, device=None, channels=None, dtype=None, samplerate=None):
        if samplerate != self.rate and not self.accepts_16k:
            raise self.PortAudioError("Invalid sample rate")

    def InputStream(self, *, device, samplerate, channels, dtype, blocksize, callback,  # noqa: N802
                    finished_callback):
        if self.fail_open or not self.sessions:
            raise self.PortAudioError(f"Error opening InputStream: device {device} unavailable")
        self.opened.append(samplerate)
        return _FakeStream(self.sessions.pop(0), blocksize, callback, finished_callback)


class _FakeStream:
    def __init__(self, y, blocksize, callback, finished):
        self.y, self.blocksize, self.callback, self.finished = y, blocksize, callback, finished
        self.thread = threading.Thread(target=self._play, daemon=True)
        self.closing = False

    def _play(self):
        for a in range(0, self.y.size, self.blocksize):
            if self.closing:
                break
            block = self.y[a:a + self.blocksize]
            self.callback(block[:, None].copy(), len(block), None, None)
        self.finished()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.closing = True
        self.thread.join(timeout=30)
