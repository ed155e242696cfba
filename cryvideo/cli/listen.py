"""``cryvideo listen [SOURCE]``: live crying alerts from a microphone or a stream.

The options become a :class:`~cryvideo.detection.listen_settings.ListenSettings`;
:func:`~cryvideo.detection.listening.listen` does the listening, and what it reports is printed
here (text or JSON lines).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from ..detection import listen_reports as reports
from ..errors import ParameterError, display_path
from .common import emit_json

HELP = "listen to a microphone or a live stream and report crying as it starts and stops"
DESCRIPTION = (
    HELP + ". The default detector scores 0.96 s patches every 0.48 s as they "
    "arrive; an episode starts when a window score (the mean of 3 patches) reaches the "
    "threshold, or when a single patch reaches the onset threshold, and stops when the "
    "window scores stay below the threshold for --stop-after seconds. Times are "
    "given on the wall clock and on the stream clock (seconds of audio since listening "
    "began). A network stream that drops is reopened with back-off (1, 2, 4 … 30 s).")
EPILOG = (
    "sources:\n"
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
    "saved.")
#: The settings the options give (each option's ``dest`` is the setting's name).
SETTINGS = ("source", "device", "realtime", "threshold", "onset_threshold", "window",
            "stop_after", "on_cry", "cooldown", "record", "preroll", "timeout", "retries",
            "model")


# -- the options ---------------------------------------------------------------------------------
def add_parser(sub) -> None:
    from ..detection import listen_settings as ls

    p = sub.add_parser("listen", help=HELP, description=DESCRIPTION, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    default = {f.name: f.default for f in dataclasses.fields(ls.ListenSettings)}
    default.update(max_window=ls.MAX_WINDOW, max_preroll=ls.MAX_PREROLL)
    _add_source_options(p)
    _add_decision_options(p, default)
    _add_action_options(p, default)
    p.set_defaults(func=run)


def _device(value: str) -> int | str:
    return int(value) if value.strip().lstrip("-").isdigit() else value


def _add_source_options(p) -> None:
    p.add_argument("source", nargs="?", metavar="SOURCE",
                   help="stream URL, file, or - for standard input (default: the microphone)")
    p.add_argument("--device", metavar="N", type=_device,
                   help="microphone: PortAudio device number or name (see --list-devices)")
    p.add_argument("--list-devices", action="store_true",
                   help="list the microphones (input devices) and exit")
    p.add_argument("--realtime", action="store_true",
                   help="read a file (or standard input) at its own pace, as if it were live")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per event on stdout (also connected/lost notices)")


def _add_decision_options(p, default: dict) -> None:
    p.add_argument("--threshold", type=float, default=default["threshold"],
                   help="decision threshold in [0, 1] (default: the model card's)")
    p.add_argument("--onset-threshold", type=float, default=default["onset_threshold"],
                   metavar="P",
                   help="a single 0.96 s patch scoring at least P starts an episode at once, "
                   "without waiting for a window; in [0, 1], 1 turns it off (default: the "
                   "model card's onset_threshold, chosen on a validation split; off when the "
                   "card has none)")
    p.add_argument("--window", type=int, default=default["window"],
                   help=f"patches averaged into a window score, 1 to {default['max_window']} "
                   "(default: the model card's, 3); fewer react sooner and are fooled more "
                   "easily")
    p.add_argument("--stop-after", type=float, default=default["stop_after"], metavar="SECONDS",
                   help=f"an episode stops after this long below the threshold (default: "
                   f"{default['stop_after']:g})")


def _add_action_options(p, default: dict) -> None:
    p.add_argument("--on-cry", metavar="CMD",
                   help="shell command run once per episode when crying starts")
    p.add_argument("--cooldown", type=float, default=default["cooldown"], metavar="SECONDS",
                   help="seconds of stream after an --on-cry run during which new episodes "
                   f"run nothing (default: {default['cooldown']:g})")
    p.add_argument("--record", metavar="DIR",
                   help="save each episode as FLAC (16 kHz mono) in this folder")
    p.add_argument("--preroll", type=float, default=default["preroll"], metavar="SECONDS",
                   help="seconds before the onset included in a recording, 0 to "
                   f"{default['max_preroll']:g} (default: {default['preroll']:g})")
    p.add_argument("--timeout", type=float, default=default["timeout"], metavar="SECONDS",
                   help="seconds without audio after which the source counts as lost: a "
                   f"stream or microphone is reopened, a file is an error (default: "
                   f"{default['timeout']:g})")
    p.add_argument("--retries", type=int, default=default["retries"], metavar="N",
                   help="reconnection attempts in a row before giving up (default: no limit); "
                   "given, a stream or microphone that cannot be opened yet is tried again too, "
                   "N times (default: it is an error at once)")
    p.add_argument("--model", metavar="PATH",
                   help="detector file (.tflite with its JSON card beside it; default: the "
                   "shipped one, from $CRYVIDEO_MODELS_DIR or saved_models/)")


# -- output --------------------------------------------------------------------------------------
def _err(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class _Printer:
    """What listening reports: events on stdout (text or JSON lines), notices on stderr (and
    stdout in JSON)."""

    def __init__(self, *, as_json: bool) -> None:
        self.as_json = as_json

    def __call__(self, item) -> None:
        if isinstance(item, reports.Heard):
            self.heard(item)
        elif isinstance(item, reports.StreamStatus):
            _err(f"cryvideo: {item.message}")
            if self.as_json:
                print(emit_json(item.to_dict()), flush=True)
        elif isinstance(item, reports.Note):
            _err(f"cryvideo: warning: {item.message}")
        elif isinstance(item, reports.Listening):
            onset = ("" if item.onset_threshold is None
                     else f", onset threshold {item.onset_threshold:.2f}")
            _err(f"cryvideo: listening to {display_path(item.source)} (detector "
                 f"{item.detector}, threshold {item.threshold:.2f}{onset}, window "
                 f"{item.window} patches, stop after {item.stop_after:g} s)")
        elif isinstance(item, reports.Stopping) and item.signal == "SIGTERM":
            _err("cryvideo: stopped (SIGTERM)")

    def heard(self, item) -> None:
        if self.as_json:
            print(emit_json(item.to_dict()), flush=True)
            return
        line = item.event.describe()
        if item.recording is not None:
            line += f"  saved {display_path(item.recording)}"
        print(line, flush=True)


# -- the command ---------------------------------------------------------------------------------
def _list_devices() -> int:
    from ..media.microphone import import_sounddevice, list_input_devices

    import_sounddevice()
    devices = list_input_devices()
    if not devices:
        print("no input devices found", file=sys.stderr)
        return 0
    for d in devices:
        mark = "*" if d["default"] else " "
        print(f"{mark} {d['index']:>3}  {d['name']}  ({d['channels']} ch, "
              f"{d['default_samplerate']:.0f} Hz)")
    return 0


def run(args: argparse.Namespace) -> int:
    from ..detection.listen_settings import ListenSettings
    from ..detection.listening import listen

    if args.list_devices:
        if args.source is not None:
            raise ParameterError("--list-devices takes no SOURCE")
        return _list_devices()
    settings = ListenSettings(**{name: getattr(args, name) for name in SETTINGS})
    outcome = listen(settings, output=_Printer(as_json=args.json))
    if outcome.signal == "SIGINT":
        raise KeyboardInterrupt     # exit 130, as for any command
    return 0
