"""Progress: the one callback shape of the library, ``progress(stage, done, total)``, and the
tqdm bars that draw it on stderr."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator

__all__ = ["Progress", "progress_bar", "StageProgress"]

#: The one progress callback shape: ``progress(stage, done, total)`` -- what is being done,
#: how many steps are finished, and how many there are (``None``: not known).
Progress = Callable[[str, int, "int | None"], None]


def progress_bar(iterable=None, *, total=None, desc: str = "", unit: str = "it",
                 disable: bool | None = None, **kw) -> Iterator:
    """A tqdm bar on stderr, hidden when stderr is not a terminal (unless
    ``$CRYVIDEO_PROGRESS`` is set)."""
    from tqdm import tqdm  # plain text bar: no ipywidgets needed in Jupyter

    if disable is None:
        disable = not sys.stderr.isatty() and not os.environ.get("CRYVIDEO_PROGRESS")
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=disable, leave=False,
                file=sys.stderr, dynamic_ncols=True, **kw)


class StageProgress:
    """A :data:`Progress` callback drawing one tqdm bar per file.

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
