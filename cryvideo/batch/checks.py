"""Checks of a batch's inputs and outputs before any work: the media files a folder holds, and
an output file that can be written without losing anything (never an input, nor a file of
another kind). A number option's range: :func:`cryvideo.errors.check_number`; a folder of
outputs: :func:`cryvideo.io.check_output_folder`."""

from __future__ import annotations

import codecs
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..errors import InputFileError, ParameterError
from ..io import unwritable_reason

__all__ = ["MEDIA_EXTENSIONS", "OUTPUT_KINDS", "expand_inputs", "check_output", "same_file"]

#: File endings picked up when a folder is given.
MEDIA_EXTENSIONS = frozenset(
    ".mp4 .mov .mkv .avi .webm .m4v .3gp .wav .mp3 .ogg .flac .m4a .aac .caf .opus".split()
)
#: What an existing output file must look like to be replaced (``kind`` of :func:`check_output`).
OUTPUT_KINDS = {"text": "a text or JSON-lines file", "html": "an HTML page",
                "png": "a PNG picture", "jpeg": "a JPEG picture", "parquet": "a Parquet file",
                "labels": "an Audacity label track",
                "csv": "a segments CSV of cryvideo detect"}


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


# -- outputs -----------------------------------------------------------------------------------
def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` both exist and are one file (a link, another spelling)."""
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _looks_like(path: Path, kind: str) -> bool:
    """Whether an existing file is of the output's ``kind`` (so replacing it loses nothing
    the user did not ask to replace)."""
    if path.suffix.lower() in MEDIA_EXTENSIONS:
        return False
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
    except OSError:
        return False
    if not head:
        return True  # an empty file holds nothing to lose
    if kind == "png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if kind == "jpeg":
        return head.startswith(b"\xff\xd8\xff")
    if kind == "parquet":
        return head.startswith(b"PAR1")
    if b"\x00" in head:
        return False
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    if kind == "html":
        start = text.lstrip().lower()
        return start.startswith(("<!doctype html", "<html"))
    if kind in ("labels", "csv"):
        from ..detection.exports import is_label_track, is_segments_csv

        if len(head) == 1 << 16:        # a longer file: its last line here may be cut
            text = text.rsplit("\n", 1)[0]
        return (is_label_track if kind == "labels" else is_segments_csv)(text)
    return True


def check_output(target: str | os.PathLike, *, option: str, kind: str,
                 inputs: Sequence[str | os.PathLike] = ()) -> Path:
    """Check an output file before any work: it can be written and replacing it loses nothing.

    Refused, each with :class:`ParameterError` (exit 2) naming the file: one of the ``inputs``;
    a folder or a device; an existing file that is not of ``kind`` (see :data:`OUTPUT_KINDS`:
    a media file, binary data, or not an HTML page for ``"html"``); a read-only file; a place
    where no file can be created.

    Returns
    -------
    pathlib.Path
        ``target`` as a path.
    """
    p = Path(target)
    for src in inputs:
        if same_file(p, Path(src)) or os.path.abspath(p) == os.path.abspath(src):
            raise ParameterError(f"is one of the input files: {option} never writes over an "
                                 "input", path=p)
    if p.is_dir():
        raise ParameterError(f"is a folder: give {option} a file name", path=p)
    if p.exists():
        if not p.is_file():
            raise ParameterError(f"is not a regular file: {option} will not write to it", path=p)
        if not _looks_like(p, kind):
            raise ParameterError(f"exists and is not {OUTPUT_KINDS[kind]}: {option} will not "
                                 "write over it (remove it or choose another name)", path=p)
        if not os.access(p, os.W_OK):
            raise ParameterError(f"is read-only: {option} will not write over it", path=p)
    why = unwritable_reason(p.parent)
    if why:
        raise ParameterError(f"cannot be written: {why}", path=p)
    return p
