"""Helpers shared by the benchmark scripts: machine description (the one
:func:`cryvideo.machine.machine`), load average and result files."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from cryvideo.machine import loadavg  # noqa: E402,F401  (re-exported for the scripts)
from cryvideo.machine import machine as _machine  # noqa: E402


def machine(*, frameworks: bool = True) -> dict:
    """:func:`cryvideo.machine.machine` (with the framework versions by default)."""
    return _machine(frameworks=frameworks)
