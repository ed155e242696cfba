"""``cryvideo benchmark detection``: grouped cross-validation of cry detectors, per recording.

For each seed, the corpus (:func:`cryvideo.data.cry_corpus.load_detection_corpus`) is cut into
``n_splits`` folds by group (``StratifiedGroupKFold``: no recording, speaker or app install on
both sides). In each fold, every method sees only the training groups:

- ``yamnet_zeroshot`` — YAMNet's own "Baby cry" / "Crying, sobbing" score (max over patches);
  its threshold chosen on the training clips by the same rule as the trained detectors, and
  (``yamnet_zeroshot_bestf1``) at its best F1 on the training clips;
- ``cnn10`` — the previously shipped log-mel CNN10 recipe, retrained on the training clips;
- each recipe of :data:`cryvideo.training.yamnet_cry.RECIPES` — epochs (lowest validation
  log-loss) and threshold (the one-standard-error rule,
  :func:`cryvideo.training.yamnet_cry.one_se_threshold`) chosen on a grouped validation split
  of the training folds, then refitted on all training folds;
- ``<ship>_tflite_*`` — the shipped recipe's fold models through their TFLite files.

The test folds choose nothing. Every clip of the corpus is scored once per seed
(out-of-fold); metrics are computed per recording
(:mod:`cryvideo.evaluation.detector_metrics`) on the
pooled out-of-fold scores. Beside the plain test clips the held-out folds also give two stress
sets: held-out negatives band-limited to 4 kHz (the "8 kHz means crying" shortcut) and held-out
cries mixed under held-out backgrounds (music, speech, noise) at 0 to 10 dB.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Sequence

import numpy as np

from ..errors import ParameterError

__all__ = ["run_detection_cv", "METHODS_FIXED"]

#: Methods that are not recipes.
METHODS_FIXED = ("yamnet_zeroshot", "cnn10")
#: TFLite files made of each fold's selected model: name → quantization. "int8" keeps int8
#: weights with float activations (dynamic range, as YAMNet's own int8 file); "int8_full" also
#: quantizes the activations, their ranges calibrated on patches of the fold's *training*
#: clips (every ``len(train) // 80``-th training clip, the first 400 of their patches; no test
#: clip: :func:`_quantized_scores`).
TFLITE_KINDS = {"float32": None, "int8": "dynamic", "int8_full": "int8"}
STRESS_SNRS = (0.0, 5.0, 10.0)
#: The interference stress set: each held-out cry under held-out music or noise at each SNR.
INTERFERENCE_STRESS_SNRS = (-5.0, 0.0, 5.0)

Log = Callable[[str], None]


@dataclasses.dataclass
class _Corpus:
    clips: list
    waves: list
    y: np.ndarray
    groups: np.ndarray
    cats: np.ndarray
    sources: np.ndarray
    origins: np.ndarray

    def strata(self, i: int) -> str:
        """The weighting stratum of clip ``i``: the origin of a cry, the category of a
        negative."""
        from ..training.yamnet_cry import weight_stratum

        return weight_stratum(bool(self.y[i]), self.origins[i], self.cats[i])


def _zeroshot(logits: np.ndarray) -> np.ndarray:
    from ..models.yamnet_cry import CRY_CLASS, SOB_CLASS

    z = np.max(logits[:, [SOB_CLASS, CRY_CLASS]], axis=1)
    return 1.0 / (1.0 + np.exp(-z))


def _stress_sets(c: _Corpus, te: np.ndarray, rng: np.random.Generator) -> list[dict]:
    """Held-out stress clips: band-limited negatives, cries under held-out backgrounds."""
    from ..audio.augment import band_limit, mix_background
    from ..training.yamnet_cry import BACKGROUND_CATEGORIES

    out = []
    for i in te[c.y[te] == 0]:
        out.append({"wave": band_limit(c.waves[i]), "label": 0, "source": int(i),
                    "kind": "negative_band_limited"})
    bgs = te[(c.y[te] == 0) & np.isin(c.cats[te], BACKGROUND_CATEGORIES)]
    if len(bgs):
        for i in te[c.y[te] == 1]:
            j = int(rng.choice(bgs))
            snr = float(rng.choice(STRESS_SNRS))
            out.append({"wave": mix_background(c.waves[i], c.waves[j], snr_db=snr, rng=rng),
                        "label": 1, "source": int(i), "kind": f"cry_under_{c.cats[j]}",
                        "snr_db": snr})
    return out


def _interference_stress(c: _Corpus, te: np.ndarray, rng: np.random.Generator) -> list[dict]:
    """Held-out cries under held-out music or household noise at -5, 0 and +5 dB.

    Each held-out cry is mixed once per SNR; the background is a held-out music (or singing)
    clip or a held-out environmental-sound clip, with equal probability (music only when the
    fold holds some). Kinds ``interference_music`` and ``interference_noise``.
    """
    from ..audio.augment import mix_background
    from ..training.yamnet_cry import MUSIC_CATEGORIES

    neg = te[c.y[te] == 0]
    pools = {"music": neg[np.isin(c.cats[neg], MUSIC_CATEGORIES)],
             "noise": neg[c.cats[neg] == "environmental_sound"]}
    kinds = [k for k, v in pools.items() if len(v)]
    out = []
    if not kinds:
        return out
    for i in te[c.y[te] == 1]:
        for snr in INTERFERENCE_STRESS_SNRS:
            kind = str(rng.choice(kinds))
            j = int(rng.choice(pools[kind]))
            out.append({"wave": mix_background(c.waves[i], c.waves[j], snr_db=snr, rng=rng),
                        "label": 1, "source": int(i), "kind": f"interference_{kind}",
                        "snr_db": snr, "background": int(j)})
    return out


def run_detection_cv(data_root=None, *, seeds: Sequence[int] = (10, 11, 12), n_splits: int = 5,
                     recipes: Sequence[str] = ("head", "gated", "top_gated"),
                     ship: str = "gated", cnn10: bool = True,
                     quantize: bool | Sequence[str] = True,
                     costly_seeds: int = 1, yamnet_path=None, cache_dir=None,
                     only_folds: Sequence[int] | None = None, checkpoint_dir=None,
                     log: Log = print) -> dict:
    """Run the grouped CV; returns every out-of-fold score and the choices made in each fold.

    Parameters
    ----------
    data_root : path, optional
        The ``data`` folder of ``../shared`` (default: found beside the repository).
    seeds : sequence of int
        One fold assignment (and training seed) per seed. The defaults differ from the seeds
        used while the recipes were designed (0 and 1), so the reported folds chose nothing.
    n_splits : int
    recipes : sequence of str
        Names in :data:`cryvideo.training.yamnet_cry.RECIPES`.
    ship : str
        The recipe that is shipped; its fold models are also converted to TFLite (float32 and
        int8) and scored through the TFLite files.
    cnn10 : bool
        Also retrain and score the previous CNN10 detector recipe.
    quantize : bool or sequence of str
        Score the shipped recipe through TFLite files: all of :data:`TFLITE_KINDS`
        (``True``), none (``False``), or those named.
    costly_seeds : int
        Recipes that fine-tune YAMNet's top blocks, the CNN10 peer and the shipped recipe's
        TFLite files (float32, int8 and fully integer) run on the first ``costly_seeds`` seeds
        only (together ~20 min per fold on 2 cores).
    only_folds : sequence of int, optional
        Run these folds only (a quick look; the other clips keep no score).
    checkpoint_dir : path, optional
        Each finished fold is saved there (``seed{S}_fold{K}.json``) and a rerun with the same
        settings takes it from there instead of training it again, so a long run that stops
        loses one fold at most.

    Returns
    -------
    dict
        ``clips`` (path, label, category, group, source, origin), and per seed the fold of each
        clip, the out-of-fold score and threshold of each method, the stress sets' scores and
        the per-fold choices. :func:`summarize_detection_cv` turns it into metrics.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    from ..data.cry_corpus import load_detection_corpus
    from ..training.detector_data import BackboneFeatures, decode_corpus
    from ..training.yamnet_cry import RECIPES

    if quantize not in (True, False) and set(quantize) - set(TFLITE_KINDS):
        raise ParameterError(f"unknown TFLite kind(s) {sorted(set(quantize) - set(TFLITE_KINDS))}"
                             f"; known: {', '.join(TFLITE_KINDS)}")
    unknown = [r for r in (*recipes, ship) if r not in RECIPES]
    if unknown:
        raise ParameterError(f"unknown recipe(s) {unknown}; known: {', '.join(RECIPES)}")
    if ship not in recipes:
        raise ParameterError(f"the shipped recipe {ship!r} must be among the recipes run")
    clips = load_detection_corpus(data_root)
    t0 = time.time()
    log(f"decoding {len(clips)} clips …")
    waves = decode_corpus([c.path for c in clips], cache_dir=cache_dir,
                          no_cache=[c.no_derivatives for c in clips])
    c = _Corpus(clips, waves, np.array([x.is_cry for x in clips], int),
                np.array([x.group for x in clips]), np.array([x.category for x in clips]),
                np.array([x.source for x in clips]), np.array([x.origin for x in clips]))
    backbone = BackboneFeatures(yamnet_path, cut=any(RECIPES[r].kind == "top" for r in recipes))
    ctx = {"c": c, "backbone": backbone, "waves": waves,
           # PANNs log-mels for the CNN10 peer: computed once, when a fold first needs them
           "panns": functools.cache(lambda: _panns_logmels(waves, log)), "log": log,
           "interference": any(RECIPES[r].interference for r in recipes)}

    def features() -> None:
        """YAMNet features of every clip, once, when a fold first needs them (not when
        every fold comes from the checkpoint)."""
        if "base" not in ctx:
            t1 = time.time()
            log(f"YAMNet features of {len(clips)} clips …")
            ctx["base"] = backbone(waves)
            ctx["zs"] = np.array([_zeroshot(lg).max() for lg in ctx["base"]["logits"]])
            log(f"  done in {time.time() - t1:.0f} s")

    result: dict = {"clips": [dataclasses.asdict(x) for x in clips], "n_splits": n_splits,
                    "recipes": {r: RECIPES[r].to_dict() for r in recipes}, "ship": ship,
                    "seeds": {}}
    for si, seed in enumerate(seeds):
        costly = si < costly_seeds
        run_recipes = [r for r in recipes if costly or RECIPES[r].kind != "top"]
        kinds = ({q: v for q, v in TFLITE_KINDS.items() if quantize is True or q in quantize}
                 if costly and quantize else {})
        run_cnn10 = cnn10 and costly
        methods = ["yamnet_zeroshot", "yamnet_zeroshot_bestf1",
                   *(["cnn10"] if run_cnn10 else []), *run_recipes]
        if quantize:
            methods += [f"{ship}_tflite_{q}" for q in kinds]
        oof = {m: np.full(len(c.y), np.nan) for m in methods}
        thr = {m: np.full(len(c.y), np.nan) for m in methods}
        fold_of = np.full(len(c.y), -1)
        folds, stress_rows = [], []
        splits = StratifiedGroupKFold(n_splits, shuffle=True, random_state=seed)
        for k, (tr, te) in enumerate(splits.split(np.zeros(len(c.y)), c.y, c.groups)):
            if only_folds is not None and k not in only_folds:
                continue
            fold_of[te] = k
            saved = _load_fold(checkpoint_dir, seed, k, te, methods, may_lack=("cnn10",))
            if saved is not None and run_cnn10 and "cnn10" not in saved[1]:
                saved = _add_cnn10(ctx, seed, k, tr, te, *saved)  # None: retrain the fold
                if saved is not None:
                    _save_fold(checkpoint_dir, seed, k, te, *saved)
                    log(f"seed {seed} fold {k}: CNN10 peer added to the checkpoint's fold")
            if saved is None:
                features()
                info, scores, stress = _run_fold(ctx, seed, k, tr, te, run_recipes, ship,
                                                 kinds if quantize else {}, run_cnn10)
                _save_fold(checkpoint_dir, seed, k, te, info, scores, stress)
            else:
                info, scores, stress = saved
                log(f"seed {seed} fold {k}: taken from {checkpoint_dir}")
            for m, (s_te, t_te) in scores.items():  # a saved fold brings all its methods
                oof.setdefault(m, np.full(len(c.y), np.nan))[te] = s_te
                thr.setdefault(m, np.full(len(c.y), np.nan))[te] = t_te
            folds.append(info)
            stress_rows += stress
            log(f"seed {seed} fold {k} done in {info['seconds']:.0f} s")
        result["seeds"][str(seed)] = {
            "fold": fold_of.tolist(),
            "scores": {m: v.round(6).tolist() for m, v in oof.items()},
            "thresholds": {m: v.round(6).tolist() for m, v in thr.items()},
            "folds": folds, "stress": stress_rows,
        }
    # folds taken from a checkpoint took their time in an earlier process: count it
    result["seconds"] = round(max(time.time() - t0, sum(
        f.get("seconds", 0.0) for sd in result["seeds"].values() for f in sd["folds"])), 1)
    return result


