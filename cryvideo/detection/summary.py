"""A day of crying at a glance: minutes of crying per hour, episodes, the longest ones, and a
timeline picture (for the long recordings of developmental research and baby monitors)."""

from __future__ import annotations

import math
import os

import numpy as np

__all__ = ["summarize_segments", "episodes", "format_summary", "timeline_png", "EPISODE_GAP",
           "TIMELINE_FORMATS", "timeline_format"]


#: Crying segments closer than this (seconds) belong to one episode.
EPISODE_GAP = 5.0
#: The picture formats of a timeline, by file ending: the bytes always match the name.
TIMELINE_FORMATS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg"}


def timeline_format(path: str | os.PathLike) -> str:
    """The picture format of a timeline file, from its ending: ``"png"`` or ``"jpeg"``.

    Raises
    ------
    ParameterError
        Any other ending (a picture's bytes must match its name).
    """
    from ..errors import ParameterError

    fmt = TIMELINE_FORMATS.get(os.path.splitext(os.fspath(path))[1].lower())
    if fmt is None:
        raise ParameterError("a timeline picture is a PNG or a JPEG: give it a name ending in "
                             ".png, .jpg or .jpeg", path=path)
    return fmt


def episodes(segments, *, gap: float = EPISODE_GAP) -> list[tuple[float, float]]:
    """Crying segments joined into episodes when less than ``gap`` seconds apart (a cry
    pauses for breath; the detector's windows dip in between)."""
    out: list[list[float]] = []
    for a, b in sorted((float(a), float(b)) for a, b in segments if b > a):
        if out and a - out[-1][1] < gap:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def summarize_segments(segments, duration: float, *, longest: int = 5,
                       gap: float = EPISODE_GAP) -> dict:
    """Crying per hour of a recording.

    Parameters
    ----------
    segments : sequence of (float, float)
        Crying segments (seconds), sorted, not overlapping.
    duration : float
        Seconds of audio analysed.
    longest : int
        How many of the longest episodes to list.
    gap : float
        Segments closer than this are one episode (:func:`episodes`).

    Returns
    -------
    dict
        ``duration_hours``, ``crying_minutes`` (the segments' total), ``crying_share``,
        ``episodes`` (count), ``episode_gap_s``, ``hours`` (one row per started hour:
        ``hour``, ``start_s``, ``end_s``, ``crying_minutes``, ``episodes`` starting in it) and
        ``longest`` episodes (start, end, minutes). The hourly minutes add up to
        ``crying_minutes``.
    """
    segs = [(float(a), float(b)) for a, b in segments if b > a]
    eps = episodes(segs, gap=gap)
    n_hours = max(1, math.ceil(duration / 3600.0))
    hours = []
    for h in range(n_hours):
        lo, hi = 3600.0 * h, min(3600.0 * (h + 1), duration)
        cry = sum(max(0.0, min(b, hi) - max(a, lo)) for a, b in segs)
        hours.append({"hour": h, "start_s": lo, "end_s": hi,
                      "crying_minutes": round(cry / 60.0, 3),
                      "episodes": sum(lo <= a < hi for a, _ in eps)})
    total = sum(b - a for a, b in segs)
    top = sorted(eps, key=lambda s: s[0] - s[1])[:longest]
    return {"duration_hours": round(duration / 3600.0, 4),
            "crying_minutes": round(total / 60.0, 3),
            "crying_share": round(total / duration, 4) if duration > 0 else 0.0,
            "episodes": len(eps), "episode_gap_s": gap, "hours": hours,
            "longest": [{"start_s": round(a, 2), "end_s": round(b, 2),
                         "minutes": round((b - a) / 60.0, 2)} for a, b in top]}


