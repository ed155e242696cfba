"""The pooling study and the compression study: seeds, pooled intervals, their tables."""

from __future__ import annotations

import numpy as np
import pytest

from cryvideo.data import DONATEACRY_CLASSES
from cryvideo.studies.panns import compression_study, pooling_study
from cryvideo.studies.panns_report import compression_markdown, pooling_markdown
from cryvideo.training.clipsets import ClipSet


def _reasons(n_groups: int = 24, per_group: int = 2, seed: int = 0) -> ClipSet:
    """YAMNet-like frame embeddings whose mean depends on the (install's) class."""
    rng = np.random.default_rng(seed)
    labels, groups, emb = [], [], []
    classes = list(DONATEACRY_CLASSES)
    for g in range(n_groups):
        lab = classes[g % len(classes)]
        for _ in range(per_group):
            e = rng.normal(0, 1, (13, 1024)).astype(np.float32)
            c = classes.index(lab)
            e[:, 50 * c:50 * (c + 1)] += 2.0
            labels.append(lab)
            groups.append(f"u{g}")
            emb.append(e)
    n = len(labels)
    return ClipSet(name="donateacry", paths=[f"c{i}.wav" for i in range(n)], labels=labels,
                   groups=groups, categories=["cry"] * n, logmel=[None] * n,
                   logmel_bl=[None] * n, yamnet_scores=[None] * n, yamnet_emb=emb)


@pytest.mark.slow
def test_pooling_study_pools_seeds_with_install_intervals():
    da = _reasons()
    # 8 epochs: the class signal of these embeddings is learnt in a few (balanced accuracy
    # ≥ 0.9 for the max pooling with data seeds 0 to 3, against 0.6 asserted)
    res = pooling_study(da, poolings=("max", "mha"), n_splits=2, n_repeats=2, epochs=8,
                        n_boot=200, log=lambda *_: None)
    assert res["n_repeats"] == 2 and set(res["rows"]) == {"max", "mha"}
    for row in [*res["rows"].values(), res["majority"]]:
        for m in ("accuracy", "balanced_accuracy", "macro_f1"):
            r = row[m]
            assert 0.0 <= r["low"] <= r["high"] <= 1.0 and len(r["per_repeat"]) == 2
            assert "over 24 app installs" in r["interval"]
    assert res["rows"]["max"]["balanced_accuracy"]["estimate"] > 0.6  # the signal is learnt
    assert res["majority"]["balanced_accuracy"]["estimate"] <= 0.2 + 1e-9
    md = pooling_markdown(res)
    assert "× 2 repeats" in md and "group-bootstrap" in md and "mean ± sd" in md
    assert f"{100 * res['rows']['mha']['balanced_accuracy']['estimate']:.1f} [" in md


def _detection(seed: int = 0):
    """Cries = a loud band in the log-mel; not-cries = flat; 12 recordings of 3 windows."""
    rng = np.random.default_rng(seed)
    labels, groups, cats, mels = [], [], [], []
    for g in range(12):
        cry = g % 2 == 0
        for _ in range(3):
            m = rng.normal(-4, 0.5, (260, 64)).astype(np.float32)
            if cry:
                m[:, 20:30] += 4.0
            mels.append(m)
            labels.append("cry" if cry else "not_cry")
            groups.append(f"rec{g}")
            cats.append("cry" if cry else ("noise" if g % 4 == 1 else "silence"))
    n = len(labels)
    cd = ClipSet(name="cry_detection", paths=[f"d{i}.wav" for i in range(n)], labels=labels,
                 groups=groups, categories=cats, logmel=mels, logmel_bl=list(mels),
                 yamnet_scores=[None] * n, yamnet_emb=[None] * n)
    da_mels = [m for m, lab in zip(mels, labels, strict=True) if lab == "cry"][:4]
    da = ClipSet(name="donateacry", paths=[f"a{i}.wav" for i in range(4)], labels=["hungry"] * 4,
                 groups=["u0", "u0", "u1", "u2"], categories=["cry"] * 4, logmel=da_mels,
                 logmel_bl=da_mels, yamnet_scores=[None] * 4, yamnet_emb=[None] * 4)
    return cd, da


