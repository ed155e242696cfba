"""Faults injected into batch runs, for the reliability tests: a worker killed on a given file,
a file that never finishes. Production code never looks for them: a test installs one into
:data:`cryvideo.batch.jobs.FILE_HOOKS` (the hooks run on each file before it is analysed, here and,
sent with each file, on a Dask run's workers).

A test of the command line runs it with a fault installed, in a subprocess:

>>> argv = command("hang:c.wav", "detect", "--out", "r.jsonl", "a.wav", "b.wav", "c.wav")
>>> argv[1:3] == ["-c", FAULTY_CLI]
True
"""

from __future__ import annotations

import dataclasses
import os
import signal
import sys
import threading
from collections.abc import Sequence

from ..batch.jobs import FILE_HOOKS

__all__ = ["Fault", "parse", "install", "uninstall", "command", "main", "FAULTY_CLI"]

#: The program :func:`command` runs: ``cryvideo ARGV`` with the fault ``SPEC`` installed, given
#: as ``-c FAULTY_CLI SPEC ARGV…``.
FAULTY_CLI = "import sys\nfrom cryvideo.testing.faults import main\nsys.exit(main())\n"


@dataclasses.dataclass(frozen=True)
class Fault:
    """A fault on the file named ``name`` (its base name).

    Parameters
    ----------
    kind : {"kill", "hang"}
        ``kill``: SIGKILL the process that starts on the file, the first time only (it creates
        ``marker``, so the rescheduled try goes through); ``hang``: the file never finishes.
    name : str
    marker : str, optional
        The file that says a ``kill`` happened (required for it).
    """

    kind: str
    name: str
    marker: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("kill", "hang") or (self.kind == "kill" and not self.marker):
            raise ValueError(f"not a fault: {self.kind}:{self.name}:{self.marker or ''} "
                             "(kill:NAME:MARKER or hang:NAME)")

    def __call__(self, path: str) -> None:
        """Strike, when ``path`` is the file."""
        if os.path.basename(path) != self.name:
            return
        if self.kind == "hang":
            threading.Event().wait()
        try:
            os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return  # killed once already: this is the rescheduled try
        os.kill(os.getpid(), signal.SIGKILL)


def parse(spec: str) -> Fault:
    """The fault of ``kill:NAME:MARKER`` or ``hang:NAME``."""
    kind, _, rest = spec.partition(":")
    name, _, marker = rest.partition(":")
    return Fault(kind, name, marker or None)


def install(fault: Fault | str) -> Fault:
    """Put ``fault`` (or its spec, see :func:`parse`) among the batch's file hooks; it stays
    until :func:`uninstall`."""
    fault = parse(fault) if isinstance(fault, str) else fault
    FILE_HOOKS.append(fault)
    return fault


def uninstall(fault: Fault) -> None:
    """Take ``fault`` out of the batch's file hooks."""
    FILE_HOOKS.remove(fault)


def command(spec: str, *argv: object) -> list[str]:
    """The command that runs ``cryvideo ARGV`` with the fault ``spec`` installed."""
    return [sys.executable, "-c", FAULTY_CLI, spec, *map(str, argv)]


def main(argv: Sequence[str] | None = None) -> int:
    """``SPEC ARGV…``: install the fault ``SPEC``, then run ``cryvideo ARGV``."""
    from ..cli import main as cli_main

    spec, *rest = sys.argv[1:] if argv is None else list(argv)
    install(spec)
    return cli_main(rest)
