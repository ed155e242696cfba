"""The detection report is rendered from the committed figures, and says "no interval" where
there is none (one recording) and a one-sided bound where no false positive was seen."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from cryvideo.cli import main
from cryvideo.studies.detection_cv_report import report_from_results

RES = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


@pytest.fixture(scope="module")
def committed():
    return {name: (RES / name).read_text(encoding="utf-8")
            for name in ("detection.json", "detection_cv.json", "detection.md")}


def test_committed_report_is_the_rendering_of_the_committed_json(committed):
    md = committed["detection.md"]
    rendered = re.search(r"rendered again from `detection.json` on (\S+) ", md)
    again = report_from_results(json.loads(committed["detection.json"]),
                                json.loads(committed["detection_cv.json"]), previous=md,
                                rendered=rendered.group(1) if rendered else None)
    assert again == md, "benchmarks/results/detection.md is stale: run `cryvideo benchmark " \
                        "detection --render-only`"


def test_no_cell_claims_an_interval_it_does_not_have(committed):
    md = committed["detection.md"]
    fp = json.loads(committed["detection.json"])["methods"]["gated"]["false_positive_by_category"]
    points = re.findall(r"(?<![+\-\d.])(\d+\.\d+) \[\1, \1\]", md)
    assert not points, f"intervals of zero width in detection.md: {points}"
    rows = {r.split("|")[1].strip(): r for r in md.splitlines() if r.startswith("| ")}
    assert fp["dog_howl"]["n_groups"] == 1
    assert "11.1 (1 recording: no interval)" in rows["dog_howl"]
    assert fp["adult_speech"]["n_groups"] == 83 and fp["adult_speech"]["high"] == 0.0
    assert rows["adult_speech"].count("0.0 (≤ 3.5)") == 5
    assert "Clopper–Pearson" in md


def test_render_only_rewrites_the_report_from_the_json(committed, tmp_path, capsys):
    for name, text in committed.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "detection.md").write_text("old", encoding="utf-8")
    assert main(["benchmark", "detection", "--render-only", "--out", str(tmp_path)]) == 0
    md = (tmp_path / "detection.md").read_text(encoding="utf-8")
    assert "0.0 (≤ 3.5)" in md and "rendered again from `detection.json`" in md
    assert (tmp_path / "detection.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    capsys.readouterr()
    # nothing recomputed, so nothing else may be asked for; no results: exit 6, naming the file
    assert main(["benchmark", "detection", "--render-only", "--ship-to", str(tmp_path / "m"),
                 "--out", str(tmp_path)]) == 2
    assert "drop --ship-to" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["benchmark", "detection", "--render-only", "--out", str(empty)]) == 6
    assert str(empty / "detection.json") in capsys.readouterr().err
    shutil.rmtree(empty)
