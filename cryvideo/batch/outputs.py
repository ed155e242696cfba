"""A batch's output file, committed in batches: every commit rewrites the whole file
atomically, so a run that is interrupted or killed leaves a complete file holding every record
committed so far."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ..errors import ParameterError
from ..io import write_text_atomic
from .records import finished, json_line, read_records, record_key, to_row, write_parquet

__all__ = ["OUTPUT_FORMATS", "output_format", "RecordSink"]

#: Output formats of ``--out``: what is written, by the file name (and ``--json``).
OUTPUT_FORMATS = ("text", "jsonl", "parquet")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")


def output_format(path: str | os.PathLike, *, as_json: bool = False) -> str:
    """``"parquet"`` for a ``.parquet`` name, ``"jsonl"`` for ``.jsonl``/``.ndjson``/``.json``
    or with ``--json``, else ``"text"`` (what is printed)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".parquet":
        return "parquet"
    return "jsonl" if as_json or suffix in JSONL_SUFFIXES else "text"


class RecordSink:
    """Collects a batch's records and writes them to ``path``.

    Parameters
    ----------
    path : Path or None
        None: nothing is written (the records are only printed).
    fmt : {"text", "jsonl", "parquet"}
    command : {"predict", "detect"}
    resume : bool
        Keep the finished records already in ``path`` (:meth:`done` lists their files); the
        records of files stopped part-way are dropped (they are analysed again).
    commit_every : int
        Commit after this many new records ...
    commit_seconds : float
        ... or when this long has passed since the last commit, whichever comes first.

    Raises
    ------
    ParameterError
        ``resume`` with a text output, or with a file that is not a batch output.
    """

    def __init__(self, path: Path | None, *, fmt: str, command: str, resume: bool = False,
                 commit_every: int = 25, commit_seconds: float = 30.0) -> None:
        if fmt not in OUTPUT_FORMATS:
            raise ParameterError(f"output format must be one of {', '.join(OUTPUT_FORMATS)}")
        self.path, self.fmt, self.command = path, fmt, command
        self.commit_every, self.commit_seconds = max(1, int(commit_every)), commit_seconds
        # what the file holds per record: its Parquet row, or its line(s) of text / JSON
        self.kept: list = []            # the resumed records'
        self.new: dict[int, object] = {}  # by input index
        self._done: set[str] = set()
        self.pending = 0
        self.last_commit = time.monotonic()
        if resume:
            self._resume()

    def _resume(self) -> None:
        from ..errors import InputFileError

        if self.path is None or self.fmt == "text":
            raise ParameterError("--resume needs --out FILE.jsonl or FILE.parquet (an output it "
                                 "can read back)")
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        try:
            records = read_records(self.path)
        except InputFileError as exc:
            raise ParameterError(f"cannot resume from it: {exc.message}",
                                 path=self.path) from None
        records = [r for r in records if finished(r)]
        self._done = {record_key(r["path"]) for r in records}
        self.kept = [self._entry(r, json_line(r)) for r in records]

    def _entry(self, record: dict | None, text: str | None):
        """What the file holds for one record, made once (a commit rewrites them all)."""
        if self.fmt == "parquet":
            return None if record is None else to_row(record, command=self.command)
        return text

    def done(self) -> set[str]:
        """The files (:func:`~cryvideo.batch.records.record_key`) with a finished record."""
        return set(self._done)

    def add(self, index: int, record: dict | None, text: str | None) -> None:
        """Keep input ``index``'s record and its line(s) for a text or JSON-lines output
        (``text`` None: nothing for those, e.g. a failed file in a text output)."""
        entry = self._entry(record, text)
        if entry is not None:
            self.new[index] = entry
        self.pending += 1
        if (self.pending >= self.commit_every
                or time.monotonic() - self.last_commit >= self.commit_seconds):
            self.commit()

    def __len__(self) -> int:
        return len(self.kept) + len(self.new)

    def commit(self) -> None:
        """Rewrite the output atomically with every record so far (resumed ones first, then the
        new ones in input order)."""
        self.pending, self.last_commit = 0, time.monotonic()
        if self.path is None:
            return
        entries = self.kept + [self.new[i] for i in sorted(self.new)]
        if self.fmt == "parquet":
            write_parquet(self.path, entries)
        else:
            write_text_atomic(self.path, "".join(t + "\n" for t in entries))
