"""Decoding audio from any container/codec ffmpeg reads, to mono float32."""

from __future__ import annotations

import os
from collections.abc import Iterator

import ffmpeg as ffmpeg_python
import numpy as np

from ..errors import InputFileError, ParameterError
from .ffmpeg import (
    DEFAULT_STALL_TIMEOUT,
    FFmpegStream,
    ffmpeg_exe,
    ffmpeg_problem,
    input_url,
)
from .probe import MediaInfo, probe

__all__ = ["load_audio", "iter_audio_blocks", "require_audio"]


def _audio_args(path, sr: int, offset: float, duration: float | None) -> list[str]:
    in_kw = {"ss": offset} if offset > 0 else {}
    out_kw = {"format": "f32le", "acodec": "pcm_f32le", "ac": 1, "ar": int(sr)}
    if duration is not None:
        out_kw["t"] = float(duration)
    return (
        ffmpeg_python.input(input_url(path), **in_kw)
        .output("pipe:", vn=None, sn=None, dn=None, **out_kw)
        .global_args("-hide_banner", "-nostdin", "-loglevel", "error")
        .compile(cmd=ffmpeg_exe())
    )


#: The most seconds of samples allocated up front from the duration a file declares; beyond it the
#: buffer grows as samples arrive. A header may claim anything (200 hours, 31 years): memory
#: follows what is decoded, never what is claimed.
MAX_PREALLOC_SECONDS = 3 * 3600.0

#: Source sample rates (Hz) taken as real audio; a header claiming 1 Hz or 4 GHz is broken (and
#: resampling it would blow one second of data up to hours).
PLAUSIBLE_SAMPLE_RATES = (1000, 1_536_000)


def _samples(raw: bytes) -> np.ndarray:
    """float32 little-endian bytes → finite float32 samples in [-1, 1] (a partial last sample
    dropped; NaN → 0; anything beyond full scale, up to ±inf, clipped to it)."""
    n = len(raw) // 4
    # count= instead of slicing: no extra copy of an hour of audio
    y = np.frombuffer(raw, dtype="<f4", count=n).astype(np.float32, copy=True)
    np.nan_to_num(y, copy=False, nan=0.0, posinf=1.0, neginf=-1.0)
    # a float WAV may hold 3e38: squared in a spectrogram it overflows float32
    np.clip(y, -1.0, 1.0, out=y)
    return y


def require_audio(path: str | os.PathLike, info: MediaInfo | None = None) -> MediaInfo:
    """Probe ``path`` (unless ``info`` is given) and return its :class:`MediaInfo`, raising
    :class:`InputFileError` for a file that is not media or "has no audio stream" (the one
    message every command gives)."""
    info = probe(path) if info is None else info
    if not info.has_audio:
        raise InputFileError("has no audio stream", path=path)
    return info


def _check_audio(path, info: MediaInfo | None, sr: int) -> MediaInfo:
    if sr <= 0 or int(sr) != sr:
        raise ParameterError(f"sample rate must be a positive integer, got {sr}")
    info = require_audio(path, info)
    lo, hi = PLAUSIBLE_SAMPLE_RATES
    if info.sample_rate is not None and not lo <= info.sample_rate <= hi:
        raise InputFileError(
            f"audio sample rate of {info.sample_rate} Hz is not plausible (broken header?)",
            path=path)
    return info


def load_audio(
    path: str | os.PathLike,
    *,
    sr: int = 16000,
    offset: float = 0.0,
    duration: float | None = None,
    info: MediaInfo | None = None,
    stall_timeout: float = DEFAULT_STALL_TIMEOUT,
) -> np.ndarray:
    """Decode the first audio stream of a file to mono float32 at ``sr`` Hz.

    Parameters
    ----------
    path : str or os.PathLike
        Audio or video file in any format ffmpeg reads (wav, mp3, ogg, 3gp, caf, mp4, …).
    sr : int
        Target sample rate (resampled by ffmpeg).
    offset : float
        Start time in seconds.
    duration : float, optional
        Seconds to decode at most (default: to the end).
    info : MediaInfo, optional
        A probe result to reuse.
    stall_timeout : float
        Seconds without output after which ffmpeg is killed.

    Returns
    -------
    y : np.ndarray [shape=(n,), dtype=float32]
        Samples in [-1, 1] (as decoded; not normalised).

    Raises
    ------
    InputFileError
        Not a media file, no audio stream, undecodable, or no samples decoded.
    """
    info = _check_audio(path, info, sr)
    args = _audio_args(path, sr, offset, duration)
    # Samples go straight into one preallocated array (sized from the probed duration, at most
    # MAX_PREALLOC_SECONDS, grown if needed): an hour at 16 kHz costs its 230 MB once, not
    # three times (chunks, joined bytes, converted copy). Untouched pages cost no memory.
    span = info.duration - offset if info.duration else None
    if duration is not None:
        span = duration if span is None else min(span, duration)
    span = min(span or 60.0, MAX_PREALLOC_SECONDS)
    y = np.empty(max(int(span * sr * 1.02) + sr, sr), np.float32)
    n = 0
    with FFmpegStream(args, path=path, stall_timeout=stall_timeout) as st:
        # read() returns exactly the size asked (a multiple of 4) until the last block
        while buf := st.read(1 << 20):
            block = _samples(buf)
            if n + block.size > y.size:
                grown = np.empty(max(2 * y.size, n + block.size), np.float32)
                grown[:n] = y[:n]
                y = grown
            y[n:n + block.size] = block
            n += block.size
        rc, err = st.finish()
    if rc != 0 and n == 0:  # a damaged file may still give samples: keep them
        raise InputFileError(ffmpeg_problem(err), path=path)
    if n == 0:
        raise InputFileError("no audio samples could be decoded", path=path)
    return y[:n].copy() if n < 0.9 * y.size else y[:n]


def iter_audio_blocks(
    path: str | os.PathLike,
    *,
    sr: int = 16000,
    block_seconds: float = 60.0,
    info: MediaInfo | None = None,
    stall_timeout: float = DEFAULT_STALL_TIMEOUT,
) -> Iterator[np.ndarray]:
    """Stream the audio of a (long) file in blocks, without decoding it all at once.

    Parameters
    ----------
    path : str or os.PathLike
        Audio or video file.
    sr : int
        Target sample rate.
    block_seconds : float
        Length of each block; the last one may be shorter.

    Yields
    ------
    y : np.ndarray [shape=(n,), dtype=float32]
        Consecutive blocks of mono samples.
    """
    if block_seconds <= 0:
        raise ParameterError(f"block_seconds must be > 0, got {block_seconds}")
    _check_audio(path, info, sr)
    size = int(round(block_seconds * sr)) * 4
    got_any = False
    with FFmpegStream(_audio_args(path, sr, 0.0, None), path=path,
                      stall_timeout=stall_timeout) as st:
        while True:
            buf = st.read(size)
            y = _samples(buf)
            if y.size:
                got_any = True
                yield y
            if len(buf) < size:
                break
        rc, err = st.finish()
        if rc != 0 and not got_any:
            st.raise_for_status(rc, err)
    if not got_any:
        raise InputFileError("no audio samples could be decoded", path=path)
