"""Every figure of README.md and docs/ stands in its sentence and equals the committed results.

The checks (:mod:`cryvideo.testing.doc_figures`) are registered below, one block per document:

* ``Sentence(doc, "words {} words", Value(results, path, fmt))`` — the figure where it stands,
  with the words around it;
* ``row(doc, "first cell", {"column": Value(...)}, table="header words")`` — table cells;
* ``Copied(doc, "start of the block", source, "what")`` — a block copied from a results
  report (the writer's rendering of the committed JSON).

To add a figure: add its check to the block of its document (a new results file: a constant
beside ``DET``, ``LISTEN`` …; a new document under docs/ is picked up by itself). To add a
number that is not a figure (an option's value, a sample rate, a version): a :class:`Skip`
with its reason.
``test_every_number_is_a_figure_or_skipped`` changes every number of every document in
memory, one at a time, and fails for a change that no check notices and no skip explains.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

from cryvideo.evaluation.intervals import interval_text
from cryvideo.media.probe import format_duration
from cryvideo.testing.doc_figures import (
    Cell,
    Copied,
    Sentence,
    Skip,
    Value,
    check,
    mutate,
    mutation_report,
    normalize,
    numbers,
    resolve,
    row,
)

REPO = Path(__file__).resolve().parents[1]
DOCS = ["README.md"] + sorted(f"docs/{p.name}" for p in (REPO / "docs").glob("*.md"))

RES = "benchmarks/results"
DA = f"{RES}/donateacry/donateacry_results.json"
DA_TIMING = f"{RES}/donateacry_timing.json"
AE = f"{RES}/ae_dnn/ae_dnn_donateacry.json"
POOL = f"{RES}/panns_pooling.json"
COMP = f"{RES}/panns_compression.json"
LAT = f"{RES}/panns_latency.json"
DET = f"{RES}/detection.json"
DET2 = f"{RES}/detection_round2/detection.json"
ONSETS = f"{RES}/onsets.json"
DL = f"{RES}/day_long.json"
SPEED = f"{RES}/detect_speed.json"
BATCH = f"{RES}/batch.json"
LISTEN = f"{RES}/listen.json"
REL = f"{RES}/reliability.json"
FV = f"{RES}/face_verdict.json"
FRAMES = f"{RES}/frames_memory.json"
BACKBONE = f"{RES}/backbone.json"
PREDICT = f"{RES}/predict.json"
FFPROC = f"{RES}/ffmpeg_processes.json"
REPORT = f"{RES}/report.json"
CARD = "saved_models/cry_detector_yamnet_int8.json"


# ------------------------------------------------------------------------------ formats

def pct(digits: int = 1) -> Callable:
    """A fraction written as a percentage: 0.3146 → ``31.5``."""
    return lambda v: f"{100 * v:.{digits}f}"


def iv(unit: str = "group") -> Callable:
    """An interval node as the reports write it: ``31.5 [20.7, 42.6]`` (percent), or
    ``8.3 (1 recording: no interval)`` / ``0.0 (≤ 3.5)`` where there is no interval."""
    return lambda n: interval_text(n, unit=unit)


def num(spec: str) -> Callable:
    """A number with a format spec, e.g. ``num(".3f")``."""
    return lambda v: format(v, spec)


def up(digits: int = 0, scale: float = 1.0) -> Callable:
    """A number rounded half up (``116.5`` → ``117``), times ``scale``."""
    from decimal import ROUND_HALF_UP, Decimal

    q = Decimal(1).scaleb(-digits)
    return lambda v: str(Decimal(repr(v * scale)).quantize(q, rounding=ROUND_HALF_UP))


def signed(digits: int = 1) -> Callable:
    """A difference node in points, signed: ``+8.9 [+6.2, +11.9]``."""
    return lambda n: (f"{100 * n['estimate']:+.{digits}f} [{100 * n['low']:+.{digits}f}, "
                      f"{100 * n['high']:+.{digits}f}]")


def seeds(digits: int = 1) -> Callable:
    """Mean ± sd over seeds of an interval node, in percent: ``19.2 ± 1.4``."""
    return lambda n: f"{100 * n['repeat_mean']:.{digits}f} ± {100 * n['repeat_sd']:.{digits}f}"


def V(results: str, *path, fmt: Callable = str) -> Value:
    """A :class:`Value`: ``V(DET, "methods", "gated", "pooled", "f1", fmt=iv())``."""
    return Value(results, path, fmt)


def est(digits: int = 1) -> Callable:
    """The estimate of an interval node, in percent."""
    return lambda n: f"{100 * n['estimate']:.{digits}f}"


def hungry_share(d: dict) -> str:
    """The share of "hungry" clips, in percent."""
    c = d.get("counts", d.get("class_counts"))
    return f"{100 * c['hungry'] / d['n_clips']:.0f}"


def by_key(key: str) -> Callable:
    """The keys of a dict in the text's order, ``1, 4 and 16``."""
    return lambda d: ", ".join(list(d)[:-1]) + " and " + list(d)[-1]


def _row(cs: str, protocol: str, model: str, feature: str) -> dict:
    return {"class_set": cs, "protocol": protocol, "model": model, "feature": feature}


# ------------------------------------------------------------------------------ not figures

SKIPS: list[Skip] = [
    Skip("*", r"^```.*?^```$", "code blocks: commands, options, file names and sample output "
         "(output lines that quote a results file have checks of their own)"),
    Skip("*", r"`[^`\n]*`", "inline code: option values, file, module and field names"),
    Skip("*", r"\]\([^)\n]*\)", "link targets"),
    Skip("*", r"\b20\d\d-\d\d-\d\d(?:T[\d:+]+)?", "dates of runs and reports (provenance)"),
    Skip("*", r"\b[A-Za-z][A-Za-z_]*[-_]?\d+(?:\.\d+)?[A-Za-z_\d]*", "names with digits: models, "
         "metrics, formats, licences, data sets (CNN10, F1, int8, sha256, ESC-50, Apache-2.0)"),
    Skip("*", r"\bCC BY(?:-NC)?(?:-ND)? \d\.\d|\bPython \d+\.\d+|\bKeras \d+|\bFigure \d+|"
         r"\bTable \d+", "names with numbers: licences, versions, figures and tables of papers"),
    Skip("*", r"^\d+\. ", "list numbering"),
    Skip("*", r"\bexit(?: code)? \d+|\(exit \d+[,)]", "exit codes (README's table of them)"),
    Skip("*", r"\(default:? [^)]*\)|\bdefault:? \d+(?:\.\d+)?(?: \w+)?|\bdefaults to \d+ \w+",
         "defaults of options: settings, not measurements"),
    Skip("*", r"\d+(?:\.\d+)? ?(?:kHz|Hz)\b|\b\d+(?:\.\d+)? fps\b|\b\d+×\d+\b|\b\d+p\b",
         "sample rates, frame rates and frame sizes of inputs: settings"),
    Skip("*", r"\b\d+(?:\.\d+)? s patch(?:es)?(?: as soon as it is complete)? (?:every|\(every) "
         r"\d+\.\d+ s|\bmean of \d+ patches", "the detector's patch geometry (its card)"),
    Skip("*", r"\btarget(?: is|:)? (?:≤ )?\d+(?:\.\d+)?|\b\d+(?:\.\d+)? s target",
         "targets set by the issues, not measurements"),
]

# ------------------------------------------------------------------------------ the checks

CHECKS: list = []

# --- README.md
R = "README.md"


def _cry_recordings(doc) -> int:
    """cry recordings: the sum over origins of the shipped recipe's recall_by_origin groups"""
    return sum(v["n_groups"] for v in doc["methods"]["gated"]["recall_by_origin"].values())


def _cry_recordings_not_donateacry(doc) -> int:
    """cry recordings of origins other than Donateacry (recall_by_origin groups)"""
    return sum(v["n_groups"] for k, v in doc["methods"]["gated"]["recall_by_origin"].items()
               if k != "Donateacry")


