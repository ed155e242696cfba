"""The settings of listening (``cryvideo listen``'s options): one frozen dataclass, each setting
with its one default, checked once; and what is built from it before listening begins (the
detector, the source).

The checks of :class:`ListenSettings` run in two steps, both before any model loads: its values
when it is made (``__post_init__``), the files and packages they name in
:meth:`ListenSettings.check_files`. Messages name the command-line option (``--stop-after must
be …``), as ``cryvideo listen`` reports them.
"""

from __future__ import annotations

import dataclasses
import os

from ..errors import ModelError, ParameterError, check_number
from ..media.live_source import DEFAULT_TIMEOUT, STDIN, is_network_url
from ..media.recorder import PREROLL_SECONDS
from .alerts import COOLDOWN
from .live import STOP_AFTER

__all__ = ["ListenSettings", "load_live_detector", "open_source", "MAX_SECONDS", "MAX_WINDOW",
           "MAX_PREROLL", "SOURCE_KINDS"]

#: Largest accepted values of the time settings (seconds).
MAX_SECONDS = 3600.0
#: Most patches in a window score.
MAX_WINDOW = 20
#: Most seconds of pre-roll in a recording.
MAX_PREROLL = 10.0
#: What a source can be: the microphone (no source), standard input (``-``), a network stream
#: (a URL), or a file.
SOURCE_KINDS = ("microphone", "stdin", "network", "file")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ListenSettings:
    """How to listen: the source, the detector's decision, alerts, recordings, reconnection.

    Parameters
    ----------
    source : str or os.PathLike, optional
        A stream URL (``rtsp://``, ``http://``, ``udp://`` …), a file, or ``-`` for standard
        input; None (default): the microphone.
    device : int or str, optional
        Microphone only: a PortAudio device number or name (default: the default input).
    realtime : bool
        A file or standard input only: read it at its own pace, as if it were live.
    threshold : float, optional
        Decision threshold in [0, 1] (default: the detector card's).
    onset_threshold : float, optional
        The onset rule: a single patch whose probability reaches it starts an episode at once
        (:class:`~cryvideo.detection.live.LiveDetector`), in [0, 1]; 1 turns the rule off
        (default: the detector card's ``onset_threshold``; off when the card has none).
    window : int, optional
        Patches averaged into a window score, 1 to :data:`MAX_WINDOW` (default: the card's).
    stop_after : float
        Seconds below the threshold that end an episode, in (0, :data:`MAX_SECONDS`].
    on_cry : str, optional
        Shell command run once per episode when crying starts
        (:class:`~cryvideo.detection.alerts.CommandAlert`).
    cooldown : float
        Seconds of stream after an ``on_cry`` run during which new episodes run nothing.
    record : str or os.PathLike, optional
        Folder where each episode is saved as FLAC (16 kHz mono).
    preroll : float
        Seconds before the onset included in a recording, 0 to :data:`MAX_PREROLL`.
    timeout : float
        Seconds without audio after which the source counts as lost: a stream or microphone is
        reopened, a file is an error.
    retries : int, optional
        Reconnection attempts in a row before giving up (default: no limit); given, a stream or
        microphone that cannot be opened yet is tried again too.
    model : str or os.PathLike, optional
        A ``.tflite`` detector with its JSON card beside it (default: the shipped one).
    blas_threads : int, optional
        BLAS threads while listening (default 1: the front end's small matrix products gain
        nothing from more, and idle threads spin); None leaves them as they are.

    Raises
    ------
    ParameterError
        A value out of its range, or one that does not go with the source (``device`` with a
        source, ``realtime`` with a live one).

    Examples
    --------
    >>> from cryvideo.detection.listen_settings import ListenSettings
    >>> settings = ListenSettings(source="night.wav", stop_after=3.0, record="cries")
    >>> settings.source_kind, settings.cooldown
    ('file', 60.0)
    >>> ListenSettings(source="-", window=0)
    Traceback (most recent call last):
    ...
    cryvideo.errors.ParameterError: --window must be a number in [1, 20] patches, got 0
    """

    source: str | None = None
    device: int | str | None = None
    realtime: bool = False
    threshold: float | None = None
    onset_threshold: float | None = None
    window: int | None = None
    stop_after: float = STOP_AFTER
    on_cry: str | None = None
    cooldown: float = COOLDOWN
    record: str | os.PathLike | None = None
    preroll: float = PREROLL_SECONDS
    timeout: float = DEFAULT_TIMEOUT
    retries: int | None = None
    model: str | os.PathLike | None = None
    blas_threads: int | None = 1

    def __post_init__(self) -> None:
        if self.source is not None:
            object.__setattr__(self, "source", os.fspath(self.source))
        check_number("--threshold", self.threshold, lo=0.0, hi=1.0)
        check_number("--onset-threshold", self.onset_threshold, lo=0.0, hi=1.0)
        check_number("--window", self.window, lo=1, hi=MAX_WINDOW, unit=" patches")
        check_number("--stop-after", self.stop_after, lo=0.0, lo_open=True, hi=MAX_SECONDS,
                     unit=" seconds")
        check_number("--cooldown", self.cooldown, lo=0.0, hi=24 * MAX_SECONDS, unit=" seconds")
        check_number("--preroll", self.preroll, lo=0.0, hi=MAX_PREROLL, unit=" seconds")
        check_number("--timeout", self.timeout, lo=0.0, lo_open=True, hi=MAX_SECONDS,
                     unit=" seconds")
        check_number("--retries", self.retries, lo=0, hi=1e9)
        check_number("blas_threads", self.blas_threads, lo=1, hi=1024, unit=" threads")
        for name in ("window", "retries", "blas_threads"):
            value = getattr(self, name)
            if value is not None and value != int(value):
                raise ParameterError(f"{name} must be a whole number, got {value:g}")
        if self.on_cry is not None and not self.on_cry.strip():
            raise ParameterError("--on-cry needs a command")
        self._check_source()

    def _check_source(self) -> None:
        kind = self.source_kind
        if self.device is not None and kind != "microphone":
            raise ParameterError("--device is for the microphone; it does not go with a SOURCE")
        if self.realtime and kind in ("microphone", "network"):
            raise ParameterError(f"--realtime is for a file or standard input; a "
                                 f"{'stream' if kind == 'network' else 'microphone'} is live "
                                 "already")

    @property
    def source_kind(self) -> str:
        """One of :data:`SOURCE_KINDS`."""
        if self.source is None:
            return "microphone"
        if self.source == STDIN:
            return "stdin"
        return "network" if is_network_url(self.source) else "file"

    def check_files(self) -> None:
        """Check what the settings name outside themselves, before any model loads: the input
        file has audio, the ``record`` folder can be written, the model file (or the models
        folder) is there, and ``sounddevice`` is installed for the microphone.

        Raises
        ------
        InputFileError
            The file is missing or has no audio; ``sounddevice`` or PortAudio is missing.
        ParameterError
            ``record`` is not a folder or cannot be written.
        ModelError
            ``model`` is not a ``.tflite`` file or does not exist; no models folder.
        """
        from ..io import check_output_folder

        kind = self.source_kind
        if kind == "file":
            from ..media import check_input_file, require_audio

            require_audio(check_input_file(self.source))   # as detect says it
        if self.record is not None:
            check_output_folder(self.record, option="--record")
        self._check_model()
        if kind == "microphone":
            from ..media.microphone import import_sounddevice

            import_sounddevice()   # missing package or PortAudio: say so before the model loads

    def _check_model(self) -> None:
        if self.model is None:
            from ..models.store import check_models_dir, default_models_dir

            check_models_dir(default_models_dir())
            return
        if not os.fspath(self.model).endswith(".tflite"):
            raise ModelError("listen takes a .tflite detector (with its JSON card beside it)",
                             path=self.model)
        if not os.path.isfile(self.model):
            raise ModelError("no such model file (given with --model)", path=self.model)


