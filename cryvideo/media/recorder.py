"""Recording stretches of a live stream to FLAC, with the seconds before their start.

:class:`StreamRecorder` keeps the last seconds of the stream in memory (bounded) so that a
recording can begin a few seconds *before* the moment it is asked for (the detector decides
that crying started a second or two after it did). A recording is written to a hidden
temporary file beside its target and linked to its name only when it is complete: a file of
that name is never half-written, and an existing file is never replaced.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections import deque
from pathlib import Path

import numpy as np

from ..errors import ParameterError
from ..io import new_file_mode

__all__ = ["StreamRecorder", "PREROLL_SECONDS"]

#: Seconds of audio before the asked start that a recording includes.
PREROLL_SECONDS = 5.0


class StreamRecorder:
    """FLAC recordings of a mono stream, started at a past stream time.

    Parameters
    ----------
    folder : str or os.PathLike
        Where the recordings go (created when missing).
    sr : int
        Sample rate of the stream.
    preroll : float
        Seconds kept before a recording's start.
    history : float
        Seconds of stream kept in memory (at least ``preroll``; the rest covers the delay
        between a start and the moment it is asked for).

    Notes
    -----
    The stream clock is the number of samples pushed: ``push`` every block, in order.
    """

    def __init__(self, folder: str | os.PathLike, *, sr: int = 16000,
                 preroll: float = PREROLL_SECONDS, history: float = 20.0) -> None:
        if not (preroll >= 0 and history >= preroll):
            raise ParameterError(f"need 0 <= preroll <= history, got {preroll} and {history}")
        self.folder = Path(folder)
        self.sr = int(sr)
        self.preroll = float(preroll)
        self.keep = int(round(history * self.sr))
        self._blocks: deque[np.ndarray] = deque()
        self._kept = 0            # samples in _blocks
        self.samples_in = 0       # the stream clock
        self._file = None         # the open soundfile.SoundFile
        self._tmp: Path | None = None
        self._target: Path | None = None

    @property
    def recording(self) -> bool:
        return self._file is not None

    def push(self, samples: np.ndarray) -> None:
        """Add the next samples (written to the open recording, if any)."""
        y = np.asarray(samples, dtype=np.float32).reshape(-1)
        if not y.size:
            return
        self._blocks.append(y)
        self._kept += y.size
        self.samples_in += y.size
        while self._blocks and self._kept - self._blocks[0].size >= self.keep:
            self._kept -= self._blocks.popleft().size
        if self._file is not None:
            self._write(y)

    def reset(self) -> None:
        """Forget the kept history (the stream broke off: what follows is not continuous)."""
        self._blocks.clear()
        self._kept = 0

    def start(self, name: str, at: float) -> None:
        """Begin a recording ``name`` (``.flac``) from stream time ``at - preroll`` (or the
        oldest sample kept).

        Raises
        ------
        ParameterError
            A recording is already open, or the file cannot be created.
        """
        import soundfile as sf

        if self._file is not None:
            raise ParameterError("a recording is already open", path=self._target)
        target = self.folder / name
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.part-", suffix=".flac",
                                       dir=self.folder)
            os.close(fd)
            self._file = sf.SoundFile(tmp, "w", samplerate=self.sr, channels=1,
                                      format="FLAC", subtype="PCM_16")
        except (OSError, RuntimeError) as exc:
            with contextlib.suppress(NameError, OSError):
                os.unlink(tmp)
            raise ParameterError(f"cannot record here ({exc})", path=target) from None
        self._tmp, self._target = Path(tmp), target
        first = self.samples_in - self._kept                       # oldest kept sample
        begin = max(first, int(round((at - self.preroll) * self.sr)))
        kept = np.concatenate(list(self._blocks)) if self._blocks else np.zeros(0, np.float32)
        self._write(kept[begin - first:])

    def _write(self, y: np.ndarray) -> None:
        try:
            self._file.write(np.clip(y, -1.0, 1.0))
        except (OSError, RuntimeError) as exc:
            target = self._target
            self.abort()
            raise ParameterError(f"recording failed ({exc})", path=target) from None

    def stop(self) -> Path | None:
        """Finish the open recording; return its path (None when none was open).

        The file gets the recording's name, or ``NAME-2.flac``, … when that name is taken.
        """
        if self._file is None:
            return None
        f, tmp, target = self._file, self._tmp, self._target
        self._file = self._tmp = self._target = None
        try:
            f.close()
            os.chmod(tmp, new_file_mode())
            for k in range(1, 1000):
                path = target if k == 1 else target.with_name(f"{target.stem}-{k}.flac")
                try:
                    os.link(tmp, path)          # never replaces an existing file
                    return path
                except FileExistsError:
                    continue
                except OSError:                 # a file system without hard links (FAT)
                    if path.exists():
                        continue
                    os.replace(tmp, path)
                    return path
            raise OSError("no free file name")
        except (OSError, RuntimeError) as exc:
            raise ParameterError(f"recording could not be saved ({exc})", path=target) from None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    def abort(self) -> None:
        """Drop the open recording (its temporary file is removed)."""
        f, tmp = self._file, self._tmp
        self._file = self._tmp = self._target = None
        if f is not None:
            with contextlib.suppress(Exception):
                f.close()
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
