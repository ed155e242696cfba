"""``cryvideo listen [SOURCE]``: live crying alerts from a microphone or a stream."""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import signal
import sys
import time

from ..errors import ModelError, ParameterError, display_path
from .common import check_number, check_output_folder, emit_json

HELP = "listen to a microphone or a live stream and report crying as it starts and stops"

#: Largest accepted values of the time options (seconds).
MAX_SECONDS = 3600.0
#: Seconds the --on-cry commands still running get at the end of the input.
FINAL_WAIT = 10.0


def add_parser(sub) -> None:
    from ..detection.alerts import COOLDOWN
    from ..detection.live import STOP_AFTER
    from ..media.live_source import DEFAULT_TIMEOUT
    from ..media.recorder import PREROLL_SECONDS

    p = sub.add_parser(
        "listen",
        help=HELP,
        description=HELP + ". The default detector scores 0.96 s patches every 0.48 s as they "
        "arrive; an episode starts when a window score (the mean of 3 patches) reaches the "
        "threshold and stops when the scores stay below it for --stop-after seconds. Times are "
        "given on the wall clock and on the stream clock (seconds of audio since listening "
        "began). A network stream that drops is reopened with back-off (1, 2, 4 … 30 s).",
        epilog="sources:\n"
        "  (none)                    the default microphone (--device N for another; needs\n"
        "                            pip install 'cryvideo[listen]')\n"
        "  rtsp://… http://… udp://…  any stream ffmpeg reads (reconnects when it drops)\n"
        "  FILE [--realtime]         a file, as fast as it decodes or at its own pace\n"
        "  -                         standard input (any container ffmpeg recognises)\n\n"
        "examples:\n"
        "  cryvideo listen\n"
        "  cryvideo listen rtsp://192.168.1.20:554/stream1 --on-cry 'notify-send \"Baby "
        "crying\"'\n"
        "  cryvideo listen --device 2 --json --record cries/\n"
        "  arecord -f S16_LE -r 16000 -c 1 -t wav | cryvideo listen -\n\n"
        "--on-cry runs CMD with the shell once per episode, with CRYVIDEO_EVENT, "
        "CRYVIDEO_EPISODE,\nCRYVIDEO_STREAM_TIME, CRYVIDEO_DETECTED_AT, CRYVIDEO_PROBABILITY, "
        "CRYVIDEO_WALL_TIME,\nCRYVIDEO_SOURCE and CRYVIDEO_EVENT_JSON set. Ctrl-C (exit 130) "
        "and SIGTERM (exit 0) stop\ncleanly: an open episode is closed and its recording "
        "saved.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("source", nargs="?", metavar="SOURCE",
                   help="stream URL, file, or - for standard input (default: the microphone)")
    p.add_argument("--device", metavar="N",
                   help="microphone: PortAudio device number or name (see --list-devices)")
    p.add_argument("--list-devices", action="store_true",
                   help="list the microphones (input devices) and exit")
    p.add_argument("--realtime", action="store_true",
                   help="read a file (or standard input) at its own pace, as if it were live")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per event on stdout (also connected/lost notices)")
    p.add_argument("--threshold", type=float, default=None,
                   help="decision threshold in [0, 1] (default: the model card's)")
    p.add_argument("--window", type=int, default=None,
                   help="patches averaged into a window score, 1 to 20 (default: the model "
                   "card's, 3); fewer react sooner and are fooled more easily")
    p.add_argument("--stop-after", type=float, default=STOP_AFTER, metavar="SECONDS",
                   help=f"an episode stops after this long below the threshold (default: "
                   f"{STOP_AFTER:g})")
    p.add_argument("--on-cry", metavar="CMD",
                   help="shell command run once per episode when crying starts")
    p.add_argument("--cooldown", type=float, default=COOLDOWN, metavar="SECONDS",
                   help="seconds of stream after an --on-cry run during which new episodes "
                   f"run nothing (default: {COOLDOWN:g})")
    p.add_argument("--record", metavar="DIR",
                   help="save each episode as FLAC (16 kHz mono) in this folder")
    p.add_argument("--preroll", type=float, default=PREROLL_SECONDS, metavar="SECONDS",
                   help=f"seconds before the onset included in a recording, 0 to 10 (default: "
                   f"{PREROLL_SECONDS:g})")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help="seconds without audio after which the source counts as lost: a "
                   f"stream or microphone is reopened, a file is an error (default: "
                   f"{DEFAULT_TIMEOUT:g})")
    p.add_argument("--retries", type=int, default=None, metavar="N",
                   help="reconnection attempts in a row before giving up (default: no limit); "
                   "given, a stream or microphone that cannot be opened yet is tried again too, "
                   "N times (default: it is an error at once)")
    p.add_argument("--model", metavar="PATH",
                   help="detector file (.tflite with its JSON card beside it; default: the "
                   "shipped one, from $CRYVIDEO_MODELS_DIR or saved_models/)")
    p.set_defaults(func=run)


# -- signals -------------------------------------------------------------------------------------
class _Terminated(BaseException):
    """SIGTERM: stop listening (a clean stop, exit 0)."""