CHECKS += [
    Sentence(R, "and {} clips come from just {} app installs",
             V(DA, "class_sets", "all5", "n_clips"), V(DA, "class_sets", "all5", "n_installs")),
    Sentence(R, "recipe finds infant crying at F1 {} per recording in a grouped cross-validation "
             "over {} recordings, against {} for YAMNet's own cry classes",
             V(DET, "methods", "gated", "pooled", "f1", fmt=iv()), V(DET, "n_groups"),
             V(DET, "methods", "yamnet_zeroshot", "pooled", "f1", fmt=iv())),
    Sentence(R, "rests on Donateacry: {} of its {} cry recordings are Donateacry's. **Without "
             "them, F1 is {}** (the {} cry recordings of other sources against every negative; "
             "precision {}, recall {}). Each origin alone against every negative: F1 "
             "Donateacry {}, ESC-50 {}, home recordings {} ({} recordings; recall on them: "
             "ESC-50 {}, home {})",
             V(DET, "methods", "gated", "recall_by_origin", "Donateacry", "n_groups"),
             Value(DET, _cry_recordings),
             V(DET, "methods", "gated", "pooled", "f1_without_donateacry", fmt=iv()),
             Value(DET, _cry_recordings_not_donateacry),
             V(DET, "methods", "gated", "pooled", "precision_without_donateacry", fmt=iv()),
             V(DET, "methods", "gated", "pooled", "recall_without_donateacry", fmt=iv()),
             *(V(DET, "methods", "gated", "by_origin", o, "f1", fmt=iv())
               for o in ("Donateacry", "ESC-50", "home")),
             V(DET, "methods", "gated", "by_origin", "home", "groups"),
             V(DET, "methods", "gated", "recall_by_origin", "ESC-50", fmt=iv()),
             V(DET, "methods", "gated", "recall_by_origin", "home", fmt=iv())),
    Sentence(R, "as loud as the cry ({} dB) are found {} % of the time (YAMNet's own classes: {} "
             "%)", V(DET2, "methods", "gated", "stress", "interference", "+0 dB", "snr_db",
                     fmt=num(".0f")),
             V(DET2, "methods", "gated", "stress", "interference", "+0 dB", fmt=iv()),
             V(DET2, "methods", "yamnet_zeroshot", "stress", "interference", "+0 dB",
               fmt=iv())),
    Sentence(R, "summary: {} of crying in {} ({} %), {} episode(s)",
             V(DL, "summary_16h", "crying_minutes", fmt=lambda m: format_duration(60 * m)),
             V(DL, "summary_16h", "duration_hours", fmt=lambda h: format_duration(3600 * h)),
             V(DL, "summary_16h", "crying_share", fmt=pct()),
             V(DL, "summary_16h", "episodes")),
    Sentence(R, "per hour: 0h {}, 1h {}, 2h {}, 3h {}, 4h {}",
             *(V(DL, "summary_16h", "hours", h, "crying_minutes",
                 fmt=lambda m: format_duration(60 * m)) for h in range(5))),
    Sentence(R, "a {}-hour recording took {} s on one core ({}× real time; {}× per CPU second; "
             "the {} shared cores at load average {} when it started) and peaked at {} MB with "
             "its ffmpeg, the same after {} hours",
             V(DL, "detect", 0, "hours", fmt=num(".0f")),
             V(DL, "detect", 0, "detect_seconds", fmt=num(".0f")),
             V(DL, "detect", 0, "realtime_factor", fmt=num(".0f")),
             V(DL, "detect", 0, "realtime_factor_cpu", fmt=num(".0f")),
             V(DL, "machine", "cores"), V(DL, "load_before", 0),
             V(DL, "detect", 0, "peak_mb", fmt=num(".0f")),
             V(DL, "detect", 0, "peak_mb_by_hour", fmt=by_key(""))),
    Sentence(R, "listening to rtsp://… (detector cry_detector_yamnet_int8, threshold {}, window {} "
             "patches, stop after {} s)", V(CARD, "extra", "threshold"),
             V(CARD, "inputs", "window_patches"), V(LISTEN, "stop_after", fmt=num("g"))),
    Sentence(R, "**Measured** (`benchmarks/results/listen.md`, {} shared cores, the shipped "
             "detector). Cry onset to `cry started`: median {} s, 95th percentile **{} s** over "
             "the {} of {} synthesized cries it detected ({} missed, which no percentile counts); "
             "{} s and {} s over {} of {} recorded cries the detector was trained on ({} missed)",
             V(LISTEN, "machine", "cores"),
             *(V(LISTEN, "latency", "synthetic", 0, k, fmt=f) for k, f in (
                 ("latency_median_s", num(".2f")), ("latency_p95_s", num(".2f")),
                 ("detected", str), ("onsets", str), ("missed", str))),
             *(V(LISTEN, "latency", "recorded", 0, k, fmt=f) for k, f in (
                 ("latency_median_s", num(".2f")), ("latency_p95_s", num(".2f")),
                 ("detected", str), ("onsets", str), ("missed", str)))),
    Sentence(R, "The live path itself adds {} s (median; {} s at most)",
             V(LISTEN, "latency", "synthetic", 0, "live_overhead_median_s", fmt=num(".2f")),
             V(LISTEN, "latency", "synthetic", 0, "live_overhead_max_s", fmt=num(".2f"))),
    Sentence(R, "`--window 1` gives {} s and {} s ({} of {} detected), but {} instead of {} false "
             "starts per hour",
             V(LISTEN, "latency", "synthetic", 2, "latency_median_s", fmt=num(".2f")),
             V(LISTEN, "latency", "synthetic", 2, "latency_p95_s", fmt=num(".2f")),
             V(LISTEN, "latency", "synthetic", 2, "detected"),
             V(LISTEN, "latency", "synthetic", 2, "onsets"),
             V(LISTEN, "vocal_negatives", "by_window", {"window": 1}, "per_hour", fmt=num(".0f")),
             V(LISTEN, "vocal_negatives", "by_window", {"window": 3}, "per_hour",
               fmt=num(".0f"))),
    Sentence(R, "CPU while listening in real time: **{} % of one core** (Python and ffmpeg; the {} "
             "shared cores at load average {} when the run started). Memory with an hour of audio "
             "pushed through in {} s (an hour of stream, not of running): {} MiB after its first "
             "minute, {} MiB at its end.",
             V(LISTEN, "cpu_realtime", "cpu_share_of_one_core", fmt=pct()),
             V(LISTEN, "machine", "cores"), V(LISTEN, "load_before", 0),
             V(LISTEN, "memory", "wall_seconds", fmt=num(".0f")),
             V(LISTEN, "memory", "rss_mb_after_1_min", fmt=num(".1f")),
             V(LISTEN, "memory", "rss_mb_at_end", fmt=num(".1f"))),
    Sentence(R, "`frames_memory.md` — streaming a {}-minute {}p video through the frame reader: "
             "peak {} MB.", V(FRAMES, "video", "duration_s", fmt=lambda s: f"{s / 60:.0f}"),
             V(FRAMES, "video", "size", fmt=lambda s: s.split("x")[1]),
             V(FRAMES, "combined_peak_mb_upper_bound", fmt=up())),
    Sentence(R, "`predict` over {} clips on this {}-core machine: serial {} files/s, `--workers 2` "
             "{} files/s ({}×; the serial run already keeps {} cores busy), {} MiB per worker; "
             "{} one-minute videos estimated at {} hours on {} machines of {} cores.",
             V(BATCH, "clips", "n"), V(BATCH, "machine", "cores"),
             V(BATCH, "summary", "serial", "files_per_s", fmt=num(".2f")),
             V(BATCH, "summary", "workers_2", "files_per_s", fmt=num(".2f")),
             V(BATCH, "summary", "workers_2", "vs_serial", fmt=num(".2f")),
             V(BATCH, "summary", "serial", fmt=lambda n: f"{n['cpu_seconds'] / n['seconds']:.2f}"),
             V(BATCH, "summary", "workers_2", "worker_peak_mb", fmt=num(".1f")),
             V(BATCH, "estimate", "files", fmt=num(",")),
             V(BATCH, "estimate", "rows", {"machines": 10, "cores_per_machine": 16}, "hours",
               fmt=num(".1f")),
             V(BATCH, "estimate", "rows", {"machines": 10, "cores_per_machine": 16}, "machines"),
             V(BATCH, "estimate", "rows", {"machines": 10, "cores_per_machine": 16},
               "cores_per_machine")),
    Sentence(R, "(best on {} classes: Random Forest on STFT, balanced accuracy {} % vs {} % "
             "chance, family-wise p = {} over {} permutations",
             V(DA, "class_sets", "paper4", "n_clips", fmt=lambda _: "4"),
             V(DA, "summaries", _row("paper4", "grouped", "Random Forest", "stft"),
               "balanced_accuracy", fmt=iv()),
             V(DA, "summaries", _row("paper4", "grouped", "Majority class", "-"),
               "balanced_accuracy", "estimate", fmt=pct(0)),
             V(DA, "permutation", "paper4/grouped", "pvalue", fmt=num(".3f")),
             V(DA, "permutation", "paper4/grouped", "n_permutations")),
    Sentence(R, "the earlier version ran in {} s cold, {} s warm",
             V(DA_TIMING, "runs", "cold", "wall_s", fmt=num(".0f")),
             V(DA_TIMING, "runs", "warm", "wall_s", fmt=num(".0f"))),
    Sentence(R, "AE+DNN branches: grouped balanced accuracy {} % (MFCC) / {} % (STFT) vs {} % "
             "chance ({} seeds pooled",
             V(AE, "rows", "AE+DNN (MFCC) / grouped", "summary", "balanced_accuracy", fmt=iv()),
             V(AE, "rows", "AE+DNN (STFT) / grouped", "summary", "balanced_accuracy", fmt=iv()),
             V(AE, "rows", "AE+DNN (MFCC) / grouped", "summary", "majority_balanced_accuracy",
               "estimate", fmt=pct(0)),
             V(AE, "rows", "AE+DNN (MFCC) / grouped", "summary", "balanced_accuracy",
               "per_repeat", fmt=len)),
    Sentence(R, "the cry detectors, grouped {}-fold CV over {} recordings, seeds {}, per "
             "recording: the shipped recipe F1 {} against YAMNet zero-shot {} and the previous "
             "CNN10 {}",
             V(f"{RES}/detection_cv.json", "n_splits"), V(DET, "n_groups"),
             V(DET, "seeds", fmt=", ".join),
             *(V(DET, "methods", m, "pooled", "f1", fmt=iv())
               for m in ("gated", "yamnet_zeroshot", "cnn10"))),
    Sentence(R, "the int8 file's cost ({} points of F1 for a {}× smaller file)",
             V(DET, "comparison", "gated_tflite_int8", "f1_difference", fmt=signed()),
             V(SPEED, "detect_one_core",
               fmt=lambda r: f"{r[1]['size_bytes'] / r[0]['size_bytes']:.1f}")),
]
CHECKS += [
    Sentence(R, "`day_long.md` — a {}-hour recording: memory, speed, planted cries",
             V(DL, "hours", fmt=num(".0f"))),
    Sentence(R, "pooling study ({} seeds: no head's interval above chance), compression (every "
             "fold of {} seeds: quantization costs nothing measurable, distillation from our weak "
             "width-1/{} teacher", V(POOL, "n_repeats"), V(COMP, "n_seeds"),
             V(COMP, "teacher", 1, fmt=lambda w: f"{1 / w:.0f}")),
    Sentence(R, "face backbone: ResNet-50 TFLite {} frames/s on {} cores; `predict` on a {} s {}p "
             "clip: {} s at the default {} fps, {} s at {} fps",
             V(BACKBONE, "results", {"backbone": "resnet50"}, "tflite_xnnpack_frames_per_s",
               fmt=num(".1f")), V(BACKBONE, "machine", "cores"),
             V(PREDICT, "clip", fmt=lambda c: c.split(" s")[0]),
             V(PREDICT, "clip", fmt=lambda c: c.split("x")[1].split(",")[0]),
             V(PREDICT, "results", {"fps": 5.0}, "wall_s", fmt=num(".1f")),
             V(PREDICT, "default_fps", fmt=num(".0f")),
             V(PREDICT, "results", {"fps": 30.0}, "wall_s", fmt=num(".1f")),
             V(PREDICT, "results", {"fps": 30.0}, "fps", fmt=num(".0f"))),
    Sentence(R, "latency from cry onset to `cry started` ({} onsets), false starts, CPU while "
             "listening in real time, memory while an hour of audio is pushed through in {} s.",
             V(LISTEN, "latency", "synthetic", 0, "onsets"),
             V(LISTEN, "memory", "wall_seconds", fmt=num(".0f"))),
    Sentence(R, "fuzz corpus ({} files through `predict` and `detect`: {} tracebacks, hangs or "
             "orphan ffmpeg processes); a {}-minute video: `predict --fps 1` peak {} GB, `detect` "
             "peak {} GB ({} s and {} s on a shared machine at load average {} at the start;",
             V(REL, "fuzz", "files"),
             V(REL, "fuzz", fmt=lambda f: str(f["api"]["tracebacks"] + f["api"]["hangs"]
                                              + f["api"]["orphan_ffmpeg"])),
             V(REL, "minutes", fmt=num(".0f")),
             V(REL, "long_input", "predict", "peak_tree_rss_mb", fmt=up(1, 1e-3)),
             V(REL, "long_input", "detect", "peak_tree_rss_mb", fmt=up(1, 1e-3)),
             V(REL, "long_input", "predict", "seconds", fmt=num(".0f")),
             V(REL, "long_input", "detect", "seconds", fmt=num(".0f")),
             V(REL, "machine", "load_avg_at_start", 0)),
    Sentence(R, "on a {}-minute recording the report took {} s ({} s reading the sound, {} s "
             "drawing) and the run peaked at {} MB, against {} MB when the page drew the whole "
             "recording (`benchmarks/results/report.md`; the {} shared cores at load average {} "
             "when it started)",
             V(REPORT, "minutes", fmt=num(".0f")), V(REPORT, "report", "seconds", fmt=num(".1f")),
             V(REPORT, "parts", "overview_seconds", fmt=num(".1f")),
             V(REPORT, "parts", "render_seconds", fmt=num(".1f")),
             V(REPORT, "report", "peak_mb", fmt=num(".0f")),
             V(REPORT, "compared", "peak_mb", fmt=num(".0f")), V(REPORT, "machine", "cores"),
             V(REPORT, "load_before", 0)),
]
SKIPS += [
    Skip(R, r"announced within 1, 1\.5 and 2 s|music and noise at −5, 0 and \+5 dB",
         "what a results file measures (its limits and ratios), not a figure"),
    Skip(R, r"killed after \d+ s|back-off \([\d, …]+ s\)|at least every \d+ s",
         "behaviour of the commands (constants of the code)"),
    Skip(R, r"^\| \d+ \|", "the table of exit codes"),
    Skip("*", r"\(< 0\.5 s\)|under 0\.5 s", "the shortest input accepted (a rule)"),
    Skip(R, r"a header claiming \d+ hours does not make cryvideo reserve memory for \d+ hours",
         "an example of a lying header"),
]


# --- docs/detection.md
@cache
def detection_report(repo: Path) -> str:
    """benchmarks/results/detection.md as the report writer renders it from the JSON."""
    from cryvideo.studies.detection_cv_report import report_from_results

    res = repo / RES
    return report_from_results(json.loads((res / "detection.json").read_text()),
                               json.loads((res / "detection_cv.json").read_text()))


D = "docs/detection.md"
DET_ROWS = {"YAMNet zero-shot (its own cry classes)": "yamnet_zeroshot",
            "CNN10 (the previous default, retrained per fold)": "cnn10",
            "YAMNet + cry head": "head",
            "YAMNet + cry head + gate (shipped recipe)": "gated",
            "its TFLite float32 file": "gated_tflite_float32",
            "its TFLite int8-weight file (the default)": "gated_tflite_int8",
            "its fully integer file (weights + activations)": "gated_tflite_int8_full"}


def fp(method: str, category: str, words: str) -> Sentence:
    """``adult teen crying 24.1 [7.1, 44.7] (23 rec.)`` in the "Where it errs" paragraph."""
    node = ("methods", method, "false_positive_by_category", category)
    return Sentence(D, f"{words} {{}}{{}}", V(DET, *node, fmt=iv("recording")),
                    V(DET, *node, fmt=lambda n: "" if n["groups"] == 1 else
                      f" ({n['groups']} rec.)"))


def planted_minutes(d) -> str:
    """minutes of the planted cries"""
    return f"{sum(b - a for a, b in d['planted']) / 60:.1f}"


