"""Set-up of the worker processes of an embedded cluster (a Dask preload): Ctrl-C and SIGTERM
are the client's to handle. A terminal sends Ctrl-C to the whole process group, and systemd or
Slurm send SIGTERM to every process of the service or job; the client then commits the finished
records and closes the cluster, and the workers, ignoring the signal, neither die first nor
each print a traceback on the way (the cluster still stops them: it kills a worker that does not
close when asked)."""

from __future__ import annotations

import signal
import threading

__all__ = ["dask_setup"]


def dask_setup(worker=None) -> None:
    """Called by Dask in each worker process as it starts."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
