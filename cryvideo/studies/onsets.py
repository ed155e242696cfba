"""How soon ``listen`` announces held-out real cries, misses counted, and how often it starts on
held-out real negatives (issue 23, "decide sooner").

Everything goes through :class:`~cryvideo.detection.live.LiveDetector`, the state machine of
``cryvideo listen``, fed 0.1 s blocks, with each cross-validation fold's own detector (YAMNet +
the fold's head, as a float32 TFLite file, its threshold and onset threshold chosen inside the
training folds: :func:`cryvideo.studies.detection_cv.run_detection_cv`) on that fold's test
clips only:

- **onsets** — each held-out cry, after a held-out negative clip of the same fold (drawn with a
  generator seeded by seed, fold and clip). The onset is the background's length plus the
  cry's first 10 ms frame within 20 dB of its loudest (:func:`energy_onset`). The latency is
  the stream time at the end of the 0.1 s block whose push emitted ``cry started``, minus the
  onset (the wall time of that push is kept apart). See :func:`score_onset` for false starts,
  early starts and misses;
- **false starts** — every held-out negative clip of the fold, one after another (corpus
  order), through one detector: each ``cry started`` is a false start, charged to the clip its
  estimated onset falls in.

Both are run with the window rule alone (``onset_threshold`` 1: off) and with the fold's onset
rule, on the same streams. The pure accounting (:func:`score_onset`, :func:`summarize_onsets`,
:func:`false_start_rates`, :func:`nearest_rank`) is separate from the streaming, so it can be
tested on scripted events.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from types import SimpleNamespace

import numpy as np

__all__ = ["energy_onset", "score_onset", "summarize_onsets", "false_start_rates",
           "nearest_rank", "FoldDetector", "fold_detector", "stream_events", "run_fold",
           "RULE_RUNS", "LIMITS", "BLOCK"]

#: Samples per push (0.1 s at 16 kHz), as listen's sources give them.
BLOCK = 1600
#: Seconds within which an onset counts as announced in the report.
LIMITS = (1.0, 1.5, 2.0)
#: The two runs on every stream: the window rule alone, and the window rule with the fold's
#: onset rule (``None``: the detector's own onset threshold, as a card gives it).
RULE_RUNS = {"window": 1.0, "onset": None}
SR = 16000


def energy_onset(y: np.ndarray, *, sr: int = SR) -> float:
    """Seconds to the first 10 ms frame within 20 dB of the loudest frame of ``y``."""
    hop = sr // 100
    fr = np.asarray(y)[: len(y) // hop * hop].reshape(-1, hop)
    rms = np.sqrt((fr.astype(np.float64) ** 2).mean(axis=1) + 1e-12)
    return float(np.argmax(rms >= 0.1 * rms.max()) * hop / sr)


# -- accounting (pure) ---------------------------------------------------------------------------
def score_onset(events: Sequence[dict], *, cry_start: float, onset: float,
                cry_end: float) -> dict:
    """One onset stream's outcome from its events.

    Parameters
    ----------
    events : sequence of dict
        The stream's events in order: ``event`` ("cry started" / "cry stopped"), ``episode``,
        ``detected_at`` (stream seconds at the end of the push that emitted it), ``rule``, and
        ``processing_s`` (wall time of that push).
    cry_start, onset, cry_end : float
        Stream seconds where the cry clip begins, its onset (``cry_start`` + the energy onset)
        and where it (and the stream) ends.

    Returns
    -------
    dict
        ``false_starts``: starts decided before the cry began (on the background);
        ``found``: a start decided between the cry's beginning and its end; ``latency_s``:
        that start's ``detected_at`` minus the onset (None when not found; negative when the
        quiet beginning of the cry, before its energy onset, decided it: ``early``);
        ``processing_s`` and ``rule`` of that start; ``open_at_cry``: a start on the
        background whose episode was still open when the cry began (a miss then comes from
        it: listen does not start an open episode again).

    Examples
    --------
    >>> ev = [{"event": "cry started", "episode": 1, "detected_at": 6.1, "rule": "onset",
    ...        "processing_s": 0.004}]
    >>> r = score_onset(ev, cry_start=5.0, onset=5.2, cry_end=12.0)
    >>> r["found"], round(r["latency_s"], 3), r["rule"]
    (True, 0.9, 'onset')
    """
    starts = [e for e in events if e["event"] == "cry started"]
    false = [e for e in starts if e["detected_at"] < cry_start]
    hits = [e for e in starts if cry_start <= e["detected_at"] <= cry_end]
    open_eps = {e["episode"] for e in false}
    for e in events:
        if e["event"] == "cry stopped" and e["detected_at"] <= cry_start:
            open_eps.discard(e["episode"])
    out = {"false_starts": len(false), "found": bool(hits), "latency_s": None,
           "early": False, "processing_s": None, "rule": None,
           "open_at_cry": bool(open_eps)}
    if hits:
        h = hits[0]
        lat = float(h["detected_at"]) - onset
        out.update(latency_s=lat, early=lat < 0, processing_s=h.get("processing_s"),
                   rule=h.get("rule"))
    return out


def nearest_rank(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile by nearest rank (the ``ceil(q/100 · n)``-th smallest value):
    with misses as ``inf``, the 95th is finite exactly when at most 5 % are missed."""
    v = np.sort(np.asarray(values, float))
    if not v.size:
        return float("nan")
    return float(v[max(0, math.ceil(q / 100 * v.size) - 1)])


