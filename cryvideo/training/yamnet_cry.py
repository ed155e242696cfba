"""Training the cry detector: YAMNet features, clip-level (multiple-instance) training, recipes.

A training example is a whole clip: its 0.96 s patches go through the patch network, their
probabilities are pooled as the detector pools them at run time (moving mean of ``window``
patches, then the max; :mod:`cryvideo.detection.decisions`), and the loss is the clip's binary
cross-entropy. Patches of silence inside a cry clip therefore need not score high.

Recipes (:data:`RECIPES`) differ in what is trained:

- ``head`` — a linear head on frozen YAMNet embeddings;
- ``anchored`` — the same head initialised from YAMNet's own "Baby cry" classifier row and
  pulled back towards it (an L2 penalty on the *difference*), so it starts from what YAMNet
  knows and moves only as far as our data demands;
- ``top`` — YAMNet's last two blocks fine-tuned with the head, plus a distillation term that
  keeps the 521 AudioSet outputs near YAMNet's own on every training patch.

Augmentation happens on waveforms, from the training groups only (:func:`augment`): training
cries mixed under music, speech, babble and other sounds at several SNRs; band-limited (8 kHz)
copies of negatives and of full-band cries, so bandwidth predicts nothing; mixtures of two
negatives, so "a mixture" predicts nothing either.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np

from ..audio.augment import band_limit, mix_background
from ..errors import ParameterError

__all__ = ["Recipe", "RECIPES", "BACKGROUND_CATEGORIES", "augment", "augment_interference",
           "clip_weights", "weight_stratum",
           "split_long", "PatchTrainer", "best_threshold", "one_se_threshold", "onset_threshold",
           "prevalence_threshold",
           "weighted_f1",
           "weighted_logloss"]

#: Categories whose clips may be mixed *under* a training cry (the sounds a cry competes with).
#: Sounds of other kinds (a laugh, a scream) are not used: under them a cry may be inaudible,
#: and a "cry" that is mostly laughter would teach the detector that laughter is crying.
BACKGROUND_CATEGORIES = ("music", "adult_speech", "child_speech", "environmental_sound",
                         "adult_singing")
#: The music and the single-speaker categories among them.
MUSIC_CATEGORIES = ("music", "adult_singing")
SPEECH_CATEGORIES = ("adult_speech", "child_speech")
#: Mixed-cry signal-to-background ratios (dB) drawn from.
MIX_SNRS = (0.0, 5.0, 10.0, 20.0)
#: Signal-to-background ratios (dB) of the interference copies (:func:`augment_interference`).
INTERFERENCE_SNRS = (-5.0, -2.5, 0.0, 2.5, 5.0)
#: The kinds of background of the interference copies, drawn with equal probability.
INTERFERENCE_KINDS = ("music", "speech", "household noise", "babble")
#: Below this frequency (Hz) the spectrum of :func:`colored_noise` is flat.
NOISE_CORNER_HZ = 100.0
#: Patches per training example (longer clips are cut into pieces).
MAX_PATCHES = 16
#: Batches are padded to the smallest of these lengths that fits their longest clip.
BUCKETS = (6, 10, 16)


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How a detector is trained (see the module docstring).

    Attributes
    ----------
    name : str
    kind : {"head", "top"}
        Train a head on frozen embeddings, or also fine-tune YAMNet's last two blocks.
    gate : (eps, gamma), optional
        Multiply each patch probability by YAMNet's :func:`~cryvideo.models.yamnet_cry.
        teacher_gate` at run time (and in validation, so epochs and threshold are chosen for
        the gated detector).
    gate_in_training : bool
        Also apply the gate inside the training loss. Off by default: a head trained through
        the gate learns to outvote it (on held-out infant laughter the gate then removes
        about half the false alarms instead of nearly all).
    anchor : bool
        Initialise the head from YAMNet's "Baby cry" row and penalise moving away from it.
    l2 : float
        L2 penalty (on the weights, or on their distance to the anchor).
    distill : float
        Weight of the distillation term (``top`` only).
    lr : float
    max_epochs : int
        Upper bound; the number used is chosen on a validation split of the training folds.
    window : int
        Patches in the moving mean of the clip pooling.
    batch : int
        Clips per step.
    interference : bool
        Also train on the interference copies (:func:`augment_interference`): cries and
        negatives under music, speech, household noise and babble at -5 to +5 dB.
    weighting : {"recording", "balanced"}
        ``recording``: each recording's clips share ``sqrt(n_clips)`` (:func:`clip_weights`).
        ``balanced``: besides, every negative category and every cry origin weighs in
        proportion to the square root of its number of recordings, so a category of a few
        recordings counts, without one recording deciding the loss.
    """

    name: str
    kind: str = "head"
    gate: tuple[float, float] | None = None
    gate_in_training: bool = False
    anchor: bool = False
    l2: float = 1e-4
    distill: float = 0.0
    lr: float = 1e-3
    max_epochs: int = 30
    window: int = 3
    batch: int = 32
    interference: bool = False
    weighting: str = "recording"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


