"""Kept for old imports: YAMNet's TFLite wrapper is :mod:`cryvideo.detection.yamnet_tflite`."""

from ..detection.yamnet_tflite import CRY_CLASSES, YAMNET_HOP, YAMNET_WINDOW, YamNet

__all__ = ["YAMNET_WINDOW", "YAMNET_HOP", "CRY_CLASSES", "YamNet"]
