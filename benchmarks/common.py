"""Helpers shared by the benchmark scripts: machine description and result files."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def machine(*, frameworks: bool = True) -> dict:
    """CPU, cores, load and date (the machine is shared: load matters); with ``frameworks``
    also the TensorFlow and Keras versions (importing them takes seconds)."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    out = {"date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
           "cpu": cpu, "cores": os.cpu_count(), "loadavg_1_5_15": load,
           "python": platform.python_version()}
    if frameworks:
        import keras
        import tensorflow as tf

        out.update(tensorflow=tf.__version__, keras=keras.__version__)
    return out


def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None
