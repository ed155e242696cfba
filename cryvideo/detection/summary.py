"""A day of crying at a glance: minutes of crying per hour, episodes, the longest ones, and a
timeline picture (for the long recordings of developmental research and baby monitors)."""

from __future__ import annotations

import math
import os

import numpy as np

__all__ = ["summarize_segments", "episodes", "format_summary", "timeline_png", "timeline_figure",
           "segment_line", "clock_axis", "crying_per_bin", "EPISODE_GAP", "TIMELINE_FORMATS",
           "timeline_format", "SHOWN_SEGMENTS"]


#: Crying segments closer than this (seconds) belong to one episode.
EPISODE_GAP = 5.0
#: The picture formats of a timeline, by file ending: the bytes always match the name.
TIMELINE_FORMATS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg"}
#: Segments listed in ``detect``'s text output; the others are counted (:func:`segment_line`).
SHOWN_SEGMENTS = 5
#: Columns of a timeline's score (a longer recording is drawn from per-column maxima).
TIMELINE_COLUMNS = 1600


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


def format_summary(summary: dict) -> list[str]:
    """Text lines of a summary (for ``detect --summary``); every length is given in the unit
    that suits it (:func:`~cryvideo.media.probe.format_duration`: seconds below a minute), every
    moment as ``h:mm:ss.s`` (:func:`~cryvideo.media.probe.format_clock`)."""
    from ..media.probe import format_duration

    length = summary["hours"][-1]["end_s"]          # the recording's seconds, unrounded
    from ..media.probe import format_clock

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
            f"{format_clock(e['start_s'])}–{format_clock(e['end_s'])} "
            f"({format_duration(e['end_s'] - e['start_s'])})" for e in summary["longest"]))
    return lines


def segment_line(segments, *, shown: int = SHOWN_SEGMENTS) -> str:
    """The text line of a file's crying segments (``detect``): the first ``shown`` as
    ``h:mm:ss.s–h:mm:ss.s``, then how many more (a long recording has hundreds; ``--json``,
    ``--csv`` and ``--labels`` give them all)."""
    from ..media.probe import format_clock

    segs = list(segments)
    parts = [f"{format_clock(a)}–{format_clock(b)}" for a, b in segs[:shown]]
    line = "  segments: " + ", ".join(parts)
    if len(segs) > shown:
        line += f", … {len(segs) - shown} more (see --json, --csv or --labels)"
    return line


def _clock_step(length: float) -> float:
    """A tick spacing for a time axis of ``length`` seconds: at most 8 ticks, on round clock
    values."""
    for step in _CLOCK_STEPS:
        if length / step <= 8:
            return step
    return float(math.ceil(length / 8 / 86400) * 86400)


_CLOCK_STEPS = (0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0,
                1800.0, 3600.0, 7200.0, 10800.0, 21600.0, 43200.0, 86400.0)


def clock_axis(ax, length: float) -> None:
    """Ticks of a time axis in seconds labelled as moments of the recording (``h:mm:ss``, the
    format of ``detect``'s text), from 0 to ``length``."""
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    from ..media.probe import format_clock

    step = _clock_step(max(length, 1e-9))
    ax.xaxis.set_major_locator(MultipleLocator(step))
    ax.xaxis.set_major_formatter(FuncFormatter(
        lambda x, _pos: format_clock(x, tenths=step < 1)))
    ax.set_xlim(0, max(length, 1e-9))


def crying_per_bin(segments, length: float, bin_seconds: float) -> np.ndarray:
    """Seconds of crying in each ``bin_seconds`` of a recording ``length`` seconds long."""
    n = max(1, math.ceil(length / bin_seconds))
    return np.array([sum(max(0.0, min(b, bin_seconds * (k + 1)) - max(a, bin_seconds * k))
                         for a, b in segments) for k in range(n)])