CHECKS += [
    Sentence(D, "must be seen in at least half of the segment's frames ({} per second)",
             V("saved_models/face_verdict.json", "rule", "fps", fmt=num(".0f"))),
    Sentence(D, "after a {} s rolling average",
             V("saved_models/face_verdict.json", "rule",
               fmt=lambda r: f"{r['smoothing'] / r['fps']:.0f}")),
    Copied(D, "| label | category | source | clips | recordings |", detection_report,
           "the data table of benchmarks/results/detection.md", table=True),
    Sentence(D, "those of CV seed {}'s five folds ({} epochs, threshold {};",
             V(CARD, "training", "choices_from_cv", "seeds", fmt=", ".join),
             V(CARD, "training", "choices_from_cv", "epochs"),
             V(CARD, "training", "choices_from_cv", "threshold")),
    Sentence(D, "the medians of all {} folds are the same",
             V(DET, "seeds", fmt=lambda s: str(5 * len(s)))),
    Sentence(D, "(seeds {}; the full tables, per-seed values", V(DET, "seeds", fmt=", ".join)),
    Sentence(D, "group-bootstrap interval over the {} recordings (%):", V(DET, "n_groups")),
    *(c for key, m in DET_ROWS.items() for c in row(D, key, {
        "seeds": V(DET, "methods", m, "seeds", fmt=len),
        "F1": V(DET, "methods", m, "pooled", "f1", fmt=iv()),
        "precision": V(DET, "methods", m, "pooled", "precision", fmt=iv()),
        "recall": V(DET, "methods", m, "pooled", "recall", fmt=iv()),
        "false-positive rate": V(DET, "methods", m, "pooled", "false_positive_rate", fmt=iv()),
        "ROC AUC": V(DET, "methods", m, "pooled", "roc_auc", fmt=iv())},
        table="| method | seeds | F1 | precision |")),
    Sentence(D, "against YAMNet zero-shot **{}** points, against CNN10 {}, against the ungated "
             "head {}; the int8-weight file loses {} points, the fully integer one {} (so it is "
             "not shipped). F1 over seeds (mean ± sd) of the shipped recipe: {} ± {}.",
             *(V(DET, "comparison", m, "f1_difference", fmt=signed()) for m in (
                 "yamnet_zeroshot", "cnn10", "head", "gated_tflite_int8",
                 "gated_tflite_int8_full")),
             V(DET, "methods", "gated", "spread", "f1", "mean", fmt=pct()),
             V(DET, "methods", "gated", "spread", "f1", "sd", fmt=pct())),
    Sentence(D, "Seeds: every row has three ({})", V(DET, "seeds", fmt=", ".join)),
    fp("gated", "adult_teen_crying", "adult teen crying"),
    fp("gated", "dog_howl", "(23 rec.), dog howl"),
    fp("gated", "infant_laughter", "infant laughter"),
    fp("gated", "adult_singing", "adult singing"),
    fp("gated", "moaning_whimpering", "moaning whimpering"),
    fp("yamnet_zeroshot", "adult_teen_crying", "YAMNet zero-shot: adult teen crying"),
    fp("yamnet_zeroshot", "moaning_whimpering", "(23 rec.), moaning whimpering"),
    fp("yamnet_zeroshot", "infant_laughter", "(41 rec.), infant laughter"),
    fp("head", "infant_laughter", "The ungated head: infant laughter"),
    fp("head", "adult_teen_crying", "(2 rec.), adult teen crying"),
    fp("head", "adult_singing", "(23 rec.), adult singing"),
    fp("head", "dog_howl", "no interval), dog howl"),
    fp("head", "moaning_whimpering", "no interval), moaning whimpering"),
    Sentence(D, "e.g. adult speech {} over {} recordings",
             V(DET, "methods", "gated", "false_positive_by_category", "adult_speech",
               fmt=iv("recording")),
             V(DET, "methods", "gated", "false_positive_by_category", "adult_speech",
               "groups")),
    Sentence(D, "are found {} % of the time (YAMNet zero-shot {} %; under music alone {} % "
             "against {} %); negatives band-limited to 4 kHz (the \"phone audio means crying\" "
             "shortcut Donateacry invites) are called crying {} % of the time (CNN10 {} %).",
             V(DET, "methods", "gated", "stress", "cry_under", fmt=iv()),
             V(DET, "methods", "yamnet_zeroshot", "stress", "cry_under", fmt=iv()),
             V(DET, "methods", "gated", "stress", "cry_under_by_background", "music", fmt=pct()),
             V(DET, "methods", "yamnet_zeroshot", "stress", "cry_under_by_background", "music",
               fmt=pct()),
             V(DET, "methods", "gated", "stress", "negative_band_limited", fmt=iv()),
             V(DET, "methods", "cnn10", "stress", "negative_band_limited", fmt=iv())),
    Sentence(D, "The shipped recipe's interval ({}) reaches it only at its top. The ungated head "
             "is no better ({} points).", V(DET, "methods", "gated", "pooled", "f1", fmt=iv()),
             V(DET, "comparison", "head", "f1_difference", fmt=signed())),
    Sentence(D, "(dog howl: {} clips, adult singing, infant laughter)",
             V(DET, "methods", "gated", "false_positive_by_category", "dog_howl", "clips")),
    Sentence(D, "Moaning/whimpering is measured on {} recordings",
             V(DET, "methods", "gated", "false_positive_by_category", "moaning_whimpering",
               "groups")),
    Sentence(D, "on F1, yes ({} points)", V(DET, "comparison", "yamnet_zeroshot",
                                             "f1_difference", fmt=signed())),
    Sentence(D, ": {} MB → {} MB ({}×), {} points.",
             V(SPEED, "detect_one_core", {"model": "cry_detector_yamnet.tflite"}, "size_bytes",
               fmt=up(2, 1e-6)),
             V(SPEED, "detect_one_core", {"model": "cry_detector_yamnet_int8.tflite"},
               "size_bytes", fmt=up(2, 1e-6)),
             V(SPEED, "detect_one_core",
               fmt=lambda r: f"{r[1]['size_bytes'] / r[0]['size_bytes']:.2f}"),
             V(DET, "comparison", "gated_tflite_int8", "f1_difference", fmt=signed())),
    Sentence(D, "a {}-hour Opus recording (noise, babble-like tones and {} synthesized cries of "
             "20–90 s, {} minutes in all, at known times): `detect --summary` on one core ran "
             "at {}× real time ({}× per CPU second; the {} shared cores at load average {} when "
             "it started) and peaked at {} MB for cryvideo and its ffmpeg together — {} MB after "
             "1 hour, {} MB after 4, {} MB after 16: flat. It found {} of the {} planted cries at "
             "their times, with {} minutes flagged outside them; its segments cover {} of the {} "
             "planted minutes ({} episodes for {} cries)",
             V(DL, "hours", fmt=num(".0f")), V(DL, "planted", fmt=len),
             Value(DL, planted_minutes),
             V(DL, "detect", 0, "realtime_factor", fmt=num(".0f")),
             V(DL, "detect", 0, "realtime_factor_cpu", fmt=num(".0f")),
             V(DL, "machine", "cores"), V(DL, "load_before", 0),
             V(DL, "detect", 0, "peak_mb", fmt=num(".0f")),
             *(V(DL, "detect", 0, "peak_mb_by_hour", h) for h in ("1", "4", "16")),
             V(DL, "detect", 0, "planted_found"), V(DL, "detect", 0, "planted"),
             V(DL, "detect", 0, "minutes_outside_planted"),
             V(DL, "detect", 0, fmt=lambda d: format(
                 d["crying_minutes"] - d["minutes_outside_planted"], ".1f")),
             Value(DL, planted_minutes),
             V(DL, "detect", 0, "episodes"), V(DL, "detect", 0, "planted")),
    Sentence(D, "`predict` on the same file peaked at {} MB and fed the reason branches {} s of "
             "crying, not {} hours.", V(DL, "predict", "peak_mb", fmt=num(".0f")),
             V(DL, "predict", "seconds_read_by_branches", fmt=num(".0f")),
             V(DL, "hours", fmt=num(".0f"))),
    Sentence(D, "# CRYING (score 0.91, threshold {}, 8.0 s) + segments",
             V(CARD, "extra", "threshold", fmt=num(".2f"))),
    Sentence(D, "the number of episodes (segments less than {} s apart are one)",
             V(DL, "summary_16h", "episode_gap_s", fmt=num("g"))),
]
SKIPS += [
    Skip("*", r"\b\d+e-\d+\b", "tolerances of tests"),
    Skip(D, r"every one of the \d+ weighted layers|the \d+ scores and \d+-d embeddings|up to "
         r"~0\.2 on a score|YAMNet's \d+ outputs|\d+-d embedding",
         "YAMNet's architecture, and what tests/test_yamnet_keras.py checks (not a results "
         "file)"),
    Skip(D, r"gate = [^,]*,|\(≈ 1\)", "the gate's formula (constants of the design)"),
    Skip(D, r"holds \d+ CC BY-NC-ND clips", "a count of the data's manifest (../shared)"),
    Skip(D, r"moving mean of \d+|at 0, 5, 10 or 20 dB|at 0–10 dB|cries of 20–90 s|"
         r"at most \d+-minute pieces", "settings of the training, the stress sets and the "
         "benchmarks (design, not measurements)"),
    Skip("*", r"\bseeds? \d+(?:(?:,| and) \d+)*(?:'s)?", "seed numbers: names of runs"),
    Skip("*", r"\b95 %(?= (?:group-bootstrap|one-sided|upper|interval))|\b95th percentile",
         "the level of the intervals (a setting)"),
    Skip(D, r"to within 0\.002", "a comparison made when the run was resumed (commit 64a23ea); "
         "no results file keeps it"),
    Skip("*", r"(?:more than|above|includes|over the line of) 5 %|[≥≤] ?\d+(?:\.\d+)?×?"
         r"(?: point)?", "targets of the detector issue"),
    Skip(D, r"costs ~25 minutes per fold on 2 cores", "why the recipe was not evaluated: an "
         "estimate, no result is claimed"),
    Skip(D, r"a 16-hour stream peaking at 3\.7 GB", "a bug an earlier run found (history)"),
]


# --- docs/detection.md, round 2
@cache
def detection_round2_report(repo: Path) -> str:
    """benchmarks/results/detection_round2/detection.md as the writer renders it."""
    from cryvideo.studies.detection_cv_report import report_from_results

    res = repo / RES / "detection_round2"
    return report_from_results(json.loads((res / "detection.json").read_text()),
                               json.loads((res / "detection_cv.json").read_text()))


def onsets_report(repo: Path) -> str:
    """benchmarks/results/onsets.md (written by benchmarks/bench_onsets.py from onsets.json)."""
    return (repo / RES / "onsets.md").read_text()


def _median_onset(doc) -> str:
    """median over the CV's folds of the shipped recipe's onset threshold"""
    import statistics

    values = [f["recipes"]["gated"]["onset_threshold"] for sd in doc["seeds"].values()
              for f in sd["folds"]]
    return f"{statistics.median(values):.2f}"


def _negative_recordings(doc) -> int:
    """negative recordings: every group minus the cry recordings"""
    return doc["n_groups"] - _cry_recordings(doc)


def _seeds_words(seeds) -> str:
    """seeds as words: ``10, 11 and 12``"""
    return seeds[0] if len(seeds) == 1 else ", ".join(seeds[:-1]) + " and " + seeds[-1]


def _within(method: str, rule: str, limit: str) -> Value:
    return V(ONSETS, "summary", method, rule, "onsets", "within", limit, fmt=iv())


def _per_hour(method: str, rule: str) -> Value:
    return V(ONSETS, "summary", method, rule, "negatives", "per_hour", fmt=num(".1f"))


CDET2 = f"{RES}/detection_round2/detection_cv.json"
TPV = f"{RES}/detection_round2/threshold_prevalence.json"


def _median_prevalence(doc) -> str:
    """median over the folds of the training folds' share of non-Donateacry cry recordings"""
    import statistics

    values = [f["recipes"]["gated_prevalence"]["prevalence"] for sd in doc["cv_folds"]
              for f in sd]
    return f"{statistics.median(values):.3f}"
