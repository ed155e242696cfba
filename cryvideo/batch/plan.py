"""A batch's plan: its input files and its output, every one checked before any model loads."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from pathlib import Path

from .. import environment
from ..errors import InputFileError, ParameterError, check_number
from .checks import check_output, expand_inputs
from .executors import MAX_WORKERS
from .manifest import read_manifest
from .outputs import output_command, output_format

__all__ = ["BatchPlan", "plan_batch", "COMMIT_EVERY"]

#: Finished files between two commits of the output (``--commit-every``).
COMMIT_EVERY = 25


@dataclasses.dataclass(frozen=True)
class BatchPlan:
    """A per-file command's inputs and outputs, checked before any model loads
    (:func:`plan_batch` makes one).

    Attributes
    ----------
    paths : tuple of str
        The input files, in order (folders expanded, manifests read).
    out : pathlib.Path or None
        Where the records go (None: nowhere, only printed).
    fmt : {"text", "jsonl", "parquet"}
        The format of ``out``.
    resume : bool
        Skip the files that already have a final record in ``out``.
    workers : int or None
        Analyse on this many local worker processes (an embedded Dask cluster).
    scheduler : str or None
        Analyse on the existing Dask cluster at this address.
    commit_every : int
        Commit ``out`` after every this many finished files.
    skip_failed : bool
        With ``resume``: a file whose record is an error is not analysed again.

    Examples
    --------
    >>> plan = BatchPlan(paths=("a.wav", "b.wav"))   # printed only, here, file after file
    >>> plan.out is None and plan.fmt
    'text'
    """

    paths: tuple[str, ...]
    out: Path | None = None
    fmt: str = "text"
    resume: bool = False
    workers: int | None = None
    scheduler: str | None = None
    commit_every: int = COMMIT_EVERY
    skip_failed: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "paths", tuple(map(str, self.paths)))


def plan_batch(paths: Iterable[str | os.PathLike] = (), *, command: str,
               manifests: Iterable[str | os.PathLike] = (), out: str | os.PathLike | None = None,
               as_json: bool = False, resume: bool = False, skip_failed: bool = False,
               force: bool = False, workers: int | None = None, scheduler: str | None = None,
               commit_every: int = COMMIT_EVERY) -> BatchPlan:
    """Check a batch's inputs and output before any model loads.

    Parameters
    ----------
    paths : iterable of path
        Files, and folders (their media files, sorted, recursively).
    command : {"detect", "predict"}
        The command whose records the batch makes (named in the errors).
    manifests : iterable of path
        Lists of further files (text: one path a line; CSV: its ``path`` column, else its
        first); a relative path is relative to its list.
    out : path, optional
        The output: ``.parquet`` (Parquet), ``.jsonl`` (JSON lines; also any name with
        ``as_json``), else text.
    as_json : bool
        The records are printed as JSON (a text ``out`` then holds JSON lines).
    resume : bool
        Keep the records already in ``out`` (JSON lines or Parquet) and analyse only the files
        without a final one.
    skip_failed : bool
        With ``resume``: a file whose record is an error is final too.
    force : bool
        Let ``out`` replace an existing file that is not a cryvideo output (never an input, a
        media file or binary data).
    workers : int, optional
        Local worker processes, in [1, :data:`~cryvideo.batch.executors.MAX_WORKERS`].
    scheduler : str, optional
        An existing Dask scheduler's address (default: ``$CRYVIDEO_DASK_SCHEDULER``, unless
        ``workers`` is given).
    commit_every : int
        Commit ``out`` after every this many finished files (and at least every 30 s).

    Returns
    -------
    BatchPlan

    Raises
    ------
    ParameterError
        No input; ``workers`` with ``scheduler``; a number out of range; ``resume`` without a
        JSON-lines or Parquet ``out``, ``skip_failed`` without ``resume``; an output refused by
        :func:`~cryvideo.batch.checks.check_output` (a manifest is an input too), or an
        existing file that is not a cryvideo output of that format (unless ``force``). The
        messages name the command-line options (``--out``, ``--workers``, ...).
    InputFileError
        A manifest that cannot be read; a folder with no media files.

    Examples
    --------
    >>> plan = plan_batch(["recordings/"], command="detect", out="cries.jsonl", resume=True)
    >>> plan.fmt
    'jsonl'
    """
    manifests = [str(m) for m in manifests]
    files = expand_inputs(map(str, paths))
    for m in manifests:
        files += read_manifest(m)
    if not files:
        raise ParameterError(f"no input files given (usage: cryvideo {command} FILE…, or "
                             "--manifest LIST)")
    scheduler = _scheduler(workers, scheduler)
    check_number("--workers", workers, lo=1, hi=MAX_WORKERS, unit=" processes")
    check_number("--commit-every", commit_every, lo=1, hi=1_000_000, unit=" files")
    fmt = output_format(out, as_json=as_json) if out else "text"
    checked = None
    if out:
        checked = check_output(out, option="--out", kind="parquet" if fmt == "parquet" else "text",
                               inputs=[*files, *manifests])
    _check_resume(checked, fmt, resume=resume, skip_failed=skip_failed, force=force)
    return BatchPlan(paths=tuple(files), out=checked, fmt=fmt, resume=resume, workers=workers,
                     scheduler=scheduler, commit_every=commit_every, skip_failed=skip_failed)


def _scheduler(workers: int | None, scheduler: str | None) -> str | None:
    """The scheduler a batch runs on: the one given, else ``$CRYVIDEO_DASK_SCHEDULER`` unless
    ``workers`` is given (it wins over the variable)."""
    if workers is not None and scheduler is not None:
        raise ParameterError("give --workers or --scheduler, not both")
    if workers is not None:
        return None
    return scheduler if scheduler is not None else environment.dask_scheduler()


def _check_resume(out: Path | None, fmt: str, *, resume: bool, skip_failed: bool,
                  force: bool) -> None:
    """Refuse ``resume`` without an output it can read back, ``skip_failed`` without
    ``resume``, and (without ``resume`` or ``force``) an ``out`` that is not a cryvideo
    output."""
    if resume and (out is None or fmt == "text"):
        raise ParameterError("--resume needs --out FILE.jsonl or FILE.parquet (an output it "
                             "can read back)")
    if skip_failed and not resume:
        raise ParameterError("--skip-failed goes with --resume (it skips the files whose "
                             "record in --out is an error)")
    if out is not None and out.is_file() and not resume and not force:
        try:  # (resume reads it under the output's lock: RecordSink)
            output_command(out, fmt)
        except InputFileError as exc:
            raise ParameterError(f"exists and is not a cryvideo output ({exc.message}): --out "
                                 "will not replace it (--force replaces it; or choose another "
                                 "name)", path=out) from None
