"""Dataset readers: the Donateacry corpus and the cry-detection set."""

from .cry_detection_set import CryDetectionItem, load_cry_detection
from .donateacry import (
    DONATEACRY_CLASSES,
    REASON_CODES,
    DonateacryItem,
    load_donateacry,
    parse_donateacry_name,
)

__all__ = [
    "DONATEACRY_CLASSES",
    "REASON_CODES",
    "CryDetectionItem",
    "DonateacryItem",
    "load_cry_detection",
    "load_donateacry",
    "parse_donateacry_name",
]