#: YAMNet's gate of the shipped recipes: eps 0.02, gamma 2 (see ``teacher_gate``).
GATE = (0.02, 2.0)

RECIPES = {
    "head": Recipe("head", kind="head", l2=1e-4, lr=1e-3, max_epochs=60),
    "gated": Recipe("gated", kind="head", gate=GATE, l2=1e-4, lr=1e-3, max_epochs=60),
    "top_gated": Recipe("top_gated", kind="top", gate=GATE, anchor=True, l2=1e-4, distill=1.0,
                        lr=2e-4, max_epochs=10),
    "gated_mix": Recipe("gated_mix", kind="head", gate=GATE, l2=1e-4, lr=1e-3, max_epochs=60,
                        interference=True, weighting="balanced"),
}


# ----------------------------------------------------------------------------- augmentation
def augment(waves: Sequence[np.ndarray], labels: Sequence[str], categories: Sequence[str],
            idx: Sequence[int], *, rng: np.random.Generator, n_mix: int = 2) -> list[dict]:
    """Augmented training clips made only from the clips ``idx`` (the training groups).

    Parameters
    ----------
    waves : sequence of np.ndarray [shape=(n_i,)]
        16 kHz waveforms of the whole corpus.
    labels, categories : sequence of str
        Per clip (``cry`` / ``not_cry``; category names).
    idx : sequence of int
        The clips allowed as sources and backgrounds.
    rng : np.random.Generator
    n_mix : int
        Mixtures per training cry (each with another background and SNR). As many negatives
        are mixed with backgrounds drawn the same way, so a background is evidence for neither
        class.

    Returns
    -------
    list of dict
        ``wave`` (np.ndarray), ``label`` ("cry"/"not_cry"), ``source`` (index of the main clip,
        whose group the example belongs to), ``parts`` (every clip index used), ``what`` (a
        short description).
    """
    idx = np.asarray(idx)
    lab = np.asarray(labels)[idx]
    cat = np.asarray(categories)[idx]
    cries = idx[lab == "cry"]
    negs = idx[lab != "cry"]
    bgs = idx[(lab != "cry") & np.isin(cat, BACKGROUND_CATEGORIES)]
    speech = idx[(lab != "cry") & np.isin(cat, SPEECH_CATEGORIES)]
    out: list[dict] = []

    def background() -> tuple[np.ndarray, str, list[int]]:
        if len(speech) >= 3 and rng.random() < 0.2:   # babble: three voices at once
            ids = [int(i) for i in rng.choice(speech, 3, replace=False)]
            n = max(len(waves[i]) for i in ids)
            return (sum(np.pad(waves[i], (0, n - len(waves[i])), mode="wrap") for i in ids),
                    "babble", ids)
        j = int(rng.choice(bgs))
        return waves[j], str(np.asarray(categories)[j]), [j]

    if len(bgs):
        for i in cries:
            for _ in range(n_mix):
                b, what, ids = background()
                snr = float(rng.choice(MIX_SNRS))
                out.append({"wave": mix_background(waves[i], b, snr_db=snr, rng=rng),
                            "label": "cry", "source": int(i), "parts": [int(i), *ids],
                            "what": f"cry under {what} at {snr:+.0f} dB"})
    for i in negs:                      # bandwidth must not predict the label
        out.append({"wave": band_limit(waves[i]), "label": "not_cry", "source": int(i),
                    "parts": [int(i)], "what": "band-limited to 4 kHz"})
    for i in cries:
        if rng.random() < 0.5:
            out.append({"wave": band_limit(waves[i]), "label": "cry", "source": int(i),
                        "parts": [int(i)], "what": "band-limited to 4 kHz"})
    if len(bgs):
        for i in rng.choice(negs, n_mix * len(cries), replace=len(negs) < n_mix * len(cries)):
            b, what, ids = background()
            out.append({"wave": mix_background(waves[i], b, snr_db=float(rng.choice(MIX_SNRS)),
                                               rng=rng),
                        "label": "not_cry", "source": int(i), "parts": [int(i), *ids],
                        "what": f"mixed with {what}"})
    return out


