"""``cryvideo train VIDEO_DIR --labels labels.csv``: train the face head, audio branches and
fusion on labelled videos, evaluate with grouped splits, save the models with their cards.

The work is :func:`cryvideo.training.video.train_video_pipeline`, its settings
:class:`cryvideo.training.settings.VideoTrainingSettings` (every default is there)."""

from __future__ import annotations

import argparse

from ..training.settings import AUDIO_MODES, BACKBONES
from ..training.settings import VideoTrainingSettings as S
from .common import emit_json

HELP = "train the face head, audio branches and fusion on labelled videos"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "train", help=HELP,
        description=HELP + ". Evaluates with grouped K-fold splits (balanced accuracy, macro-F1, "
        "majority baseline per branch and for the fusion), then trains on all videos and saves "
        "face_head.keras, video_audio_{mfcc,stft}.keras and fusion.keras with JSON cards.",
        epilog="examples:\n  cryvideo train videos/ --labels videos/labels.csv --group-column "
        "subject\n  cryvideo train videos/ --labels labels.csv --backbone mobilenet --out m/\n"
        "  cryvideo predict --models m/ clip.mp4",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("video_dir", metavar="VIDEO_DIR", help="folder of the videos")
    p.add_argument("--labels", required=True, metavar="CSV",
                   help="CSV with a file column (file/path/video/filename, relative to "
                   "VIDEO_DIR), a label column and optionally a group column")
    p.add_argument("--label-column", default=S.label_column)
    p.add_argument("--group-column", default=S.group_column,
                   help="column holding the subject/session: no group on both sides of a split "
                   "(default: every video is its own group)")
    p.add_argument("--out", default=S.out_dir, metavar="DIR",
                   help="where the models and training_report.json go (default: %(default)s)")
    _add_model_options(p)
    p.add_argument("--json", action="store_true", help="print the training report as JSON")
    p.set_defaults(func=run)


def _add_model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backbone", choices=BACKBONES, default=S.backbone,
                   help="frozen ImageNet backbone (default: %(default)s, the paper's; mobilenet "
                   "is MobileNet v1 alpha 0.25, small)")
    p.add_argument("--weights", default=S.weights, metavar="imagenet|random|PATH",
                   help="backbone weights: 'imagenet' (found via $CRYVIDEO_WEIGHTS_DIR or the "
                   "Keras cache), a file/folder, or 'random' (random initialisation, explicit "
                   "only; for tests)")
    p.add_argument("--fps", type=float, default=S.fps,
                   help="analysis frame rate (default: predict's)")
    p.add_argument("--audio", choices=AUDIO_MODES, default=S.audio,
                   help="train the audio summary branches on these videos, or reuse the default "
                   "audio branches (default: %(default)s)")
    p.add_argument("--folds", type=int, default=S.n_splits,
                   help="grouped folds (default: %(default)s)")
    p.add_argument("--epochs-face", type=int, default=S.epochs_face)
    p.add_argument("--epochs-audio", type=int, default=S.epochs_audio)
    p.add_argument("--epochs-fusion", type=int, default=S.epochs_fusion)
    p.add_argument("--window", type=int, default=S.window,
                   help="rolling-average window (frames) stored for predict (default: "
                   "%(default)s)")
    p.add_argument("--shuffle-labels", action="store_true",
                   help="control experiment: permute the labels first (results must be at "
                   "chance); nothing is saved")
    p.add_argument("--seed", type=int, default=S.seed)


def format_report(rep: dict) -> str:
    lines = [f"{rep['videos']} videos, {rep['groups']} groups, classes "
             + ", ".join(f"{k} {v}" for k, v in rep["class_counts"].items())
             + (" [LABELS SHUFFLED: control]" if rep["shuffled_labels"] else ""),
             f"backbone {rep['backbone']['name']} ({rep['backbone']['weights']}), "
             f"{rep['fps']} fps, faces in {100 * rep['face_share']:.0f}% of frames",
             f"protocol: {rep['protocol']}",
             f"{'branch':<8} {'bal.acc':>8} {'macroF1':>8} {'acc':>6} {'majority bal.acc':>17}"]
    for name, m in rep["metrics"].items():
        if not m.get("n"):
            lines.append(f"{name:<8} (never ran)")
            continue
        lines.append(f"{name:<8} {m['balanced_accuracy']:8.3f} {m['macro_f1']:8.3f} "
                     f"{m['accuracy']:6.3f} {m['majority_baseline']['balanced_accuracy']:17.3f}")
    if rep.get("models"):
        lines.append("saved: " + ", ".join(rep["models"].values()))
    return "\n".join(lines)


def settings_from_args(args: argparse.Namespace) -> S:
    """The settings of a parsed command line (checked on the way)."""
    return S(args.video_dir, args.labels, out_dir=args.out, backbone=args.backbone,
             weights=args.weights, fps=args.fps, group_column=args.group_column,
             label_column=args.label_column, audio=args.audio, n_splits=args.folds,
             epochs_face=args.epochs_face, epochs_audio=args.epochs_audio,
             epochs_fusion=args.epochs_fusion, window=args.window,
             shuffle_labels=args.shuffle_labels, seed=args.seed)


def run(args: argparse.Namespace) -> int:
    from ..training.video import train_video_pipeline

    rep = train_video_pipeline(settings_from_args(args))
    print(emit_json(rep) if args.json else format_report(rep))
    return 0