def _fold_file(checkpoint_dir, seed: int, k: int):
    from pathlib import Path

    return Path(checkpoint_dir) / f"seed{seed}_fold{k}.json"


def _save_fold(checkpoint_dir, seed: int, k: int, te, info: dict, scores: dict,
               stress: list) -> None:
    """One finished fold, written atomically (a rerun takes it instead of training again)."""
    if checkpoint_dir is None:
        return
    import json
    from pathlib import Path

    from ..io import write_text_atomic

    Path(checkpoint_dir).mkdir(parents=True, exist_ok=True)
    doc = {"test": np.asarray(te).tolist(), "info": info, "stress": stress,
           "scores": {m: [np.asarray(s).tolist(), float(t)] for m, (s, t) in scores.items()}}
    write_text_atomic(_fold_file(checkpoint_dir, seed, k), json.dumps(doc, default=float))


def checkpoint_from_result(result: dict, checkpoint_dir, *, data_root=None) -> int:
    """Write the folds of an earlier :func:`run_detection_cv` result (``detection_cv.json``)
    into ``checkpoint_dir`` as finished folds, so that a rerun trains only what that run did
    not (e.g. the costly methods on more seeds). A fold file already there is kept.

    The result must come from the same corpus (same clips, same order), else
    :class:`~cryvideo.errors.ParameterError`. Returns the number of fold files written.
    """
    from ..data.cry_corpus import load_detection_corpus

    paths = [x.path for x in load_detection_corpus(data_root)]
    if [c["path"] for c in result.get("clips", [])] != paths:
        raise ParameterError("the earlier result was run on other clips than this corpus: "
                             "its folds cannot be reused")
    written = 0
    for seed, r in result["seeds"].items():
        fold_of = np.asarray(r["fold"])
        infos = {info["fold"]: info for info in r["folds"]}
        for k, info in infos.items():
            if _fold_file(checkpoint_dir, int(seed), k).is_file():
                continue
            te = np.flatnonzero(fold_of == k)
            scores = {}
            for m, sc in r["scores"].items():
                s_te = np.asarray(sc, float)[te]
                if not np.isnan(s_te).any():
                    scores[m] = (s_te, float(np.asarray(r["thresholds"][m], float)[te[0]]))
            stress = [row for row in r["stress"] if row.get("fold") == k]
            _save_fold(checkpoint_dir, int(seed), k, te, info, scores, stress)
            written += 1
    return written