def augment_interference(waves: Sequence[np.ndarray], labels: Sequence[str],
                         categories: Sequence[str], idx: Sequence[int], *,
                         rng: np.random.Generator, n_mix: int = 2,
                         snrs: Sequence[float] = INTERFERENCE_SNRS) -> list[dict]:
    """Interference copies made only from the clips ``idx`` (the training groups).

    Every training cry is mixed ``n_mix`` times under a loud background, at a signal-to-
    background ratio drawn from ``snrs`` (down to -5 dB: the background louder than the cry):
    music (music or singing clips), speech (one adult or child speaker, as from a TV), household
    noise (an environmental-sound clip, or synthetic pink or brown noise: fans, hoods, traffic)
    or babble (three speakers at once), each kind drawn with equal probability. As many
    negatives are mixed the same way, so a loud background is evidence for neither class.

    Parameters
    ----------
    waves : sequence of np.ndarray [shape=(n_i,)]
        16 kHz waveforms of the whole corpus.
    labels, categories : sequence of str
        Per clip.
    idx : sequence of int
        The clips allowed as sources and backgrounds.
    rng : np.random.Generator
    n_mix : int
    snrs : sequence of float
        dB.

    Returns
    -------
    list of dict
        As :func:`augment`, each with ``set="interference"``.
    """
    idx = np.asarray(idx)
    lab = np.asarray(labels)[idx]
    cat = np.asarray(categories)[idx]
    cries, negs = idx[lab == "cry"], idx[lab != "cry"]
    pools = {"music": idx[(lab != "cry") & np.isin(cat, MUSIC_CATEGORIES)],
             "speech": idx[(lab != "cry") & np.isin(cat, SPEECH_CATEGORIES)],
             "household noise": idx[(lab != "cry") & (cat == "environmental_sound")]}
    kinds = [k for k in INTERFERENCE_KINDS
             if (len(pools["speech"]) >= 3 if k == "babble" else
                 k == "household noise" or len(pools[k]))]
    out: list[dict] = []

    def background(n: int) -> tuple[np.ndarray, str, list[int]]:
        kind = str(rng.choice(kinds))
        if kind == "babble":
            ids = [int(i) for i in rng.choice(pools["speech"], 3, replace=False)]
            m = max(len(waves[i]) for i in ids)
            return (sum(np.pad(waves[i], (0, m - len(waves[i])), mode="wrap") for i in ids),
                    "babble", ids)
        if kind == "household noise" and (not len(pools[kind]) or rng.random() < 0.3):
            return colored_noise(n, rng=rng), "synthetic noise", []
        j = int(rng.choice(pools[kind]))
        return waves[j], kind, [j]

    def mixed(i: int, label: str) -> dict:
        b, what, ids = background(len(waves[i]))
        snr = float(rng.choice(np.asarray(snrs)))
        return {"wave": mix_background(waves[i], b, snr_db=snr, rng=rng), "label": label,
                "source": int(i), "parts": [int(i), *ids], "set": "interference",
                "what": f"{label} under {what} at {snr:+.1f} dB"}

    for i in cries:
        out += [mixed(int(i), "cry") for _ in range(n_mix)]
    if len(negs):
        for i in rng.choice(negs, n_mix * len(cries), replace=len(negs) < n_mix * len(cries)):
            out.append(mixed(int(i), "not_cry"))
    return out


