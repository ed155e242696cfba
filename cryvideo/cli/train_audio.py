"""``cryvideo train-audio DATA_DIR --out DIR``: train the MFCC and STFT AE+DNN branches."""

from __future__ import annotations

import argparse
import os

from ..errors import ParameterError
from ..progress import StageProgress
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
    p.add_argument("--background", metavar="DIR", default=None,
                   help="folder of not-cry clips mixed in as background (augmentation)")
    p.add_argument("--kinds", nargs="+", choices=("mfcc", "stft"), default=["mfcc", "stft"],
                   help="branches to train (default: both)")
    p.add_argument("--n-aug", type=int, default=2,
                   help="augmented copies per training clip (default: %(default)s)")
    p.add_argument("--cv-folds", type=int, default=5,
                   help="grouped CV folds for the card's metrics; 0 skips (default: %(default)s)")
    p.add_argument("--max-epochs", type=int, default=None,
                   help="cap both networks' epochs (quick runs)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the cards as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..training.audio import train_audio_branches

    if args.n_aug < 0:
        raise ParameterError(f"--n-aug must be >= 0, got {args.n_aug}")
    if args.cv_folds == 1 or args.cv_folds < 0:
        raise ParameterError(f"--cv-folds must be 0 or >= 2, got {args.cv_folds}")
    overrides = {}
    if args.max_epochs is not None:
        if args.max_epochs < 1:
            raise ParameterError(f"--max-epochs must be >= 1, got {args.max_epochs}")
        overrides = {"ae_epochs": args.max_epochs, "clf_epochs": args.max_epochs}
    bar = StageProgress()
    try:
        cards = train_audio_branches(args.data_dir, args.out, kinds=args.kinds,
                                     background_dir=args.background, n_aug=args.n_aug,
                                     cv_folds=args.cv_folds, seed=args.seed,
                                     overrides=overrides, progress=bar)
    finally:
        bar.close()
    if args.json:
        print(emit_json({k: c.to_dict() for k, c in cards.items()}))
        return 0
    for kind, card in cards.items():
        path = os.path.join(args.out, card.file)
        m = card.metrics
        if m:
            print(f"{kind}: {path}  grouped CV balanced accuracy "
                  f"{m['balanced_accuracy']['mean']:.3f} (majority "
                  f"{m['majority_balanced_accuracy']['mean']:.3f}), macro-F1 "
                  f"{m['macro_f1']['mean']:.3f}")
        else:
            print(f"{kind}: {path}  (no cross-validation)")
    print(f"training curves: {os.path.join(args.out, 'audio_training_curves.png')}")
    return 0