def _load_fold(checkpoint_dir, seed: int, k: int, te, methods: Sequence[str], *,
               may_lack: Sequence[str] = ()):
    """The saved fold when it has the same test clips and every method (but those it
    ``may_lack``), with all the methods it holds; else None."""
    if checkpoint_dir is None:
        return None
    import json

    f = _fold_file(checkpoint_dir, seed, k)
    if not f.is_file():
        return None
    doc = json.loads(f.read_text(encoding="utf-8"))
    if doc["test"] != np.asarray(te).tolist() or set(methods) - set(doc["scores"]) - set(
            may_lack):
        return None
    scores = {m: (np.asarray(s, float), t) for m, (s, t) in doc["scores"].items()}
    return doc["info"], scores, doc["stress"]


def _run_fold(ctx: dict, seed: int, k: int, tr: np.ndarray, te: np.ndarray,
              recipes: Sequence[str], ship: str, tflite_kinds: dict, cnn10: bool):
    """One outer fold: every method trained on ``tr`` (choices inside it), scored on ``te``.

    Returns
    -------
    (info, scores, stress_rows)
        ``scores[method] = (test scores, threshold)``.
    """
    import keras
    from sklearn.model_selection import StratifiedGroupKFold

    from ..training.yamnet_cry import RECIPES, best_threshold, one_se_threshold

    c, base, backbone, log = ctx["c"], ctx["base"], ctx["backbone"], ctx["log"]
    t0 = time.time()
    scores: dict = {}
    # YAMNet zero-shot: its threshold from the training clips, by the same rule as the trained
    # detectors (one standard error) and at its best F1 (the peer of the design notes)
    t_zs, _, _ = one_se_threshold(c.y[tr], ctx["zs"][tr], _gw(c.groups[tr]), c.groups[tr])
    t_zs_best, _ = best_threshold(c.y[tr], ctx["zs"][tr], _gw(c.groups[tr]))
    scores["yamnet_zeroshot"] = (ctx["zs"][te], t_zs)
    scores["yamnet_zeroshot_bestf1"] = (ctx["zs"][te], t_zs_best)
    # a grouped validation split of the training folds chooses epochs and thresholds
    inner = StratifiedGroupKFold(5, shuffle=True, random_state=seed * 100 + k)
    i_tr, i_va = next(inner.split(np.zeros(len(tr)), c.y[tr], c.groups[tr]))
    itr, iva = tr[i_tr], tr[i_va]
    # augmentation from the training groups only; its YAMNet features once
    aug, stress = _fold_draws(ctx, seed, k, tr, te)
    af = backbone([a["wave"] for a in aug])
    itr_set = set(itr.tolist())
    fold = _FoldData(c, base, af, aug, itr_set)
    sf = backbone([s["wave"] for s in stress]) if stress else None
    zs_stress = (np.array([_zeroshot(lg).max() for lg in sf["logits"]]) if sf
                 else np.zeros(0))
    stress_scores = {"yamnet_zeroshot": (zs_stress, t_zs),
                     "yamnet_zeroshot_bestf1": (zs_stress, t_zs_best)}
    info = {"fold": k, "n_train": len(tr), "n_test": len(te), "n_validation": len(iva),
            "n_augmented": len(aug), "threshold_zeroshot": t_zs,
            "threshold_zeroshot_bestf1": t_zs_best, "recipes": {}}
    for name in recipes:
        rec = RECIPES[name]
        choice, final = _fit_recipe(rec, fold, backbone.yamnet, itr, iva, tr, seed, k)
        info["recipes"][name] = choice
        key = "cut" if rec.kind == "top" else "emb"
        s_te = _clip_scores(final, [base[key][i] for i in te], [base["logits"][i] for i in te],
                            rec.window)
        scores[name] = (s_te, choice["threshold"])
        if sf:
            stress_scores[name] = (_clip_scores(final, sf[key], sf["logits"], rec.window),
                                   choice["threshold"])
        log(f"seed {seed} fold {k} {name}: epochs {choice['epochs']} thr "
            f"{choice['threshold']:.3f} val F1 {choice['validation_f1']:.3f}")
        if name == ship and tflite_kinds:
            q = _quantized_scores(final, backbone.yamnet, tr, te, ctx["waves"], rec,
                                  tflite_kinds)
            for qn, s in q.items():
                scores[f"{ship}_tflite_{qn}"] = (s, choice["threshold"])
        del final
        keras.backend.clear_session(free_memory=True)
    if cnn10:
        s_te, s_st = _cnn10_scores(ctx["panns"](), c, tr, te, stress, seed * 100 + k)
        scores["cnn10"] = (s_te, 0.5)
        stress_scores["cnn10"] = (s_st, 0.5)
    rows = []
    for j, s in enumerate(stress):
        rows.append({"seed": seed, "fold": k, "source": s["source"], "label": s["label"],
                     "kind": s["kind"], "snr_db": s.get("snr_db"),
                     **({"background": s["background"]} if "background" in s else {}),
                     "scores": {m: float(v[0][j]) for m, v in stress_scores.items()
                                if len(v[0])},
                     "thresholds": {m: float(v[1]) for m, v in stress_scores.items()
                                    if len(v[0])}})
    info["seconds"] = round(time.time() - t0, 1)
    keras.backend.clear_session(free_memory=True)
    return info, scores, rows


