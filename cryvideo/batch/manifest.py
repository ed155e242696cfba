"""Reading a batch's inputs from a manifest: a text file with one path a line, or a CSV file
whose ``path`` column (else its first column) holds them."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from ..errors import InputFileError

__all__ = ["read_manifest"]


def read_manifest(path: str | os.PathLike) -> list[str]:
    """The input paths a manifest lists, in order.

    A relative path is taken relative to the manifest's folder. In a text manifest, blank lines
    and lines starting with ``#`` are skipped. A ``.csv`` manifest uses its ``path`` column when
    its header has one, else its first column (and then has no header row).

    Raises
    ------
    InputFileError
        The manifest cannot be read, is not text, or lists nothing.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputFileError("no such manifest file", path=p) from None
    except IsADirectoryError:
        raise InputFileError("is a folder, not a manifest file", path=p) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"cannot be read as a text manifest ({exc})", path=p) from None
    if "\x00" in text:
        raise InputFileError("is not a text manifest (binary data)", path=p)
    if p.suffix.lower() == ".csv":
        rows = [r for r in csv.reader(io.StringIO(text)) if r and any(c.strip() for c in r)]
        col = 0
        if rows:
            header = [c.strip().lower() for c in rows[0]]
            if "path" in header:
                col, rows = header.index("path"), rows[1:]
        entries = [r[col].strip() for r in rows if len(r) > col and r[col].strip()]
    else:
        entries = [ln.strip() for ln in text.splitlines()
                   if ln.strip() and not ln.lstrip().startswith("#")]
    if not entries:
        raise InputFileError("lists no files", path=p)
    base = p.parent
    return [e if os.path.isabs(e) else os.path.normpath(base / e) for e in entries]