def summarize_onsets(rows: Sequence[dict], *, limits: Sequence[float] = LIMITS,
                     n_boot: int = 2000) -> dict:
    """Shares of onsets announced within each limit (misses are failures), with 95 %
    group-bootstrap intervals over recordings, and the latency percentiles with misses counted
    as infinitely late.

    Parameters
    ----------
    rows : sequence of dict
        :func:`score_onset` results with ``group`` (the cry's recording).

    Returns
    -------
    dict
        ``onsets``, ``found``, ``missed``, ``missed_while_false_episode_open``, ``early``,
        ``false_starts_in_background``, ``within`` (limit → Interval dict, as
        ``"1.5"``), ``median_s`` and ``p95_s`` (None for infinite), ``median_found_s``,
        ``processing_median_ms``, ``processing_max_ms``, ``by_rule`` (starts per rule).

    Examples
    --------
    >>> rows = [{"found": True, "latency_s": 0.9, "group": "a", "false_starts": 0},
    ...         {"found": False, "latency_s": None, "group": "b", "false_starts": 1}]
    >>> s = summarize_onsets(rows, n_boot=200)
    >>> s["missed"], s["within"]["1.5"]["estimate"], s["p95_s"]
    (1, 0.5, None)
    """
    from ..evaluation.intervals import group_bootstrap

    lat = np.array([r["latency_s"] if r["found"] else np.inf for r in rows], float)
    groups = np.array([r["group"] for r in rows])
    out: dict = {"onsets": len(rows), "found": int(np.isfinite(lat).sum()),
                 "missed": int(np.isinf(lat).sum()),
                 "missed_while_false_episode_open": sum(
                     1 for r in rows if not r["found"] and r.get("open_at_cry")),
                 "early": sum(1 for r in rows if r.get("early")),
                 "false_starts_in_background": sum(int(r["false_starts"]) for r in rows),
                 "groups": len(set(groups.tolist())), "within": {}}
    if not rows:
        return out
    for lim in limits:
        out["within"][f"{lim:g}"] = group_bootstrap(
            "recall", np.ones(len(rows), int), (lat <= lim).astype(int), groups,
            n_boot=n_boot, unit="recordings",
            of=f"held-out cry onsets announced within {lim:g} s, misses counted").to_dict()

    def finite(x):
        return None if not math.isfinite(x) else round(x, 3)

    found = lat[np.isfinite(lat)]
    out["median_s"] = finite(float(np.median(lat)))
    out["p95_s"] = finite(nearest_rank(lat, 95))
    out["median_found_s"] = round(float(np.median(found)), 3) if found.size else None
    proc = [r["processing_s"] for r in rows if r["found"] and r.get("processing_s") is not None]
    out["processing_median_ms"] = round(1000 * float(np.median(proc)), 2) if proc else None
    out["processing_max_ms"] = round(1000 * float(np.max(proc)), 2) if proc else None
    by_rule: dict[str, int] = {}
    for r in rows:
        if r["found"]:
            by_rule[str(r.get("rule"))] = by_rule.get(str(r.get("rule")), 0) + 1
    out["by_rule"] = by_rule
    return out


