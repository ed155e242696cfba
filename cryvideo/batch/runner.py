"""The batch loop: a :class:`BatchPlan`'s files analysed by a job (here, file after file, or on
a Dask cluster), each record printed once it and those of every file before it are done, and
kept in the plan's output, committed in batches; a resumed run analyses only what is missing,
and a stopped one (Ctrl-C, SIGTERM) keeps every record finished until then."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from ..errors import CryVideoError, InputFileError, MediaTimeoutError, PartialFailure, Terminated
from ..io import json_line, output_lock
from ..progress import StageProgress, progress_bar
from .jobs import FileOutcome
from .outputs import RecordSink
from .plan import BatchPlan
from .records import record_key

__all__ = ["BatchRunner", "BatchReport", "run_batch", "batch_failure", "InputOrder",
           "sigterm_as_interrupt", "locked_output"]


@dataclasses.dataclass
class BatchReport:
    """What a finished batch run did.

    Attributes
    ----------
    records : list of dict
        The records of the files analysed in this run (failed ones included), in input order;
        those kept from an earlier run (``resume``) are in the output only.
    failures : list of CryVideoError
        The errors of the files that failed, in input order.
    total : int
        The plan's files.
    skipped : int
        The files that already had a final record in the output (``resume``).
    """

    records: list[dict]
    failures: list[CryVideoError]
    total: int
    skipped: int = 0

    def raise_for_failures(self) -> None:
        """Raise :func:`batch_failure` when a file failed (exit 7, or 3 / 5 when all did)."""
        if self.failures:
            raise batch_failure(self.failures, self.total)


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


class BatchRunner:
    """Runs a job on every file of a plan, and keeps the records.

    Parameters
    ----------
    plan : BatchPlan
        From :func:`~cryvideo.batch.plan.plan_batch`.
    job : cryvideo.batch.PredictJob or cryvideo.batch.DetectJob
        What is done to each file, here (serial) or on Dask workers (``plan.workers``,
        ``plan.scheduler``). A bad file (:class:`~cryvideo.errors.InputFileError`) gets an
        error record and the batch goes on; any other error ends it.
    render : callable, optional
        ``render(outcome) -> str``: the text printed (and written to a text output) for a
        finished file (default: its JSON record).
    as_json : bool
        Print the JSON records instead (one per input file, failed ones included).
    after : callable, optional
        ``after(index, result)`` once a file's record is printed (e.g. its HTML report); a
        :class:`~cryvideo.errors.CryVideoError` there fails that file without losing its record.
    progress : StageProgress, optional
        The per-file bar of the serial path.
    echo : bool
        Print each finished file's text on stdout (errors and notes go to stderr either way).

    Examples
    --------
    >>> from cryvideo.batch import BatchRunner, DetectJob, plan_batch
    >>> plan = plan_batch(["a.wav", "b.wav"], command="detect", out="cries.jsonl", resume=True)
    >>> report = BatchRunner(plan, DetectJob(), echo=False).run()   # doctest: +SKIP
    >>> [r["crying"] for r in report.records]                        # doctest: +SKIP
    [True, False]
    """

    def __init__(self, plan: BatchPlan, job, *, render: Callable[[FileOutcome], str] | None = None,
                 as_json: bool = False, after: Callable[[int, object], None] | None = None,
                 progress: StageProgress | None = None, echo: bool = True) -> None:
        self.plan, self.job = plan, job
        self.render = render if render is not None else (lambda outcome: json_line(outcome.record))
        self.as_json, self.after, self.progress, self.echo = as_json, after, progress, echo
        self.single = len(plan.paths) == 1
        self._sink: RecordSink | None = None
        self._bar = None
        self._records: list[dict] = []
        self._failures: list[CryVideoError] = []

    def run(self) -> BatchReport:
        """Analyse the plan's files (those without a final record in the output, when
        resuming), holding the output's lock.

        Returns
        -------
        BatchReport
            Failed files are in its ``failures`` (:meth:`BatchReport.raise_for_failures`).

        Raises
        ------
        CryVideoError
            The file's own error when the plan has one file; an error that is not the file's
            (a model problem), once the records finished before it are committed.
        KeyboardInterrupt
            Ctrl-C, or SIGTERM (:class:`~cryvideo.errors.Terminated`), once the finished
            files' records are printed and committed (a file stopped part-way: what was found
            until then, as its ``interrupted`` record).
        """
        with locked_output(self.plan.out):
            return self._run()

    def _run(self) -> BatchReport:
        plan = self.plan
        sink = self._sink = RecordSink(plan.out, fmt=plan.fmt, command=self.job.command,
                                       resume=plan.resume, skip_failed=plan.skip_failed,
                                       commit_every=plan.commit_every)
        todo = self._todo(sink)
        use_dask = plan.workers is not None or plan.scheduler is not None
        self._bar = progress_bar(total=len(todo), desc="files", unit="file",
                                 disable=len(todo) < 2 and not use_dask or None)
        self._bar.set_postfix(failed=0, refresh=False)
        finished = False
        try:
            self._loop(todo, use_dask=use_dask)
            finished = True
        finally:
            self._bar.close()
            # Ctrl-C or an error that ends the run: the finished files' records are kept
            if plan.out is not None and (finished or len(sink)):
                sink.commit()
        return BatchReport(self._records, self._failures, len(plan.paths),
                           len(plan.paths) - len(todo))

    def _todo(self, sink: RecordSink) -> list[tuple[int, str]]:
        """``(index, path)`` of the files to analyse, saying so when some are resumed."""
        paths = self.plan.paths
        done, redo = sink.done(), sink.redo()
        todo = [(i, p) for i, p in enumerate(paths) if record_key(p) not in done]
        if done or redo:
            again = sum(record_key(p) in redo for _, p in todo)
            print(f"cryvideo: resuming: {len(paths) - len(todo)} of {len(paths)} files already "
                  f"have a record in {self.plan.out}; analysing the other {len(todo)}"
                  + (f" ({again} of them failed or were stopped before)" if again else ""),
                  file=sys.stderr, flush=True)
        return todo

    def _loop(self, todo: list[tuple[int, str]], *, use_dask: bool) -> None:
        """Hand out the outcomes in input order as they come; on a stop, those that finished."""
        from .executors import dashboard_link, dask_client, on_dask, serial

        order = InputOrder([i for i, _ in todo])
        with contextlib.ExitStack() as stack:
            stack.enter_context(sigterm_as_interrupt())
            if use_dask and todo:
                client = stack.enter_context(dask_client(workers=self.plan.workers,
                                                         scheduler=self.plan.scheduler))
                link = dashboard_link(client)
                if link:
                    self._say(f"cryvideo: Dask dashboard: {link}", sys.stderr)
                outcomes = on_dask(client, self.job, todo, threads=self._worker_threads())
            else:
                outcomes = serial(self.job, todo, progress=self.progress)
            try:
                for outcome in outcomes:
                    self._bar.update(1)
                    for ready in order.arrived(outcome):
                        self._handle(ready)
            except BaseException as exc:
                # what finished before the stop (a Ctrl-C, SIGTERM, a model error) is kept,
                # in input order; a long file stopped half-way: what was found so far too
                if not self.single:
                    for ready in order.rest():
                        self._handle(ready)
                partial = getattr(exc, "outcome", None)
                if isinstance(exc, KeyboardInterrupt) and partial is not None:
                    self._show(partial)
                raise

    def _worker_threads(self) -> int | None:
        """Model threads of each worker of an embedded cluster (None on an existing one: each
        worker knows its own cores)."""
        from .executors import threads_per_worker

        plan = self.plan
        return (threads_per_worker(plan.workers) if plan.workers is not None and not plan.scheduler
                else None)

    def _handle(self, outcome: FileOutcome) -> None:
        if outcome.status == "error":
            self._failed(outcome, outcome.error)
            return
        self._show(outcome)
        if self.after is not None:
            try:
                self.after(outcome.index, outcome.result)
            except CryVideoError as exc:  # its record is printed and kept already
                self._failed(outcome, exc, record=False)

    def _show(self, outcome: FileOutcome) -> None:
        text = json_line(outcome.record) if self.as_json else self.render(outcome)
        if self.echo:
            self._say(text, sys.stdout)
        self._records.append(outcome.record)
        self._keep(outcome, text)

    def _failed(self, outcome: FileOutcome, exc: CryVideoError, *, record: bool = True) -> None:
        if self.single:
            raise exc
        self._failures.append(exc)
        self._bar.set_postfix(failed=len(self._failures), refresh=False)
        self._say(f"cryvideo: error: {exc}", sys.stderr)
        if record:  # one record per input file
            if self.as_json and self.echo:
                self._say(json_line(outcome.record), sys.stdout)
            self._records.append(outcome.record)
            if self.plan.fmt != "text":
                self._keep(outcome, None)

    def _keep(self, outcome: FileOutcome, text: str | None) -> None:
        """Add a record to the output: the line of a text or JSON-lines output (Parquet keeps
        the record only)."""
        fmt = self.plan.fmt
        line = text if fmt == "text" else json_line(outcome.record) if fmt == "jsonl" else None
        self._sink.add(outcome.index, outcome.record, line)

    def _say(self, text: str, stream) -> None:
        with self._bar.external_write_mode(file=stream):  # the bar is cleared, then drawn again
            print(text, file=stream, flush=True)


def run_batch(plan: BatchPlan, job, **options) -> BatchReport:
    """``BatchRunner(plan, job, **options).run()``: see :class:`BatchRunner`.

    Examples
    --------
    >>> from cryvideo.batch import DetectJob, plan_batch, run_batch
    >>> report = run_batch(plan_batch(["recordings/"], command="detect", out="cries.parquet"),
    ...                    DetectJob(), echo=False)                  # doctest: +SKIP
    >>> report.raise_for_failures()                                  # doctest: +SKIP
    """
    return BatchRunner(plan, job, **options).run()


class InputOrder:
    """Outcomes put back in input order: :meth:`arrived` takes them as they finish and gives
    back those now next in line.

    Parameters
    ----------
    indices : sequence of int
        The input indices, in the order they are to be handed out.

    Examples
    --------
    >>> from cryvideo.batch import FileOutcome
    >>> order = InputOrder([0, 1])
    >>> order.arrived(FileOutcome(1, "b.wav", "ok", None, {}))
    []
    >>> [o.index for o in order.arrived(FileOutcome(0, "a.wav", "ok", None, {}))]
    [0, 1]
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
