"""Helpers shared by the sub-commands: input expansion, option and output checks, the batch
loop, progress bars, output."""

from __future__ import annotations

import codecs
import contextlib
import json
import math
import os
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from ..errors import (
    CryVideoError,
    InputFileError,
    MediaTimeoutError,
    ParameterError,
    PartialFailure,
)
from ..io import output_lock, write_text_atomic

__all__ = [
    "MEDIA_EXTENSIONS",
    "expand_inputs",
    "check_number",
    "check_output",
    "check_output_folder",
    "report_pages",
    "run_batch",
    "batch_failure",
    "progress_bar",
    "emit_json",
    "write_output",
]

#: File endings picked up when a folder is given.
MEDIA_EXTENSIONS = frozenset(
    ".mp4 .mov .mkv .avi .webm .m4v .3gp .wav .mp3 .ogg .flac .m4a .aac .caf .opus".split()
)
#: What an existing output file must look like to be replaced (``kind`` of :func:`check_output`).
OUTPUT_KINDS = {"text": "a text or JSON-lines file", "html": "an HTML page",
                "png": "a PNG picture"}


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


# -- options -----------------------------------------------------------------------------------
def check_number(option: str, value: float | None, *, lo: float, hi: float,
                 lo_open: bool = False, unit: str = "") -> None:
    """Raise :class:`ParameterError` unless ``value`` is None or a finite number in the range.

    ``[lo, hi]``, or ``(lo, hi]`` when ``lo_open``; ``unit`` is appended to the message.
    """
    if value is None:
        return
    ok = math.isfinite(value) and (lo < value if lo_open else lo <= value) and value <= hi
    if not ok:
        rng = f"{'(' if lo_open else '['}{lo:g}, {hi:g}]"
        raise ParameterError(f"{option} must be a number in {rng}{unit}, got {value:g}")


# -- outputs -----------------------------------------------------------------------------------
def _same_file(a: Path, b: Path) -> bool:
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
    if b"\x00" in head:
        return False
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    if kind == "html":
        start = text.lstrip().lower()
        return start.startswith(("<!doctype html", "<html"))
    return True


def _writable_folder(folder: Path) -> str | None:
    """Why files cannot be created in ``folder`` (or its nearest existing parent), or None."""
    d = folder
    while not d.exists():
        if d.parent == d:
            break
        d = d.parent
    if not d.is_dir():
        return f"{d} is not a folder"
    try:  # os.access says yes to root even where nothing can be written (/proc, read-only mounts)
        fd, probe = tempfile.mkstemp(prefix=".cryvideo-write-check-", dir=d)
    except OSError as exc:
        return f"cannot create files in {d} ({exc.strerror or exc})"
    os.close(fd)
    os.unlink(probe)
    return None


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
        if _same_file(p, Path(src)) or os.path.abspath(p) == os.path.abspath(src):
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
    why = _writable_folder(p.parent)
    if why:
        raise ParameterError(f"cannot be written: {why}", path=p)
    return p


def check_output_folder(folder: str | os.PathLike, *, option: str) -> Path:
    """Check a folder that will receive new files before any work: an existing folder, or one
    that can be created, where files can be created.

    Raises
    ------
    ParameterError
        (exit 2) naming the folder: it is a file, or nothing can be created there.
    """
    p = Path(folder)
    if p.exists() and not p.is_dir():
        raise ParameterError(f"is not a folder: {option} takes a folder", path=p)
    why = _writable_folder(p)
    if why:
        raise ParameterError(f"cannot be written: {why}", path=p)
    return p


def _page_names(paths: Sequence[str]) -> list[str]:
    """A distinct report page name (no ``.html``) per input: the stem where that is unique,
    else the name with its extension, else parent folders in front, else a counter."""
    parts = [Path(os.path.abspath(p)).parts for p in paths]

    def name(i: int, level: int) -> str:
        if level == 0:
            return Path(paths[i]).stem
        return "__".join(parts[i][-level:])

    levels = [0] * len(paths)
    while True:
        groups: dict[str, list[int]] = defaultdict(list)
        for i, lv in enumerate(levels):
            groups[name(i, lv).lower()].append(i)  # case-blind: macOS and Windows disks
        bumped = False
        for group in groups.values():
            if len({parts[i] for i in group}) < 2:
                continue  # one file (perhaps given twice): the counter below tells them apart
            for i in group:
                if levels[i] < len(parts[i]):
                    levels[i] += 1
                    bumped = True
        if not bumped:
            break
    names, taken = [], set()
    for i, lv in enumerate(levels):
        base = name(i, lv)
        cand, k = base, 1
        while cand.lower() in taken:  # the same file given twice
            k += 1
            cand = f"{base}-{k}"
        taken.add(cand.lower())
        names.append(cand)
    return names


