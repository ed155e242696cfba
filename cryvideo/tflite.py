"""One place that creates TFLite interpreters (ai-edge-litert, else TensorFlow's copy).

The runtime prints ``INFO: Created TensorFlow Lite XNNPACK delegate for CPU.`` on the C-level
stderr when it builds an interpreter; that line is noise in a command-line tool whose stderr
carries one line per error, so it is silenced here.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import warnings
from collections.abc import Iterator

from . import environment

__all__ = ["make_interpreter", "quiet_stderr", "captured_output", "TFLiteModel",
           "default_threads", "thread_limit", "THREADS_ENV"]

#: Environment variable that caps the threads of the multi-threaded models (the face backbone)
#: in this process (a batch's workers are given theirs as a value: :func:`thread_limit`).
THREADS_ENV = environment.THREADS_ENV


#: The threads :func:`thread_limit` gives the models made in its block (None: not set).
_LIMIT: contextvars.ContextVar[int | None] = contextvars.ContextVar("cryvideo_threads",
                                                                    default=None)


@contextlib.contextmanager
def thread_limit(threads: int | None) -> Iterator[None]:
    """The models made in the block (in this thread or task) use ``threads`` threads, whatever
    ``$CRYVIDEO_THREADS`` says; None changes nothing. A batch's worker runs each file in one, so
    that N workers do not oversubscribe the cores.

    Examples
    --------
    >>> with thread_limit(2):
    ...     default_threads()
    2
    """
    if threads is None:
        yield
        return
    token = _LIMIT.set(max(1, int(threads)))
    try:
        yield
    finally:
        _LIMIT.reset(token)


def default_threads(*, most: int = 4) -> int:
    """Threads for a model that can use several: those of the enclosing :func:`thread_limit`,
    else ``$CRYVIDEO_THREADS`` when set (at least 1), else the CPU count, at most ``most``."""
    limit = _LIMIT.get()
    if limit is not None:
        return limit
    return environment.threads() or max(1, min(most, os.cpu_count() or 1))


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for the block (C libraries' logging included)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real fd 2 (embedded interpreters): nothing to silence
        yield
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        os.close(null)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@contextlib.contextmanager
def captured_output() -> Iterator[list[str]]:
    """Send file descriptors 1 and 2 to a temporary file for the block: C libraries' logging
    (TensorFlow's absl lines), Python's prints and log records all land there, not on the
    terminal.

    Yields
    ------
    list of str
        Empty in the block; at its end (success or error) it holds the captured text. Where
        there are no real file descriptors (an embedded interpreter) nothing is captured.
    """
    import tempfile

    text: list[str] = []
    saved: dict[int, int] = {}
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd in (1, 2):
            saved[fd] = os.dup(fd)
    except (OSError, ValueError):
        for dup in saved.values():
            os.close(dup)
        saved = {}
    if not saved:
        yield text
        return
    with tempfile.TemporaryFile() as tmp:
        try:
            for fd in saved:
                os.dup2(tmp.fileno(), fd)
            yield text
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(OSError, ValueError):
                    stream.flush()
            for fd, dup in saved.items():
                os.dup2(dup, fd)
                os.close(dup)
            tmp.seek(0)
            text.append(tmp.read().decode("utf-8", "replace"))


def make_interpreter(*, model_path: str | os.PathLike | None = None,
                     model_content: bytes | None = None, num_threads: int = 1,
                     allocate: bool = True, **kw):
    """A TFLite interpreter, built quietly.

    Parameters
    ----------
    model_path, model_content
        The ``.tflite`` file, or its bytes.
    num_threads : int
    allocate : bool
        Call ``allocate_tensors()`` (False when inputs are resized first).
    **kw
        Passed to ``Interpreter`` (e.g. ``experimental_preserve_all_tensors``).
    """
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:  # pragma: no cover - fall back to TensorFlow's copy
        from tensorflow.lite import Interpreter
    src = ({"model_path": os.fspath(model_path)} if model_path is not None
           else {"model_content": bytes(model_content)})
    with warnings.catch_warnings(), quiet_stderr():
        warnings.simplefilter("ignore")
        it = Interpreter(**src, num_threads=num_threads, **kw)
        if allocate:
            it.allocate_tensors()
    return it


class TFLiteModel:
    """A one-input, one-output ``.tflite`` model run over a batch of any size.

    Parameters
    ----------
    model : path or bytes
        The flatbuffer file, or its bytes.
    num_threads : int
    batch : int
        Items per invoke when the model's batch size is dynamic (the input is resized to it
        once; the last batch is zero-padded); a fixed batch size is used as it is.

    Raises
    ------
    cryvideo.errors.ModelError
        Not a TFLite file the runtime can run.
    """

    def __init__(self, model, *, num_threads: int = 1, batch: int = 32) -> None:
        import numpy as np

        from .errors import ModelError, first_line

        self._np = np
        path = None if isinstance(model, bytes | bytearray) else os.fspath(model)
        try:
            src = {"model_path": path} if path else {"model_content": bytes(model)}
            self.it = make_interpreter(**src, num_threads=num_threads, allocate=False)
            inp = self.it.get_input_details()[0]
            self.shape = tuple(int(v) for v in inp["shape"][1:])
            dynamic = int(inp["shape_signature"][0]) == -1
            self.batch = int(batch) if dynamic else int(inp["shape"][0])
            with quiet_stderr():  # the XNNPACK delegate announces itself here
                if dynamic:
                    self.it.resize_tensor_input(inp["index"], [self.batch, *self.shape])
                self.it.allocate_tensors()
        except (ValueError, RuntimeError, IndexError) as exc:
            raise ModelError(f"not a usable TFLite model ({first_line(str(exc))})",
                             path=path) from None
        self.path = path
        self._in = inp["index"]
        self._out = self.it.get_output_details()[0]["index"]

    def __call__(self, x):
        """Outputs of a stack of inputs: ``(n, *input shape)`` → ``(n, *output shape)``."""
        from .errors import ModelError

        np = self._np
        x = np.asarray(x, dtype=np.float32)
        if x.shape[1:] != self.shape:
            raise ModelError(f"model expects inputs of shape {self.shape}, got {x.shape[1:]}",
                             path=self.path)
        b = self.batch
        outs = []
        for a in range(0, len(x), b):
            chunk = x[a:a + b]
            n = len(chunk)
            if n < b:
                chunk = np.concatenate([chunk, np.zeros((b - n, *self.shape), np.float32)])
            self.it.set_tensor(self._in, chunk)
            self.it.invoke()
            outs.append(self.it.get_tensor(self._out)[:n].copy())
        if not outs:
            return np.zeros((0,), np.float32)
        return np.concatenate(outs)
