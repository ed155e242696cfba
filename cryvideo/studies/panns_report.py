"""Report writers of the PANNs studies (:mod:`cryvideo.studies.panns`): the Markdown tables of
``benchmarks/results/panns_*.md``."""

from __future__ import annotations

from ..evaluation.intervals import interval_text

__all__ = ["pooling_markdown", "compression_markdown"]


def _iv(m: dict) -> str:
    """``estimate [low, high]`` in % from a :func:`cryvideo.evaluation.summarize_pooled` row
    (or what stands for an interval where there is none:
    :func:`~cryvideo.evaluation.interval_text`)."""
    return interval_text(m)


def _seeds(m: dict) -> str:
    """``mean ± sd`` over repeats/seeds in %."""
    return f"{100 * m['repeat_mean']:.1f} ± {100 * m['repeat_sd']:.1f}"


def pooling_markdown(res: dict) -> str:
    from .panns import PAPER_TABLE4

    names = {"max": "max", "avg": "average", "maxavg": "max + average", "stat": "statistic",
             "mha": "multi-head attention"}
    out = [f"Reason classification on Donateacry ({res['n']} clips, {len(res['labels'])} "
           f"classes, {res['n_groups']} app-install UUIDs): {res['n_splits']}-fold CV grouped "
           f"by UUID × {res['n_repeats']} repeats; each repeat has its own split and head "
           "seeds, so the repeats are the seeds. Rows are pooling heads on frozen YAMNet "
           "frame embeddings (1024-d every 0.48 s; Dense 128 per frame → pooling → softmax, "
           f"class-weighted loss, {res['epochs']} epochs) — NOT the paper's fine-tuned CNN14. "
           "Cells: % on the out-of-fold predictions of all repeats pooled [95 % group-"
           f"bootstrap interval, {res.get('n_boot', 2000)} resamples of whole app installs]; "
           "balanced accuracy per seed as mean ± sd over the seeds.",
           "", "| pooling | paper acc. % (CNN14, their split) | accuracy % | balanced acc. % "
           "| macro-F1 % | bal. acc. per seed, mean ± sd % |", "|---|---|---|---|---|---|"]
    for k, r in res["rows"].items():
        out.append(f"| {names.get(k, k)} | {PAPER_TABLE4.get(k, '')} | {_iv(r['accuracy'])} "
                   f"| {_iv(r['balanced_accuracy'])} | {_iv(r['macro_f1'])} | "
                   f"{_seeds(r['balanced_accuracy'])} |")
    mj = res["majority"]
    out.append(f"| majority class (always hungry) | — | {_iv(mj['accuracy'])} | "
               f"{_iv(mj['balanced_accuracy'])} | {_iv(mj['macro_f1'])} | "
               f"{_seeds(mj['balanced_accuracy'])} |")
    above = [names.get(k, k) for k, r in res["rows"].items()
             if r["balanced_accuracy"]["low"] > 0.2]
    best = max(res["rows"], key=lambda k: res["rows"][k]["balanced_accuracy"]["repeat_mean"])
    out += ["", "Chance balanced accuracy is 20 %. "
            + (f"Heads whose interval lies above chance: {', '.join(above)}. Five heads were "
               "compared and no permutation test was run, so this is weak evidence, not a "
               "finding." if above else
               "No head's balanced-accuracy interval lies above chance: under splits grouped "
               "by UUID none of these heads is shown to tell the reasons apart better than "
               "chance (no permutation test was run: its CPU time buys nothing when no "
               "interval clears chance).")
            + f" Highest mean over seeds: {names.get(best, best)} "
            f"({_seeds(res['rows'][best]['balanced_accuracy'])} %). Accuracy below the "
            "majority baseline is the price of the class-weighted loss (the heads stop "
            "answering 'hungry' for everything)."]
    return "\n".join(out) + "\n"


def _size_latency(res: dict, name: str, base_size: int | None) -> tuple[str, str]:
    """A compression row's ``size KiB | size vs teacher`` cells and its ms per 10 s clip."""
    base = name.split("+")[0]
    q = "int8" if name.endswith("+int8") else ("dynamic" if name.endswith("+dynamic")
                                               else "float32")
    size = res["tflite_bytes"][base].get(q)
    if not (size and base_size):
        return "— | —", "—"
    return (f"{size / 1024:.0f} | {100 * (size / base_size - 1):+.0f} %",
            f"{1000 * 17 * res['window_latency_s'][base][q]:.1f}")


