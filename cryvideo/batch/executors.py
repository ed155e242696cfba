"""Where a batch's files are analysed: one after the other in this process (:func:`serial`), or
on a Dask cluster (:func:`on_dask`): an embedded ``LocalCluster`` of N worker processes, or an
existing cluster's scheduler (:func:`dask_client`)."""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Iterable, Iterator

from .. import environment
from ..errors import InputFileError, ParameterError, first_line
from ..progress import Progress
from .jobs import (
    FILE_HOOKS,
    FileOutcome,
    as_given,
    error_outcome,
    forget_models,
    partial_outcome,
    run_file,
)

__all__ = ["serial", "on_dask", "dask_client", "dashboard_link", "threads_per_worker",
           "run_records", "SCHEDULER_ENV", "CONNECT_TIMEOUT", "MAX_WORKERS"]

#: Environment variable naming an existing Dask scheduler (like ``--scheduler``).
SCHEDULER_ENV = environment.SCHEDULER_ENV
#: Seconds to reach an existing scheduler before giving up (``$CRYVIDEO_DASK_TIMEOUT``
#: overrides it).
CONNECT_TIMEOUT = 10.0
#: Most worker processes ``--workers`` starts on this machine.
MAX_WORKERS = 256


def serial(job, items: Iterable[tuple[int, str]], *,
           progress: Progress | None = None) -> Iterator[FileOutcome]:
    """The outcomes of ``job`` on ``items`` (``(index, path)``), file after file, in this
    process.

    Ctrl-C on a file the job can stop part-way raises KeyboardInterrupt with ``outcome``: that
    file's outcome with what was found until then. The models are loaded for the run and
    dropped at its end.
    """
    try:
        for index, path in items:
            try:
                outcome = run_file(job, path, index, progress=progress)
            except KeyboardInterrupt as exc:
                exc.outcome = partial_outcome(job, path, index, exc)
                raise
            finally:
                if progress is not None and hasattr(progress, "close"):
                    progress.close()   # one bar per file
            yield outcome
    finally:
        forget_models(job)   # a run in this process loads afresh (models folder, env, files)


def threads_per_worker(workers: int) -> int:
    """Model threads for each of ``workers`` processes on this machine's cores (at least 1)."""
    return max(1, (os.cpu_count() or 1) // max(1, int(workers)))


@contextlib.contextmanager
def dask_client(*, workers: int | None = None, scheduler: str | None = None,
                timeout: float | None = None, dashboard_address: str | None = ":8787"
                ) -> Iterator[object]:
    """A ``distributed.Client``: of an existing cluster (``scheduler``), else of a
    ``LocalCluster`` of ``workers`` single-threaded worker processes started here and closed on
    exit, their native libraries (OpenMP, TensorFlow) started with :func:`threads_per_worker`
    threads (the models' threads are given to each file: :func:`on_dask`). ``timeout``: seconds
    to reach the scheduler (default: ``$CRYVIDEO_DASK_TIMEOUT``, else :data:`CONNECT_TIMEOUT`).

    Raises
    ------
    ParameterError
        (exit 2) A scheduler that cannot be reached in ``timeout`` seconds or a malformed
        address; a number of workers outside [1, :data:`MAX_WORKERS`].
    """
    from distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.CRITICAL)
    if scheduler:
        if timeout is None:
            timeout = environment.dask_timeout(CONNECT_TIMEOUT)
        _check_scheduler(scheduler, timeout)
        try:
            client = Client(scheduler, timeout=timeout, set_as_default=False)
        except Exception as exc:  # noqa: BLE001 - any failure to connect is the address's
            raise ParameterError(f"cannot reach the Dask scheduler at {scheduler} "
                                 f"({_why(exc)})") from None
        try:
            yield client
        finally:
            client.close()
        return
    if workers is None or not 1 <= int(workers) <= MAX_WORKERS:
        raise ParameterError(f"--workers must be a whole number in [1, {MAX_WORKERS}], got "
                             f"{workers}")
    # the environment of the new worker processes: what their native libraries read as they
    # start (the models' threads are a value, sent with each file)
    threads = str(threads_per_worker(workers))
    env = {"OMP_NUM_THREADS": threads, "TF_NUM_INTRAOP_THREADS": threads,
           "TF_NUM_INTEROP_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    cluster = LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True,
                           silence_logs=logging.CRITICAL, dashboard_address=dashboard_address,
                           env=env, preload=["cryvideo.batch.worker"])
    try:
        client = Client(cluster, set_as_default=False)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


