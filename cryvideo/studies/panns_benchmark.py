"""``cryvideo benchmark panns``, callable from Python: the pooling and compression tables of
the PANNs path regenerated from the data, written as ``panns_*.{json,md}``.

The studies themselves are :mod:`cryvideo.studies.panns`, their tables
:mod:`cryvideo.studies.panns_report`; this module checks the settings and the paths before any
data loads, runs the chosen parts, and writes each part's results as soon as it finishes (a
failing part is reported and the others still run).
"""

from __future__ import annotations

import dataclasses
import json
import traceback
from collections.abc import Callable
from pathlib import Path

from ..errors import DatasetError, ParameterError, PartialFailure, check_among

__all__ = ["PANNS_PARTS", "PannsBenchmarkSettings", "run_panns_benchmark",
           "rewrite_panns_markdown"]

#: The tables ``benchmark panns`` regenerates, in the order they run.
PANNS_PARTS = ("pooling", "compression")
#: Results files of each part (``<stem>.json`` and ``<stem>.md``).
_STEMS = {"pooling": "panns_pooling", "compression": "panns_compression"}


@dataclasses.dataclass(frozen=True)
class PannsBenchmarkSettings:
    """What ``benchmark panns`` runs; every value is checked when the object is made.

    Attributes
    ----------
    data_dir : str or os.PathLike
        Folder with ``cry_detection/`` and ``donateacry/`` (e.g. ``../shared/data``).
    parts : tuple of str
        Among :data:`PANNS_PARTS`.
    out : str or os.PathLike
        Results folder.
    folds : int
        Grouped CV folds of both studies (at least 2).
    compression_epochs : int
        Epochs of the compression study's models.
    compression_folds : int, optional
        Evaluate compression on the first N folds of each seed only (default: all).
    compression_seeds : int
        Seeds of the compression study, each its own grouped split and training seeds.
    compression_checkpoint : str or os.PathLike, optional
        JSON file keeping each finished compression fold (default:
        ``panns_compression_folds.json`` in ``out``); a rerun resumes from it.
    pooling_repeats : int
        Repeats (= seeds) of the grouped CV of the pooling study.
    bootstrap : int
        Group-bootstrap resamples of each interval (at least 100).
    seed : int
    markdown_only : bool
        Only rewrite the ``.md`` tables from the ``.json`` results in ``out``.
    command : str
        The command line recorded with the results.

    Examples
    --------
    >>> from cryvideo.studies.panns_benchmark import PannsBenchmarkSettings
    >>> s = PannsBenchmarkSettings("../shared/data", parts=("pooling",), pooling_repeats=1)
    >>> s.parts, s.bootstrap
    (('pooling',), 2000)
    """

    data_dir: str
    parts: tuple[str, ...] = PANNS_PARTS
    out: str = "benchmarks/results"
    folds: int = 5
    compression_epochs: int = 8
    compression_folds: int | None = None
    compression_seeds: int = 3
    compression_checkpoint: str | None = None
    pooling_repeats: int = 3
    bootstrap: int = 2000
    seed: int = 0
    markdown_only: bool = False
    command: str = "cryvideo benchmark panns"

    def __post_init__(self) -> None:
        object.__setattr__(self, "parts", check_among("parts", self.parts, PANNS_PARTS))
        if self.folds < 2:
            raise ParameterError(f"--folds must be at least 2, got {self.folds}")
        if self.compression_epochs < 1:
            raise ParameterError("--compression-epochs must be at least 1, got "
                                 f"{self.compression_epochs}")
        if self.compression_seeds < 1 or self.pooling_repeats < 1 or self.bootstrap < 100:
            raise ParameterError("need --compression-seeds ≥ 1, --pooling-repeats ≥ 1 and "
                                 "--bootstrap ≥ 100")
        out = Path(self.out)
        if out.exists() and not out.is_dir():
            raise ParameterError("--out is not a folder", path=out)

    @property
    def checkpoint(self) -> Path:
        """Where the finished compression folds are kept."""
        return Path(self.compression_checkpoint
                    or Path(self.out) / "panns_compression_folds.json")


def rewrite_panns_markdown(out) -> list[Path]:
    """Rewrite ``panns_*.md`` from the ``panns_*.json`` results in ``out``, recomputing
    nothing; returns the files written.

    Examples
    --------
    >>> from cryvideo.studies.panns_benchmark import rewrite_panns_markdown
    >>> rewrite_panns_markdown("benchmarks/results")      # doctest: +SKIP
    [PosixPath('benchmarks/results/panns_pooling.md'), ...]
    """
    from ..io import write_text_atomic

    written = []
    for part in PANNS_PARTS:
        res = Path(out) / f"{_STEMS[part]}.json"
        if res.is_file():
            md = _markdown(part)(json.loads(res.read_text(encoding="utf-8")))
            write_text_atomic(res.with_suffix(".md"), md)
            written.append(res.with_suffix(".md"))
    return written


