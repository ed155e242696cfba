"""``cryvideo benchmark detection``: grouped cross-validation of cry detectors, per recording.

For each seed, the corpus (:func:`cryvideo.data.detection.load_detection_corpus`) is cut into
``n_splits`` folds by group (``StratifiedGroupKFold``: no recording, speaker or app install on
both sides). In each fold, every method sees only the training groups:

- ``yamnet_zeroshot`` — YAMNet's own "Baby cry" / "Crying, sobbing" score (max over patches);
  its threshold is the best on the training clips;
- ``cnn10`` — the previously shipped log-mel CNN10 recipe, retrained on the training clips;
- each recipe of :data:`cryvideo.training.cry_detector.RECIPES` — epochs and threshold chosen on
  a grouped validation split of the training folds, then refitted on all training folds;
- ``selected`` — per fold, the recipe with the best validation F1: what the procedure that picks
  the shipped recipe would have produced.

The test folds choose nothing. Every clip of the corpus is scored once per seed
(out-of-fold); metrics are computed per recording (:mod:`cryvideo.evaluation.detection`) on the
pooled out-of-fold scores. Beside the plain test clips the held-out folds also give two stress
sets: held-out negatives band-limited to 4 kHz (the "8 kHz means crying" shortcut) and held-out
cries mixed under held-out backgrounds (music, speech, noise) at 0 to 10 dB.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence

import numpy as np

from ..errors import ParameterError

__all__ = ["run_detection_cv", "METHODS_FIXED"]

#: Methods that are not recipes.
METHODS_FIXED = ("yamnet_zeroshot", "cnn10")
STRESS_SNRS = (0.0, 5.0, 10.0)

Log = Callable[[str], None]


@dataclasses.dataclass
class _Corpus:
    clips: list
    waves: list
    y: np.ndarray
    groups: np.ndarray
    cats: np.ndarray
    sources: np.ndarray


def _zeroshot(logits: np.ndarray) -> np.ndarray:
    from ..models.cry_detector import CRY_CLASS, SOB_CLASS

    z = np.max(logits[:, [SOB_CLASS, CRY_CLASS]], axis=1)
    return 1.0 / (1.0 + np.exp(-z))


def _stress_sets(c: _Corpus, te: np.ndarray, rng: np.random.Generator) -> list[dict]:
    """Held-out stress clips: band-limited negatives, cries under held-out backgrounds."""
    from ..audio.augment import band_limit, mix_background

    out = []
    for i in te[c.y[te] == 0]:
        out.append({"wave": band_limit(c.waves[i]), "label": 0, "source": int(i),
                    "kind": "negative_band_limited"})
    bgs = te[(c.y[te] == 0) & np.isin(c.cats[te], ("music", "adult_speech", "child_speech",
                                                   "environmental_sound", "adult_singing"))]
    if len(bgs):
        for i in te[c.y[te] == 1]:
            j = int(rng.choice(bgs))
            snr = float(rng.choice(STRESS_SNRS))
            out.append({"wave": mix_background(c.waves[i], c.waves[j], snr_db=snr, rng=rng),
                        "label": 1, "source": int(i), "kind": f"cry_under_{c.cats[j]}",
                        "snr_db": snr})
    return out


def run_detection_cv(data_root=None, *, seeds: Sequence[int] = (0, 1, 2), n_splits: int = 5,
                     recipes: Sequence[str] = ("head", "anchored", "top"),
                     cnn10: bool = True, quantize: bool = True, yamnet_path=None,
                     cache_dir=None, only_folds: Sequence[int] | None = None,
                     log: Log = print) -> dict:
    """Run the grouped CV; returns every out-of-fold score and the choices made.

    Parameters
    ----------
    data_root : path, optional
        The ``data`` folder of ``../shared`` (default: found beside the repository).
    seeds : sequence of int
        One fold assignment (and training seed) per seed.
    n_splits : int
    recipes : sequence of str
        Names in :data:`cryvideo.training.cry_detector.RECIPES`.
    cnn10 : bool
        Also retrain and score the previous CNN10 detector recipe.
    quantize : bool
        Convert the selected recipe's fold model to TFLite (float32, int8) and score the test
        clips with the TFLite files too.
    only_folds : sequence of int, optional
        Run these folds only (a quick look; the other clips keep no score).

    Returns
    -------
    dict
        ``clips`` (path, label, category, group, source), and per seed the fold of each clip,
        the out-of-fold score and threshold of each method, the stress sets' scores and the
        per-fold choices. :func:`summarize_detection_cv` turns it into metrics.
    """
    import keras

    from ..data.detection import load_detection_corpus
    from ..training.cry_detector import RECIPES, PatchTrainer, augment, clip_weights
    from ..training.detector_data import BackboneFeatures, decode_corpus

    unknown = [r for r in recipes if r not in RECIPES]
    if unknown:
        raise ParameterError(f"unknown recipe(s) {unknown}; known: {', '.join(RECIPES)}")
    clips = load_detection_corpus(data_root)
    t0 = time.time()
    log(f"decoding {len(clips)} clips …")
    waves = decode_corpus([c.path for c in clips], cache_dir=cache_dir)
    c = _Corpus(clips, waves, np.array([x.is_cry for x in clips], int),
                np.array([x.group for x in clips]), np.array([x.category for x in clips]),
                np.array([x.source for x in clips]))
    need_cut = any(RECIPES[r].kind == "top" for r in recipes)
    backbone = BackboneFeatures(yamnet_path, cut=need_cut)
    log(f"YAMNet features of {len(clips)} clips …")
    base = backbone(waves)
    log(f"  done in {time.time() - t0:.0f} s")
    zs = np.array([_zeroshot(lg).max() for lg in base["logits"]])
    panns = _panns_logmels(waves, log) if cnn10 else None

    result: dict = {
        "clips": [dataclasses.asdict(x) for x in clips],
        "n_splits": n_splits, "recipes": {r: RECIPES[r].to_dict() for r in recipes},
        "seeds": {},
    }
    from sklearn.model_selection import StratifiedGroupKFold

    for seed in seeds:
        folds = list(StratifiedGroupKFold(n_splits, shuffle=True, random_state=seed)
                     .split(np.zeros(len(c.y)), c.y, c.groups))
        fold_of = np.zeros(len(c.y), int)
        methods = ["yamnet_zeroshot", *(["cnn10"] if cnn10 else []), *recipes, "selected"]
        if quantize:
            methods += ["selected_tflite_float32", "selected_tflite_int8"]
        oof = {m: np.full(len(c.y), np.nan) for m in methods}
        thr = {m: np.full(len(c.y), np.nan) for m in methods}
        stress_rows: list[dict] = []
        choices = []
        for k, (tr, te) in enumerate(folds):
            if only_folds is not None and k not in only_folds:
                continue
            tf = time.time()
            fold_of[te] = k
            rng = np.random.default_rng(1000 * seed + k)
            # -- YAMNet zero-shot: threshold from the training clips
            from ..training.cry_detector import best_threshold

            wtr = _gw(c.groups[tr])
            t_zs, _ = best_threshold(c.y[tr], zs[tr], wtr)
            oof["yamnet_zeroshot"][te], thr["yamnet_zeroshot"][te] = zs[te], t_zs
            # -- inner validation split (groups of the training folds only)
            inner = StratifiedGroupKFold(5, shuffle=True, random_state=seed * 100 + k)
            i_tr, i_va = next(inner.split(np.zeros(len(tr)), c.y[tr], c.groups[tr]))
            itr, iva = tr[i_tr], tr[i_va]
            # -- augmentation from the training groups, features once
            aug = augment(waves, [x.label for x in clips], c.cats, tr, rng=rng)
            af = backbone([a["wave"] for a in aug])
            a_y = np.array([a["label"] == "cry" for a in aug], int)
            a_src = np.array([a["source"] for a in aug])
            in_itr = np.array([all(p in set(itr.tolist()) for p in a["parts"]) for a in aug])
            stress = _stress_sets(c, te, rng)
            sf = backbone([s["wave"] for s in stress]) if stress else None
            fold_choice = {"fold": k, "n_train": len(tr), "n_test": len(te),
                           "n_augmented": len(aug), "threshold_zeroshot": t_zs, "recipes": {}}
            test_scores = {"yamnet_zeroshot": zs[te]}
            stress_scores = {"yamnet_zeroshot": np.array(
                [_zeroshot(lg).max() for lg in sf["logits"]]) if sf else np.zeros(0)}
            stress_thr = {"yamnet_zeroshot": t_zs}
            trained = {}
            for name in recipes:
                rec = RECIPES[name]
                key = "cut" if rec.kind == "top" else "emb"

                def feats(idx, extra_mask, key=key):
                    f = [base[key][i] for i in idx] + [af[key][j] for j in
                                                       np.flatnonzero(extra_mask)]
                    t = [base["logits"][i] for i in idx] + [af["logits"][j] for j in
                                                            np.flatnonzero(extra_mask)]
                    yy = np.concatenate([c.y[idx], a_y[extra_mask]])
                    gg = np.concatenate([c.groups[idx], c.groups[a_src[extra_mask]]])
                    return f, t, yy, gg

                # inner fit: epochs and threshold on the validation split
                f, t, yy, gg = feats(itr, in_itr)
                f, t, yy, ww = _split_for_training(f, t, yy, gg, clip_weights)
                tr_inner = PatchTrainer(rec, backbone.yamnet, seed=seed * 1000 + k)
                va_f = [base[key][i] for i in iva]
                w_va = _gw(c.groups[iva])
                hist = []

                def on_epoch(ep, trainer=tr_inner, va_f=va_f, w_va=w_va, hist=hist, rec=rec):
                    from ..detection.pooling import clip_score
                    from ..training.cry_detector import weighted_logloss

                    p = [clip_score(q, rec.window) for q in trainer.patch_probabilities(va_f)]
                    hist.append({"epoch": ep, "scores": np.asarray(p),
                                 "logloss": weighted_logloss(c.y[iva], p, w_va)})

                tr_inner.fit(f, yy, ww, epochs=rec.max_epochs, teacher=t, on_epoch=on_epoch,
                             rng=np.random.default_rng(seed * 1000 + k))
                best = min(hist, key=lambda h: h["logloss"])
                t_best, f1_va = best_threshold(c.y[iva], best["scores"], w_va)
                del tr_inner
                keras.backend.clear_session(free_memory=True)
                # refit on all training folds
                f, t, yy, gg = feats(tr, np.ones(len(aug), bool))
                f, t, yy, ww = _split_for_training(f, t, yy, gg, clip_weights)
                final = PatchTrainer(rec, backbone.yamnet, seed=seed * 1000 + k + 1)
                final.fit(f, yy, ww, epochs=best["epoch"], teacher=t,
                          rng=np.random.default_rng(seed * 1000 + k + 1))
                s_te = _clip_scores(final, [base[key][i] for i in te], rec.window)
                s_st = _clip_scores(final, sf[key], rec.window) if sf else np.zeros(0)
                test_scores[name], stress_scores[name], stress_thr[name] = s_te, s_st, t_best
                oof[name][te], thr[name][te] = s_te, t_best
                fold_choice["recipes"][name] = {"epochs": best["epoch"], "threshold": t_best,
                                                "validation_f1": f1_va,
                                                "validation_logloss": best["logloss"]}
                trained[name] = final
                log(f"seed {seed} fold {k} {name}: epochs {best['epoch']} thr {t_best:.3f} "
                    f"val F1 {f1_va:.3f}")
            # -- the procedure's choice: best validation F1 (then lower log-loss)
            if recipes:
                sel = max(recipes, key=lambda r: (fold_choice["recipes"][r]["validation_f1"],
                                                  -fold_choice["recipes"][r]["validation_logloss"]))
                fold_choice["selected"] = sel
                oof["selected"][te], thr["selected"][te] = test_scores[sel], \
                    fold_choice["recipes"][sel]["threshold"]
                stress_scores["selected"], stress_thr["selected"] = stress_scores[sel], \
                    stress_thr[sel]
                if quantize:
                    q = _quantized_scores(trained[sel], backbone.yamnet, te, waves,
                                          RECIPES[sel].window, base, log)
                    for qn, s in q.items():
                        oof[f"selected_{qn}"][te] = s
                        thr[f"selected_{qn}"][te] = fold_choice["recipes"][sel]["threshold"]
            # -- CNN10 (previous shipped recipe), retrained on the training clips
            if cnn10:
                s_te, s_st = _cnn10_scores(panns, c, tr, te, stress, seed * 100 + k)
                oof["cnn10"][te], thr["cnn10"][te] = s_te, 0.5
                stress_scores["cnn10"], stress_thr["cnn10"] = s_st, 0.5
            for j, s in enumerate(stress):
                row = {"seed": seed, "fold": k, "source": s["source"], "label": s["label"],
                       "kind": s["kind"], "snr_db": s.get("snr_db")}
                row["scores"] = {m: float(v[j]) for m, v in stress_scores.items() if len(v)}
                row["thresholds"] = {m: float(stress_thr[m]) for m in row["scores"]}
                stress_rows.append(row)
            fold_choice["seconds"] = round(time.time() - tf, 1)
            choices.append(fold_choice)
            keras.backend.clear_session(free_memory=True)
            log(f"seed {seed} fold {k} done in {fold_choice['seconds']:.0f} s")
        result["seeds"][str(seed)] = {
            "fold": fold_of.tolist(),
            "scores": {m: v.round(6).tolist() for m, v in oof.items()},
            "thresholds": {m: v.round(6).tolist() for m, v in thr.items()},
            "folds": choices, "stress": stress_rows,
        }
    result["seconds"] = round(time.time() - t0, 1)
    return result


def _gw(groups) -> np.ndarray:
    from ..evaluation.detection import group_weights

    return group_weights(groups)


def _split_for_training(f, t, y, g, weight_fn):
    from ..training.cry_detector import split_long

    w = weight_fn(g, y)
    pieces, owner = split_long(f)
    tpieces, _ = split_long(t)
    return pieces, tpieces, np.asarray(y)[owner], np.asarray(w)[owner]


def _clip_scores(trainer, feats, window: int) -> np.ndarray:
    from ..detection.pooling import clip_score

    return np.array([clip_score(p, window) for p in trainer.patch_probabilities(feats)])


def _quantized_scores(trainer, yamnet, te, waves, window, base, log) -> dict:
    """Scores of the test clips through the fold model's TFLite files (float32 and int8)."""
    from ..detection.frontend import waveform_patches
    from ..detection.pooling import clip_score
    from ..models.cry_detector import build_patch_detector
    from ..training.detector_export import TFLitePatchModel, to_tflite

    model = build_patch_detector(yamnet, trainer.head, top=trainer.top)
    calib = np.concatenate([waveform_patches(waves[i]) for i in te[:: max(1, len(te) // 60)]])
    out = {}
    for q in ("float32", "int8"):
        runner = TFLitePatchModel(to_tflite(model, quantize=None if q == "float32" else "int8",
                                            representative=calib))
        out[f"tflite_{q}"] = np.array([clip_score(runner(waveform_patches(waves[i])), window)
                                       for i in te])
    return out


def _panns_logmels(waves, log) -> dict:
    from ..audio.augment import band_limit
    from ..panns.frontend import logmel

    log("PANNs log-mels for CNN10 …")
    return {"logmel": [logmel(w) for w in waves],
            "logmel_bl": [logmel(band_limit(w)) for w in waves]}


def _cnn10_scores(panns, c: _Corpus, tr, te, stress, seed) -> tuple[np.ndarray, np.ndarray]:
    from ..panns.experiments import RECIPES as CNN_RECIPES
    from ..panns.experiments import clip_scores, train_detector
    from ..panns.frontend import logmel

    v1 = CNN_RECIPES["v1"]
    is_da = c.sources[tr] == "donateacry"
    clips = [panns["logmel"][i] for i in tr]
    clips_bl = [panns["logmel"][i] if d else panns["logmel_bl"][i] for i, d in zip(tr, is_da,
                                                                                    strict=True)]
    model = train_detector(clips, clips_bl, c.y[tr], width=v1["width"], epochs=v1["epochs"],
                           seed=seed, is_extra=is_da, donateacry_weight=v1["donateacry_weight"])

    def pw(w):
        return model.predict(w, batch_size=128, verbose=0)

    s_te = clip_scores(pw, [panns["logmel"][i] for i in te])
    s_st = clip_scores(pw, [logmel(s["wave"]) for s in stress]) if stress else np.zeros(0)
    return s_te, s_st
