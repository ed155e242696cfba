"""Running a TFLite patch model (no TensorFlow import): patches in, probabilities out."""

from __future__ import annotations

import os

import numpy as np

from ..errors import ModelError

__all__ = ["TFLitePatchModel"]


class TFLitePatchModel:
    """A ``.tflite`` model mapping ``(batch, 96, 64)`` patches to ``(batch, 1)`` probabilities.

    Parameters
    ----------
    model : path or bytes
        The flatbuffer file, or its bytes.
    num_threads : int
    batch : int
        Patches per invoke (the input is resized to it once; the last batch is padded).
    """

    def __init__(self, model: str | os.PathLike | bytes, *, num_threads: int = 1,
                 batch: int = 32) -> None:
        from ..tflite import make_interpreter

        path = None if isinstance(model, bytes | bytearray) else os.fspath(model)
        try:
            src = {"model_path": path} if path else {"model_content": bytes(model)}
            self.it = make_interpreter(**src, num_threads=num_threads, allocate=False)
            inp = self.it.get_input_details()[0]
            self.shape = tuple(int(v) for v in inp["shape"][1:])
            self.batch = int(batch) if int(inp["shape_signature"][0]) == -1 else 1
            self.it.resize_tensor_input(inp["index"], [self.batch, *self.shape])
            self.it.allocate_tensors()
        except (ValueError, RuntimeError, IndexError) as exc:
            raise ModelError(f"not a usable TFLite model ({str(exc).splitlines()[0][:160]})",
                             path=path) from None
        self._in = inp["index"]
        self._out = self.it.get_output_details()[0]["index"]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Probabilities of a stack of patches.

        Parameters
        ----------
        x : np.ndarray [shape=(n, 96, 64)]

        Returns
        -------
        np.ndarray [shape=(n,), dtype=float32]
        """
        x = np.asarray(x, dtype=np.float32)
        if x.shape[1:] != self.shape:
            raise ModelError(f"model expects patches of shape {self.shape}, got {x.shape[1:]}")
        out = np.empty(len(x), np.float32)
        b = self.batch
        for a in range(0, len(x), b):
            chunk = x[a:a + b]
            if len(chunk) < b:
                chunk = np.concatenate([chunk, np.zeros((b - len(chunk), *self.shape),
                                                        np.float32)])
            self.it.set_tensor(self._in, chunk)
            self.it.invoke()
            out[a:a + b] = self.it.get_tensor(self._out).reshape(b, -1)[: len(x) - a, 0]
        return out
