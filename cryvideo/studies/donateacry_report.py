"""Write a Donateacry benchmark result: Markdown table (laid out like the paper's Table 2),
CSV (summary and per fold), JSON (everything) and confusion-matrix PNGs — each atomically."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np

from ..evaluation.intervals import interval_text
from ..io import atomic_path, write_json_atomic, write_text_atomic
from .donateacry import BASELINES, PAPER_CLASS_NAMES, BenchmarkResult

__all__ = ["write_report", "markdown_table", "summary_csv", "folds_csv", "result_json",
           "load_result", "plot_confusions", "load_ae_dnn_rows", "permutation_sentence",
           "REPORT_FILES"]

#: File names written into the output folder (PNG names depend on the class sets).
REPORT_FILES = ("donateacry_table2.md", "donateacry_summary.csv", "donateacry_folds.csv",
                "donateacry_results.json")

_PROTO_LABEL = {"paper": "leaky 70/30 random split", "grouped": "grouped by app install"}
_FEAT = {"stft": "STFT", "mfcc": "MFCC"}


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def _ci(m: dict) -> str:
    """``estimate [low, high]`` in %, or what stands for an interval where there is none
    (:func:`~cryvideo.evaluation.interval_text`)."""
    return interval_text(m, unit="app install")


def _row(result: BenchmarkResult, cs: str, protocol: str, model: str, feature: str):
    for s in result.summaries:
        if (s["class_set"], s["protocol"], s["model"], s["feature"]) == (cs, protocol, model,
                                                                          feature):
            return s
    return None


def load_ae_dnn_rows(path: str | os.PathLike) -> dict:
    """The AE+DNN rows of an ``ae_dnn_donateacry.json`` (``benchmarks/ae_dnn_donateacry.py``).

    Returns
    -------
    dict
        ``{"rows": {(feature, protocol): summary}, "classes": [...], "file": str,
        "seeds": int}`` where each summary has ``accuracy``, ``balanced_accuracy`` and
        ``macro_f1`` as ``{"estimate", "low", "high", ...}`` (fractions, group-bootstrap
        interval), the shape :func:`markdown_table` prints.
    """
    import json

    from ..errors import InputFileError

    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        rows = {}
        for name, row in doc["rows"].items():
            feature = "mfcc" if "(MFCC)" in name else "stft"
            summ = row["summary"]
            rows[(feature, row["protocol"])] = {
                k: {"estimate": float(summ[k]["estimate"]), "low": float(summ[k]["low"]),
                    "high": float(summ[k]["high"]),
                    "per_repeat": list(summ[k].get("per_repeat", []))}
                for k in ("accuracy", "balanced_accuracy", "macro_f1")}
            rows[(feature, row["protocol"])]["n_repeats"] = int(row.get("n_repeats", 1))
        classes = sorted(doc["data"]["class_counts"])
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise InputFileError(f"not an AE+DNN results file ({exc})", path=path) from None
    return {"rows": rows, "classes": classes, "file": Path(path).name}


def permutation_sentence(pm: dict, protocol: str) -> str:
    """One line on the max-statistic permutation test of a class set × protocol."""
    order = np.argsort(pm["pvalue_familywise"], kind="stable")[:3]
    lowest = "; ".join(f"{pm['names'][i].replace(' / mfcc', ' MFCC').replace(' / stft', ' STFT')}"
                       f" {_pct(pm['observed'][i])} %, p = {pm['pvalue_familywise'][i]:.3f}"
                       for i in order)
    return (f"Permutation test, {protocol} protocol (max statistic over all "
            f"{pm['n_candidates']} model/feature pairs, balanced accuracy of the pooled "
            f"out-of-fold predictions of repeat(s) "
            f"{', '.join(str(r + 1) for r in pm['repeats'])}; {pm['n_permutations']} "
            "permutations exchanging whole app installs' label blocks between installs of "
            "equal size, splits recomputed and every pair refitted each time; "
            f"{pm['n_groups_fixed']} of {pm['n_groups_fixed'] + pm['n_groups_exchangeable']} "
            "installs have a size no other install shares and keep their labels; least "
            f"possible p = {pm['min_pvalue']:.3f}). Family-wise p of the best pair(s): "
            f"{lowest}.")


def _protocol_cells(protocol: str, summary: dict | None, missing: str) -> list[str]:
    """The Table-2 cells of one protocol: leaky accuracy, or grouped accuracy and balanced
    accuracy (``missing`` where there is no result)."""
    keys = ("accuracy",) if protocol == "paper" else ("accuracy", "balanced_accuracy")
    return [_ci(summary[k]) if summary else missing for k in keys]


def _row_names(result: BenchmarkResult) -> list[str]:
    return list(result.config["models"]) + list(BASELINES)


def markdown_table(result: BenchmarkResult, *, ae_dnn: dict | None = None) -> str:
    """The report as Markdown: per class set, a Table-2-like table and the details.

    Parameters
    ----------
    result : BenchmarkResult
    ae_dnn : dict, optional
        From :func:`load_ae_dnn_rows`: the AE+DNN branches' rows, added to the table of the
        class set they were evaluated on (marked with the file they come from).
    """
    cfg = result.config
    feats = [f for f in ("stft", "mfcc") if f in cfg["features"]]  # the paper's column order
    protos = [p for p in ("paper", "grouped") if p in cfg["protocols"]]
    out = io.StringIO()
    w = out.write
    w("# Donateacry feature-credibility benchmark (video paper, Table 2)\n\n")
    w(f"Run {result.machine['date_utc']} on {result.machine['platform']} "
      f"({result.machine['cpu_count']} CPUs"
      + (f", load {result.machine['load_average_1min']}" if "load_average_1min"
         in result.machine else "") + "). "
      f"Data: {result.data['n_clips']} clips from `{Path(result.data['root']).name}`. "
      f"Protocols: **paper** = stratified 70/30 random split, {cfg['paper_repeats']} seeds "
      f"(*leaky*: clips of one app install on both sides); **grouped** = "
      f"StratifiedGroupKFold by app-install UUID, {cfg['n_splits']} folds x "
      f"{cfg['grouped_repeats']} repeats (repeat r: splits and model seed {cfg['seed']} + r). "
      "Cells: % on the test predictions of all repeats pooled [95 % group-bootstrap "
      f"interval: {cfg.get('n_boot', 2000)} resamples of whole app installs, percentile]. The "
      "interval measures how much the figure would move with other installs like these; it "
      "does not include the spread over repeats/seeds, which the details give. Fixed "
      "hyper-parameters, nothing tuned on test folds. Every row of every table is aggregated "
      "the same way.\n\n")
    p = result.params
    w(f"Features: waveform standardised then min-max scaled to [0, 1]; sr {p['sr']} Hz, "
      f"duration {p['duration']} s (centre crop / zero pad), n_fft {p['n_fft']}, hop "
      f"{p['hop_length']}, {p['n_mels']} mels, {p['n_mfcc']} MFCCs; STFT = log-magnitude (dB); "
      "classifier input = per-coefficient mean and std over time.\n\n")

    for cs, info in result.class_sets.items():
        classes = info["classes"]
        paper_like = cs.startswith("paper4")
        sub = info.get("subsample", {})
        names = ", ".join(
            f"{c} ({info['counts'][c]}"
            + (" drawn at random" if c in sub else "")
            + (f" = paper's {PAPER_CLASS_NAMES[c]}" if paper_like and c in PAPER_CLASS_NAMES
               else "") + ")" for c in classes)
        w(f"## {cs}: {len(classes)} classes, {info['n_clips']} clips from "
          f"{info['n_installs']} app installs\n\n{names}.\n\n")
        chance = 1.0 / len(classes)
        if cs == "paper4":
            w("Which folder is the paper's fourth class (\"pain\") is an assumption. Its SVM, "
              "RF, DT and k-NN figures are all multiples of 1/24 (e.g. 45.83 = 11/24, 79.17 = "
              "19/24): a 24-clip test set, i.e. 77-80 clips in all for a stratified 30 % test "
              "part. With burping (8 clips) the set has 75 clips and 23 test clips, so the "
              "evidence is against this pairing; `paper4h` shows the alternative.\n\n")
        elif cs == "paper4h":
            w("The alternative reading of the paper's setting: its fourth class had 10-13 "
              "clips (see paper4); no Donateacry folder has that many, so here it is a random "
              f"sample of {', '.join(f'{n} {c}' for c, n in sub.items())} clips (80 clips, "
              "24 test clips, as the paper's figures imply).\n\n")
        else:
            w("The paper's figures are for its 4-class setting; they are shown for reference "
              "only.\n\n")

        # --- the Table-2 layout: accuracy, paper | leaky | grouped, per feature
        head = ["Classifier"]
        for f in feats:
            head += [f"{_FEAT[f]} paper"]
            if "paper" in protos:
                head += [f"{_FEAT[f]} leaky acc."]
            if "grouped" in protos:
                head += [f"{_FEAT[f]} grouped acc.", f"{_FEAT[f]} grouped bal. acc."]
        w("| " + " | ".join(head) + " |\n|" + "---|" * len(head) + "\n")
        for model in _row_names(result):
            cells = [model]
            for f in feats:
                ff = "-" if model in BASELINES else f
                pap = result.paper.get(model, {}).get(f)
                cells.append(f"{pap:.2f}" if pap is not None else "—")
                for proto in protos:
                    cells += _protocol_cells(proto, _row(result, cs, proto, model, ff), "n/a")
            w("| " + " | ".join(cells) + " |\n")
        ae_here = ae_dnn is not None and list(ae_dnn["classes"]) == sorted(classes)
        if ae_here:
            for kind in ("stft", "mfcc"):
                if kind not in feats:
                    continue
                cells = [f"AE+DNN ({_FEAT[kind]})†"]
                for f in feats:
                    cells.append("—‡")
                    for proto in protos:
                        s = ae_dnn["rows"].get((f, proto)) if f == kind else None
                        cells += _protocol_cells(proto, s, "")
                w("| " + " | ".join(cells) + " |\n")
        w(f"\nChance balanced accuracy: {_pct(chance)} %.\n\n")
        if ae_here:
            reps = sorted({f"{p} {r['n_repeats']}" for (f, p), r in ae_dnn["rows"].items()})
            w(f"† The autoencoder + DNN branches of the video paper (the models `cryvideo "
              f"predict` ships), from `{ae_dnn['file']}` (`benchmarks/ae_dnn_donateacry.py`): "
              "their own run on the same corpus and protocols, not re-trained by this command, "
              "aggregated like every other row (test predictions of all repeats pooled, "
              "group-bootstrap interval over app installs); repeats (each with its own split "
              f"and seed): {', '.join(reps)}. Grouped macro-F1: " + ", ".join(
                  f"{_FEAT[f]} {_ci(ae_dnn['rows'][(f, 'grouped')]['macro_f1'])}"
                  for f in ("stft", "mfcc") if (f, "grouped") in ae_dnn["rows"]) + ".\n"
              "‡ Paper's claim for its AE+DNN branches: 93.75 % / 97.41 % accuracy, on its "
              "own 3-class data with a random split; not comparable, shown for reference.\n\n")

        # --- leakage, p-values
        for proto in protos:
            lk = result.leakage.get(f"{cs}/{proto}")
            if lk is not None:
                w(f"- Leakage, {proto} protocol: {_pct(lk['mean'])} % of test clips have their "
                  f"app install in the training set ({_PROTO_LABEL[proto]}).\n")
        for proto in protos:
            pm = result.permutation.get(f"{cs}/{proto}")
            if pm:
                w(f"- {permutation_sentence(pm, proto)}\n")
        w("\n")

        # --- details per protocol
        for proto in protos:
            w(f"### {cs}, {proto} protocol ({_PROTO_LABEL[proto]}): details\n\n")
            head = ["Model", "Feature", "Accuracy", "Balanced acc.", "Macro-F1",
                    "Bal. acc. per repeat"] + [f"recall {c}" for c in classes]
            w("| " + " | ".join(head) + " |\n|" + "---|" * len(head) + "\n")
            for model in _row_names(result):
                for f in (["-"] if model in BASELINES else feats):
                    s = _row(result, cs, proto, model, f)
                    if s is None:
                        continue
                    cells = [model, _FEAT.get(f, "—"), _ci(s["accuracy"]),
                             _ci(s["balanced_accuracy"]), _ci(s["macro_f1"]),
                             ", ".join(_pct(v) for v in s["balanced_accuracy"]["per_repeat"])]
                    cells += [_pct(s["recall"][c]) for c in classes]
                    w("| " + " | ".join(cells) + " |\n")
            w(f"\nConfusion matrices: `confusion_{cs}_{proto}.png`.\n\n")
    t = result.timing
    w(f"Timing: features {t['features_wall_s']} s wall (cache hits "
      f"{result.data['cache'].get('hits')}, misses {result.data['cache'].get('misses')}); "
      f"classifiers and permutations {t['benchmark_wall_s']} s wall, "
      f"{t['benchmark_cpu_s']} s CPU.\n")
    return out.getvalue()


def summary_csv(result: BenchmarkResult) -> str:
    """One row per (class set, protocol, model, feature)."""
    classes_all = sorted({c for i in result.class_sets.values() for c in i["classes"]})
    buf = io.StringIO()
    cols = ["class_set", "protocol", "model", "feature", "paper_accuracy_pct", "n_repeats",
            "n_fits", "leakage"]
    for m in ("accuracy", "balanced_accuracy", "macro_f1"):
        cols += [f"{m}", f"{m}_low", f"{m}_high", f"{m}_repeat_sd"]
    cols += [f"recall_{c}" for c in classes_all] + ["fit_seconds", "fit_cpu_seconds"]
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(cols)
    for s in result.summaries:
        pap = result.paper.get(s["model"], {}).get(s["feature"])
        row = [s["class_set"], s["protocol"], s["model"], s["feature"],
               "" if pap is None else pap, s["n_repeats"], s["n_fits"], f"{s['leakage']:.4f}"]
        for m in ("accuracy", "balanced_accuracy", "macro_f1"):
            row += [f"{s[m]['estimate']:.4f}", f"{s[m]['low']:.4f}", f"{s[m]['high']:.4f}",
                    f"{s[m]['repeat_sd']:.4f}"]
        row += [f"{s['recall'][c]:.4f}" if c in s["recall"] else "" for c in classes_all]
        row += [f"{s['fit_seconds']:.3f}", f"{s['fit_cpu_seconds']:.3f}"]
        wr.writerow(row)
    return buf.getvalue()


def _clean_record(rec: dict) -> dict:
    return {k: v for k, v in rec.items() if k not in ("test_idx", "y_pred")}


def folds_csv(result: BenchmarkResult, labels: np.ndarray | None = None) -> str:
    """One row per fitted split (no predictions)."""
    buf = io.StringIO()
    cols = ["class_set", "protocol", "repeat", "fold", "model", "feature", "n_train", "n_test",
            "leakage", "fit_seconds", "fit_cpu_seconds"]
    wr = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n", extrasaction="ignore")
    wr.writeheader()
    for rec in result.records:
        r = _clean_record(rec)
        r["leakage"] = f"{r['leakage']:.4f}"
        r["fit_seconds"] = f"{r['fit_seconds']:.4f}"
        r["fit_cpu_seconds"] = f"{r['fit_cpu_seconds']:.4f}"
        wr.writerow(r)
    return buf.getvalue()


def result_json(result: BenchmarkResult) -> dict:
    """Everything except the raw predictions, as plain JSON types."""
    return {
        "benchmark": "donateacry-feature-credibility",
        "config": result.config,
        "feature_params": result.params,
        "class_sets": result.class_sets,
        "paper_table2_pct": result.paper,
        "summaries": result.summaries,
        "leakage": result.leakage,
        "permutation": result.permutation,
        "machine": result.machine,
        "timing": result.timing,
        "data": result.data,
        "folds": [_clean_record(r) for r in result.records],
    }


def load_result(path: str | os.PathLike) -> BenchmarkResult:
    """A :class:`BenchmarkResult` back from its ``donateacry_results.json`` (records without
    predictions), to rewrite the report without re-running (e.g. after new AE+DNN rows)."""
    import json

    from ..errors import InputFileError

    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        return BenchmarkResult(
            config=doc["config"], params=doc["feature_params"], records=doc["folds"],
            summaries=doc["summaries"], leakage=doc["leakage"],
            permutation=doc["permutation"], class_sets=doc["class_sets"],
            paper=doc["paper_table2_pct"], machine=doc["machine"], timing=doc["timing"],
            data=doc["data"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputFileError(f"not a Donateacry benchmark results file ({exc})",
                             path=path) from None


def plot_confusions(result: BenchmarkResult, out_dir: str | os.PathLike) -> list[Path]:
    """One PNG per (class set, protocol): a grid of row-normalised confusion matrices."""
    from matplotlib.figure import Figure  # no pyplot: leaves the caller's backend alone

    out_dir = Path(out_dir)
    written = []
    feats = [f for f in ("stft", "mfcc") if f in result.config["features"]]
    for cs, info in result.class_sets.items():
        labels = info["classes"]
        for proto in result.config["protocols"]:
            panels = [(m, f) for m in result.config["models"] for f in feats
                      if _row(result, cs, proto, m, f)]
            panels += [(b, "-") for b in BASELINES if _row(result, cs, proto, b, "-")]
            if not panels:
                continue
            ncol = min(4, len(panels))
            nrow = int(np.ceil(len(panels) / ncol))
            fig = Figure(figsize=(3.2 * ncol, 3.1 * nrow))
            axes = fig.subplots(nrow, ncol, squeeze=False)
            for ax in axes.flat[len(panels):]:
                ax.axis("off")
            for ax, (model, f) in zip(axes.flat, panels, strict=False):
                s = _row(result, cs, proto, model, f)
                cm = np.asarray(s["confusion"], dtype=float)
                norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
                ax.imshow(norm, vmin=0, vmax=1, cmap="Blues")
                for i in range(cm.shape[0]):
                    for j in range(cm.shape[1]):
                        ax.text(j, i, f"{int(cm[i, j])}", ha="center", va="center", fontsize=7,
                                color="white" if norm[i, j] > 0.5 else "black")
                short = [lab[:5] for lab in labels]
                ax.set_xticks(range(len(labels)), short, fontsize=7, rotation=45)
                ax.set_yticks(range(len(labels)), short, fontsize=7)
                title = model if f == "-" else f"{model} ({_FEAT[f]})"
                ax.set_title(f"{title}\nbal. acc {_pct(s['balanced_accuracy']['estimate'])} %",
                             fontsize=8)
            fig.suptitle(f"Donateacry {cs}, {proto} protocol ({_PROTO_LABEL[proto]}); "
                         "rows = true class, counts summed over repeats", fontsize=9)
            fig.subplots_adjust(left=0.08, right=0.98, bottom=0.1, top=0.86, wspace=0.45,
                                hspace=0.75)
            target = out_dir / f"confusion_{cs}_{proto}.png"
            with atomic_path(target) as tmp:
                fig.savefig(tmp, format="png", dpi=90)
            written.append(target)
    return written


def write_report(result: BenchmarkResult, out_dir: str | os.PathLike, *,
                 ae_dnn: dict | None = None) -> list[Path]:
    """Write all report files into ``out_dir`` (created if needed); returns their paths.

    ``ae_dnn`` (from :func:`load_ae_dnn_rows`) adds the AE+DNN rows to the Markdown table.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    md, summ, folds, js = (out_dir / n for n in REPORT_FILES)
    write_text_atomic(md, markdown_table(result, ae_dnn=ae_dnn))
    write_text_atomic(summ, summary_csv(result))
    write_text_atomic(folds, folds_csv(result))
    write_json_atomic(js, result_json(result))
    return [md, summ, folds, js, *plot_confusions(result, out_dir)]
