"""The end-to-end pipeline: ``Predictor.predict(path)``.

- :mod:`.loading` — every model ``predict`` uses, loaded in one place;
- :mod:`.predict` — :class:`Predictor`: cry gate → reason branches → face branch → fusion;
- :mod:`.face` — the face branch's stage;
- :mod:`.spans` — reading only the crying spans of a recording;
- :mod:`.result` — :class:`PredictionResult` and :class:`BranchResult`.
"""

from .predict import Predictor
from .result import BranchResult, PredictionResult

__all__ = ["BranchResult", "PredictionResult", "Predictor"]
