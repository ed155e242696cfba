"""A batch's output file, committed in batches: every commit rewrites the whole file
atomically, so a run that is interrupted or killed leaves a complete file holding every record
committed so far."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from ..errors import InputFileError, ParameterError, first_line
from ..io import write_text_atomic
from .records import (
    COMMANDS,
    failed,
    finished,
    json_line,
    read_records,
    record_command,
    record_key,
    to_row,
    write_parquet,
)

__all__ = ["OUTPUT_FORMATS", "output_format", "output_command", "RecordSink"]

#: Output formats of ``--out``: what is written, by the file name (and ``--json``).
OUTPUT_FORMATS = ("text", "jsonl", "parquet")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
#: The first line of a file's block in a text output (``predict``'s and ``detect``'s
#: ``format_result``: ``PATH: crying: yes (score 0.92, …``, ``PATH: CRYING (score 0.97, …``;
#: before they said ``p=``: ``PATH: VERDICT (p=0.97, …`` or ``PATH: LABEL (p=0.55)``); the
#: block's other lines are indented.
_TEXT_HEAD = re.compile(r": [^()]+ \((?:p=|score |probability )\d+\.\d\d[,)]")


def output_format(path: str | os.PathLike, *, as_json: bool = False) -> str:
    """``"parquet"`` for a ``.parquet`` name, ``"jsonl"`` for ``.jsonl``/``.ndjson``/``.json``
    or with ``--json``, else ``"text"`` (what is printed)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".parquet":
        return "parquet"
    return "jsonl" if as_json or suffix in JSONL_SUFFIXES else "text"


def output_command(path: str | os.PathLike, fmt: str) -> str | None:
    """The command whose batch output (of format ``fmt``) the existing file ``path`` is.

    Returns
    -------
    str or None
        ``"predict"`` or ``"detect"``; None for an empty file, a text output (which does not
        say), or records that do not say (written before records named their command).

    Raises
    ------
    InputFileError
        The file is not a cryvideo output of that format, or holds the records of several
        commands; its message says why, as a reason (``line 3 is not JSON``).
    """
    p = Path(path)
    if p.stat().st_size == 0:
        return None
    if fmt == "text":
        try:
            lines = p.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputFileError(f"cannot be read as text: {exc}", path=p) from None
        for n, line in enumerate(lines, 1):
            if line.strip() and not line[0].isspace() and not _TEXT_HEAD.search(line):
                raise InputFileError(f"line {n} is not a result: {first_line(line, limit=60)!r}",
                                     path=p)
        return None
    if fmt == "parquet":   # its schema says (the rows are read back by --resume only)
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            schema = pq.read_schema(p)
        except (OSError, pa.ArrowException) as exc:
            raise InputFileError(f"not a Parquet file: {first_line(str(exc))}", path=p) from None
        if "record" not in schema.names or b"cryvideo.schema_version" not in (schema.metadata
                                                                                or {}):
            raise InputFileError("a Parquet file without cryvideo's schema version and record "
                                 "column", path=p)
        return _owner(p, fmt, [])
    return _owner(p, fmt, read_records(p))


def _owner(path: Path, fmt: str, records: list[dict]) -> str | None:
    """The one command that made ``records`` (those of the output ``path``), or None when none
    says (see :func:`output_command`)."""
    commands = {record_command(r) for r in records} - {None}
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            meta = pq.read_schema(path).metadata or {}
            column = pq.read_table(path, columns=["command"]).column("command").to_pylist()
        except (OSError, pa.ArrowException, KeyError) as exc:
            raise InputFileError(f"no readable command column: {first_line(str(exc))}",
                                 path=path) from None
        if b"cryvideo.command" in meta:
            commands.add(meta[b"cryvideo.command"].decode("utf-8", "replace"))
        commands |= set(column) - {None}
    if len(commands) > 1:
        raise InputFileError(f"it holds the records of several commands: "
                             f"{', '.join(sorted(commands))}", path=path)
    return commands.pop() if commands else None


