"""Streaming video frames from ffmpeg through a rawvideo pipe.

Frames are resampled to the analysis frame rate and downscaled by ffmpeg itself, then read one at
a time: memory use does not depend on the length of the video.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator

import numpy as np

from ..errors import InputFileError, ParameterError
from .ffmpeg import DEFAULT_STALL_TIMEOUT, FFmpegStream, ffmpeg_exe, input_url
from .probe import MediaInfo, probe

__all__ = ["Frame", "FrameSpan", "FramePlan", "iter_frames", "plan_frames", "frames_command",
           "output_size", "DEFAULT_FPS", "DEFAULT_MAX_SIDE", "MAX_FPS"]

#: The paper's analysis frame rate.
DEFAULT_FPS = 30.0
#: Longest side (pixels) of the frames handed to Python; ffmpeg downscales to it.
DEFAULT_MAX_SIDE = 480
#: Highest analysis frame rate a decode takes.
MAX_FPS = 240.0
#: Longest gap (seconds) between two source frames that is kept as it is; a longer one (a broken
#: or hostile timestamp, e.g. a 10-hour jump) is shortened to this before frames are resampled,
#: so the ``fps`` filter never pads it with millions of copies of one frame.
MAX_FRAME_GAP = 10.0
#: setpts expression: keep time stamps, but clip each step to [0, MAX_FRAME_GAP] seconds (its
#: commas escaped, as a filter graph needs them).
_GAP_CAP = r"if(eq(N\,0)\,PTS\,PREV_OUTPTS+clip(PTS-PREV_INPTS\,0\,{gap:g}/TB))"


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


@dataclasses.dataclass(frozen=True)
class FrameSpan:
    """What to decode of a video: a frame rate, a size bound and a span of time.

    Attributes
    ----------
    fps : float
        Frames per second, in (0, :data:`MAX_FPS`].
    max_side : int
        Longest side of the frames, pixels (at least 16); ffmpeg downscales to it.
    start : float
        Seconds from the beginning (ffmpeg seeks to the key frame before it: what lies before
        is never handed over).
    duration : float, optional
        Seconds to decode (default: to the end).

    Examples
    --------
    >>> FrameSpan(fps=4, max_side=640, start=4.8, duration=2.9)
    FrameSpan(fps=4.0, max_side=640, start=4.8, duration=2.9)
    """

    fps: float = DEFAULT_FPS
    max_side: int = DEFAULT_MAX_SIDE
    start: float = 0.0
    duration: float | None = None

    def __post_init__(self) -> None:
        if not self.fps or not 0 < self.fps <= MAX_FPS:   # NaN fails too
            raise ParameterError(f"fps must be in (0, {MAX_FPS:g}], got {self.fps}")
        if self.max_side < 16:
            raise ParameterError(f"max_side must be >= 16, got {self.max_side}")
        if not self.start >= 0 or (self.duration is not None and not self.duration > 0):
            raise ParameterError(f"invalid span: start {self.start}, duration {self.duration}")
        object.__setattr__(self, "fps", float(self.fps))


@dataclasses.dataclass(frozen=True)
class FramePlan:
    """A :class:`FrameSpan` of one video made concrete: the size of its frames and how many
    may come at most (:func:`plan_frames`).

    Attributes
    ----------
    span : FrameSpan
    width, height : int
        Size of every frame.
    max_frames : int or None
        No more frames than this are handed over (None: no bound).

    Examples
    --------
    >>> FramePlan(FrameSpan(fps=5), 480, 360, 41).frame_bytes
    518400
    """

    span: FrameSpan
    width: int
    height: int
    max_frames: int | None

    @property
    def frame_bytes(self) -> int:
        """Bytes of one RGB frame."""
        return self.width * self.height * 3

    @property
    def whole(self) -> bool:
        """Whether the span is the whole video (then no frame at all is an error)."""
        return self.span.start == 0 and self.span.duration is None


def plan_frames(path: str | os.PathLike, span: FrameSpan, info: MediaInfo,
                max_frames: int | None = None) -> FramePlan:
    """The frame size and frame bound of decoding ``span`` of the video at ``path``.

    No more frames than ``(span + 1 s) * fps`` of what the file declares are ever handed over
    (see :func:`iter_frames`).

    Raises
    ------
    InputFileError
        No video stream, or no usable frame size.

    Examples
    --------
    >>> plan = plan_frames("clip.mp4", FrameSpan(fps=4, start=4.8, duration=2.9),
    ...                    probe("clip.mp4"))                      # doctest: +SKIP
    >>> plan.width, plan.height, plan.max_frames                   # doctest: +SKIP
    (480, 360, 16)
    """
    if not info.has_video:
        raise InputFileError("has no video stream", path=path)
    if not info.width or not info.height:
        raise InputFileError("video stream has no usable frame size", path=path)
    w, h = output_size(info.width, info.height, span.max_side)
    seconds = info.duration - span.start if info.duration else None
    if span.duration is not None:
        seconds = span.duration if seconds is None else min(seconds, span.duration)
    if seconds is not None:
        # never more frames than the claimed duration holds (hostile timestamps)
        cap = int(np.ceil((max(seconds, 0.0) + 1.0) * span.fps))
        max_frames = cap if max_frames is None else min(max_frames, cap)
    return FramePlan(span, w, h, max_frames)


def frames_command(path: str | os.PathLike, plans: list[FramePlan], outputs: list[str]
                   ) -> list[str]:
    """The ffmpeg command line decoding each plan's span of ``path`` to its output (``pipe:``
    for standard output, ``pipe:N`` for file descriptor N).

    Each plan has its own input (its own ``-ss``/``-t``) and filter chain, so every output's
    frames are the bytes a decode of that span alone gives.

    Examples
    --------
    >>> frames_command("clip.mp4", [plan], ["pipe:"])[-1]         # doctest: +SKIP
    'pipe:'
    """
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error"]
    chains = []
    for i, plan in enumerate(plans):
        sp = plan.span
        if sp.start > 0:
            args += ["-ss", f"{sp.start:.3f}"]
        if sp.duration is not None:
            args += ["-t", f"{sp.duration:.3f}"]
        args += ["-i", input_url(path)]
        chains.append(f"[{i}]setpts={_GAP_CAP.format(gap=MAX_FRAME_GAP)},fps=fps={sp.fps!r},"
                      f"scale={plan.width}:{plan.height}:flags=area[v{i}]")
    args += ["-filter_complex", ";".join(chains)]
    for i, out in enumerate(outputs):
        args += ["-map", f"[v{i}]", "-f", "rawvideo", "-an", "-dn", "-pix_fmt", "rgb24", "-sn",
                 out]
    return args


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
    the analysis run for hours. Several spans of one video are decoded by one ffmpeg process
    with :class:`~cryvideo.media.frame_outputs.FrameOutputs`.

    Raises
    ------
    InputFileError
        No video stream, or nothing could be decoded.
    """
    span = FrameSpan(fps=fps, max_side=max_side, start=start, duration=duration)
    info = probe(path) if info is None else info
    plan = plan_frames(path, span, info, max_frames)
    h, w = plan.height, plan.width
    count = 0
    with FFmpegStream(frames_command(path, [plan], ["pipe:"]), path=path,
                      stall_timeout=stall_timeout) as st:
        for buf in st.iter_chunks(plan.frame_bytes):
            img = np.frombuffer(buf, dtype=np.uint8).reshape(h, w, 3)
            yield Frame(index=count, time=start + count / span.fps, image=img)
            count += 1
            if plan.max_frames is not None and count >= plan.max_frames:
                return
        rc, err = st.finish()
        if count == 0 and (plan.whole or rc != 0):
            if rc != 0:
                st.raise_for_status(rc, err)
            raise InputFileError("no video frames could be decoded", path=path)
