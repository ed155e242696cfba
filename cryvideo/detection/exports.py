"""A detection's segments for other tools: an Audacity label track (also read by ELAN and
Sonic Visualiser) and a CSV table, for ``detect --labels`` and ``detect --csv``.

The label track is Audacity's text format: one line per label, ``start<TAB>end<TAB>label``,
times in seconds with six decimals (what Audacity writes itself), a period as decimal mark.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable

__all__ = ["LABEL", "label_track", "write_labels", "SEGMENT_COLUMNS", "segment_rows",
           "segments_csv", "write_segments_csv", "is_label_track", "is_segments_csv"]

#: The label of a crying segment in a label track.
LABEL = "crying"
#: The columns of ``detect --csv``, in order.
SEGMENT_COLUMNS = ("path", "start", "end", "duration", "crying", "peak_score", "decision",
                   "decided_by")
#: A line of an Audacity label track: a label, or the frequency range of the label above it.
_LABEL_LINE = re.compile(r"(-?\d+(\.\d*)?\t-?\d+(\.\d*)?(\t[^\t]*)?|\\\t.*)")


def label_track(result) -> str:
    """The crying segments of a :class:`~cryvideo.detection.DetectionResult` as an Audacity
    label track: ``start<TAB>end<TAB>crying`` a line (no line for a file with no crying)."""
    return "".join(f"{a:.6f}\t{b:.6f}\t{LABEL}\n" for a, b in result.segments)


def write_labels(path: str | os.PathLike, result) -> None:
    """Write :func:`label_track` of ``result`` to ``path`` atomically."""
    from ..io import write_text_atomic

    write_text_atomic(path, label_track(result))


def segment_rows(result) -> list[dict]:
    """The rows of ``detect --csv`` for one detection (columns :data:`SEGMENT_COLUMNS`).

    One row per crying segment. When the face took part in the verdict, one row per audio
    segment instead: those the face vetoed too (``crying`` false, ``decision`` ``veto``,
    ``decided_by`` ``face``); without the face, ``decision`` and ``decided_by`` are empty.
    ``peak_score`` is the highest window score in the segment.
    """
    path = "" if result.path is None else str(result.path)
    if result.face_verdicts:
        spans = [(v.start, v.end, v.decision != "veto", v.decision, v.decided_by)
                 for v in result.face_verdicts]
    else:
        spans = [(a, b, True, "", "") for a, b in result.segments]
    rows = []
    for a, b, crying, decision, by in spans:
        peak = result.peak(a, b)
        rows.append({"path": path, "start": f"{a:.3f}", "end": f"{b:.3f}",
                     "duration": f"{b - a:.3f}", "crying": "true" if crying else "false",
                     "peak_score": "" if peak is None else f"{peak:.4f}",
                     "decision": decision, "decided_by": by})
    return rows


def segments_csv(results: Iterable) -> str:
    """The CSV text (a header, then :func:`segment_rows` of every result, in order)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=SEGMENT_COLUMNS, lineterminator="\n")
    w.writeheader()
    for res in results:
        w.writerows(segment_rows(res))
    return buf.getvalue()


def write_segments_csv(path: str | os.PathLike, results: Iterable) -> None:
    """Write :func:`segments_csv` of ``results`` to ``path`` atomically."""
    from ..io import write_text_atomic

    write_text_atomic(path, segments_csv(results))


def is_label_track(text: str) -> bool:
    """Whether ``text`` reads as an Audacity label track (every line a label or a frequency
    range; an empty text is an empty track)."""
    return all(_LABEL_LINE.fullmatch(line) for line in text.splitlines() if line.strip())


def is_segments_csv(text: str) -> bool:
    """Whether ``text`` starts with the header of ``detect --csv``."""
    return text.splitlines()[0].strip() == ",".join(SEGMENT_COLUMNS) if text.strip() else True
