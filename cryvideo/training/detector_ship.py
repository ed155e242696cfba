"""Training the shipped cry detector on the whole corpus and saving it as TFLite with cards.

The number of epochs and the threshold are not chosen here: they come from the grouped CV
(:mod:`cryvideo.studies.detection_cv`), which chose them per fold inside the training folds;
the shipped model takes the median of its recipe's folds.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import ParameterError

__all__ = ["choices_from_cv", "train_shipped_detector", "card_metrics", "refresh_card_metrics"]


def choices_from_cv(result: dict, *, seeds=None) -> dict:
    """Recipe, epochs and threshold for the shipped model from a CV result.

    Parameters
    ----------
    result : dict
        :func:`~cryvideo.studies.detection_cv.run_detection_cv`'s result.
    seeds : sequence of str, optional
        Take the choices of these seeds' folds only (default: every seed's).

    Returns
    -------
    dict
        ``recipe`` (the CV's ``ship``), ``epochs`` and ``threshold`` (medians of what the
        folds chose inside their training folds), ``onset_threshold`` (likewise, where the
        folds chose one: runs since the fast onset rule), ``n_folds``, ``seeds``.
    """
    recipe = result.get("ship")
    use = [str(x) for x in (seeds or result["seeds"])]
    folds = [f for sd in use for f in result["seeds"].get(sd, {}).get("folds", [])
             if recipe in f.get("recipes", {})]
    if not folds:
        raise ParameterError(f"the CV result has no fold of the shipped recipe {recipe!r}")
    mine = [f["recipes"][recipe] for f in folds]
    out = {"recipe": recipe, "epochs": int(round(np.median([m["epochs"] for m in mine]))),
           "threshold": float(np.median([m["threshold"] for m in mine])),
           "n_folds": len(folds), "seeds": use}
    onsets = [m["onset_threshold"] for m in mine if "onset_threshold" in m]
    if onsets:   # runs before the fast onset rule chose none
        out["onset_threshold"] = float(np.median(onsets))
    return out


def card_metrics(cv_result: dict, cv_summary: dict, method: str) -> dict:
    """The ``metrics`` of a shipped detector's card: the CV figures of ``method`` (its TFLite
    variant when the CV scored it, else the recipe)."""
    methods = cv_summary["methods"]
    name = method if method in methods else method.split("_tflite_")[0]
    m = methods[name]
    return {"protocol": f"grouped {cv_result['n_splits']}-fold CV by recording, "
                        f"{len(m.get('seeds', cv_result['seeds']))} seed(s), per recording "
                        "(group-weighted), out-of-fold; recipe, epochs and threshold chosen "
                        "inside the training folds",
            "model": name,
            **{k: m["pooled"][k] for k in ("f1", "precision", "recall", "roc_auc",
                                           "false_positive_rate")},
            "f1_seed_spread": m["spread"]["f1"],
            "false_positive_by_category": {
                k: round(v["estimate"], 4) for k, v in m["false_positive_by_category"].items()}}


def refresh_card_metrics(out_dir, cv_result: dict, cv_summary: dict) -> dict:
    """Rewrite the ``metrics`` of the shipped detectors' cards in ``out_dir`` from a (later,
    larger) CV run of the same recipe; the model files and everything else in the cards stay.

    Returns
    -------
    dict
        File name → the new metrics.
    """
    from ..detection.patch_detector import DEFAULT_DETECTOR_FILE, FLOAT_DETECTOR_FILE
    from ..io import write_json_atomic
    from ..models.cards import card_path, read_card, verify_model_file

    recipe = cv_result.get("ship")
    out = {}
    for fname, q in ((FLOAT_DETECTOR_FILE, "float32"), (DEFAULT_DETECTOR_FILE, "int8")):
        path = Path(out_dir) / fname
        card = verify_model_file(path, read_card(path))
        if card.training.get("recipe", {}).get("name") != recipe:
            raise ParameterError(f"{fname} was trained with recipe "
                                 f"{card.training.get('recipe', {}).get('name')!r}, the CV "
                                 f"ships {recipe!r}")
        card.metrics = card_metrics(cv_result, cv_summary, f"{recipe}_tflite_{q}")
        write_json_atomic(card_path(path), card.to_dict())
        out[fname] = card.metrics
    return out


def train_shipped_detector(data_root, out_dir, *, cv_result: dict, cv_summary: dict,
                           choice_seeds=None, yamnet_path=None, seed: int = 0, cache_dir=None,
                           log: Callable[[str], None] = print) -> dict:
    """Train on every clip (plus augmentation), export float32 and int8 TFLite with cards.

    Parameters
    ----------
    data_root : path
        The ``data`` folder of ``../shared``.
    out_dir : path
        Where ``cry_detector_yamnet.tflite`` and ``cry_detector_yamnet_int8.tflite`` (and their
        ``.json`` cards) are written.
    cv_result, cv_summary : dict
        :func:`~cryvideo.studies.detection_cv.run_detection_cv` and
        :func:`~cryvideo.studies.detection_cv.summarize_detection_cv` of the same run.
    choice_seeds : sequence of str, optional
        Take epochs and threshold from these seeds' folds only (default: all).

    Returns
    -------
    dict
        The choices and the two cards.
    """
    from ..data.cry_corpus import category_table, load_detection_corpus
    from ..detection.frontend import YAMNET_FRONTEND, waveform_patches
    from ..detection.patch_detector import CARD_KIND, DEFAULT_DETECTOR_FILE, FLOAT_DETECTOR_FILE
    from ..models.cards import ModelCard, save_model_with_card
    from ..models.yamnet_cry import build_patch_detector
    from ..weights import resolve_weights
    from .detector_data import BackboneFeatures, decode_corpus
    from .detector_export import to_tflite
    from .yamnet_cry import (
        RECIPES,
        PatchTrainer,
        augment,
        augment_interference,
        clip_weights,
        split_long,
        weight_stratum,
    )

    ch = choices_from_cv(cv_result, seeds=choice_seeds)
    rec = RECIPES[ch["recipe"]]
    log(f"shipping recipe {rec.name}: {ch['epochs']} epochs, threshold {ch['threshold']:.3f}")
    clips = load_detection_corpus(data_root)
    waves = decode_corpus([c.path for c in clips], cache_dir=cache_dir,
                          no_cache=[c.no_derivatives for c in clips])
    y = np.array([c.is_cry for c in clips], int)
    groups = np.array([c.group for c in clips])
    rng = np.random.default_rng(seed)
    labels, cats = [c.label for c in clips], [c.category for c in clips]
    aug = augment(waves, labels, cats, np.arange(len(clips)), rng=rng)
    if rec.interference:
        aug += augment_interference(waves, labels, cats, np.arange(len(clips)),
                                    rng=np.random.default_rng([seed, 1]))
    backbone = BackboneFeatures(yamnet_path, cut=rec.kind == "top")
    key = "cut" if rec.kind == "top" else "emb"
    log(f"features of {len(clips)} clips and {len(aug)} augmented ones …")
    base = backbone(waves)
    af = backbone([a["wave"] for a in aug])
    feats = base[key] + af[key]
    teacher = base["logits"] + af["logits"]
    yy = np.concatenate([y, [a["label"] == "cry" for a in aug]]).astype(int)
    src = np.concatenate([np.arange(len(clips)), [a["source"] for a in aug]]).astype(int)
    gg = groups[src]
    strata = np.array([weight_stratum(clips[i].is_cry, clips[i].origin, clips[i].category)
                       for i in src])
    w = clip_weights(gg, yy, strata if rec.weighting == "balanced" else None)
    pieces, owner = split_long(feats)
    tpieces, _ = split_long(teacher)
    trainer = PatchTrainer(rec, backbone.yamnet, seed=seed)
    log(f"training {rec.name} for {ch['epochs']} epochs …")
    trainer.fit(pieces, yy[owner], w[owner], epochs=ch["epochs"], teacher=tpieces, rng=rng)
    model = build_patch_detector(backbone.yamnet, trainer.head, top=trainer.top,
                                 gate=rec.gate)
    calib = np.concatenate([waveform_patches(waves[i])
                            for i in rng.choice(len(waves), min(80, len(waves)),
                                                replace=False)])
    yam_path = resolve_weights("yamnet_tflite", path=yamnet_path, allow_download=False)
    yam_sha = hashlib.sha256(Path(yam_path).read_bytes()).hexdigest()
    data_hash = hashlib.sha256("\n".join(f"{os.path.relpath(c.path, data_root)},{c.label},"
                                         f"{c.group}" for c in clips).encode()).hexdigest()
    cards = {}
    for fname, quant, method in ((FLOAT_DETECTOR_FILE, None, f"{rec.name}_tflite_float32"),
                                 (DEFAULT_DETECTOR_FILE, "dynamic", f"{rec.name}_tflite_int8")):
        flat = to_tflite(model, quantize=quant, representative=calib)
        card = ModelCard(
            name=Path(fname).stem, kind=CARD_KIND, labels=["cry"],
            inputs={"frontend": YAMNET_FRONTEND.to_dict(), "window_patches": rec.window,
                    "input": "(batch, 96, 64) YAMNet log-mel patches of 16 kHz mono audio "
                             "(0.96 s every 0.48 s)",
                    "output": "(batch, 1) probability that the patch holds infant crying",
                    "pooling": f"clip score = max over the moving mean of {rec.window} "
                               "patch probabilities"},
            training={"data": category_table(clips), "n_clips": len(clips),
                      "n_groups": int(len(set(groups.tolist()))), "data_sha256": data_hash,
                      "augmented_clips": len(aug), "recipe": rec.to_dict(),
                      "epochs": ch["epochs"], "seed": seed,
                      "backbone": {"file": "yamnet.tflite", "sha256": yam_sha,
                                   "licence": "Apache-2.0 (Google, AudioSet)"},
                      "quantization": quant or "float32",
                      "choices_from_cv": ch},
            metrics=card_metrics(cv_result, cv_summary, method),
            extra={"threshold": ch["threshold"],
                   **({"onset_threshold": ch["onset_threshold"]}
                      if "onset_threshold" in ch else {})})
        cards[fname] = save_model_with_card(flat, Path(out_dir) / fname, card).to_dict()
        log(f"wrote {Path(out_dir) / fname} ({len(flat) / 1e6:.2f} MB)")
    return {"choices": ch, "cards": cards}
