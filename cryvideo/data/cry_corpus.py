"""The cry-detection corpus: every clip that can teach or test "is an infant crying?".

One loader reads three folders of ``../shared/data`` and keeps, for every clip, its label, its
*category* (what kind of sound it is) and its *group* (the recording or speaker it comes from,
the unit of every honest split and of per-recording metrics):

- ``cry_detection/`` — infant cries (ESC-50 and home recordings) and not-cry clips (other ESC-50
  sounds, infant laughter from 2 home recordings, silence from 1); home-recording windows
  overlap, so clips of one group are never split.
- ``vocal_negatives/`` — 668 not-cry clips from 418 speakers/recordings in 14 categories (child
  and adult speech, screaming, laughter, coughing, adult crying, music, …).
- ``donateacry/`` — 457 infant cries (8 kHz phone recordings), grouped by app-install UUID.

Group names are prefixed with their source so that two folders can never share one.
"""

from __future__ import annotations

import collections
import dataclasses
import os
from pathlib import Path

from .. import environment
from ..errors import DatasetError
from .cry_detection_set import CryDetectionItem, load_cry_detection

__all__ = ["DetectionClip", "DETECTION_SOURCES", "NEGATIVE_CATEGORIES_NOT_COUNTED",
           "load_detection_corpus", "category_table", "default_data_root"]

#: Folders of ``../shared/data`` read by :func:`load_detection_corpus`.
DETECTION_SOURCES = ("cry_detection", "vocal_negatives", "donateacry")
#: Negative categories reported but not counted against a detector of *infant* crying.
NEGATIVE_CATEGORIES_NOT_COUNTED = ("adult_teen_crying",)
#: cry_detection's category names, made explicit beside the vocal negatives' ones.
_RENAME = {"laugh": "infant_laughter", "noise": "environmental_sound"}


@dataclasses.dataclass(frozen=True)
class DetectionClip(CryDetectionItem):
    """One clip of the detection corpus: a :class:`CryDetectionItem` of any source folder, with
    where it comes from.

    Attributes
    ----------
    path, label : str
        As :class:`CryDetectionItem`'s.
    category : str
        Kind of sound (``cry``, ``infant_laughter``, ``child_speech``, ``music``, …).
    group : str
        Source recording / speaker / app install, prefixed by the source folder.
    source : str
        ``cry_detection``, ``vocal_negatives`` or ``donateacry``.
    origin : str
        Where the recording comes from (e.g. ``ESC-50``, ``home``, ``Donateacry``).
    licence : str
        The manifest's ``license`` column (empty when it has none).
    """

    source: str
    origin: str = ""
    licence: str = ""

    @property
    def no_derivatives(self) -> bool:
        """A no-derivatives licence (CC BY-NC-ND): the file may be windowed or resampled in
        memory only; no modified copy of it may be written, not even to a cache."""
        return "-ND" in self.licence.upper().replace(" ", "-")


def default_data_root() -> Path | None:
    """``$CRYVIDEO_SHARED/data`` or ``../shared/data`` beside the repository, if present."""
    base = environment.shared_dir() or Path(__file__).resolve().parents[3] / "shared"
    d = base / "data"
    return d if d.is_dir() else None


def _manifest(root: Path, source: str) -> list[DetectionClip]:
    out = []
    import csv

    origins, licences = {}, {}
    with open(root / "manifest.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            origins[row.get("path", "")] = row.get("origin", "")
            licences[row.get("path", "")] = row.get("license", "") or ""
    for it in load_cry_detection(root):
        if it.label not in ("cry", "not_cry"):
            raise DatasetError(f"label must be cry or not_cry, got {it.label!r}", path=it.path)
        rel = os.path.relpath(it.path, root)
        origin = origins.get(rel, "")
        short = ("ESC-50" if "ESC-50" in origin else "home" if "home" in origin
                 else origin.split(" ")[0] if origin else source)
        out.append(DetectionClip(it.path, it.label, _RENAME.get(it.category, it.category),
                                 f"{source}:{it.group}", source, short, licences.get(rel, "")))
    return out


def load_detection_corpus(root: str | os.PathLike | None = None, *,
                          sources: tuple[str, ...] = DETECTION_SOURCES) -> list[DetectionClip]:
    """Read the detection corpus.

    Parameters
    ----------
    root : str or os.PathLike, optional
        The ``data`` folder holding the source folders (default: :func:`default_data_root`).
    sources : tuple of str
        Which folders to read (see :data:`DETECTION_SOURCES`).

    Returns
    -------
    list of DetectionClip
        In source order, then manifest order.

    Raises
    ------
    DatasetError
        Missing folder, manifest or file, or an unknown source name.
    """
    if root is None:
        root = default_data_root()
        if root is None:
            raise DatasetError("no data folder: give one, or set CRYVIDEO_SHARED",
                               path="../shared/data")
    root = Path(root)
    clips: list[DetectionClip] = []
    for src in sources:
        if src not in DETECTION_SOURCES:
            raise DatasetError(f"unknown source {src!r} (known: {', '.join(DETECTION_SOURCES)})",
                               path=root)
        d = root / src
        if not d.is_dir():
            raise DatasetError("folder not found", path=d)
        if src == "donateacry":
            from .donateacry import load_donateacry

            clips += [DetectionClip(it.path, "cry", "cry", f"donateacry:{it.uuid}", src,
                                    "Donateacry")
                      for it in load_donateacry(d)]
        else:
            clips += _manifest(d, src)
    return clips


def category_table(clips: list[DetectionClip]) -> list[dict]:
    """Clips and groups per (label, source, category), positives first.

    Returns
    -------
    list of dict
        ``label``, ``category``, ``source``, ``clips``, ``groups``.
    """
    n: collections.Counter = collections.Counter()
    g: dict = collections.defaultdict(set)
    for c in clips:
        key = (c.label, c.category, c.source)
        n[key] += 1
        g[key].add(c.group)
    keys = sorted(n, key=lambda k: (k[0] != "cry", k[2] != "cry_detection", -n[k], k[1]))
    return [{"label": k[0], "category": k[1], "source": k[2], "clips": n[k],
             "groups": len(g[k])} for k in keys]
