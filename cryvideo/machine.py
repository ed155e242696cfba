"""The machine a figure was measured on: the one description every benchmark and study records
(:func:`machine`), its one-line form (:func:`machine_line`) and the load average
(:func:`loadavg`; the machine is shared, so load matters)."""

from __future__ import annotations

import datetime as _dt
import os
import platform
from collections.abc import Sequence

__all__ = ["machine", "machine_line", "loadavg"]


def loadavg() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (rounded to 0.01), None where unknown."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _cpu_model() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return cpu


def _ram_gb() -> float | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def machine(*, frameworks: bool = False, packages: Sequence[str] = ()) -> dict:
    """Where a figure comes from: date (UTC), CPU model, cores, memory, platform, Python and
    the load average; with ``frameworks`` also the TensorFlow and Keras versions (importing
    them takes seconds); with ``packages`` the installed version of each named distribution.

    Parameters
    ----------
    frameworks : bool
    packages : sequence of str
        Distribution names (e.g. ``"numpy"``, ``"scikit-learn"``); one key each, the version
        or None where not installed.

    Returns
    -------
    dict
        ``date``, ``cpu``, ``cores``, ``ram_gb`` (None where unknown), ``platform``,
        ``python``, ``loadavg_1_5_15`` (None where unknown)[, ``tensorflow``, ``keras``]
        [, one key per package].
    """
    out = {"date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
           "cpu": _cpu_model(), "cores": os.cpu_count(), "ram_gb": _ram_gb(),
           "platform": platform.platform(), "python": platform.python_version(),
           "loadavg_1_5_15": loadavg()}
    if frameworks:
        import keras
        import tensorflow as tf

        out.update(tensorflow=tf.__version__, keras=keras.__version__)
    if packages:
        from importlib import metadata

        for name in packages:
            try:
                out[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                out[name] = None
    return out


def machine_line() -> str:
    """The machine in a few words: ``"x86_64, 2 cores, Linux"`` (architecture, cores, OS)."""
    return f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}"
