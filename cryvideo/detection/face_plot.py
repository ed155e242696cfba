"""Drawing the face channel of the audio-visual verdict on a time axis (matplotlib), for
``detect --timeline`` and ``predict --report``."""

from __future__ import annotations

import numpy as np

from ..vision.expression import distress, happy
from .face_cue import ZERO_SHOT_NOTE

__all__ = ["shade_verdicts", "draw_expressions", "any_faces", "VERDICT_COLOURS"]

#: Band colour of a segment by its decision.
VERDICT_COLOURS = {"audio": "#f4a", "veto": "#8a8"}
_LABELS = {"audio": "crying (sound decided)", "veto": "vetoed by the face (happy)"}


def shade_verdicts(ax, verdicts, *, scale: float = 1.0) -> None:
    """Shade each audio segment by its decision (pink: crying, green: vetoed by the face),
    with a legend entry per kind."""
    seen = set()
    for v in verdicts:
        label = None if v.decision in seen else _LABELS[v.decision]
        seen.add(v.decision)
        ax.axvspan(v.start / scale, v.end / scale, color=VERDICT_COLOURS[v.decision],
                   alpha=0.35, lw=0, label=label)


def draw_expressions(ax, spans, verdicts, *, scale: float = 1.0, thumbnails: bool = True,
                     xlim: tuple | None = None, max_thumbnails: int | None = None,
                     max_labels: int | None = None) -> None:
    """The child's face over each segment: smoothed P(happy) and P(distress) (angry + disgust +
    fear + sad) at the sampled frames, a few face thumbnails at their times, and the verdict.

    Parameters
    ----------
    ax : matplotlib Axes
    spans : list of SpanFaces
    verdicts : list of SegmentVerdict
        Same order as ``spans``.
    scale : float
        Seconds per unit of the x axis.
    max_thumbnails : int, optional
        Draw at most this many thumbnails, spread evenly over the spans' (a long recording's
        hundreds of segments would bury the curves).
    max_labels : int, optional
        With more segments than this, no segment gets its decision written over it.
    """
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage

    shade_verdicts(ax, verdicts, scale=scale)
    shown = [th for span in spans for th in span.thumbnails] if thumbnails else []
    if max_thumbnails is not None and len(shown) > max_thumbnails:
        keep = np.unique(np.linspace(0, len(shown) - 1, max(0, max_thumbnails)).astype(int))
        shown = [shown[i] for i in keep]
    drew = False
    for span in spans:
        if span.child is None:
            continue
        margin = next(iter(span.child.probs))
        p = span.child.probs[margin]
        t = span.times[span.child.frames] / scale
        ax.plot(t, happy(p), ".-", color="#2a2", lw=1, ms=3,
                label=None if drew else "P(happy)")
        ax.plot(t, distress(p), ".-", color="#c33", lw=1, ms=3,
                label=None if drew else "P(distress)")
        drew = True
    for when, img in shown:
        box = AnnotationBbox(OffsetImage(img, zoom=0.45), (when / scale, 0.5),
                             frameon=False, zorder=5)
        ax.add_artist(box)
    for v in verdicts if max_labels is None or len(verdicts) <= max_labels else ():
        mid = (v.start + v.end) / 2 / scale
        txt = "veto" if v.decision == "veto" else ("no face" if v.frames_with_face == 0
                                                   else "audio")
        ax.text(mid, 0.97, txt, ha="center", va="top", fontsize=7,
                transform=ax.get_xaxis_transform(),
                bbox={"facecolor": "white", "alpha": 0.7, "lw": 0, "pad": 1})
    ax.set_ylim(-0.03, 1.03)  # probabilities of exactly 0 or 1 stay visible
    if xlim is not None:
        ax.set_xlim(*xlim)
    ax.set_ylabel("face")
    if drew or verdicts:
        ax.legend(loc="upper right", fontsize=7)
    ax.set_title("face expression over the crying segments (zero-shot: "
                 + ZERO_SHOT_NOTE.split("(")[1].split(")")[0] + " model trained on adults)",
                 fontsize=8, loc="left")


def any_faces(spans) -> bool:
    """Whether any span holds a face."""
    return any(s.child is not None for s in spans)

