"""Progress: the one callback shape of the library, ``progress(stage, done, total)``, and the
tqdm bars that draw it on stderr."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from . import environment

__all__ = ["Progress", "progress_bar", "StageProgress", "tracked", "relabel"]

T = TypeVar("T")

#: The one progress callback shape: ``progress(stage, done, total)`` -- what is being done,
#: how many steps are finished, and how many there are (``None``: not known). Steps are counts
#: (frames, files, fits) or amounts (seconds of audio, to 0.1 s).
Progress = Callable[[str, float, "float | None"], None]


def progress_bar(iterable=None, *, total=None, desc: str = "", unit: str = "it",
                 disable: bool | None = None, leave: bool = False, **kw) -> Iterator:
    """A plain-text tqdm bar on stderr (``tqdm.std``: no widgets, so no ipywidgets needed in
    Jupyter), hidden when stderr is not a terminal unless ``$CRYVIDEO_PROGRESS`` is set or
    ``disable`` is False; ``leave``: the finished bar stays on screen."""
    from tqdm.std import tqdm  # plain text bar: no ipywidgets needed in Jupyter

    if disable is None:
        disable = not sys.stderr.isatty() and not environment.progress_forced()
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=disable, leave=leave,
                file=sys.stderr, dynamic_ncols=True, **kw)


def tracked(iterable: Iterable[T], progress: Progress | None, stage: str, *,
            total: int | None = None) -> Iterator[T]:
    """The items of ``iterable``, calling ``progress(stage, done, total)`` before the first
    (``done`` 0) and after each item is dealt with (when the loop asks for the next one).

    ``total`` defaults to ``len(iterable)`` where it has one. With ``progress`` None, just the
    items.
    """
    if progress is None:
        yield from iterable
        return
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)
    progress(stage, 0, total)
    for done, item in enumerate(iterable, 1):
        yield item
        progress(stage, done, total)


def relabel(progress: Progress | None, stage: str) -> Progress | None:
    """``progress`` with every call's stage replaced by ``stage`` (None stays None)."""
    if progress is None:
        return None
    return lambda _stage, done, total: progress(stage, done, total)


class StageProgress:
    """A :data:`Progress` callback drawing one tqdm bar per file and stage.

    Call :meth:`close` when the file is done; the next call opens a new bar, and so does a call
    with another stage or total than the bar's.

    Parameters
    ----------
    unit : str
    disable : bool, optional
        None: bars only when stderr is a terminal (or ``$CRYVIDEO_PROGRESS`` is set); False:
        always (a notebook, whose stderr is no terminal).
    leave : bool
        Keep each finished bar on screen (a notebook's record of what ran).
    """

    def __init__(self, *, unit: str = "it", disable: bool | None = None,
                 leave: bool = False) -> None:
        self.unit = unit
        self.disable, self.leave = disable, leave
        self.bar = None
        self._of: tuple = ()

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if self.bar is not None and (stage, total) != self._of:
            self.close()
        if self.bar is None:
            self.bar = progress_bar(total=total, desc=stage, unit=self.unit,
                                    disable=self.disable, leave=self.leave)
            self._of = (stage, total)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
