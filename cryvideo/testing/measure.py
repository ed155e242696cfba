"""Measuring: the machine a figure was measured on (:func:`machine`, re-exported from
:mod:`cryvideo.machine`), and running a command while measuring its peak memory (the whole
process tree)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import tempfile
import time
from collections.abc import Sequence

from ..machine import machine

__all__ = ["Measured", "run_measured", "children_cpu_seconds", "long_video", "machine"]


@dataclasses.dataclass
class Measured:
    """What :func:`run_measured` saw.

    Attributes
    ----------
    returncode : int
    stdout, stderr : str
    seconds : float
        Wall time.
    peak_rss_mb : float
        Highest resident memory of the main process (MiB), polled.
    peak_tree_rss_mb : float
        Highest sum of resident memory of the process and all its children (ffmpeg …), polled.
    max_child_processes : int
        Most children seen at once.
    samples : int
        Number of polls.
    cpu_seconds : float
        User + system CPU time of the process and its children (ffmpeg …): on a shared
        machine it hardly changes with the load, unlike the wall time.
    tree_trace : list of (float, float)
        ``(seconds since start, MiB of the process tree)`` at each poll.
    process_peaks : dict
        ``{pid: (command line, highest resident MiB)}`` of every process of the tree seen.
    """

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss_mb: float
    peak_tree_rss_mb: float
    max_child_processes: int
    samples: int
    cpu_seconds: float = 0.0
    tree_trace: list = dataclasses.field(default_factory=list)
    process_peaks: dict = dataclasses.field(default_factory=dict)


def children_cpu_seconds() -> float:
    """User + system CPU seconds of this process's finished (waited-for) children and their
    descendants; the difference around a subprocess run is that run's CPU time."""
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_measured(argv: Sequence[str], *, env: dict | None = None, timeout: float = 3600,
                 poll: float = 0.1) -> Measured:
    """Run ``argv`` and poll the resident memory of it and its children until it exits.

    Output goes through temporary files (a chatty progress bar cannot fill a pipe).
    Raises :class:`subprocess.TimeoutExpired` (after killing it) past ``timeout``.
    """
    import psutil

    mb = 1 / (1 << 20)
    trace = []
    peaks: dict[int, tuple[str, float]] = {}
    c0 = children_cpu_seconds()
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        t0 = time.monotonic()
        proc = subprocess.Popen(list(argv), stdout=fo, stderr=fe, stdin=subprocess.DEVNULL,
                                env=env)
        ps = psutil.Process(proc.pid)
        peak = peak_tree = 0
        kids_max = samples = 0
        try:
            while proc.poll() is None:
                if time.monotonic() - t0 > timeout:
                    raise subprocess.TimeoutExpired(list(argv), timeout)
                with contextlib.suppress(psutil.Error):
                    rss = ps.memory_info().rss
                    kids = ps.children(recursive=True)
                    tree = rss
                    _peak(peaks, ps, rss)
                    for k in kids:
                        with contextlib.suppress(psutil.Error):
                            k_rss = k.memory_info().rss
                            tree += k_rss
                            _peak(peaks, k, k_rss)
                    peak, peak_tree = max(peak, rss), max(peak_tree, tree)
                    trace.append((time.monotonic() - t0, tree * mb))
                    kids_max = max(kids_max, len(kids))
                    samples += 1
                time.sleep(poll)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        seconds = time.monotonic() - t0
        cpu = children_cpu_seconds() - c0
        fo.seek(0)
        fe.seek(0)
        out = fo.read().decode("utf-8", "replace")
        err = fe.read().decode("utf-8", "replace")
    return Measured(proc.returncode, out, err, round(seconds, 2), round(peak * mb, 1),
                    round(peak_tree * mb, 1), kids_max, samples, round(cpu, 2), trace,
                    {pid: (cmd, round(b * mb, 1)) for pid, (cmd, b) in peaks.items()})


def _peak(peaks: dict, proc, rss: int) -> None:
    """Keep the highest ``rss`` of ``proc`` (a psutil.Process) in ``peaks``, with its command
    line read again at each new peak (a child seen between fork and exec still shows its
    parent's)."""
    old = peaks.get(proc.pid)
    if old is not None and rss <= old[1]:
        return
    try:
        cmd = " ".join(proc.cmdline())
    except Exception:  # noqa: BLE001 - psutil.Error: gone already
        cmd = old[0] if old else "?"
    peaks[proc.pid] = (cmd, rss)


def long_video(path: str | os.PathLike, *, minutes: float = 60.0, size: str = "240x180",
               rate: int = 5, source: str | os.PathLike | None = None) -> str:
    """Make a long synthetic video by looping a short clip (default: ``examples/demo.mp4``,
    a synthetic cry and a moving face), re-encoded small so it is quick to make.

    Returns
    -------
    str
        The path.
    """
    from ..media import ffmpeg_exe, probe

    src = source or os.path.join(os.path.dirname(__file__), "..", "..", "examples", "demo.mp4")
    info = probe(src)
    loops = int(minutes * 60 / info.duration) + 1
    w, h = size.split("x")
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
         "-stream_loop", str(loops - 1), "-i", os.fspath(src), "-t", str(minutes * 60),
         "-vf", f"scale={w}:{h},fps={rate}", "-c:v", "libx264", "-preset", "ultrafast",
         "-crf", "35", "-c:a", "aac", "-b:a", "32k", os.fspath(path)],
        check=True, timeout=1800, stdin=subprocess.DEVNULL)
    return os.fspath(path)
