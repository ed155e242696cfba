"""Atomic output: a file is either complete or absent, never half-written."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import ParameterError

__all__ = ["atomic_path", "write_text_atomic", "write_json_atomic"]


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    If the block raises (or the process is interrupted), the temporary file is removed and
    ``target`` is left as it was. A target that cannot be written (a directory, a read-only or
    missing place) raises :class:`~cryvideo.errors.ParameterError` naming it.
    """
    target = Path(target)
    if target.is_dir():
        raise ParameterError("is a directory: give a file name for the output", path=target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # keep the suffix: some writers (keras .keras, numpy .npz) insist on it
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.stem}.part-", suffix=target.suffix, dir=target.parent
        )
    except OSError as exc:
        raise ParameterError(f"cannot write the output here ({exc.strerror or exc})",
                             path=target) from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        try:
            os.replace(tmp_path, target)
        except OSError as exc:
            raise ParameterError(f"cannot write the output here ({exc.strerror or exc})",
                                 path=target) from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def write_text_atomic(target: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(target: str | os.PathLike, obj, *, indent: int = 2) -> None:
    """Write ``obj`` as JSON to ``target`` atomically."""
    write_text_atomic(target, json.dumps(obj, indent=indent, sort_keys=False) + "\n")
