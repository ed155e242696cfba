"""Live audio from a microphone, through ``sounddevice`` (PortAudio).

``sounddevice`` is optional (``pip install 'cryvideo[listen]'``) and imported only when a
microphone is used. :class:`MicrophoneSource` opens an input stream (mono, float32), takes the
blocks PortAudio's callback hands over through a bounded queue and yields them as 16 kHz
samples (resampled with :class:`~cryvideo.media.resample.StreamResampler` when the device
does not run at 16 kHz), with the same :class:`~cryvideo.media.live_source.SourceNotice` items
as the ffmpeg source. A device that stops delivering is reopened with back-off.

The ``sounddevice`` module can be injected (``sounddevice=``): the tests drive this class with
a fake input stream at exactly that boundary.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterator

import numpy as np

from ..errors import InputFileError, ParameterError
from .live_source import BLOCK_SECONDS, DEFAULT_TIMEOUT, Backoff, SourceNotice, reconnecting
from .resample import StreamResampler

__all__ = ["MicrophoneSource", "import_sounddevice", "list_input_devices", "INSTALL_HINT"]

INSTALL_HINT = "pip install 'cryvideo[listen]'"
#: Blocks the callback may queue before the oldest are dropped (about a minute).
MAX_QUEUED_SECONDS = 60.0

_END = object()


def import_sounddevice():
    """The ``sounddevice`` module.

    Raises
    ------
    InputFileError
        It is not installed (naming ``pip install 'cryvideo[listen]'``), or PortAudio is
        missing (exit 3: the microphone cannot be opened).
    """
    try:
        import sounddevice
    except ImportError:
        raise InputFileError(f"the microphone needs the sounddevice package: {INSTALL_HINT}",
                             path="microphone") from None
    except OSError as exc:  # sounddevice imports, but the PortAudio library is missing
        raise InputFileError(f"cannot be used: {exc} (install PortAudio, e.g. apt-get install "
                             "libportaudio2)", path="microphone") from None
    return sounddevice


def list_input_devices(sd=None) -> list[dict]:
    """The input devices: ``index``, ``name``, ``channels``, ``default_samplerate``,
    ``default`` (whether it is the default input)."""
    sd = sd if sd is not None else import_sounddevice()
    try:
        default = sd.default.device[0]
    except (AttributeError, IndexError, TypeError):
        default = None
    out = []
    for i, d in enumerate(sd.query_devices()):
        if d.get("max_input_channels", 0) > 0:
            out.append({"index": i, "name": d.get("name", ""),
                        "channels": int(d["max_input_channels"]),
                        "default_samplerate": float(d.get("default_samplerate", 0)),
                        "default": i == default})
    return out


class MicrophoneSource:
    """Audio blocks from an input device.

    Parameters
    ----------
    device : int or str, optional
        PortAudio device index or name (default: the default input).
    sr : int
        Rate of the blocks yielded.
    block_seconds : float
        Seconds per PortAudio callback block.
    timeout : float
        Seconds without audio after which the device counts as lost (and is reopened).
    retries : int, optional
        Reopening attempts in a row before giving up (default: no limit).
    backoff : Backoff
    sounddevice : module, optional
        The ``sounddevice`` module (default: imported on first use).
    sleep : callable
    """

    def __init__(self, device: int | str | None = None, *, sr: int = 16000,
                 block_seconds: float = BLOCK_SECONDS, timeout: float = DEFAULT_TIMEOUT,
                 retries: int | None = None, backoff: Backoff = Backoff(), sounddevice=None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not block_seconds > 0 or not timeout > 0:
            raise ParameterError("block_seconds and timeout must be above 0")
        self.device = device
        self.sr = int(sr)
        self.block_seconds = float(block_seconds)
        self.timeout = float(timeout)
        self.retries = retries
        self.backoff = backoff
        self._sd = sounddevice
        self.sleep = sleep
        self.name = "microphone" if device is None else f"microphone {device}"
        self.dropped_blocks = 0

    @property
    def sd(self):
        if self._sd is None:
            self._sd = import_sounddevice()
        return self._sd

    def _rate(self) -> int:
        """The detector's rate when the device takes it, else the device's default rate."""
        sd = self.sd
        try:
            sd.check_input_settings(device=self.device, channels=1, dtype="float32",
                                    samplerate=self.sr)
            return self.sr
        except Exception:  # noqa: BLE001 - PortAudio says no in several ways
            info = sd.query_devices(self.device, "input")
            return int(round(float(info["default_samplerate"])))

    def _session(self) -> Iterator[np.ndarray]:
        """One open input stream; returns why it ended."""
        sd = self.sd
        rate = self._rate()
        resampler = None if rate == self.sr else StreamResampler(rate, self.sr)
        blocksize = max(1, int(round(self.block_seconds * rate)))
        q: queue.Queue = queue.Queue(maxsize=max(4, int(MAX_QUEUED_SECONDS / self.block_seconds)))

        def callback(indata, frames, time_info, status) -> None:
            try:
                q.put_nowait(np.array(indata[:, 0], dtype=np.float32))
            except queue.Full:  # the consumer is far behind: drop rather than grow
                self.dropped_blocks += 1

        def finished() -> None:
            try:
                q.put_nowait(_END)
            except queue.Full:
                pass

        stream = sd.InputStream(device=self.device, samplerate=rate, channels=1,
                                dtype="float32", blocksize=blocksize, callback=callback,
                                finished_callback=finished)
        with stream:
            while True:
                try:
                    item = q.get(timeout=self.timeout)
                except queue.Empty:
                    return f"no audio for {self.timeout:g} s"
                if item is _END:
                    return "the input stream stopped"
                y = np.clip(np.nan_to_num(item), -1.0, 1.0)
                yield resampler.push(y) if resampler is not None else y

    def __iter__(self) -> Iterator[np.ndarray | SourceNotice]:
        errors = (getattr(self.sd, "PortAudioError", OSError), ValueError, OSError)
        return reconnecting(self._session, name=self.name, reconnect=True,
                            retries=self.retries, backoff=self.backoff, sleep=self.sleep,
                            errors=errors)
