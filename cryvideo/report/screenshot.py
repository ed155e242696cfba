"""Render an HTML file to a PNG with headless Chromium (for checking reports).

Chromium is optional (Debian: ``apt-get install chromium``); :func:`find_chromium` returns None
when it is absent so callers (tests) can skip with a clear reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import InputFileError

__all__ = ["find_chromium", "screenshot"]

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable (``$CHROMIUM`` first), or None."""
    env = os.environ.get("CHROMIUM")
    if env and shutil.which(env):
        return shutil.which(env)
    for c in CANDIDATES:
        p = shutil.which(c)
        if p:
            return p
    return None


def screenshot(html_path: str | os.PathLike, png_path: str | os.PathLike, *,
               width: int = 1100, height: int = 2400, timeout: float = 90.0) -> Path:
    """Render ``html_path`` headless and save a PNG screenshot.

    Chromium runs with a fresh profile, no sandbox/GPU/background networking, and is killed on
    timeout.
    """
    exe = find_chromium()
    if exe is None:
        raise InputFileError("chromium not found (install it, e.g. apt-get install chromium)")
    html_path = Path(html_path).resolve()
    png_path = Path(png_path).resolve()
    png_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cryvideo-chromium-") as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--disable-component-update",
               "--no-first-run", "--hide-scrollbars", f"--user-data-dir={profile}",
               f"--window-size={width},{height}", f"--screenshot={png_path}",
               html_path.as_uri()]
        subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=timeout, check=False)
    if not png_path.is_file() or png_path.stat().st_size == 0:
        raise InputFileError("chromium wrote no screenshot", path=html_path)
    return png_path
