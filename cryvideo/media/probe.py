"""Probing media files with ``ffmpeg -i`` alone (no ``ffprobe`` needed)."""

from __future__ import annotations

import dataclasses
import os
import re

from ..errors import InputFileError
from .ffmpeg import check_input_file, ffmpeg_exe, ffmpeg_problem, input_url, run_ffmpeg

__all__ = ["MediaInfo", "probe", "PROBE_TIMEOUT", "format_duration", "format_clock",
           "short_decode_note"]

#: Seconds a probe may take at most.
PROBE_TIMEOUT = 20.0
#: A decoded length below this fraction of the declared one, and this many seconds short of
#: it, is reported (:func:`short_decode_note`): encoder padding and rounding stay far below.
SHORT_DECODE_FRACTION = 0.9
SHORT_DECODE_SECONDS = 0.5

_DURATION = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_STREAM = re.compile(r"Stream #\d+:\d+.*?: (Video|Audio): (.*)")
_SIZE = re.compile(r"(?:^|[ ,])(\d{2,6})x(\d{2,6})(?:[ ,\[]|$)")
_FPS = re.compile(r"(\d+(?:\.\d+)?)(k?) (fps|tbr)")
_RATE = re.compile(r"(\d+) Hz")
_ROTATE_MATRIX = re.compile(r"rotation of (-?\d+(?:\.\d+)?) degrees")
_ROTATE_TAG = re.compile(r"^\s*rotate\s*:\s*(-?\d+)", re.MULTILINE)


@dataclasses.dataclass(frozen=True)
class MediaInfo:
    """What a media file holds, as ffmpeg reports it.

    Attributes
    ----------
    path : str
        The file.
    duration : float or None
        Container duration in seconds (None if ffmpeg does not know it).
    has_video, has_audio : bool
        Whether there is a (real, not cover-art) video stream / an audio stream.
    width, height : int or None
        Display size of the first video stream, rotation applied.
    fps : float or None
        Frame rate of the first video stream.
    rotation : int
        Rotation in degrees from the stream's display matrix (ffmpeg applies it when decoding).
    sample_rate : int or None
        Sample rate of the first audio stream.
    video_codec, audio_codec : str or None
        Codec names.
    """

    path: str
    duration: float | None
    has_video: bool
    has_audio: bool
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    rotation: int = 0
    sample_rate: int | None = None
    video_codec: str | None = None
    audio_codec: str | None = None

    def to_dict(self) -> dict:
        """Plain-dict view (JSON-serialisable)."""
        return dataclasses.asdict(self)


def parse_ffmpeg_header(text: str, path: str = "") -> MediaInfo:
    """Parse the stream description that ``ffmpeg -i`` prints on stderr.

    Parameters
    ----------
    text : str
        ffmpeg's stderr.
    path : str
        Stored in the result.
    """
    duration = None
    m = _DURATION.search(text)
    if m:
        h, mi, s = m.groups()
        duration = int(h) * 3600 + int(mi) * 60 + float(s)
    has_video = has_audio = False
    width = height = sample_rate = None
    fps = None
    vcodec = acodec = None
    for line in text.splitlines():
        sm = _STREAM.search(line)
        if not sm:
            continue
        kind, desc = sm.groups()
        if kind == "Video" and not has_video:
            if "(attached pic)" in desc or "(thumbnail)" in desc:
                continue  # cover art in an audio file is not a video
            has_video = True
            vcodec = desc.split()[0].rstrip(",")
            size = _SIZE.search(desc)
            if size:
                width, height = int(size.group(1)), int(size.group(2))
            rates = {unit: float(v) * (1000 if k else 1) for v, k, unit in _FPS.findall(desc)}
            fps = rates.get("fps") or rates.get("tbr")
        elif kind == "Audio" and not has_audio:
            has_audio = True
            acodec = desc.split()[0].rstrip(",")
            rate = _RATE.search(desc)
            sample_rate = int(rate.group(1)) if rate else None
    rotation = 0
    rm = _ROTATE_MATRIX.search(text) or _ROTATE_TAG.search(text)
    if rm:
        rotation = int(round(float(rm.group(1)))) % 360
    if width and height and rotation in (90, 270):
        width, height = height, width
    return MediaInfo(
        path=path,
        duration=duration,
        has_video=has_video,
        has_audio=has_audio,
        width=width,
        height=height,
        fps=fps,
        rotation=rotation,
        sample_rate=sample_rate,
        video_codec=vcodec,
        audio_codec=acodec,
    )