def load_live_detector(settings: ListenSettings):
    """The detector listening runs (the live backend of
    :data:`~cryvideo.detection.backends.BACKENDS`, one patch per call), with ``settings``'s
    model and threshold.

    Returns
    -------
    detector : PatchDetector
    note : str or None
        Where the model was found, when that is worth saying (e.g. the bundled fallback).

    Raises
    ------
    ModelError
        No detector found, or a corrupt one.

    Examples
    --------
    >>> detector, note = load_live_detector(ListenSettings(threshold=0.6))  # doctest: +SKIP
    >>> detector.threshold, detector.card.name                               # doctest: +SKIP
    (0.6, 'cry_detector_yamnet_int8')
    """
    from ..models.store import default_models_dir, find_model
    from .backends import live_backend

    spec = live_backend()
    note = None
    path = settings.model
    if path is None:
        path, note = find_model(spec.files)
        if path is None:
            raise ModelError("cry detector not found",
                             path=default_models_dir() / spec.shipped_file)
    return spec.loader(path, threshold=settings.threshold, batch=1), note


def open_source(settings: ListenSettings, *, sr: int):
    """The source of ``settings`` as an iterable of sample blocks (at ``sr``) and notices: a
    :class:`~cryvideo.media.microphone.MicrophoneSource` or a
    :class:`~cryvideo.media.live_source.FFmpegLiveSource`. Nothing is opened before the
    iteration begins.

    Examples
    --------
    >>> source = open_source(ListenSettings(source="rtsp://camera/stream", retries=3), sr=16000)
    >>> source.name, source.reconnect, source.retries
    ('rtsp://camera/stream', True, 3)
    """
    if settings.source_kind == "microphone":
        from ..media.microphone import MicrophoneSource

        return MicrophoneSource(settings.device, sr=sr, timeout=settings.timeout,
                                retries=settings.retries)
    from ..media.live_source import FFmpegLiveSource

    return FFmpegLiveSource(settings.source, sr=sr, realtime=settings.realtime,
                            timeout=settings.timeout, retries=settings.retries)