class _Signals:
    """SIGINT and SIGTERM handlers that stop the loop without tearing a block in half.

    While a block is being processed (``busy``) a signal only sets ``requested``; the loop
    stops after the block. While the loop waits for audio, the signal raises at once
    (KeyboardInterrupt or :class:`_Terminated`), which ends the source and its ffmpeg.
    """

    def __init__(self) -> None:
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
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._saved[sig] = signal.signal(sig, self._handler)
            except ValueError:  # not the main thread: leave the defaults
                pass
        return self

    def __exit__(self, *exc) -> None:
        for sig, old in self._saved.items():
            signal.signal(sig, old)


# -- output --------------------------------------------------------------------------------------
def _now_iso() -> str:
    return _dt.datetime.now().astimezone().isoformat(timespec="milliseconds")


class _Printer:
    """Events on stdout (text or JSON lines), notices on stderr (and stdout in JSON)."""

    def __init__(self, *, as_json: bool, source: str) -> None:
        self.as_json = as_json
        self.source = source

    def event(self, ev, recording=None) -> None:
        if self.as_json:
            d = dict(ev.to_dict(), source=self.source)
            if ev.event == "cry stopped":
                d["recording"] = None if recording is None else str(recording)
            print(emit_json(d), flush=True)
        else:
            line = ev.describe()
            if recording is not None:
                line += f"  saved {display_path(recording)}"
            print(line, flush=True)

    def notice(self, kind: str, message: str, *, position: float, **extra) -> None:
        print(f"cryvideo: {message}", file=sys.stderr, flush=True)
        if self.as_json:
            print(emit_json({"event": kind, "wall_time": _now_iso(),
                             "stream_time": round(position, 3), "source": self.source,
                             "message": message, **extra}), flush=True)


# -- the command ---------------------------------------------------------------------------------
def _device(value: str | None):
    if value is None:
        return None
    return int(value) if value.strip().lstrip("-").isdigit() else value


def _check(args: argparse.Namespace) -> str:
    """Every option checked before any model loads; returns the source's kind."""
    from ..media import check_input_file, require_audio
    from ..media.live_source import STDIN, is_network_url

    check_number("--threshold", args.threshold, lo=0.0, hi=1.0)
    check_number("--window", args.window, lo=1, hi=20, unit=" patches")
    check_number("--stop-after", args.stop_after, lo=0.0, lo_open=True, hi=MAX_SECONDS,
                 unit=" seconds")
    check_number("--cooldown", args.cooldown, lo=0.0, hi=24 * MAX_SECONDS, unit=" seconds")
    check_number("--preroll", args.preroll, lo=0.0, hi=10.0, unit=" seconds")
    check_number("--timeout", args.timeout, lo=0.0, lo_open=True, hi=MAX_SECONDS,
                 unit=" seconds")
    check_number("--retries", args.retries, lo=0, hi=1e9)
    if args.on_cry is not None and not args.on_cry.strip():
        raise ParameterError("--on-cry needs a command")
    if args.source is None:
        kind = "microphone"
    elif args.source == STDIN:
        kind = "stdin"
    elif is_network_url(args.source):
        kind = "network"
    else:
        kind = "file"
    if args.device is not None and kind != "microphone":
        raise ParameterError("--device is for the microphone; it does not go with a SOURCE")
    if args.realtime and kind in ("microphone", "network"):
        raise ParameterError(f"--realtime is for a file or standard input; a "
                             f"{'stream' if kind == 'network' else 'microphone'} is live "
                             "already")
    if kind == "file":
        require_audio(check_input_file(args.source))   # as detect says it, before any model
    if args.record is not None:
        check_output_folder(args.record, option="--record")
    if args.model is not None and not args.model.endswith(".tflite"):
        raise ModelError("listen takes a .tflite detector (with its JSON card beside it)",
                         path=args.model)
    if args.model is not None:
        import os

        if not os.path.isfile(args.model):
            raise ModelError("no such model file (given with --model)", path=args.model)
    else:
        from ..models.store import check_models_dir, default_models_dir

        check_models_dir(default_models_dir())
    if kind == "microphone":
        from ..media.microphone import import_sounddevice

        import_sounddevice()   # missing package or PortAudio: say so before the model loads
    return kind


def _list_devices() -> int:
    from ..media.microphone import list_input_devices

    devices = list_input_devices()
    if not devices:
        print("no input devices found", file=sys.stderr)
        return 0
    for d in devices:
        mark = "*" if d["default"] else " "
        print(f"{mark} {d['index']:>3}  {d['name']}  ({d['channels']} ch, "
              f"{d['default_samplerate']:.0f} Hz)")
    return 0


def _load_detector(args):
    from ..detection.backends import live_backend
    from ..models.store import find_model

    spec = live_backend()
    note = None
    path = args.model
    if path is None:
        path, note = find_model(spec.files)
        if path is None:
            from ..models.store import default_models_dir

            raise ModelError("cry detector not found",
                             path=default_models_dir() / spec.shipped_file)
    return spec.loader(path, threshold=args.threshold, batch=1), note


