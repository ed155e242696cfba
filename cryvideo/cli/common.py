"""Helpers shared by the sub-commands: the batch options and their plan, the checks of outputs
named by options (one file per input, two options on one file), progress bars, output.

The checks of inputs, outputs and numbers themselves live in the library, which uses them too
(:mod:`cryvideo.batch.checks`, :func:`cryvideo.io.check_output_folder`,
:func:`cryvideo.errors.check_number`), and are re-exported here."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from ..batch.checks import (
    MEDIA_EXTENSIONS,
    OUTPUT_KINDS,
    check_output,
    expand_inputs,
    same_file,
)
from ..batch.plan import COMMIT_EVERY, BatchPlan
from ..errors import ParameterError, check_number
from ..io import check_output_folder, json_line
from ..progress import StageProgress, progress_bar

__all__ = [
    "MEDIA_EXTENSIONS",
    "OUTPUT_KINDS",
    "expand_inputs",
    "check_number",
    "check_output",
    "check_output_folder",
    "report_pages",
    "check_distinct_outputs",
    "check_outputs_apart",
    "add_batch_options",
    "plan_from_args",
    "run_plan",
    "progress_bar",
    "StageProgress",
    "emit_json",
]


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
                if same_file(other, f) or os.path.realpath(other) == os.path.realpath(f):
                    raise ParameterError(f"is both {other_what} and {what(option, files)}: one "
                                         "would replace the other", path=other)
            seen.append((option, what(option, files), f))


# -- the batch options ---------------------------------------------------------------------
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
    p.add_argument("--commit-every", type=int, metavar="N", default=COMMIT_EVERY,
                   help="commit --out after every N finished files (and at least every 30 s; "
                   "default: %(default)s)")


def plan_from_args(args) -> BatchPlan:
    """The :class:`~cryvideo.batch.BatchPlan` of the batch options of ``args`` (see
    :func:`add_batch_options` and :func:`cryvideo.batch.plan_batch`, which checks them)."""
    from ..batch.plan import plan_batch

    return plan_batch(args.paths, command=args.command, manifests=args.manifest, out=args.out,
                      as_json=args.json, resume=args.resume, skip_failed=args.skip_failed,
                      force=args.force, workers=args.workers, scheduler=args.scheduler,
                      commit_every=args.commit_every)


def run_plan(plan: BatchPlan, job, **options) -> int:
    """Run ``job`` on the plan (:class:`cryvideo.batch.BatchRunner`, printing as it goes): 0, or
    the batch's error when a file failed (:func:`cryvideo.batch.batch_failure`)."""
    from ..batch.runner import BatchRunner

    BatchRunner(plan, job, **options).run().raise_for_failures()
    return 0


# -- display -----------------------------------------------------------------------------------
#: Compact one-line JSON (one JSON-lines record).
emit_json = json_line
