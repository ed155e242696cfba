"""One place that creates TFLite interpreters (ai-edge-litert, else TensorFlow's copy).

The runtime prints ``INFO: Created TensorFlow Lite XNNPACK delegate for CPU.`` on the C-level
stderr when it builds an interpreter; that line is noise in a command-line tool whose stderr
carries one line per error, so it is silenced here.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator

__all__ = ["make_interpreter", "quiet_stderr"]


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