def probe(path: str | os.PathLike, *, timeout: float = PROBE_TIMEOUT) -> MediaInfo:
    """Describe a media file: duration, streams, frame size, rate and rotation.

    Parameters
    ----------
    path : str or os.PathLike
        The media file (any container ffmpeg reads).
    timeout : float
        Seconds the probe may take.

    Returns
    -------
    MediaInfo

    Raises
    ------
    InputFileError
        If the file is missing, empty, not media, or has neither audio nor video.
    """
    p = check_input_file(path)
    # With no output named, ffmpeg prints the input's header and exits with status 1.
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", input_url(p)]
    _, err, _ = run_ffmpeg(args, path=p, stall_timeout=timeout, deadline=timeout, check=False)
    if "Input #0" not in err:
        raise InputFileError(f"not a media file ({ffmpeg_problem(err)})", path=p)
    info = parse_ffmpeg_header(err, path=os.fspath(p))
    if not info.has_audio and not info.has_video:
        raise InputFileError("no audio or video stream in the file", path=p)
    return info


def format_duration(seconds: float) -> str:
    """A duration for people: ``3.6 s``, ``12 min 5 s``, ``200 h``, ``31 years`` (seconds
    below a minute, to a tenth)."""
    s = float(seconds)
    if round(s, 1) < 60:                     # 59.97 s is "1 min 0 s", not "60.0 s"
        return f"{s:.1f} s"
    s = round(s)
    if s < 3600:
        return f"{int(s // 60)} min {int(s % 60)} s"
    if s < 10 * 86400:
        h, m = int(s // 3600), int(s % 3600 // 60)
        return f"{h} h {m} min" if m else f"{h} h"
    if s < 2 * 365.25 * 86400:
        return f"{s / 86400:.0f} days"
    return f"{s / (365.25 * 86400):.0f} years"


def format_clock(seconds: float, *, tenths: bool = True) -> str:
    """A moment of a recording, as ``h:mm:ss.s`` (``0:01:05.3``; ``tenths=False``:
    ``0:01:05``): the one way ``detect`` writes a time in a recording (a length is
    :func:`format_duration`'s)."""
    sign = "-" if seconds < 0 else ""
    unit = 10 if tenths else 1
    n = int(round(abs(float(seconds)) * unit))
    h, rest = divmod(n, 3600 * unit)
    m, rest = divmod(rest, 60 * unit)
    if tenths:
        s, t = divmod(rest, 10)
        return f"{sign}{h}:{m:02d}:{s:02d}.{t}"
    return f"{sign}{h}:{m:02d}:{rest:02d}"


def short_decode_note(decoded: float | None, declared: float | None) -> str | None:
    """A sentence for the output when far less was decoded than the file declares, else None.

    Parameters
    ----------
    decoded : float or None
        Seconds actually decoded (audio samples, or sampled frames).
    declared : float or None
        The duration the file's header claims (:attr:`MediaInfo.duration`).
    """
    if decoded is None or not declared:
        return None
    if decoded >= SHORT_DECODE_FRACTION * declared or declared - decoded < SHORT_DECODE_SECONDS:
        return None
    return (f"only {format_duration(decoded)} could be decoded of the {format_duration(declared)}"
            " the file declares (damaged, cut short, or a false header?): the result covers "
            f"those {format_duration(decoded)} only")
