"""Finding and running ffmpeg: always with a time limit, always reaped.

ffmpeg is used through ``ffmpeg-python`` (to build command lines) and run by :class:`FFmpegStream`,
which reads its standard output with a *stall* timeout (no new bytes for ``stall_timeout``
seconds means ffmpeg hangs) and an optional overall deadline, kills the process on any exit path,
and keeps stderr in a temporary file so a full pipe can never deadlock it.

The binary is the system ``ffmpeg`` when it is on ``PATH`` (or named by ``CRYVIDEO_FFMPEG``),
otherwise the static build that the ``imageio-ffmpeg`` wheel ships; ``ffprobe`` is never needed.
"""

from __future__ import annotations

import functools
import os
import re
import selectors
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from .. import environment
from ..errors import InputFileError, MediaTimeoutError, ParameterError, first_line

__all__ = [
    "DEFAULT_STALL_TIMEOUT",
    "ffmpeg_exe",
    "input_url",
    "check_input_file",
    "FFmpegStream",
    "run_ffmpeg",
    "ffmpeg_problem",
    "reap",
]

#: Seconds without any output after which an ffmpeg process is considered hung and killed.
DEFAULT_STALL_TIMEOUT = 30.0


@functools.lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """Return the path of the ffmpeg binary to use.

    Returns
    -------
    str
        ``$CRYVIDEO_FFMPEG`` if set, else ``ffmpeg`` from ``PATH``, else imageio-ffmpeg's binary.
    """
    env = environment.ffmpeg()
    if env:
        return env
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - it is a hard dependency
        raise InputFileError(
            "ffmpeg not found: install ffmpeg or the imageio-ffmpeg package"
        ) from exc
    return imageio_ffmpeg.get_ffmpeg_exe()


def input_url(path: str | os.PathLike) -> str:
    """Turn a local path into an ffmpeg input URL that no file name can misinterpret.

    A leading ``-`` or a ``:`` in the name would otherwise be read as an option or a protocol.
    """
    return "file:" + os.path.abspath(os.fspath(path))


def check_input_file(path: str | os.PathLike) -> Path:
    """Check that ``path`` is an existing, readable, non-empty regular file.

    Parameters
    ----------
    path : str or os.PathLike
        The file to check.

    Returns
    -------
    pathlib.Path
        The same path.

    Raises
    ------
    InputFileError
        If it is missing, a directory, not readable or empty.
    """
    p = Path(path)
    if not p.exists():
        raise InputFileError("no such file", path=p)
    if p.is_dir():
        raise InputFileError("is a directory, not a media file", path=p)
    if not p.is_file():
        raise InputFileError("not a regular file", path=p)
    if not os.access(p, os.R_OK):
        raise InputFileError("permission denied", path=p)
    if p.stat().st_size == 0:
        raise InputFileError("file is empty (0 bytes)", path=p)
    return p


#: ffmpeg lines that only say *that* something failed, not *why*.
_GENERIC = (
    "Error opening output",
    "Task finished with error",
    "Error while opening decoder",
    "Terminating thread",
    "Nothing was written",
    "Conversion failed",
    "Error while filtering",
    "Error while decoding stream",
)


