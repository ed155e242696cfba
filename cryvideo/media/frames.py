"""Streaming video frames from ffmpeg through a rawvideo pipe.

Frames are resampled to the analysis frame rate and downscaled by ffmpeg itself, then read one at
a time: memory use does not depend on the length of the video.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator

import ffmpeg as ffmpeg_python
import numpy as np

from ..errors import InputFileError, ParameterError
from .ffmpeg import DEFAULT_STALL_TIMEOUT, FFmpegStream, ffmpeg_exe, input_url
from .probe import MediaInfo, probe

__all__ = ["Frame", "iter_frames", "output_size", "DEFAULT_FPS", "DEFAULT_MAX_SIDE"]

#: The paper's analysis frame rate.
DEFAULT_FPS = 30.0
#: Longest side (pixels) of the frames handed to Python; ffmpeg downscales to it.
DEFAULT_MAX_SIDE = 480
#: Longest gap (seconds) between two source frames that is kept as it is; a longer one (a broken
#: or hostile timestamp, e.g. a 10-hour jump) is shortened to this before frames are resampled,
#: so the ``fps`` filter never pads it with millions of copies of one frame.
MAX_FRAME_GAP = 10.0
#: setpts expression: keep time stamps, but clip each step to [0, MAX_FRAME_GAP] seconds.
_GAP_CAP = "if(eq(N,0),PTS,PREV_OUTPTS+clip(PTS-PREV_INPTS,0,{gap:g}/TB))"


@dataclasses.dataclass(frozen=True)
class Frame:
    """One decoded frame.

    Attributes
    ----------
    index : int
        0-based index at the analysis frame rate.
    time : float
        Presentation time in seconds (``index / fps``).
    image : np.ndarray [shape=(height, width, 3), dtype=uint8]
        RGB pixels.
    """

    index: int
    time: float
    image: np.ndarray


def output_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """Size after downscaling so the longest side is at most ``max_side`` (even numbers).

    Parameters
    ----------
    width, height : int
        Source display size.
    max_side : int
        Bound on the longest side; sources already smaller keep their size.

    Returns
    -------
    (int, int)
        ``(out_width, out_height)``, each even and >= 2.
    """
    if width <= 0 or height <= 0:
        raise ParameterError(f"invalid frame size {width}x{height}")
    scale = min(1.0, max_side / max(width, height))
    w = max(2, int(round(width * scale / 2)) * 2)
    h = max(2, int(round(height * scale / 2)) * 2)
    return w, h


def iter_frames(
    path: str | os.PathLike,
    *,
    fps: float = DEFAULT_FPS,
    max_side: int = DEFAULT_MAX_SIDE,
    info: MediaInfo | None = None,
    max_frames: int | None = None,
    stall_timeout: float = DEFAULT_STALL_TIMEOUT,
    start: float = 0.0,
    duration: float | None = None,
) -> Iterator[Frame]:
    """Yield RGB frames of a video at ``fps`` frames per second, downscaled by ffmpeg.

    Parameters
    ----------
    path : str or os.PathLike
        A video file.
    fps : float
        Analysis frame rate (the paper uses 30).
    max_side : int
        Longest side of the yielded frames, in pixels.
    info : MediaInfo, optional
        A probe result to reuse.
    max_frames : int, optional
        Stop after this many frames.
    stall_timeout : float
        Seconds without a new frame after which ffmpeg is killed.
    start, duration : float, optional
        Decode only ``[start, start + duration)`` seconds (ffmpeg seeks to the key frame
        before ``start``: the rest of the file is never decoded).

    Yields
    ------
    Frame
        ``image`` has shape (h, w, 3), uint8; at most one frame is held at a time. ``time``
        is ``start + index / fps``.

    Notes
    -----
    A gap longer than :data:`MAX_FRAME_GAP` seconds between two source frames is shortened to
    it (so ``time`` after such a gap is earlier than the file's own time stamp), and no more
    frames than ``(duration + 1) * fps`` are yielded: a file with broken time stamps cannot make
    the analysis run for hours.

    Raises
    ------
    InputFileError
        No video stream, or nothing could be decoded.
    """
    if not fps or fps <= 0 or fps > 240:
        raise ParameterError(f"fps must be in (0, 240], got {fps}")
    if max_side < 16:
        raise ParameterError(f"max_side must be >= 16, got {max_side}")
    info = probe(path) if info is None else info
    if not info.has_video:
        raise InputFileError("has no video stream", path=path)
    if not info.width or not info.height:
        raise InputFileError("video stream has no usable frame size", path=path)
    if start < 0 or (duration is not None and not duration > 0):
        raise ParameterError(f"invalid span: start {start}, duration {duration}")
    w, h = output_size(info.width, info.height, max_side)
    span = info.duration - start if info.duration else None
    if duration is not None:
        span = duration if span is None else min(span, duration)
    if span is not None:
        # never more frames than the claimed duration holds (hostile timestamps, see above)
        cap = int(np.ceil((max(span, 0.0) + 1.0) * fps))
        max_frames = cap if max_frames is None else min(max_frames, cap)
    seek = {"ss": f"{start:.3f}"} if start > 0 else {}
    if duration is not None:
        seek["t"] = f"{duration:.3f}"
    args = (
        ffmpeg_python.input(input_url(path), **seek)
        .filter("setpts", _GAP_CAP.format(gap=MAX_FRAME_GAP))
        .filter("fps", fps=fps)
        .filter("scale", w, h, flags="area")
        .output("pipe:", format="rawvideo", pix_fmt="rgb24", an=None, sn=None, dn=None)
        .global_args("-hide_banner", "-nostdin", "-loglevel", "error")
        .compile(cmd=ffmpeg_exe())
    )
    frame_bytes = w * h * 3
    count = 0
    with FFmpegStream(args, path=path, stall_timeout=stall_timeout) as st:
        for buf in st.iter_chunks(frame_bytes):
            img = np.frombuffer(buf, dtype=np.uint8).reshape(h, w, 3)
            yield Frame(index=count, time=start + count / fps, image=img)
            count += 1
            if max_frames is not None and count >= max_frames:
                return
        rc, err = st.finish()
        if count == 0 and (start == 0 and duration is None or rc != 0):
            if rc != 0:
                st.raise_for_status(rc, err)
            raise InputFileError("no video frames could be decoded", path=path)
