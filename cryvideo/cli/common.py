"""Helpers shared by the sub-commands: input expansion, option and output checks, the batch
options and loop, progress bars, output."""

from __future__ import annotations

import codecs
import contextlib
import dataclasses
import os
import signal
import sys
import tempfile
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from ..errors import (
    CryVideoError,
    InputFileError,
    MediaTimeoutError,
    ParameterError,
    PartialFailure,
    Terminated,
    check_number,
)
from ..io import json_line, output_lock
from ..progress import StageProgress, progress_bar

__all__ = [
    "MEDIA_EXTENSIONS",
    "expand_inputs",
    "check_number",
    "check_output",
    "check_output_folder",
    "report_pages",
    "check_distinct_outputs",
    "check_outputs_apart",
    "add_batch_options",
    "plan_batch",
    "BatchPlan",
    "run_batch",
    "InputOrder",
    "sigterm_as_interrupt",
    "batch_failure",
    "progress_bar",
    "StageProgress",
    "emit_json",
]

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
    suffix = {"html": ".html", "png": ".png", "jpeg": ".jpg", "labels": ".txt"}[kind]
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


def check_distinct_outputs(out: str | os.PathLike | None, pages: dict[int, Path], *,
                           option: str) -> None:
    """Refuse an ``--out`` file that is also one of the files of ``option`` (``--report`` pages,
    ``--timeline`` pictures): one would replace the other.

    Raises
    ------
    ParameterError
        (exit 2) naming the file.
    """
    if out is not None:
        check_outputs_apart({"--out": Path(out), option: list(pages.values())})


def check_outputs_apart(outputs: dict[str, Path | Sequence[Path] | None]) -> None:
    """Refuse two outputs that are one file (``--out``, ``--csv``, a ``--timeline`` picture,
    a ``--labels`` track, ...): one would replace the other.

    Parameters
    ----------
    outputs : dict
        Option → its file (a path; None when not given) or its files (one per input).

    Raises
    ------
    ParameterError
        (exit 2) naming the file and both options.
    """
    def what(option: str, files) -> str:
        return f"the {option} file" if isinstance(files, str | os.PathLike) else f"a {option} file"

    seen: list[tuple[str, str, Path]] = []
    for option, files in outputs.items():
        if files is None:
            continue
        for f in [files] if isinstance(files, str | os.PathLike) else files:
            f = Path(f)
            for other_option, other_what, other in seen:
                if other_option == option:
                    continue
                if _same_file(other, f) or os.path.realpath(other) == os.path.realpath(f):
                    raise ParameterError(f"is both {other_what} and {what(option, files)}: one "
                                         "would replace the other", path=other)
            seen.append((option, what(option, files), f))


# -- the batch loop ----------------------------------------------------------------------------
def add_batch_options(p) -> None:
    """The options every per-file command shares: manifest, outputs, resume, where it runs."""
    p.add_argument("--manifest", metavar="LIST", action="append", default=[],
                   help="also analyse the files a manifest lists (text: one path a line; CSV: "
                   "its 'path' column, else its first); relative paths are relative to it")
    p.add_argument("--out", metavar="PATH",
                   help="also write the records to this file, atomically, committed in batches: "
                   "FILE.parquet (Parquet), FILE.jsonl (JSON lines; also any name with --json), "
                   "else text; never over an input or a file of another kind, nor (without "
                   "--force) over a file that is not a cryvideo output")
    p.add_argument("--resume", action="store_true",
                   help="skip the files that already have a record in --out (JSON lines or "
                   "Parquet, of this command) and add the others; a file whose record is an "
                   "error, or was stopped part-way, is analysed again")
    p.add_argument("--skip-failed", action="store_true",
                   help="with --resume: also skip the files whose record is an error (a "
                   "broken file stays broken)")
    p.add_argument("--force", action="store_true",
                   help="let --out replace an existing file that is not a cryvideo output "
                   "(never an input, a media file or binary data)")
    p.add_argument("--workers", type=int, metavar="N", default=None,
                   help="analyse on N worker processes (an embedded Dask LocalCluster; each "
                   "loads the models once)")
    p.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="analyse on an existing Dask cluster, e.g. tcp://10.0.0.5:8786 "
                   "(default: $CRYVIDEO_DASK_SCHEDULER)")
    p.add_argument("--commit-every", type=int, metavar="N", default=25,
                   help="commit --out after every N finished files (and at least every 30 s; "
                   "default: %(default)s)")


@dataclasses.dataclass
class BatchPlan:
    """A per-file command's inputs and outputs, checked before any model loads."""

    paths: list[str]
    out: Path | None
    fmt: str
    resume: bool
    workers: int | None
    scheduler: str | None
    commit_every: int
    skip_failed: bool = False


