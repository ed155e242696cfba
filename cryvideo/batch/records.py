"""The one row per file of a batch's outputs: its stable schema (:data:`COLUMNS`), the row of a
JSON record (:func:`to_row`), and reading records back from JSON lines or Parquet (for
``--resume``).

The schema is documented in ``docs/batch.md``; a test checks that the two agree.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import InputFileError, first_line
from ..io import atomic_path, json_line

__all__ = ["COLUMNS", "SCHEMA_VERSION", "COMMANDS", "STATUSES", "arrow_schema", "to_row",
           "write_parquet", "read_records", "record_key", "record_command", "finished", "failed",
           "json_line"]

#: Bumped when a column changes meaning or type (adding a column does not bump it).
SCHEMA_VERSION = 1
#: The commands that write batch outputs (an output holds the records of one of them).
COMMANDS = ("predict", "detect")
#: A record's ``status``.
STATUSES = ("ok", "error", "interrupted")

#: ``(name, Arrow type, meaning)`` of every column, in order.
COLUMNS = (
    ("path", "string", "the input as given (a file name, relative or absolute)"),
    ("command", "string", "predict or detect"),
    ("status", "string", "ok, error, or interrupted (stopped part-way: --resume redoes it)"),
    ("error", "string", "the error in one line (null unless status is error)"),
    ("exit_code", "int32", "the error's exit code (null unless status is error)"),
    ("label", "string", "the most likely reason (predict; null when no crying or for detect)"),
    ("probabilities", "map<string, double>",
     "every reason's probability (predict; with no crying, what the reason branches would "
     "answer if it were a cry; empty for detect and errors)"),
    ("crying", "bool", "whether the cry detector found crying (null when it did not run)"),
    ("crying_probability", "double", "the detector's highest window probability"),
    ("threshold", "double", "the detector's decision threshold"),
    ("segments", "list<struct<start: double, end: double>>", "crying spans, seconds"),
    ("duration", "double", "seconds of media (predict: the probe's; detect: decoded)"),
    ("timings", "map<string, double>", "seconds per stage (probe, cry_detect, audio, face, "
                                        "fusion, detect, total)"),
    ("models", "map<string, string>", "model file name → sha256 of every model loaded"),
    ("face", "string", "how the face took part in the cry verdict: used, unused (no video "
                       "stream / no expression model), or null when not asked (--face off)"),
    ("face_finder", "string", "yunet or haar (null when the face was not used)"),
    ("vetoed_segments", "list<struct<start: double, end: double>>",
     "crying spans of the sound that the face vetoed (visibly happy), seconds; each "
     "segment's evidence is in record.face.segments"),
    ("cryvideo_version", "string", "the version that wrote the row"),
    ("schema_version", "int32", "this schema's version"),
    ("record", "string", "the whole JSON record, as --json prints it"),
)


def arrow_schema(command: str | None = None):
    """The Parquet schema of :data:`COLUMNS` (a ``pyarrow.Schema``); with ``command``, its
    metadata also says which command's output the file is (``cryvideo.command``)."""
    import pyarrow as pa

    span = pa.struct([("start", pa.float64()), ("end", pa.float64())])
    types = {"string": pa.string(), "int32": pa.int32(), "bool": pa.bool_(),
             "double": pa.float64(), "map<string, double>": pa.map_(pa.string(), pa.float64()),
             "map<string, string>": pa.map_(pa.string(), pa.string()),
             "list<struct<start: double, end: double>>": pa.list_(span)}
    meta = {"cryvideo.schema_version": str(SCHEMA_VERSION)}
    if command is not None:
        meta["cryvideo.command"] = str(command)
    return pa.schema([pa.field(name, types[t]) for name, t, _ in COLUMNS], metadata=meta)


def _float(x) -> float | None:
    return None if x is None else float(x)


