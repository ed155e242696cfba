"""Helpers shared by the benchmark scripts: machine description (the one
:func:`cryvideo.testing.measure.machine`) and result files."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from cryvideo.testing.measure import machine as _machine  # noqa: E402


def machine(*, frameworks: bool = True) -> dict:
    """:func:`cryvideo.testing.measure.machine` (with the framework versions by default)."""
    return _machine(frameworks=frameworks)


def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None