def report_pages(paths: Sequence[str], report: str | os.PathLike, *,
                 option: str = "--report", kind: str = "html") -> dict[int, Path]:
    """The output file (an HTML page, a PNG, ...) of every input, by index, all checked with
    :func:`check_output`.

    One input: ``report`` is the file (or, when it is an existing folder, the file goes in it).
    Several: ``report`` is a folder and every input gets its own file, never two on one.
    """
    report = Path(report)
    suffix = {"html": ".html", "png": ".png"}[kind]
    if len(paths) == 1:
        page = report / (Path(paths[0]).stem + suffix) if report.is_dir() else report
        return {0: check_output(page, option=option, kind=kind, inputs=paths)}
    if report.exists() and not report.is_dir():
        raise ParameterError(f"is a file, but with several inputs {option} names a folder "
                             "(one file per input)", path=report)
    pages = {i: report / f"{n}{suffix}" for i, n in enumerate(_page_names(paths))}
    for page in pages.values():
        check_output(page, option=option, kind=kind, inputs=paths)
    return pages


# -- the batch loop ----------------------------------------------------------------------------
def batch_failure(failures: Sequence[CryVideoError], n: int) -> CryVideoError:
    """The error that ends a batch of ``n`` files of which ``failures`` failed.

    Some failed: :class:`PartialFailure` (exit 7). All failed: nothing was processed, so it is
    the files' own error (exit 3, or 5 when every one timed out).
    """
    if len(failures) < n:
        return PartialFailure(f"{len(failures)} of {n} files failed; the others were processed")
    timed_out = all(f.exit_code == MediaTimeoutError.exit_code for f in failures)
    return (MediaTimeoutError if timed_out else InputFileError)(
        f"all {n} files failed; none could be analysed")


def run_batch(paths: Sequence[str], analyse: Callable[[str], object], *,
              render: Callable[[object], str], as_json: bool, out: Path | None,
              after: Callable[[int, object], None] | None = None,
              error_fields: dict | None = None) -> int:
    """Analyse file after file; print each result as it is done; keep every finished record.

    Parameters
    ----------
    paths : sequence of str
        The inputs.
    analyse : callable
        ``analyse(path) -> result``. An :class:`~cryvideo.errors.InputFileError` (a bad file)
        is reported and the batch goes on; any other error ends it.
    render : callable
        ``render(result) -> str``: the text printed (and written to ``out``) for it.
    as_json : bool
        Also print a JSON error record for every failed file (one record per input).
    out : Path, optional
        The records are written there atomically at the end, and also when the run ends early
        (Ctrl-C, a model error): then it holds the records of the finished files. The caller
        holds its lock (:func:`output_lock`).
    after : callable, optional
        ``after(index, result)`` once the result is printed (e.g. its HTML report); a
        :class:`~cryvideo.errors.CryVideoError` there fails that file without losing its record.
    error_fields : dict, optional
        Added to every JSON error record (e.g. which detector was asked).

    Returns
    -------
    int
        0 when every file was processed. Raises the single file's error for one input, and
        :func:`batch_failure` when some of several failed.
    """
    records: list[str] = []
    failures: list[CryVideoError] = []
    finished = False

    def failed(path: str, exc: CryVideoError, *, record: bool = True) -> None:
        if len(paths) == 1:
            raise exc
        failures.append(exc)
        print(f"cryvideo: error: {exc}", file=sys.stderr, flush=True)
        if as_json and record:  # keep one JSON object per input file
            text = emit_json({"path": str(path), "error": exc.message,
                              "exit_code": exc.exit_code, **(error_fields or {})})
            print(text, flush=True)
            records.append(text)

    try:
        for i, path in enumerate(progress_bar(paths, desc="files", unit="file",
                                              disable=len(paths) < 2 or None)):
            try:
                res = analyse(path)
            except InputFileError as exc:
                failed(path, exc)
                continue
            except KeyboardInterrupt as exc:
                # a long file stopped half-way: what was found so far is a record too
                partial = getattr(exc, "partial", None)
                if partial is not None:
                    text = render(partial)
                    print(text, flush=True)
                    records.append(text)
                raise
            text = render(res)
            print(text, flush=True)
            records.append(text)
            if after is not None:
                try:
                    after(i, res)
                except CryVideoError as exc:  # its result is printed and kept already
                    failed(path, exc, record=False)
        finished = True
    finally:
        # Ctrl-C or an error that ends the run: the finished files' records are kept
        if out is not None and (finished or records):
            write_output(out, "".join(r + "\n" for r in records))
    if failures:
        raise batch_failure(failures, len(paths))
    return 0


@contextlib.contextmanager
def locked_output(out: str | os.PathLike | None) -> Iterator[Path | None]:
    """``output_lock(out)`` when ``out`` is given, else nothing; yields ``out`` as a path."""
    if out is None:
        yield None
        return
    with output_lock(out):
        yield Path(out)


# -- display -----------------------------------------------------------------------------------
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