def colored_noise(n: int, *, rng: np.random.Generator, sr: int = 16000) -> np.ndarray:
    """Pink (1/f) or brown (1/f²) noise of ``n`` samples, unit RMS, with a slow level drift.

    The power spectrum is flat below :data:`NOISE_CORNER_HZ` and has no DC: a 1/f² spectrum
    down to 0 Hz would put almost all of its power below 125 Hz, where YAMNet's mel bands do
    not reach, and a cry "at -5 dB" under it would be a clean cry to the model.

    Parameters
    ----------
    n : int
        Samples.
    rng : np.random.Generator
    sr : int
        Sample rate (Hz).

    Returns
    -------
    np.ndarray [shape=(n,), dtype=float32]
    """
    m = max(n, 2)
    spec = np.fft.rfft(rng.standard_normal(m))
    f = np.fft.rfftfreq(m, 1.0 / sr)
    spec /= np.maximum(f, NOISE_CORNER_HZ) ** (0.5 if rng.random() < 0.5 else 1.0)
    spec[0] = 0.0
    x = np.fft.irfft(spec, m)[:n]
    x *= 1.0 + 0.3 * np.sin(2 * np.pi * rng.uniform(0.05, 0.5) * np.arange(n) / sr
                            + rng.uniform(0, 2 * np.pi))
    return (x / max(float(np.sqrt(np.mean(x ** 2))), 1e-12)).astype(np.float32)


def weight_stratum(is_cry: bool, origin: str, category: str) -> str:
    """A clip's stratum for :func:`clip_weights`' balanced weighting: the origin of a cry
    (Donateacry, ESC-50, home), the category of a negative."""
    return f"cry:{origin}" if is_cry else f"neg:{category}"


def clip_weights(groups: Sequence[str], y: Sequence[int],
                 strata: Sequence[str] | None = None) -> np.ndarray:
    """Training weights: each group's clips share ``sqrt(n_clips)`` (a recording with many
    windows counts more than one clip, less than all of them), then both classes weigh the same.

    With ``strata`` (e.g. the category of a negative, the origin of a cry), each stratum of a
    class then weighs in proportion to the square root of its number of groups: a category of
    two recordings counts, but less than one of a hundred, and no single recording decides.

    Returns
    -------
    np.ndarray [shape=(n,), dtype=float32]
        Mean 1.
    """
    groups = np.asarray(groups)
    y = np.asarray(y)
    _, inv, counts = np.unique(groups, return_inverse=True, return_counts=True)
    w = 1.0 / np.sqrt(counts[inv])
    if strata is not None:
        strata = np.asarray(strata)
        for st in np.unique(strata):
            m = strata == st
            # group shares within the stratum sum to sqrt(n_groups of the stratum)
            w[m] *= np.sqrt(len(np.unique(groups[m]))) / w[m].sum()
    for c in (0, 1):
        m = y == c
        if m.any():
            w[m] *= 0.5 * len(y) / w[m].sum()
    return w.astype(np.float32)


def split_long(feats: list, *, max_patches: int = MAX_PATCHES) -> tuple[list, np.ndarray]:
    """Cut clips longer than ``max_patches`` patches into pieces.

    Returns
    -------
    (pieces, owner)
        ``owner[k]`` is the index of the clip piece ``k`` comes from.
    """
    pieces, owner = [], []
    for i, f in enumerate(feats):
        for a in range(0, max(len(f), 1), max_patches):
            pieces.append(f[a:a + max_patches])
            owner.append(i)
    return pieces, np.asarray(owner)


# ----------------------------------------------------------------------------- metrics
def weighted_f1(y, pred, w) -> float:
    """F1 of the positive class with per-item weights (group-weighted: 1 / clips in group)."""
    y, pred, w = np.asarray(y, bool), np.asarray(pred, bool), np.asarray(w, float)
    tp, fp, fn = w[y & pred].sum(), w[~y & pred].sum(), w[y & ~pred].sum()
    return float(2 * tp / (2 * tp + fp + fn)) if tp + fp + fn > 0 else 0.0


def weighted_logloss(y, p, w) -> float:
    p = np.clip(np.asarray(p, float), 1e-6, 1 - 1e-6)
    y = np.asarray(y, float)
    return float(np.average(-(y * np.log(p) + (1 - y) * np.log(1 - p)), weights=w))


THRESHOLDS = np.round(np.arange(0.05, 0.951, 0.025), 3)


