"""The end-to-end pipeline: ``Predictor.predict(path)``.

- :mod:`.settings` — :class:`PredictSettings`: every option of ``predict``, checked once;
- :mod:`.loading` — every model ``predict`` uses, loaded in one place;
- :mod:`.predict` — :class:`Predictor`: cry gate → reason branches → face branch → fusion;
- :mod:`.gate` — the cry gate, decoding the video once for its face verdict and the face branch;
- :mod:`.face` — the face branch's stage;
- :mod:`.spans` — reading only the crying spans of a recording;
- :mod:`.result` — :class:`PredictionResult` and :class:`BranchResult`.

The names below are imported on first use, so that ``cryvideo predict`` can read its settings
(:mod:`.settings`) without loading the pipeline's modules.
"""

from __future__ import annotations

__all__ = ["BranchResult", "PredictionResult", "PredictSettings", "Predictor"]


def __getattr__(name: str):
    if name == "Predictor":
        from .predict import Predictor

        return Predictor
    if name in ("BranchResult", "PredictionResult"):
        from . import result

        return getattr(result, name)
    if name == "PredictSettings":
        from .settings import PredictSettings

        return PredictSettings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