def _markdown(part: str) -> Callable[[dict], str]:
    from .panns_report import compression_markdown, pooling_markdown

    return {"pooling": pooling_markdown, "compression": compression_markdown}[part]


def _check_paths(settings: PannsBenchmarkSettings) -> None:
    """The data folders, and a checkpoint path that is a folder, in no folder, or a file that
    is not a compression checkpoint (it would be overwritten): refused before anything loads."""
    from .panns import read_compression_checkpoint

    root = Path(settings.data_dir)
    for sub in ("cry_detection", "donateacry"):
        if not (root / sub).is_dir():
            raise DatasetError(f"no {sub}/ folder in DATA_DIR", path=root)
    path = settings.checkpoint
    if "compression" in settings.parts and not settings.markdown_only:
        if not path.is_dir() and not path.parent.is_dir():
            raise ParameterError("no such folder for --compression-checkpoint", path=path)
        read_compression_checkpoint(path)


def _study(part: str, settings: PannsBenchmarkSettings, clipsets: dict,
           log: Callable[[str], None]) -> dict:
    from . import panns as ex

    s = settings
    if part == "pooling":
        return ex.pooling_study(clipsets["donateacry"], n_splits=s.folds,
                                n_repeats=s.pooling_repeats, seed=s.seed, n_boot=s.bootstrap,
                                log=log)
    return ex.compression_study(clipsets["cry_detection"], clipsets["donateacry"],
                                epochs=s.compression_epochs, n_splits=s.folds,
                                folds=s.compression_folds, n_seeds=s.compression_seeds,
                                seed=s.seed, n_boot=s.bootstrap, checkpoint=s.checkpoint,
                                log=log)


def run_panns_benchmark(settings: PannsBenchmarkSettings, *,
                        log: Callable[[str], None] = print,
                        show: Callable[[str], None] | None = None) -> list[Path]:
    """Run the chosen parts and write ``panns_<part>.json`` (with the machine and the
    command) and ``panns_<part>.md`` into ``settings.out``.

    Parameters
    ----------
    settings : PannsBenchmarkSettings
    log : callable
        Progress lines (and the traceback of a part that failed).
    show : callable, optional
        Gets each table's Markdown as it is written.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    DatasetError
        ``data_dir`` lacks ``cry_detection/`` or ``donateacry/``.
    ParameterError
        A compression checkpoint path that is not one (checked before any data loads).
    PartialFailure
        A part failed; the others' files are written.

    Examples
    --------
    >>> from cryvideo.studies.panns_benchmark import (PannsBenchmarkSettings,
    ...                                               run_panns_benchmark)
    >>> s = PannsBenchmarkSettings("../shared/data", parts=("pooling",), out="/tmp/panns")
    >>> run_panns_benchmark(s)                              # doctest: +SKIP
    [PosixPath('/tmp/panns/panns_pooling.json'), PosixPath('/tmp/panns/panns_pooling.md')]
    """
    from ..io import write_json_atomic, write_text_atomic
    from ..machine import machine

    _check_paths(settings)
    out = Path(settings.out)
    out.mkdir(parents=True, exist_ok=True)
    if settings.markdown_only:
        return rewrite_panns_markdown(out)
    from ..training.clipsets import load_clipset

    root = Path(settings.data_dir)
    clipsets = {name: load_clipset(name, root / name) for name in ("cry_detection", "donateacry")}
    meta = {**machine(), "command": settings.command}
    failed, written = [], []
    for part in settings.parts:
        stem = out / _STEMS[part]
        try:
            res = _study(part, settings, clipsets, log)
            write_json_atomic(stem.with_suffix(".json"), {**meta, **res})
            written.append(stem.with_suffix(".json"))
            md = _markdown(part)(res)
        except ParameterError:
            raise
        except Exception as exc:  # keep going: the other tables still get written
            log(traceback.format_exc().rstrip("\n"))
            log(f"benchmark panns: {part} failed: {type(exc).__name__}: {exc}")
            failed.append(part)
            continue
        write_text_atomic(stem.with_suffix(".md"), md)
        written.append(stem.with_suffix(".md"))
        if show is not None:
            show(md)
    if failed:
        raise PartialFailure(f"benchmark panns: {', '.join(failed)} failed (see above)")
    return written