def _why(exc: BaseException) -> str:
    return first_line(" ".join(str(exc).split())) or type(exc).__name__


def _check_scheduler(address: str, timeout: float) -> None:
    """Connect to ``address`` once and shake hands (a Dask comm), before any Client exists: a
    Client whose constructor fails leaves a half-made object that hangs at exit.

    Raises
    ------
    ParameterError
        A malformed address, nothing listening, or something that is not a Dask scheduler.
    """
    import asyncio

    from distributed.comm import connect

    async def shake() -> None:
        comm = await connect(address, timeout=timeout)
        await comm.close()

    try:
        asyncio.run(shake())
    except Exception as exc:  # noqa: BLE001 - a failure to connect is the address's
        why = (f"it answered, but not as a Dask scheduler: {_why(exc)}"
               if isinstance(exc, MemoryError) else _why(exc))  # garbage read as a frame
        raise ParameterError(f"cannot reach the Dask scheduler at {address} ({why})"
                             ) from None


def dashboard_link(client) -> str | None:
    """The Dask dashboard's address, when one is running."""
    try:
        if "dashboard" not in client.scheduler_info().get("services", {}):
            return None
        return client.dashboard_link
    except (OSError, KeyError, AttributeError, TypeError):
        return None


def on_dask(client, job, items: Iterable[tuple[int, str]], *,
            threads: int | None = None) -> Iterator[FileOutcome]:
    """The outcomes of ``job`` on ``items`` (``(index, path)``), run on ``client``'s cluster, in
    the order they finish.

    ``threads``: the model threads of each file (an embedded cluster's
    :func:`threads_per_worker`); default: each worker's cores over the files it runs at once.
    The :data:`~cryvideo.batch.jobs.FILE_HOOKS` installed here are sent with each file.

    The workers are sent absolute paths, resolved here (a worker may run in another folder, on
    another machine); the outcomes name the files as ``items`` do.

    A worker that dies mid-file has its files rescheduled by Dask; a file that kills workers
    again and again (Dask's ``allowed-failures``) becomes an error outcome. A model problem
    (any non-file :class:`~cryvideo.errors.CryVideoError`) cancels the rest and is raised.
    """
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    items = list(items)
    run = uuid.uuid4().hex[:8]
    futures = client.map(run_file, [job] * len(items), [os.path.abspath(p) for _, p in items],
                         [i for i, _ in items], threads=threads, hooks=tuple(FILE_HOOKS),
                         key=[f"cryvideo-{job.command}-{run}-{i}" for i, _ in items])
    where = {f.key: (i, p) for f, (i, p) in zip(futures, items, strict=True)}
    done = as_completed(futures, loop=client.loop)
    del futures   # as_completed holds them until each is handed out
    try:
        for fut in done:
            index, path = where[fut.key]
            try:
                outcome = as_given(fut.result(), path)
            except KilledWorker as exc:
                err = InputFileError(f"killed the worker that analysed it, again and again "
                                     f"({type(exc).__name__}: out of memory?)", path=path)
                outcome = error_outcome(job, index, path, err)
            fut.release()
            yield outcome
    finally:
        with contextlib.suppress(Exception):
            client.cancel(list(done.futures))


def run_records(paths, job, *, workers: int | None = None,
                scheduler: str | None = None) -> Iterator[dict]:
    """The JSON records of ``job`` on ``paths``, for use from Python (e.g. a notebook): in this
    process by default, else on ``workers`` local worker processes or an existing cluster's
    ``scheduler``; in the order they finish. Failed files give error records (``status``
    ``"error"``); a model problem is raised.

    Examples
    --------
    >>> import pandas as pd
    >>> from cryvideo.batch import DetectJob, run_records, to_row
    >>> rows = [to_row(r, command="detect") for r in run_records(files, DetectJob())]
    >>> pd.DataFrame(rows)[["path", "status", "crying", "crying_probability"]]  # doctest: +SKIP
    """
    items = list(enumerate(map(str, paths)))
    if workers is None and scheduler is None:
        for outcome in serial(job, items):
            yield outcome.record
        return
    threads = threads_per_worker(workers) if workers is not None and not scheduler else None
    with dask_client(workers=workers, scheduler=scheduler) as client:
        for outcome in on_dask(client, job, items, threads=threads):
            yield outcome.record