def plan_batch(args) -> BatchPlan:
    """Check the shared batch options of ``args`` (see :func:`add_batch_options`).

    Raises
    ------
    ParameterError
        No input; ``--workers`` with ``--scheduler``; a number out of range; ``--resume``
        without a JSON-lines or Parquet ``--out``, ``--skip-failed`` without ``--resume``; an
        output refused by :func:`check_output` (a manifest is an input too), or an existing
        file that is not a cryvideo output of that format (unless ``--force``).
    InputFileError
        A manifest that cannot be read.
    """
    from ..batch.executors import MAX_WORKERS, SCHEDULER_ENV
    from ..batch.manifest import read_manifest
    from ..batch.outputs import output_command, output_format

    paths = expand_inputs(args.paths)
    for m in args.manifest:
        paths += read_manifest(m)
    if not paths:
        raise ParameterError(f"no input files given (usage: cryvideo {args.command} FILE…, or "
                             "--manifest LIST)")
    scheduler = args.scheduler if args.scheduler is not None else (
        os.environ.get(SCHEDULER_ENV) or None)
    if args.workers is not None and args.scheduler is not None:
        raise ParameterError("give --workers or --scheduler, not both")
    if args.workers is not None:
        scheduler = None  # --workers wins over $CRYVIDEO_DASK_SCHEDULER
    check_number("--workers", args.workers, lo=1, hi=MAX_WORKERS, unit=" processes")
    check_number("--commit-every", args.commit_every, lo=1, hi=1_000_000, unit=" files")
    fmt = output_format(args.out, as_json=args.json) if args.out else "text"
    out = None
    if args.out:
        kind = "parquet" if fmt == "parquet" else "text"
        out = check_output(args.out, option="--out", kind=kind,
                           inputs=[*paths, *args.manifest])
    if args.resume and (out is None or fmt == "text"):
        raise ParameterError("--resume needs --out FILE.jsonl or FILE.parquet (an output it "
                             "can read back)")
    if args.skip_failed and not args.resume:
        raise ParameterError("--skip-failed goes with --resume (it skips the files whose "
                             "record in --out is an error)")
    if out is not None and out.is_file() and not args.resume and not args.force:
        try:  # (--resume reads it under the output's lock: RecordSink)
            output_command(out, fmt)
        except InputFileError as exc:
            raise ParameterError(f"exists and is not a cryvideo output ({exc.message}): --out "
                                 "will not replace it (--force replaces it; or choose another "
                                 "name)", path=out) from None
    return BatchPlan(paths=paths, out=out, fmt=fmt, resume=args.resume, workers=args.workers,
                     scheduler=scheduler, commit_every=args.commit_every,
                     skip_failed=args.skip_failed)


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


