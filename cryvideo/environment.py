"""The ``CRYVIDEO_*`` environment variables: every one the library reads is read here, and
nowhere else.

=========================  =======================================================================
variable                   meaning (default)
=========================  =======================================================================
``CRYVIDEO_MODELS_DIR``    the models folder, as ``--models DIR`` (the bundled ``saved_models/``)
``CRYVIDEO_WEIGHTS_DIR``   folders of pretrained weights, separated by ``os.pathsep``, searched
                           before the Keras cache (none)
``CRYVIDEO_CACHE_DIR``     the cache root: features, face crops, backbones
                           (``$XDG_CACHE_HOME/cryvideo``, else ``~/.cache/cryvideo``)
``CRYVIDEO_SHARED``        the folder holding ``data/`` for the benchmarks and studies
                           (``../shared`` beside the repository)
``CRYVIDEO_FFMPEG``        the ffmpeg binary (``ffmpeg`` on ``PATH``, else imageio-ffmpeg's)
``CRYVIDEO_THREADS``       threads of a multi-threaded model in this process (the CPU count,
                           at most 4)
``CRYVIDEO_DASK_SCHEDULER`` the Dask scheduler a batch run uses, as ``--scheduler`` (none:
                           local workers)
``CRYVIDEO_DASK_TIMEOUT``  seconds to reach that scheduler (10)
``CRYVIDEO_PROGRESS``      show progress bars even when stderr is not a terminal (off)
``CRYVIDEO_DEBUG``         a Python traceback instead of the one-line error, as ``--debug``
                           (off)
=========================  =======================================================================

``listen --on-cry`` *sets* further ``CRYVIDEO_*`` variables for the command it runs (see
:mod:`cryvideo.detection.alerts`); the test suite's own are read in :mod:`cryvideo.testing`.

Each function reads the environment when called, so a variable set after import counts.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["VARIABLES", "MODELS_DIR_ENV", "THREADS_ENV", "SCHEDULER_ENV", "models_dir",
           "weights_dirs", "cache_dir", "shared_dir", "ffmpeg", "threads", "dask_scheduler",
           "dask_timeout", "progress_forced", "debug"]

#: Names other modules show in messages (``$CRYVIDEO_MODELS_DIR`` …).
MODELS_DIR_ENV = "CRYVIDEO_MODELS_DIR"
THREADS_ENV = "CRYVIDEO_THREADS"
SCHEDULER_ENV = "CRYVIDEO_DASK_SCHEDULER"

#: Every variable this module reads, with what it means (the table above, for ``--help`` texts
#: and tests).
VARIABLES = {
    "CRYVIDEO_MODELS_DIR": "the models folder (as --models DIR)",
    "CRYVIDEO_WEIGHTS_DIR": "folders of pretrained weights, searched before the Keras cache",
    "CRYVIDEO_CACHE_DIR": "the cache root (default $XDG_CACHE_HOME/cryvideo or ~/.cache/cryvideo)",
    "CRYVIDEO_SHARED": "the folder holding data/ for benchmarks (default ../shared)",
    "CRYVIDEO_FFMPEG": "the ffmpeg binary",
    "CRYVIDEO_THREADS": "threads of a multi-threaded model in this process",
    "CRYVIDEO_DASK_SCHEDULER": "the Dask scheduler of a batch run (as --scheduler)",
    "CRYVIDEO_DASK_TIMEOUT": "seconds to reach that scheduler",
    "CRYVIDEO_PROGRESS": "progress bars even when stderr is not a terminal",
    "CRYVIDEO_DEBUG": "tracebacks instead of one-line errors (as --debug)",
}


def _get(name: str) -> str:
    assert name in VARIABLES, f"{name} is not documented in cryvideo.environment"
    return os.environ.get(name, "").strip()


def models_dir() -> Path | None:
    """``$CRYVIDEO_MODELS_DIR``, or None when unset."""
    value = _get("CRYVIDEO_MODELS_DIR")
    return Path(value) if value else None


def weights_dirs() -> list[Path]:
    """The folders of ``$CRYVIDEO_WEIGHTS_DIR`` in order (empty entries skipped)."""
    return [Path(d) for d in _get("CRYVIDEO_WEIGHTS_DIR").split(os.pathsep) if d]


def cache_dir() -> Path:
    """The cache root: ``$CRYVIDEO_CACHE_DIR``, else ``$XDG_CACHE_HOME/cryvideo``, else
    ``~/.cache/cryvideo``. Every cache of the package (features, face crops, backbones,
    training sets) is a subfolder of it."""
    value = _get("CRYVIDEO_CACHE_DIR")
    if value:
        return Path(value)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "cryvideo"


def shared_dir() -> Path | None:
    """``$CRYVIDEO_SHARED``, or None when unset."""
    value = _get("CRYVIDEO_SHARED")
    return Path(value) if value else None


def ffmpeg() -> str | None:
    """``$CRYVIDEO_FFMPEG``, or None when unset."""
    return _get("CRYVIDEO_FFMPEG") or None


def threads() -> int | None:
    """``$CRYVIDEO_THREADS`` as a whole number ≥ 1, or None when unset or not one."""
    value = _get("CRYVIDEO_THREADS")
    return int(value) if value.isdigit() and int(value) >= 1 else None


def dask_scheduler() -> str | None:
    """``$CRYVIDEO_DASK_SCHEDULER``, or None when unset."""
    return _get("CRYVIDEO_DASK_SCHEDULER") or None


def dask_timeout(default: float) -> float:
    """``$CRYVIDEO_DASK_TIMEOUT`` in seconds, else ``default`` (also when it is not a number)."""
    try:
        return float(_get("CRYVIDEO_DASK_TIMEOUT") or default)
    except ValueError:
        return default


def progress_forced() -> bool:
    """Whether ``$CRYVIDEO_PROGRESS`` asks for progress bars whatever stderr is."""
    return bool(_get("CRYVIDEO_PROGRESS"))


def debug() -> bool:
    """Whether ``$CRYVIDEO_DEBUG`` asks for tracebacks."""
    return bool(_get("CRYVIDEO_DEBUG"))