def to_row(record: dict, *, command: str) -> dict:
    """The row (a dict of :data:`COLUMNS`) of one JSON record of ``predict`` or ``detect``."""
    row = {name: None for name, _, _ in COLUMNS}
    row.update(path=str(record["path"]), command=command,
               status=record.get("status", "error" if "error" in record else "ok"),
               error=record.get("error"), exit_code=record.get("exit_code"),
               probabilities={}, segments=[], timings={}, vetoed_segments=[],
               models=dict(record.get("models") or {}),
               cryvideo_version=record.get("cryvideo_version"),
               schema_version=SCHEMA_VERSION,
               record=json_line(record))
    if "error" in record:
        return row
    row["timings"] = {str(k): float(v) for k, v in (record.get("timings") or {}).items()}
    if command == "predict":
        cry = record.get("crying") or {}
        row.update(label=record.get("label"),
                   probabilities={str(k): float(v)
                                  for k, v in (record.get("probabilities") or {}).items()},
                   crying=cry.get("detected"), crying_probability=_float(cry.get("probability")),
                   threshold=_float(cry.get("threshold")),
                   segments=cry.get("segments") or [],
                   duration=_float((record.get("media") or {}).get("duration")))
        face = cry.get("face")
    else:
        row.update(crying=record.get("crying"),
                   crying_probability=_float(record.get("probability")),
                   threshold=_float(record.get("threshold")),
                   segments=record.get("segments") or [],
                   duration=_float(record.get("duration")))
        face = record.get("face")
    if face is not None:
        row.update(face="used" if face.get("used") else "unused",
                   face_finder=face.get("face_finder") if face.get("used") else None,
                   vetoed_segments=[[v["start"], v["end"]] for v in face.get("segments") or []
                                    if v.get("decision") == "veto"])
    for key in ("segments", "vetoed_segments"):
        row[key] = [{"start": float(a), "end": float(b)} for a, b in row[key]]
    return row


def write_parquet(path: str | os.PathLike, rows: list[dict], *,
                  command: str | None = None) -> None:
    """Write ``rows`` (:func:`to_row`) to a Parquet file atomically (never half-written); its
    metadata names ``command`` (:func:`arrow_schema`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = arrow_schema(command)
    table = pa.Table.from_pylist(
        [{k: (list(v.items()) if isinstance(v, dict) and k != "record" else v)
          for k, v in r.items()} for r in rows], schema=schema)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def read_records(path: str | os.PathLike) -> list[dict]:
    """The JSON records in a batch output (JSON lines, or Parquet by its ``.parquet`` name).

    Raises
    ------
    InputFileError
        The file is not such an output, or one of its records is not a cryvideo record (a path
        that is not a string, an unknown status or command), naming the line (or row).
    """
    p = Path(path)
    if p.suffix.lower() == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(p, columns=["record"])
        except (OSError, pa.ArrowException, KeyError) as exc:
            raise InputFileError(f"no readable record column: {first_line(str(exc))}",
                                 path=p) from None
        texts, where = table.column("record").to_pylist(), "row"
    else:
        try:
            texts = p.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputFileError(f"cannot be read: {exc}", path=p) from None
        where = "line"
    out = []
    for i, text in enumerate(texts):
        if where == "line" and not text.strip():
            continue
        try:
            rec = json.loads(text)
        except (json.JSONDecodeError, TypeError):
            raise InputFileError(f"{where} {i + 1} is not JSON", path=p) from None
        why = _not_a_record(rec)
        if why:
            raise InputFileError(f"{where} {i + 1} is not a cryvideo record: {why}", path=p)
        out.append(rec)
    return out


def _not_a_record(rec) -> str | None:
    """Why a parsed JSON value is not a record of a batch output, or None."""
    if not isinstance(rec, dict):
        return "not a JSON object"
    if "path" not in rec:
        return "no path"
    if not isinstance(rec["path"], str) or not rec["path"]:
        return f"its path is {json.dumps(rec['path'])}, not a file name"
    if "status" in rec and rec["status"] not in STATUSES:
        return f"its status is {json.dumps(rec['status'])}, not one of {', '.join(STATUSES)}"
    if "command" in rec and rec["command"] not in COMMANDS:
        return f"its command is {json.dumps(rec['command'])}, not one of {', '.join(COMMANDS)}"
    return None


def record_key(path: str | os.PathLike) -> str:
    """How a record's file is matched with an input on ``--resume``: its absolute path."""
    return os.path.abspath(os.fspath(path))


def record_command(record: dict) -> str | None:
    """The command that made a record: its ``command`` field, else (a record written before the
    field existed) ``predict`` when it has branches, ``detect`` when it names a detector at its
    top level; None when that cannot be told (an old ``predict`` error record)."""
    if "command" in record:
        return record["command"]
    if "branches" in record:
        return "predict"
    if "detector" in record:
        return "detect"
    return None


def finished(record: dict) -> bool:
    """Whether a record is final: anything but a file stopped part-way."""
    return record.get("status") != "interrupted" and record.get("complete", True) is not False


def failed(record: dict) -> bool:
    """Whether a record is a failed file's (``status`` ``error``)."""
    return record.get("status", "error" if "error" in record else "ok") == "error"
