"""Honest evaluation: grouped splits, the leaky paper split, metrics, intervals, p-values."""

from .intervals import (
    CONFUSION_METRICS,
    RATE_METRICS,
    Interval,
    confusion_metric,
    group_bootstrap,
    group_label_permutation,
    interval_text,
    max_statistic_permutation_test,
    no_event_bound,
    seed_spread,
    summarize_pooled,
)
from .metrics import classification_metrics, majority_baseline, mean_ci
from .splits import PROTOCOLS, grouped_splits, leakage, paper_splits, protocol_splits

__all__ = [
    "CONFUSION_METRICS",
    "PROTOCOLS",
    "RATE_METRICS",
    "Interval",
    "classification_metrics",
    "confusion_metric",
    "group_bootstrap",
    "group_label_permutation",
    "grouped_splits",
    "interval_text",
    "leakage",
    "majority_baseline",
    "max_statistic_permutation_test",
    "mean_ci",
    "no_event_bound",
    "paper_splits",
    "protocol_splits",
    "seed_spread",
    "summarize_pooled",
]