def best_threshold(y, scores, w, *, grid: np.ndarray = THRESHOLDS) -> tuple[float, float]:
    """The threshold of ``grid`` with the highest weighted F1 (the middle one of ties).

    Returns
    -------
    (threshold, f1)
    """
    f1s = np.array([weighted_f1(y, np.asarray(scores) >= t, w) for t in grid])
    best = np.flatnonzero(f1s >= f1s.max() - 1e-12)
    k = int(best[len(best) // 2])
    return float(grid[k]), float(f1s[k])


def one_se_threshold(y, scores, w, groups, *, grid: np.ndarray = THRESHOLDS,
                     n_boot: int = 200, seed: int = 0) -> tuple[float, float, float]:
    """The highest threshold whose F1 is within one standard error of the best F1.

    The "one-standard-error rule" of model selection, turned towards fewer false alarms: the
    F1-best threshold of a small validation split is uncertain by about its standard error
    (a group bootstrap of the split), and among the thresholds that are as good within that
    uncertainty the most cautious one is taken — a detector that cries wolf is the failure
    users see first.

    Parameters
    ----------
    y, scores, w : array-like [shape=(n,)]
        Labels (0/1), scores and item weights.
    groups : array-like [shape=(n,)]
        Recording of each item (the bootstrap resamples recordings).

    Returns
    -------
    (threshold, f1 at it, standard error of the best F1)
    """
    y = np.asarray(y, bool)
    s = np.asarray(scores, float)
    w = np.asarray(w, float)
    t_best, f1_best = best_threshold(y, s, w, grid=grid)
    _, inv = np.unique(np.asarray(groups), return_inverse=True)
    n_g = int(inv.max()) + 1
    rng = np.random.default_rng(seed)
    pred = s >= t_best
    # per-group weighted tp / fp / fn, resampled
    per = np.zeros((n_g, 3))
    np.add.at(per, (inv, 0), w * (y & pred))
    np.add.at(per, (inv, 1), w * (~y & pred))
    np.add.at(per, (inv, 2), w * (y & ~pred))
    counts = np.stack([np.bincount(rng.integers(0, n_g, n_g), minlength=n_g)
                       for _ in range(n_boot)])
    tp, fp, fn = (counts @ per).T
    den = 2 * tp + fp + fn
    f1s = np.where(den > 0, 2 * tp / np.maximum(den, 1e-12), 0.0)
    se = float(f1s.std(ddof=1))
    ok = [t for t in grid if weighted_f1(y, s >= t, w) >= f1_best - se]
    t = float(max(ok))
    return t, weighted_f1(y, s >= t, w), se


def prevalence_threshold(y, scores, w, *, prevalence: float,
                         grid: np.ndarray = THRESHOLDS) -> tuple[float, float]:
    """The threshold with the best F1 at another prevalence of cries than the split's.

    Recall (on the cries) and the false-positive rate (on the negatives) are measured on the
    split; precision is then what they give when cries make up ``prevalence`` of the
    recordings: ``π R / (π R + (1 − π) FPR)``. A split whose cries are mostly Donateacry's can
    so choose a threshold for the rarer cries of other sources, assuming their recall is like
    the split's. Ties: the highest threshold.

    Parameters
    ----------
    y, scores, w : array-like [shape=(n,)]
        Labels (0/1), clip scores and item weights (per recording).
    prevalence : float
        In (0, 1).

    Returns
    -------
    (threshold, F1 at that prevalence)
    """
    if not 0.0 < prevalence < 1.0:
        raise ParameterError(f"prevalence must be in (0, 1), got {prevalence:g}")
    y = np.asarray(y, bool)
    s = np.asarray(scores, float)
    w = np.asarray(w, float)
    best = (float(grid[0]), -1.0)
    for t in np.asarray(grid, float):
        pred = s >= t
        r = np.average(pred[y], weights=w[y]) if y.any() else 0.0
        fpr = np.average(pred[~y], weights=w[~y]) if (~y).any() else 0.0
        tp, fp = prevalence * r, (1.0 - prevalence) * fpr
        f1 = 2 * tp / (tp + fp + prevalence) if tp > 0 else 0.0
        if f1 >= best[1] - 1e-12:
            best = (float(t), float(f1))
    return best


#: The fast onset rule needs one patch at least this far above the window rule's threshold.
ONSET_MARGIN = 0.2


def onset_threshold(y, window_scores, patch_max, w, *, threshold: float,
                    margin: float = ONSET_MARGIN, grid: np.ndarray = THRESHOLDS) -> float:
    """The threshold of the fast onset rule: one patch alone starts an episode above it.

    The window rule (a moving mean of patches at ``threshold``) needs about 1.9 s of audio;
    one patch needs 0.96 s, and one patch is more easily fooled by a short sound. So the single
    patch must be *well* above the threshold (by ``margin``, or the top of the grid), and the
    rule may only be as trigger-happy as the window rule: the lowest threshold of ``grid`` (at
    least ``threshold + margin``) at which the negatives' false-positive rate of "some patch ≥
    t" (weighted by ``w``) is no higher than that of the window rule at ``threshold``. Chosen on
    a validation split, never on the test clips. For false starts per hour of audio, weigh each
    clip the same (``w`` all ones): a recording cut into many clips is that much audio.

    Parameters
    ----------
    y : array-like [shape=(n,)]
        0 / 1 per validation clip.
    window_scores, patch_max : array-like [shape=(n,)]
        Each clip's score under the window rule (its highest moving mean) and its highest
        single patch.
    w : array-like [shape=(n,)]
        Item weights (per recording).
    threshold : float
        The window rule's threshold.

    Returns
    -------
    float
        1.0 when no threshold of the grid qualifies (the rule never fires).
    """
    y = np.asarray(y, bool)
    neg = ~y
    if not neg.any():
        return 1.0
    wn = np.asarray(w, float)[neg]
    fpr_window = np.average(np.asarray(window_scores, float)[neg] >= threshold, weights=wn)
    pm = np.asarray(patch_max, float)[neg]
    grid = np.asarray(grid, float)
    lowest = min(threshold + margin, float(grid.max()))
    for t in grid:
        if t >= lowest - 1e-12 and np.average(pm >= t, weights=wn) <= fpr_window + 1e-12:
            return float(t)
    return 1.0


# ----------------------------------------------------------------------------- training
class PatchTrainer:
    """Trains one recipe's patch network on cached features.

    Parameters
    ----------
    recipe : Recipe
    yamnet : keras.Model
        The float YAMNet (source of the anchor row and of the top blocks' initial weights).
    seed : int
    """

    def __init__(self, recipe: Recipe, yamnet, *, seed: int = 0) -> None:
        import keras

        from ..models.yamnet_cry import CRY_CLASS, build_head, build_top

        if recipe.kind not in ("head", "top"):
            raise ParameterError(f"recipe kind must be head or top, got {recipe.kind!r}")
        keras.utils.set_random_seed(seed)
        self.recipe = recipe
        self.seed = seed
        w_all, b_all = yamnet.get_layer("logits").get_weights()
        anchor = (w_all[:, CRY_CLASS], float(b_all[CRY_CLASS])) if recipe.anchor else None
        self.head = build_head(l2=0.0 if recipe.anchor else recipe.l2, init_from=anchor,
                               anchor_l2=recipe.l2 if recipe.anchor else 0.0)
        self.anchor = anchor
        if recipe.kind == "top":
            self.top = build_top(yamnet)
            x_in = keras.Input((6, 4, 512))
            emb, logits = self.top(x_in)
            self.patch_net = keras.Model(x_in, [self.head(emb), logits])
            self.feature_shape = (6, 4, 512)
        else:
            self.top = None
            self.patch_net = self.head
            self.feature_shape = (1024,)
        self._build_trainer()

    def _build_trainer(self) -> None:
        import keras

        from ..models.yamnet_cry import build_mil_trainer

        r = self.recipe
        self.trainer = build_mil_trainer(self.patch_net, feature_shape=self.feature_shape,
                                         window=r.window, distill_weight=r.distill)
        self.trainer.compile(optimizer=keras.optimizers.Adam(r.lr), loss="binary_crossentropy",
                             jit_compile=False)

    # -- batches
    def gates(self, teacher: list | None, lens: Sequence[int]) -> list:
        """Per-patch gates of clips (ones when the recipe has no gate)."""
        if self.recipe.gate is None:
            return [np.ones(n, np.float32) for n in lens]
        from ..models.yamnet_cry import teacher_gate

        if teacher is None:
            raise ParameterError("this recipe is gated: give YAMNet's logits")
        eps, gamma = self.recipe.gate
        return [teacher_gate(t, eps=eps, gamma=gamma).astype(np.float32) for t in teacher]

    def _batch(self, feats, gates, teacher, sel):
        longest = max(min(len(feats[i]), MAX_PATCHES) for i in sel)
        t = next(b for b in BUCKETS if b >= longest)
        x = np.zeros((len(sel), t, *self.feature_shape), np.float32)
        m = np.zeros((len(sel), t), np.float32)
        gg = np.ones((len(sel), t), np.float32)
        tt = np.zeros((len(sel), t, 521), np.float32) if teacher is not None else None
        for k, i in enumerate(sel):
            n = min(len(feats[i]), t)
            x[k, :n] = feats[i][:n]
            m[k, :n] = 1.0
            gg[k, :n] = gates[i][:n]
            if tt is not None:
                tt[k, :n] = teacher[i][:n]
        return [x, m, gg] + ([tt] if tt is not None else [])

    def fit(self, feats: list, y: np.ndarray, w: np.ndarray, *, epochs: int,
            teacher: list | None = None,
            on_epoch: Callable[[int], bool | None] | None = None,
            rng: np.random.Generator | None = None) -> None:
        """Train for ``epochs`` epochs on clips (each ≤ :data:`MAX_PATCHES` patches).

        Parameters
        ----------
        feats : list of np.ndarray [shape=(T_i, *feature_shape)]
        y : np.ndarray [shape=(n,)]
            0 / 1.
        w : np.ndarray [shape=(n,)]
            Sample weights.
        teacher : list of np.ndarray [shape=(T_i, 521)], optional
            YAMNet's logits (needed when the recipe distils).
        on_epoch : callable, optional
            Called with the epoch number (1-based) after each epoch; returning True stops.
        """
        if self.recipe.distill and teacher is None:
            raise ParameterError("this recipe distils: give the teacher logits")
        lens = [len(f) for f in feats]
        gates = (self.gates(teacher, lens) if self.recipe.gate_in_training
                 else [np.ones(n, np.float32) for n in lens])
        rng = rng or np.random.default_rng(self.seed)
        y = np.asarray(y, np.float32)
        w = np.asarray(w, np.float32)
        bs = self.recipe.batch
        lens = np.array([min(len(f), MAX_PATCHES) for f in feats])
        bucket = np.searchsorted(np.asarray(BUCKETS), lens)
        for ep in range(1, epochs + 1):
            # batches of one length bucket (few distinct shapes: few graph traces), in random order
            batches = []
            for b in np.unique(bucket):
                ids = rng.permutation(np.flatnonzero(bucket == b))
                batches += [ids[a:a + bs] for a in range(0, len(ids), bs)]
            for j in rng.permutation(len(batches)):
                sel = batches[j]
                self.trainer.train_on_batch(self._batch(feats, gates, teacher if
                                                        self.recipe.distill else None, sel),
                                            y[sel], sample_weight=w[sel])
            if on_epoch is not None and on_epoch(ep):
                break

    def patch_probabilities(self, feats: list, teacher: list | None = None, *,
                            batch_patches: int = 2048) -> list:
        """Per-patch cry probabilities of clips (any length), gated when the recipe is.

        Parameters
        ----------
        feats : list of np.ndarray [shape=(T_i, *feature_shape)]
        teacher : list of np.ndarray [shape=(T_i, 521)], optional
            YAMNet's logits (needed by gated recipes).

        Returns
        -------
        list of np.ndarray [shape=(T_i,)]
        """
        lens = [len(f) for f in feats]
        flat = np.concatenate([np.asarray(f, np.float32) for f in feats]) if feats else \
            np.zeros((0, *self.feature_shape), np.float32)
        out = []
        for a in range(0, len(flat), batch_patches):
            r = self.patch_net(flat[a:a + batch_patches], training=False)
            r = r[0] if isinstance(r, list | tuple) else r
            out.append(np.asarray(r).reshape(-1))
        z = np.concatenate(out) if out else np.zeros(0)
        p = 1.0 / (1.0 + np.exp(-z))
        gates = self.gates(teacher, lens)
        return [q * g for q, g in zip(np.split(p, np.cumsum(lens)[:-1]), gates, strict=True)]
