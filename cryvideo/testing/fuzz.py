"""A corpus of broken media files, and a harness that feeds them to cryvideo.

The corpus is made from small *real* files that ffmpeg generates from its ``lavfi`` sources
(no data from elsewhere), then mutated deterministically:

- **truncated** at several points (down to 0 bytes),
- **bit-flipped** (anywhere, or only in the header),
- **spliced** (the head of one file on the tail of another), garbage prepended or appended,
  a stretch zeroed, a stretch repeated,
- **wrong extension** (an MP4 called ``.wav``, text called ``.mp4``, random bytes, a PNG),
- **zero-length streams** (a WAV header with no samples, an MP4 with no frames),
- **absurd metadata** patched into the headers (MP4 ``tkhd``/``mdhd``/``mvhd``/``stts``, WAV
  ``fmt``/``data``, AVI ``avih``/``strh``: sizes of 65535×65535 or 0, sample rates of 0 or 4 G,
  time scales of 0 or 1, frame durations of 0) and made by ffmpeg itself (2×2 and 2000×4 frames,
  1000 fps, 0.5 fps, a 10-hour gap in the timestamps, a start 10 hours in).

:func:`run_api_case` runs one file through a public function with a hard deadline and returns an
:class:`Outcome`: ``ok``, ``error`` (a :class:`~cryvideo.errors.CryVideoError`, as intended),
``crash`` (any other exception: a bug, with its traceback) or ``hang`` (deadline passed).
:func:`ffmpeg_processes` finds ffmpeg processes left behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import shutil
import signal
import struct
import subprocess
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from ..errors import CryVideoError
from .media import lavfi_audio, lavfi_video

__all__ = [
    "FuzzCase",
    "Outcome",
    "make_seed_files",
    "build_corpus",
    "run_api_case",
    "run_cli_inprocess",
    "ffmpeg_processes",
    "summarize",
    "PROFILES",
]

#: How many variants each profile makes (``short`` runs in ``make test``; ``long`` behind
#: ``CRYVIDEO_LONG_TESTS=1`` and in ``benchmarks/bench_reliability.py``).
PROFILES = {
    "short": {"flip_counts": (1, 64), "flip_seeds": 1, "trunc": (0.0, 0.1, 0.5, 0.9)},
    "long": {"flip_counts": (1, 4, 16, 64, 256, 1024), "flip_seeds": 3,
             "trunc": (0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99)},
}


@dataclasses.dataclass(frozen=True)
class FuzzCase:
    """One file of the corpus.

    Attributes
    ----------
    path : Path
        The file.
    seed : str
        Name of the real file it was made from (or ``"-"``).
    mutation : str
        What was done to it, e.g. ``"trunc:0.5"``, ``"flip:64#0"``, ``"meta:tkhd-size-max"``.
    """

    path: Path
    seed: str
    mutation: str

    @property
    def kind(self) -> str:
        """Family of the mutation (``trunc``, ``flip``, ``meta``, …)."""
        return self.mutation.split(":", 1)[0]


@dataclasses.dataclass
class Outcome:
    """What happened when one file went through one target.

    Attributes
    ----------
    path, mutation, target : str
    status : str
        ``ok``, ``error`` (clean :class:`CryVideoError`), ``crash`` (anything else) or ``hang``.
    exit_code : int or None
        The error's exit code (``error``), 0 (``ok``), 1 (``crash``).
    message : str
        One-line error message, or the traceback for a crash.
    seconds : float
        Wall time.
    orphans : int
        ffmpeg processes still alive (or unreaped) after the call.
    """

    path: str
    mutation: str
    target: str
    status: str
    exit_code: int | None
    message: str
    seconds: float
    orphans: int = 0

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# -- seeds ---------------------------------------------------------------------------------------
def _ffmpeg(args: Sequence[str], *, timeout: float = 120) -> None:
    from ..media import ffmpeg_exe

    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args],
                   check=True, timeout=timeout, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


#: The real files every mutation starts from: name → (video codec, audio codec) (None: absent).
SEEDS = {
    "av.mp4": ("libx264", "aac"),
    "av.mov": ("libx264", "aac"),
    "av.mkv": ("mpeg4", "flac"),
    "av.webm": ("libvpx", "libopus"),
    "av.avi": ("mjpeg", "pcm_s16le"),
    "video_only.mp4": ("libx264", None),
    "audio.wav": (None, "pcm_s16le"),
    "audio.mp3": (None, "libmp3lame"),
    "audio.ogg": (None, "libvorbis"),
}


def make_seed_files(dst: str | os.PathLike, *, duration: float = 1.5, size: str = "160x120",
                    rate: int = 10) -> dict[str, Path]:
    """Write the small real files of :data:`SEEDS` into ``dst``.

    Returns
    -------
    dict
        File name → path.
    """
    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, (vc, ac) in SEEDS.items():
        p = dst / name
        args: list[str] = []
        if vc:
            args += lavfi_video(size, rate, duration)
        if ac:
            args += lavfi_audio(48000 if ac == "libopus" else 16000, duration)
        if vc:
            args += ["-c:v", vc, "-pix_fmt", "yuvj420p" if vc == "mjpeg" else "yuv420p"]
            if vc == "libx264":
                args += ["-preset", "ultrafast"]
        if ac:
            args += ["-c:a", ac]
            if ac == "libopus":
                args += ["-b:a", "32k"]
        _ffmpeg([*args, "-t", str(duration), str(p)])
        out[name] = p
    return out


def _special_files(dst: Path, seeds: dict[str, Path]) -> list[FuzzCase]:
    """Odd but well-formed files made by ffmpeg, and files that are not media at all."""
    cases = []

    def make(name: str, mutation: str, args: Sequence[str]) -> None:
        p = dst / name
        try:
            _ffmpeg([*args, str(p)])
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            return  # this ffmpeg build cannot make it: not a cryvideo problem
        cases.append(FuzzCase(p, "-", mutation))

    a = lavfi_audio(16000, 1.5)
    make("tiny_2x2.mkv", "meta:size-2x2",
         [*lavfi_video("2x2", 10, 1.5), *a, "-c:v", "mpeg4", "-c:a", "flac"])
    make("wide_2000x4.mp4", "meta:size-2000x4",
         [*lavfi_video("2000x4", 10, 1.5), *a, "-c:v", "libx264", "-preset", "ultrafast",
          "-c:a", "aac"])
    make("fps1000.mkv", "meta:fps-1000",
         [*lavfi_video("64x48", 1000, 1.0), "-c:v", "mpeg4", "-q:v", "31"])
    make("fps0.5.mp4", "meta:fps-0.5",
         [*lavfi_video("160x120", 0.5, 6.0), *lavfi_audio(16000, 6.0), "-c:v", "libx264",
          "-preset", "ultrafast", "-c:a", "aac"])
    make("ts_gap_10h.mkv", "meta:pts-gap-10h",
         [*lavfi_video("160x120", 10, 1.5), "-vf", "setpts=PTS+gte(N\\,8)*36000/TB",
          "-c:v", "mpeg4"])
    make("ts_gap_10h_audio.mka", "meta:audio-pts-gap-10h",
         [*a, "-af", "asetpts=PTS+gte(N\\,4)*36000/TB", "-c:a", "flac"])
    make("start_10h.mp4", "meta:start-10h",
         [*lavfi_video("160x120", 10, 1.5), *a, "-output_ts_offset", "36000", "-c:v",
          "libx264", "-preset", "ultrafast", "-c:a", "aac"])
    make("no_frames.mp4", "zero:video-0-frames",
         [*lavfi_video("160x120", 10, 1.5), *a, "-frames:v", "0", "-c:v", "libx264",
          "-c:a", "aac", "-t", "0"])
    make("no_samples.wav", "zero:wav-0-samples", [*a, "-t", "0", "-c:a", "pcm_s16le"])
    make("silence.wav", "zero:all-silent",
         ["-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "2", "-c:a", "pcm_s16le"])
    make("image.png", "wrongext:png-image", [*lavfi_video("64x48", 1, 1), "-frames:v", "1"])
    png = dst / "image.png"
    if png.exists():
        p = dst / "png_named.mp4"
        shutil.copyfile(png, p)
        cases.append(FuzzCase(p, "-", "wrongext:png-as-mp4"))

    def write(name: str, mutation: str, data: bytes) -> None:
        p = dst / name
        p.write_bytes(data)
        cases.append(FuzzCase(p, "-", mutation))

    rng = np.random.default_rng(1234)
    write("empty.mp4", "trunc:0-bytes", b"")
    write("text.mp4", "wrongext:text-as-mp4", b"this is not a video\n" * 50)
    write("random.wav", "wrongext:random-bytes-as-wav", rng.bytes(20000))
    write("random.mp4", "wrongext:random-bytes-as-mp4", rng.bytes(20000))
    write("header_only.wav", "zero:wav-header-only", seeds["audio.wav"].read_bytes()[:44])
    write("json.mkv", "wrongext:json-as-mkv", b'{"not": "media"}\n')
    return cases


# -- mutations ----------------------------------------------------------------------------------
def truncate(data: bytes, frac: float) -> bytes:
    """The first ``frac`` of the bytes."""
    return data[: int(len(data) * frac)]


def flip_bits(data: bytes, n: int, rng: np.random.Generator, *, within: int | None = None) -> bytes:
    """Flip ``n`` random bits (in the first ``within`` bytes if given)."""
    b = bytearray(data)
    hi = min(len(b), within) if within else len(b)
    if hi == 0:
        return bytes(b)
    for pos in rng.integers(0, hi, size=n):
        b[pos] ^= 1 << int(rng.integers(0, 8))
    return bytes(b)


def _patch(data: bytes, tag: bytes, offset: int, fmt: str, value: int) -> bytes | None:
    """Overwrite a field ``offset`` bytes after the first ``tag`` (None if no tag)."""
    pos = data.find(tag)
    if pos < 0 or pos + offset + struct.calcsize(fmt) > len(data):
        return None
    b = bytearray(data)
    struct.pack_into(fmt, b, pos + offset, value)
    return bytes(b)


_MAX31, _MAX32 = 0x7FFFFFFF, 0xFFFFFFFF
#: Header fields that :func:`_meta_patches` sets to absurd values, per file suffix:
#: ``(field, tag, offset, struct format, {name: value})``, the field ``offset`` bytes after the
#: first ``tag``; each value makes one variant, labelled ``field-name``. (MP4 ``tkhd``,
#: version 0: 4 (type) + 4 (version/flags) + 72 → width, +4 → height, 16.16.)
_META_FIELDS = {
    (".mp4", ".mov"): (
        ("tkhd-size", b"tkhd", 80, ">I", {"max": 0xFFFF0000, "zero": 0}),
        ("mdhd-timescale", b"mdhd", 16, ">I", {"0": 0, "1": 1}),
        ("mdhd-duration", b"mdhd", 20, ">I", {"max": _MAX32}),
        ("mvhd-timescale", b"mvhd", 16, ">I", {"0": 0}),
        ("mvhd-duration", b"mvhd", 20, ">I", {"max": _MAX32}),
        ("stts-delta", b"stts", 16, ">I", {"0": 0, "max": _MAX31}),
        ("stsz-count", b"stsz", 16, ">I", {"max": _MAX31}),
    ),
    (".wav",): (
        ("wav-channels", b"fmt ", 10, "<H", {"0": 0, "max": 0xFFFF}),
        ("wav-rate", b"fmt ", 12, "<I", {"0": 0, "1": 1, "max": _MAX32}),
        ("wav-bits", b"fmt ", 22, "<H", {"0": 0, "7": 7}),
        ("wav-data-size", b"data", 4, "<I", {"max": _MAX32, "0": 0}),
    ),
    (".avi",): (
        ("avih-usec-per-frame", b"avih", 8, "<I", {"0": 0}),
        ("avih-size", b"avih", 40, "<I", {"max": _MAX31}),
        ("strh-scale", b"strh", 28, "<I", {"0": 0}),
        ("strh-rate", b"strh", 32, "<I", {"max": _MAX32}),
        ("strf-width", b"strf", 12, "<i", {"max": _MAX31}),
        ("strf-height", b"strf", 16, "<i", {"neg": -_MAX31}),
    ),
}


def _meta_patches(name: str, data: bytes) -> list[tuple[str, bytes]]:
    """Absurd header values patched into MP4/MOV, WAV and AVI files (:data:`_META_FIELDS`)."""
    suffix = Path(name).suffix
    out = []
    for suffixes, fields in _META_FIELDS.items():
        if suffix not in suffixes:
            continue
        for field, tag, off, fmt, values in fields:
            for value_name, value in values.items():
                patched = _patch(data, tag, off, fmt, value)
                if patched is not None:
                    out.append((f"{field}-{value_name}", patched))
    return out


_OTHER_EXT = {".mp4": ".wav", ".mov": ".mp3", ".mkv": ".mp4", ".webm": ".ogg", ".avi": ".mkv",
              ".wav": ".mp4", ".mp3": ".mov", ".ogg": ".avi"}


def build_corpus(dst: str | os.PathLike, *, profile: str = "short", seed: int = 0,
                 seeds: dict[str, Path] | None = None) -> list[FuzzCase]:
    """Make the fuzz corpus in ``dst`` (deterministic for a given ``seed``).

    Parameters
    ----------
    dst : str or os.PathLike
        Folder to write into (created).
    profile : {"short", "long"}
        ``short``: about 200 files (under a minute through ``predict``); ``long``: about 390.
    seed : int
        Seed of the random mutations.
    seeds : dict, optional
        Real files to mutate (default: :func:`make_seed_files` into ``dst / "seeds"``).

    Returns
    -------
    list of FuzzCase
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {sorted(PROFILES)}, got {profile!r}")
    conf = PROFILES[profile]
    dst = Path(dst)
    mdir = dst / "mutated"
    mdir.mkdir(parents=True, exist_ok=True)
    seeds = make_seed_files(dst / "seeds") if seeds is None else seeds
    rng = np.random.default_rng(seed)
    cases: list[FuzzCase] = []

    def add(seed_name: str, mutation: str, data: bytes, ext: str | None = None) -> None:
        stem, suffix = os.path.splitext(seed_name)
        tag = mutation.replace(":", "-").replace("#", "-").replace(".", "p")
        p = mdir / f"{stem}__{tag}{ext or suffix}"
        p.write_bytes(data)
        cases.append(FuzzCase(p, seed_name, mutation))

    names = sorted(seeds)
    for i, name in enumerate(names):
        data = Path(seeds[name]).read_bytes()
        for frac in conf["trunc"]:
            add(name, f"trunc:{frac:g}", truncate(data, frac))
        add(name, "trunc:64-bytes", data[:64])
        add(name, "trunc:minus-1-byte", data[:-1])
        for n in conf["flip_counts"]:
            for s in range(conf["flip_seeds"]):
                add(name, f"flip:{n}#{s}", flip_bits(data, n, rng))
        add(name, "flip:header-16", flip_bits(data, 16, rng, within=512))
        other = Path(seeds[names[(i + 1) % len(names)]]).read_bytes()
        add(name, "splice:head+other-tail", data[: len(data) // 2] + other[len(other) // 2:])
        add(name, "garbage:prefix-512", rng.bytes(512) + data)
        add(name, "garbage:suffix-64k", data + rng.bytes(65536))
        mid = len(data) // 2
        span = max(1, len(data) // 10)
        add(name, "zero:middle-10pct", data[:mid] + bytes(span) + data[mid + span:])
        add(name, "repeat:middle-20pct", data[: mid + 2 * span] + data[mid:])
        add(name, "wrongext:" + _OTHER_EXT[Path(name).suffix], data,
            ext=_OTHER_EXT[Path(name).suffix])
        for label, patched in _meta_patches(name, data):
            add(name, f"meta:{label}", patched)
    (dst / "special").mkdir(parents=True, exist_ok=True)
    cases += _special_files(dst / "special", seeds)
    return cases


# -- running -------------------------------------------------------------------------------------
class _Deadline(BaseException):
    """Raised by the alarm when a case runs past its deadline (BaseException: not caught by
    ``except Exception`` inside the code under test)."""


@contextlib.contextmanager
def _deadline(seconds: float):
    def handler(signum, frame):
        raise _Deadline()

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def ffmpeg_processes(marker: str | None = None) -> list:
    """ffmpeg processes that are children of this one (alive or unreaped), plus any process
    whose command line mentions ``marker`` (e.g. the corpus folder), wherever it is.

    Returns
    -------
    list of psutil.Process
    """
    import psutil

    found = {}
    with contextlib.suppress(psutil.Error):
        for p in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if "ffmpeg" in p.name():
                    found[p.pid] = p
    if marker:
        for p in psutil.process_iter(["name", "cmdline"]):
            try:
                name = p.info["name"] or ""
                cmd = p.info["cmdline"] or []
            except psutil.Error:
                continue
            if "ffmpeg" in name and any(marker in str(a) for a in cmd):
                found[p.pid] = p
    return list(found.values())


def _count_orphans(marker: str | None, grace: float = 1.0) -> int:
    # a process killed a moment ago may still be on its way out: give it a short grace period
    end = time.monotonic() + grace
    while True:
        procs = ffmpeg_processes(marker)
        if not procs or time.monotonic() >= end:
            return len(procs)
        time.sleep(0.05)


def run_api_case(target: str, fn: Callable[[str], object], case: FuzzCase, *,
                 timeout: float = 60.0, marker: str | None = None) -> Outcome:
    """Run ``fn(path)`` with a hard deadline and classify what happened.

    Must be called from the main thread (it uses ``SIGALRM``).
    """
    path = str(case.path)
    t0 = time.perf_counter()
    status, code, msg = "ok", 0, ""
    try:
        with _deadline(timeout):
            fn(path)
    except _Deadline:
        status, code, msg = "hang", None, f"did not finish within {timeout:g} s"
    except CryVideoError as exc:
        status, code, msg = "error", exc.exit_code, str(exc)
    except Exception:  # noqa: BLE001 - this is what we are looking for
        status, code, msg = "crash", 1, traceback.format_exc()
    seconds = time.perf_counter() - t0
    return Outcome(path, case.mutation, target, status, code, msg, round(seconds, 4),
                   _count_orphans(marker))


def run_cli_inprocess(argv: Sequence[str]) -> tuple[int, str, str, float]:
    """Run ``cryvideo ARGV`` in this process; return ``(exit code, stdout, stderr, seconds)``.

    Only what Python writes to ``sys.stdout``/``sys.stderr`` is captured.
    """
    from ..cli import main

    out, err = io.StringIO(), io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(list(argv))
        except SystemExit as exc:  # argparse
            rc = exc.code if isinstance(exc.code, int) else 2
    return int(rc), out.getvalue(), err.getvalue(), time.perf_counter() - t0


def summarize(outcomes: Iterable[Outcome]) -> dict:
    """Counts per target and status, exit codes, time per file (mean, p95, max), orphans."""
    outcomes = list(outcomes)
    by_target: dict[str, dict] = {}
    for tgt in sorted({o.target for o in outcomes}):
        sel = [o for o in outcomes if o.target == tgt]
        secs = np.array([o.seconds for o in sel])
        codes: dict[str, int] = {}
        for o in sel:
            if o.status == "error":
                codes[str(o.exit_code)] = codes.get(str(o.exit_code), 0) + 1
        by_target[tgt] = {
            "files": len(sel),
            "ok": sum(o.status == "ok" for o in sel),
            "clean_errors": sum(o.status == "error" for o in sel),
            "tracebacks": sum(o.status == "crash" for o in sel),
            "hangs": sum(o.status == "hang" for o in sel),
            "orphan_ffmpeg": sum(o.orphans for o in sel),
            "exit_codes": dict(sorted(codes.items())),
            "seconds_mean": round(float(secs.mean()), 3) if len(secs) else None,
            "seconds_p95": round(float(np.percentile(secs, 95)), 3) if len(secs) else None,
            "seconds_max": round(float(secs.max()), 3) if len(secs) else None,
        }
    return by_target