GM2 = ("methods", "gated_mix")
CHECKS += [
    Copied(D, "| origin | recordings | method | F1 | precision | recall |", detection_report,
           "the per-origin table of benchmarks/results/detection.md", table=True),
    Copied(D, "| method | F1 | precision | recall |", detection_report,
           "the table without Donateacry of benchmarks/results/detection.md", table=True),
    Copied(D, "| method | seeds | F1 | precision | recall | false-positive rate | ROC AUC | F1 "
              "without Donateacry", detection_round2_report,
           "the results table of benchmarks/results/detection_round2/detection.md", table=True),
    Copied(D, "| method | background | mixtures |", detection_round2_report,
           "the interference table of benchmarks/results/detection_round2/detection.md",
           table=True),
    Copied(D, "| recipe | rule | onsets (recordings) |", onsets_report,
           "the onsets table of benchmarks/results/onsets.md", table=True),
    Copied(D, "| category | clips | minutes |", onsets_report,
           "the false-starts table of benchmarks/results/onsets.md", table=True),
    Sentence(D, "`benchmarks/results/detection.md` (the shipped recipe, seeds {}), "
             "`benchmarks/results/detection_round2/detection.md` (a second CV, seeds {}, of the",
             V(DET, "seeds", fmt=_seeds_words), V(DET2, "seeds", fmt=_seeds_words)),
    Sentence(D, "(`listen` on seed {}'s held-out folds)", V(ONSETS, "seeds", fmt=_seeds_words)),
    Sentence(D, "The headline F1 rests on Donateacry: {} of the {} cry recordings are its phone",
             V(DET, "methods", "gated", "recall_by_origin", "Donateacry", "n_groups"),
             Value(DET, _cry_recordings)),
    Sentence(D, "but with {} cry recordings against {} negative ones",
             Value(DET, _cry_recordings_not_donateacry), Value(DET, _negative_recordings)),
    Sentence(D, "The home cries come from {} long recordings cut into windows: their intervals "
             "say how little {} recordings can tell.",
             V(DET, "methods", "gated", "by_origin", "home", "groups"),
             V(DET, "methods", "gated", "by_origin", "home", "groups")),
    Sentence(D, "as rare as outside Donateacry (the training folds' share, median {}; "
             "`benchmarks/bench_threshold_prevalence.py`, nothing retrained), gives F1 without "
             "Donateacry {} instead of {}, and pooled F1 {} instead of {} (seeds {}).",
             Value(TPV, _median_prevalence),
             *(V(TPV, "summary", "methods", m, "pooled", k, fmt=iv())
               for k in ("f1_without_donateacry",) for m in ("gated_prevalence", "gated")),
             *(V(TPV, "summary", "methods", m, "pooled", "f1", fmt=iv())
               for m in ("gated_prevalence", "gated")),
             V(TPV, "summary", "seeds", fmt=_seeds_words)),
    Sentence(D, "pooled and without Donateacry: {} points against the shipped recipe",
             V(DET2, "comparison", "gated", "f1_difference", fmt=signed())),
    Sentence(D, "(`onset_threshold`; median over the folds {})", Value(CDET2, _median_onset)),
    Sentence(D, "the shipped recipe's figures over seeds {}", V(DET, "seeds", fmt=_seeds_words)),
    Sentence(D, "**F1 without Donateacry ≥ 0.90: not met**: {} (`gated_mix`: {}).",
             V(DET, "methods", "gated", "pooled", "f1_without_donateacry", fmt=iv()),
             V(DET2, *GM2, "pooled", "f1_without_donateacry", fmt=iv())),
    Sentence(D, "**Pooled F1 ≥ 0.95: not met**: {}.",
             V(DET, "methods", "gated", "pooled", "f1", fmt=iv())),
    Sentence(D, "found ≥ 90 %: not met**: {} % (`gated_mix` {} %, YAMNet zero-shot {} %; seeds "
             "{}).",
             V(DET2, "methods", "gated", "stress", "interference", "+0 dB", fmt=iv()),
             V(DET2, *GM2, "stress", "interference", "+0 dB", fmt=iv()),
             V(DET2, "methods", "yamnet_zeroshot", "stress", "interference", "+0 dB",
               fmt=iv()), V(DET2, "seeds", fmt=_seeds_words)),
    Sentence(D, "moaning and whimpering {} ({} recordings), adult and teenage crying {} ({} "
             "recordings).",
             V(DET, "methods", "gated", "false_positive_by_category", "moaning_whimpering",
               fmt=iv()),
             V(DET, "methods", "gated", "false_positive_by_category", "moaning_whimpering",
               "groups"),
             V(DET, "methods", "gated", "false_positive_by_category", "adult_teen_crying",
               fmt=iv()),
             V(DET, "methods", "gated", "false_positive_by_category", "adult_teen_crying",
               "groups")),
    Sentence(D, "misses counted: not met**: {} % with the window rule, {} % with the fast rule "
             "(seed {}).", _within("gated", "window", "1.5"), _within("gated", "onset", "1.5"),
             V(ONSETS, "seeds", fmt=_seeds_words)),
    Sentence(D, "real negatives: not met**: {} with the window rule, {} with the fast rule.",
             _per_hour("gated", "window"), _per_hour("gated", "onset")),
    Sentence(D, "`detect` on one core at {}× real time as a whole process; `predict "
             "examples/demo.mp4` in {} s (median); the int8 file loses {} points of F1",
             V(SPEED, "detect_one_core", {"model": "cry_detector_yamnet_int8.tflite"},
               "process_realtime_factor", fmt=num(".0f")),
             V(SPEED, "predict_demo", "median", fmt=num(".2f")),
             V(DET, "comparison", "gated_tflite_int8", "f1_difference", fmt=signed())),
]
SKIPS += [
    Skip(D, r"## Round 2|round-2 issue", "a name: the second round of the detector"),
    Skip(D, r"at −5 to \+5 dB|more than 0\.5 points lower|at least 0\.2 above|a window of 3 "
            r"patches \(1\.9 s of audio\)|one patch \(0\.96 s\)|within 1 s, but",
         "recipe and rule constants fixed before the results (yamnet_cry.INTERFERENCE_SNRS, "
         "ONSET_MARGIN, the ship rule), the front end's patch"),
    Skip(D, r"\*\*[^*\n]*[≥≤][^*\n]*\*\*|\(F1 ≥ 0\.90 on", "the issue's targets"),
    Skip(D, r"about 25 minutes per fold on 2 cores, about six hours for 5 folds × 3 seeds",
         "the issue's estimate of the fine-tuning's cost (not measured here)"),
]


# --- docs/batch.md
B = "docs/batch.md"
def core_seconds_per_video(d: dict) -> str:
    """core-seconds per one-minute video with every core busy: 2 workers' wall time × cores"""
    run = d["one_minute"]["runs"]["workers_2"]
    return f"{run['seconds'] * d['machine']['cores'] / d['one_minute']['n']:.2f}"


CHECKS += [
    Sentence(B, "on this project's shared {}-core machine: `cryvideo predict --out x.parquet` "
             "over the same {} clips of {} s, as whole processes (start-up, cluster start and "
             "model loading included), median of {} runs.", V(BATCH, "machine", "cores"),
             V(BATCH, "clips", "n"), V(BATCH, "clips", "seconds", fmt=num(".0f")),
             V(BATCH, "repeats")),
    *(c for key, k in (("serial", "serial"), ("`--workers 1`", "workers_1"),
                       ("`--workers 2`", "workers_2"))
      for c in row(B, key, {
          "files/s": V(BATCH, "summary", k, "files_per_s", fmt=num(".2f")),
          "vs serial": V(BATCH, "summary", k, "vs_serial", fmt=lambda v: f"{v:.2f}×"),
          "peak memory per worker (MiB)": V(BATCH, "summary", k, "worker_peak_mb",
                                            fmt=lambda v: "–" if v is None else f"{v:.1f}")},
          table="| how | files/s |")),
    Sentence(B, "On {} cores, {} workers give {}× the serial throughput. Not more, because the "
             "serial run already keeps {} cores busy", V(BATCH, "machine", "cores"),
             V(BATCH, "summary", "workers_2", fmt=lambda _: "2"),
             V(BATCH, "summary", "workers_2", "vs_serial", fmt=num(".2f")),
             V(BATCH, "summary", "serial", fmt=lambda n: f"{n['cpu_seconds'] / n['seconds']:.2f}")),
    Sentence(B, "Each worker holds its own models, about {} MiB.",
             V(BATCH, "summary", "workers_2", "worker_peak_mb", fmt=num(".0f"))),
    Sentence(B, "cost {} core-seconds each with every core busy; extrapolated from that (not "
             "measured), {} one-minute videos take about {} hours on one such {}-core machine, "
             "{} hours on {}, and {} hours on {} machines of {} cores",
             Value(BATCH, core_seconds_per_video),
             V(BATCH, "estimate", "files", fmt=num(",")),
             V(BATCH, "estimate", "rows", {"machines": 1, "cores_per_machine": 2}, "hours"),
             V(BATCH, "estimate", "rows", {"machines": 1, "cores_per_machine": 2},
               "cores_per_machine"),
             V(BATCH, "estimate", "rows", {"machines": 10, "cores_per_machine": 2}, "hours"),
             V(BATCH, "estimate", "rows", {"machines": 10, "cores_per_machine": 2}, "machines"),
             V(BATCH, "estimate", "rows", {"machines": 10, "cores_per_machine": 16}, "hours"),
             V(BATCH, "estimate", "rows", {"machines": 10, "cores_per_machine": 16},
               "machines"),
             V(BATCH, "estimate", "rows", {"machines": 10, "cores_per_machine": 16},
               "cores_per_machine")),
]
SKIPS += [
    Skip(B, r"\(130 for Ctrl-C, 143 for SIGTERM\)", "exit codes (README's table of them)"),
    Skip(R, r"after \d+ s of silence, under its", "how the demo clip is made (data_prep/"
         "make_demo_clip.py's constants, checked by tests/test_face_verdict.py)"),
    Skip(B, r"`LocalCluster` of \d+ worker processes|at least every \d+ s|\(schema version \d+|"
         r"`allowed-failures`, \d+\)|One-minute videos \(640×360, 30 fps",
         "settings and examples: cluster size of the example, commit interval, schema version, "
         "Dask's retry count, the clips' format"),
]

def _rule() -> dict:
    return json.loads((REPO / "saved_models/face_verdict.json").read_text())["rule"]


def _shortest_segment(inputs: dict) -> float:
    """Seconds of the shortest segment the shipped detector can report: one window."""
    f = inputs["frontend"]
    hop, patch = f["patch_hop"] * f["hop"] / f["sr"], f["patch_frames"] * f["hop"] / f["sr"]
    return (inputs["window_patches"] - 1) * hop + patch


# --- docs/face_fusion.md
F = "docs/face_fusion.md"
VERDICT = "saved_models/face_verdict.json"
CHECKS += [
    # the audio-visual verdict's constants, from its card
    *row(F, "frames per second", {"value": V(VERDICT, "rule", "fps", fmt=num(".0f"))}),
    *row(F, "crop margins", {"value": V(VERDICT, "rule", "margins", fmt=lambda m: (
        f"{m[0]:.2f} and {m[1]:.2f} of the face"))}),
    *row(F, "smoothing", {"value": V(VERDICT, "rule", fmt=lambda r: (
        f"rolling mean of the last {r['smoothing']} face frames "
        f"({r['smoothing'] / r['fps']:.0f} s)"))}),
    *row(F, "happy frame", {"value": V(VERDICT, "rule", fmt=lambda r: (
        f"P(happy) ≥ {r['happy_min']} and ≥ {r['happy_over_distress']:.0f} × "
        "P(angry + disgust + fear + sad)"))}),
    *row(F, "face seen", {"value": V(VERDICT, "rule", fmt=lambda r: (
        f"in ≥ {r['min_face_frames']} frames and ≥ half of the segment's frames"
        if r["min_face_share"] == 0.5 else "?"))}),
    *row(F, "veto", {"value": V(VERDICT, "rule", "min_happy_share", fmt=lambda v: (
        f"≥ {round(v * 3)}/3 of face frames happy, for every persistent face and both margins"))}),
    Sentence(F, "among tracks seen at least {} % as often, the smallest face",
             V(VERDICT, "child_rule", fmt=lambda t: t.split("at least ")[1].split(" %")[0])),
    Sentence(F, "on a 10-minute 720p video with {} s of crying took {} s as a whole process: {}× "
             "real time (load average {} when it started)",
             V(FV, "detect_api", {"finder": "yunet"}, "segment_seconds"),
             V(FV, "detect_cli", "process_s"), V(FV, "detect_cli", "realtime_factor"),
             V(FV, "detect_cli", "load_before", 0)),
    Sentence(F, "`benchmarks/results/face_verdict.md`; {} shared\ncores). Only the crying segments "
             "are decoded, at {} frames per second.",
             V(FV, "machine", "cores"), V(VERDICT, "rule", "fps", fmt=num(".0f"))),
    Sentence(F, "decoded to hand over {} per second",
             V(VERDICT, "rule", "fps", fmt=num(".0f"))),
    Sentence(F, "With the Haar fallback instead of YuNet the same video runs at {}× real time",
             V(FV, "detect_api", {"finder": "haar"}, "realtime_factor")),
    Sentence(F, "`cryvideo predict examples/demo.mp4` takes {} s as a whole process (median of {})",
             V(FV, "predict", "median_s"), V(FV, "predict", "repeats")),
    Sentence(F, "It starts {} ffmpeg processes, {} before issue 24",
             V(FFPROC, "results", "predict", "after", "processes", 0),
             V(FFPROC, "results", "predict", "before", "processes", 0)),
    Sentence(F, "It gives {} expression probabilities",
             V(VERDICT, "models", "expression", "labels", fmt=len)),
    Sentence(F, "at least {} looks at the shortest segment ({} s)",
             V(CARD, "inputs", fmt=lambda i: str(int(_shortest_segment(i) * _rule()["fps"]))),
             V(CARD, "inputs", fmt=lambda i: f"{_shortest_segment(i):.2f}")),
    Sentence(F, "on a quiet {}-core Intel Xeon (load average {} and {} when the backbone and "
             "the `predict` runs started", V(BACKBONE, "machine", "cores"),
             V(BACKBONE, "results", 0, "loadavg_before", 0),
             V(PREDICT, "results", 0, "loadavg_before", 0)),
    *row(F, "ResNet-50 TFLite XNNPACK, 2 threads (the `predict` default)", {
        "measured wall": V(BACKBONE, "results", {"backbone": "resnet50"}, fmt=lambda r: (
            f"{r['tflite_xnnpack_frames_per_s']:.1f} frames/s** (bound for AVX2+FMA ≈ "
            f"{r['bound_frames_per_s_2_cores']:.0f}; this CPU has AVX-512, ≈ 2× that)"))},
        table="| measured wall |"),
    *row(F, "ResNet-50 Keras traced graph", {
        "measured wall": V(BACKBONE, "results", {"backbone": "resnet50"},
                           "keras_graph_frames_per_s", fmt=lambda v: f"{v:.1f} frames/s")},
         table="| measured wall |"),
    *(c for fps, key in ((5.0, "default_fps"), (30.0, "30fps")) for c in row(
        F, f"`predict` 15 s 720p clip, {fps:.0f} fps ({75 if fps == 5 else 450} frames)", {
            "measured wall": V(PREDICT, "results", {"fps": fps}, "wall_s",
                               fmt=lambda v: f"{v:.1f} s"),
            "target": V(PREDICT, "targets_s", key, fmt=lambda v: f"< {v} s")},
        table="| measured wall |")),
    Sentence(F, "`predict` 15 s 720p clip, 5 fps ({} frames)",
             V(PREDICT, "results", {"fps": 5.0}, "frames")),
    Sentence(F, "`predict` 15 s 720p clip, 30 fps ({} frames)",
             V(PREDICT, "results", {"fps": 30.0}, "frames")),
]
SKIPS += [
    Skip("*", r"about 35,000 (?:48×48 )?grey faces|`fer` package 25\.10\.3|Haar box \+ 10 px",
         "facts about the expression model (its README): training-set size, package version, "
         "the crop its package makes"),
    Skip(F, r"\(measured: fusion balanced accuracy [\d.]+ while the face branch alone had [\d.]+ "
         r"on the synthetic set\)|\(0\.96 after the change\)|^Synthetic check.*|"
         r"^\| (?:true|shuffled) labels.*",
         "the synthetic check of tests/test_face_fusion.py: what the test measures and asserts, "
         "not a results file"),
    Skip(F, r"\[-1, 1\]|issue \d+|default from the face head's card, else \d+|"
         r"At 30 fps a 15 s clip is 450 ResNet-50 frames \(~20 s of backbone time at the "
         r"2-core bound\); at 5 fps it is 75|at 5 and 30 fps|\(\d+× its size, at sizes "
         r"[\d.]+–[\d.]+× the last one, downscaled so the face is ~\d+ px\)|\(\d+ % of the "
         r"short side\) is \d+ px|batched \(\d+\)",
         "design and arithmetic: input ranges, issue numbers, the tracker's search window, "
         "frames per clip"),
    Skip(F, r"Measured on the demo clip \(480×360, 240 frames, loaded machine\): 111 ms/frame "
         r"for `detect_face` on the full frame vs 4\.0 ms/frame for the tracker, same 240/240",
         "measured once when the tracker was written; no results file keeps it"),
    Skip(F, r"TFLite was 2\.4× faster \(19\.9 vs 8\.4 frames/s\)|at load 7–9 measured 4\.8 "
         r"frames/s, 15\.4 s and 84 s", "the design notes' and an earlier run's figures "
         "(history, said as such)"),
]


