"""Honest evaluation: grouped splits, the leaky paper split, metrics, baselines, p-values."""

from .metrics import classification_metrics, majority_baseline, mean_ci, permutation_pvalue
from .splits import grouped_splits, leakage, paper_splits

__all__ = [
    "classification_metrics",
    "grouped_splits",
    "leakage",
    "majority_baseline",
    "mean_ci",
    "paper_splits",
    "permutation_pvalue",
]