@dataclasses.dataclass
class _FoldData:
    """The training material of one outer fold: corpus clips and augmented clips."""

    c: _Corpus
    base: dict
    af: dict
    aug: list
    itr: set

    def training_set(self, idx: np.ndarray, key: str, *, inner: bool,
                     interference: bool = False):
        """Features, teacher logits, labels, groups and weighting strata of clips ``idx`` plus
        the augmented clips made only of them (all of the fold's when not ``inner``); the
        interference copies only when ``interference``."""
        use = np.array([(not inner or all(p in self.itr for p in a["parts"]))
                        and (interference or a.get("set") != "interference")
                        for a in self.aug], bool)
        j = np.flatnonzero(use)
        f = [self.base[key][i] for i in idx] + [self.af[key][i] for i in j]
        t = [self.base["logits"][i] for i in idx] + [self.af["logits"][i] for i in j]
        y = np.concatenate([self.c.y[idx], [self.aug[i]["label"] == "cry" for i in j]])
        src = np.concatenate([np.asarray(idx, int),
                              np.array([self.aug[i]["source"] for i in j], int)])
        g = self.c.groups[src]
        strata = np.array([self.c.strata(i) for i in src])
        return f, t, y.astype(int), g, strata


def _fit_recipe(rec, fold: _FoldData, yamnet, itr, iva, tr, seed: int, k: int):
    """Inner fit (epochs and threshold on the validation split), then refit on all of ``tr``.

    Returns
    -------
    (choice dict, trained PatchTrainer)
    """
    import keras

    from ..detection.decisions import clip_score
    from ..training.yamnet_cry import (
        PatchTrainer,
        clip_weights,
        one_se_threshold,
        onset_threshold,
        split_long,
        weighted_logloss,
    )

    key = "cut" if rec.kind == "top" else "emb"
    c = fold.c

    def pieces(idx, inner):
        f, t, y, g, strata = fold.training_set(idx, key, inner=inner,
                                               interference=rec.interference)
        w = clip_weights(g, y, strata if rec.weighting == "balanced" else None)
        fp, owner = split_long(f)
        tp, _ = split_long(t)
        return fp, tp, y[owner], w[owner]

    f, t, y, w = pieces(itr, True)
    trainer = PatchTrainer(rec, yamnet, seed=seed * 1000 + k)
    va_f = [fold.base[key][i] for i in iva]
    va_t = [fold.base["logits"][i] for i in iva]
    w_va = _gw(c.groups[iva])
    hist: list = []

    def on_epoch(ep):
        pp = trainer.patch_probabilities(va_f, va_t)
        p = [clip_score(q, rec.window) for q in pp]
        hist.append({"epoch": ep, "scores": np.asarray(p), "patch_max": np.array(
            [float(np.max(q)) if len(q) else 0.0 for q in pp]),
                     "logloss": weighted_logloss(c.y[iva], p, w_va)})

    trainer.fit(f, y, w, epochs=rec.max_epochs, teacher=t, on_epoch=on_epoch,
                rng=np.random.default_rng(seed * 1000 + k))
    best = min(hist, key=lambda h: h["logloss"])
    t_best, f1_va, se_va = one_se_threshold(c.y[iva], best["scores"], w_va, c.groups[iva],
                                            seed=seed * 100 + k)
    # per clip, not per recording: false starts are counted per hour of audio
    t_onset = onset_threshold(c.y[iva], best["scores"], best["patch_max"], np.ones(len(iva)),
                              threshold=t_best)
    keras.backend.clear_session(free_memory=True)
    f, t, y, w = pieces(tr, False)
    final = PatchTrainer(rec, yamnet, seed=seed * 1000 + k + 1)
    final.fit(f, y, w, epochs=best["epoch"], teacher=t,
              rng=np.random.default_rng(seed * 1000 + k + 1))
    choice = {"epochs": best["epoch"], "threshold": t_best, "onset_threshold": t_onset,
              "validation_f1": f1_va, "validation_f1_se": se_va,
              "validation_logloss": best["logloss"],
              "validation_curve": [round(h["logloss"], 4) for h in hist],
              # the validation clips at the chosen epoch: another onset rule can be chosen
              # from them later without training again
              "validation": {"label": c.y[iva].tolist(), "group_weight": np.round(w_va, 6).tolist(),
                             "window": np.round(best["scores"], 5).tolist(),
                             "patch_max": np.round(best["patch_max"], 5).tolist()}}
    if rec.kind == "head":   # the fold's model, for measuring it elsewhere (listen's onsets)
        kernel, bias = final.head.get_layer("cry_logit").get_weights()
        choice["head"] = {"kernel": np.round(kernel.reshape(-1), 7).tolist(),
                          "bias": round(float(bias.reshape(-1)[0]), 7)}
    return choice, final