# --- docs/panns.md
@cache
def rendered(results: str, writer: str) -> Callable[[Path], str]:
    """A results report as its writer renders it from the committed JSON."""
    def source(repo: Path) -> str:
        from cryvideo.studies import panns_report

        return getattr(panns_report, writer)(json.loads((repo / results).read_text()))
    return source


def committed(results: str) -> Callable[[Path], str]:
    """A committed results report, as it is."""
    return lambda repo: (repo / results).read_text(encoding="utf-8")


P = "docs/panns.md"
POOL_MD = rendered(POOL, "pooling_markdown")
COMP_MD = rendered(COMP, "compression_markdown")
LAT_MD = committed(f"{RES}/panns_latency.md")
COMP_FOLDS = f"{RES}/panns_compression_folds.json"


def comp(model: str, *path, fmt: Callable = pct()) -> Value:
    return V(COMP, "rows", model, *path, fmt=fmt)


def per_seed_f1(model: str) -> Value:
    return comp(model, "f1", "per_repeat", fmt=lambda v: " / ".join(f"{100 * x:.1f}" for x in v))


def kib(n: int) -> str:
    return f"{n / 1024:.0f}"


def called_per_recording(rows: dict, category: str, *, students: bool = False) -> list:
    """Per-recording share of a category called crying, of the float models (the list under
    the compression table: no quantized copies)"""
    return [v["called_cry_by_category"][category]["rate_per_recording"]
            for k, v in rows.items() if ("+" not in k or k.endswith("+kd"))
            and not (students and k.startswith("cnn14"))]


def size_ratios(sizes: dict) -> list[float]:
    """float32 over quantized size of each model, in KiB as the table writes them"""
    return [round(b["float32"] / 1024) / round(b[q] / 1024) for b in sizes.values()
            for q in ("dynamic", "int8")]


CHECKS += [
    Copied(P, "Reason classification on Donateacry (457 clips", POOL_MD,
           "panns_pooling.md as rendered from panns_pooling.json"),
    Copied(P, "| pooling | paper acc.", POOL_MD, "panns_pooling.md as rendered", table=True),
    Copied(P, "Chance balanced accuracy is 20 %.", POOL_MD, "panns_pooling.md as rendered"),
    Copied(P, "Compression on the cry-detection task:", COMP_MD,
           "panns_compression.md as rendered from panns_compression.json"),
    Copied(P, "| model | params |", COMP_MD, "panns_compression.md as rendered", table=True),
    *(Copied(P, f"* {m}:", COMP_MD, "panns_compression.md as rendered") for m in (
        "cnn14_w0.125", "resnet22_w0.0625", "resnet22_w0.0625+kd", "cnn10_w0.125",
        "cnn10_w0.125+kd")),
    Copied(P, "Cry detector latency, one thread,", LAT_MD, "panns_latency.md"),
    Copied(P, "| model | size KiB | ms per clip |", LAT_MD, "panns_latency.md", table=True),
    *row(P, "TFLite size (bytes)", {
        k: V("saved_models/cry_detector.json", "metrics", "tflite_bytes", k,
             fmt=lambda n: f"{n:,}".replace(",", " ")) for k in ("float32", "dynamic", "int8")},
         table="| float32 | dynamic | int8 |"),
    Sentence(P, "`saved_models/cry_detector.keras` (trained on all {} + {} clips",
             V(COMP, "data", "n_clips"), V(DA, "class_sets", "all5", "n_clips")),
    Sentence(P, "CNN10 at **width 1/{}** (channels 8-16-32-64, {} k parameters;",
             V(COMP, "students", 1, 1, fmt=lambda w: f"{1 / w:.0f}"),
             V(COMP, "params", fmt=lambda p: f"{p['cnn10_w0.125'] / 1000:.0f}")),
    Sentence(P, "{} epochs of random 2 s crops",
             V("saved_models/cry_detector.json", "training", "epochs")),
    Sentence(P, "int8 is **{}× smaller than the float32 TFLite** (the like-for-like comparison) "
             "and {}× smaller than the `.keras` file ({} B). At {} k parameters",
             V(LAT, "rows", fmt=lambda r: f"{r[1]['bytes'] / r[3]['bytes']:.2f}"),
             V(LAT, "rows", fmt=lambda r: f"{r[0]['bytes'] / r[3]['bytes']:.1f}"),
             V(LAT, "rows", 0, "bytes", fmt=lambda n: f"{n:,}".replace(",", " ")),
             V(COMP, "params", fmt=lambda p: f"{p['cnn10_w0.125'] / 1000:.0f}")),
    Sentence(P, "the wider teacher in the compression table reaches ~{}×.",
             V(COMP, "tflite_bytes", "cnn14_w0.125",
               fmt=lambda b: f"{b['float32'] / b['int8']:.1f}")),
    Sentence(P, "1024-d every 0.48 s, ~{} frames per clip) with a per-frame Dense(128) before the "
             "pooling and a softmax after it, class-weighted loss, {} epochs.",
             V(POOL, "frames"), V(POOL, "epochs")),
    Sentence(P, "Three seeds (each repeat of the grouped {}-fold CV", V(POOL, "n_splits")),
    Sentence(P, "over three seeds it is {} % (per seed {} %), and every head's interval covers "
             "{} %.", V(POOL, "rows", "mha", "balanced_accuracy", "estimate", fmt=pct()),
             V(POOL, "rows", "mha", "balanced_accuracy", fmt=seeds()),
             V(POOL, "labels", fmt=lambda v: f"{100 / len(v):.0f}")),
    Sentence(P, "teacher CNN14 width 1/{}, students ResNet22 width 1/{} and CNN10 width 1/{}",
             V(COMP, "teacher", 1, fmt=lambda w: f"{1 / w:.0f}"),
             V(COMP, "students", 0, 1, fmt=lambda w: f"{1 / w:.0f}"),
             V(COMP, "students", 1, 1, fmt=lambda w: f"{1 / w:.0f}")),
    Sentence(P, "T = {}, α = {}), and TFLite dynamic-range / int8 copies of each. Every fold of "
             "{} seeds (each seed its own grouped split and training seeds; {} epochs; the folds' "
             "own times add up to {} min on this shared {}-core machine at load average {} when "
             "the run started", V(COMP, "temperature", fmt=num("g")), V(COMP, "alpha"),
             V(COMP, "n_seeds"), V(COMP, "epochs"),
             V(COMP_FOLDS, "folds",
               fmt=lambda f: f"{sum(v['seconds'] for v in f.values()) / 60:.0f}"),
             V(COMP, "cores"), V(COMP, "loadavg_1_5_15", 0)),
    Sentence(P, "interval over the {} source recordings;", V(COMP, "data", "n_recordings")),
    Sentence(P, "(the teacher's F1 {}): {} recordings,", comp("cnn14_w0.125", "f1", fmt=iv()),
             V(COMP, "data", "n_recordings")),
    Sentence(P, "at {}–{}× less size (e.g. the teacher {} → {} KiB)",
             V(COMP, "tflite_bytes", fmt=lambda b: f"{min(size_ratios(b)):.1f}"),
             V(COMP, "tflite_bytes", fmt=lambda b: f"{max(size_ratios(b)):.1f}"),
             V(COMP, "tflite_bytes", "cnn14_w0.125", "float32", fmt=kib),
             V(COMP, "tflite_bytes", "cnn14_w0.125", "int8", fmt=kib)),
    Sentence(P, "ResNet22 without KD {}, with KD {}; CNN10 without KD {}, with KD {}. The gap "
             "holds in every seed (ResNet22 per seed {} without KD, {} with; CNN10 {} without, "
             "{} with). The students learn the teacher's caution: their recall falls (CNN10 {} % "
             "→ {} %)",
             *(comp(m, "f1", fmt=iv()) for m in ("resnet22_w0.0625", "resnet22_w0.0625+kd",
                                                 "cnn10_w0.125", "cnn10_w0.125+kd")),
             *(per_seed_f1(m) for m in ("resnet22_w0.0625", "resnet22_w0.0625+kd",
                                        "cnn10_w0.125", "cnn10_w0.125+kd")),
             comp("cnn10_w0.125", "recall", "estimate"),
             comp("cnn10_w0.125+kd", "recall", "estimate")),
    Sentence(P, "width 1/{}, F1 {}, below both of its students",
             V(COMP, "teacher", 1, fmt=lambda w: f"{1 / w:.0f}"),
             comp("cnn14_w0.125", "f1", "estimate")),
    Sentence(P, "(the teacher {} against {}).", comp("cnn14_w0.125", "f1_group_weighted",
                                                     "estimate"),
             comp("cnn14_w0.125", "f1", "estimate")),
    Sentence(P, "(the teacher finds {} % of cry clips, {} % per recording)",
             comp("cnn14_w0.125", "called_cry_by_category", "cry", "rate"),
             comp("cnn14_w0.125", "called_cry_by_category", "cry", "rate_per_recording")),
    Sentence(P, "({}–{} % per recording, list under the table)",
             V(COMP, "rows", fmt=lambda r: f"{100 * min(called_per_recording(r, 'noise')):.1f}"),
             V(COMP, "rows", fmt=lambda r: f"{100 * max(called_per_recording(r, 'noise')):.1f}")),
    Sentence(P, "({} % of its clips, {} % per recording); the students hardly ever (≤ {} %).",
             comp("cnn14_w0.125", "called_cry_by_category", "laugh", "rate"),
             comp("cnn14_w0.125", "called_cry_by_category", "laugh", "rate_per_recording"),
             V(COMP, "rows", fmt=lambda r: (
                 f"{100 * max(called_per_recording(r, 'laugh', students=True)):.1f}"))),
    Sentence(P, "(CNN14 {} ms per 10 s clip in float32, {} dynamic, {} int8)",
             *(V(COMP, "window_latency_s", "cnn14_w0.125", q, fmt=lambda s: f"{17000 * s:.1f}")
               for q in ("float32", "dynamic", "int8"))),
    *row(P, "quantized detector ≥ 3.5× smaller, ≤ 1 pt F1 lost", {
        "status": V(LAT, "rows", fmt=lambda r: (
            f"int8 {r[1]['bytes'] / r[3]['bytes']:.2f}× smaller than the float32 TFLite "
            f"({r[0]['bytes'] / r[3]['bytes']:.1f}× than the `.keras`): **not met**; F1 lost: "
            "see `docs/detection.md`"))}, table="| criterion | status |"),
    *row(P, "≥ 100× faster than real time on one core", {
        "status": V(LAT, "rows", fmt=lambda r: (
            f"met: int8 {r[3]['realtime_factor']:.0f}×, float32 TFLite "
            f"{r[1]['realtime_factor']:.0f}× (log-mel included)"))},
         table="| criterion | status |"),
    *row(P, "pooling and compression tables produced by the benchmark command", {
        "status": V(POOL, "n_repeats", fmt=lambda n: (
            f"in `benchmarks/results/`: pooling {n} seeds, compression every fold of 3 seeds, "
            "both with group-bootstrap intervals"))}, table="| criterion | status |"),
]
SKIPS += [
    Skip(P, r"^\| `(?:audio|models|training|detection|studies)/.*",
         "the modules table: parameters of the code (front end, widths, pooling)"),
    Skip(P, r"scores 2 s windows \(201 frames\) every 0\.5 s|windows are scored 256 at a time|"
         r"windows overlap by 4 s|ours fixed at 0\.5|far beyond 2 shared CPU cores|"
         r"channels 8-16-32-64|"
         r"the same 4-block architecture as the paper's 64-128-256-512 network|random 2 s crops|"
         r"Full width was beyond the shared 2-core machine|under 3\.5×|Dense\(128\)|"
         r"1024-d every 0\.48 s|\(527 sigmoid outputs\)|max abs difference < 2e-5|"
         r"T²|\(1 − α\)|\(−7 pt against a strong pretrained CNN14\)|"
         r"-128-256-512|10 s clip\b|median of 30 runs|medians of 30 runs|one-thread TFLite",
         "design and settings of the models, the detector and the studies (their code and "
         "cards), and the paper's figures"),
    Skip(P, r"starts ~40× faster than a Keras model's first call",
         "measured when the gate was switched to its TFLite twin; no results file keeps it"),
    Skip(P, r"per-clip F1 over overlapping 5 s windows, t-intervals over 5 folds|outside "
         r"\[0, 100 %\]|alone took ~30 min of the session's CPU|The earlier two-repeat run put "
         r"multi-head attention at 24\.0 % with a t-interval over folds of \[19\.8, 28\.2\]|"
         r"balanced accuracy ≈ 0\.20\)",
         "history: the retired evaluation, an earlier run, the design notes (said as such)"),
]


