"""The main figures in README.md and docs/ are the ones in the committed results files.

Each entry of :data:`FIGURES` names a results JSON, a path into it, how the value is written in
the text, the document it must appear in and, optionally, words that must stand in the same
block (a table row, or a paragraph of prose) so that a number cannot pass by sitting somewhere
else. When a results file is regenerated and a figure changes, this test fails until the text
is updated. To add figures (e.g. the detection tables), append entries.

A path is a sequence of steps: a ``str`` key of a dict, an ``int`` index of a list, or a
``dict`` that selects the first element of a list whose fields have those values.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RES = "benchmarks/results"
DA = f"{RES}/donateacry/donateacry_results.json"
AE = f"{RES}/ae_dnn/ae_dnn_donateacry.json"
POOL = f"{RES}/panns_pooling.json"
COMP = f"{RES}/panns_compression.json"
DET = f"{RES}/detection.json"
DL = f"{RES}/day_long.json"
SPEED = f"{RES}/detect_speed.json"
BATCH = f"{RES}/batch.json"
BULLET = re.compile(r"\s*(?:[*-]|\d+\.)\s")  # a Markdown list item starts


def pct(digits: int = 1) -> Callable:
    """A fraction written as a percentage: 0.3146 → ``31.5``."""
    return lambda v: f"{100 * v:.{digits}f}"


def iv(digits: int = 1) -> Callable:
    """An interval node written as ``31.5 [20.7, 42.6]`` (percent)."""
    return lambda n: (f"{100 * n['estimate']:.{digits}f} [{100 * n['low']:.{digits}f}, "
                      f"{100 * n['high']:.{digits}f}]")


def num(spec: str) -> Callable:
    """A number with a format spec, e.g. ``num(".3f")``."""
    return lambda v: format(v, spec)


def signed(digits: int = 1) -> Callable:
    """A difference node in points, signed: ``+8.9 [+6.2, +11.9]``."""
    return lambda n: (f"{100 * n['estimate']:+.{digits}f} [{100 * n['low']:+.{digits}f}, "
                      f"{100 * n['high']:+.{digits}f}]")


def seeds(digits: int = 1) -> Callable:
    """Mean ± sd over seeds of an interval node, in percent: ``19.2 ± 1.4``."""
    return lambda n: f"{100 * n['repeat_mean']:.{digits}f} ± {100 * n['repeat_sd']:.{digits}f}"


@dataclasses.dataclass(frozen=True)
class Figure:
    doc: str
    results: str
    path: tuple
    fmt: Callable
    near: str = ""

    @property
    def id(self) -> str:
        steps = "/".join(",".join(f"{v}" for v in s.values()) if isinstance(s, dict) else str(s)
                         for s in self.path)
        return f"{self.doc}:{Path(self.results).stem}:{steps}"


def _row(cs: str, protocol: str, model: str, feature: str) -> dict:
    return {"class_set": cs, "protocol": protocol, "model": model, "feature": feature}


FIGURES: list[Figure] = [
    # --- Donateacry feature credibility (docs/benchmarks.md, README.md)
    Figure("docs/benchmarks.md", DA,
           ("summaries", _row("paper4", "grouped", "Random Forest", "stft"),
            "balanced_accuracy"), iv(), near="Random Forest"),
    Figure("docs/benchmarks.md", DA,
           ("summaries", _row("paper4", "paper", "SVM", "stft"), "balanced_accuracy"), iv(),
           near="SVM"),
    Figure("docs/benchmarks.md", DA,
           ("summaries", _row("paper4h", "grouped", "k-NN", "stft"), "balanced_accuracy"),
           iv(), near="paper4h"),
    Figure("docs/benchmarks.md", DA,
           ("summaries", _row("all5", "grouped", "Decision Tree", "stft"),
            "balanced_accuracy"), iv(), near="Decision Tree"),
    Figure("docs/benchmarks.md", DA, ("leakage", "paper4/paper", "mean"), pct(),
           near="Leakage"),
    Figure("docs/benchmarks.md", DA, ("leakage", "paper4h/paper", "mean"), pct(),
           near="Leakage"),
    Figure("docs/benchmarks.md", DA, ("leakage", "all5/paper", "mean"), pct(),
           near="Leakage"),
    Figure("docs/benchmarks.md", DA, ("permutation", "paper4/grouped", "pvalue"), num(".3f"),
           near="family-wise"),
    Figure("docs/benchmarks.md", DA, ("permutation", "paper4h/grouped", "pvalue"),
           num(".3f"), near="paper4h"),
    Figure("docs/benchmarks.md", DA, ("permutation", "all5/grouped", "pvalue"), num(".3f"),
           near="Decision Tree"),
    Figure("docs/benchmarks.md", DA, ("permutation", "paper4/grouped", "n_permutations"),
           num("d"), near="permutations"),
    Figure("docs/benchmarks.md", DA, ("permutation", "paper4/grouped", "min_pvalue"),
           num(".3f"), near="least possible"),
    Figure("docs/benchmarks.md", DA, ("timing", "fits_cpu_s"), num(".1f"), near="timing"),
    Figure("README.md", DA,
           ("summaries", _row("paper4", "grouped", "Random Forest", "stft"),
            "balanced_accuracy"), iv(), near="donateacry/"),
    Figure("README.md", DA, ("permutation", "paper4/grouped", "pvalue"), num(".3f"),
           near="donateacry/"),
    # --- AE+DNN rows (docs/audio_branches.md, docs/benchmarks.md, README.md)
    Figure("docs/audio_branches.md", AE,
           ("rows", "AE+DNN (MFCC) / grouped", "summary", "balanced_accuracy"), iv(),
           near="AE+DNN (MFCC)"),
    Figure("docs/audio_branches.md", AE,
           ("rows", "AE+DNN (STFT) / grouped", "summary", "balanced_accuracy"), iv(),
           near="AE+DNN (STFT)"),
    Figure("docs/audio_branches.md", AE,
           ("rows", "AE+DNN (MFCC) / grouped", "summary", "macro_f1"), iv(),
           near="AE+DNN (MFCC)"),
    Figure("docs/audio_branches.md", AE,
           ("rows", "AE+DNN (MFCC) / paper", "summary", "balanced_accuracy"), iv(),
           near="AE+DNN (MFCC)"),
    Figure("docs/audio_branches.md", AE,
           ("rows", "AE+DNN (STFT) / paper", "summary", "balanced_accuracy"), iv(),
           near="AE+DNN (STFT)"),
    Figure("docs/audio_branches.md", AE,
           ("baselines", "grouped", "RF (balanced) (STFT)", "balanced_accuracy"), iv(),
           near="RF (balanced) (STFT)"),
    Figure("docs/benchmarks.md", AE,
           ("rows", "AE+DNN (MFCC) / grouped", "summary", "balanced_accuracy"), iv(),
           near="AE+DNN"),
    Figure("docs/benchmarks.md", AE,
           ("rows", "AE+DNN (STFT) / grouped", "summary", "balanced_accuracy"), iv(),
           near="AE+DNN"),
    Figure("README.md", AE,
           ("rows", "AE+DNN (MFCC) / grouped", "summary", "balanced_accuracy"), iv(),
           near="ae_dnn/"),
    Figure("README.md", AE,
           ("rows", "AE+DNN (STFT) / grouped", "summary", "balanced_accuracy"), iv(),
           near="ae_dnn/"),
    # --- PANNs pooling study and compression (docs/panns.md)
    Figure("docs/panns.md", POOL, ("rows", "mha", "balanced_accuracy"), iv(),
           near="multi-head attention"),
    Figure("docs/panns.md", POOL, ("rows", "maxavg", "balanced_accuracy"), iv(),
           near="max + average"),
    Figure("docs/panns.md", POOL, ("rows", "mha", "balanced_accuracy"), seeds(),
           near="multi-head attention"),
    Figure("docs/panns.md", COMP, ("rows", "cnn14_w0.125", "f1"), iv(), near="| cnn14_w0.125 |"),
    Figure("docs/panns.md", COMP, ("rows", "resnet22_w0.0625", "f1"), iv(),
           near="| resnet22_w0.0625 |"),
    Figure("docs/panns.md", COMP, ("rows", "resnet22_w0.0625+kd", "f1"), iv(),
           near="| resnet22_w0.0625+kd |"),
    Figure("docs/panns.md", COMP, ("rows", "cnn10_w0.125", "f1"), iv(), near="| cnn10_w0.125 |"),
    Figure("docs/panns.md", COMP, ("rows", "cnn10_w0.125+kd", "f1"), iv(),
           near="| cnn10_w0.125+kd |"),
    Figure("docs/panns.md", COMP, ("rows", "cnn14_w0.125+int8", "f1_group_weighted"), iv(),
           near="| cnn14_w0.125+int8 |"),
    # --- cry detection (docs/detection.md, README.md)
    Figure("docs/detection.md", DET, ("methods", "gated", "pooled", "f1"), iv(),
           near="shipped recipe"),
    Figure("docs/detection.md", DET, ("methods", "yamnet_zeroshot", "pooled", "f1"), iv(),
           near="YAMNet zero-shot"),
    Figure("docs/detection.md", DET, ("methods", "cnn10", "pooled", "f1"), iv(), near="CNN10"),
    Figure("docs/detection.md", DET, ("methods", "head", "pooled", "f1"), iv(),
           near="YAMNet + cry head"),
    Figure("docs/detection.md", DET, ("methods", "gated_tflite_int8", "pooled", "f1"), iv(),
           near="int8-weight file"),
    Figure("docs/detection.md", DET, ("comparison", "yamnet_zeroshot", "f1_difference"),
           signed(), near="against YAMNet zero-shot"),
    Figure("docs/detection.md", DET, ("comparison", "cnn10", "f1_difference"), signed(),
           near="against CNN10"),
    Figure("docs/detection.md", DET, ("comparison", "gated_tflite_int8", "f1_difference"),
           signed(), near="int8-weight file loses"),
    Figure("docs/detection.md", DET, ("methods", "gated", "false_positive_by_category",
                                      "moaning_whimpering"), iv(), near="Where it errs"),
    Figure("docs/detection.md", DET, ("methods", "gated", "false_positive_by_category",
                                      "infant_laughter"), iv(), near="Where it errs"),
    Figure("README.md", DET, ("methods", "gated", "pooled", "f1"), iv(), near="Read this first"),
    Figure("README.md", DET, ("methods", "yamnet_zeroshot", "pooled", "f1"), iv(),
           near="Read this first"),
    Figure("README.md", DET, ("methods", "cnn10", "pooled", "f1"), iv(), near="detection.md"),
    Figure("docs/detection.md", DL, ("detect", 0, "peak_mb"), num(".0f"), near="16-hour"),
    Figure("docs/detection.md", DL, ("detect", 0, "planted_found"), num("d"), near="16-hour"),
    Figure("README.md", DL, ("detect", 0, "detect_seconds"), num(".0f"), near="16-hour"),
    # --- AE+DNN permutation test (docs/audio_branches.md)
    Figure("docs/audio_branches.md", AE, ("permutation", "pvalue_familywise", 0), num(".3f"),
           near="AE+DNN (MFCC)"),
    Figure("docs/audio_branches.md", AE, ("permutation", "pvalue_familywise", 1), num(".3f"),
           near="AE+DNN (STFT)"),
    Figure("docs/audio_branches.md", AE, ("permutation", "n_permutations"), num("d"),
           near="permutation test"),
    Figure("docs/audio_branches.md", AE, ("permutation", "observed", 0), pct(),
           near="refit"),
    # --- batch runs (docs/batch.md, README.md)
    Figure("docs/batch.md", BATCH, ("summary", "serial", "files_per_s"), num(".2f"),
           near="| serial"),
    Figure("docs/batch.md", BATCH, ("summary", "workers_2", "files_per_s"), num(".2f"),
           near="`--workers 2`"),
    Figure("docs/batch.md", BATCH, ("summary", "workers_2", "vs_serial"), num(".2f"),
           near="`--workers 2`"),
    Figure("docs/batch.md", BATCH, ("summary", "workers_2", "worker_peak_mb"), num(".1f"),
           near="`--workers 2`"),
    Figure("docs/batch.md", BATCH, ("one_minute", "core_seconds_per_file"), num(".2f"),
           near="One-minute"),
    Figure("docs/batch.md", BATCH, ("estimate", "rows", {"machines": 10,
                                                         "cores_per_machine": 16}, "hours"),
           num(".1f"), near="100,000"),
    Figure("README.md", BATCH, ("summary", "workers_2", "files_per_s"), num(".2f"),
           near="batch.md"),
    Figure("README.md", BATCH, ("summary", "workers_2", "vs_serial"), num(".2f"),
           near="batch.md"),
]


@cache
def _json(rel: str):
    return json.loads((REPO / rel).read_text(encoding="utf-8"))


@cache
def _blocks(rel: str) -> tuple[str, ...]:
    return split_blocks((REPO / rel).read_text(encoding="utf-8"))


def split_blocks(text: str) -> tuple[str, ...]:
    """Table rows, list items and prose paragraphs of Markdown text, whitespace collapsed."""
    out = []
    for para in re.split(r"\n\s*\n", text):
        lines = para.strip().splitlines()
        if lines and all(ln.lstrip().startswith("|") for ln in lines):
            out += lines
            continue
        item: list[str] = []
        for ln in lines:
            if BULLET.match(ln) and item:
                out.append(" ".join(item))
                item = []
            item.append(ln.strip())
        out.append(" ".join(item))
    return tuple(out)


def resolve(doc, path: tuple):
    """Follow ``path`` into a JSON document (see the module docstring)."""
    node = doc
    for step in path:
        if isinstance(step, dict):
            node = next(x for x in node if all(x.get(k) == v for k, v in step.items()))
        else:
            node = node[step]
    return node


@pytest.mark.parametrize("fig", FIGURES, ids=lambda f: f.id)
def test_figure_is_in_the_text(fig: Figure):
    assert (REPO / fig.results).is_file(), f"{fig.results} is not committed"
    text = fig.fmt(resolve(_json(fig.results), fig.path))
    blocks = [b for b in _blocks(fig.doc) if text in b]
    assert blocks, f"{fig.doc} does not contain {text!r} (from {fig.results} {fig.path})"
    if fig.near:
        assert any(fig.near in b for b in blocks), (
            f"{fig.doc}: {text!r} does not stand next to {fig.near!r}")


def test_resolve_and_formats():
    doc = {"rows": [{"a": 1, "v": 0.3146}, {"a": 2, "v": {"estimate": 0.25, "low": 0.1,
                                                          "high": 0.5}}]}
    assert pct()(resolve(doc, ("rows", {"a": 1}, "v"))) == "31.5"
    assert iv()(resolve(doc, ("rows", 1, "v"))) == "25.0 [10.0, 50.0]"
    assert seeds()({"repeat_mean": 0.192, "repeat_sd": 0.0141}) == "19.2 ± 1.4"
    with pytest.raises(StopIteration):
        resolve(doc, ("rows", {"a": 3}))


def test_split_blocks():
    text = ("Para one\nwraps here.\n\n| a | 1 |\n|---|---|\n| b | 2 |\n\n"
            "* item one\n  wraps\n* item two\n\n1. first\n2. second\n")
    assert split_blocks(text) == ("Para one wraps here.", "| a | 1 |", "|---|---|", "| b | 2 |",
                                  "* item one wraps", "* item two", "1. first", "2. second")


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