def _gw(groups) -> np.ndarray:
    from ..evaluation.detector_metrics import group_weights

    return group_weights(groups)


def _split_for_training(f, t, y, g, weight_fn):
    from ..training.yamnet_cry import split_long

    w = weight_fn(g, y)
    pieces, owner = split_long(f)
    tpieces, _ = split_long(t)
    return pieces, tpieces, np.asarray(y)[owner], np.asarray(w)[owner]


def _clip_scores(trainer, feats, teacher, window: int) -> np.ndarray:
    from ..detection.decisions import clip_score

    return np.array([clip_score(p, window) for p in trainer.patch_probabilities(feats, teacher)])


def _quantized_scores(trainer, yamnet, tr, te, waves, rec, kinds: dict) -> dict:
    """Scores of the test clips through the fold model's TFLite files."""
    from ..detection.decisions import clip_score
    from ..detection.frontend import waveform_patches
    from ..models.yamnet_cry import build_patch_detector
    from ..training.detector_export import TFLitePatchModel, to_tflite

    model = build_patch_detector(yamnet, trainer.head, top=trainer.top, gate=rec.gate)
    # calibration patches (activation ranges of the fully integer variant): ~80 training
    # clips of the fold, evenly spaced; to_tflite keeps the first 400 patches
    calib = np.concatenate([waveform_patches(waves[i]) for i in tr[:: max(1, len(tr) // 80)]])
    out = {}
    for q, quant in kinds.items():
        runner = TFLitePatchModel(to_tflite(model, quantize=quant, representative=calib))
        out[q] = np.array([clip_score(runner(waveform_patches(waves[i])), rec.window)
                           for i in te])
    return out


def _panns_logmels(waves, log) -> dict:
    from ..audio.augment import band_limit
    from ..audio.logmel import logmel

    log("PANNs log-mels for CNN10 …")
    return {"logmel": [logmel(w) for w in waves],
            "logmel_bl": [logmel(band_limit(w)) for w in waves]}


def _fold_draws(ctx: dict, seed: int, k: int, tr, te) -> tuple[list[dict], list[dict]]:
    """The random material of fold ``k``: its augmented training clips and its stress clips,
    drawn in this order from the fold's own generator (so a saved fold can be replayed)."""
    from ..training.yamnet_cry import augment, augment_interference

    c = ctx["c"]
    rng = np.random.default_rng(1000 * seed + k)
    labels = [x.label for x in c.clips]
    aug = augment(ctx["waves"], labels, c.cats, tr, rng=rng)
    stress = _stress_sets(c, te, rng)
    if ctx.get("interference"):
        # drawn from generators of their own, so the material above replays unchanged
        aug += augment_interference(ctx["waves"], labels, c.cats, tr,
                                    rng=np.random.default_rng([seed, k, 1]))
        stress += _interference_stress(c, te, np.random.default_rng([seed, k, 2]))
    return aug, stress


def _add_cnn10(ctx: dict, seed: int, k: int, tr, te, info: dict, scores: dict,
               stress_rows: list):
    """Add the CNN10 peer to a finished fold that lacks it (a run whose costly methods ran on
    fewer seeds), without retraining the rest. The fold's stress clips are rebuilt by
    replaying its random draws; if they differ from the saved ones, None (retrain)."""
    c = ctx["c"]
    _, stress = _fold_draws(ctx, seed, k, tr, te)

    def key(r):
        return (r["source"], r["label"], r["kind"], r.get("snr_db"))

    if [key(r) for r in stress] != [key(r) for r in stress_rows]:
        ctx["log"](f"seed {seed} fold {k}: the stress clips do not replay; retraining the fold")
        return None
    t0 = time.time()
    s_te, s_st = _cnn10_scores(ctx["panns"](), c, tr, te, stress, seed * 100 + k)
    rows = [{**r, "scores": {**r["scores"], "cnn10": float(s_st[j])},
             "thresholds": {**r["thresholds"], "cnn10": 0.5}}
            for j, r in enumerate(stress_rows)]
    info = {**info, "seconds_cnn10_added": round(time.time() - t0, 1)}
    return info, {**scores, "cnn10": (s_te, 0.5)}, rows


def _cnn10_scores(panns, c: _Corpus, tr, te, stress, seed) -> tuple[np.ndarray, np.ndarray]:
    from ..audio.logmel import logmel
    from ..training.cnn10_detector import RECIPES as CNN_RECIPES
    from ..training.cnn10_detector import clip_scores, train_detector

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


# ----------------------------------------------------------------------------- summary
def _auc_metric(y, s, sample_weight=None):
    from ..evaluation.detector_metrics import weighted_auc

    return weighted_auc(y, s, np.ones(len(y)) if sample_weight is None else sample_weight)


def summarize_detection_cv(result: dict, *, n_boot: int = 2000) -> dict:
    """Metrics of every method from :func:`run_detection_cv`'s out-of-fold scores.

    Per recording: each clip weighs ``1 / (clips of its group)``. The pooled figures put the
    seeds together (each clip once per seed, weight divided by the number of seeds) and carry a
    95 % group-bootstrap interval (recordings resampled). Beside them: the value of each seed
    and their spread, the false-positive rate of each negative category, the recall of each
    positive origin, F1 / precision / recall of each origin's cries against every negative and
    with the Donateacry cries left out, and the stress sets (the interference set's recall per
    SNR and background).

    Returns
    -------
    dict
        ``methods`` → name → ``{"pooled": {metric: Interval dict}, "per_seed": {...},
        "spread": {...}, "false_positive_by_category": {...}, "recall_by_origin": {...},
        "stress": {...}, "by_origin": {...}}``: ``pooled`` also holds F1, precision and
        recall without the Donateacry cries (``*_without_donateacry``); ``by_origin[origin]``
        F1, precision and recall of that origin's cries against every negative and its
        ``groups``; ``stress["interference"]["{snr:+.0f} dB[ music| noise]"]`` the recall of
        held-out cries under held-out music or noise with ``n``, ``snr_db`` and
        ``background``. ``comparison``: paired F1 differences of the shipped recipe against
        the peers, the run's other recipes and its TFLite files.
    """
    from ..evaluation.detector_metrics import detection_metrics, group_weights
    from ..evaluation.intervals import group_bootstrap, seed_spread

    clips = result["clips"]
    y = np.array([c["label"] == "cry" for c in clips])
    g = np.array([c["group"] for c in clips])
    cat = np.array([c["category"] for c in clips])
    origin = np.array([c["origin"] for c in clips])
    all_seeds = list(result["seeds"])
    methods = list(dict.fromkeys(m for sd in all_seeds for m in result["seeds"][sd]["scores"]))
    n_groups = len(set(g.tolist()))
    out: dict = {"n_clips": len(clips), "n_groups": n_groups, "seeds": all_seeds,
                 "methods": {}, "n_boot": n_boot, "ship": result.get("ship")}

    def arrays(m, seeds):
        ss, tt, keep = [], [], []
        for sd in seeds:
            s = np.asarray(result["seeds"][sd]["scores"][m], float)
            t = np.asarray(result["seeds"][sd]["thresholds"][m], float)
            ss.append(s)
            tt.append(t)
            keep.append(~np.isnan(s))
        return ss, tt, keep

    for m in methods:
        seeds = [sd for sd in all_seeds if m in result["seeds"][sd]["scores"]]
        of = f"pooled out-of-fold predictions of {len(seeds)} seed(s)"
        ss, tt, keep = arrays(m, seeds)
        if not any(k.any() for k in keep):
            continue
        # pooled over seeds
        Y = np.concatenate([y[k] for k in keep])
        G = np.concatenate([g[k] for k in keep])
        S = np.concatenate([s[k] for s, k in zip(ss, keep, strict=True)])
        T = np.concatenate([t[k] for t, k in zip(tt, keep, strict=True)])
        C = np.concatenate([cat[k] for k in keep])
        Orig = np.concatenate([origin[k] for k in keep])
        W = np.concatenate([group_weights(g[k]) for k in keep]) / len(seeds)
        P = S >= T
        pooled = {}
        for name in ("f1", "precision", "recall", "false_positive_rate"):
            pooled[name] = group_bootstrap(name, Y.astype(int), P.astype(int), G,
                                           weights=W, n_boot=n_boot, unit="recordings",
                                           of=of).to_dict()
        pooled["roc_auc"] = group_bootstrap(_auc_metric, Y, S, G, weights=W, n_boot=n_boot,
                                            unit="recordings", of=of).to_dict()
        # the same without the Donateacry cries (positives from 21 recordings only)
        nd = Orig != "Donateacry"
        for name in ("f1", "precision", "recall"):
            pooled[f"{name}_without_donateacry"] = group_bootstrap(
                name, Y[nd].astype(int), P[nd].astype(int), G[nd], weights=W[nd],
                n_boot=n_boot, unit="recordings", of=of + ", Donateacry left out").to_dict()
        # per cry origin: that origin's cries against every negative
        by_origin = {}
        for oname in sorted(set(Orig[Y].tolist())):
            sel = (~Y) | (Orig == oname)
            by_origin[oname] = {name: group_bootstrap(
                name, Y[sel].astype(int), P[sel].astype(int), G[sel], weights=W[sel],
                n_boot=n_boot, unit="recordings",
                of=of + f", cries from {oname} only").to_dict()
                for name in ("f1", "precision", "recall")}
            by_origin[oname]["groups"] = len(set(G[Y & (Orig == oname)].tolist()))
        per_seed = {}
        for sd, s, t, k in zip(seeds, ss, tt, keep, strict=True):
            if k.any():
                per_seed[sd] = detection_metrics(y[k], s[k], t[k], group_weights(g[k]))
        spread = {name: seed_spread([v[name] for v in per_seed.values()])
                  for name in ("f1", "precision", "recall", "fpr", "roc_auc")}
        seed_of = np.repeat(np.arange(len(seeds)), [int(k.sum()) for k in keep])
        fp = {}
        for cname in sorted(set(C[~Y].tolist())):
            sel = (~Y) & (C == cname)
            iv = group_bootstrap("false_positive_rate", Y[sel].astype(int), P[sel].astype(int),
                                 G[sel], weights=W[sel], n_boot=n_boot, unit="recordings",
                                 of=of)
            per = [float(np.average(P[sel & (seed_of == j)], weights=W[sel & (seed_of == j)]))
                   for j in range(len(seeds)) if np.any(sel & (seed_of == j))]
            fp[cname] = {**iv.to_dict(), "per_seed": per, "groups": len(set(G[sel].tolist())),
                         "clips": int(sel.sum() // len(seeds))}
        rec = {}
        for oname in sorted(set(Orig[Y].tolist())):
            sel = Y & (Orig == oname)
            iv = group_bootstrap("recall", Y[sel].astype(int), P[sel].astype(int), G[sel],
                                 weights=W[sel], n_boot=n_boot, unit="recordings", of=of)
            rec[oname] = {**iv.to_dict(), "groups": len(set(G[sel].tolist()))}
        out["methods"][m] = {"seeds": seeds, "pooled": pooled, "per_seed": per_seed,
                             "spread": spread, "false_positive_by_category": fp,
                             "recall_by_origin": rec, "by_origin": by_origin,
                             "stress": _stress_summary(result, m, g, n_boot, of)}
    ship = result.get("ship")
    out["comparison"] = _paired(result, y, g, [sd for sd in all_seeds if ship in
                                               result["seeds"][sd]["scores"]], ship, n_boot)
    return out


def _stress_summary(result, m, g, n_boot, of) -> dict:
    from ..evaluation.detector_metrics import group_weights
    from ..evaluation.intervals import group_bootstrap

    rows = [r for sd in result["seeds"].values() for r in sd.get("stress", [])
            if m in r["scores"]]
    out = {}
    for kind in ("negative_band_limited", "cry_under"):
        sel = [r for r in rows if r["kind"].startswith(kind)]
        if not sel:
            continue
        yy = np.array([r["label"] for r in sel])
        pp = np.array([r["scores"][m] >= r["thresholds"][m] for r in sel]).astype(int)
        gg = g[[r["source"] for r in sel]]
        ww = group_weights(gg)
        metric = "false_positive_rate" if kind.startswith("negative") else "recall"
        out[kind] = {**group_bootstrap(metric, yy, pp, gg, weights=ww, n_boot=n_boot,
                                       unit="recordings", of=of).to_dict(), "n": len(sel)}
        if kind == "cry_under":
            by = {}
            for r, p_ in zip(sel, pp, strict=True):
                by.setdefault(r["kind"].removeprefix("cry_under_"), []).append(p_)
            out["cry_under_by_background"] = {k: float(np.mean(v)) for k, v in by.items()}
    sel = [r for r in rows if r["kind"].startswith("interference_")]
    if sel:
        inter = {}
        for snr in sorted({float(r["snr_db"]) for r in sel}):
            for bg in (None, "music", "noise"):
                rs = [r for r in sel if float(r["snr_db"]) == snr
                      and (bg is None or r["kind"] == f"interference_{bg}")]
                if not rs:
                    continue
                yy = np.ones(len(rs), int)
                pp = np.array([r["scores"][m] >= r["thresholds"][m] for r in rs]).astype(int)
                gg = g[[r["source"] for r in rs]]
                iv = group_bootstrap("recall", yy, pp, gg, weights=group_weights(gg),
                                     n_boot=n_boot, unit="recordings", of=of).to_dict()
                inter[f"{snr:+.0f} dB" + ("" if bg is None else f" {bg}")] = {
                    **iv, "n": len(rs), "snr_db": snr, "background": bg or "music or noise"}
        out["interference"] = inter
    return out


def _paired(result, y, g, seeds, ship, n_boot) -> dict:
    """Paired group-bootstrap differences ``ship − other`` of F1 and of the worst category's
    false-positive rate, on the same recordings and seeds."""
    from ..evaluation.detector_metrics import group_weights
    from ..evaluation.intervals import group_bootstrap

    res = result["seeds"]
    if not seeds:
        return {}
    cat = np.array([c["category"] for c in result["clips"]])
    out = {}
    # against the peers, the other recipes of the run (``gated`` when ``gated_mix`` ships),
    # and the shipped recipe's own TFLite files (quantization loss)
    recipes = [r for r in result.get("recipes", {}) if r != "head"]
    others = ("yamnet_zeroshot", "yamnet_zeroshot_bestf1", "cnn10", "head", "gated",
              *recipes, *(f"{ship}_tflite_{q}" for q in TFLITE_KINDS))
    others = tuple(dict.fromkeys(others))
    for other in (o for o in others if o != ship):
        both = [sd for sd in seeds if other in res[sd]["scores"]]
        if not both:
            continue
        Y, G, W, A, B, C = [], [], [], [], [], []
        for sd in both:
            sa = np.asarray(res[sd]["scores"][ship], float)
            k = ~np.isnan(sa)
            ta = np.asarray(res[sd]["thresholds"][ship], float)
            sb = np.asarray(res[sd]["scores"][other], float)
            tb = np.asarray(res[sd]["thresholds"][other], float)
            Y.append(y[k])
            G.append(g[k])
            W.append(group_weights(g[k]) / len(both))
            A.append((sa >= ta)[k])
            B.append((sb >= tb)[k])
            C.append(cat[k])
        Y, G, W, A, B, C = map(np.concatenate, (Y, G, W, A, B, C))

        def f1(yy, pred, w):
            tp, fp, fn = w[yy & pred].sum(), w[~yy & pred].sum(), w[yy & ~pred].sum()
            return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0

        def diff_f1(yy, ab, sample_weight):
            return f1(yy, ab[:, 0], sample_weight) - f1(yy, ab[:, 1], sample_weight)

        AB = np.column_stack([A, B])
        out[other] = {"seeds": both, "f1_difference": group_bootstrap(
            diff_f1, Y, AB, G, weights=W, n_boot=n_boot, unit="recordings",
            of=f"paired pooled out-of-fold predictions of {len(both)} seed(s)").to_dict()}
    return out
