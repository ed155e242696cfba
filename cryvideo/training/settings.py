"""The settings of the two training commands, each one frozen dataclass checked when made.

:class:`VideoTrainingSettings` is what ``cryvideo train`` runs
(:func:`cryvideo.training.video.train_video_pipeline`), :class:`AudioTrainingSettings` what
``cryvideo train-audio`` runs (:func:`cryvideo.training.audio.train_audio`). This module loads
nothing heavy, so the command line takes its defaults from here.
"""

from __future__ import annotations

import dataclasses
import math

from ..errors import ParameterError, check_among

__all__ = ["VideoTrainingSettings", "AudioTrainingSettings", "BACKBONES", "AUDIO_MODES",
           "AUDIO_KINDS"]

#: Frozen ImageNet backbones of the face branch.
BACKBONES = ("resnet50", "mobilenet")
#: ``train``: train the summary audio branches on the videos; ``default``: reuse the default
#: audio branches as fixed inputs of the fusion.
AUDIO_MODES = ("train", "default")
#: Audio feature kinds, one branch each.
AUDIO_KINDS = ("mfcc", "stft")


def _at_least(option: str, value: int, low: int) -> None:
    if value < low:
        raise ParameterError(f"{option} must be >= {low}, got {value}")


@dataclasses.dataclass(frozen=True)
class VideoTrainingSettings:
    """What ``cryvideo train`` trains and where it goes.

    Attributes
    ----------
    video_dir : str or os.PathLike
        Folder of the videos.
    labels_csv : str or os.PathLike
        CSV with a file column (relative to ``video_dir``), a label column and optionally a
        group column (:func:`cryvideo.training.video.read_video_labels`).
    out_dir : str or os.PathLike
        Where the models and ``training_report.json`` go.
    backbone : {"resnet50", "mobilenet"}
    weights : str or os.PathLike
        Backbone weights: ``"imagenet"``, a file/folder, or ``"random"`` (tests).
    fps : float, optional
        Analysis frame rate (default: ``predict``'s,
        :data:`cryvideo.pipeline.predict.DEFAULT_ANALYSIS_FPS`).
    group_column : str, optional
        Column holding the subject/session: no group on both sides of a split (default:
        every video is its own group).
    label_column : str
    audio : {"train", "default"}
        Train the summary audio branches on these videos, or reuse the default ones.
    n_splits : int
        Grouped folds of the evaluation (at least 2).
    epochs_face, epochs_audio, epochs_fusion : int
    hidden : int
        Units of the face head's dense layer.
    window : int
        Rolling-average window (frames) recorded on the face head's card for ``predict``.
    shuffle_labels : bool
        Control experiment: permute the labels first (results must be at chance); nothing is
        saved.
    seed : int

    Examples
    --------
    >>> from cryvideo.training.settings import VideoTrainingSettings
    >>> s = VideoTrainingSettings("videos/", "videos/labels.csv", backbone="mobilenet",
    ...                           group_column="subject", out_dir="m/")
    >>> s.n_splits, s.saves
    (5, True)
    """

    video_dir: str
    labels_csv: str
    out_dir: str = "saved_models"
    backbone: str = "resnet50"
    weights: str = "imagenet"
    fps: float | None = None
    group_column: str | None = None
    label_column: str = "label"
    audio: str = "train"
    n_splits: int = 5
    epochs_face: int = 10
    epochs_audio: int = 40
    epochs_fusion: int = 100
    hidden: int = 64
    window: int = 8
    shuffle_labels: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        if self.backbone not in BACKBONES:
            raise ParameterError(f"--backbone must be one of {', '.join(BACKBONES)}, got "
                                 f"{self.backbone!r}")
        if self.audio not in AUDIO_MODES:
            raise ParameterError(f"--audio must be 'train' or 'default', got {self.audio!r}")
        if self.fps is not None and not (math.isfinite(self.fps) and 0 < self.fps <= 240):
            raise ParameterError(f"--fps must be a number in (0, 240], got {self.fps:g}")
        _at_least("--folds", self.n_splits, 2)
        for option, value in (("--epochs-face", self.epochs_face),
                              ("--epochs-audio", self.epochs_audio),
                              ("--epochs-fusion", self.epochs_fusion),
                              ("--window", self.window), ("hidden", self.hidden)):
            _at_least(option, value, 1)

    @property
    def saves(self) -> bool:
        """Whether the final models are trained and saved (not for a shuffled-label control)."""
        return not self.shuffle_labels


@dataclasses.dataclass(frozen=True)
class AudioTrainingSettings:
    """What ``cryvideo train-audio`` trains and where it goes.

    Attributes
    ----------
    data_dir : str or os.PathLike
        Donateacry corpus folder.
    out_dir : str or os.PathLike
        Output folder for the models.
    kinds : tuple of {"mfcc", "stft"}
        Branches to train.
    background_dir : str or os.PathLike, optional
        Not-cry clips mixed in as background (augmentation).
    n_aug : int
        Augmented copies per training clip (at least 0).
    cv_folds : int
        Grouped CV folds for the card's metrics; 0 skips the CV.
    max_epochs : int, optional
        Cap both networks' epochs (quick runs).
    seed : int

    Examples
    --------
    >>> from cryvideo.training.settings import AudioTrainingSettings
    >>> s = AudioTrainingSettings("donateacry/", "models/", kinds=("mfcc",), max_epochs=3)
    >>> s.overrides
    {'ae_epochs': 3, 'clf_epochs': 3}
    """

    data_dir: str
    out_dir: str
    kinds: tuple[str, ...] = AUDIO_KINDS
    background_dir: str | None = None
    n_aug: int = 2
    cv_folds: int = 5
    max_epochs: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "kinds", check_among("--kinds", self.kinds, AUDIO_KINDS))
        _at_least("--n-aug", self.n_aug, 0)
        if self.cv_folds == 1 or self.cv_folds < 0:
            raise ParameterError(f"--cv-folds must be 0 or >= 2, got {self.cv_folds}")
        if self.max_epochs is not None:
            _at_least("--max-epochs", self.max_epochs, 1)

    @property
    def overrides(self) -> dict:
        """Hyper-parameters replacing the estimator's own (the epoch cap)."""
        if self.max_epochs is None:
            return {}
        return {"ae_epochs": self.max_epochs, "clf_epochs": self.max_epochs}