def timeline_figure(result, *, title: str = ""):
    """A timeline of a detection (:class:`~cryvideo.detection.DetectionResult`) as a matplotlib
    ``Figure``: panels over one shared time axis (moments as ``h:mm:ss``):

    - the detector's score at the centre of each window, the threshold, and the segments shaded
      (pink: crying; green: vetoed by the face), with a legend;
    - with the face verdict, the child's expression over each audio segment
      (:func:`~cryvideo.detection.face_plot.draw_expressions`);
    - when there is crying and the recording spans two minutes or more: seconds of crying per
      minute (minutes per hour from two hours on). A file with no crying gets no such panel.

    Long recordings are drawn from per-pixel maxima of the score (nothing short is lost).
    """
    from matplotlib.figure import Figure

    from ..media.probe import format_duration
    from .face_plot import VERDICT_COLOURS, draw_expressions, shade_verdicts

    length = max(float(result.duration), 1e-9)
    t = np.asarray(result.window_centres, float)
    s = np.asarray(result.window_probs, float)
    if len(t) > TIMELINE_COLUMNS:            # per-column maxima
        edges = np.linspace(0, len(t), TIMELINE_COLUMNS + 1).astype(int)
        t = (t[edges[:-1]] + t[edges[1:] - 1]) / 2
        s = np.maximum.reduceat(s, edges[:-1])
    segments = [(float(a), float(b)) for a, b in result.segments]
    verdicts = list(result.face_verdicts)
    per_hour = length >= 2 * 3600
    bin_s = 3600.0 if per_hour else 60.0
    bars = bool(segments) and math.ceil(length / bin_s) >= 2
    heights = [2.0] + ([1.5] if verdicts else []) + ([1.0] if bars else [])
    fig = Figure(figsize=(12, 1.0 + 1.6 * sum(heights)), layout="constrained")
    axes = fig.subplots(len(heights), 1, height_ratios=heights, sharex=True, squeeze=False)[:, 0]
    ax1 = axes[0]
    ax1.plot(t, s, lw=0.8, color="#444", label="score (at window centres)")
    ax1.axhline(result.threshold, color="#c33", lw=0.8, ls="--",
                label=f"threshold {result.threshold:.2f}")
    if verdicts:
        shade_verdicts(ax1, verdicts)
        draw_expressions(axes[1], result.face_spans, verdicts, xlim=(0, length))
    else:
        for k, (a, b) in enumerate(segments):
            ax1.axvspan(a, b, color=VERDICT_COLOURS["audio"], alpha=0.35, lw=0,
                        label=None if k else "crying segment")
    ax1.set_ylim(0, 1)
    ax1.set_ylabel("crying score")
    ax1.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=4, fontsize=8,
               frameon=False)
    vetoed = sum(v.decision == "veto" for v in verdicts)
    if segments:
        cried = 60 * summarize_segments(segments, length)["crying_minutes"]  # as --summary says
        what = (f"crying: {len(segments)} segment{'s' if len(segments) != 1 else ''}, "
                f"{format_duration(cried)} in {format_duration(length)}")
    else:
        what = ("no crying: the face vetoed the sound" if vetoed else
                f"no crying (highest score {result.probability:.2f}, threshold "
                f"{result.threshold:.2f})")
    ax1.set_title(f"{title}: {what}" if title else what, loc="left", fontsize=10)
    if bars:
        ax2 = axes[-1]
        sec = crying_per_bin(segments, length, bin_s)
        ax2.bar((np.arange(len(sec)) + 0.5) * bin_s, sec / (60.0 if per_hour else 1.0),
                width=0.9 * bin_s, color="#d46")
        ax2.set_ylabel("min of crying\nper hour" if per_hour else "s of crying\nper minute")
    for ax in axes:
        clock_axis(ax, length)
    axes[-1].set_xlabel("time in the recording (h:mm:ss)")
    return fig


def timeline_png(path: str | os.PathLike, result, *, title: str = "") -> None:
    """Write :func:`timeline_figure` of a detection: a PNG, or a JPEG when ``path`` ends in
    ``.jpg`` or ``.jpeg`` (:func:`timeline_format`); atomically."""
    from ..io import atomic_path

    fmt = timeline_format(path)
    fig = timeline_figure(result, title=title)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format=fmt)
