"""Audio side of the pipeline: the paper's preprocessing and the MFCC / STFT features."""

from .features import FeatureParams, extract_features, mfcc, stft_logmag, summarize
from .preprocess import fix_length, standardize_minmax

__all__ = [
    "FeatureParams",
    "extract_features",
    "fix_length",
    "mfcc",
    "standardize_minmax",
    "stft_logmag",
    "summarize",
]