#: The compression study's settings in these tests: one teacher and one student (with and
#: without distillation), one epoch, two grouped folds, no TFLite copies (they are tested with
#: `export`). A checkpoint written with them is valid for every test below.
COMPRESSION = dict(teacher=("cnn10", 1 / 32), students=(("cnn10", 1 / 64),), epochs=1,
                   n_splits=2, n_boot=200, quantize=False)


@pytest.fixture(scope="module")
def first_fold(tmp_path_factory):
    """Seed 0's first fold of the compression study, run once and checkpointed: the run the
    compression tests below go on from, each from its own copy of the checkpoint (its text),
    so that no test trains this fold again (each fold trains three CNN10s)."""
    import json

    cd, da = _detection()
    ck = tmp_path_factory.mktemp("compression") / "folds.json"
    first = compression_study(cd, da, folds=1, n_seeds=1, checkpoint=ck, log=lambda *_: None,
                              **COMPRESSION)
    saved = ck.read_text()
    assert list(json.loads(saved)["folds"]) == ["0/0"]
    return saved, first


@pytest.mark.slow
def test_compression_study_pools_the_seeds(first_fold, tmp_path):
    """Two seeds, each its own split (TFLite copies skipped: they are tested with `export`).
    Seed 0's fold comes from the checkpoint of :func:`first_fold` (its scores pooled as they
    were saved), seed 1's is trained here."""
    cd, da = _detection()
    ck = tmp_path / "folds.json"
    ck.write_text(first_fold[0])
    said: list[str] = []
    res = compression_study(cd, da, folds=1, n_seeds=2, checkpoint=ck, log=said.append,
                            **COMPRESSION)
    assert "resuming, 1 finished fold(s)" in said[0]
    assert not any("seed 0 fold 0" in m for m in said)
    assert any("seed 1 fold 0" in m for m in said)
    assert res["folds"] == 1 and res["n_seeds"] == 2
    assert res["data"]["n_recordings"] == 12 and res["data"]["not_used"] == "vocal_negatives"
    teacher = "cnn10_w0.03125"
    assert set(res["rows"]) == {teacher, "cnn10_w0.015625", "cnn10_w0.015625+kd"}
    for row in res["rows"].values():
        for m in ("f1", "f1_group_weighted", "balanced_accuracy", "false_positive_rate"):
            assert 0.0 <= row[m]["low"] <= row[m]["high"] <= 1.0
            assert len(row[m]["per_repeat"]) == 2  # one value per seed
        # one fold of two per seed holds 6 recordings; the seeds' splits differ
        n_rec = int(row["f1"]["interval"].split(" over ")[1].split()[0])
        assert 6 <= n_rec <= 12 and "source recordings" in row["f1"]["interval"]
    assert res["rows"][teacher]["delta_f1_vs_teacher"]["mean"] == 0.0
    md = compression_markdown(res)
    assert "1 of 2 grouped folds" in md and "× 2 seed(s)" in md and "vocal_negatives" in md
    assert "only the first folds" in md


def test_committed_compression_run_covers_every_fold_of_three_seeds():
    """The committed table is the full run: 5 folds x 3 seeds, per-recording F1, intervals,
    one value per seed, and its raw fold file (clip scores) beside it."""
    import json
    from pathlib import Path

    res_dir = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
    res = json.loads((res_dir / "panns_compression.json").read_text())
    assert res["folds"] == res["n_splits"] == 5 and res["n_seeds"] >= 3
    for row in res["rows"].values():
        for m in ("f1", "f1_group_weighted", "balanced_accuracy", "false_positive_rate"):
            assert len(row[m]["per_repeat"]) == res["n_seeds"]
            assert "source recordings" in row[m]["interval"]
    raw = json.loads((res_dir / "panns_compression_folds.json").read_text())
    assert len(raw["folds"]) == res["folds"] * res["n_seeds"]
    assert raw["settings"]["epochs"] == res["epochs"]
    md = compression_markdown(res)
    assert md == (res_dir / "panns_compression.md").read_text()
    assert "5 of 5 grouped folds" in md and "only the first folds" not in md