def _source(args, kind: str, sr: int):
    from ..media.live_source import FFmpegLiveSource

    if kind == "microphone":
        from ..media.microphone import MicrophoneSource

        return MicrophoneSource(_device(args.device), sr=sr, timeout=args.timeout,
                                retries=args.retries)
    return FFmpegLiveSource(args.source, sr=sr, realtime=args.realtime, timeout=args.timeout,
                            retries=args.retries)


def run(args: argparse.Namespace) -> int:
    if args.list_devices:
        if args.source is not None:
            raise ParameterError("--list-devices takes no SOURCE")
        from ..media.microphone import import_sounddevice

        import_sounddevice()
        return _list_devices()
    kind = _check(args)
    detector, note = _load_detector(args)
    source = _source(args, kind, detector.frontend.sr)
    return listen(args, detector, source, note=note)


def listen(args: argparse.Namespace, detector, source, *, note: str | None = None) -> int:
    """The loop: source → detector → events, alerts and recordings, until the source ends or
    a signal stops it."""
    from ..detection.alerts import CommandAlert
    from ..detection.live import STARTED, LiveDetector
    from ..errors import CryVideoError
    from ..media.live_source import SourceNotice
    from ..media.recorder import StreamRecorder

    live = LiveDetector(detector, window=args.window, stop_after=args.stop_after)
    name = source.name
    out = _Printer(as_json=args.json, source=name)
    recorder = (StreamRecorder(args.record, sr=live.sr, preroll=args.preroll)
                if args.record else None)
    alert = CommandAlert(args.on_cry, source=name, cooldown=args.cooldown) \
        if args.on_cry else None

    def warn(message: str) -> None:
        print(f"cryvideo: warning: {message}", file=sys.stderr, flush=True)

    def emit(events) -> None:
        for ev in events:
            saved = None
            if ev.event == STARTED:
                if alert is not None:
                    msg = alert.handle(ev)
                    if msg:
                        warn(msg)
                if recorder is not None:
                    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(ev.wall_time))
                    try:
                        recorder.start(f"cry-{stamp}-episode{ev.episode}.flac", ev.stream_time)
                    except CryVideoError as exc:
                        warn(f"{exc}; listening goes on without recording")
            elif recorder is not None:
                try:
                    saved = recorder.stop()
                except CryVideoError as exc:
                    warn(f"{exc}; listening goes on")
            out.event(ev, saved)

    if note:
        warn(note)
    print(f"cryvideo: listening to {display_path(name)} (detector {detector.card.name}, threshold "
          f"{live.threshold:.2f}, window {live.window} patches, stop after "
          f"{live.stop_after:g} s)", file=sys.stderr, flush=True)
    reason = "stream lost"    # unless the loop ends otherwise (an error from the source)
    status = 0
    with _Signals() as sig, _one_blas_thread():
        try:
            try:
                for item in source:
                    sig.busy = True
                    if isinstance(item, SourceNotice):
                        _notice(item, live, recorder, out, emit)
                    else:
                        if recorder is not None:
                            try:
                                recorder.push(item)
                            except CryVideoError as exc:
                                warn(f"{exc}; listening goes on without recording")
                        emit(live.push(item))
                    if alert is not None:
                        for msg in alert.poll():
                            warn(msg)
                    sig.busy = False
                    sig.check()
                reason = "end of stream"
            except _Terminated:
                reason = "stopped"
                print("cryvideo: stopped (SIGTERM)", file=sys.stderr, flush=True)
            except KeyboardInterrupt:
                reason = "stopped"
                status = 130
        finally:
            sig.busy = True
            with contextlib.suppress(BrokenPipeError):
                emit(live.finish(reason))
            if recorder is not None:
                recorder.abort()      # only an unfinished one (emit saved the open episode)
            if alert is not None:
                for msg in alert.close(wait=FINAL_WAIT if reason == "end of stream" else 0.0):
                    warn(msg)
    if status == 130:
        raise KeyboardInterrupt
    return status


@contextlib.contextmanager
def _one_blas_thread():
    """BLAS on one thread while listening: the front end's small matrix products gain nothing
    from more, and idle OpenBLAS threads spin after each one (a tenth of a core, measured)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency of scikit-learn
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _notice(item, live, recorder, out, emit) -> None:
    if item.kind == "connected":
        first = live.samples_in == 0
        out.notice("connected", item.message + ("" if first else
                                                f" again at stream {live.position:.1f} s"),
                   position=live.position)
    elif item.kind in ("lost", "retry failed"):
        if item.kind == "lost":
            emit(live.interrupt("stream lost"))
            if recorder is not None:
                recorder.reset()
        out.notice("lost", f"stream lost ({item.message}); reconnecting in "
                   f"{item.retry_in:g} s (attempt {item.attempt})", position=live.position,
                   retry_in=item.retry_in, attempt=item.attempt)
    elif item.kind == "waiting":
        out.notice("waiting", f"cannot open {display_path(out.source)} yet ({item.message}); "
                   f"trying again in {item.retry_in:g} s (attempt {item.attempt})",
                   position=live.position, retry_in=item.retry_in, attempt=item.attempt)
    elif item.kind == "ended":
        out.notice("ended", f"{item.message}", position=live.position)