def ffmpeg_problem(stderr: str) -> str:
    """Pick the most informative line of ffmpeg's stderr."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    if not lines:
        return "ffmpeg could not decode it"
    for key in (
        "Invalid data found",
        "moov atom not found",
        "does not contain any stream",
        "Output file does not contain any stream",
        "No such file",
        "Permission denied",
        "Error opening input",
    ):
        for ln in lines:
            if key in ln and not any(g in ln for g in _GENERIC):
                return _strip_prefix(ln)
    # the first line that says why (e.g. "Too many channels: 65535") beats the generic
    # "Error while opening decoder: Invalid argument" that follows it
    specific = [ln for ln in lines if not any(g in ln for g in _GENERIC)]
    return _strip_prefix(specific[0] if specific else lines[-1])


_CONTEXT = re.compile(r"^(\[[^\]]*@ 0x[0-9a-f]+\]\s*)+")


def _strip_prefix(line: str) -> str:
    # ffmpeg prefixes messages with "[ctx @ 0x…]" and/or the input URL; the CLI names the file.
    line = _CONTEXT.sub("", line)
    head = line.split(": ", 1)[0]
    if ": " in line and ("file:" in head or "/" in head):
        line = line.split(": ", 1)[1]
    line = line.replace("Error opening input: ", "")
    return "ffmpeg: " + first_line(line, limit=300)


def reap(proc: subprocess.Popen) -> None:
    """Kill ``proc`` if it still runs, and wait for it (no zombie is left behind)."""
    if proc.poll() is None:
        proc.kill()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover - kill -9 does not hang
        pass


class FFmpegStream:
    """Run ffmpeg and read its standard output in chunks, with time limits.

    Use as a context manager; the process is killed and reaped on exit, whatever happens.

    Parameters
    ----------
    args : sequence of str
        The full command line (``args[0]`` is the binary).
    path : str or os.PathLike, optional
        The input file, named in error messages.
    stall_timeout : float, default 30
        Seconds without any new output after which ffmpeg is killed and
        :class:`~cryvideo.errors.MediaTimeoutError` is raised.
    deadline : float, optional
        Overall seconds after which ffmpeg is killed, whatever it is doing.
    stdin : int or file, optional
        What ffmpeg reads as its standard input (for the input ``pipe:0``); default nothing.
    """

    def __init__(
        self,
        args: Sequence[str],
        *,
        path: str | os.PathLike | None = None,
        stall_timeout: float = DEFAULT_STALL_TIMEOUT,
        deadline: float | None = None,
        stdin=None,
    ) -> None:
        if stall_timeout <= 0:
            raise ParameterError(f"stall_timeout must be > 0, got {stall_timeout}")
        self.args = list(args)
        self.path = path
        self.stall_timeout = float(stall_timeout)
        self.deadline = None if deadline is None else time.monotonic() + float(deadline)
        self._proc: subprocess.Popen | None = None
        self._stderr = None
        self._sel: selectors.BaseSelector | None = None
        self._eof = False
        self._stdin = subprocess.DEVNULL if stdin is None else stdin

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> FFmpegStream:
        self._stderr = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen(
                self.args,
                stdin=self._stdin,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                bufsize=0,
            )
        except OSError as exc:
            self._stderr.close()
            raise InputFileError(f"could not start ffmpeg ({exc})", path=self.path) from exc
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._proc.stdout, selectors.EVENT_READ)
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Kill (if still running) and reap ffmpeg; close pipes and files."""
        proc = self._proc
        if proc is not None:
            reap(proc)
            if proc.stdout is not None:
                proc.stdout.close()
            self._proc = None
        if self._sel is not None:
            self._sel.close()
            self._sel = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    # -- reading -----------------------------------------------------------------------------
    def _timeout_error(self, what: str) -> MediaTimeoutError:
        self.close()
        return MediaTimeoutError(what, path=self.path)

    def read(self, n: int) -> bytes:
        """Read exactly ``n`` bytes, or fewer only at the end of the stream.

        Raises
        ------
        MediaTimeoutError
            If ffmpeg produced nothing for ``stall_timeout`` s or the deadline passed.
        """
        assert self._proc is not None and self._sel is not None, "use inside 'with'"
        chunks: list[bytes] = []
        remaining = n
        fd = self._proc.stdout.fileno()
        while remaining > 0 and not self._eof:
            wait = self.stall_timeout
            if self.deadline is not None:
                left = self.deadline - time.monotonic()
                if left <= 0:
                    raise self._timeout_error("ffmpeg did not finish within its time limit")
                wait = min(wait, left)
            if not self._sel.select(timeout=wait):
                if self.deadline is not None and time.monotonic() >= self.deadline:
                    raise self._timeout_error("ffmpeg did not finish within its time limit")
                raise self._timeout_error(
                    f"ffmpeg produced no data for {self.stall_timeout:g} s (stalled)"
                )
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                self._eof = True
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def iter_chunks(self, size: int) -> Iterator[bytes]:
        """Yield chunks of exactly ``size`` bytes; a shorter final remainder is dropped."""
        while True:
            buf = self.read(size)
            if len(buf) < size:
                return
            yield buf

    def finish(self) -> tuple[int, str]:
        """Wait for ffmpeg to exit after its output was read; return ``(returncode, stderr)``."""
        assert self._proc is not None
        wait = self.stall_timeout
        if self.deadline is not None:
            wait = max(0.1, min(wait, self.deadline - time.monotonic()))
        # drain anything left so ffmpeg is never blocked on a full pipe
        while not self._eof:
            if not self.read(1 << 20):
                break
        try:
            rc = self._proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            raise self._timeout_error("ffmpeg did not exit after its output ended") from None
        return rc, self.stderr_text()

    def stderr_text(self) -> str:
        """What ffmpeg wrote on stderr so far (decoded, at most the last 64 kB)."""
        if self._stderr is None:
            return ""
        self._stderr.flush()
        size = self._stderr.seek(0, os.SEEK_END)
        self._stderr.seek(max(0, size - 65536))
        return self._stderr.read().decode("utf-8", "replace")

    def raise_for_status(self, rc: int, stderr: str) -> None:
        """Raise :class:`InputFileError` with ffmpeg's own reason when ``rc`` is non-zero."""
        if rc != 0:
            raise InputFileError(ffmpeg_problem(stderr), path=self.path)


def run_ffmpeg(
    args: Sequence[str],
    *,
    path: str | os.PathLike | None = None,
    stall_timeout: float = DEFAULT_STALL_TIMEOUT,
    deadline: float | None = None,
    check: bool = True,
) -> tuple[bytes, str, int]:
    """Run ffmpeg to completion and return ``(stdout, stderr, returncode)``.

    Raises :class:`InputFileError` when ``check`` and ffmpeg fails, and
    :class:`MediaTimeoutError` when it stalls or passes ``deadline``.
    """
    with FFmpegStream(args, path=path, stall_timeout=stall_timeout, deadline=deadline) as st:
        chunks = []
        while True:
            buf = st.read(1 << 20)
            if not buf:
                break
            chunks.append(buf)
        rc, err = st.finish()
        if check:
            st.raise_for_status(rc, err)
    return b"".join(chunks), err, rc
