"""The one exception hierarchy of cryvideo (and :func:`check_number`, the range check of
every numeric option; :func:`check_among`, the check of every option that picks several of a
list).

Every error that a user can cause or fix (bad input file, missing weights, bad parameter) is a
subclass of :class:`CryVideoError`. The command-line interface turns each into one line on stderr
and the subclass's :attr:`~CryVideoError.exit_code`; library users can catch the base class.

Exit codes (also listed in the README):

====  ==========================================================
0     success (also ``listen`` stopped by SIGTERM)
1     unexpected internal error (a bug: please report it)
2     bad command-line usage or parameter, or an output that would be refused
      (:class:`ParameterError`)
3     bad input file (:class:`InputFileError`); also a batch in which every file failed, and a
      live source (``listen``) that cannot be opened or is lost for good (``--retries``)
4     model or weights missing, corrupt or mismatched (:class:`ModelError`)
5     ffmpeg did not finish in time (:class:`MediaTimeoutError`)
6     dataset layout or file name not understood (:class:`DatasetError`)
7     batch run: some (not all) files failed, the others were processed
      (:class:`PartialFailure`)
130   interrupted (Ctrl-C)
143   terminated (SIGTERM) during a batch ``predict``/``detect``: the finished files' records
      are kept, as on Ctrl-C (:class:`Terminated`)
====  ==========================================================
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from numbers import Real

__all__ = [
    "CryVideoError",
    "ParameterError",
    "InputFileError",
    "MediaTimeoutError",
    "ModelError",
    "WeightsNotFoundError",
    "DatasetError",
    "PartialFailure",
    "Terminated",
    "first_line",
    "display_path",
    "check_number",
    "check_among",
]

#: Longest message :func:`first_line` keeps whole.
MAX_MESSAGE = 1000


def first_line(text: str, *, limit: int = MAX_MESSAGE) -> str:
    """The first non-empty line of ``text``, for a one-line message.

    Never cut mid-sentence: a line longer than ``limit`` keeps its whole sentences up to the
    limit (or, when the first sentence alone is longer, its words up to it) and ends with
    `` […]`` to show that something was left out.
    """
    line = next((ln.strip() for ln in str(text).splitlines() if ln.strip()), "")
    if len(line) <= limit:
        return line
    head = line[:limit]
    cut = max(head.rfind(". "), head.rfind("; "))
    if cut > 0:
        return head[:cut + 1] + " […]"
    return head[:head.rfind(" ")].rstrip(",;:") + " […]" if " " in head else head + " […]"


def display_path(path: str | os.PathLike) -> str:
    """A path as a line of text output shows it: as it is, unless it holds a character that
    cannot be shown (a newline, a tab, an escape, a byte that is not UTF-8, …): then as a
    quoted Python literal with those characters escaped (``'night\\n1.wav'``), so that one
    record stays one line and a terminal shows what the name really is.

    JSON and Parquet records keep the path as it is (their encoders escape what they must).
    """
    text = os.fsdecode(path)
    return text if text.isprintable() else repr(text)


class CryVideoError(Exception):
    """Base class of every error cryvideo raises on purpose.

    Parameters
    ----------
    message : str
        What went wrong, in one line, without the file name.
    path : str or os.PathLike, optional
        The file (or folder) the problem is about; it is put in front of the message.
    """

    exit_code: int = 1

    def __init__(self, message: str, *, path: str | os.PathLike | None = None) -> None:
        self.message = " ".join(str(message).split())  # always one line
        self.path = None if path is None else os.fspath(path)
        super().__init__(self.message)

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        return f"{display_path(self.path)}: {self.message}"

    def __reduce__(self):
        # pickled with its path (a batch worker's error reaches the client whole)
        return _rebuild, (type(self), self.message, self.path, self.__dict__)


def _rebuild(cls, message, path, state):
    exc = cls.__new__(cls)
    CryVideoError.__init__(exc, message, path=path)
    exc.__dict__.update(state)
    return exc


class ParameterError(CryVideoError, ValueError):
    """A parameter value is invalid (like librosa's ``ParameterError``)."""

    exit_code = 2


class InputFileError(CryVideoError):
    """An input file is missing, unreadable, not a media file, or has no usable content."""

    exit_code = 3


class MediaTimeoutError(InputFileError):
    """ffmpeg did not finish (or stopped producing data) within its time limit."""

    exit_code = 5


class ModelError(CryVideoError):
    """A model file is missing, corrupt, unsafe, or does not match its card."""

    exit_code = 4


class WeightsNotFoundError(ModelError):
    """Pretrained weights could not be found locally nor downloaded (exit code: its
    :class:`ModelError`'s)."""


class DatasetError(CryVideoError):
    """A dataset folder does not have the expected layout, or a file name cannot be parsed."""

    exit_code = 6


class PartialFailure(CryVideoError):
    """A batch run finished, but some of its inputs failed."""

    exit_code = 7


class Terminated(KeyboardInterrupt):
    """SIGTERM (``docker stop``, Slurm, systemd) during a batch run: raised where a Ctrl-C
    would be, so the same clean-up runs (the finished records are committed, the output's lock
    removed), then the command exits with :attr:`exit_code`.

    Not a :class:`CryVideoError`: a request to stop, not a mistake.
    """

    exit_code = 143


def check_number(option: str, value, *, lo: float, hi: float, lo_open: bool = False,
                 unit: str = "", required: bool = False) -> None:
    """Raise :class:`ParameterError` unless ``value`` is a finite number in the range (or None,
    unless ``required``): the one check behind every numeric option.

    The range is ``[lo, hi]``, or ``(lo, hi]`` when ``lo_open``; ``unit`` is appended to the
    message, which names ``option`` as the command line does.

    Examples
    --------
    >>> check_number("--fps", 5.0, lo=0.1, hi=240)
    >>> check_number("--fps", 0.01, lo=0.1, hi=240)
    Traceback (most recent call last):
    ...
    cryvideo.errors.ParameterError: --fps must be a number in [0.1, 240], got 0.01
    """
    if value is None and not required:
        return
    rng = f"{'(' if lo_open else '['}{lo:g}, {hi:g}]"
    if not isinstance(value, Real) or isinstance(value, bool):
        raise ParameterError(f"{option} must be a number in {rng}{unit}, got {value!r}")
    ok = math.isfinite(value) and (lo < value if lo_open else lo <= value) and value <= hi
    if not ok:
        raise ParameterError(f"{option} must be a number in {rng}{unit}, got {value:g}")


def check_among(option: str, values: Iterable[str], choices: Sequence[str]) -> tuple[str, ...]:
    """``values`` as a tuple; raise :class:`ParameterError` unless it names at least one of
    ``choices`` and nothing else."""
    values = tuple(values)
    if not values or any(v not in choices for v in values):
        raise ParameterError(f"{option} must be among {', '.join(choices)}, got "
                             f"{', '.join(values) or 'nothing'}")
    return values