def _clock(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def format_summary(summary: dict) -> list[str]:
    """Text lines of a summary (for ``detect --summary``); every length is given in the unit
    that suits it (:func:`~cryvideo.media.probe.format_duration`: seconds below a minute)."""
    from ..media.probe import format_duration

    length = summary["hours"][-1]["end_s"]          # the recording's seconds, unrounded
    lines = [f"  summary: {format_duration(60 * summary['crying_minutes'])} of crying in "
             f"{format_duration(length)} ({100 * summary['crying_share']:.1f} %), "
             f"{summary['episodes']} episode(s) (segments less than "
             f"{summary['episode_gap_s']:g} s apart are one)"]
    if len(summary["hours"]) > 1:
        lines.append("  per hour: " + ", ".join(
            f"{h['hour']}h {format_duration(60 * h['crying_minutes'])}"
            for h in summary["hours"]))
    if summary["longest"]:
        lines.append("  longest: " + ", ".join(
            f"{_clock(e['start_s'])}–{_clock(e['end_s'])} "
            f"({format_duration(e['end_s'] - e['start_s'])})" for e in summary["longest"]))
    return lines


def timeline_png(path: str | os.PathLike, *, times: np.ndarray, scores: np.ndarray,
                 threshold: float, segments, summary: dict, title: str = "",
                 face_spans=(), face_verdicts=()) -> None:
    """Write a timeline: the detector's score over the recording with the crying segments
    shaded, and minutes of crying per hour below; a PNG, or a JPEG when ``path`` ends in
    ``.jpg`` or ``.jpeg`` (:func:`timeline_format`). With the face verdict
    (``face_spans``/``face_verdicts`` of :class:`~cryvideo.detection.DetectionResult`), a
    face panel between them shows the child's expression over each audio segment and each
    segment's decision (crying, or vetoed by the face).

    Long recordings are drawn from per-pixel maxima of the score (nothing short is lost).
    """
    from matplotlib.figure import Figure

    from ..io import atomic_path

    fmt = timeline_format(path)
    t = np.asarray(times, float)
    s = np.asarray(scores, float)
    width = 1600
    if len(t) > width:                       # per-column maxima
        edges = np.linspace(0, len(t), width + 1).astype(int)
        t = t[edges[:-1]]
        s = np.maximum.reduceat(s, edges[:-1])
    hours = summary["duration_hours"]
    scale, unit = (3600.0, "h") if hours >= 2 else (60.0, "min") if hours * 60 >= 2 else (1.0, "s")
    with_face = bool(face_verdicts)
    fig = Figure(figsize=(12, 6.2 if with_face else 4.2), layout="constrained")
    if with_face:
        ax1, axf, ax2 = fig.subplots(3, 1, height_ratios=[2, 1.5, 1], sharex=False)
    else:
        ax1, ax2 = fig.subplots(2, 1, height_ratios=[2, 1])
    ax1.plot(t / scale, s, lw=0.7, color="#444")
    ax1.axhline(threshold, color="#c33", lw=0.8, ls="--", label=f"threshold {threshold:.2f}")
    if with_face:
        from .face_plot import draw_expressions, shade_verdicts

        shade_verdicts(ax1, face_verdicts, scale=scale)
        draw_expressions(axf, face_spans, face_verdicts, scale=scale,
                         xlim=(0, max(summary["duration_hours"] * 3600.0 / scale, 1e-9)))
        axf.set_xlabel(f"time ({unit})")
        ax1.set_xlim(0, max(summary["duration_hours"] * 3600.0 / scale, 1e-9))
    for seg in (() if with_face else segments):
        ax1.axvspan(seg[0] / scale, seg[1] / scale, color="#f4a", alpha=0.3, lw=0)
    ax1.set_ylim(0, 1)
    ax1.set_ylabel("crying score")
    ax1.set_xlabel(f"time ({unit})")
    ax1.legend(loc="upper right", fontsize=8)
    ax1.set_title(title or "Crying over the recording")
    dur = summary["duration_hours"] * 3600.0
    if dur >= 2 * 3600:                      # minutes of crying per hour
        h = summary["hours"]
        ax2.bar([r["hour"] + 0.5 for r in h], [r["crying_minutes"] for r in h], width=0.9,
                color="#d46")
        ax2.set_xlabel("hour of the recording")
        ax2.set_ylabel("min of crying")
    else:                                    # seconds of crying per minute
        n = max(1, math.ceil(dur / 60.0))
        sec = [sum(max(0.0, min(b, 60.0 * (m + 1)) - max(a, 60.0 * m)) for a, b in segments)
               for m in range(n)]
        ax2.bar([m + 0.5 for m in range(n)], sec, width=0.9, color="#d46")
        ax2.set_xlabel("minute of the recording")
        ax2.set_ylabel("s of crying")
    ax2.set_xlim(0, None)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format=fmt)
