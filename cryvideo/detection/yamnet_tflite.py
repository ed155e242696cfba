"""YAMNet (AudioSet-pretrained, TFLite) as a zero-shot cry detector and an embedding backbone.

The shared int8 TFLite model takes 15 600 samples (0.975 s) at 16 kHz in [-1, 1] and returns
521 AudioSet class scores; its 1024-d frame embedding is the tensor
``yamnet_frames/global_average_pooling2d/Mean``. Windows slide by 0.48 s, as in YAMNet.
"""

from __future__ import annotations

import numpy as np

from ..errors import ModelError
from ..progress import Progress

__all__ = ["YAMNET_WINDOW", "YAMNET_HOP", "CRY_CLASSES", "YamNet"]

YAMNET_WINDOW = 15600
YAMNET_HOP = 7680
#: "Crying, sobbing" (19) and "Baby cry, infant cry" (20).
CRY_CLASSES = (19, 20)
EMBEDDING_TENSOR = "yamnet_frames/global_average_pooling2d/Mean"


def _interpreter(path, *, num_threads: int = 1, preserve: bool = False):
    from ..tflite import make_interpreter

    return make_interpreter(model_path=path, num_threads=num_threads,
                            experimental_preserve_all_tensors=preserve)


class YamNet:
    """Frame-wise YAMNet scores and embeddings.

    Parameters
    ----------
    path : str or os.PathLike, optional
        ``yamnet.tflite`` (default: found by :func:`cryvideo.weights.resolve_weights`).
    num_threads : int
    """

    def __init__(self, path=None, *, num_threads: int = 1) -> None:
        from ..weights import resolve_weights

        self.path = resolve_weights("yamnet_tflite", path=path, allow_download=False)
        try:
            self._it = _interpreter(self.path, num_threads=num_threads, preserve=True)
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"not a usable YAMNet TFLite model ({exc})", path=self.path) \
                from None
        self._in = self._it.get_input_details()[0]["index"]
        outs = self._it.get_output_details()
        self._scores = next(d["index"] for d in outs if tuple(d["shape"]) == (1, 521))
        self._emb = next(t["index"] for t in self._it.get_tensor_details()
                         if t["name"] == EMBEDDING_TENSOR)

    def frames(self, y: np.ndarray, *, progress: Progress | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Scores and embeddings of every 0.975 s window (hop 0.48 s).

        Parameters
        ----------
        y : np.ndarray [shape=(n,)]
            Mono 16 kHz waveform; shorter than one window → zero-padded.
        progress : callable, optional
            ``progress("windows", done, total)``, called every 64 windows and at the end.

        Returns
        -------
        scores : np.ndarray [shape=(frames, 521)]
        embeddings : np.ndarray [shape=(frames, 1024)]
        """
        y = np.clip(np.asarray(y, dtype=np.float32).reshape(-1), -1.0, 1.0)
        if y.size < YAMNET_WINDOW:
            y = np.pad(y, (0, YAMNET_WINDOW - y.size))
        starts = range(0, y.size - YAMNET_WINDOW + 1, YAMNET_HOP)
        scores, embs = [], []
        for i, s in enumerate(starts, 1):
            self._it.set_tensor(self._in, y[None, s:s + YAMNET_WINDOW])
            self._it.invoke()
            scores.append(self._it.get_tensor(self._scores)[0].copy())
            embs.append(self._it.get_tensor(self._emb)[0].copy())
            if progress is not None and (i % 64 == 0 or i == len(starts)):
                progress("windows", i, len(starts))
        return np.stack(scores), np.stack(embs)

    @staticmethod
    def cry_score(scores: np.ndarray) -> float:
        """Zero-shot clip score: max over windows of max("Baby cry", "Crying, sobbing")."""
        return float(np.max(scores[:, list(CRY_CLASSES)]))
