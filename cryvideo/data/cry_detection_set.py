"""The cry-detection set (cry vs not-cry clips) described by a ``manifest.csv``."""

from __future__ import annotations

import csv
import dataclasses
import os
from pathlib import Path

from ..errors import DatasetError

__all__ = ["CryDetectionItem", "load_cry_detection"]


@dataclasses.dataclass(frozen=True)
class CryDetectionItem:
    """One clip of the detection set.

    Attributes
    ----------
    path : str
    label : str
        ``"cry"`` or ``"not_cry"``.
    category : str
        ``cry``, ``laugh``, ``noise`` or ``silence``.
    group : str
        Source recording: the grouping key for splits (windows of one recording overlap).
    """

    path: str
    label: str
    category: str
    group: str

    @property
    def is_cry(self) -> bool:
        return self.label == "cry"


def load_cry_detection(root: str | os.PathLike) -> list[CryDetectionItem]:
    """Read ``root/manifest.csv`` (columns path, label, category, group, …).

    Raises
    ------
    DatasetError
        Missing manifest or columns, or a listed file that does not exist.
    """
    root = Path(root)
    man = root / "manifest.csv"
    if not man.is_file():
        raise DatasetError("no manifest.csv in this folder", path=root)
    with open(man, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        need = {"path", "label", "category", "group"}
        if not need <= set(reader.fieldnames or ()):
            raise DatasetError(f"manifest needs columns {sorted(need)}", path=man)
        items = []
        for row in reader:
            p = root / row["path"]
            if not p.is_file():
                raise DatasetError("listed in manifest.csv but missing", path=p)
            items.append(CryDetectionItem(os.fspath(p), row["label"], row["category"],
                                          row["group"]))
    if not items:
        raise DatasetError("manifest.csv lists no clips", path=man)
    return items