def false_start_rates(starts: Sequence[float], spans: Sequence[tuple[float, float]],
                      categories: Sequence[str]) -> dict:
    """False starts per hour on a stream of negative clips, overall and per category.

    Parameters
    ----------
    starts : sequence of float
        Estimated onset (``stream_time``) of each ``cry started`` event.
    spans : sequence of (float, float)
        Each clip's (start, end) in the stream, in order, back to back.
    categories : sequence of str
        Each clip's category.

    Returns
    -------
    dict
        ``false_starts``, ``hours``, ``per_hour``, ``by_category`` (category →
        ``{"false_starts", "hours", "per_hour", "clips"}``) and ``owners`` (the clip, by
        position, each start is charged to).

    Examples
    --------
    >>> r = false_start_rates([5.5], [(0.0, 5.0), (5.0, 10.0)], ["music", "speech"])
    >>> r["false_starts"], r["by_category"]["speech"]["false_starts"], r["per_hour"]
    (1, 1, 360.0)
    """
    a = np.array([s for s, _ in spans], float)
    dur = np.array([e - s for s, e in spans], float)
    cats = np.asarray(categories)
    owner = np.clip(np.searchsorted(a, np.asarray(starts, float), side="right") - 1, 0,
                    max(0, len(a) - 1))
    hours = float(dur.sum()) / 3600

    def rate(n, h):
        return round(n / h, 2) if h > 0 else None

    by = {}
    for c in sorted(set(cats.tolist())):
        sel = cats == c
        n = int(np.isin(owner, np.flatnonzero(sel)).sum()) if len(starts) else 0
        h = float(dur[sel].sum()) / 3600
        by[c] = {"false_starts": n, "hours": round(h, 4), "per_hour": rate(n, h),
                 "clips": int(sel.sum())}
    return {"false_starts": len(starts), "hours": round(hours, 4),
            "per_hour": rate(len(starts), hours), "by_category": by,
            "owners": owner.astype(int).tolist()}


# -- the fold's detector and its streams -----------------------------------------------------------
@dataclasses.dataclass
class FoldDetector:
    """What :class:`~cryvideo.detection.live.LiveDetector` needs of a detector, for one CV
    fold's model: ``model`` (patches → probabilities), ``window``, ``threshold`` and
    ``onset_threshold`` (the fold's, as a card would give them)."""

    model: Callable[[np.ndarray], np.ndarray]
    threshold: float
    onset_threshold: float | None
    window: int
    name: str = "fold detector"

    def __post_init__(self) -> None:
        from ..detection.frontend import YAMNET_FRONTEND

        self.frontend = YAMNET_FRONTEND
        self.card = SimpleNamespace(name=self.name)


def fold_detector(yamnet, choice: dict, recipe: dict, *, name: str = "fold detector"
                  ) -> FoldDetector:
    """The fold's detector from its CV record: YAMNet + its linear head (``choice["head"]``)
    with the recipe's gate, as a float32 TFLite file run one patch per call (as listen runs).

    Parameters
    ----------
    yamnet : keras.Model
        :func:`cryvideo.models.yamnet.load_yamnet`.
    choice : dict
        ``result["seeds"][seed]["folds"][k]["recipes"][name]`` of the CV: ``head``,
        ``threshold``, ``onset_threshold``.
    recipe : dict
        The recipe (``gate``, ``window``).
    """
    from ..models.yamnet_cry import build_head, build_patch_detector
    from ..training.detector_export import TFLitePatchModel, to_tflite

    head = build_head(init_from=(np.asarray(choice["head"]["kernel"], np.float32),
                                 float(choice["head"]["bias"])))
    gate = recipe.get("gate")
    model = build_patch_detector(yamnet, head, gate=None if gate is None else tuple(gate))
    runner = TFLitePatchModel(to_tflite(model), num_threads=1, batch=1)
    onset = choice.get("onset_threshold")
    return FoldDetector(model=runner, threshold=float(choice["threshold"]),
                        onset_threshold=None if onset is None else float(onset),
                        window=int(recipe.get("window", 3)), name=name)