def run_batch(plan: BatchPlan, job, *, render: Callable[[object], str], as_json: bool,
              after: Callable[[int, object], None] | None = None,
              progress: StageProgress | None = None) -> int:
    """Analyse the plan's files with ``job``; print each record once it and those of every
    file before it are done (input order, as in ``--out``); keep every finished record in
    ``--out``, committed in batches (:class:`cryvideo.batch.RecordSink`).

    Parameters
    ----------
    plan : BatchPlan
        From :func:`plan_batch`. The caller holds the lock of ``plan.out``
        (:func:`locked_output`).
    job : cryvideo.batch.PredictJob or cryvideo.batch.DetectJob
        What is done to each file, here (serial) or on Dask workers (``plan.workers``,
        ``plan.scheduler``). A bad file (:class:`~cryvideo.errors.InputFileError`) is reported
        and the batch goes on; any other error ends it.
    render : callable
        ``render(outcome) -> str``: the text printed (and written to a text ``--out``) for a
        finished file.
    as_json : bool
        Print the JSON records instead (one per input file, failed ones included).
    after : callable, optional
        ``after(index, result)`` once the result is printed (e.g. its HTML report); a
        :class:`~cryvideo.errors.CryVideoError` there fails that file without losing its record.
    progress : StageProgress, optional
        The per-file bar of the serial path.

    Returns
    -------
    int
        0 when every file was processed. Raises the single file's error for one input, and
        :func:`batch_failure` when some of several failed. Ctrl-C (KeyboardInterrupt) and
        SIGTERM (:class:`~cryvideo.errors.Terminated`) are raised once the finished files'
        records are printed and committed.
    """
    from ..batch.executors import dashboard_link, dask_client, on_dask, serial
    from ..batch.outputs import RecordSink
    from ..batch.records import record_key

    paths = plan.paths
    sink = RecordSink(plan.out, fmt=plan.fmt, command=job.command, resume=plan.resume,
                      skip_failed=plan.skip_failed, commit_every=plan.commit_every)
    done, redo = sink.done(), sink.redo()
    todo = [(i, p) for i, p in enumerate(paths) if record_key(p) not in done]
    if done or redo:
        again = sum(record_key(p) in redo for _, p in todo)
        print(f"cryvideo: resuming: {len(paths) - len(todo)} of {len(paths)} files already have "
              f"a record in {plan.out}; analysing the other {len(todo)}"
              + (f" ({again} of them failed or were stopped before)" if again else ""),
              file=sys.stderr, flush=True)
    failures: list[CryVideoError] = []
    finished = False
    single = len(paths) == 1

    def keep(outcome, text: str | None) -> None:
        # the line of a text or JSON-lines --out (Parquet keeps the record only)
        line = (text if plan.fmt == "text" else
                json_line(outcome.record) if plan.fmt == "jsonl" else None)
        sink.add(outcome.index, outcome.record, line)

    def failed(outcome, exc: CryVideoError, *, record: bool = True) -> None:
        if single:
            raise exc
        failures.append(exc)
        bar.set_postfix(failed=len(failures), refresh=False)
        say(f"cryvideo: error: {exc}", sys.stderr)
        if record:  # one record per input file
            if as_json:
                say(json_line(outcome.record), sys.stdout)
            if plan.fmt != "text":
                keep(outcome, None)

    def show(outcome) -> None:
        text = json_line(outcome.record) if as_json else render(outcome)
        say(text, sys.stdout)
        keep(outcome, text)

    def handle(outcome) -> None:
        if outcome.status == "error":
            failed(outcome, outcome.error)
            return
        show(outcome)
        if after is not None:
            try:
                after(outcome.index, outcome.result)
            except CryVideoError as exc:  # its record is printed and kept already
                failed(outcome, exc, record=False)

    def say(text: str, stream) -> None:
        with bar.external_write_mode(file=stream):  # the bar is cleared, then drawn again
            print(text, file=stream, flush=True)

    use_dask = plan.workers is not None or plan.scheduler is not None
    bar = progress_bar(total=len(todo), desc="files", unit="file",
                       disable=len(todo) < 2 and not use_dask or None)
    bar.set_postfix(failed=0, refresh=False)
    order = InputOrder([i for i, _ in todo])
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(sigterm_as_interrupt())
            if use_dask and todo:
                client = stack.enter_context(dask_client(workers=plan.workers,
                                                         scheduler=plan.scheduler))
                link = dashboard_link(client)
                if link:
                    say(f"cryvideo: Dask dashboard: {link}", sys.stderr)
                outcomes = on_dask(client, job, todo)
            else:
                outcomes = serial(job, todo, progress=progress)
            try:
                for outcome in outcomes:
                    bar.update(1)
                    for ready in order.arrived(outcome):
                        handle(ready)
            except BaseException as exc:
                # what finished before the stop (a Ctrl-C, SIGTERM, a model error) is kept,
                # in input order; a long file stopped half-way: what was found so far too
                if not single:
                    for ready in order.rest():
                        handle(ready)
                partial = getattr(exc, "outcome", None)
                if isinstance(exc, KeyboardInterrupt) and partial is not None:
                    show(partial)
                raise
        finished = True
    finally:
        bar.close()
        # Ctrl-C or an error that ends the run: the finished files' records are kept
        if plan.out is not None and (finished or len(sink)):
            sink.commit()
    if failures:
        raise batch_failure(failures, len(paths))
    return 0


class InputOrder:
    """Outcomes put back in input order: :meth:`arrived` takes them as they finish and gives
    back those now next in line.

    Parameters
    ----------
    indices : sequence of int
        The input indices, in the order they are to be handed out.
    """

    def __init__(self, indices: Sequence[int]) -> None:
        self.indices, self.next, self.waiting = list(indices), 0, {}

    def arrived(self, outcome) -> list:
        """The outcomes (``outcome`` perhaps among them) whose turn has come."""
        self.waiting[outcome.index] = outcome
        ready = []
        while self.next < len(self.indices) and self.indices[self.next] in self.waiting:
            ready.append(self.waiting.pop(self.indices[self.next]))
            self.next += 1
        return ready

    def rest(self) -> list:
        """The outcomes still waiting for one before them, in input order (handed out once)."""
        rank = {i: k for k, i in enumerate(self.indices)}
        ready = sorted(self.waiting.values(), key=lambda o: rank.get(o.index, len(rank)))
        self.waiting = {}
        return ready


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While the block runs, SIGTERM (``docker stop``, Slurm, systemd) raises
    :class:`~cryvideo.errors.Terminated`, a KeyboardInterrupt: the run stops as on Ctrl-C,
    keeping what is finished. Once it has, a second SIGTERM is ignored (the clean-up runs to
    its end). Nothing changes outside the main thread, where Python cannot handle signals.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = []

    def handler(signum, frame) -> None:
        fired.append(signum)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated()

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        if not fired:
            signal.signal(signal.SIGTERM, old)


@contextlib.contextmanager
def locked_output(out: str | os.PathLike | None) -> Iterator[Path | None]:
    """``output_lock(out)`` when ``out`` is given, else nothing; yields ``out`` as a path."""
    if out is None:
        yield None
        return
    with output_lock(out):
        yield Path(out)


# -- display -----------------------------------------------------------------------------------
#: Compact one-line JSON (one JSON-lines record).
emit_json = json_line