class RecordSink:
    """Collects a batch's records and writes them to ``path``.

    Parameters
    ----------
    path : Path or None
        None: nothing is written (the records are only printed).
    fmt : {"text", "jsonl", "parquet"}
    command : {"predict", "detect"}
    resume : bool
        Keep the records already in ``path``; :meth:`done` lists the files that need no new
        one. The record of a file stopped part-way, or that failed, is analysed again: it stays
        in the file until its new record replaces it.
    skip_failed : bool
        With ``resume``: a failed file's record is final too (its file is not analysed again).
    commit_every : int
        Commit after this many new records ...
    commit_seconds : float
        ... or when this long has passed since the last commit, whichever comes first.

    Raises
    ------
    ParameterError
        ``resume`` with a text output, with a file that is not a batch output (or holds a
        record that is not a cryvideo record: the line or row is named), or with the output of
        another command.
    """

    def __init__(self, path: Path | None, *, fmt: str, command: str, resume: bool = False,
                 skip_failed: bool = False, commit_every: int = 25,
                 commit_seconds: float = 30.0) -> None:
        if fmt not in OUTPUT_FORMATS:
            raise ParameterError(f"output format must be one of {', '.join(OUTPUT_FORMATS)}")
        if command not in COMMANDS:
            raise ParameterError(f"command must be one of {', '.join(COMMANDS)}")
        self.path, self.fmt, self.command = path, fmt, command
        self.commit_every, self.commit_seconds = max(1, int(commit_every)), commit_seconds
        # what the file holds per record: its Parquet row, or its line(s) of text / JSON
        self.kept: list[tuple[str, object, bool]] = []  # resumed: (file, entry, to redo)
        self.new: dict[int, object] = {}  # by input index
        self._new_files: set[str] = set()
        self._done: set[str] = set()
        self._redo: set[str] = set()
        self.pending = 0
        self.last_commit = time.monotonic()
        if resume:
            self._resume(skip_failed=skip_failed)

    def _resume(self, *, skip_failed: bool) -> None:
        if self.path is None or self.fmt == "text":
            raise ParameterError("--resume needs --out FILE.jsonl or FILE.parquet (an output it "
                                 "can read back)")
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        try:
            records = read_records(self.path)
            owner = _owner(self.path, self.fmt, records)
        except InputFileError as exc:
            raise ParameterError(f"cannot resume from it: {exc.message}",
                                 path=self.path) from None
        if owner not in (None, self.command):
            raise ParameterError(f"holds {owner} records: {self.command} --resume will not add "
                                 f"its records to it (an output belongs to one command; choose "
                                 "another --out)", path=self.path)
        for i, r in enumerate(records):
            key = record_key(r["path"])
            redo = not finished(r) or (failed(r) and not skip_failed)
            try:
                entry = self._entry(r, json_line(r))
            except (TypeError, ValueError, AttributeError, KeyError) as exc:
                raise ParameterError(f"cannot resume from it: row {i + 1} is not a cryvideo "
                                     f"{self.command} record ({type(exc).__name__}: {exc})",
                                     path=self.path) from None
            self.kept.append((key, entry, redo))
            (self._redo if redo else self._done).add(key)
        self._redo -= self._done   # a file with a final record too needs nothing new

    def _entry(self, record: dict | None, text: str | None):
        """What the file holds for one record, made once (a commit rewrites them all)."""
        if self.fmt == "parquet":
            return None if record is None else to_row(record, command=self.command)
        return text

    def done(self) -> set[str]:
        """The files (:func:`~cryvideo.batch.records.record_key`) with a final record."""
        return set(self._done)

    def redo(self) -> set[str]:
        """The files whose record is analysed again (stopped part-way, or failed)."""
        return set(self._redo)

    def add(self, index: int, record: dict | None, text: str | None) -> None:
        """Keep input ``index``'s record and its line(s) for a text or JSON-lines output
        (``text`` None: nothing for those, e.g. a failed file in a text output)."""
        entry = self._entry(record, text)
        if entry is not None:
            self.new[index] = entry
            if record is not None:
                self._new_files.add(record_key(record["path"]))
        self.pending += 1
        if (self.pending >= self.commit_every
                or time.monotonic() - self.last_commit >= self.commit_seconds):
            self.commit()

    def entries(self) -> list:
        """What the file holds: the resumed records first (less those a new record replaces),
        then the new ones in input order."""
        kept = [e for key, e, redo in self.kept if not (redo and key in self._new_files)]
        return kept + [self.new[i] for i in sorted(self.new)]

    def __len__(self) -> int:
        return len(self.entries())

    def commit(self) -> None:
        """Rewrite the output atomically with every record so far (:meth:`entries`)."""
        self.pending, self.last_commit = 0, time.monotonic()
        if self.path is None:
            return
        entries = self.entries()
        if self.fmt == "parquet":
            write_parquet(self.path, entries, command=self.command)
        else:
            write_text_atomic(self.path, "".join(t + "\n" for t in entries))