def stream_events(det, y: np.ndarray, *, onset_threshold: float | None,
                  stop_after: float | None = None, block: int = BLOCK) -> list[dict]:
    """Push ``y`` through a fresh LiveDetector in blocks; its events, each with the wall time
    of the push that emitted it (``processing_s``)."""
    from ..detection.live import STOP_AFTER, LiveDetector

    live = LiveDetector(det, onset_threshold=onset_threshold,
                        stop_after=STOP_AFTER if stop_after is None else stop_after,
                        clock=lambda: 0.0)
    out = []

    def keep(evs, dt):
        out.extend({"event": e.event, "episode": e.episode, "stream_time": e.stream_time,
                    "detected_at": e.detected_at, "rule": e.rule, "probability": e.probability,
                    "processing_s": dt} for e in evs)

    for a in range(0, len(y), block):
        t0 = time.perf_counter()
        evs = live.push(y[a:a + block])
        keep(evs, time.perf_counter() - t0)
    keep(live.finish(), 0.0)
    return out


def run_fold(det, waves: Sequence[np.ndarray], clips: Sequence[dict], test: Sequence[int], *,
             seed: int, fold: int, log: Callable[[str], None] = print) -> dict:
    """Onsets and false starts of one fold's detector on its held-out clips, both rules.

    Parameters
    ----------
    det : FoldDetector
    waves : sequence of np.ndarray
        16 kHz waveforms of the whole corpus (only the ``test`` ones are read).
    clips : sequence of dict
        The corpus's clips (``label``, ``category``, ``group``, ``origin``, ``path``).
    test : sequence of int
        The fold's test clips.

    Returns
    -------
    dict
        ``onsets`` (one row per held-out cry: clip, group, origin, background clip, times, and
        per rule the :func:`score_onset` result), ``negatives`` (per rule:
        :func:`false_start_rates` and each false start's clip and category), ``seconds``.
    """
    t0 = time.time()
    test = [int(i) for i in test]
    cries = [i for i in test if clips[i]["label"] == "cry"]
    negs = [i for i in test if clips[i]["label"] != "cry"]
    if not negs:
        raise ValueError(f"fold {fold} holds no negative clip")
    rows = []
    for i in cries:
        j = int(np.random.default_rng([seed, fold, i]).choice(negs))
        bg, cry = np.asarray(waves[j], np.float32), np.asarray(waves[i], np.float32)
        y = np.concatenate([bg, cry])
        cry_start = len(bg) / SR
        onset = cry_start + energy_onset(cry)
        row = {"clip": i, "group": clips[i]["group"], "origin": clips[i]["origin"],
               "background": j, "background_category": clips[j]["category"],
               "cry_start": round(cry_start, 4), "onset": round(onset, 4),
               "cry_end": round(len(y) / SR, 4), "rules": {}}
        for rule, thr in RULE_RUNS.items():
            ev = stream_events(det, y, onset_threshold=thr)
            row["rules"][rule] = score_onset(ev, cry_start=cry_start, onset=onset,
                                             cry_end=len(y) / SR)
        rows.append(row)
    t1 = time.time()
    y = np.concatenate([np.asarray(waves[j], np.float32) for j in negs])
    edges = np.concatenate([[0], np.cumsum([len(waves[j]) for j in negs])]) / SR
    spans = list(zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True))
    cats = [clips[j]["category"] for j in negs]
    negatives = {}
    for rule, thr in RULE_RUNS.items():
        starts = [e for e in stream_events(det, y, onset_threshold=thr)
                  if e["event"] == "cry started"]
        rates = false_start_rates([e["stream_time"] for e in starts], spans, cats)
        rates["starts"] = [{"clip": negs[o], "category": cats[o], "rule": e["rule"],
                            "probability": round(float(e["probability"]), 4),
                            "stream_time": round(e["stream_time"], 3)}
                           for e, o in zip(starts, rates.pop("owners"), strict=True)]
        negatives[rule] = rates
    t2 = time.time()
    log(f"seed {seed} fold {fold}: {len(cries)} onset streams in {t1 - t0:.0f} s, "
        f"{len(negs)} negatives ({edges[-1] / 60:.1f} min) in {t2 - t1:.0f} s")
    return {"seed": seed, "fold": fold, "threshold": det.threshold,
            "onset_threshold": det.onset_threshold, "window": det.window,
            "n_cries": len(cries), "n_negatives": len(negs), "onsets": rows,
            "negatives": negatives, "seconds": round(t2 - t0, 1),
            "audio_seconds": round(float(sum(r["cry_end"] for r in rows) * len(RULE_RUNS)
                                         + edges[-1] * len(RULE_RUNS)), 1)}
