"""Set-up of the worker processes of an embedded cluster (a Dask preload): Ctrl-C is the
client's to handle. A terminal sends it to the whole process group; the client then commits
the finished records and closes the cluster, and the workers, ignoring it, do not each print a
traceback on the way."""

from __future__ import annotations

import signal
import threading

__all__ = ["dask_setup"]


def dask_setup(worker=None) -> None:
    """Called by Dask in each worker process as it starts."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
