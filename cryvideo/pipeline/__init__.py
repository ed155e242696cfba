"""The end-to-end pipeline: ``Predictor.predict(path)``."""

from .predict import BranchResult, PredictionResult, Predictor, UntrainedBranch

__all__ = ["BranchResult", "PredictionResult", "Predictor", "UntrainedBranch"]