# --- docs/audio_branches.md
A = "docs/audio_branches.md"


def ae(row_name: str, metric: str, fmt: Callable = iv()) -> Value:
    return V(AE, "rows", row_name, "summary", metric, fmt=fmt)


def per_repeat(v) -> str:
    return ", ".join(f"{100 * x:.1f}" for x in v)


def ae_range(protocol: str, part: str = "balanced_accuracy") -> Value:
    """min–max of the reference baselines"""
    return V(AE, "baselines", protocol, fmt=lambda b: (
        f"{100 * min(r[part]['estimate'] for r in b.values()):.1f}–"
        f"{100 * max(r[part]['estimate'] for r in b.values()):.1f}"))


CHECKS += [
    Sentence(A, "autoencoder trained on {} clips;", V(AE, "data", "n_clips")),
    Sentence(A, "(hungry {} of {} = {} %)", V(AE, "data", "class_counts", "hungry"),
             V(AE, "data", "n_clips"),
             V(AE, "data", fmt=hungry_share)),
    Sentence(A, "StratifiedGroupKFold, {} of the training clips), patience {}, best weights "
             "restored; at most {} (autoencoder) and {} (classifier) epochs.",
             V(AE, "hyperparameters", "val_fraction", fmt=lambda f: f"1/{1 / f:.0f}"),
             V(AE, "hyperparameters", "patience"), V(AE, "hyperparameters", "ae_epochs"),
             V(AE, "hyperparameters", "clf_epochs")),
    Sentence(A, "{} copies per clip, training clips only", V(AE, "data", "n_aug")),
    Sentence(A, "({} clips drawn with a fixed seed from", V(AE, "data", "backgrounds")),
    Sentence(A, "StratifiedGroupKFold by UUID, {} folds × {} repeats (the honest protocol",
             V(AE, "config", "folds"), V(AE, "config", "grouped_repeats")),
    Sentence(A, "stratified random 70/30 split, {} repeats — leaky", V(AE, "config",
                                                                      "paper_repeats")),
    Sentence(A, "{} clips, {} UUIDs, {} classes. Chance / majority (\"always hungry\"): balanced "
             "accuracy {} %, macro-F1 {} %, accuracy {} %.", V(AE, "data", "n_clips"),
             V(AE, "data", "n_uuids"), V(AE, "data", "class_counts", fmt=len),
             *(ae("AE+DNN (MFCC) / grouped", f"majority_{m}", fmt=est())
               for m in ("balanced_accuracy", "macro_f1", "accuracy"))),
    Sentence(A, "| grouped (honest), {} folds × {} repeats |", V(AE, "config", "folds"),
             V(AE, "config", "grouped_repeats")),
    *(c for i, (key, r) in enumerate((("AE+DNN (MFCC)", "AE+DNN (MFCC) / grouped"),
                                      ("AE+DNN (STFT)", "AE+DNN (STFT) / grouped")))
      for c in row(A, key, {
          "balanced acc.": ae(r, "balanced_accuracy"), "macro-F1": ae(r, "macro_f1"),
          "accuracy": ae(r, "accuracy"),
          "bal. acc. per repeat": ae(r, "balanced_accuracy",
                                     fmt=lambda n: per_repeat(n["per_repeat"])),
          "family-wise p (bal. acc.)": V(AE, "permutation", "pvalue_familywise", i,
                                         fmt=num(".3f"))},
          table="| grouped (honest)")),
    *row(A, "majority baseline", {
        "balanced acc.": ae("AE+DNN (MFCC) / grouped", "majority_balanced_accuracy"),
        "macro-F1": ae("AE+DNN (MFCC) / grouped", "majority_macro_f1"),
        "accuracy": ae("AE+DNN (MFCC) / grouped", "majority_accuracy")},
         table="| grouped (honest)"),
    Sentence(A, "| paper split (random 70/30 × {}, LEAKY: {} % of test clips share an install "
             "with training) |", V(AE, "config", "paper_repeats"),
             V(AE, "rows", "AE+DNN (MFCC) / paper", "folds",
               fmt=lambda f: f"{100 * sum(x['leakage'] for x in f) / len(f):.1f}")),
    *(c for key in ("AE+DNN (MFCC)", "AE+DNN (STFT)") for c in row(A, key, {
        "balanced acc.": ae(f"{key} / paper", "balanced_accuracy"),
        "macro-F1": ae(f"{key} / paper", "macro_f1"),
        "accuracy": ae(f"{key} / paper", "accuracy"),
        "bal. acc. per repeat": ae(f"{key} / paper", "balanced_accuracy",
                                   fmt=lambda n: per_repeat(n["per_repeat"]))},
        table="| paper split")),
    Sentence(A, "grouped balanced accuracy {} % (best: RF (balanced) (STFT), {}); under the "
             "leaky split {} % (best: LogReg (balanced) (STFT), {}).", ae_range("grouped"),
             V(AE, "baselines", "grouped", "RF (balanced) (STFT)", "balanced_accuracy",
               fmt=iv()), ae_range("paper"),
             V(AE, "baselines", "paper", "LogReg (balanced) (STFT)", "balanced_accuracy",
               fmt=iv())),
    Sentence(A, "Both pooled estimates are at or below {} %",
             ae("AE+DNN (MFCC) / grouped", "majority_balanced_accuracy",
                fmt=lambda n: f"{100 * n['estimate']:.0f}")),
    Sentence(A, "(`--permutation-only`, {} permutations, so p could fall to {}; each permutation "
             "refits {} classifier heads; {} min) gives family-wise p = {} (MFCC) and {} (STFT)",
             V(AE, "permutation", "n_permutations"),
             V(AE, "permutation", "min_pvalue", fmt=num(".3f")),
             V(AE, "permutation", "refit_of_repeat_1",
               fmt=lambda r: str(sum(v["folds"] for v in r.values()))),
             V(AE, "permutation", "seconds", fmt=lambda s: f"{s / 60:.0f}"),
             *(V(AE, "permutation", "pvalue_familywise", i, fmt=num(".3f")) for i in (0, 1))),
    Sentence(A, "({} of {} folds predict exactly as in the rows' run), so its observed values "
             "(MFCC {} %, STFT {} %) are the refit's, not the rows' repeat-1 values ({} %, {} %). "
             "The spread over seeds is wide (MFCC per repeat {} %)",
             V(AE, "permutation", "refit_of_repeat_1", "mfcc",
               "folds_with_identical_predictions"),
             V(AE, "permutation", "refit_of_repeat_1", "mfcc", "folds"),
             *(V(AE, "permutation", "observed", i, fmt=pct()) for i in (0, 1)),
             *(ae(f"AE+DNN ({k}) / grouped", "balanced_accuracy",
                  fmt=lambda n: f"{100 * n['per_repeat'][0]:.1f}") for k in ("MFCC", "STFT")),
             ae("AE+DNN (MFCC) / grouped", "balanced_accuracy",
                fmt=lambda n: per_repeat(n["per_repeat"]))),
    Sentence(A, "The leaky random split lifts balanced accuracy to {}–{} %",
             ae("AE+DNN (MFCC) / paper", "balanced_accuracy", fmt=est()),
             ae("AE+DNN (STFT) / paper", "balanced_accuracy", fmt=est())),
    Sentence(A, "The paper's {} (random split, its own 3-class data)",
             V(AE, "paper_claims", fmt=lambda c: next(iter(c.values())).split(" accuracy")[0])),
    Sentence(A, "Accuracy is low ({}–{} %)",
             ae("AE+DNN (MFCC) / grouped", "accuracy", fmt=est()),
             ae("AE+DNN (STFT) / grouped", "accuracy", fmt=est())),
    Sentence(A, "not to Donateacry's {} % hungry",
             V(AE, "data", fmt=hungry_share)),
]
SKIPS += [
    Skip(A, r"the 7-s matrices \(8 760 and 56 283 values\)|a 9-column time grid|"
         r"time stretch ±10 % \(p 0\.5\), pitch shift ±2 semitones \(p 0\.5\)|at 5–20 dB SNR "
         r"\(p 0\.6\), else white noise at 10–30 dB|7-s windows with 50 % overlap|"
         r"random 70/30|paper split \(random 70/30", "design of the branches (their code and "
         "cards)"),
    Skip(A, r"on this shared 2-core machine, niced under load",
         "the machine of the rows' run (its load was not recorded)"),
    Skip(A, r"refit of repeat 1 with", "which repeat was refitted (a name)"),
    Skip(A, r"validation MSE ≈ 1\.07 → ≈ 0\.68 for MFCC, ≈ 0\.63 → ≈ 0\.13 for STFT",
         "read off saved_models/audio_training_curves.png, as the sentence says"),
    Skip(A, r"tones vs noise to > 95 %", "what tests/test_ae_dnn.py asserts"),
    Skip(A, r"The models are ~250 kB and ~210 kB",
         "sizes of the bundled files in saved_models/ (ls)"),
]


# --- docs/benchmarks.md
BM = "docs/benchmarks.md"
MODELS = ("SVM", "Naive Bayes", "Random Forest", "Decision Tree", "k-NN", "DNN")


def da(cs: str, protocol: str, model: str, feature: str, metric: str,
       fmt: Callable = iv()) -> Value:
    return V(DA, "summaries", _row(cs, protocol, model, feature), metric, fmt=fmt)


def da_range(cs: str, protocol: str, metric: str) -> Value:
    """min–max over the 12 model/feature pairs"""
    def fmt(rows):
        v = [r[metric]["estimate"] for r in rows if r["class_set"] == cs
             and r["protocol"] == protocol and r["model"] in MODELS]
        return f"{100 * min(v):.1f}–{100 * max(v):.1f}"
    return V(DA, "summaries", fmt=fmt)


def best_knn_accuracy(rows: list) -> str:
    """the best 5-class grouped accuracy of k-NN (the 84 % majority)"""
    acc = [r["accuracy"]["estimate"] for r in rows if r["class_set"] == "all5"
           and r["protocol"] == "grouped" and r["model"] == "k-NN"]
    return f"{100 * max(acc):.1f}"


def grouped_leakage(lk: dict) -> str:
    """the largest leakage of any grouped split, in percent"""
    return f"{100 * max(v['max'] for k, v in lk.items() if k.endswith('/grouped')):.0f}"


def chance(cs: str) -> Value:
    return V(DA, "class_sets", cs, "classes", fmt=lambda c: f"{100 / len(c):.0f}")


def counts(cs: str, *names: str) -> Value:
    return V(DA, "class_sets", cs, "counts", fmt=lambda c: ", ".join(f"{n} ({c[n]})"
                                                                   for n in names))


