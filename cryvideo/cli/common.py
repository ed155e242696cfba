"""Helpers shared by the sub-commands: input expansion, progress bars, output."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import InputFileError
from ..io import write_text_atomic

__all__ = ["MEDIA_EXTENSIONS", "expand_inputs", "progress_bar", "emit_json", "write_output"]

#: File endings picked up when a folder is given.
MEDIA_EXTENSIONS = frozenset(
    ".mp4 .mov .mkv .avi .webm .m4v .3gp .wav .mp3 .ogg .flac .m4a .aac .caf .opus".split()
)


def expand_inputs(paths: Iterable[str]) -> list[str]:
    """Files as given, plus the media files inside any folder given (sorted, recursive).

    A folder with no media files is an error; a single path that is a directory is reported
    by the media layer as "is a directory" only when it is not expanded here.
    """
    out: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            found = sorted(str(f) for f in Path(p).rglob("*")
                           if f.is_file() and f.suffix.lower() in MEDIA_EXTENSIONS)
            if not found:
                raise InputFileError("is a directory with no media files in it", path=p)
            out.extend(found)
        else:
            out.append(p)
    return out


def progress_bar(iterable=None, *, total=None, desc: str = "", unit: str = "it",
                 disable: bool | None = None, **kw) -> Iterator:
    """A tqdm bar on stderr, hidden when stderr is not a terminal (unless forced)."""
    from tqdm import tqdm  # plain text bar: no ipywidgets needed in Jupyter

    if disable is None:
        disable = not sys.stderr.isatty() and not os.environ.get("CRYVIDEO_PROGRESS")
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=disable, leave=False,
                file=sys.stderr, dynamic_ncols=True, **kw)


class StageProgress:
    """A ``progress(stage, done, total)`` callback drawing one tqdm bar per file.

    Call :meth:`close` when the file is done; the next call opens a new bar.
    """

    def __init__(self, *, unit: str = "it") -> None:
        self.unit = unit
        self.bar = None

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if self.bar is None:
            self.bar = progress_bar(total=total, desc=stage, unit=self.unit)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def emit_json(obj) -> str:
    """Compact one-line JSON."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def write_output(path: str | os.PathLike, text: str) -> None:
    """Write a result file atomically (never half-written)."""
    write_text_atomic(path, text)
