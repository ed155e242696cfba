"""``cryvideo train-audio DATA_DIR --out DIR``: train the MFCC and STFT AE+DNN branches.

The work is :func:`cryvideo.training.audio.train_audio`, its settings
:class:`cryvideo.training.settings.AudioTrainingSettings` (every default is there)."""

from __future__ import annotations

import argparse
import os

from ..training.settings import AUDIO_KINDS
from ..training.settings import AudioTrainingSettings as S
from .common import emit_json

HELP = "train the MFCC/STFT autoencoder+DNN audio branches on a Donateacry folder"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "train-audio",
        help=HELP,
        description=HELP + ". Runs grouped (by app-install UUID) cross-validation for the model "
        "cards, then trains on all clips and writes audio_mfcc.keras / audio_stft.keras with a "
        "JSON card each and a training-curve PNG.",
        epilog="example:\n  cryvideo train-audio ../shared/data/donateacry --out saved_models "
        "\\\n      --background ../shared/data/cry_detection/not_cry",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("data_dir", metavar="DATA_DIR", help="Donateacry corpus folder")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder for the models")
    p.add_argument("--background", metavar="DIR", default=S.background_dir,
                   help="folder of not-cry clips mixed in as background (augmentation)")
    p.add_argument("--kinds", nargs="+", choices=AUDIO_KINDS, default=list(S.kinds),
                   help="branches to train (default: both)")
    p.add_argument("--n-aug", type=int, default=S.n_aug,
                   help="augmented copies per training clip (default: %(default)s)")
    p.add_argument("--cv-folds", type=int, default=S.cv_folds,
                   help="grouped CV folds for the card's metrics; 0 skips (default: %(default)s)")
    p.add_argument("--max-epochs", type=int, default=S.max_epochs,
                   help="cap both networks' epochs (quick runs)")
    p.add_argument("--seed", type=int, default=S.seed)
    p.add_argument("--json", action="store_true", help="print the cards as JSON")
    p.set_defaults(func=run)


def settings_from_args(args: argparse.Namespace) -> S:
    """The settings of a parsed command line (checked on the way)."""
    return S(args.data_dir, args.out, kinds=tuple(args.kinds), background_dir=args.background,
             n_aug=args.n_aug, cv_folds=args.cv_folds, max_epochs=args.max_epochs,
             seed=args.seed)


def format_cards(cards: dict, out: str) -> str:
    """One line per trained branch: its file and its grouped-CV figures."""
    lines = []
    for kind, card in cards.items():
        path = os.path.join(out, card.file)
        m = card.metrics
        if m:
            lines.append(f"{kind}: {path}  grouped CV balanced accuracy "
                         f"{m['balanced_accuracy']['mean']:.3f} (majority "
                         f"{m['majority_balanced_accuracy']['mean']:.3f}), macro-F1 "
                         f"{m['macro_f1']['mean']:.3f}")
        else:
            lines.append(f"{kind}: {path}  (no cross-validation)")
    lines.append(f"training curves: {os.path.join(out, 'audio_training_curves.png')}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from ..progress import StageProgress
    from ..training.audio import train_audio

    settings = settings_from_args(args)
    bar = StageProgress()
    try:
        cards = train_audio(settings, progress=bar)
    finally:
        bar.close()
    if args.json:
        print(emit_json({k: c.to_dict() for k, c in cards.items()}))
    else:
        print(format_cards(cards, args.out))
    return 0
