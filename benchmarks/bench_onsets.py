"""``cryvideo listen`` on held-out real audio: how soon cry onsets are announced (misses counted
as failures) and how many false starts an hour of real negatives gives, with the window rule
alone and with the fast onset rule (issue 23, "decide sooner").

Each cross-validation fold's own detector (YAMNet + the fold's head from the CV result, as a
float32 TFLite file; the fold's threshold and onset threshold, chosen inside its training
folds) runs through :class:`cryvideo.detection.live.LiveDetector`, listen's own state machine,
in 0.1 s blocks, on that fold's test clips only — never on a clip its model trained on. Method:
:mod:`cryvideo.studies.onsets`.

Input: the CV result (``benchmarks/results/detection_round2/detection_cv.json`` by default), or
a folder of the CV's fold checkpoints (``seed{S}_fold{K}.json``; the clips then come from the
corpus in ``../shared/data``), measuring the folds that are there. Each (seed, fold, recipe) is
saved under ``--parts`` as it finishes, and a rerun takes it from there.

Usage::

    nice -n 15 python benchmarks/bench_onsets.py [--cv FILE_OR_FOLDER] [--seeds 10]
        [--recipes gated_mix] [--folds 0 1] [--n-boot 2000]

Writes ``benchmarks/results/onsets.json`` and ``onsets.md`` (``--out`` for others).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from common import REPO, RESULTS, loadavg, machine

from cryvideo.detection.live import STOP_AFTER
from cryvideo.io import write_text_atomic
from cryvideo.studies import onsets as O

DEFAULT_CV = RESULTS / "detection_round2" / "detection_cv.json"
#: The issue's targets.
TARGET_SHARE, TARGET_WITHIN, TARGET_FALSE_PER_HOUR = 0.95, 1.5, 10.0
#: Changes whenever the measurement changes, so that saved parts of another method are not
#: taken.
METHOD = "onsets-v1"
RULE_WORDS = {"window": "window rule alone", "onset": "window + onset rule"}


# -- input -----------------------------------------------------------------------------------------
def load_cv(path: Path, data_root=None) -> dict:
    """The clips, recipes and measured folds of a CV result file or a checkpoint folder.

    Returns
    -------
    dict
        ``clips`` (list of dict), ``recipes`` (name → recipe dict), ``ship``, ``n_splits``,
        ``kind`` and ``folds``: a list of ``{"seed", "fold", "test", "info"}``.
    """
    if path.is_dir():
        import dataclasses

        from cryvideo.data.cry_corpus import load_detection_corpus
        from cryvideo.training.yamnet_cry import RECIPES

        files = sorted(path.glob("seed*_fold*.json"))
        if not files:
            sys.exit(f"bench_onsets: no seed*_fold*.json checkpoint in {path}")
        clips = [dataclasses.asdict(c) for c in load_detection_corpus(data_root)]
        folds = []
        for f in files:
            doc = json.loads(f.read_text(encoding="utf-8"))
            seed = int(f.stem.split("_")[0].removeprefix("seed"))
            folds.append({"seed": seed, "fold": int(doc["info"]["fold"]), "test": doc["test"],
                          "info": doc["info"]})
        names = {n for fd in folds for n in fd["info"]["recipes"]}
        return {"clips": clips, "recipes": {n: RECIPES[n].to_dict() for n in names},
                "ship": None, "n_splits": None, "kind": "checkpoints", "folds": folds}
    res = json.loads(path.read_text(encoding="utf-8"))
    folds = []
    for seed, r in res["seeds"].items():
        fold_of = np.asarray(r["fold"])
        for info in r["folds"]:
            k = int(info["fold"])
            folds.append({"seed": int(seed), "fold": k,
                          "test": np.flatnonzero(fold_of == k).tolist(), "info": info})
    return {"clips": res["clips"], "recipes": res["recipes"], "ship": res.get("ship"),
            "n_splits": res.get("n_splits"), "kind": "result", "folds": folds}


def part_file(parts: Path, fd: dict, name: str, recipe: dict) -> Path:
    """Where one (seed, fold, recipe) measurement is kept: named by everything it depends on
    (the fold's model and decision, its test clips, the method)."""
    choice = fd["info"]["recipes"][name]
    key = hashlib.sha256(json.dumps(
        {"method": METHOD, "head": choice["head"], "threshold": choice["threshold"],
         "onset_threshold": choice.get("onset_threshold"), "gate": recipe.get("gate"),
         "window": recipe.get("window", 3), "test": fd["test"], "block": O.BLOCK,
         "stop_after": STOP_AFTER}, sort_keys=True, default=float).encode()).hexdigest()[:16]
    return parts / f"seed{fd['seed']}_fold{fd['fold']}_{name}_{key}.json"


# -- summary ---------------------------------------------------------------------------------------
def summarize(parts: list[dict], *, n_boot: int) -> dict:
    """Per recipe and rule: the onsets pooled over the measured seeds and folds (overall and
    per cry origin) and the false starts pooled over the negatives' hours."""
    out: dict = {}
    for name in dict.fromkeys(p["recipe"] for p in parts):
        mine = [p for p in parts if p["recipe"] == name]
        out[name] = {}
        for rule in O.RULE_RUNS:
            rows = [{**r["rules"][rule], "group": r["group"], "origin": r["origin"]}
                    for p in mine for r in p["onsets"]]
            s = {"onsets": O.summarize_onsets(rows, n_boot=n_boot), "by_origin": {}}
            for origin in sorted({r["origin"] for r in rows}):
                s["by_origin"][origin] = O.summarize_onsets(
                    [r for r in rows if r["origin"] == origin], n_boot=n_boot)
            neg = [p["negatives"][rule] for p in mine]
            hours = sum(n["hours"] for n in neg)
            n_false = sum(n["false_starts"] for n in neg)
            by: dict = {}
            for n in neg:
                for c, v in n["by_category"].items():
                    b = by.setdefault(c, {"false_starts": 0, "hours": 0.0, "clips": 0})
                    b["false_starts"] += v["false_starts"]
                    b["hours"] += v["hours"]
                    b["clips"] += v["clips"]
            for b in by.values():
                b["per_hour"] = round(b["false_starts"] / b["hours"], 2) if b["hours"] else None
                b["hours"] = round(b["hours"], 4)
            s["negatives"] = {"false_starts": n_false, "hours": round(hours, 4),
                              "per_hour": round(n_false / hours, 2) if hours else None,
                              "by_category": by}
            share = s["onsets"]["within"].get(f"{TARGET_WITHIN:g}", {}).get("estimate")
            s["targets"] = {
                "onsets_within_1.5_s": {"value": share, "target": TARGET_SHARE,
                                        "met": share is not None and share >= TARGET_SHARE},
                "false_starts_per_hour": {"value": s["negatives"]["per_hour"],
                                          "target": TARGET_FALSE_PER_HOUR,
                                          "met": s["negatives"]["per_hour"] is not None and
                                          s["negatives"]["per_hour"] <= TARGET_FALSE_PER_HOUR}}
            out[name][rule] = s
    return out


# -- report ----------------------------------------------------------------------------------------
def _pct(node) -> str:
    from cryvideo.evaluation.intervals import interval_text

    return interval_text(node, unit="recording") + " %"


def _sec(v) -> str:
    return "∞" if v is None else f"{v:.2f} s"


def report(res: dict) -> str:
    m = res["machine"]
    cv = res["cv"]
    folds = res["folds_measured"]
    lines = ["# `cryvideo listen` on held-out real audio: onsets and false starts", "",
             f"{m['date']}, {m['cpu']}, {m['cores']} cores (shared: load average before "
             f"{res['load_before']}, after {res['load_after']}). "
             f"`{res['command']}`; method in `benchmarks/bench_onsets.py` and "
             "`cryvideo/studies/onsets.py`.", "",
             f"CV: `{cv['path']}` ({cv['kind']}, sha256 {cv['sha256'][:12]}…); seeds and folds "
             "measured: " + "; ".join(
                 f"seed {s}: " + (f"{len(ks)} of {cv['n_splits']} folds" if cv.get("n_splits")
                                  else f"{len(ks)} fold(s)") + f" ({', '.join(map(str, ks))})"
                 for s, ks in folds.items()) + ". Recipes: " + ", ".join(
                 f"`{n}`" + (" (the CV's `--ship-recipe`)" if n == cv.get("ship") else "")
                 for n in res["summary"]) + ".", "",
             "Each fold's own detector (YAMNet + the fold's head, float32 TFLite; the fold's "
             "threshold and onset threshold, both chosen inside its training folds) runs "
             "through `LiveDetector`, listen's state machine, in 0.1 s blocks, on that fold's "
             "test clips only. **Onsets**: each held-out real cry after one held-out negative "
             "clip of the same fold (drawn with a generator seeded by seed, fold and clip); "
             "onset = the background's length + the cry's first 10 ms frame within 20 dB of "
             "its loudest; latency = stream time at the end of the block whose push emitted "
             "`cry started`, minus the onset. A start decided on the background is a false "
             "start; if its episode is still open when the cry begins, listen cannot start "
             "again and the cry is a miss. A start decided after the cry began but before its "
             "energy onset (its quieter beginning) is *early* (negative latency, counted as "
             "announced). No start by the end of the cry: **miss**, counted as a failure in "
             "every share and as infinitely late in the median and p95 (∞ when more than 5 % "
             "are missed). **False starts**: every held-out negative clip of the fold, one "
             "after another, through one detector; each `cry started` is a false start. Both "
             "rules on the same streams: the window rule alone (`--onset-threshold 1`) and "
             "with the fold's onset rule. Intervals: 95 % group bootstrap over recordings.",
             ""]
    lines += ["## Targets of issue 23", ""]
    for name, rules in res["summary"].items():
        for rule, s in rules.items():
            t = s["targets"]
            a, b = t["onsets_within_1.5_s"], t["false_starts_per_hour"]
            lines.append(
                f"- `{name}`, {RULE_WORDS[rule]}: "
                f"{_pct(s['onsets']['within']['1.5'])} of {s['onsets']['onsets']} held-out "
                f"cry onsets announced within 1.5 s, misses counted (target ≥ 95 %): "
                f"**{'met' if a['met'] else 'not met'}**; "
                f"{b['value']:.1f} false starts per hour of held-out real negatives "
                f"({s['negatives']['false_starts']} in {60 * s['negatives']['hours']:.0f} min; "
                f"target ≤ 10): **{'met' if b['met'] else 'not met'}**.")
    lines += ["", "## Onsets (misses counted as failures)", "",
              "| recipe | rule | onsets (recordings) | within 1.0 s | within 1.5 s | "
              "within 2.0 s | median | p95 | missed (an earlier false episode open) | early | "
              "false starts on the background |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, rules in res["summary"].items():
        for rule, s in rules.items():
            o = s["onsets"]
            lines.append(
                f"| {name} | {rule} | {o['onsets']} ({o['groups']}) | "
                f"{_pct(o['within']['1'])} | **{_pct(o['within']['1.5'])}** | "
                f"{_pct(o['within']['2'])} | {_sec(o['median_s'])} | **{_sec(o['p95_s'])}** | "
                f"{o['missed']} ({o['missed_while_false_episode_open']}) | {o['early']} | "
                f"{o['false_starts_in_background']} |")
    lines += ["", "Which rule announced the onsets found, and the processing of the push that "
              "announced them (model and front end, this shared machine), median / max: " +
              "; ".join(f"`{n}` {r}: " + ", ".join(f"{k} {v}" for k, v in
                                                   s["onsets"]["by_rule"].items()) +
                        f" ({s['onsets']['processing_median_ms']} / "
                        f"{s['onsets']['processing_max_ms']} ms)"
                        for n, rules in res["summary"].items() for r, s in rules.items()) + ".",
              "", "### By origin of the cry", "",
              "| recipe | rule | origin | onsets (recordings) | within 1.0 s | within 1.5 s | "
              "within 2.0 s | median | p95 | missed |", "|---|---|---|---|---|---|---|---|---|---|"]
    for name, rules in res["summary"].items():
        for rule, s in rules.items():
            for origin, o in s["by_origin"].items():
                lines.append(
                    f"| {name} | {rule} | {origin} | {o['onsets']} ({o['groups']}) | "
                    f"{_pct(o['within']['1'])} | {_pct(o['within']['1.5'])} | "
                    f"{_pct(o['within']['2'])} | {_sec(o['median_s'])} | {_sec(o['p95_s'])} | "
                    f"{o['missed']} |")
    runs = [(n, r) for n, rules in res["summary"].items() for r in rules]
    lines += ["", "## False starts per hour of held-out real negatives", "",
              "| category | clips | minutes | " + " | ".join(f"{n}, {r}" for n, r in runs) + " |",
              "|---|---|---|" + "---|" * len(runs)]
    first = res["summary"][runs[0][0]][runs[0][1]]["negatives"]
    cats = sorted(first["by_category"])
    for c in cats:
        b0 = first["by_category"][c]
        cells = []
        for n, r in runs:
            b = res["summary"][n][r]["negatives"]["by_category"][c]
            cells.append(f"{b['false_starts']} ({b['per_hour']:.0f}/h)")
        lines.append(f"| {c} | {b0['clips']} | {60 * b0['hours']:.1f} | " + " | ".join(cells)
                     + " |")
    cells = [f"**{res['summary'][n][r]['negatives']['false_starts']} "
             f"({res['summary'][n][r]['negatives']['per_hour']:.1f}/h)**" for n, r in runs]
    lines.append(f"| **all** | {sum(first['by_category'][c]['clips'] for c in cats)} | "
                 f"{60 * first['hours']:.1f} | " + " | ".join(cells) + " |")
    lines += ["", "## Per fold", "",
              "| recipe | seed | fold | threshold | onset threshold | onsets found: window, "
              "onset rule (of) | false starts: window, onset rule (minutes) | seconds |",
              "|---|---|---|---|---|---|---|---|"]
    for p in res["parts"]:
        found = [sum(r["rules"][rule]["found"] for r in p["onsets"]) for rule in O.RULE_RUNS]
        fs = [p["negatives"][rule]["false_starts"] for rule in O.RULE_RUNS]
        ot = p["onset_threshold"]
        lines.append(f"| {p['recipe']} | {p['seed']} | {p['fold']} | {p['threshold']:.3f} | "
                     f"{'—' if ot is None else f'{ot:.3f}'} | {found[0]}, {found[1]} "
                     f"({len(p['onsets'])}) | {fs[0]}, {fs[1]} "
                     f"({60 * p['negatives']['window']['hours']:.1f}) | {p['seconds']:.0f} |")
    lines.append("")
    return "\n".join(lines)


# -- main ------------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    ap.add_argument("--cv", type=Path, default=DEFAULT_CV,
                    help="CV result JSON, or a folder of its fold checkpoints")
    ap.add_argument("--seeds", type=int, nargs="*",
                    help="seeds to measure (default: the first in the file)")
    ap.add_argument("--recipes", nargs="*",
                    help="recipes (default: every recipe of the file with head weights)")
    ap.add_argument("--folds", type=int, nargs="*", help="only these folds (a quick look)")
    ap.add_argument("--n-boot", type=int, default=2000)
    ap.add_argument("--data", type=Path, default=None,
                    help="the data folder of ../shared (for a checkpoint folder)")
    ap.add_argument("--cache-dir", type=Path, default=None,
                    help="where decode_corpus keeps the decoded corpus (default: "
                    "$CRYVIDEO_CACHE_DIR/detection)")
    ap.add_argument("--parts", type=Path, default=None,
                    help="where each finished (seed, fold, recipe) is kept (default: "
                    "$CRYVIDEO_CACHE_DIR/bench_onsets)")
    ap.add_argument("--out", type=Path, default=RESULTS / "onsets",
                    help="the result files without their suffix (default: "
                    "benchmarks/results/onsets)")
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite the .md from the .json")
    args = ap.parse_args()
    out_json, out_md = (args.out.with_name(args.out.name + s) for s in (".json", ".md"))
    if args.report_only:
        write_text_atomic(out_md, report(json.loads(out_json.read_text(encoding="utf-8"))))
        print(out_md.read_text(encoding="utf-8"))
        return
    from cryvideo import environment

    if not args.cv.exists():
        sys.exit(f"bench_onsets: {args.cv}: no such file or folder")
    load_before = loadavg()
    cv = load_cv(args.cv, args.data)
    seeds_in = list(dict.fromkeys(fd["seed"] for fd in cv["folds"]))
    seeds = args.seeds or seeds_in[:1]
    if set(seeds) - set(seeds_in):
        sys.exit(f"bench_onsets: seed(s) {sorted(set(seeds) - set(seeds_in))} not in {args.cv}")
    folds = [fd for fd in cv["folds"] if fd["seed"] in seeds and
             (args.folds is None or fd["fold"] in args.folds)]
    with_head = [n for n in cv["recipes"] if all("head" in fd["info"]["recipes"].get(n, {})
                                                 for fd in folds)]
    recipes = args.recipes or with_head
    if set(recipes) - set(with_head):
        sys.exit(f"bench_onsets: recipe(s) {sorted(set(recipes) - set(with_head))} have no "
                 f"head weights in every measured fold (those that do: {with_head})")
    if not folds or not recipes:
        sys.exit("bench_onsets: nothing to measure")
    parts_dir = args.parts or environment.cache_dir() / "bench_onsets"
    parts_dir.mkdir(parents=True, exist_ok=True)
    todo = [(fd, n) for fd in folds for n in recipes]
    print(f"{len(todo)} (seed, fold, recipe) runs; parts in {parts_dir}", flush=True)

    ctx: dict = {}

    def waves():
        if "waves" not in ctx:
            from cryvideo.data.cry_corpus import DetectionClip
            from cryvideo.training.detector_data import decode_corpus

            t0 = time.time()
            ctx["waves"] = decode_corpus(
                [c["path"] for c in cv["clips"]], cache_dir=args.cache_dir,
                no_cache=[DetectionClip(**c).no_derivatives for c in cv["clips"]])
            print(f"decoded {len(cv['clips'])} clips in {time.time() - t0:.0f} s", flush=True)
        return ctx["waves"]

    def yamnet():
        if "yamnet" not in ctx:
            from cryvideo.models.yamnet import load_yamnet

            ctx["yamnet"] = load_yamnet()
        return ctx["yamnet"]

    parts, measured = [], []
    for i, (fd, name) in enumerate(todo):
        f = part_file(parts_dir, fd, name, cv["recipes"][name])
        if f.is_file():
            parts.append(json.loads(f.read_text(encoding="utf-8")))
            print(f"seed {fd['seed']} fold {fd['fold']} {name}: taken from {f}", flush=True)
            continue
        t0 = time.time()
        det = O.fold_detector(yamnet(), fd["info"]["recipes"][name], cv["recipes"][name],
                              name=f"{name} seed {fd['seed']} fold {fd['fold']}")
        part = O.run_fold(det, waves(), cv["clips"], fd["test"], seed=fd["seed"],
                          fold=fd["fold"], log=lambda s: print(s, flush=True))
        part.update(recipe=name, seconds=round(time.time() - t0, 1))
        write_text_atomic(f, json.dumps(part, default=float))
        parts.append(part)
        measured.append(part["seconds"])
        left = len(todo) - i - 1
        per_seed = np.mean(measured) * (cv["n_splits"] or 5) * len(recipes)
        print(f"seed {fd['seed']} fold {fd['fold']} {name}: {part['seconds']:.0f} s "
              f"(audio {part['audio_seconds'] / 60:.0f} min); about "
              f"{np.mean(measured) * left / 60:.0f} min left; a whole seed "
              f"({cv['n_splits'] or 5} folds x {len(recipes)} recipe(s)) ≈ "
              f"{per_seed / 60:.0f} min", flush=True)
    res = {"machine": machine(frameworks=False), "load_before": load_before,
           "command": "nice -n 15 python benchmarks/bench_onsets.py " + " ".join(sys.argv[1:]),
           "cv": {"path": os.path.relpath(args.cv.resolve(), REPO) if args.cv.resolve()
                  .is_relative_to(REPO) else str(args.cv), "kind": cv["kind"],
                  "sha256": _sha256(args.cv), "n_splits": cv["n_splits"], "ship": cv["ship"]},
           "seeds": seeds, "recipes": recipes,
           "folds_measured": {str(s): sorted({p["fold"] for p in parts if p["seed"] == s})
                              for s in seeds},
           "block_seconds": O.BLOCK / O.SR, "stop_after": STOP_AFTER, "targets": {
               "share_within_1.5_s": TARGET_SHARE, "false_starts_per_hour": TARGET_FALSE_PER_HOUR},
           "summary": summarize(parts, n_boot=args.n_boot), "parts": parts,
           "load_after": loadavg()}
    out_json.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out_json, json.dumps(res, indent=1, default=float) + "\n")
    write_text_atomic(out_md, report(res))
    print(report(res))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    files = sorted(path.glob("seed*_fold*.json")) if path.is_dir() else [path]
    for f in files:
        h.update(f.read_bytes())
    return h.hexdigest()


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    main()
