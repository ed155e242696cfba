"""``cryvideo benchmark donateacry`` end to end on a small real subset of Donateacry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cryvideo.cli import main
from cryvideo.data import load_donateacry

PER_CLASS = 6


@pytest.fixture(scope="module")
def small_corpus(donateacry_dir, tmp_path_factory) -> Path:
    """Symlinks to 6 clips per class of the paper's 4 classes, distinct installs first."""
    root = tmp_path_factory.mktemp("donateacry_small")
    items = load_donateacry(donateacry_dir, classes=["belly_pain", "burping", "discomfort",
                                                     "tired"])
    for label in ("belly_pain", "burping", "discomfort", "tired"):
        mine = [it for it in items if it.label == label]
        seen, first, rest = set(), [], []
        for it in mine:
            (rest if it.uuid in seen else first).append(it)
            seen.add(it.uuid)
        for it in (first + rest)[:PER_CLASS]:
            dst = root / label / Path(it.path).name
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.symlink_to(it.path)
    return root


ARGS = ["--classes", "paper4", "--models", "SVM,Naive Bayes,DNN", "--paper-repeats", "2",
        "--folds", "3", "--grouped-repeats", "1", "--permutations", "2", "--duration", "3"]


@pytest.mark.slow
@pytest.mark.shared
def test_benchmark_writes_the_table_and_reuses_the_cache(small_corpus, tmp_path, capsys):
    out, cache = tmp_path / "out", tmp_path / "cache"
    argv = ["benchmark", "donateacry", str(small_corpus), *ARGS, "--out", str(out),
            "--cache-dir", str(cache)]
    assert main(argv) == 0
    printed = capsys.readouterr().out.split()
    for name in ("donateacry_table2.md", "donateacry_summary.csv", "donateacry_folds.csv",
                 "donateacry_results.json", "confusion_paper4_paper.png",
                 "confusion_paper4_grouped.png"):
        assert (out / name).stat().st_size > 0
        assert str(out / name) in printed
    assert not list(out.glob(".*part*"))  # no temporary left behind
    md = (out / "donateacry_table2.md").read_text()
    svm = next(line for line in md.splitlines() if line.startswith("| SVM |"))
    assert "45.83" in svm and "66.67" in svm  # the paper's figures beside ours
    assert "leaky" in md and "Permutation test, grouped protocol" in md
    res = json.loads((out / "donateacry_results.json").read_text())
    assert res["feature_params"]["duration"] == 3.0 and res["feature_params"]["n_mfcc"] == 40
    assert res["data"]["cache"]["misses"] == 4 * PER_CLASS
    assert res["leakage"]["paper4/grouped"]["mean"] == 0.0
    rows = {(s["protocol"], s["model"], s["feature"]) for s in res["summaries"]}
    assert ("grouped", "DNN", "stft") in rows and ("paper", "Majority class", "-") in rows
    # second run: every clip's features come from the cache; AE+DNN rows join the table
    ae = tmp_path / "ae_dnn.json"
    ae.write_text(json.dumps(_ae_dnn_doc(["belly_pain", "burping", "discomfort", "tired"])))
    assert main(argv + ["--protocol", "grouped", "--permutations", "0",
                        "--ae-dnn-results", str(ae)]) == 0
    res2 = json.loads((out / "donateacry_results.json").read_text())
    assert res2["data"]["cache"] == {**res["data"]["cache"], "hits": 4 * PER_CLASS, "misses": 0}
    md2 = (out / "donateacry_table2.md").read_text()
    row = next(line for line in md2.splitlines() if line.startswith("| AE+DNN (MFCC)"))
    assert "12.3 [10.0, 15.0]" in row and "34.5 [30.0, 40.0]" in row  # grouped acc., bal. acc.
    assert "93.75 % / 97.41 %" in md2 and "ae_dnn.json" in md2


def _ae_dnn_doc(classes):
    """The shape ``benchmarks/ae_dnn_donateacry.py`` writes, with made-up figures."""
    def summ(acc, bal, f1):
        return {"accuracy": {"estimate": acc, "low": 0.10, "high": 0.15},
                "balanced_accuracy": {"estimate": bal, "low": 0.30, "high": 0.40},
                "macro_f1": {"estimate": f1, "low": 0.2, "high": 0.3}}
    return {"data": {"class_counts": {c: 5 for c in classes}},
            "paper_claims": {"video paper": "93.75 % / 97.41 %"},
            "rows": {"AE+DNN (MFCC) / grouped": {"protocol": "grouped",
                                                  "summary": summ(0.123, 0.345, 0.25)},
                     "AE+DNN (STFT) / grouped": {"protocol": "grouped",
                                                  "summary": summ(0.2, 0.3, 0.25)}}}


def test_bad_ae_dnn_results_file_is_one_line(tmp_path, capsys):
    bad = tmp_path / "ae.json"
    bad.write_text("{not json")
    rc = main(["benchmark", "donateacry", str(tmp_path), "--out", str(tmp_path / "o"),
               "--ae-dnn-results", str(bad)])
    err = capsys.readouterr().err.strip()
    assert rc == 3 and "ae.json" in err and "not an AE+DNN results file" in err
    assert len(err.splitlines()) == 1 and not (tmp_path / "o").exists()


@pytest.mark.parametrize("extra, code, words", [
    (["--classes", "hungry,sleepy"], 2, "--classes"),
    (["--models", "SVM,Perceptron"], 2, "unknown model"),
    (["--features", "chroma"], 2, "--features"),
])
def test_bad_options_give_one_line_and_exit_2(tmp_path, capsys, extra, code, words):
    rc = main(["benchmark", "donateacry", str(tmp_path), "--out", str(tmp_path / "o"), *extra])
    err = capsys.readouterr().err.strip()
    assert rc == code
    assert words in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_missing_data_dir_is_a_dataset_error(tmp_path, capsys):
    rc = main(["benchmark", "donateacry", str(tmp_path / "absent"), "--out",
               str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert rc == 6 and "absent" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_benchmark_without_name_shows_help(capsys):
    assert main(["benchmark"]) == 2
    assert "donateacry" in capsys.readouterr().err