CHECKS += [
    Sentence(BM, "k-NN and a DNN on STFT and on MFCC features of Donateacry, {} classes, one "
             "stratified 70/30 random split — and reports {} % accuracy.",
             V(DA, "class_sets", "paper4", "classes", fmt=len),
             V(DA, "paper_table2_pct", fmt=lambda t: (
                 f"{min(min(v.values()) for v in t.values()):.0f}–"
                 f"{max(max(v.values()) for v in t.values()):.0f}"))),
    Sentence(BM, "decoded at {} kHz mono, centre-cropped / zero-padded to {} s,",
             V(DA, "feature_params", "sr", fmt=lambda v: f"{v / 1000:.0f}"),
             V(DA, "feature_params", "duration", fmt=num("g"))),
    Sentence(BM, "From it: {} MFCCs ({} mel bands) and the log-magnitude STFT in dB ({} bins), "
             "`n_fft` {}, hop {} → {} frames. Classifiers get the per-coefficient mean and "
             "standard deviation over time ({} values for MFCC, {} for STFT).",
             V(DA, "feature_params", "n_mfcc"), V(DA, "feature_params", "n_mels"),
             V(DA, "feature_params", fmt=lambda p: str(p["n_fft"] // 2 + 1)),
             V(DA, "feature_params", "n_fft"), V(DA, "feature_params", "hop_length"),
             V(DA, "feature_params", fmt=lambda p: str(1 + int(p["sr"] * p["duration"])
                                                       // p["hop_length"])),
             V(DA, "feature_params", fmt=lambda p: str(2 * p["n_mfcc"])),
             V(DA, "feature_params", fmt=lambda p: str(2 * (p["n_fft"] // 2 + 1)))),
    Sentence(BM, "| {} seeds | **yes**: {} % of test clips share their app install",
             V(DA, "config", fmt=lambda _: "5"),
             V(DA, "leakage", fmt=lambda lk: (
                 f"{100 * min(v['mean'] for k, v in lk.items() if k.endswith('/paper')):.0f}–"
                 f"{100 * max(v['mean'] for k, v in lk.items() if k.endswith('/paper')):.0f}"))),
    Sentence(BM, "grouped by app-install UUID | {} folds × {} repeats (repeat r: its own split "
             "and model seed {} + r) | no (measured: {} %;", V(DA, "config", "n_splits"),
             V(DA, "config", "grouped_repeats"), V(DA, "config", "seed"),
             V(DA, "leakage", "all5/grouped", "max", fmt=num(".0f"))),
    Sentence(BM, "Donateacry's {} clips come from {} app installs",
             V(DA, "class_sets", "all5", "n_clips"), V(DA, "class_sets", "all5", "n_installs")),
    Sentence(BM, "the test parts of the {} random splits)", V(DA, "leakage", "all5/paper",
                                                              "per_split", fmt=len)),
    Sentence(BM, "permutation test** over all {} grouped model/feature pairs",
             V(DA, "permutation", "all5/grouped", "n_candidates")),
    Sentence(BM, "are drawn with replacement, {} times,", V(DA, "config", "n_boot")),
    Sentence(BM, "(burping: {} clips)", V(DA, "class_sets", "all5", "counts", "burping")),
    Sentence(BM, "all {} model/feature pairs are refitted", V(DA, "permutation", "all5/grouped",
                                                             "n_candidates")),
    Sentence(BM, "make the *best* of the {} pairs look at least this good — so it already pays "
             "for having looked at {} pairs", *(V(DA, "permutation", "all5/grouped",
                                                   "n_candidates") for _ in range(2))),
    Sentence(BM, "the benchmark's default, {} permutations per class set, lets p fall to {}.",
             V(DA, "config", "n_permutations"),
             V(DA, "permutation", "all5/grouped", "min_pvalue", fmt=num(".3f"))),
    Sentence(BM, "with {} clips from {} installs (paper4) the test has little power",
             V(DA, "class_sets", "paper4", "n_clips"), V(DA, "class_sets", "paper4",
                                                         "n_installs")),
    Sentence(BM, "(each permutation refits {} models)", V(DA, "permutation", "all5/grouped",
                                                          "n_fits_per_permutation")),
    Sentence(BM, "| `paper4` | {} | {} clips, {} installs |",
             counts("paper4", "belly_pain", "burping", "discomfort", "tired"),
             V(DA, "class_sets", "paper4", "n_clips"), V(DA, "class_sets", "paper4",
                                                         "n_installs")),
    Sentence(BM, "| `paper4h` | {}, {} random hungry clips | {} clips, {} installs |",
             counts("paper4h", "belly_pain", "discomfort", "tired"),
             V(DA, "class_sets", "paper4h", "subsample", "hungry"),
             V(DA, "class_sets", "paper4h", "n_clips"),
             V(DA, "class_sets", "paper4h", "n_installs")),
    Sentence(BM, "| `all5` | the five folders: + hungry ({}) | {} clips, {} installs |",
             V(DA, "class_sets", "all5", "counts", "hungry"),
             V(DA, "class_sets", "all5", "n_clips"), V(DA, "class_sets", "all5", "n_installs")),
    Sentence(BM, "the paper's counts stomachache {}, discomfort {}, fatigue {} match",
             *(V(DA, "class_sets", "paper4", "counts", c) for c in ("belly_pain", "discomfort",
                                                                    "tired"))),
    Sentence(BM, "(the only other non-hungry folder, {} clips)",
             V(DA, "class_sets", "all5", "counts", "burping")),
    Sentence(BM, "multiples of 1/24 ({} = 11/24, {} = 16/24, {} = 19/24, {} = 20/24, {} = 13/24, "
             "{} = 12/24;", *(V(DA, "paper_table2_pct", m, f, fmt=num(".2f")) for m, f in (
                 ("SVM", "stft"), ("SVM", "mfcc"), ("Random Forest", "stft"),
                 ("Random Forest", "mfcc"), ("k-NN", "stft"), ("k-NN", "mfcc")))),
    Sentence(BM, "burping would make {} clips", V(DA, "class_sets", "paper4", "n_clips")),
    Sentence(BM, "belly_pain, discomfort, tired and {} *hungry* clips drawn at random (seeded), "
             "{} clips and {} test clips.", V(DA, "class_sets", "paper4h", "subsample", "hungry"),
             V(DA, "class_sets", "paper4h", "n_clips"),
             V(DA, "class_sets", "paper4h", "n_clips",
               fmt=lambda n: f"{-(-n * 3 // 10)}")),
    Sentence(BM, "merged \"cold/hot\" into discomfort (7 of its {} clips).",
             V(DA, "class_sets", "all5", "counts", "discomfort")),
    Sentence(BM, "because Donateacry is {} % hungry",
             V(DA, "class_sets", "all5", fmt=hungry_share)),
    Sentence(BM, "both protocols, {} models × {} features; shared {}-core machine at load average "
             "{} when it started, niced, one BLAS thread; {} s of CPU",
             V(DA, "config", "models", fmt=len), V(DA, "config", "features", fmt=len),
             V(DA, "machine", "cpu_count"), V(DA, "machine", "load_average_1min"),
             V(DA, "timing", "benchmark_cpu_s", fmt=lambda v: f"{v:,.0f}".replace(",", " "))),
    Sentence(BM, "On the paper's {} classes (paper4, {} clips) under the 70/30 random split, every "
             "model scores {} % accuracy (paper: {} %), around the majority-class baseline ({} %). "
             "Best leaky balanced accuracy: SVM on STFT {} % (chance {} %).",
             V(DA, "class_sets", "paper4", "classes", fmt=len),
             V(DA, "class_sets", "paper4", "n_clips"), da_range("paper4", "paper", "accuracy"),
             V(DA, "paper_table2_pct", fmt=lambda t: (
                 f"{min(min(v.values()) for v in t.values()):.0f}–"
                 f"{max(max(v.values()) for v in t.values()):.0f}")),
             da("paper4", "paper", "Majority class", "-", "accuracy", fmt=est()),
             da("paper4", "paper", "SVM", "stft", "balanced_accuracy"), chance("paper4")),
    Sentence(BM, "paper4: balanced accuracy {} % (chance {} %); the best, Random Forest on STFT, "
             "{} %, has family-wise p = {} ({} permutations; the least possible p is {}). Its "
             "interval reaches from below chance to {} %: with {} clips from {} installs",
             da_range("paper4", "grouped", "balanced_accuracy"), chance("paper4"),
             da("paper4", "grouped", "Random Forest", "stft", "balanced_accuracy"),
             V(DA, "permutation", "paper4/grouped", "pvalue", fmt=num(".3f")),
             V(DA, "permutation", "paper4/grouped", "n_permutations"),
             V(DA, "permutation", "paper4/grouped", "min_pvalue", fmt=num(".3f")),
             da("paper4", "grouped", "Random Forest", "stft", "balanced_accuracy",
                fmt=lambda n: f"{100 * n['high']:.1f}"),
             V(DA, "class_sets", "paper4", "n_clips"), V(DA, "class_sets", "paper4",
                                                         "n_installs")),
    Sentence(BM, "best k-NN on STFT, {} %, p = {}. all5: balanced accuracy {} % (chance {} %), "
             "best Decision Tree on STFT {} %, p = {}. High {}-class accuracies (k-NN {} %) are "
             "the {} % \"hungry\" majority, not skill: the majority baseline alone scores {} %.",
             da("paper4h", "grouped", "k-NN", "stft", "balanced_accuracy"),
             V(DA, "permutation", "paper4h/grouped", "pvalue", fmt=num(".3f")),
             da_range("all5", "grouped", "balanced_accuracy"), chance("all5"),
             da("all5", "grouped", "Decision Tree", "stft", "balanced_accuracy"),
             V(DA, "permutation", "all5/grouped", "pvalue", fmt=num(".3f")),
             V(DA, "class_sets", "all5", "classes", fmt=len),
             V(DA, "summaries", fmt=best_knn_accuracy),
             V(DA, "class_sets", "all5", fmt=hungry_share),
             da("all5", "grouped", "Majority class", "-", "accuracy",
                fmt=lambda n: f"{100 * n['estimate']:.1f}")),
    Sentence(BM, "are rows of the {}-class table: grouped balanced accuracy {} % (MFCC) and {} % "
             "(STFT) — at or below chance, like the baselines (the paper claims {} on its own "
             "data).", V(AE, "data", "class_counts", fmt=len),
             V(AE, "rows", "AE+DNN (MFCC) / grouped", "summary", "balanced_accuracy", fmt=iv()),
             V(AE, "rows", "AE+DNN (STFT) / grouped", "summary", "balanced_accuracy", fmt=iv()),
             V(AE, "paper_claims", fmt=lambda c: next(iter(c.values())).split(" accuracy")[0])),
    Sentence(BM, "**Leakage of the random split, measured:** {} % (paper4), {} % (paper4h) and "
             "{} % (all5) of test clips have their app install in the training set; {} % under the "
             "grouped protocol.",
             *(V(DA, "leakage", f"{c}/paper", "mean", fmt=pct()) for c in ("paper4", "paper4h",
                                                                          "all5")),
             V(DA, "leakage", fmt=grouped_leakage)),
    Sentence(BM, "the family-wise test over all {} pairs, with enough permutations, gives {}.",
             V(DA, "permutation", "paper4/grouped", "n_candidates"),
             V(DA, "permutation", "paper4/grouped", "pvalue", fmt=num(".3f"))),
    Sentence(BM, "cold feature cache **{} s** wall / {} s CPU (limit {} s: met); warm cache **{} "
             "s** wall / {} s CPU (limit {} s: met).",
             V(DA_TIMING, "runs", "cold", "wall_s"), V(DA_TIMING, "runs", "cold", "cpu_s",
                                                       fmt=num(".0f")),
             V(DA_TIMING, "runs", "cold", "limit_s", fmt=num(".0f")),
             V(DA_TIMING, "runs", "warm", "wall_s"), V(DA_TIMING, "runs", "warm", "cpu_s"),
             V(DA_TIMING, "runs", "warm", "limit_s", fmt=num(".0f"))),
    Sentence(BM, "(`timing`: {} s for the table's fits;", V(DA, "timing", "fits_cpu_s",
                                                            fmt=num(".1f"))),
    Sentence(BM, "The max-statistic test refits all {} pairs on {} folds ({} fits) per "
             "permutation", V(DA, "permutation", "all5/grouped", "n_candidates"),
             V(DA, "config", "n_splits"),
             V(DA, "permutation", "all5/grouped", "n_fits_per_permutation")),
]
SKIPS += [
    Skip(BM, r"one stratified 70/30|stratified 70/30 random split \(the paper's\)|under the "
         r"70/30|\(issue 1 of the pipeline|scaled to \[0, 1\]|2\.5th to the 97\.5th percentile|"
         r"\(no \"\[75, 102\] %\"\)|\(1 \+ number of permutations|/ \(1 \+ N\)|1 / \(N \+ 1\)|"
         r"multiples of 1/24|multiples of 1/120|A 24-clip test set is what a stratified 30 % "
         r"split gives for 77–80 clips in all|had 10–13 clips|a 23-clip test set|has 10–13 "
         r"clips|\(7 of its|C=1,|50 trees|5-NN|64-32 ReLU, RMSprop lr 2e-3, 40 epochs, batch 64|"
         r"~100 MB for STFT|saves 40 epochs|, 11/24|= \d+/24",
         "the protocol, the estimators' settings, arithmetic on the paper's figures, and the "
         "cleaned corpus's history"),
    Skip(BM, r"\(STFT 97\.41 %, MFCC 93\.75 %, as given in the brief",
         "the paper's claims in the example of registering a row"),
    Skip(BM, r"each refits 10 networks\): 19 in its last run, least p 0\.05",
         "an earlier AE+DNN run (its current test: docs/audio_branches.md)"),
    Skip(BM, r"balanced accuracy ≈ 0\.20 on 5 classes\)|t-intervals over 3 repeats, a "
         r"single-pair test with 19 permutations\) put the paper4 Random Forest at p = 0\.10",
         "the design notes and an earlier run (history, said as such)"),
]


# --- docs/reliability.md
RL = "docs/reliability.md"


def claims(control: bool) -> Value:
    """min–max peak memory of the lying-header runs (or of their controls)"""
    def fmt(rows):
        v = [r["peak_rss_mb"] for r in rows if ("control" in r["case"]) == control]
        return f"{min(v):.0f}–{max(v):.0f}"
    return V(REL, "user_files", "claims", "rows", fmt=fmt)


CHECKS += [
    Sentence(RL, "measured on {} minutes, `predict --fps 1` peaks at {} GB and `detect` at {} GB",
             V(REL, "minutes", fmt=num(".0f")),
             V(REL, "long_input", "predict", "peak_tree_rss_mb", fmt=up(1, 1e-3)),
             V(REL, "long_input", "detect", "peak_tree_rss_mb", fmt=up(1, 1e-3))),
    Sentence(RL, "every file byte-identical ({} of {} cases measured)",
             V(REL, "user_files", "overwrite", fmt=lambda o: str(sum(x["untouched"] for x in o))),
             V(REL, "user_files", "overwrite", fmt=len)),
    Sentence(RL, "peak memory {} MiB, the same as the file with its true header ({} MiB;",
             claims(False), claims(True)),
    Sentence(RL, "orphan processes, time per file, peak memory on the {}-minute",
             V(REL, "minutes", fmt=num(".0f"))),
]
SKIPS += [
    Skip(RL, r"^\| (?:No hang|Batch runs keep going|No half-written output|Options checked up "
         r"front|A broken file).*", "the guarantees table: timeouts, exit codes, signals and "
         "option ranges (settings of the code)"),
    Skip(RL, r"of which ~0\.8 GB is TensorFlow|TensorFlow is ~0\.8 GB of it",
         "an estimate of TensorFlow's share (no results file keeps it)"),
    Skip(RL, r"a header claiming 200 hours or 31 years reserves nothing|a claim up to 3 h at "
         r"most|\(3 min; 60 min in the long profile\)|claiming 200 h or 31 years\*\* \(MKV "
         r"Duration rewritten; 1\.5–2 s of real audio\)",
         "what the tests build and the code's limits"),
    Skip(RL, r"^## The fuzz corpus.*?(?=^## What the user gives)",
         "how the fuzz corpus is made (its recipe: sizes, bit flips, header fields)"),
    Skip(RL, r"\(issue \d+\)|4K, broken files|1 KB of text|analysed on 3\.6 of its 8 s|"
         r"only 3\.6 s could be decoded of the 8\.0 s|`--fps 0` \(became 5\)|after a 6 s "
         r"TensorFlow import|0600|3e38|200/300 characters|\[-1, 1\]",
         "what the user-files audit found before the fixes (history) and an example note"),
    Skip(RL, r"sleep 0\.5 s before the signal.*?\(the race is rare\)",
         "the history of a fixed flaky test (benchmarks/results/flaky_interrupt_test.md)"),
    Skip(RL, r"^\d\. \*\*A 10-hour jump.*|^\d\. \*\*A WAV header claiming 1 Hz\*\*.*",
         "the fixes the fuzzing led to: what the broken files did before (history)"),
    Skip(RL, r"^Run times: every stored notebook shows its own.*?most of it the\s+permutation "
         r"test\.", "run times of the notebooks: each stored notebook shows its own"),
    Skip(RL, r"^## Notebooks.*?(?=^\| notebook \|)", "how the notebooks are stored and checked "
         "(the size limit, dpi and file names: settings of the scripts)"),
]


# --- docs/json.md
J = "docs/json.md"


def _window(inputs: dict) -> str:
    """Seconds of audio one window of the shipped detector spans, as its code computes them
    (``PatchDetector.window_seconds``: the patches' own span includes the STFT window)."""
    from cryvideo.detection.frontend import YamnetFrontend

    f = YamnetFrontend.from_dict(inputs["frontend"])
    return f"{(inputs['window_patches'] - 1) * f.hop_seconds + f.patch_seconds:.3f}"


CHECKS += [
    Sentence(J, "For the shipped detector a window spans {} s of audio and a new one starts "
             "every {} s (its card's front end)", V(CARD, "inputs", fmt=_window),
             V(CARD, "inputs", "frontend",
               fmt=lambda f: f"{f['patch_hop'] * f['hop'] / f['sr']:.2f}")),
]


# ------------------------------------------------------------------------------ the tests

@cache
def _text(doc: str) -> str:
    return normalize((REPO / doc).read_text(encoding="utf-8"))


@pytest.mark.parametrize("item", CHECKS, ids=lambda c: c.id)
def test_figure_stands_in_its_sentence(item):
    verdict = check(item, _text(item.doc), REPO)
    assert verdict.ok, verdict.message


@pytest.mark.parametrize("doc", DOCS)
def test_every_number_is_a_figure_or_skipped(doc):
    """Change every number of the document in turn (in memory): each change must fail a check,
    or the number must be set aside by a skip with its reason."""
    report = mutation_report(doc, _text(doc), CHECKS, SKIPS, REPO)
    assert not report["failing"], report["failing"]
    missed = [f"{num!r} in …{ctx}…" for _, num, ctx in report["missed"]]
    assert not missed, (f"{doc}: {len(missed)} numbers are neither a checked figure nor "
                        "skipped (register a check, or a Skip with its reason):\n"
                        + "\n".join(missed[:40]))
    assert report["caught"] or not numbers(_text(doc))


def test_every_skip_has_a_reason_and_sets_something_aside():
    starts = {d: [a for a, _ in numbers(_text(d))] for d in DOCS}
    for skip in SKIPS:
        assert len(skip.reason) > 10, skip
        docs = DOCS if skip.doc == "*" else [skip.doc]
        assert any(bisect.bisect_left(starts[d], a) < bisect.bisect_left(starts[d], b)
                   for d in docs for a, b in skip.spans(_text(d))), (
            f"stale skip (it sets no number aside): {skip.pattern!r}")


def _fails(doc: str, old: str, new: str, nth: int = 0) -> list[str]:
    """The checks that fail when the ``nth`` ``old`` of ``doc`` reads ``new``."""
    text = _text(doc)
    at = -1
    for _ in range(nth + 1):
        at = text.index(old, at + 1)
    changed = text[:at] + new + text[at + len(old):]
    return [c.id for c in CHECKS if c.doc == doc and not check(c, changed, REPO).ok]


@pytest.mark.parametrize("doc,old,new,nth", [
    ("docs/detection.md", "**94.4 [92.6, 96.1]**", "**94.9 [92.6, 96.1]**", 0),  # the table
    ("docs/detection.md", "interval (94.4 [92.6, 96.1])", "interval (95.4 [92.6, 96.1])", 0),
    ("README.md", "(114× real", "(214× real", 0),
    ("docs/detection.md", "at 114× real", "at 214× real", 0),
    ("README.md", "**1.5 % of one core**", "**0.5 % of one core**", 0),
    ("docs/detection.md", "adult teen crying 24.1 [", "adult teen crying 4.1 [", 0),
    ("README.md", "(4 missed", "(3 missed", 0),
    ("docs/detection.md", "threshold 0.45, 8.0 s", "threshold 0.40, 8.0 s", 0),
])
def test_the_figures_the_old_test_let_through_are_caught(doc, old, new, nth):
    """The issue's examples: each of these changes passed the old test."""
    assert _fails(doc, old, new, nth)


def test_mutate_changes_one_digit():
    text = "F1 94.4 [92.6, 96.1] and 9"
    spans = numbers(text)
    assert [text[a:b] for a, b in spans] == ["1", "94.4", "92.6", "96.1", "9"]
    assert mutate(text, spans[1]) == "F1 94.5 [92.6, 96.1] and 9"
    assert mutate(text, spans[4]) == "F1 94.4 [92.6, 96.1] and 0"


def test_normalize_keeps_tables_code_and_headings_apart():
    text = ("Para one\nwraps here.\n\n| a | 1 |\n|---|---|\n| b | 2 |\n\n| c | 3 |\n|---|---|\n"
            "\n* item one\n  wraps\n* item two\n\n> quoted\n> line\n\n```\ncode  line\n```\n# Head")
    assert normalize(text).split("\n") == [
        "Para one wraps here.", "| a | 1 |", "|---|---|", "| b | 2 |", "| c | 3 |", "|---|---|",
        "* item one wraps", "* item two", "quoted line", "```", "code line", "```", "# Head"]


def test_checks_name_their_sentence_and_source(tmp_path):
    res = tmp_path / "r.json"
    res.write_text(json.dumps({"rows": [{"name": "a", "f1": 0.944}], "n": 752}))
    text = normalize("The recipe scores F1 94.4 over 752 recordings.\n\n"
                     "| method | F1 |\n|---|---|\n| **a** | 94.5 |\n| b | 1.0 |\n\n"
                     "| method | F1 |\n|---|---|\n| a | 94.4 |\n")
    good = Sentence("d.md", "scores F1 {} over {} recordings", V("r.json", "rows", {"name": "a"},
                                                                 "f1", fmt=pct()),
                    V("r.json", "n"))
    assert check(good, text, tmp_path).ok
    bad = check(good, text.replace("752", "75"), tmp_path)
    assert not bad.ok and "scores F1 {} over {} recordings" in bad.message
    assert "scores F1 94.4 over 752 recordings" in bad.message and "r.json" in bad.message
    cell = Cell("d.md", "a", "F1", V("r.json", "rows", 0, "f1", fmt=pct()))
    assert "2 rows" in check(cell, text, tmp_path).message  # two tables: ambiguous
    first = Cell("d.md", "a", "F1", V("r.json", "rows", 0, "f1", fmt=pct()), table="| method")
    assert "2 rows" in check(first, text, tmp_path).message
    ref = "| method | F1 |\n|---|---|\n| **a** | 94.4 |\n| b | 1.0 |\n"
    copy = Copied("d.md", "| method | F1 |", lambda _: ref, "the ref", table=True)
    verdict = check(copy, text, tmp_path)
    assert not verdict.ok and "| **a** | 94.5 |" in verdict.message


def test_resolve_and_formats():
    doc = {"rows": [{"a": 1, "v": 0.3146}, {"a": 2, "v": {"estimate": 0.25, "low": 0.1,
                                                          "high": 0.5}}]}
    assert pct()(resolve(doc, ("rows", {"a": 1}, "v"))) == "31.5"
    assert iv()(resolve(doc, ("rows", 1, "v"))) == "25.0 [10.0, 50.0]"
    assert seeds()({"repeat_mean": 0.192, "repeat_sd": 0.0141}) == "19.2 ± 1.4"
    assert up()(116.5) == "117" and num(".0f")(116.5) == "116"
    with pytest.raises(StopIteration):
        resolve(doc, ("rows", {"a": 3}))


def _interval_nodes(node, path=()):
    """Every ``{"estimate", "low", "high"}`` node of a results document, with its path."""
    if isinstance(node, dict):
        if {"estimate", "low", "high"} <= node.keys():
            yield path, node
        for k, v in node.items():
            yield from _interval_nodes(v, (*path, str(k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _interval_nodes(v, (*path, str(i)))


def test_committed_intervals_stay_in_the_metrics_range():
    """No committed interval leaves its metric's range (no "[75.4, 102.3] %"): rates lie in
    [0, 1], differences of two rates in [-1, 1]."""
    files = sorted((REPO / RES).rglob("*.json"))
    seen = 0
    for f in files:
        for path, n in _interval_nodes(json.loads(f.read_text())):
            lo, hi = (-1.0, 1.0) if any("difference" in p or "delta" in p for p in path) else (
                0.0, 1.0)
            where = f"{f.relative_to(REPO)} {'/'.join(path)}"
            assert lo <= n["low"] <= n["high"] <= hi, where
            assert lo <= n["estimate"] <= hi, where
            seen += 1
    assert seen > 500  # the Donateacry, AE+DNN, pooling, detection and compression tables


def _ci_lists(node, path=()):
    """Every ``*ci95*`` pair of a document (the older form of an interval), with its path."""
    if isinstance(node, dict):
        for k, v in node.items():
            if "ci95" in k and isinstance(v, list):
                yield (*path, k), v
            yield from _ci_lists(v, (*path, str(k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _ci_lists(v, (*path, str(i)))


def test_committed_ci_pairs_and_model_cards_stay_in_range():
    """The bundled model cards and the results files quote no interval outside [0, 1] (the
    retired CNN10 CV's t-intervals did: [0.754, 1.023])."""
    files = sorted((REPO / RES).rglob("*.json")) + sorted((REPO / "saved_models").glob("*.json"))
    for f in files:
        doc = json.loads(f.read_text())
        for path, (lo, hi) in _ci_lists(doc):
            assert 0.0 <= lo <= hi <= 1.0, f"{f.relative_to(REPO)} {'/'.join(path)}"
        if f.parent.name == "saved_models":
            for path, n in _interval_nodes(doc):
                assert 0.0 <= n["low"] <= n["high"] <= 1.0, f"{f.name} {'/'.join(path)}"
