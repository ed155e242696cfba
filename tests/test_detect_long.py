"""Long recordings: the day's summary, the timeline picture, and Ctrl-C keeping what was found."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from cryvideo.cli import main
from cryvideo.detection.summary import episodes, summarize_segments
from cryvideo.models.store import bundled_models_dir

SR = 16000
REPO = bundled_models_dir().parent


def test_summary_minutes_add_up():
    segs = [(100.0, 160.0), (3590.0, 3700.0), (3702.0, 3710.0), (7300.0, 7330.0)]
    s = summarize_segments(segs, 3 * 3600 + 100)
    assert len(s["hours"]) == 4
    total = sum(b - a for a, b in segs) / 60
    assert s["crying_minutes"] == pytest.approx(total, abs=1e-3)
    assert sum(h["crying_minutes"] for h in s["hours"]) == pytest.approx(total, abs=1e-2)
    # the segment across the hour boundary is split between the hours
    assert s["hours"][0]["crying_minutes"] == pytest.approx((60 + 10) / 60, abs=1e-3)
    assert s["hours"][1]["crying_minutes"] == pytest.approx((100 + 8) / 60, abs=1e-3)
    # 3700 and 3702 are 2 s apart: one episode
    assert s["episodes"] == 3 and episodes(segs)[1] == (3590.0, 3710.0)
    assert s["longest"][0] == {"start_s": 3590.0, "end_s": 3710.0, "minutes": 2.0}
    assert summarize_segments([], 10.0)["crying_minutes"] == 0.0


def test_summary_gives_seconds_below_a_minute():
    """Issue 22: a 2.4 s episode in a 10 s recording is not "(0.0 min)"."""
    from cryvideo.detection.summary import format_summary

    text = "\n".join(format_summary(summarize_segments([(1.0, 3.4)], 10.0)))
    assert "summary: 2.4 s of crying in 10.0 s (24.0 %), 1 episode(s)" in text
    assert "longest: 0:00:01.0–0:00:03.4 (2.4 s)" in text and "min" not in text
    # longer stretches in minutes and hours, per hour too
    segs = [(100.0, 160.0), (3590.0, 3700.0), (3702.0, 3710.0), (7300.0, 7330.0)]
    lines = format_summary(summarize_segments(segs, 3 * 3600 + 100))
    assert lines[0].startswith("  summary: 3 min 28 s of crying in 3 h 1 min (1.9 %)")
    assert lines[1] == "  per hour: 0h 1 min 10 s, 1h 1 min 48 s, 2h 30.0 s, 3h 0.0 s"
    assert lines[2] == ("  longest: 0:59:50.0–1:01:50.0 (2 min 0 s), 0:01:40.0–0:02:40.0 "
                        "(1 min 0 s), 2:01:40.0–2:02:10.0 (30.0 s)")


@pytest.fixture(scope="module")
def shipped(shipped_detector):
    return shipped_detector


@pytest.fixture(scope="module")
def long_file(tmp_path_factory):
    from cryvideo.testing.media import synth_cry

    rng = np.random.default_rng(0)
    y = 0.02 * rng.standard_normal(SR * 150).astype(np.float32)
    for k in (20, 95):                                  # two planted cries of 10 s
        y[SR * k:SR * (k + 10)] += 0.6 * synth_cry(10.0, SR, seed=k)
    path = tmp_path_factory.mktemp("long") / "two_cries.flac"
    sf.write(path, y, SR)
    return path


def test_detect_summary_and_timeline(shipped, long_file, tmp_path, capsys):
    png = tmp_path / "t.png"
    assert main(["detect", "--json", "--summary", "--timeline", str(png), str(long_file)]) == 0
    rec = json.loads(capsys.readouterr().out)
    s = rec["summary"]
    assert s["episodes"] == 2
    assert s["crying_minutes"] == pytest.approx(
        sum(b - a for a, b in rec["segments"]) / 60, abs=1e-3)
    starts = sorted(e["start_s"] for e in s["longest"])
    assert 17 < starts[0] < 23 and 92 < starts[1] < 98        # at the planted times
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert main(["detect", "--summary", str(long_file)]) == 0
    text = capsys.readouterr().out
    assert "summary: " in text and "2 episode(s)" in text
    # a picture is never written over a file of another kind
    other = tmp_path / "notes.txt"
    other.write_text("mine")
    assert main(["detect", "--timeline", str(other), str(long_file)]) == 2
    assert other.read_text() == "mine"


def test_ctrl_c_keeps_what_was_found(shipped, long_file, tmp_path):
    """Ctrl-C after the first minute: --out holds the record of that minute, marked
    incomplete, and says where it stopped."""
    from cryvideo.testing.user_files import PausedRun

    out = tmp_path / "res.jsonl"
    run = PausedRun(["detect", "--json", "--out", str(out), str(long_file)], pause_at=1,
                    workdir=tmp_path)
    run.interrupt()
    rc, stdout, err = run.wait()
    assert rc == 130, err
    rec = json.loads(out.read_text())
    assert rec["complete"] is False and rec["stopped_at"] == pytest.approx(60.0, abs=0.5)
    assert rec["duration"] == rec["stopped_at"]
    # the first cry only (planted at 20–30 s; a pause inside it may split it in two)
    assert rec["segments"] and all(19 < a and b < 32 for a, b in rec["segments"])
    assert any("interrupted at 60.0 s of 150.0 s" in n for n in rec["notes"])
    assert json.loads(stdout.strip().splitlines()[-1]) == rec


def test_predict_reads_only_the_crying(shipped, long_file, capsys):
    assert main(["predict", "--json", str(long_file)]) == 0
    res = json.loads(capsys.readouterr().out)
    segs = res["crying"]["segments"]
    assert len(segs) >= 2 and res["label"] in res["probabilities"]
    cried = sum(b - a for a, b in segs)
    for b in res["branches"]:
        if b["name"] in ("mfcc", "stft"):
            assert b["details"]["segments_used"] == segs
            assert b["details"]["seconds_used"] == pytest.approx(cried, abs=0.1)
            assert b["details"]["seconds_used"] < 40          # not the 150 s track