@pytest.mark.slow
def test_compression_study_resumes_from_its_checkpoint(first_fold, tmp_path):
    """An interrupted run (here: stopped after one fold, :func:`first_fold`) resumes after the
    last finished fold; a checkpoint of other settings is refused rather than mixed in."""
    import json

    from cryvideo.errors import ParameterError

    cd, da = _detection()
    ck = tmp_path / "folds.json"
    ck.write_text(first_fold[0])
    first = first_fold[1]
    kw = dict(COMPRESSION, n_seeds=1, checkpoint=ck)
    saved = json.loads(ck.read_text())
    assert list(saved["folds"]) == ["0/0"] and saved["settings"]["epochs"] == 1
    fold0 = saved["folds"]["0/0"]
    assert set(fold0["scores"]) == set(first["rows"])
    assert all(len(v) == len(fold0["test"]) for v in fold0["scores"].values())

    said: list[str] = []
    second = compression_study(cd, da, log=said.append, **kw)
    assert "resuming, 1 finished fold(s)" in said[0]
    assert not any("seed 0 fold 0" in m for m in said)  # fold 0 was read, not retrained
    assert any("seed 0 fold 1" in m for m in said)
    again = json.loads(ck.read_text())
    assert list(again["folds"]) == ["0/0", "0/1"]
    assert again["folds"]["0/0"] == fold0  # the finished fold is kept as it was
    assert second["folds"] == 2
    for row in second["rows"].values():  # every clip tested once
        assert "over 12 source recordings" in row["f1"]["interval"]

    with pytest.raises(ParameterError, match="other settings"):
        compression_study(cd, da, log=lambda *_: None, **{**kw, "epochs": 2})
    assert json.loads(ck.read_text()) == again  # refused, untouched


def test_benchmark_panns_refuses_a_checkpoint_path_of_another_kind(tmp_path, capsys):
    """Checked before any data or model loads: a file that is not a checkpoint would be
    overwritten, so it is refused with a one-line error and left as it was."""
    from cryvideo.cli import main

    data = tmp_path / "data"
    for sub in ("cry_detection", "donateacry"):
        (data / sub).mkdir(parents=True)
    notes = tmp_path / "notes.json"
    notes.write_text('{"mine": 1}\n')
    rc = main(["benchmark", "panns", str(data), "--only", "compression", "--out",
               str(tmp_path / "out"), "--compression-checkpoint", str(notes)])
    err = capsys.readouterr().err.strip()
    assert rc != 0 and "not a compression checkpoint" in err and str(notes) in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert notes.read_text() == '{"mine": 1}\n'
    rc = main(["benchmark", "panns", str(data), "--only", "compression", "--out",
               str(tmp_path / "out"), "--compression-checkpoint", str(tmp_path)])
    assert rc != 0 and "is a folder" in capsys.readouterr().err


@pytest.mark.parametrize("retired", [
    ["--only", "detection"], ["--only", "yamnet-head"], ["--recipe", "v1"],
    ["--fold-models", "folds"], ["--save-detector", "saved_models"], ["--width", "0.25"],
    ["--epochs", "3"]])
def test_the_cnn10_era_detection_protocol_is_gone(retired, tmp_path, capsys):
    """The retired CNN10 detection CVs and their options are refused by the parser (exit 2),
    before anything is read or written; nothing writes ``panns_detection*`` any more."""
    from cryvideo.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["benchmark", "panns", str(tmp_path), "--out", str(tmp_path / "out"), *retired])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert retired[0] in err and ("invalid choice" in err or "unrecognized arguments" in err)
    assert not (tmp_path / "out").exists()


def test_benchmark_panns_markdown_only_rewrites_the_committed_tables(tmp_path):
    """``markdown_only`` from Python: the committed pooling and compression tables come back
    byte for byte from their JSON; the retired ``panns_detection.*`` is neither read nor
    written."""
    import shutil
    from pathlib import Path

    from cryvideo.studies.panns_benchmark import PannsBenchmarkSettings, run_panns_benchmark

    res = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
    data, out = tmp_path / "data", tmp_path / "results"
    for sub in ("cry_detection", "donateacry"):
        (data / sub).mkdir(parents=True)
    out.mkdir()
    for stem in ("panns_pooling", "panns_compression", "panns_detection"):
        shutil.copyfile(res / f"{stem}.json", out / f"{stem}.json")
    written = run_panns_benchmark(PannsBenchmarkSettings(data, out=out, markdown_only=True))
    assert sorted(p.name for p in written) == ["panns_compression.md", "panns_pooling.md"]
    for p in written:
        assert p.read_text() == (res / p.name).read_text()
    assert not (out / "panns_detection.md").exists()