def compression_markdown(res: dict) -> str:
    from .panns import PAPER_TABLE5

    t_arch, t_w = res["teacher"]
    tname = f"{t_arch}_w{t_w:g}"
    base_size, params = res["tflite_bytes"][tname].get("float32"), res["params"]
    d = res.get("data", {})
    cats = ", ".join(f"{c} {v['clips']} clips from {v['recordings']} recording(s)"
                     for c, v in d.get("categories", {}).items())
    out = [f"Compression on the cry-detection task: {res['folds']} of {res['n_splits']} "
           f"grouped folds (grouped by source recording) × {res.get('n_seeds', 1)} seed(s), "
           "each seed its own split and training seeds, so every clip is tested once per seed"
           + ("" if res["folds"] == res["n_splits"] else " (here: only the first folds)")
           + f". KD: T = {res['temperature']:g}, α = {res['alpha']:g}; {res['epochs']} epochs. "
           f"Data: {d.get('set', 'cry_detection')}, {d.get('n_clips', '?')} clips from "
           f"{d.get('n_recordings', '?')} recordings ({cats}); "
           f"{d.get('training_extra', 'Donateacry cries')} as extra positives; "
           f"{d.get('not_used', 'vocal_negatives')} not used, so the negatives are noise, one "
           "silence recording and two laughter recordings. Cells: % on the test predictions of "
           "all seeds pooled, threshold 0.5 [95 % group-bootstrap interval over source "
           f"recordings, {res.get('n_boot', 2000)} resamples]; F1 per recording weighs every "
           "source recording equally (the one silence recording counts once instead of 108 "
           "times); Δ F1 = the row's pooled F1 minus the teacher's, seed by seed, mean ± sd. "
           "Size = TFLite flatbuffer; latency = one 10 s clip (17 windows of 2 s, hop 0.5 s) "
           "on one thread, TFLite, model only (log-mel excluded), median of 30 runs in the "
           "last fold, while the study ran. Paper (Table 5) gives changes relative to its "
           "CNN14 teacher on accuracy.",
           "",
           "| model | params | size KiB | size vs teacher | F1 % | F1 per recording % | "
           "Δ F1 pt (seeds) | balanced acc. % | false-positive rate % | ms / 10 s clip | "
           "paper: size, acc. |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    paper = {tname: "teacher", f"{tname}+dynamic": "quantized"}

    def add(name):
        base = name.split("+")[0]
        q = "int8" if name.endswith("+int8") else ("dynamic" if name.endswith("+dynamic")
                                                   else "float32")
        r = res["rows"][name]
        kd = "+kd" in name
        p = paper.get(name) or ("kd_quantized" if kd and q != "float32" else
                                "kd_student" if kd else None)
        pp = PAPER_TABLE5.get(p)
        ptxt = f"{pp['size_change_pct']:+.0f} %, {pp['acc_change_pt']:+.0f} pt" if pp else ""
        dd = r["delta_f1_vs_teacher"]
        size_txt, ms = _size_latency(res, name, base_size)
        out.append(f"| {name} | {params.get(base, '')} | {size_txt} | {_iv(r['f1'])} | "
                   f"{_iv(r['f1_group_weighted'])} | {100 * dd['mean']:+.1f} ± "
                   f"{100 * dd['sd']:.1f} | {_iv(r['balanced_accuracy'])} | "
                   f"{_iv(r['false_positive_rate'])} | {ms} | {ptxt} |")

    for name in res["rows"]:
        add(name)
    floats = [n for n in res["rows"] if not n.endswith(("+dynamic", "+int8"))]
    if all("called_cry_by_category" in res["rows"][n] for n in floats):
        out += ["", "Clips called crying by category, % of the category's test clips pooled "
                "over seeds (per recording in brackets: each recording weighs the same):", ""]
        for n in floats:
            cc = res["rows"][n]["called_cry_by_category"]
            out.append(f"* {n}: " + ", ".join(
                f"{c} {100 * v['rate']:.1f} ({100 * v['rate_per_recording']:.1f})"
                for c, v in cc.items()))
    return "\n".join(out) + "\n"
