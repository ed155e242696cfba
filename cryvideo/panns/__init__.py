"""The PANNs audio path (InfantCryNet): log-mel front end, CNN10/CNN14/ResNet22, pooling heads,
cry detection, distillation and TFLite export."""

from .frontend import PANNS_16K, LogMelParams, logmel
from .models import build_cnn10, build_cnn14, build_model, build_resnet22
from .pooling import POOLINGS, make_pooling

__all__ = ["PANNS_16K", "LogMelParams", "logmel", "build_cnn10", "build_cnn14",
           "build_resnet22", "build_model", "POOLINGS", "make_pooling"]
